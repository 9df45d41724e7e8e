// Runs `npm run demo`'s entry point as a child process, as a user would, and checks that it exits 0
// with the table of every step (the KRAKEN pilot, and the education pilot with `--pilot education`),
// and that Ctrl-C stops everything it started.
import { expect } from "chai";
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";

const DEMO_DIR = path.resolve(__dirname, "..");
const STEPS = ["setup", "1", "2", "3", "3b", "4", "5", "6", "7"];
const EDUCATION_STEPS = ["setup", "1", "2", "3", "4", "5"];

function runDemo(
  onOutput?: (text: string, child: ReturnType<typeof spawn>) => void,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "src/main.ts", ...args], {
      cwd: DEMO_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
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

/** Processes whose command line starts a Hardhat node with the given port. */
function nodesOnPort(port: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid,args"]).toString();
  return out.split("\n").filter((line) => line.includes("hardhat") && line.includes(" node ") && line.includes(`--port ${port}`));
}

describe("npm run demo", function () {
  this.timeout(300_000);

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
    const port = /127\.0\.0\.1:(\d+) \(compiling/.exec(stdout)![1];
    expect(nodesOnPort(port), "the Hardhat node is stopped").to.deep.equal([]);
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
    expect(stderr).to.include("usage: npm run demo [-- --pilot kraken|education]");
    expect(stdout).not.to.include("Starting a Hardhat node");
  });

  it("stops the Hardhat node it started when interrupted (Ctrl-C)", async () => {
    let interrupted = false;
    let port = "";
    const { code, stdout } = await runDemo((text, child) => {
      const match = /127\.0\.0\.1:(\d+) \(compiling/.exec(text);
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
    expect(nodesOnPort(port), "no Hardhat node left on the demo's port").to.deep.equal([]);
  });
});
