// The failover scenario shared by the test (test/failover.test.ts: the behaviour, with liveness bounds
// of ample margin) and the benchmark (bench/failover.ts: the speed bars of issue 20, measured the same
// way and reported met or missed with the load): a replicated network of three `broker start`
// processes (R = 3), a publisher at 50 events/s and a subscriber through the SDK's default path.
import { BrokerClient, BrokerRequestError } from "@datamarket/broker";
import { Wallet } from "ethers";
import hre from "hardhat";
import { DataClient, type ReceivedMessage } from "../src/client/DataClient";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import type { SdkError } from "../src/errors";
import { startNetwork, type BrokerProcess, type TestNetwork } from "./network";

export const RATE_MS = 20; // 50 events/s
/** The brokers' access.maxStalenessMs: they fail closed this long after their last read of the chain. */
export const MAX_STALENESS_MS = 4000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The longest interval between consecutive times that overlaps [from, to]. */
export const maxGap = (times: number[], from: number, to: number) => {
  let gap = 0;
  for (let i = 1; i < times.length; i++) if (times[i] >= from && times[i - 1] <= to) gap = Math.max(gap, times[i] - Math.max(times[i - 1], from));
  return gap;
};

export interface Mark {
  /** The event's number in publishing order. */
  n: number;
  seq: number;
  at: number;
}

/** One publish attempt while the chain is frozen: when it started (ms after the freeze), how long it took, its error code. */
export interface FrozenAttempt {
  at: number;
  ms: number;
  code?: string;
}

export class FailoverScenario {
  net!: TestNetwork;
  streamId!: string;
  publisher!: DataClient;
  subscriber!: DataClient;
  readonly acked: Mark[] = [];
  readonly received: Mark[] = [];
  readonly publishErrors: SdkError[] = [];
  readonly subscriberErrors: SdkError[] = [];
  /** The number the next published event gets. */
  n = 0;
  /** Resends of holdsAll() refused with ACCESS_GATE_UNAVAILABLE (asked again). */
  staleResends = 0;
  private pump?: NodeJS.Timeout;
  private inFlight = 0;

  private brokerUrlOf(client: DataClient) {
    return (client as unknown as { routes: Map<string, { conn?: { key: string } }> }).routes.get(`${this.streamId}|0`)?.conn?.key;
  }
  /** The broker a client's route of partition 0 is connected to (undefined while it reconnects). */
  brokerOf(client: DataClient): BrokerProcess | undefined {
    return this.net.brokers.find((b) => b.wsUrl === this.brokerUrlOf(client));
  }

  /** Starts the network, creates a public stream, subscribes, and puts the publisher on another broker than the subscriber. */
  async setup(log: (line: string) => void = () => undefined): Promise<void> {
    const t0 = Date.now();
    const net = (this.net = await startNetwork({ maxStalenessMs: MAX_STALENESS_MS }));
    log(`network up in ${((Date.now() - t0) / 1000).toFixed(1)} s (chain, deployment, 3 broker processes)`);
    await until(
      async () =>
        (await Promise.all(net.brokers.map((b) => net.health(b)))).every(
          (h) => h.replication?.peers?.filter((p: { linked: boolean }) => p.linked).length === 2,
        ),
      "every broker linked to its two peers",
      30_000,
    );
    const [admin] = await hre.ethers.getSigners();
    const { streamId: id } = await new StreamRegistryClient(await net.registry.getAddress(), admin).createStream("/failover/heart-rate", 1);
    const streamId = (this.streamId = id.toLowerCase());
    await (await net.registry.setPublicAccess(streamId, true, true)).wait();
    await until(
      async () => (await Promise.all(net.brokers.map(async (b) => (await fetch(`${b.httpUrl}/streams/${streamId}`)).status))).every((s) => s === 200),
      "the brokers to index the stream",
      20_000,
    );
    const access = new StreamRegistryClient(await net.registry.getAddress(), net.provider);
    const pubWallet = Wallet.createRandom() as unknown as Wallet;
    const subWallet = Wallet.createRandom() as unknown as Wallet;
    this.subscriber = new DataClient({
      signer: subWallet,
      access,
      coordinator: net.coordinator.connect(net.provider),
      reconnectDelayMs: 50,
      resumeLookbackMs: 5_000,
    });
    await this.subscriber.subscribe(
      streamId,
      (m: ReceivedMessage) => void this.received.push({ n: (m.parsed() as { n: number }).n, seq: m.sequenceNumber, at: Date.now() }),
      { onError: (e) => void this.subscriberErrors.push(e) },
    );
    // Clients start on a random assignee: the first two cases want the two on different brokers.
    for (let i = 0; i < 20; i++) {
      this.publisher = new DataClient({
        signer: pubWallet,
        access,
        coordinator: net.coordinator.connect(net.provider),
        publishTimeoutMs: 20_000,
        reconnectDelayMs: 50,
      });
      await this.publishOne();
      if (this.brokerOf(this.publisher) !== this.brokerOf(this.subscriber)) break;
      await this.publisher.close();
    }
  }

