// Runs every gas scenario in gas/*.gas.ts on the in-process Hardhat network and writes
// gas-snapshot.txt (one line per operation). With GAS_CHECK=1 it compares instead and fails when an
// operation costs more than 1 % above the committed snapshot, or when operations were added or
// removed without updating the snapshot. A second section records each contract's deployed code size
// (bytes, from the artifacts), checked the same way and against EIP-170's 24,576-byte limit.
import fs from "node:fs";
import path from "node:path";

type Recorder = (operation: string, gasUsed: bigint) => void;
type Scenario = (record: Recorder) => Promise<void>;

const SNAPSHOT = path.join(__dirname, "..", "gas-snapshot.txt");
const GAS_DIR = path.join(__dirname, "..", "gas");
const TOLERANCE = 0.01;

function parse(text: string): Map<string, bigint> {
  const entries = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    // Operation names contain spaces ("DATAToken::mint(new holder)"): the gas is the last field.
    const match = /^(.+?)\s+(\d+)$/.exec(trimmed);
    if (!match) throw new Error(`gas-snapshot.txt: cannot parse line "${line}"`);
    entries.set(match[1], BigInt(match[2]));
  }
  return entries;
}

function format(entries: Map<string, bigint>): string {
  const width = Math.max(...[...entries.keys()].map((k) => k.length));
  const lines = [...entries].map(([op, gas]) => `${op.padEnd(width)}  ${gas}`);
  return `# gas per operation (receipt gasUsed on the Hardhat network); written by \`npm run gas\`\n${lines.join("\n")}\n`;
}

const ARTIFACTS = path.join(__dirname, "..", "artifacts", "contracts");
/** EIP-170: the largest runtime code a contract may deploy (bytes). */
const EIP170_LIMIT = 24_576;

/** Deployed code size of every contract and library of contracts/ that has code (test helpers and mocks excluded). */
function codeSizes(): Map<string, bigint> {
  const sizes = new Map<string, bigint>();
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(ARTIFACTS).sort()) {
    if (!file.endsWith(".json") || file.endsWith(".dbg.json")) continue;
    const artifact = JSON.parse(fs.readFileSync(file, "utf8")) as { sourceName: string; contractName: string; deployedBytecode: string };
    if (/(^|\/)(test|mocks)\//.test(artifact.sourceName)) continue;
    const bytes = (artifact.deployedBytecode.length - 2) / 2;
    if (bytes > 0) sizes.set(`${artifact.contractName} deployed code size (bytes)`, BigInt(bytes));
  }
  return sizes;
}

function formatSizes(sizes: Map<string, bigint>): string {
  const width = Math.max(...[...sizes.keys()].map((k) => k.length));
  const lines = [...sizes].map(([name, bytes]) => `${name.padEnd(width)}  ${bytes}`);
  return `\n# deployed code size in bytes (EIP-170 limit: ${EIP170_LIMIT}); written by \`npm run gas\`\n${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  const measured = new Map<string, bigint>();
  const files = fs
    .readdirSync(GAS_DIR)
    .filter((f) => f.endsWith(".gas.ts"))
    .sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const scenario = (require(path.join(GAS_DIR, file)) as { default: Scenario }).default;
    await scenario((operation, gasUsed) => {
      if (measured.has(operation)) throw new Error(`${file}: operation ${operation} recorded twice`);
      measured.set(operation, gasUsed);
    });
  }

  const sizes = codeSizes();
  const oversized = [...sizes].filter(([, bytes]) => bytes > BigInt(EIP170_LIMIT));

  if (!process.env.GAS_CHECK) {
    fs.writeFileSync(SNAPSHOT, format(measured) + formatSizes(sizes));
    console.log(`wrote ${measured.size} operations and ${sizes.size} code sizes to gas-snapshot.txt`);
    for (const [name, bytes] of oversized) console.error(`warning: ${name} ${bytes} exceeds EIP-170 (${EIP170_LIMIT})`);
    return;
  }
  for (const [name, bytes] of sizes) measured.set(name, bytes);

  const committed = parse(fs.existsSync(SNAPSHOT) ? fs.readFileSync(SNAPSHOT, "utf8") : "");
  const failures: string[] = [];
  for (const [op, gas] of measured) {
    const before = committed.get(op);
    if (before === undefined) {
      failures.push(`${op}: new operation (${gas} gas) missing from gas-snapshot.txt`);
    } else if (Number(gas) > Number(before) * (1 + TOLERANCE)) {
      failures.push(`${op}: ${before} -> ${gas} gas (+${((Number(gas) / Number(before) - 1) * 100).toFixed(2)} %)`);
    } else if (gas !== before) {
      console.log(`note: ${op}: ${before} -> ${gas} gas (within tolerance; run npm run gas to update)`);
    }
  }
  for (const op of committed.keys()) {
    if (!measured.has(op)) failures.push(`${op}: in gas-snapshot.txt but no longer measured`);
  }
  for (const [name, bytes] of oversized) failures.push(`${name}: ${bytes} exceeds EIP-170's ${EIP170_LIMIT} bytes`);
  if (failures.length > 0) {
    console.error(`gas snapshot check failed (update it with npm run gas in the same commit):\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
    return;
  }
  console.log(`gas snapshot check passed: ${measured.size - sizes.size} operations and ${sizes.size} code sizes within ${TOLERANCE * 100} %`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
