// `npm run portal`: the demo's embedded network with the KRAKEN pilot's product, the consent API and
// the built portal, all on 127.0.0.1; prints the portal's URL and runs until Ctrl-C, then stops
// everything it started.
import path from "node:path";
import type { Cleanup } from "@datamarket/demo";
import { PATIENT_ACCOUNTS, startPortalStack } from "../server/stack";

async function main(): Promise<void> {
  const cleanup: Cleanup = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const action of cleanup.reverse()) {
      try {
        await action();
      } catch (error) {
        console.error(`cleanup: ${(error as Error).message}`);
      }
    }
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(130));
  process.once("SIGTERM", () => void stop(143));
  try {
    const stack = await startPortalStack({ cleanup, distDir: path.join(__dirname, "..", "dist"), log: (line) => console.log(`    ${line}`) });
    const patients = [...stack.wallets].map(([subject, address], i) => `      ${subject}: ${address} (Hardhat account #${PATIENT_ACCOUNTS[i]})`).join("\n");
    console.log(
      `\nThe portal: ${stack.portalUrl}\n  chain ${stack.config.chainId} at ${stack.rpcUrl}, consent API at ${stack.apiUrl}\n  patients whose wallets the consent ledger binds (import a key of the Hardhat test mnemonic into your wallet):\n${patients}\n\nCtrl-C stops everything.`,
    );
  } catch (error) {
    console.error(`\nFAILED: ${(error as Error).stack ?? error}`);
    await stop(1);
  }
}

void main();
