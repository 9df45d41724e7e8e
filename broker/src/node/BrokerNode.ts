// The broker's core, independent of transport: the publish pipeline (decode, route, check,
// verify once, order, store durably), live delivery (once ordered, or once durable), subscriptions
// with access re-checks on revocation / licence expiry / gate staleness, resend, and epoch checksums.

import type { Logger } from "pino";
import { BrokerError, ErrorCodes, isWireError } from "../errors";
import { AccessPolicy, type GateFreshness } from "../access/AccessPolicy";
import { decodeFrame, verifyEvent, type SignedEvent } from "../wire";
import { checkContent } from "../content";
import { EventStore, DurableBatch, ResendQuery, ResendResult, partitionKey } from "../storage/EventStore";
import type { StreamIndex, StreamInfo } from "../streams/StreamIndex";
import type { PartitionAssignmentSource } from "../network/PartitionAssignment";
import { EpochTracker } from "../network/EpochTracker";
import { BrokerMetrics } from "./metrics";
import { VerifierPool } from "../verifier/VerifierPool";
import type { GapNotice, Replicator } from "../replication/Replicator";
import type { Payments } from "../payments/Payments";

/** A delivered event; transports may cache their encoded message on it (built once, sent to all). */
export interface Delivery {
  event: SignedEvent;
  eventHash: Buffer;
  encoded?: Buffer;
}

/** A subscriber as the core sees it (a WebSocket session, a test double). */
export interface Subscriber {
  readonly address: string;
  deliver(delivery: Delivery): void;
  /** Access ended: the subscription is already removed; tell the client. */
  revoked(streamId: string, streamPartition: number, error: BrokerError): void;
}

export interface PreparedEvent {
  event: SignedEvent;
  hash: Buffer;
  started: bigint;
  networkPartition: number;
}

/** A resend's answer: the frames, and what the broker knows is missing from them. */
export interface ResendAnswer extends ResendResult {
  gaps: GapNotice[];
}

interface Subscription {
  subscriber: Subscriber;
  streamId: string;
  streamPartition: number;
  timer?: NodeJS.Timeout;
}

export interface BrokerNodeOptions {
  store: EventStore;
  streams: StreamIndex;
  access: AccessPolicy;
  assignment: PartitionAssignmentSource;
  epochs?: EpochTracker;
  metrics?: BrokerMetrics;
  logger?: Logger;
  /** Default 1 MiB. */
  maxContentBytes?: number;
  /** Default 30 s. */
  maxClockSkewMs?: number;
  /** Verify signatures on this pool of worker threads (else in the event loop). */
  verifier?: VerifierPool;
  /** How often the fail-closed sweep runs (ms). Default 1000. */
  accessSweepMs?: number;
  /**
   * When live subscribers get an event. "ordered" (default): as soon as it is verified and accepted
   * into its publisher's chain, while its group commit is still in flight. "durable": only after the
   * fdatasync. Either way the publisher is acknowledged only once the event is durable, resends and
   * history return only durable events, and checksums and durable-event listeners see durable events.
   */
  liveDelivery?: LiveDelivery;
  /** Replication within the partition (docs/network.md §13); without it the broker is the partition's only replica. */
  replicator?: Replicator;
  /** Per-event fees (docs/network.md §14); absent when publishing and delivery are free. */
  payments?: Payments;
}

export type LiveDelivery = "ordered" | "durable";

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Where a catch-up page continues: after byte position `after` of one stream partition's log on the serving broker. */
export interface SyncCursor {
  streamId: string;
  streamPartition: number;
  after: number;
}

export interface SyncQuery {
  networkPartition: number;
  fromTimestamp: number;
  toTimestamp?: number;
  maxEvents: number;
  cursor: SyncCursor | null;
  streamId?: string;
  streamPartition?: number;
  publisher?: string;
}

