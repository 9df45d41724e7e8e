// Runs every gas scenario of gas/*.gas.ts (the same ones as scripts/gas-snapshot.ts) on the in-process
// Hardhat network and writes { operation: gasUsed } as JSON to $BENCH_GAS_OUT. Gas is deterministic:
// one run is the figure. Run with `hardhat run bench/gas.ts`.
import fs from "node:fs";
import path from "node:path";

type Scenario = (record: (operation: string, gasUsed: bigint) => void) => Promise<void>;

async function main(): Promise<void> {
  const dir = path.join(__dirname, "..", "gas");
  const measured: Record<string, number> = {};
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".gas.ts"))
    .sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const scenario = (require(path.join(dir, file)) as { default: Scenario }).default;
    await scenario((operation, gasUsed) => {
      measured[operation] = Number(gasUsed);
    });
  }
  const out = process.env.BENCH_GAS_OUT;
  if (!out) throw new Error("BENCH_GAS_OUT: the file to write is not set");
  fs.writeFileSync(out, JSON.stringify(measured));
  console.log(`${Object.keys(measured).length} operations measured`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
