// The `bridge` command as an operator runs it (a child process): help and version, usage and
// configuration errors with exit status 2, `--test`, a start against a JSON-RPC endpoint serving the
// market (pino logs on stdout, /health, graceful stop on SIGTERM), refusal of a wrong market (2) and
// of an unreachable chain (1). Every child is killed in an after hook, whatever happened.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { deployMarket, rpcServer } from "./chain";
import { ATTESTOR_KEYS, getJson, temporaryDirectory } from "./fixtures";

const BIN = join(__dirname, "..", "bin", "bridge.js");
const KEY = { BRIDGE__ATTESTOR_KEY: ATTESTOR_KEYS[0] };
const children = new Set<ChildProcess>();

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

function configFile(config: unknown): string {
  const path = join(temporaryDirectory(), "bridge.json");
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe("bridge CLI", () => {
  let chain: { url: string; close(): Promise<void> };
  let market: string;
  let token: string;
  before(async () => {
    const deployed = await deployMarket();
    market = deployed.marketAddress;
    token = (await deployed.token.getAddress()).toLowerCase();
    chain = await rpcServer();
  });
  after(async () => {
    for (const child of children) child.kill("SIGKILL");
    await chain.close();
  });

  it("answers -h, --help and --version with exit status 0", async () => {
    for (const flag of ["-h", "--help"]) {
      const help = run([flag]);
      expect(await help.exited).to.equal(0);
      expect(help.stdout()).to.match(/^usage: bridge start \[--config FILE\] \[--test\]/);
      expect(help.stdout()).to.contain("BRIDGE__CHAIN__RPC_URL");
    }
    const version = run(["--version"]);
    expect(await version.exited).to.equal(0);
    expect(version.stdout()).to.equal(`${require("../package.json").version}\n`);
  });

  it("exits 2 with the usage on a missing or unknown command and on an unknown option", async () => {
    for (const [args, first] of [
      [[], "bridge: no command"],
      [["serve"], 'bridge: unknown command "serve"'],
      [["start", "--port", "1"], "bridge: Unknown option '--port'"],
    ] as const) {
      const usage = run([...args]);
      expect(await usage.exited, args.join(" ")).to.equal(2);
      expect(usage.stderr().split("\n")[0]).to.contain(first);
      expect(usage.stderr()).to.contain("usage: bridge start");
    }
  });

  it("exits 2 on a configuration error, one line per problem naming the setting, the variable and the value", async () => {
    const bad = run(["start", "--config", configFile({ chain: { market }, log: { level: "verbose" } })], { ...KEY, BRIDGE__HTTP__PORT: "7170x" });
    expect(await bad.exited).to.equal(2);
    expect(bad.stderr().trim().split("\n").sort()).to.deep.equal([
      'bridge: config error: http.port (BRIDGE__HTTP__PORT): "7170x" is not a port number 0..65535',
      'bridge: config error: log.level: "verbose" is not one of "trace", "debug", "info", "warn", "error", "fatal"',
    ]);
    expect(bad.stdout()).to.equal("");
    const noKey = run(["start", "--config", configFile({ chain: { market } })]);
    expect(await noKey.exited).to.equal(2);
    expect(noKey.stderr()).to.equal(
      "bridge: config error: attestorKey (BRIDGE__ATTESTOR_KEY): required: set BRIDGE__ATTESTOR_KEY (a private key is read from the environment only)\n",
    );
  });

  it("--test checks a configuration and exits 0 without starting, printing it without its key", async () => {
    const dir = temporaryDirectory();
    const checked = run(["start", "-c", configFile({ chain: { market }, stateDir: join(dir, "state") }), "--test"], KEY);
    expect(await checked.exited).to.equal(0);
    const printed = JSON.parse(checked.stdout());
    expect(printed.chain.market).to.equal(market);
    expect(printed.attestorKey).to.equal(`(set in the environment; address ${new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase()})`);
    expect(checked.stdout()).to.not.contain(ATTESTOR_KEYS[0].slice(2));
    expect(checked.stderr()).to.equal("bridge: the configuration is valid (nothing was started)\n");
    expect(existsSync(join(dir, "state"))).to.equal(false);
  });

  it("starts on the market of the configured chain, logs pino JSON on stdout, serves /health, and stops on SIGTERM", async () => {
    const dir = temporaryDirectory();
    const config = configFile({ http: { port: 0 }, stateDir: join(dir, "state"), chain: { market, rpcUrl: chain.url } });
    const bridge = run(["start", "--config", config], KEY);
    const records = () =>
      bridge
        .stdout()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    try {
      const deadline = Date.now() + 60_000;
      while (!records().some((r) => r.msg === "consent bridge started")) {
        if (Date.now() > deadline || bridge.child.exitCode !== null) throw new Error(`the bridge did not start: ${bridge.stderr()} ${bridge.stdout()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const started = records().find((r) => r.msg === "consent bridge started")!;
      expect(started).to.include({ service: "consent-bridge", level: 30, market, chainId: 31337 });
      const health = await getJson(`${started.url}/health`);
      expect(health.status).to.equal(200);
      expect(health.body).to.include({ status: "ok", attestor: new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase(), chainId: "31337", market });
    } finally {
      bridge.child.kill("SIGTERM");
    }
    expect(await bridge.exited).to.equal(0);
    expect(records().at(-1)).to.include({ msg: "consent bridge stopped" });
    expect(bridge.stderr()).to.equal("");
    expect(existsSync(join(dir, "state", "identity.json"))).to.equal(true);
  });

  it("refuses to start for an address that is not the market (the DATA token): exit 2, nothing written", async () => {
    const dir = temporaryDirectory();
    const wrong = run(["start", "--config", configFile({ http: { port: 0 }, stateDir: join(dir, "state"), chain: { market: token, rpcUrl: chain.url } })], KEY);
    expect(await wrong.exited).to.equal(2);
    expect(wrong.stderr()).to.equal(
      `bridge: config error: chain.market: ${token} is not the DataLicenseMarket: its EIP-712 domain is "Streamr DATA" version "1" (that is the DATA token)\n`,
    );
    expect(existsSync(join(dir, "state"))).to.equal(false);
  });

  it("exits 1 when the chain cannot be reached to check the market", async () => {
    const unreachable = run(
      ["start", "--config", configFile({ http: { port: 0 }, stateDir: join(temporaryDirectory(), "state"), chain: { market, rpcUrl: "http://127.0.0.1:1" } })],
      KEY,
    );
    expect(await unreachable.exited).to.equal(1);
    expect(unreachable.stderr()).to.match(/^bridge: could not start: /);
    expect(unreachable.stderr().trim().split("\n")).to.have.length(1);
  });
});
