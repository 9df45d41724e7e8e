// The demo's and the flow benchmark's local chain on 127.0.0.1 (a free port), as a child process:
// Hardhat's node (the default: a block per transaction, mined at once) or anvil, Foundry's node, with
// interval mining (a block every `blockTime` seconds, as a real chain has), started from the binary of
// its npm package by the broker's test helper. Readiness by eth_chainId; stopped on every exit path.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { startAnvil } from "@datamarket/broker/test/anvil";

/** Cleanup actions, run in reverse order (also on failure and Ctrl-C). */
export type Cleanup = (() => Promise<void> | void)[];

const ROOT = path.resolve(__dirname, "..", "..");
const NODE_START_TIMEOUT_MS = 240_000; // a fresh clone compiles the contracts first

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function rpcReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    return response.ok;
  } catch {
    return false;
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 5_000);
    child.once("exit", () => {
      clearTimeout(killTimer);
      resolve();
    });
    // the node runs in its own process group (npx -> node): signal the whole group
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      resolve();
    }
  });
}

/** `hardhat compile` (artifacts and typechain types), output shown only on failure. */
export function compileContracts(): Promise<void> {
  process.stdout.write("Compiling the contracts (first run of a fresh clone) … ");
  return new Promise((resolve, reject) => {
    const child = spawn("npx", ["hardhat", "compile", "--quiet"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr!.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0) {
        console.log("done");
        resolve();
      } else reject(new Error(`hardhat compile exited with ${code}:\n${output.slice(-2_000)}`));
    });
  });
}

export async function startNode(port: number, cleanup: Cleanup): Promise<string> {
  const url = `http://127.0.0.1:${port}`;
  process.stdout.write(`Starting a Hardhat node on ${url} (compiling first if needed) `);
  const output: string[] = [];
  const child = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HARDHAT_NETWORK: undefined, LOCALHOST_RPC_URL: undefined },
  });
  cleanup.push(() => stopChild(child));
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const started = Date.now();
  while (!(await rpcReady(url))) {
    if (child.exitCode !== null) throw new Error(`the Hardhat node exited with code ${child.exitCode}:\n${output.join("").slice(-2_000)}`);
    if (Date.now() - started > NODE_START_TIMEOUT_MS) throw new Error(`the Hardhat node did not answer on ${url} within ${NODE_START_TIMEOUT_MS / 1000} s`);
    process.stdout.write(".");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(` ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${child.pid})`);
  return url;
}

/** The node the demo and the flow benchmark run on. */
export type ChainKind = "hardhat" | "anvil";
export const CHAINS: readonly ChainKind[] = ["hardhat", "anvil"];
/** Anvil's default block time (s): interval mining, as on a chain with block times. */
export const DEFAULT_BLOCK_TIME = 2;

export interface ChainOptions {
  chain: ChainKind;
  /** anvil only: seconds between blocks */
  blockTime: number;
}

/** What `--chain` and `--block-time` started: its URL and a one-line description for the output. */
export interface StartedChain {
  url: string;
  kind: ChainKind;
  /** seconds between blocks; 0: a block per transaction (Hardhat's automine) */
  blockTime: number;
  /** The node's process id, when it is a process of its own (anvil), for its CPU time. */
  pid?: number;
}

const HARDHAT_MNEMONIC_ACCOUNTS = 20;

/**
 * Starts the chosen node on a free port and registers its stop in `cleanup`. Anvil gets the same
 * well-known accounts as Hardhat's node (the "test test ... junk" mnemonic): it funds 10 of them, the
 * demo uses 20, so the other 10 are given Hardhat's 10,000 ETH with anvil_setBalance.
 */
export async function startChain(options: ChainOptions, cleanup: Cleanup): Promise<StartedChain> {
  if (options.chain === "hardhat") return { url: await startNode(await freePort(), cleanup), kind: "hardhat", blockTime: 0 };
  process.stdout.write(`Starting anvil (${options.blockTime} s blocks) `);
  const started = Date.now();
  const anvil = await startAnvil({ blockTime: options.blockTime });
  cleanup.push(() => anvil.stop());
  const { HDNodeWallet, Mnemonic } = await import("ethers");
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase("test test test test test test test test test test test junk"), "m/44'/60'/0'/0");
  for (let i = 0; i < HARDHAT_MNEMONIC_ACCOUNTS; i++)
    await anvil.send("anvil_setBalance", [root.deriveChild(i).address, "0x" + (10_000n * 10n ** 18n).toString(16)]);
  console.log(`on ${anvil.url}, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { url: anvil.url, kind: "anvil", blockTime: options.blockTime, pid: anvil.pid };
}

/**
 * `--chain hardhat|anvil` and `--block-time SECONDS` (anvil only; default 2) out of `argv`, which keeps
 * the other arguments. Throws with what was wrong.
 */
export function takeChainOptions(argv: string[]): ChainOptions {
  const take = (flag: string): string | undefined => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) return undefined;
    const [, inline] = argv[i].split("=", 2);
    const value = inline ?? argv[i + 1];
    argv.splice(i, inline === undefined ? 2 : 1);
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value`);
    return value;
  };
  const chain = take("--chain") ?? "hardhat";
  if (!(CHAINS as readonly string[]).includes(chain)) throw new Error(`--chain ${chain}: not a node the demo runs on (${CHAINS.join("|")})`);
  const blockTimeArg = take("--block-time");
  if (blockTimeArg !== undefined && chain !== "anvil") throw new Error("--block-time applies to --chain anvil (Hardhat's node mines a block per transaction)");
  const blockTime = blockTimeArg === undefined ? DEFAULT_BLOCK_TIME : Number(blockTimeArg);
  if (!Number.isInteger(blockTime) || blockTime < 1 || blockTime > 60) throw new Error(`--block-time ${blockTimeArg}: whole seconds from 1 to 60`);
  return { chain: chain as ChainKind, blockTime };
}
