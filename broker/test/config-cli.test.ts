// Configuration (defaults, file, environment, validation) and the CLI's refusals.

import { expect } from "chai";
import { spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, DEFAULT_CONFIG, loadConfig } from "../src/config";
import { tempDir } from "./helpers";
import { spawnBroker } from "./process";

describe("configuration", () => {
  let tmp: ReturnType<typeof tempDir>;
  const spawned: ChildProcess[] = [];
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());
  after(() => {
    for (const c of spawned) c.kill("SIGKILL"); // whatever the outcome
  });
  const file = (content: unknown) => {
    const f = join(tmp.dir, "c.json");
    writeFileSync(f, typeof content === "string" ? content : JSON.stringify(content));
    return f;
  };

  it("needs no configuration at all: defaults bind 127.0.0.1", () => {
    const c = loadConfig(undefined, {});
    expect(c).to.deep.equal(DEFAULT_CONFIG);
    expect(c.host).to.equal("127.0.0.1");
  });

  it("layers file over defaults and environment over file", () => {
    const c = loadConfig(file({ wsPort: 9000, storage: { segmentBytes: 4096 } }), { BROKER_WS_PORT: "9100", BROKER_DATA_DIR: "/tmp/x" });
    expect(c.wsPort).to.equal(9100);
    expect(c.dataDir).to.equal("/tmp/x");
    expect(c.storage.segmentBytes).to.equal(4096);
    expect(c.storage.maxResendEvents).to.equal(DEFAULT_CONFIG.storage.maxResendEvents);
    expect(c.liveDelivery).to.equal("ordered");
    expect(loadConfig(file({ liveDelivery: "durable" }), {}).liveDelivery).to.equal("durable");
    expect(loadConfig(file({ liveDelivery: "durable" }), { BROKER_LIVE_DELIVERY: "ordered" }).liveDelivery).to.equal("ordered");
  });

  it("refuses an unknown field, naming it", () => {
    expect(() => loadConfig(file({ storage: { segmentSize: 1 } }), {})).to.throw(ConfigError, "config storage.segmentSize: unknown field");
  });

  it("refuses a bad value, naming the field", () => {
    expect(() => loadConfig(file({ wsPort: 70000 }), {})).to.throw(ConfigError, "config wsPort: must be a port number");
    expect(() => loadConfig(undefined, { BROKER_CHAIN_ID: "zero" })).to.throw(ConfigError, "config chainId");
    expect(() => loadConfig(file({ streams: [{ creator: "0x1", path: "/a" }] }), {})).to.throw(ConfigError, "config streams[0].creator");
    expect(() => loadConfig(file({ storage: { commitDelayMs: -1 } }), {})).to.throw(ConfigError, "config storage.commitDelayMs: must be a number of ms in 0..1000");
    expect(() => loadConfig(undefined, { BROKER_LIVE_DELIVERY: "eventually" })).to.throw(ConfigError, 'config liveDelivery: must be "ordered" or "durable"');
  });

  it("refuses a file that is not JSON", () => {
    expect(() => loadConfig(file("{ nope"), {})).to.throw(ConfigError, "cannot read a JSON config");
  });

  it("CLI: prints usage for an unknown command and exits 2; reports a bad config and exits 2", () => {
    const bin = join(__dirname, "..", "bin", "broker.js");
    const usage = spawnSync(process.execPath, [bin, "serve"], { encoding: "utf8" });
    expect(usage.status).to.equal(2);
    expect(usage.stderr).to.contain("usage: broker start [--config FILE]");
    const bad = spawnSync(process.execPath, [bin, "start", "--config", file({ httpPort: -1 })], { encoding: "utf8" });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.contain("config httpPort: must be a port number");
  });

  it("CLI: starts with no configuration but the environment, and shuts down gracefully on SIGTERM (exit 0)", async function () {
    this.timeout(60_000);
    const lines: string[] = [];
    // Without --config: the environment only. A fresh clone transpiles the broker at its first start.
    const started = await spawnBroker("", {
      env: { BROKER_DATA_DIR: join(tmp.dir, "data"), BROKER_WS_PORT: "0", BROKER_HTTP_PORT: "0" }, timeoutMs: 45_000, onLine: (l) => void lines.push(l), args: ["start"],
    });
    spawned.push(started.child);
    const listening = JSON.parse(lines.find((l) => l.includes('"broker listening"'))!);
    expect(listening.host).to.equal("127.0.0.1");
    const health = await fetch(`http://127.0.0.1:${started.httpPort}/health`);
    expect(health.status).to.equal(200);
    started.child.kill("SIGTERM");
    const code = await new Promise((r) => started.child.once("exit", r));
    expect(code).to.equal(0);
    expect(lines.join("\n")).to.contain('"broker stopped"');
  });
});
