// What an operator sees from verify-deployment: the table with whole addresses, the --json report,
// and the exit status (0 all pass, 1 a check failed, 2 could not run) without a stack trace, through
// the real `hardhat verify-deployment` command in a child process.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { expect } from "chai";
import { deployProtocol, exportPath, type DeploymentExport } from "../../tasks/deployment";
import { formatTable, type Check, type VerifyReport } from "../../tasks/verify";
import { parametersPath } from "../../deploy/parameters";

const HARDHAT_PARAMETERS = parametersPath("hardhat");
const ROOT = path.join(__dirname, "..", "..");

const children = new Set<ChildProcess>();

/** Runs `hardhat verify-deployment ARGS` on a fresh in-process network of a child process. */
function verifyCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [require.resolve("hardhat/internal/cli/bootstrap"), "verify-deployment", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe("verify-deployment output (table, --json, exit status)", function () {
  let record: DeploymentExport;
  let exportFile: string;

  before(async function () {
    const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-output-"));
    record = await deployProtocol(hre, { parametersFile: HARDHAT_PARAMETERS, exportDir });
    exportFile = exportPath(record.chainId, exportDir);
  });

  after(function () {
    for (const child of children) child.kill("SIGKILL");
  });

  it("prints every address whole: a cell listing several holders takes one line per address", function () {
    const holders = ["0x90F79bf6EB2c4f870365E785982E1f101E93b906", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"];
    const code = "14094 bytes of contracts/network/ProductDeliveryAdapter.sol:ProductDeliveryAdapter, identical";
    const checks: Check[] = [
      { area: "role", contract: "DATAToken", item: "MINTER_ROLE", expected: holders[1], actual: holders.join(", "), ok: false },
      { area: "bytecode", contract: "ProductDeliveryAdapter", item: "runtime code", expected: code, actual: code, ok: true },
    ];
    const lines = formatTable(checks).split("\n");
    const row = lines.findIndex((line) => line.startsWith("FAIL"));
    expect(lines[row]).to.match(new RegExp(`^FAIL\\s+role\\s+DATAToken\\s+MINTER_ROLE\\s+${holders[1]}\\s+${holders[0]}$`));
    // The second holder sits on the next line, in the actual column, whole.
    expect(lines[row + 1].trim()).to.equal(holders[1]);
    expect(lines[row + 1].indexOf(holders[1])).to.equal(lines[row].indexOf(holders[0]));
    expect(lines.find((line) => line.startsWith("PASS"))).to.contain(`${code}  ${code}`);
    expect(lines.join("\n")).to.not.contain("...");
  });

  it("--json prints the report alone on stdout and leaves the exit status at 0 when every check passes", async function () {
    const log = console.log;
    const exitCode = process.exitCode;
    const printed: string[] = [];
    console.log = (...parts: unknown[]) => void printed.push(parts.join(" "));
    try {
      const checks = (await hre.run("verify-deployment", { export: exportFile, parameters: HARDHAT_PARAMETERS, json: true })) as Check[];
      expect(process.exitCode).to.equal(exitCode);
      expect(printed).to.have.length(1);
      const report = JSON.parse(printed[0]) as VerifyReport;
      expect(report).to.include({ ok: true, chainId: 31337, export: exportFile, parametersFile: HARDHAT_PARAMETERS, failed: 0 });
      expect(report.passed).to.equal(checks.length).and.to.be.greaterThan(70);
      expect(report.checks).to.deep.equal(checks);
      expect(report.checks.find((c) => c.area === "role" && c.contract === "StreamRegistry" && c.item === "KEY_REGISTRAR_ROLE")).to.include({
        expected: record.contracts.DataLicenseMarket.address,
        actual: record.contracts.DataLicenseMarket.address,
      });
    } finally {
      console.log = log;
      process.exitCode = exitCode;
    }
  });

  it("exits 1 with the table and no stack trace when checks fail (the command, on a chain without the contracts)", async function () {
    const { code, stdout, stderr } = await verifyCli(["--export", exportFile, "--parameters", HARDHAT_PARAMETERS]);
    expect(code, stderr).to.equal(1);
    expect(stdout).to.match(/^result\s+area\s+contract\s+check\s+expected\s+actual$/m);
    expect(stdout).to.match(new RegExp(`^FAIL\\s+bytecode\\s+DATAToken\\s+runtime code\\s+contract code\\s+no code at address$`, "m"));
    expect(stdout).to.match(/^\d+ passed, \d+ failed$/m);
    expect(stderr).to.not.match(/\n\s+at /);
    expect(stderr).to.not.contain("Error");
  });

  it("--json on the command: stdout is one JSON report with ok false, exit 1", async function () {
    const { code, stdout, stderr } = await verifyCli(["--export", exportFile, "--parameters", HARDHAT_PARAMETERS, "--json"]);
    expect(code, stderr).to.equal(1);
    const report = JSON.parse(stdout) as VerifyReport;
    expect(report).to.include({ ok: false, chainId: 31337 });
    expect(report.failed)
      .to.equal(report.checks.filter((c) => !c.ok).length)
      .and.to.be.greaterThan(0);
    expect(report.passed + report.failed).to.equal(report.checks.length);
    expect(report.checks[0]).to.deep.equal({ area: "chain", contract: "-", item: "chain id", expected: "31337", actual: "31337", ok: true });
  });

  it("exits 2 with one line naming the problem when the checks cannot run (no export file)", async function () {
    const missing = path.join(os.tmpdir(), `no-such-export-${process.pid}.json`);
    const { code, stdout, stderr } = await verifyCli(["--export", missing]);
    expect(code).to.equal(2);
    expect(stdout).to.equal("");
    expect(stderr.trim().split("\n")).to.deep.equal([
      `verify-deployment: could not run the checks: ${missing}: no deployment export (run npm run deploy -- --network <name>)`,
    ]);
  });
});
