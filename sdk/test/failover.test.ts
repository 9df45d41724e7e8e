// The replicated network under faults, brokers as separate processes (issue 20): three `broker
// start` processes registered on a NetworkCoordinator (R = 3), a publisher at 50 events/s and a
// subscriber through the SDK's default path (the coordinator). kill -9 of the subscriber's broker,
// of the publisher's broker, and of a random broker repeatedly; restarts; a frozen chain node.
// Bars: no acknowledged event lost, each delivered once and in order; a subscriber's gap <= 1 s; a
// publisher resumes in <= 1 s; a restarted broker holds every event within 10 s and its epoch
// checksum agrees with its peers'.
import { expect } from "chai";
import { BrokerClient } from "@datamarket/broker";
import { Wallet } from "ethers";
import hre from "hardhat";
import { DataClient, type ReceivedMessage } from "../src/client/DataClient";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import { SdkError } from "../src/errors";
import { startNetwork, type BrokerProcess, type TestNetwork } from "./network";

const RATE_MS = 20; // 50 events/s
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
const maxGap = (times: number[], from: number, to: number) => {
  let gap = 0;
  for (let i = 1; i < times.length; i++) if (times[i] >= from && times[i - 1] <= to) gap = Math.max(gap, times[i] - Math.max(times[i - 1], from));
  return gap;
};