export class BrokerNode {
  readonly store: EventStore;
  readonly metrics: BrokerMetrics;
  readonly maxContentBytes: number;
  readonly maxClockSkewMs: number;
  readonly liveDelivery: LiveDelivery;
  private readonly subs = new Map<string, Set<Subscription>>();
  private readonly bySubscriber = new Map<Subscriber, Set<Subscription>>();
  private readonly unsubscribeGate: () => void;
  private readonly sweep: NodeJS.Timeout;
  /** Since when the gate has been stale (unix ms), for the recovery log; undefined while fresh. */
  private staleSince?: number;

  constructor(readonly options: BrokerNodeOptions) {
    this.store = options.store;
    this.metrics = options.metrics ?? new BrokerMetrics();
    this.maxContentBytes = options.maxContentBytes ?? 1024 * 1024;
    this.maxClockSkewMs = options.maxClockSkewMs ?? 30_000;
    this.liveDelivery = options.liveDelivery ?? "ordered";
    this.store.on("durable", (b: DurableBatch) => this.onDurable(b));
    this.unsubscribeGate = options.access.gate.onChange((c) => void this.recheck(c.streamId, c.address));
    this.sweep = setInterval(() => this.failClosedSweep(), options.accessSweepMs ?? 1000);
    this.sweep.unref();
    this.metrics.observeGate(() => options.access.freshness());
  }

  /** The access gate's freshness (docs/broker.md, "Staleness"): `/health`, metrics and the fail-closed sweep. */
  gateFreshness(now = Date.now()): GateFreshness {
    return this.options.access.freshness(now);
  }

  /**
   * Stream info, or UNKNOWN_STREAM. A stream missing from the index is looked up once more after
   * bringing the index to the chain's head (StreamIndex.sync), so a client that creates a stream and
   * uses it at once is not refused because the broker has not polled since.
   */
  async stream(streamId: string): Promise<StreamInfo> {
    const index = this.options.streams;
    let s = index.get(streamId);
    // Two syncs at most: the first may have been waiting already when this call came, the second starts after it.
    for (let i = 0; !s && index.sync && i < 2; i++) {
      await index.sync();
      s = index.get(streamId);
    }
    if (!s) throw new BrokerError(ErrorCodes.UNKNOWN_STREAM, `stream ${streamId} is not in the registry index`, { streamId });
    return s;
  }

  /** UNKNOWN_STREAM / INVALID_PARTITION / PARTITION_NOT_SERVED; returns the network partition. */
  async route(streamId: string, streamPartition: number): Promise<number> {
    return this.routeIn(this.options.streams.get(streamId) ?? (await this.stream(streamId)), streamId, streamPartition);
  }

  /**
   * route() without a promise when the stream is in the index (the per-event path: publish and
   * replication take no extra turn of the event loop); the on-demand lookup otherwise.
   */
  private routeNow(streamId: string, streamPartition: number): number | Promise<number> {
    const s = this.options.streams.get(streamId);
    return s ? this.routeIn(s, streamId, streamPartition) : this.route(streamId, streamPartition);
  }

  private routeIn(s: StreamInfo, streamId: string, streamPartition: number): number {
    if (!Number.isInteger(streamPartition) || streamPartition < 0 || streamPartition >= s.partitions) {
      throw new BrokerError(ErrorCodes.INVALID_PARTITION, `stream partition ${streamPartition} is outside 0..${s.partitions - 1}`, {
        streamId,
        streamPartition,
        partitions: s.partitions,
      });
    }
    const np = this.options.assignment.networkPartitionOf(streamId, streamPartition);
    if (!this.options.assignment.serves(np)) {
      throw new BrokerError(ErrorCodes.PARTITION_NOT_SERVED, `network partition ${np} is served by other brokers`, {
        streamId,
        streamPartition,
        networkPartition: np,
        brokers: this.options.assignment.brokersOf(np),
      });
    }
    return np;
  }

  /** The publish pipeline. Resolves with eventHash once durable; throws a BrokerError otherwise (nothing stored). */
  async publish(frame: Buffer): Promise<Buffer> {
    const prepared = await this.prepare(frame);
    return this.commit(prepared);
  }

