// `npm run demo`: starts a local chain on 127.0.0.1 (a free port) as a child process — Hardhat's node by
// default, anvil with 2 s blocks with `-- --chain anvil [--block-time S]` — plays a pilot against it — the KRAKEN health pilot (src/kraken.ts) by default, the education pilot
// (src/education.ts) with `-- --pilot education` — prints the table of every step and exits 0 only if
// every expectation held. Everything it started is stopped on success, failure and Ctrl-C.
import { existsSync } from "node:fs";
import path from "node:path";
import { compileContracts, startChain, takeChainOptions, CHAINS, type ChainOptions, type Cleanup } from "./node";
import { ExpectationFailed, type Narrator } from "./narrator";

const PILOTS: Record<string, { title: string; run: (rpcUrl: string, cleanup: Cleanup) => Promise<Narrator> }> = {
  kraken: { title: "KRAKEN health pilot", run: async (url, cleanup) => (await import("./kraken")).runKraken(url, cleanup) },
  education: {
    title: "education pilot: verifiable credentials, consent for recruitment",
    run: async (url, cleanup) => (await import("./education")).runEducation(url, cleanup),
  },
};

/**
 * `--pilot NAME` (default kraken), `--chain hardhat|anvil` (default hardhat), `--block-time S` (anvil, default
 * 2), each also as `--flag=value`; an unknown name or argument exits 2 with the usage.
 */
function optionsOf(argv: string[]): { pilot: string; chain: ChainOptions } {
  const usage = `usage: npm run demo [-- --pilot ${Object.keys(PILOTS).join("|")}] [--chain ${CHAINS.join("|")}] [--block-time SECONDS]`;
  const rest = [...argv];
  try {
    const chain = takeChainOptions(rest);
    const [flag, name] = rest.length === 1 ? rest[0].split("=") : rest;
    if (rest.length === 0) return { pilot: "kraken", chain };
    if (rest.length <= 2 && flag === "--pilot" && name !== undefined && Object.prototype.hasOwnProperty.call(PILOTS, name)) return { pilot: name, chain };
    console.error(`${rest.join(" ")}: not understood\n${usage}`);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
  }
  process.exit(2);
}

// Whatever happens, the exit code is 1 unless the scenario ran to its end (a library's own
// uncaughtException handler must not turn a crash into success).
process.exitCode = 1;
// Set by Ctrl-C / SIGTERM: from then on the exit code is 130 whatever fails while everything stops
// (a library whose node was just stopped rejects a pending request, say).
let interrupted = false;
const exitOnError = (what: string) => (error: unknown) => {
  if (interrupted) {
    console.error(`(while stopping: ${what} ${(error as Error)?.message ?? error})`);
    return;
  }
  console.error(`\nFAILED: ${what} ${(error as Error)?.stack ?? error}`);
  process.exit(1);
};
process.on("uncaughtException", exitOnError("uncaught"));
process.on("unhandledRejection", exitOnError("unhandled rejection"));

async function main(): Promise<number> {
  const options = optionsOf(process.argv.slice(2));
  const pilot = PILOTS[options.pilot];
  const cleanup: Cleanup = [];
  let cleaning: Promise<void> | undefined;
  const runCleanup = () =>
    (cleaning ??= (async () => {
      for (const action of cleanup.reverse()) {
        try {
          await action();
        } catch (error) {
          console.error(`cleanup: ${(error as Error).message}`);
        }
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${signal}: stopping everything the demo started`);
    void runCleanup().then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  console.log(`${pilot.title[0].toUpperCase()}${pilot.title.slice(1)} — the data-marketplace protocol end to end on embedded defaults\n`);
  const started = performance.now();
  try {
    // A fresh clone has no artifacts and no typechain types yet: the SDK loads the types at run time.
    if (!existsSync(path.join(__dirname, "..", "..", "typechain-types", "index.ts"))) await compileContracts();
    const { url } = await startChain(options.chain, cleanup);
    const narrator = await pilot.run(url, cleanup);
    console.log(`\nEvery expectation held (${((performance.now() - started) / 1000).toFixed(1)} s in all, node start included).\n`);
    console.log(narrator.table());
    return 0;
  } catch (error) {
    if (interrupted) return 130; // the scenario stopped because everything it used was stopped
    if (error instanceof ExpectationFailed) console.error(`\nFAILED: ${error.message}`);
    else console.error(`\nFAILED: ${(error as Error).stack ?? error}`);
    return 1;
  } finally {
    await runCleanup();
  }
}

main().then((code) => {
  // open handles of libraries (timers, sockets) must not keep a finished demo alive; an interrupted
  // demo exits 130 once its cleanup is done (the signal handler exits then too)
  if (interrupted) return;
  process.exit(code);
});