describe("failover of a replicated broker network (R = 3, brokers as processes)", function () {
  this.timeout(240_000);
  let net: TestNetwork;
  let streamId: string;
  let publisher: DataClient;
  let subscriber: DataClient;
  const acked: { n: number; seq: number; at: number }[] = [];
  const received: { n: number; seq: number; at: number }[] = [];
  const publishErrors: SdkError[] = [];
  const subscriberErrors: SdkError[] = [];
  let n = 0;
  let pump: NodeJS.Timeout | undefined;
  let inFlight = 0;

  const brokerUrlOf = (client: DataClient) => (client as unknown as { routes: Map<string, { conn?: { key: string } }> }).routes.get(`${streamId}|0`)?.conn?.key;
  const brokerOf = (client: DataClient): BrokerProcess => net.brokers.find((b) => b.wsUrl === brokerUrlOf(client))!;
  const startLoad = () => {
    pump = setInterval(() => {
      if (inFlight >= 50) return;
      const k = n++;
      inFlight++;
      publisher
        .publish(streamId, { n: k }, { encrypt: false })
        .then(
          (r) => acked.push({ n: k, seq: r.sequenceNumber, at: Date.now() }),
          (e: SdkError) => publishErrors.push(e),
        )
        .finally(() => inFlight--);
    }, RATE_MS);
  };
  const stopLoad = async () => {
    clearInterval(pump);
    await until(() => inFlight === 0, "the publishes in flight", 40_000);
  };
  /** Every acknowledged event reached the subscriber exactly once, in publishing order (waiting at most `timeoutMs`). */
  const checkDelivery = async (timeoutMs = 15_000) => {
    const wanted = new Set(acked.map((a) => a.n));
    try {
      await until(() => [...wanted].every((k) => received.some((r) => r.n === k)), "every acknowledged event at the subscriber", timeoutMs);
    } catch (error) {
      // say what is missing and what the subscriber was told, so that a failure explains itself
      const missing = [...wanted].filter((k) => !received.some((r) => r.n === k));
      const errors = subscriberErrors.slice(-5).map((e) => `${e.code}/${String(e.details.brokerCode ?? "")}: ${e.shortMessage}`);
      throw new Error(
        `${(error as Error).message}: ${missing.length} missing (first ${missing.slice(0, 5).join(", ")}; last received ${received.at(-1)?.n}); subscriber's last errors: ${errors.join(" | ")}; stats ${JSON.stringify((subscriber as unknown as { stats: unknown }).stats)}`,
      );
    }
    const ns = received.map((r) => r.n);
    expect(new Set(ns).size, "each event once").to.equal(ns.length);
    expect(ns, "in order").to.deep.equal([...ns].sort((a, b) => a - b));
  };
  /**
   * Polls until the broker holds every event acknowledged so far (but the last 300 ms, which live
   * replication may still be carrying); returns when it did.
   */
  const holdsAll = async (b: BrokerProcess, timeoutMs: number) => {
    const client = await BrokerClient.connect(b.wsUrl);
    try {
      await client.signIn(Buffer.from(Wallet.createRandom().privateKey.slice(2), "hex"));
      let missing = 0;
      await until(
        async () => {
          const wanted = acked.filter((a) => a.at < Date.now() - 300).map((a) => a.seq);
          const r = await client.resend(streamId, 0, { type: "from", fromTimestamp: 0 });
          const held = new Set(r.frames.map((f) => Number(f.readBigUInt64BE(45))));
          missing = wanted.filter((s) => !held.has(s)).length;
          return missing === 0;
        },
        `broker ${b.index} to hold every acknowledged event (${missing} missing)`,
        timeoutMs,
      );
      return Date.now();
    } finally {
      await client.close();
    }
  };
  /** Restarts a killed broker and checks the bar: every acknowledged event held within 10 s of listening. */
  const restart = async (b: BrokerProcess) => {
    await net.start(b);
    const heldAt = await holdsAll(b, 15_000);
    console.log(`      restarted broker ${b.index} held every acknowledged event ${heldAt - b.readyAt} ms after it listened`);
    expect(heldAt - b.readyAt, "catch-up of a restarted broker").to.be.at.most(10_000);
  };
  const checksums = async () => {
    const genesis = Number(await net.coordinator.genesis());
    const length = Number(await net.coordinator.epochLength());
    const epoch = Math.floor((Date.now() / 1000 - genesis) / length);
    const out: string[] = [];
    for (const b of net.brokers) {
      const reports = await Promise.all(
        [epoch - 1, epoch]
          .filter((e) => e >= 0)
          .map(async (e) => (await (await fetch(`${b.httpUrl}/network/partitions/0/epochs/${e}`)).json()) as { count: number; checksum: string }),
      );
      out.push(JSON.stringify(reports));
    }
    return out;
  };

  before(async function () {
    const t0 = Date.now();
    net = await startNetwork({ maxStalenessMs: 4000 });
    console.log(`      network up in ${((Date.now() - t0) / 1000).toFixed(1)} s (chain, deployment, 3 broker processes)`);
    await until(
      async () =>
        (await Promise.all(net.brokers.map((b) => net.health(b)))).every(
          (h) => h.replication?.peers?.filter((p: { linked: boolean }) => p.linked).length === 2,
        ),
      "every broker linked to its two peers",
      20_000,
    );
    const [admin] = await hre.ethers.getSigners();
    const { streamId: id } = await new StreamRegistryClient(await net.registry.getAddress(), admin).createStream("/failover/heart-rate", 1);
    streamId = id.toLowerCase();
    await (await net.registry.setPublicAccess(streamId, true, true)).wait();
    await until(
      async () => (await Promise.all(net.brokers.map(async (b) => (await fetch(`${b.httpUrl}/streams/${streamId}`)).status))).every((s) => s === 200),
      "the brokers to index the stream",
      10_000,
    );
    const access = new StreamRegistryClient(await net.registry.getAddress(), net.provider);
    const pubWallet = Wallet.createRandom() as unknown as Wallet;
    const subWallet = Wallet.createRandom() as unknown as Wallet;
    subscriber = new DataClient({
      signer: subWallet,
      access,
      coordinator: net.coordinator.connect(net.provider),
      reconnectDelayMs: 50,
      resumeLookbackMs: 5_000,
    });
    await subscriber.subscribe(
      streamId,
      (m: ReceivedMessage) => void received.push({ n: (m.parsed() as { n: number }).n, seq: m.sequenceNumber, at: Date.now() }),
      { onError: (e) => void subscriberErrors.push(e) },
    );
    // Clients start on a random assignee: the first two cases want the two on different brokers.
    for (let i = 0; i < 20; i++) {
      publisher = new DataClient({
        signer: pubWallet,
        access,
        coordinator: net.coordinator.connect(net.provider),
        publishTimeoutMs: 20_000,
        reconnectDelayMs: 50,
      });
      await publisher.publish(streamId, { n: n++ }, { encrypt: false }).then((r) => acked.push({ n: n - 1, seq: r.sequenceNumber, at: Date.now() }));
      if (brokerOf(publisher) !== brokerOf(subscriber)) break;
      await publisher.close();
    }
    expect(brokerOf(publisher)).to.not.equal(brokerOf(subscriber));
  });

  after(async () => {
    clearInterval(pump);
    await publisher?.close().catch(() => undefined);
    await subscriber?.close().catch(() => undefined);
    await net?.stop();
  });

  it("kill -9 of the subscriber's broker: the subscriber moves on within 1 s, loses nothing; the broker restarts and catches up within 10 s", async () => {
    startLoad();
    await until(() => acked.length >= 50, "a second of events", 15_000);
    const victim = brokerOf(subscriber);
    const killedAt = Date.now();
    net.kill(victim);
    await sleep(3000);
    const gap = maxGap(
      received.map((r) => r.at),
      killedAt,
      killedAt + 3000,
    );
    console.log(`      subscriber's longest gap after its broker died: ${gap} ms; now on broker ${brokerOf(subscriber)?.index}`);
    expect(gap, "the subscriber's gap after its broker died").to.be.at.most(1000);
    await restart(victim);
    await stopLoad();
    await checkDelivery();
    await until(async () => new Set(await checksums()).size === 1, "the three brokers' epoch checksums to agree", 10_000);
  });

  it("kill -9 of the publisher's broker: the publisher resumes within 1 s on another replica, no acknowledged event lost", async () => {
    startLoad();
    await until(() => acked.length >= 120, "more events", 15_000);
    const victim = brokerOf(publisher);
    const killedAt = Date.now();
    net.kill(victim);
    await sleep(3000);
    const gap = maxGap(
      acked.map((a) => a.at),
      killedAt,
      killedAt + 3000,
    );
    console.log(`      publisher's longest wait for an acknowledgement after its broker died: ${gap} ms; now on broker ${brokerOf(publisher)?.index}`);
    expect(gap, "the publisher's pause after its broker died").to.be.at.most(1000);
    expect(publishErrors, "no publish failed").to.deep.equal([]);
    await restart(victim);
    await stopLoad();
    await checkDelivery();
    await until(async () => new Set(await checksums()).size === 1, "the three brokers' epoch checksums to agree", 10_000);
  });

  it("kill -9 of a random broker, repeatedly, and restart: nothing acknowledged is lost, each event delivered once in order, checksums agree", async () => {
    startLoad();
    for (let round = 0; round < 3; round++) {
      await sleep(800 + Math.random() * 700);
      const victim = net.brokers[Math.floor(Math.random() * 3)];
      console.log(
        `      round ${round + 1}: kill -9 broker ${victim.index}${victim === brokerOf(publisher) ? " (the publisher's)" : ""}${victim === brokerOf(subscriber) ? " (the subscriber's)" : ""}`,
      );
      net.kill(victim);
      await sleep(500 + Math.random() * 1000);
      await restart(victim);
    }
    await stopLoad();
    expect(publishErrors, "no publish failed").to.deep.equal([]);
    await checkDelivery();
    for (const b of net.brokers) await holdsAll(b, 10_000);
    await until(async () => new Set(await checksums()).size === 1, "the three brokers' epoch checksums to agree", 10_000);
    console.log(`      ${acked.length} events acknowledged and delivered once, in order; checksums ${(await checksums())[0]}`);
  });

  it("a frozen chain node: publishing goes on within the staleness bound, then is refused at once (CHAIN_UNAVAILABLE); the subscription comes back when the chain does", async () => {
    const before = received.length;
    net.proxy.freeze();
    const frozenAt = Date.now();
    // the brokers fail closed 4 s (access.maxStalenessMs) after their last read of the chain
    const attempts: { at: number; ms: number; code?: string }[] = [];
    while (Date.now() - frozenAt < 7000) {
      const t = Date.now();
      await publisher.publish(streamId, { n: n++ }, { encrypt: false }).then(
        (r) => acked.push({ n: n - 1, seq: r.sequenceNumber, at: Date.now() }),
        (e: SdkError) => attempts.push({ at: t - frozenAt, ms: Date.now() - t, code: e.code }),
      );
      await sleep(RATE_MS);
    }
    const refused = attempts.filter((a) => a.code === "CHAIN_UNAVAILABLE");
    console.log(
      `      frozen chain: ${refused.length} publishes refused with CHAIN_UNAVAILABLE from ${refused[0]?.at} ms on, the slowest refusal in ${Math.max(...refused.map((a) => a.ms))} ms`,
    );
    expect(refused.length, "publishes refused while the gate is stale").to.be.greaterThan(10);
    expect(
      attempts.every((a) => a.code === "CHAIN_UNAVAILABLE"),
      JSON.stringify(attempts.slice(0, 3)),
    ).to.equal(true);
    expect(Math.max(...refused.map((a) => a.ms)), "refused at once").to.be.at.most(500);
    expect(refused[0].at, "publishing went on until the staleness bound").to.be.at.least(3000);
    await until(() => subscriberErrors.some((e) => e.details.brokerCode === "ACCESS_GATE_UNAVAILABLE"), "the fail-closed cut of the subscription", 5000);
    net.proxy.unfreeze();
    // once the brokers read the chain again, publishing resumes (no chain-rule refusals) and the subscription is back
    await until(
      async () =>
        publisher.publish(streamId, { n: n++ }, { encrypt: false }).then(
          (r) => (acked.push({ n: n - 1, seq: r.sequenceNumber, at: Date.now() }), true),
          () => false,
        ),
      "publishing to resume",
      20_000,
    );
    for (let i = 0; i < 20; i++) {
      const r = await publisher.publish(streamId, { n: n++ }, { encrypt: false });
      acked.push({ n: n - 1, seq: r.sequenceNumber, at: Date.now() });
    }
    // After the chain comes back the subscription returns through several bounded steps, each slower on a
    // loaded machine: the subscriber's backoff (up to 5 s), its broker's follower finishing a poll that hung
    // for the whole freeze, and a resend that may wait for the partition's catch-up (up to 10 s).
    await checkDelivery(30_000);
    expect(received.length).to.be.greaterThan(before);
    expect(subscriberErrors.filter((e) => e.code === "GAP_NOT_FILLED")).to.deep.equal([]);
  });
});
