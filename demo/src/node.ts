// A Hardhat JSON-RPC node on 127.0.0.1 as a child process (its own process group), for the demo and the
// flow benchmark: a free port, readiness by eth_chainId, and stopping the whole group.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

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
