// A `broker start` process for tests and benchmarks: spawned on a config file, ready once it logs
// "broker listening" (its ports are in that line), killed by the caller (kill -9 in tests; every
// caller kills what it spawned in an `after` hook or a finally block). `runBroker` runs one command
// to its end (help, --test, a refused configuration); `killRunning` ends what it started.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const BROKER_BIN = join(__dirname, "..", "bin", "broker.js");

export interface BrokerChild {
  child: ChildProcess;
  wsPort: number;
  httpPort: number;
  /** When it logged "broker listening" (ms). */
  readyAt: number;
}

/** Starts `broker start --config configFile`; rejects if it exits or does not listen within `timeoutMs`. */
export function spawnBroker(
  configFile: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onLine?: (line: string) => void; args?: string[] } = {},
): Promise<BrokerChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BROKER_BIN, ...(options.args ?? ["start", "--config", configFile])], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    let out = "";
    let ready = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`broker did not start within ${options.timeoutMs ?? 60_000} ms: ${out.slice(-2000)}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      const text = d.toString();
      if (options.onLine) for (const line of text.split("\n")) if (line) options.onLine(line);
      if (ready) return;
      out += text;
      if (out.length > 100_000) out = out.slice(-50_000);
      for (const line of out.split("\n")) {
        if (!line.includes('"broker listening"')) continue;
        ready = true;
        clearTimeout(timer);
        const { wsPort, httpPort } = JSON.parse(line) as { wsPort: number; httpPort: number };
        resolve({ child, wsPort, httpPort, readyAt: Date.now() });
        return;
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`broker exited (${code ?? signal}) before listening: ${out.slice(-2000)}`));
    });
  });
}

const running = new Set<ChildProcess>();

/** Runs `broker ARGS` to its exit (killed after `timeoutMs`): its exit code and output. */
export function runBroker(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 45_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BROKER_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    running.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Kills every runBroker process still running (an `after` hook calls it, whatever the outcome). */
export function killRunning(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** A port free now on 127.0.0.1 (for a broker that must come back on the same address after a restart). */
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
