// Staleness that shows (docs/broker.md, "Staleness"): when the access gate goes stale because the
// chain or the consent ledger stops answering, the broker says which, once, at warn; `/health`
// answers 503 with each source's age, block and error; `/metrics` exposes broker_access_gate_stale
// and the seconds since the chain's last head and the ledger's last answer; recovery is logged too.

import { expect } from "chai";
import pino from "pino";
import { DEFAULT_CONFIG, type BrokerConfig } from "../src/config";
import { startBroker, type RunningBroker } from "../src/Broker";
import { InMemoryAccessGate } from "../src/access/InMemoryAccessGate";
import type { GateSources } from "../src/access/AccessGate";
import { InMemoryStreamIndex } from "../src/streams/StreamIndex";
import { tempDir, waitFor } from "./helpers";

/** A gate that follows a chain and a consent ledger, each of which can stop answering. */
class TwoSourceGate extends InMemoryAccessGate {
  chainUp = true;
  ledgerUp = true;
  chainAt = Date.now();
  ledgerAt = Date.now();
  block = 100;

  sources(): GateSources {
    const now = Date.now();
    if (this.chainUp) ((this.chainAt = now), this.block++);
    if (this.ledgerUp) this.ledgerAt = now;
    return {
      chain: { syncedAt: this.chainAt, headBlock: this.block, error: this.chainUp ? undefined : "connect ECONNREFUSED 127.0.0.1:8545" },
      consentLedger: { syncedAt: this.ledgerAt, lastBlock: 7, error: this.ledgerUp ? undefined : "14 UNAVAILABLE: No connection established" },
    };
  }

  lastSyncedAt(): number {
    const { chain, consentLedger } = this.sources();
    return Math.min(chain!.syncedAt, consentLedger!.syncedAt);
  }
}

function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1).replace("+Inf", "Infinity"));
}

describe("access gate staleness: logs, /health, /metrics", function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof tempDir>;
  let broker: RunningBroker;
  let gate: TwoSourceGate;
  const records: Array<{ level: number; msg: string; gate?: Record<string, unknown>; staleForMs?: number }> = [];
  const http = (path: string) => fetch(`http://127.0.0.1:${broker.httpPort}${path}`);

  before(async () => {
    tmp = tempDir();
    gate = new TwoSourceGate();
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      access: { ...DEFAULT_CONFIG.access, maxStalenessMs: 400 },
    };
    const logger = pino({ level: "info" }, { write: (line: string) => void records.push(JSON.parse(line)) });
    broker = await startBroker(config, { gate, streams: new InMemoryStreamIndex(), logger });
  });
  after(async () => {
    await broker.close();
    tmp.remove();
  });

  it("exposes the gate's freshness while both sources answer", async () => {
    const metrics = await (await http("/metrics")).text();
    expect(metric(metrics, "broker_access_gate_stale")).to.equal(0);
    expect(metric(metrics, "broker_access_gate_max_staleness_seconds")).to.equal(0.4);
    expect(metric(metrics, "broker_chain_head_age_seconds")).to.be.within(0, 0.4);
    expect(metric(metrics, "broker_consent_ledger_age_seconds")).to.be.within(0, 0.4);
    expect(metric(metrics, "broker_chain_head_block")).to.be.above(100);
    expect(metric(metrics, "broker_consent_ledger_block")).to.equal(7);
    const health = await http("/health");
    expect(health.status).to.equal(200);
    expect(await health.json()).to.deep.include({ status: "ok", accessGate: "ok" });
    expect(records.filter((r) => r.level >= 40)).to.deep.equal([]);
  });

  it("logs once at warn which source went away, answers 503 with it, and counts the seconds", async () => {
    gate.ledgerUp = false;
    await waitFor(() => records.some((r) => r.msg.startsWith("access gate stale")), 5000, "the warning");
    await new Promise((r) => setTimeout(r, 1200)); // more sweeps: still one warning
    const warnings = records.filter((r) => r.level === 40);
    expect(warnings).to.have.length(1);
    expect(warnings[0].msg).to.match(
      /^access gate stale \(bound 400 ms\): the consent ledger is unreachable: last reached \d+\.\d s ago \(14 UNAVAILABLE: No connection established\); refusing publish, subscribe and resend with ACCESS_GATE_UNAVAILABLE/,
    );
    expect(warnings[0].msg).to.not.contain("the chain is unreachable");
    const health = await http("/health");
    expect(health.status).to.equal(503);
    const body = (await health.json()) as {
      status: string;
      accessGate: string;
      gate: { consentLedger: { stale: boolean; ageMs: number; error: string }; chain: { stale: boolean } };
    };
    expect(body).to.deep.include({ status: "degraded", accessGate: "stale" });
    expect(body.gate.consentLedger).to.deep.include({ stale: true, error: "14 UNAVAILABLE: No connection established" });
    expect(body.gate.consentLedger.ageMs).to.be.above(400);
    expect(body.gate.chain.stale).to.equal(false);
    const metrics = await (await http("/metrics")).text();
    expect(metric(metrics, "broker_access_gate_stale")).to.equal(1);
    expect(metric(metrics, "broker_consent_ledger_age_seconds")).to.be.above(0.4);
    expect(metric(metrics, "broker_access_gate_sync_age_seconds")).to.be.above(0.4);
    expect(metric(metrics, "broker_chain_head_age_seconds")).to.be.below(0.4);
  });

  it("logs the recovery with how long the gate was stale", async () => {
    gate.ledgerUp = true;
    await waitFor(() => records.some((r) => r.msg.startsWith("access gate recovered")), 5000, "the recovery");
    const recovered = records.find((r) => r.msg.startsWith("access gate recovered"))!;
    expect(recovered.level).to.equal(30);
    expect(recovered.staleForMs).to.be.above(1000);
    expect((await http("/health")).status).to.equal(200);
    expect(metric(await (await http("/metrics")).text(), "broker_access_gate_stale")).to.equal(0);
  });

  it("names the chain when the chain is the one that stops answering", async () => {
    gate.chainUp = false;
    await waitFor(() => records.filter((r) => r.msg.startsWith("access gate stale")).length === 2, 5000, "the second warning");
    const warning = records.filter((r) => r.msg.startsWith("access gate stale"))[1];
    expect(warning.msg).to.match(/the chain is unreachable: last reached \d+\.\d s ago \(connect ECONNREFUSED 127\.0\.0\.1:8545\)/);
    gate.chainUp = true;
    await waitFor(() => records.filter((r) => r.msg.startsWith("access gate recovered")).length === 2, 5000, "the second recovery");
  });

  it("does not log the probes of /health and /metrics at info", () => {
    const logged = records.filter((r) => (r as { req?: { url?: string } }).req?.url !== undefined);
    expect(logged.map((r) => (r as { req?: { url?: string } }).req!.url).filter((url) => url === "/health" || url === "/metrics")).to.deep.equal([]);
  });
});