  /**
   * Every check but the chain rules: decode, route, clock skew, publish permission, signature
   * (verified once per event, never per subscriber). A transport that pipelines publishes calls
   * commit() in arrival order, so a slow permission lookup cannot reorder a publisher's events.
   */
  async prepare(frame: Buffer): Promise<PreparedEvent> {
    const started = process.hrtime.bigint();
    try {
      const event = decodeFrame(frame, this.maxContentBytes);
      checkContent(event);
      const routed = this.routeNow(event.streamId, event.streamPartition);
      const networkPartition = typeof routed === "number" ? routed : await routed;
      const now = Date.now();
      if (Math.abs(event.timestamp - now) > this.maxClockSkewMs) {
        throw new BrokerError(
          ErrorCodes.TIMESTAMP_OUT_OF_RANGE,
          `timestamp ${event.timestamp} is more than ${this.maxClockSkewMs} ms from the broker's clock ${now}`,
          {
            timestamp: event.timestamp,
            now,
            maxClockSkewMs: this.maxClockSkewMs,
          },
        );
      }
      await this.options.access.checkPublish(event.streamId, event.publisher, now);
      await this.options.payments?.preparePublish(event.publisher);
      let hash: Buffer;
      try {
        hash = this.options.verifier ? await this.options.verifier.verify(event) : verifyEvent(event);
      } catch (err) {
        this.metrics.verificationFailures.inc();
        throw err;
      }
      return { event, hash, started, networkPartition };
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /**
   * Applies the chain rules and queues the event for the group commit; with liveDelivery "ordered"
   * delivers it to live subscribers right away, and forwards it to the partition's other replicas.
   * Resolves with eventHash once durable here and on w replicas (replication.acks). An identical
   * republish of a stored event is acknowledged again (after its replicas hold it) and not delivered twice.
   */
  async commit(p: PreparedEvent): Promise<Buffer> {
    const replicator = this.options.replicator;
    try {
      replicator?.checkAvailable(p.networkPartition);
      let admitted;
      try {
        // admit() applies the chain rules synchronously (a refusal throws here, nothing is queued
        // or delivered), so the order of delivery is the order of the log.
        this.options.payments?.checkPublish(p.event.publisher);
        admitted = this.store.admit(p.event, p.hash, "publish");
      } catch (err) {
        const details = (err as BrokerError).details ?? {};
        if (!replicator || (err as BrokerError).code !== ErrorCodes.PREVIOUS_EVENT_MISMATCH || details.missing !== true) throw err;
        // A continuation of events this broker does not hold (its publisher failed over from
        // another replica): fetch them from the partition's replicas first (docs/protocol.md §2).
        await replicator.fetchChain(
          p.networkPartition,
          p.event.streamId,
          p.event.streamPartition,
          p.event.publisher,
          Number(details.lastTimestamp ?? 0),
          p.event.timestamp,
        );
        this.options.payments?.checkPublish(p.event.publisher);
        admitted = this.store.admit(p.event, p.hash, "publish");
      }
      if (!admitted.duplicate) this.options.payments?.chargePublish(p.event.publisher);
      if (!admitted.duplicate && this.liveDelivery === "ordered") this.deliverLive(p.event, p.hash);
      const replicated = replicator?.forward(p.networkPartition, p.event);
      replicated?.catch(() => undefined);
      await admitted.durable;
      await replicated;
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
    this.metrics.publishLatency.observe(Number(process.hrtime.bigint() - p.started) / 1e9);
    return p.hash;
  }

  /**
   * An event another replica of the partition stored (live replication): decoded, routed to a
   * partition this broker serves, sent by one of its other assignees, and its signature verified
   * here. commitReplica() then stores it; the two are split as prepare() and commit() are.
   */
  async prepareReplica(frame: Buffer, from: string): Promise<PreparedEvent> {
    const started = process.hrtime.bigint();
    try {
      const event = decodeFrame(frame, this.maxContentBytes);
      checkContent(event); // the origin is another operator: its ingress checks are not trusted
      const routed = this.routeNow(event.streamId, event.streamPartition);
      const networkPartition = typeof routed === "number" ? routed : await routed;
      this.requirePeer(from, networkPartition);
      const hash = this.options.verifier ? await this.options.verifier.verify(event) : verifyEvent(event);
      return { event, hash, started, networkPartition };
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /** Stores a replicated event; resolves once durable, with whether it was held already. */
  async commitReplica(p: PreparedEvent): Promise<{ hash: Buffer; duplicate: boolean }> {
    try {
      const admitted = this.store.admit(p.event, p.hash, "replica");
      if (!admitted.duplicate && this.liveDelivery === "ordered") this.deliverLive(p.event, p.hash);
      await admitted.durable;
      return { hash: p.hash, duplicate: admitted.duplicate };
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /** Verifies and stores frames pulled from another replica (catch-up), in chain order; returns how many were new. */
  async ingestReplica(frames: Buffer[], networkPartition: number): Promise<number> {
    const events: { event: SignedEvent; hash: Buffer }[] = [];
    await Promise.all(
      frames.map(async (f) => {
        try {
          const event = decodeFrame(f, this.maxContentBytes);
          checkContent(event);
          if (this.options.assignment.networkPartitionOf(event.streamId, event.streamPartition) !== networkPartition) return;
          const hash = this.options.verifier ? await this.options.verifier.verify(event) : verifyEvent(event);
          events.push({ event, hash });
        } catch (err) {
          this.countRefusal(err);
        }
      }),
    );
    events.sort(
      (a, b) =>
        (a.event.streamId < b.event.streamId ? -1 : a.event.streamId > b.event.streamId ? 1 : 0) ||
        a.event.streamPartition - b.event.streamPartition ||
        (a.event.publisher < b.event.publisher ? -1 : a.event.publisher > b.event.publisher ? 1 : 0) ||
        a.event.sequenceNumber - b.event.sequenceNumber,
    );
    let added = 0;
    const durable: Promise<void>[] = [];
    for (const { event, hash } of events) {
      try {
        const admitted = this.store.admit(event, hash, "replica");
        if (!admitted.duplicate) added++;
        durable.push(admitted.durable);
      } catch (err) {
        this.countRefusal(err);
        this.options.logger?.debug({ err, publisher: event.publisher, sequenceNumber: event.sequenceNumber }, "a caught-up event was refused");
      }
    }
    await Promise.all(durable);
    return added;
  }

  private requirePeer(address: string, networkPartition: number): void {
    if (!this.options.replicator?.isPeer(address, networkPartition)) {
      throw new BrokerError(ErrorCodes.NOT_A_REPLICA, `${address} is not another assignee of network partition ${networkPartition}`, {
        address,
        networkPartition,
      });
    }
  }

  /**
   * One page of a catch-up for another replica (docs/protocol.md §10): durable events of network
   * partition `networkPartition` (or of one stream partition and publisher) with a timestamp in
   * [fromTimestamp, toTimestamp], from a cursor in this broker's logs.
   */
  async servePage(address: string, q: SyncQuery): Promise<{ frames: Buffer[]; next: SyncCursor | null }> {
    try {
      this.requirePeer(address, q.networkPartition);
      const a = this.options.assignment;
      const inPartition = (k: { streamId: string; streamPartition: number }) => a.networkPartitionOf(k.streamId, k.streamPartition) === q.networkPartition;
      // One stream partition, only if it is in the partition the peer shares with this broker.
      const keys =
        q.streamId !== undefined
          ? [{ streamId: q.streamId, streamPartition: q.streamPartition ?? 0 }].filter(inPartition)
          : this.store
              .keys()
              .filter((k) => a.networkPartitionOf(k.streamId, k.streamPartition) === q.networkPartition)
              .sort((x, y) => partitionKey(x.streamId, x.streamPartition).localeCompare(partitionKey(y.streamId, y.streamPartition)));
      const cursorKey = q.cursor ? partitionKey(q.cursor.streamId, q.cursor.streamPartition) : undefined;
      const frames: Buffer[] = [];
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i];
        const key = partitionKey(k.streamId, k.streamPartition);
        if (cursorKey && key < cursorKey) continue;
        const after = cursorKey === key ? q.cursor!.after : -1;
        const page = await this.store.readAfter(
          k.streamId,
          k.streamPartition,
          after,
          q.fromTimestamp,
          q.toTimestamp ?? Number.MAX_SAFE_INTEGER,
          q.maxEvents - frames.length,
          q.publisher,
        );
        frames.push(...page.frames);
        if (page.next !== null) return { frames, next: { streamId: k.streamId, streamPartition: k.streamPartition, after: page.next } };
        if (frames.length >= q.maxEvents) return { frames, next: i + 1 < keys.length ? { ...keys[i + 1], after: -1 } : null };
      }
      return { frames, next: null };
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /**
   * The tip of a publisher chain (docs/protocol.md §6.6): the publisher itself, a subscriber or
   * another replica may ask. With replication the broker first asks its peers and fetches what it
   * lacks, so that a publisher that lost its state continues from the partition's tip.
   */
  async chainTip(
    address: string,
    streamId: string,
    streamPartition: number,
    publisher: string,
  ): Promise<{ sequenceNumber: number; eventHash: string; timestamp: number } | null> {
    try {
      const np = await this.route(streamId, streamPartition);
      const replicator = this.options.replicator;
      const isPeer = replicator?.isPeer(address, np) ?? false;
      if (address !== publisher && !isPeer) await this.options.access.checkSubscribe(streamId, address);
      if (replicator && !isPeer)
        await replicator.syncChain(np, streamId, streamPartition, publisher, this.store.chainTip(streamId, streamPartition, publisher));
      return this.store.chainTip(streamId, streamPartition, publisher) ?? null;
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /** Sends one event to the live subscribers of its stream partition. */
  private deliverLive(event: SignedEvent, eventHash: Buffer): void {
    const subs = this.subs.get(partitionKey(event.streamId, event.streamPartition));
    if (!subs || subs.size === 0) return;
    const delivery: Delivery = { event, eventHash };
    const payments = this.options.payments;
    for (const s of subs) {
      // A subscriber whose vouchers fell behind is cut before the event, with the reason (PAYMENT_REQUIRED).
      if (payments && !payments.chargeDelivery(s.subscriber.address)) this.cut(s, payments.refusal(s.subscriber.address, "delivery"));
      else s.subscriber.deliver(delivery);
    }
    this.metrics.egressEvents.inc({ stream: event.streamId }, subs.size);
  }

  countRefusal(err: unknown): void {
    this.metrics.refused.inc({ code: isWireError(err) ? err.code : "INTERNAL" });
  }

  private readonly durableListeners = new Set<(d: Delivery) => void>();

  /**
   * Calls `listener` with every event once it is durable, in log order. For integrations
   * that act on events: delivery to smart-contract subscribers, mirrors, audits.
   */
  onDurableEvent(listener: (d: Delivery) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  private onDurable(batch: DurableBatch): void {
    this.metrics.groupCommits.inc();
    const label = { stream: batch.streamId };
    let bytes = 0;
    for (const e of batch.events) bytes += e.frame.length;
    this.metrics.ingressEvents.inc(label, batch.events.length);
    this.metrics.ingressBytes.inc(label, bytes);
    const epochs = this.options.epochs;
    if (epochs) {
      const np = this.options.assignment.networkPartitionOf(batch.streamId, batch.streamPartition);
      batch.events.forEach((e, i) => epochs.add(np, e.timestamp, batch.hashes[i]));
    }
    if (this.liveDelivery === "durable") {
      for (let i = 0; i < batch.events.length; i++) this.deliverLive(batch.events[i], batch.hashes[i]);
    }
    const listeners = this.durableListeners;
    if (listeners.size === 0) return;
    for (let i = 0; i < batch.events.length; i++) {
      const delivery: Delivery = { event: batch.events[i], eventHash: batch.hashes[i] };
      for (const l of listeners) {
        try {
          l(delivery);
        } catch (err) {
          this.options.logger?.warn({ err }, "a durable-event listener failed");
        }
      }
    }
  }

  /** Checks access and adds a live subscription. Idempotent per (subscriber, stream partition). */
  async subscribe(subscriber: Subscriber, streamId: string, streamPartition: number): Promise<void> {
    try {
      await this.route(streamId, streamPartition);
      const grant = await this.options.access.checkSubscribe(streamId, subscriber.address);
      await this.options.payments?.admitSubscriber(subscriber.address);
      const key = partitionKey(streamId, streamPartition);
      let set = this.subs.get(key);
      if (!set) this.subs.set(key, (set = new Set()));
      for (const s of set) if (s.subscriber === subscriber) return;
      const sub: Subscription = { subscriber, streamId, streamPartition };
      if (grant.endsAt !== undefined) this.armExpiry(sub, grant.endsAt);
      set.add(sub);
      let mine = this.bySubscriber.get(subscriber);
      if (!mine) this.bySubscriber.set(subscriber, (mine = new Set()));
      mine.add(sub);
      this.metrics.subscriptions.inc();
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  private armExpiry(sub: Subscription, endsAt: number): void {
    clearTimeout(sub.timer);
    sub.timer = setTimeout(() => void this.recheckOne(sub), Math.min(MAX_TIMER_MS, Math.max(0, endsAt - Date.now()) + 1));
    sub.timer.unref();
  }

  unsubscribe(subscriber: Subscriber, streamId: string, streamPartition: number): boolean {
    const set = this.subs.get(partitionKey(streamId, streamPartition));
    if (!set) return false;
    for (const s of set) {
      if (s.subscriber === subscriber) {
        this.remove(s);
        return true;
      }
    }
    return false;
  }

  /** Drops every subscription of a subscriber (connection closed). */
  removeSubscriber(subscriber: Subscriber): void {
    for (const s of [...(this.bySubscriber.get(subscriber) ?? [])]) this.remove(s);
    this.bySubscriber.delete(subscriber);
  }

  private remove(s: Subscription): void {
    clearTimeout(s.timer);
    const key = partitionKey(s.streamId, s.streamPartition);
    const set = this.subs.get(key);
    if (set?.delete(s)) this.metrics.subscriptions.dec();
    if (set && set.size === 0) this.subs.delete(key);
    this.bySubscriber.get(s.subscriber)?.delete(s);
  }

  subscriptionCount(): number {
    let n = 0;
    for (const set of this.subs.values()) n += set.size;
    return n;
  }

  /** Re-checks the subscriptions an access change may affect; cuts those no longer allowed. */
  async recheck(streamId?: string, address?: string): Promise<void> {
    const affected: Subscription[] = [];
    for (const set of this.subs.values()) {
      for (const s of set) {
        if (streamId && s.streamId !== streamId.toLowerCase()) continue;
        if (address && s.subscriber.address !== address.toLowerCase()) continue;
        affected.push(s);
      }
    }
    await Promise.all(affected.map((s) => this.recheckOne(s)));
  }

  private async recheckOne(s: Subscription): Promise<void> {
    try {
      const grant = await this.options.access.checkSubscribe(s.streamId, s.subscriber.address);
      if (grant.endsAt !== undefined && this.isLive(s)) this.armExpiry(s, grant.endsAt);
    } catch (err) {
      // Several changes (one transaction's events) re-check concurrently: cut and notify once.
      if (!this.isLive(s)) return;
      const cause = err as BrokerError;
      this.cut(
        s,
        cause.code === ErrorCodes.ACCESS_GATE_UNAVAILABLE
          ? cause
          : new BrokerError(ErrorCodes.ACCESS_REVOKED, `access to ${s.streamId} ended: ${cause.message}`, {
              streamId: s.streamId,
              streamPartition: s.streamPartition,
              cause: cause.code,
              ...(cause.details ?? {}),
            }),
      );
    }
  }

  private isLive(s: Subscription): boolean {
    return this.subs.get(partitionKey(s.streamId, s.streamPartition))?.has(s) ?? false;
  }

  private cut(s: Subscription, error: BrokerError): void {
    this.remove(s);
    this.options.logger?.info({ streamId: s.streamId, subscriber: s.subscriber.address, code: error.code }, "subscription cut");
    s.subscriber.revoked(s.streamId, s.streamPartition, error);
  }

  /**
   * Fail closed: when the gate is stale beyond its bound, every live subscription is cut. The moment
   * it goes stale is logged once at warn (which source, how long, its last error), and the moment it
   * is fresh again at info, with how long it was stale.
   */
  private failClosedSweep(): void {
    try {
      this.options.access.assertFresh();
      if (this.staleSince !== undefined) {
        const staleForMs = Date.now() - this.staleSince;
        this.staleSince = undefined;
        this.options.logger?.info(
          { staleForMs, gate: this.gateFreshness() },
          `access gate recovered after ${(staleForMs / 1000).toFixed(1)} s: publish, subscribe and resend are served again`,
        );
      }
    } catch (err) {
      if (this.staleSince === undefined) {
        this.staleSince = Date.now();
        const gate = this.gateFreshness();
        const age = (source: { ageMs: number | null; error?: string }) =>
          `${source.ageMs === null ? "never reached" : `last reached ${(source.ageMs / 1000).toFixed(1)} s ago`}${source.error ? ` (${source.error})` : ""}`;
        const which =
          [
            gate.chain?.stale ? `the chain is unreachable: ${age(gate.chain)}` : "",
            gate.consentLedger?.stale ? `the consent ledger is unreachable: ${age(gate.consentLedger)}` : "",
          ]
            .filter(Boolean)
            .join("; ") || `the gate ${age(gate)}`;
        this.options.logger?.warn(
          { gate, subscriptions: this.subscriptionCount() },
          `access gate stale (bound ${gate.maxStalenessMs} ms): ${which}; refusing publish, subscribe and resend with ACCESS_GATE_UNAVAILABLE and cutting live subscriptions until it recovers`,
        );
      }
      for (const set of [...this.subs.values()]) for (const s of [...set]) this.cut(s, err as BrokerError);
    }
  }

  /**
   * Checks access and reads a resend. With replication, it waits (bounded) for the partition's
   * catch-up and hole fills, and says in `gaps` what it knows is still missing (never silently).
   */
  async resend(address: string, streamId: string, streamPartition: number, query: ResendQuery): Promise<ResendAnswer> {
    try {
      const np = await this.route(streamId, streamPartition);
      await this.options.access.checkSubscribe(streamId, address);
      const started = process.hrtime.bigint();
      const from = query.type === "last" ? 0 : query.fromTimestamp;
      const to = query.type === "range" ? query.toTimestamp : Number.MAX_SAFE_INTEGER;
      const gaps = this.options.replicator ? await this.options.replicator.settle(np, streamId, streamPartition, from, to, query.publisher) : [];
      const result = { ...(await this.store.resend(streamId, streamPartition, query)), gaps };
      this.metrics.resendQueries.inc({ type: query.type });
      this.metrics.resendLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
      this.metrics.egressEvents.inc({ stream: streamId }, result.frames.length);
      return result;
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.options.replicator?.close();
    clearInterval(this.sweep);
    this.unsubscribeGate();
    for (const set of this.subs.values()) for (const s of set) clearTimeout(s.timer);
    await this.store.close();
    await this.options.verifier?.close();
  }
}
