// What a user runs the CLI against: a Hardhat JSON-RPC node in its own process (npm run node), the
// protocol deployed on it by the repository's deploy task (record in a temporary directory), and a
// `broker start` process following it. stop() kills everything it started, whatever happened.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DeploymentRecord } from "@datamarket/contracts";
import { freePort, startNode, type Cleanup } from "../../demo/src/node";
import { spawnBroker } from "../../broker/test/process";

export const ROOT = path.resolve(__dirname, "..", "..");
/** Accounts of the Hardhat node (the well-known test mnemonic). */
export const ACCOUNTS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
  "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

export interface Stack {
  rpcUrl: string;
  wsUrl: string;
  record: DeploymentRecord;
  /** The record's file. */
  deployment: string;
  stop(): Promise<void>;
}

/** Deploys with the repository's deploy task, in a child process (Hardhat's runtime is per process). */
function deploy(rpcUrl: string, dir: string): Promise<void> {
  const script = `
    const hre = require("hardhat");
    hre.config.paths.ignition = ${JSON.stringify(path.join(dir, "ignition"))};
    require("./tasks/deployment").deployProtocol(hre, { parametersFile: "deploy/parameters/localhost.json", exportDir: ${JSON.stringify(dir)} })
      .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HARDHAT_NETWORK: "localhost", LOCALHOST_RPC_URL: rpcUrl },
    });
    let output = "";
    child.stdout!.on("data", (c: Buffer) => (output += c));
    child.stderr!.on("data", (c: Buffer) => (output += c));
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`deploy failed (${code}): ${output.slice(-3000)}`))));
  });
}

export async function startStack(): Promise<Stack> {
  const cleanup: Cleanup = [];
  const stop = async () => {
    for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    const rpcUrl = await startNode(await freePort(), cleanup);
    const dir = mkdtempSync(path.join(tmpdir(), "datamarket-cli-stack-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    await deploy(rpcUrl, dir);
    const deployment = path.join(dir, "31337.json");
    const dataDir = path.join(dir, "broker-data");
    const broker = await spawnBroker("", {
      args: ["start"],
      timeoutMs: 240_000,
      env: {
        // the broker's configuration from the environment (BROKER__ + the setting's path, docs/broker.md)
        BROKER__HOST: "127.0.0.1",
        BROKER__WS_PORT: "0",
        BROKER__HTTP_PORT: "0",
        BROKER__DATA_DIR: dataDir,
        BROKER__CHAIN__MODE: "on",
        BROKER__CHAIN__RPC_URL: rpcUrl,
        BROKER__CHAIN__DEPLOYMENT: deployment,
        BROKER__CONSENT_LEDGER__KIND: "off",
        BROKER__LOG__LEVEL: "info",
      },
    });
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          if (broker.child.exitCode !== null || broker.child.signalCode !== null) return resolve();
          broker.child.once("exit", () => resolve());
          broker.child.kill("SIGKILL");
        }),
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const record = require(deployment) as DeploymentRecord;
    return { rpcUrl, wsUrl: `ws://127.0.0.1:${broker.wsPort}`, record, deployment, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
