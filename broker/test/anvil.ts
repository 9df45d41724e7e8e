// Anvil (Foundry's node) for the broker's chain tests: a separate process with real block hashes,
// interval mining and reorgs (anvil_reorg, evm_snapshot / evm_revert). The binary comes from the npm
// platform package (@foundry-rs/anvil-linux-amd64, an optional dependency of @foundry-rs/anvil), run
// directly: npm 11 skips @foundry-rs/anvil's postinstall, and the binary needs no network.

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createServer } from "node:net";
import { JsonRpcProvider, Wallet } from "ethers";

/** Anvil's first default account (the "test test ... junk" mnemonic), funded with 10,000 ETH. */
export const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

export interface Anvil {
  url: string;
  port: number;
  /** The node's process id (for its CPU time in /proc). */
  pid: number;
  provider: JsonRpcProvider;
  /** A funded account of the node (its first default account). */
  admin: Wallet;
  /** Raw JSON-RPC (anvil_*, evm_*). */
  send<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Mines `n` blocks at once (anvil_mine). */
  mine(n?: number): Promise<void>;
  /** evm_snapshot: the id to revert to. */
  snapshot(): Promise<string>;
  /** evm_revert to a snapshot: the blocks after it vanish (a reorg to a shorter chain); throws if the node refuses. */
  revert(id: string): Promise<void>;
  /** Kills the node (SIGKILL after 2 s if SIGTERM is not enough); resolves once it has exited. */
  stop(): Promise<void>;
}

export interface AnvilOptions {
  /** Interval mining, seconds (--block-time); default: a block per transaction. */
  blockTime?: number;
  chainId?: number;
  /** How long to wait for the node to answer (ms). Default 30 s: a loaded machine starts it slowly. */
  startTimeoutMs?: number;
}

/** The anvil binary of this platform, from its npm package. */
export function anvilBinary(): string {
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`;
  const require = createRequire(__filename);
  return join(dirname(require.resolve(`${platformPackage}/package.json`)), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function startOnce(options: AnvilOptions): Promise<Anvil> {
  const port = await freePort();
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(options.chainId ?? 31337), "--quiet"];
  // Hardhat's artifacts are compiled for Cancun; anvil's default hardfork is newer, which is fine.
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let dead = false;
  // Belt and braces: a test process that exits without its after hooks (mocha --exit) takes the node with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => {
    dead = true;
    process.off("exit", killOnExit);
  });
  const stop = async () => {
    if (!dead) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(t);
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (dead) throw new Error(`anvil exited at start (port ${port}): ${stderr.trim() || "no output"}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`anvil did not answer on ${url} within ${options.startTimeoutMs ?? 30_000} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const provider = new JsonRpcProvider(url, options.chainId ?? 31337, { staticNetwork: true, polling: false, cacheTimeout: -1 });
  return {
    url,
    port,
    pid: child.pid!,
    provider,
    admin: new Wallet(ANVIL_KEY_0, provider),
    send: <T>(method: string, params: unknown[] = []) => provider.send(method, params) as Promise<T>,
    mine: async (n = 1) => void (await provider.send("anvil_mine", ["0x" + n.toString(16)])),
    snapshot: () => provider.send("evm_snapshot", []) as Promise<string>,
    revert: async (id: string) => {
      if ((await provider.send("evm_revert", [id])) !== true) throw new Error(`anvil refused evm_revert to snapshot ${id}`);
    },
    stop: async () => {
      provider.destroy();
      await stop();
    },
  };
}

/**
 * Starts anvil on 127.0.0.1 on a free port and waits until it answers. The caller stops it in an
 * `after` hook. A port taken between the probe and anvil's bind is retried on another (3 tries).
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  let last: Error | undefined;
  for (let i = 0; i < 3; i++) {
    try {
      return await startOnce(options);
    } catch (err) {
      last = err as Error;
      if (!/Address already in use|exited at start/i.test(last.message)) throw last;
    }
  }
  throw last!;
}
