// Runs every gas scenario in gas/*.gas.ts on the in-process Hardhat network and writes
// gas-snapshot.txt (one line per operation). With GAS_CHECK=1 it compares instead and fails when an
// operation costs more than 1 % above the committed snapshot, or when operations were added or
// removed without updating the snapshot.
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

async function main(): Promise<void> {
  const measured = new Map<string, bigint>();
  const files = fs.readdirSync(GAS_DIR).filter((f) => f.endsWith(".gas.ts")).sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const scenario = (require(path.join(GAS_DIR, file)) as { default: Scenario }).default;
    await scenario((operation, gasUsed) => {
      if (measured.has(operation)) throw new Error(`${file}: operation ${operation} recorded twice`);
      measured.set(operation, gasUsed);
    });
  }

  if (!process.env.GAS_CHECK) {
    fs.writeFileSync(SNAPSHOT, format(measured));
    console.log(`wrote ${measured.size} operations to gas-snapshot.txt`);
    return;
  }

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
  if (failures.length > 0) {
    console.error(`gas snapshot check failed (update it with npm run gas in the same commit):\n  ${failures.join("\n  ")}`);
    process.exitCode = 1;
    return;
  }
  console.log(`gas snapshot check passed: ${measured.size} operations within ${TOLERANCE * 100} %`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
