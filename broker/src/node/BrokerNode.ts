// The broker's core, independent of transport: the publish pipeline (decode, route, check,
// verify once, order, store durably), live delivery (once ordered, or once durable), subscriptions
// with access re-checks on revocation / licence expiry / gate staleness, resend, and epoch checksums.

import type { Logger } from "pino";
import { BrokerError, ErrorCodes } from "../errors";
import { AccessPolicy } from "../access/AccessPolicy";
import { decodeFrame, verifyEvent, SignedEvent } from "../protocol/event";
import { checkContent } from "../protocol/content";
import { EventStore, DurableBatch, ResendQuery, ResendResult, partitionKey } from "../storage/EventStore";
import type { StreamIndex, StreamInfo } from "../streams/StreamIndex";
import type { PartitionAssignmentSource } from "../network/PartitionAssignment";
import { EpochTracker } from "../network/EpochTracker";
import { BrokerMetrics } from "./metrics";
import { VerifierPool } from "../protocol/VerifierPool";

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
}

export type LiveDelivery = "ordered" | "durable";

const MAX_TIMER_MS = 2 ** 31 - 1;

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
  }

  /** Stream info, or UNKNOWN_STREAM. */
  stream(streamId: string): StreamInfo {
    const s = this.options.streams.get(streamId);
    if (!s) throw new BrokerError(ErrorCodes.UNKNOWN_STREAM, `stream ${streamId} is not in the registry index`, { streamId });
    return s;
  }

  /** UNKNOWN_STREAM / INVALID_PARTITION / PARTITION_NOT_SERVED; returns the network partition. */
  route(streamId: string, streamPartition: number): number {
    const s = this.stream(streamId);
    if (!Number.isInteger(streamPartition) || streamPartition < 0 || streamPartition >= s.partitions) {
      throw new BrokerError(ErrorCodes.INVALID_PARTITION, `stream partition ${streamPartition} is outside 0..${s.partitions - 1}`, {
        streamId, streamPartition, partitions: s.partitions,
      });
    }
    const np = this.options.assignment.networkPartitionOf(streamId, streamPartition);
    if (!this.options.assignment.serves(np)) {
      throw new BrokerError(ErrorCodes.PARTITION_NOT_SERVED, `network partition ${np} is served by other brokers`, {
        streamId, streamPartition, networkPartition: np, brokers: this.options.assignment.brokersOf(np),
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
      this.route(event.streamId, event.streamPartition);
      const now = Date.now();
      if (Math.abs(event.timestamp - now) > this.maxClockSkewMs) {
        throw new BrokerError(ErrorCodes.TIMESTAMP_OUT_OF_RANGE, `timestamp ${event.timestamp} is more than ${this.maxClockSkewMs} ms from the broker's clock ${now}`, {
          timestamp: event.timestamp, now, maxClockSkewMs: this.maxClockSkewMs,
        });
      }
      await this.options.access.checkPublish(event.streamId, event.publisher, now);
      let hash: Buffer;
      try {
        hash = this.options.verifier ? await this.options.verifier.verify(event) : verifyEvent(event);
      } catch (err) {
        this.metrics.verificationFailures.inc();
        throw err;
      }
      return { event, hash, started };
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
  }

  /**
   * Applies the chain rules and queues the event for the group commit; with liveDelivery "ordered"
   * delivers it to live subscribers right away. Resolves with eventHash once durable.
   */
  async commit(p: PreparedEvent): Promise<Buffer> {
    try {
      // append() applies the chain rules synchronously (a refusal throws here, nothing is queued
      // or delivered), so the order of delivery is the order of the log.
      const durable = this.store.append(p.event, p.hash);
      if (this.liveDelivery === "ordered") this.deliverLive(p.event, p.hash);
      await durable;
    } catch (err) {
      this.countRefusal(err);
      throw err;
    }
    this.metrics.publishLatency.observe(Number(process.hrtime.bigint() - p.started) / 1e9);
    return p.hash;
  }

  /** Sends one event to the live subscribers of its stream partition. */
  private deliverLive(event: SignedEvent, eventHash: Buffer): void {
    const subs = this.subs.get(partitionKey(event.streamId, event.streamPartition));
    if (!subs || subs.size === 0) return;
    const delivery: Delivery = { event, eventHash };
    for (const s of subs) s.subscriber.deliver(delivery);
    this.metrics.egressEvents.inc({ stream: event.streamId }, subs.size);
  }

  countRefusal(err: unknown): void {
    this.metrics.refused.inc({ code: err instanceof BrokerError ? err.code : "INTERNAL" });
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
      this.route(streamId, streamPartition);
      const grant = await this.options.access.checkSubscribe(streamId, subscriber.address);
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
      this.cut(s, cause.code === ErrorCodes.ACCESS_GATE_UNAVAILABLE ? cause : new BrokerError(ErrorCodes.ACCESS_REVOKED, `access to ${s.streamId} ended: ${cause.message}`, {
        streamId: s.streamId, streamPartition: s.streamPartition, cause: cause.code, ...(cause.details ?? {}),
      }));
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

  /** Fail closed: when the gate is stale beyond its bound, every live subscription is cut. */
  private failClosedSweep(): void {
    try {
      this.options.access.assertFresh();
    } catch (err) {
      for (const set of [...this.subs.values()]) for (const s of [...set]) this.cut(s, err as BrokerError);
    }
  }

  /** Checks access and reads a resend. */
  async resend(address: string, streamId: string, streamPartition: number, query: ResendQuery): Promise<ResendResult> {
    try {
      this.route(streamId, streamPartition);
      await this.options.access.checkSubscribe(streamId, address);
      const started = process.hrtime.bigint();
      const result = await this.store.resend(streamId, streamPartition, query);
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
    clearInterval(this.sweep);
    this.unsubscribeGate();
    for (const set of this.subs.values()) for (const s of set) clearTimeout(s.timer);
    await this.store.close();
    await this.options.verifier?.close();
  }
}