  async teardown(): Promise<void> {
    clearInterval(this.pump);
    await this.publisher?.close().catch(() => undefined);
    await this.subscriber?.close().catch(() => undefined);
    await this.net?.stop();
  }

  /** Publishes the next event and records its acknowledgement; rejects with the publish's error. */
  async publishOne(): Promise<void> {
    const k = this.n++;
    const r = await this.publisher.publish(this.streamId, { n: k }, { encrypt: false });
    this.acked.push({ n: k, seq: r.sequenceNumber, at: Date.now() });
  }

  /** Publishes at 50 events/s (at most 50 in flight) until stopLoad(). */
  startLoad(): void {
    this.pump = setInterval(() => {
      if (this.inFlight >= 50) return;
      this.inFlight++;
      this.publishOne()
        .catch((e: SdkError) => void this.publishErrors.push(e))
        .finally(() => this.inFlight--);
    }, RATE_MS);
  }

  async stopLoad(): Promise<void> {
    clearInterval(this.pump);
    await until(() => this.inFlight === 0, "the publishes in flight", 40_000);
  }

  /** Kills a broker with SIGKILL; returns the time and the number of the first event published after it. */
  kill(victim: BrokerProcess): { killedAt: number; firstAfter: number } {
    const killedAt = Date.now();
    const firstAfter = this.n;
    this.net.kill(victim);
    return { killedAt, firstAfter };
  }

  /** Throws unless every acknowledged event reached the subscriber (waiting at most `timeoutMs`) exactly once, in publishing order. */
  async checkDelivery(timeoutMs = 15_000): Promise<void> {
    const received = this.received;
    const wanted = this.acked.map((a) => a.n);
    const missing = () => {
      const got = new Set(received.map((r) => r.n));
      return wanted.filter((k) => !got.has(k));
    };
    try {
      await until(() => missing().length === 0, "every acknowledged event at the subscriber", timeoutMs, 100);
    } catch (error) {
      // say what is missing and what the subscriber was told, so that a failure explains itself
      const missing_ = missing();
      const errors = this.subscriberErrors.slice(-5).map((e) => `${e.code}/${String(e.details.brokerCode ?? "")}: ${e.shortMessage}`);
      throw new Error(
        `${(error as Error).message}: ${missing_.length} missing (first ${missing_.slice(0, 5).join(", ")}; last received ${received.at(-1)?.n}); subscriber's last errors: ${errors.join(" | ")}; stats ${JSON.stringify((this.subscriber as unknown as { stats: unknown }).stats)}`,
      );
    }
    const ns = received.map((r) => r.n);
    if (new Set(ns).size !== ns.length) throw new Error(`an event was delivered twice: ${ns.filter((k, i) => ns.indexOf(k) !== i).slice(0, 5)}`);
    const outOfOrder = ns.findIndex((k, i) => i > 0 && k < ns[i - 1]);
    if (outOfOrder >= 0) throw new Error(`delivered out of order: ${ns[outOfOrder - 1]} before ${ns[outOfOrder]}`);
  }

