// The `broker` command (docs/broker.md, "Running"): -h/--help/--version exit 0; usage and
// configuration errors exit 2 with one line per problem; --test checks a configuration without
// starting; a start logs pino JSON, says in one warn line that chain.mode "auto" found no node, does
// not log probes of /health and /metrics at info, and stops on SIGTERM with exit 0. Every test runs
// bin/broker.js (the transpile cache: JavaScript after the first start) and kills what it spawned in
// an `after` hook, whatever the outcome.

import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { addressOfPrivateKey } from "../src/wire";
import { tempDir } from "./helpers";
import { killRunning, runBroker, spawnBroker } from "./process";

const OPERATOR_KEY = "0x" + "22".repeat(32);
/** A fresh clone transpiles the broker at its first start; later starts load the cache. */
const START_MS = 45_000;

describe("broker CLI", function () {
  this.timeout(4 * START_MS);
  let tmp: ReturnType<typeof tempDir>;
  const spawned: ChildProcess[] = [];
  before(() => (tmp = tempDir()));
  after(() => {
    for (const child of spawned) child.kill("SIGKILL");
    killRunning();
    tmp.remove();
  });
  const configFile = (config: unknown) => {
    const file = join(tmp.dir, `broker-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  it("answers -h, --help and --version with exit status 0", async () => {
    for (const flag of ["-h", "--help"]) {
      const help = await runBroker([flag]);
      expect(help.code, flag).to.equal(0);
      expect(help.stdout).to.match(/^usage: broker start \[--config FILE\] \[--test\]/);
      expect(help.stdout).to.contain("BROKER__STORAGE__MAX_RESEND_EVENTS");
    }
    const version = await runBroker(["--version"]);
    expect(version.code).to.equal(0);
    expect(version.stdout).to.equal("0.1.0\n");
  });

  it("exits 2 with the usage on a missing or unknown command and on an unknown option", async () => {
    for (const args of [[], ["serve"], ["start", "--verbose"], ["start", "--config"]]) {
      const usage = await runBroker(args);
      expect(usage.code, args.join(" ")).to.equal(2);
      expect(usage.stderr, args.join(" ")).to.contain("usage: broker start [--config FILE] [--test]");
    }
  });

  it("exits 2 on a configuration error, one line per problem naming the setting, the variable and the value", async () => {
    const bad = await runBroker(["start", "--config", configFile({ wsPort: "7170", log: { level: "verbose" } })], { BROKER__HTTP_PORT: "-1" });
    expect(bad.code).to.equal(2);
    expect(bad.stderr.split("\n").filter(Boolean)).to.have.members([
      'broker: config error: wsPort: "7170" is not a port number 0..65535',
      'broker: config error: log.level: "verbose" is not one of "trace", "debug", "info", "warn", "error", "fatal"',
      "broker: config error: httpPort (BROKER__HTTP_PORT): -1 is not a port number 0..65535",
    ]);
    expect(bad.stdout).to.equal(""); // no pino line, no stack trace
    const keyInFile = await runBroker(["start", "--config", configFile({ chain: { operatorKey: OPERATOR_KEY } })]);
    expect(keyInFile.code).to.equal(2);
    expect(keyInFile.stderr).to.equal(
      "broker: config error: chain.operatorKey: a private key is never read from a file: remove it and set BROKER__CHAIN__OPERATOR_KEY\n",
    );
    const realChain = await runBroker(["start"], { BROKER__CHAIN_ID: "11155111" });
    expect(realChain.code).to.equal(2);
    expect(realChain.stderr).to.match(/^broker: config error: consentLedger\.kind \(BROKER__CONSENT_LEDGER__KIND\): required on chain 11155111: /);
  });

  it("--test checks a configuration and exits 0 without starting, printing it with the key's address only", async () => {
    const file = configFile({ wsPort: 0, httpPort: 0, dataDir: "data", chain: { mode: "off" } });
    const checked = await runBroker(["start", "-c", file, "--test"], { BROKER__CHAIN__OPERATOR_KEY: OPERATOR_KEY });
    expect(checked.code).to.equal(0);
    expect(checked.stderr).to.equal("broker: the configuration is valid (nothing was started)\n");
    const printed = JSON.parse(checked.stdout) as { dataDir: string; chain: { operatorKey: string } };
    expect(printed.dataDir).to.equal(join(tmp.dir, "data"));
    expect(printed.chain.operatorKey).to.equal(`(set in the environment; address ${addressOfPrivateKey(Buffer.from(OPERATOR_KEY.slice(2), "hex"))})`);
    expect(checked.stdout).to.not.contain(OPERATOR_KEY.slice(2));
    const missing = await runBroker(["start", "-c", configFile({ chain: { deployment: "nowhere.json" } }), "--test"]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.equal(
      `broker: config error: chain.deployment (BROKER__CHAIN__DEPLOYMENT): cannot read ${join(tmp.dir, "nowhere.json")} (ENOENT)\n`,
    );
  });

  /** `broker start` configured by the environment only (its own data directory, ports 0), its output lines collected. */
  async function startFromEnvironment(dataDir: string, env: NodeJS.ProcessEnv) {
    const lines: string[] = [];
    const started = await spawnBroker("", {
      args: ["start"],
      timeoutMs: START_MS,
      onLine: (line) => void lines.push(line),
      env: { BROKER__DATA_DIR: join(tmp.dir, dataDir), BROKER__WS_PORT: "0", BROKER__HTTP_PORT: "0", ...env },
    });
    spawned.push(started.child);
    return { started, lines };
  }

  it("writes its last log records in order when a write to stdout is still in flight at SIGTERM", async () => {
    // pino writes stdout asynchronously; at process.exit it writes what it still holds at once, which
    // put "broker stopped" before a "shutting down" whose write had not finished (seen on a loaded
    // machine). test/slow-stdout.js holds that write for 500 ms.
    const { started, lines } = await startFromEnvironment("slow-stdout-data", {
      BROKER__CHAIN__MODE: "off",
      NODE_OPTIONS: `--require ${join(__dirname, "slow-stdout.js")}`,
      SLOW_STDOUT_TEXT: '"msg":"shutting down"',
    });
    started.child.kill("SIGTERM");
    const code = await new Promise((resolve) => started.child.once("close", resolve));
    expect(code).to.equal(0);
    const own = lines.map((line) => JSON.parse(line) as { msg: string; reqId?: string }).filter((r) => r.reqId === undefined);
    expect(
      own.slice(-2).map((r) => r.msg),
      lines.slice(-4).join("\n"),
    ).to.deep.equal(["shutting down", "broker stopped"]);
  });

  it("starts with the environment only, says in one warn line that no node answers (auto), serves /health without logging it, and stops on SIGTERM", async () => {
    // the discard port: nothing answers there
    const { started, lines } = await startFromEnvironment("env-data", { BROKER__CHAIN__RPC_URL: "http://127.0.0.1:9" });
    const records = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string; req?: { url: string }; url?: string });
    expect(records().find((r) => r.msg === "broker listening")).to.deep.include({ host: "127.0.0.1" });
    const warnings = records().filter((r) => r.level >= 40);
    expect(warnings.map((r) => r.msg)).to.have.length(1);
    expect(warnings[0].msg).to.match(/^chain\.mode "auto": no Ethereum node answers at http:\/\/127\.0\.0\.1:9 \(.+\): running WITHOUT the contracts/);
    const health = await fetch(`http://127.0.0.1:${started.httpPort}/health`);
    expect(health.status).to.equal(200);
    const body = (await health.json()) as { chain: Record<string, unknown>; assignment: string };
    expect(body.chain).to.deep.include({ mode: "auto", connected: false, rpcUrl: "http://127.0.0.1:9" });
    expect(body.assignment).to.equal("single-node");
    expect((await fetch(`http://127.0.0.1:${started.httpPort}/metrics`)).status).to.equal(200);
    expect((await fetch(`http://127.0.0.1:${started.httpPort}/streams`)).status).to.equal(200);
    started.child.kill("SIGTERM");
    // "close", not "exit": exit can come before the last stdout lines are read
    const code = await new Promise((resolve) => started.child.once("close", resolve));
    expect(code).to.equal(0);
    const requests = records()
      .filter((r) => r.req?.url !== undefined)
      .map((r) => r.req!.url);
    expect(requests, "a request other than a probe is logged").to.include("/streams");
    expect(
      requests.filter((url) => url === "/health" || url === "/metrics"),
      "probes are not logged at info",
    ).to.deep.equal([]);
    // the broker's own last record; a request's "request completed" is logged when its response has
    // gone out, which can be after a SIGTERM sent on reading that response
    const own = records().filter((r) => (r as { reqId?: string }).reqId === undefined);
    expect(own.at(-1)?.msg, lines.slice(-4).join("\n")).to.equal("broker stopped");
  });
});
