// Runs `npm run demo`'s entry point as a child process, as a user would, and checks that it exits 0
// with the table of every step, and that Ctrl-C stops everything it started.
import { expect } from "chai";
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";

const DEMO_DIR = path.resolve(__dirname, "..");
const STEPS = ["setup", "1", "2", "3", "3b", "4", "5", "6", "7"];

function runDemo(onOutput?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "src/main.ts"], { cwd: DEMO_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => { stdout += chunk.toString(); onOutput?.(stdout, child); });
    child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
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

  it("plays every step of the KRAKEN pilot, exits 0 and ends with the table of every step", async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runDemo();
    expect(code, `exit code; stderr:\n${stderr.slice(-3_000)}\nstdout:\n${stdout.slice(-3_000)}`).to.equal(0);
    expect(stdout).to.include("Every expectation held");
    const table = stdout.slice(stdout.indexOf("| step"));
    for (const step of STEPS) expect(table, `row of step ${step}`).to.match(new RegExp(`^\\| ${step.replace(/[.]/g, "\\.")} +\\|.*\\| +\\d+ \\| +[\\d,]+ \\| +[\\d.]+ s \\| +\\d+ \\|$`, "m"));
    expect(table).to.match(/^\| total +\| +\| +\d+ \| +[\d,]+ \| +[\d.]+ s \| +\d+ \|$/m);
    expect(stdout).not.to.include("FAILED");
    const port = /127\.0\.0\.1:(\d+) \(compiling/.exec(stdout)![1];
    expect(nodesOnPort(port), "the Hardhat node is stopped").to.deep.equal([]);
    console.log(`      (the demo took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });

  it("stops the Hardhat node it started when interrupted (Ctrl-C)", async () => {
    let interrupted = false;
    let port = "";
    const { code, stdout } = await runDemo((text, child) => {
      const match = /127\.0\.0\.1:(\d+) \(compiling/.exec(text);
      if (match) port = match[1];
      if (!interrupted && /\[2\/\d+\]/.test(text)) { // step 1 started, however many steps there are
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
