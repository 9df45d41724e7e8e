// Runs `npm run demo`'s entry point as a child process, as a user would, and checks that it exits 0
// with the table of every step (the KRAKEN pilot, and the education pilot with `--pilot education`;
// the KRAKEN pilot again on anvil with interval mining, `--chain anvil`), and that Ctrl-C stops
// everything it started.
import { expect } from "chai";
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";

const DEMO_DIR = path.resolve(__dirname, "..");
const STEPS = ["setup", "1", "2", "3", "3b", "4", "5", "6", "7"];
const EDUCATION_STEPS = ["setup", "1", "2", "3", "4", "5"];

/** The demos started and not yet exited, with their output so far: the afterEach hook stops them. */
const running = new Map<ReturnType<typeof spawn>, { stdout: string }>();

function runDemo(
  onOutput?: (text: string, child: ReturnType<typeof spawn>) => void,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "src/main.ts", ...args], {
      cwd: DEMO_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = { stdout: "" };
    running.set(child, output);
    child.once("exit", () => running.delete(child));
    child.stdout!.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()));
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, child);
    });
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
  });
}

/** Processes whose command line starts a node (Hardhat's or anvil) with the given port. */
function nodesOnPort(port: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"]).toString();
  return out.split("\n").filter((line) => ((line.includes("hardhat") && line.includes(" node ")) || /\banvil\b/.test(line)) && line.includes(`--port ${port}`));
}

/**
 * The node processes left on the port once they had up to 10 s to exit. The demo waits for the exit of
 * the process it spawned (npx) after signalling its whole process group; the node under it may exit a
 * moment later on a busy machine, which is not a process left running.
 */
async function nodesLeftOnPort(port: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  let left = nodesOnPort(port);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = nodesOnPort(port);
  }
  return left;
}

/** The port of the node the demo started, from its output. */
const PORT = /Starting (?:a Hardhat node|anvil \(\d+ s blocks\)) on http:\/\/127\.0\.0\.1:(\d+)/;

describe("npm run demo", function () {
  this.timeout(300_000);

  // A test that failed or timed out leaves its demo running, with the node it started: stopped as a user
  // would (Ctrl-C: the demo stops what it started), then killed with whatever node is left on its port.
  afterEach(async function () {
    this.timeout(60_000);
    for (const [child, output] of running) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 20_000).unref())]);
      if (!stopped) child.kill("SIGKILL");
      const port = PORT.exec(output.stdout)?.[1];
      for (const line of port ? await nodesLeftOnPort(port) : []) {
        try {
          process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
      running.delete(child);
    }
  });

  /** Runs a pilot to its end and checks the exit code, the table's rows and that the node is stopped. */
  async function playsEveryStep(steps: string[], args: string[] = []): Promise<string> {
    const started = Date.now();
    const { code, stdout, stderr } = await runDemo(undefined, args);
    expect(code, `exit code; stderr:\n${stderr.slice(-3_000)}\nstdout:\n${stdout.slice(-3_000)}`).to.equal(0);
    expect(stdout).to.include("Every expectation held");
    const table = stdout.slice(stdout.indexOf("| step"));
    for (const step of steps)
      expect(table, `row of step ${step}`).to.match(
        new RegExp(`^\\| ${step.replace(/[.]/g, "\\.")} +\\|.*\\| +\\d+ \\| +[\\d,]+ \\| +[\\d.]+ s \\| +\\d+ \\|$`, "m"),
      );
    expect(table.match(/^\| (?!step )[0-9a-z]+ +\|/gm)!.length, "one row per step and the total").to.equal(steps.length + 1);
    expect(table).to.match(/^\| total +\| +\| +\d+ \| +[\d,]+ \| +[\d.]+ s \| +\d+ \|$/m);
    expect(stdout).not.to.include("FAILED");
    const port = PORT.exec(stdout)![1];
    expect(await nodesLeftOnPort(port), "the node is stopped").to.deep.equal([]);
    console.log(`      (the demo took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return stdout;
  }

  it("plays every step of the KRAKEN pilot, exits 0 and ends with the table of every step", async () => {
    const stdout = await playsEveryStep(STEPS);
    expect(stdout).to.match(/^KRAKEN health pilot/m);
  });

  it("plays every step of the education pilot with --pilot education: credentials, consent, purchase, revocation", async () => {
    const stdout = await playsEveryStep(EDUCATION_STEPS, ["--pilot", "education"]);
    expect(stdout).to.match(/^Education pilot/m);
    // the revocation path end to end: status list -> monitor -> ledger -> bridges -> chain, then the typed refusal
    for (const line of [
      "the status monitor's next check finds it and reports it to the ledger",
      "the employer's grant invalidated (CredentialRevoked)",
      "the licence has ended on chain",
      "a new request is denied with the typed reason CREDENTIAL_REVOKED",
    ])
      expect(stdout).to.include(line);
  });

  it("refuses an unknown pilot with its usage (exit 2), starting nothing", async () => {
    const { code, stderr, stdout } = await runDemo(undefined, ["--pilot", "finance"]);
    expect(code).to.equal(2);
    expect(stderr).to.include("usage: npm run demo [-- --pilot kraken|education] [--chain hardhat|anvil] [--block-time SECONDS]");
    expect(stdout).not.to.include("Starting");
  });

  it("refuses an unknown chain and a block time for Hardhat's node with the usage (exit 2), starting nothing", async () => {
    for (const [args, message] of [
      [["--chain", "geth"], "--chain geth: not a node the demo runs on (hardhat|anvil)"],
      [["--block-time", "2"], "--block-time applies to --chain anvil"],
      [["--chain", "anvil", "--block-time", "0"], "--block-time 0: whole seconds from 1 to 60"],
    ] as const) {
      const { code, stderr, stdout } = await runDemo(undefined, [...args]);
      expect(code, args.join(" ")).to.equal(2);
      expect(stderr).to.include(message);
      expect(stdout).not.to.include("Starting");
    }
  });

  it("plays every step of the KRAKEN pilot on anvil with interval mining (--chain anvil --block-time 1), and stops anvil", async function () {
    // ~70 transactions, 42 of them Ignition's deployment, mostly one a block: 1-3 minutes at 1 s blocks
    // (the demo's default of 2 s blocks doubles that; CI keeps the shorter one)
    this.timeout(600_000);
    const stdout = await playsEveryStep(STEPS, ["--chain", "anvil", "--block-time", "1"]);
    expect(stdout).to.match(/^Starting anvil \(1 s blocks\) on http:\/\/127\.0\.0\.1:\d+, ready/m);
    expect(stdout).to.match(/^KRAKEN health pilot/m);
  });

  it("stops the Hardhat node it started when interrupted (Ctrl-C)", async () => {
    let interrupted = false;
    let port = "";
    const { code, stdout } = await runDemo((text, child) => {
      const match = PORT.exec(text);
      if (match) port = match[1];
      if (!interrupted && /\[2\/\d+\]/.test(text)) {
        // step 1 started, however many steps there are
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    expect(interrupted, "the demo reached step 1 before the interrupt").to.equal(true);
    expect(code).to.equal(130);
    expect(stdout).not.to.include("Every expectation held");
    expect(await nodesLeftOnPort(port), "no Hardhat node left on the demo's port").to.deep.equal([]);
  });
});