  /**
   * Polls (every 100 ms: each poll reads the whole stream back, and this process also serves the chain
   * to the brokers) until the broker holds every event acknowledged so far (but the last 300 ms, which
   * live replication may still be carrying); returns when it did (Date.now()). A resend refused because
   * the broker's gate is stale (ACCESS_GATE_UNAVAILABLE: it fails closed, as it must, while its reads of
   * the chain lag on a busy machine) is asked again.
   */
  async holdsAll(b: BrokerProcess, timeoutMs: number): Promise<number> {
    const client = await BrokerClient.connect(b.wsUrl);
    try {
      await client.signIn(Buffer.from(Wallet.createRandom().privateKey.slice(2), "hex"));
      let missing = 0;
      await until(
        async () => {
          const wanted = this.acked.filter((a) => a.at < Date.now() - 300).map((a) => a.seq);
          let frames: Buffer[];
          try {
            ({ frames } = await client.resend(this.streamId, 0, { type: "from", fromTimestamp: 0 }));
          } catch (error) {
            if (error instanceof BrokerRequestError && error.code === "ACCESS_GATE_UNAVAILABLE") {
              this.staleResends++;
              return false;
            }
            throw error;
          }
          const held = new Set(frames.map((f) => Number(f.readBigUInt64BE(45))));
          missing = wanted.filter((s) => !held.has(s)).length;
          return missing === 0;
        },
        `broker ${b.index} to hold every acknowledged event (${missing} missing)`,
        timeoutMs,
        100,
      );
      return Date.now();
    } finally {
      await client.close();
    }
  }

  /** Restarts a killed broker; returns how long after it listened it held every acknowledged event (ms). */
  async restart(b: BrokerProcess, timeoutMs: number): Promise<number> {
    await this.net.start(b);
    return (await this.holdsAll(b, timeoutMs)) - b.readyAt;
  }

  /** Each broker's epoch reports (count and checksum) of partition 0 for the current and the previous epoch. */
  async checksums(): Promise<string[]> {
    const genesis = Number(await this.net.coordinator.genesis());
    const length = Number(await this.net.coordinator.epochLength());
    const epoch = Math.floor((Date.now() / 1000 - genesis) / length);
    const out: string[] = [];
    for (const b of this.net.brokers) {
      const reports = await Promise.all(
        [epoch - 1, epoch]
          .filter((e) => e >= 0)
          .map(async (e) => (await (await fetch(`${b.httpUrl}/network/partitions/0/epochs/${e}`)).json()) as { count: number; checksum: string }),
      );
      out.push(JSON.stringify(reports));
    }
    return out;
  }

  /**
   * Freezes the chain node and publishes one event at a time (every RATE_MS) until `refusals` of them
   * were refused or `timeoutMs` passed; the chain stays frozen. Returns every failed attempt (`at`
   * counted from frozenAt) and the time of the brokers' last read of the chain before the freeze.
   */
  async publishWhileFrozen(
    refusals: number,
    timeoutMs: number,
  ): Promise<{ frozenAt: number; lastChainReadAt: number; attempts: FrozenAttempt[]; accepted: number }> {
    this.net.proxy.freeze();
    const frozenAt = Date.now();
    // The brokers' last read of the chain (their staleness counts from it), no later than it was: the
    // earliest over the three of `time before asking - the age /health reports`.
    const lastReads = await Promise.all(
      this.net.brokers.map(async (b) => {
        const asked = Date.now();
        const { gate } = await this.net.health(b);
        return asked - Number(gate.ageMs);
      }),
    );
    const lastChainReadAt = Math.min(...lastReads);
    const attempts: FrozenAttempt[] = [];
    let accepted = 0;
    while (attempts.length < refusals && Date.now() - frozenAt < timeoutMs) {
      const t = Date.now();
      await this.publishOne().then(
        () => accepted++,
        (e: SdkError) => attempts.push({ at: t - frozenAt, ms: Date.now() - t, code: e.code }),
      );
      await sleep(RATE_MS);
    }
    return { frozenAt, lastChainReadAt, attempts, accepted };
  }

  /** Unfreezes the chain node and publishes until a publish is accepted again (at most `timeoutMs`). */
  async unfreeze(timeoutMs: number): Promise<void> {
    this.net.proxy.unfreeze();
    await until(
      () =>
        this.publishOne().then(
          () => true,
          () => false,
        ),
      "publishing to resume after the freeze",
      timeoutMs,
    );
  }
}
