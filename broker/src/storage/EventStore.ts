// The broker's durable event store: one PartitionLog per stream partition, the publisher-chain
// rules (sequence numbers, previous-event hashes), group commit (one fdatasync per dirty log per
// batch; a publish is acknowledged only after its batch is durable), resend queries and retention.

import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import { join } from "node:path";
import { BrokerError, ErrorCodes } from "../errors";
import type { ResendCursor, ResendQuery } from "@datamarket/protocol";
import type { SignedEvent } from "../wire";
import { PartitionLog, fillHole, RECENT_PER_CHAIN, type ChainState, type Hole } from "./PartitionLog";

export type { Hole } from "./PartitionLog";

/** How an event reaches the store: from its publisher, or from another replica of the partition. */
export type AdmitMode = "publish" | "replica";

export interface Admitted {
  /** The broker already held this very event (same eventHash): nothing was stored again. */
  duplicate: boolean;
  /** Resolves once the event (or the copy already held) is durable. */
  durable: Promise<void>;
}

export interface RetentionPolicy {
  /** Drop segments whose newest event is older than this (ms). */
  maxAgeMs?: number;
  /** Drop the oldest segments while a partition's log exceeds this many bytes. */
  maxBytesPerPartition?: number;
}

export interface EventStoreOptions {
  dataDir: string;
  /** Segment size before rolling to a new file (bytes). Default 64 MiB. */
  segmentBytes?: number;
  retention?: RetentionPolicy;
  /** Most events one resend returns. Default 100,000. */
  maxResendEvents?: number;
  /**
   * Under load, the least time between the starts of two group commits (ms), so that one fdatasync
   * covers more events (cf. PostgreSQL's commit_delay). It applies only while the previous group
   * commit carried more than one event: a lone publisher's events are synced at once. Default 2.
   */
  commitDelayMs?: number;
}

export type { ResendCursor, ResendQuery };

export interface ResendResult {
  frames: Buffer[];
  /** True when more events matched than maxResendEvents (docs/protocol.md §6.4). */
  truncated: boolean;
  /**
   * For a truncated `from`/`range` answer: the cursor of its last event in resend order; the same
   * query with `after: next` continues exactly after it. Null otherwise.
   */
  next: ResendCursor | null;
}

/** The resend-order key of a frame: (timestamp, sequenceNumber, publisher), at their fixed offsets (docs/protocol.md §1.1). */
export function cursorOf(frame: Buffer): Required<ResendCursor> {
  return {
    timestamp: frame.readUInt32BE(37) * 0x100000000 + frame.readUInt32BE(41),
    sequenceNumber: frame.readUInt32BE(45) * 0x100000000 + frame.readUInt32BE(49),
    publisher: "0x" + frame.toString("hex", 85, 105),
  };
}

/** Compares two positions in resend order; a cursor without publisher is after every publisher at its (timestamp, sequenceNumber). */
export function compareCursors(a: ResendCursor, b: ResendCursor): number {
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  if (a.sequenceNumber !== b.sequenceNumber) return a.sequenceNumber - b.sequenceNumber;
  if (a.publisher === b.publisher) return 0;
  if (a.publisher === undefined) return 1;
  if (b.publisher === undefined) return -1;
  return a.publisher < b.publisher ? -1 : 1;
}

/** Emitted as "durable" after each group commit, per stream partition, in log order. */
export interface DurableBatch {
  key: string;
  streamId: string;
  streamPartition: number;
  events: SignedEvent[];
  hashes: Buffer[];
}

interface Pending {
  log: PartitionLog;
  key: string;
  streamId: string;
  streamPartition: number;
  events: SignedEvent[];
  hashes: Buffer[];
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

const ZERO_HASH = "0x" + "00".repeat(32);

function partitionKeyOf(log: PartitionLog): string {
  return log.dir.slice(log.dir.lastIndexOf("/") + 1);
}

function partitionStreamId(log: PartitionLog): string {
  return "0x" + partitionKeyOf(log).split("-")[0];
}

export function partitionKey(streamId: string, streamPartition: number): string {
  return `${streamId.slice(2)}-${streamPartition}`;
}

export class EventStore extends EventEmitter {
  private readonly logs = new Map<string, PartitionLog>();
  private pending = new Map<string, Pending>();
  /** Resends waiting for the group commit in progress (woken after each commit, failed or not). */
  private commitWaiters: (() => void)[] = [];
  private flushing = false;
  private flushScheduled = false;
  private failure: Error | undefined;
  private closed = false;
  private resendsInFlight = 0;
  readonly segmentBytes: number;
  readonly maxResendEvents: number;
  readonly commitDelayMs: number;
  /** When the last group commit started (performance.now()) and how many events it carried. */
  private lastCommit = { at: 0, events: 0 };
  /** Group-commit statistics: batches, fdatasync calls, and commits held back by commitDelayMs (`delayed`). */
  readonly stats = { batches: 0, syncs: 0, events: 0, delayed: 0, recovered: 0, truncatedBytes: 0 };

  constructor(readonly options: EventStoreOptions) {
    super();
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.maxResendEvents = options.maxResendEvents ?? 100_000;
    this.commitDelayMs = options.commitDelayMs ?? 2;
  }

  /** Recovers every partition log under dataDir. onRecord sees every intact record (for checksums, indexes). */
  open(onRecord?: (streamId: string, streamPartition: number, frame: Buffer, timestamp: number) => void): void {
    const dir = join(this.options.dataDir, "partitions");
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir)) {
      const m = /^([0-9a-f]{64})-(\d+)$/.exec(name);
      if (!m) continue;
      const streamId = "0x" + m[1];
      const streamPartition = Number(m[2]);
      const log = new PartitionLog(join(dir, name), this.segmentBytes);
      log.open((r) => {
        this.stats.recovered++;
        onRecord?.(streamId, streamPartition, r.frame, r.timestamp);
      });
      this.stats.truncatedBytes += log.truncatedBytes;
      this.logs.set(name, log);
    }
  }

  private logFor(streamId: string, streamPartition: number): PartitionLog {
    const key = partitionKey(streamId, streamPartition);
    let log = this.logs.get(key);
    if (!log) {
      log = new PartitionLog(join(this.options.dataDir, "partitions", key), this.segmentBytes);
      log.open(() => undefined);
      this.logs.set(key, log);
    }
    return log;
  }

  /**
   * Applies the chain rules and queues the event for the next group commit. Resolves once the
   * event is durable. Refusals throw synchronously (nothing is stored). `hash` is eventHash.
   * An identical republish of a stored event resolves too (idempotent, nothing stored twice).
   */
  append(event: SignedEvent, hash: Buffer): Promise<void> {
    return this.admit(event, hash).durable;
  }

  /**
   * The chain rules of docs/protocol.md §2, applied synchronously (a refusal throws, nothing is
   * queued). `mode` "publish" is a publisher's own event; "replica" an event another replica of the
   * partition stored (live replication or catch-up), which may fill a hole or open one.
   * - an event the broker already holds (same eventHash) is a `duplicate`: nothing is stored, and
   *   `durable` resolves once the stored copy is durable;
   * - otherwise the event is queued for the next group commit; `durable` resolves once it is.
   */
  admit(event: SignedEvent, hash: Buffer, mode: AdmitMode = "publish"): Admitted {
    if (this.closed) throw new BrokerError(ErrorCodes.SHUTTING_DOWN, "the store is closed");
    if (this.failure) throw new BrokerError(ErrorCodes.STORAGE_FAILURE, `storage failed earlier: ${this.failure.message}`);
    const log = this.logFor(event.streamId, event.streamPartition);
    const key = partitionKey(event.streamId, event.streamPartition);
    const chain = log.chains.get(event.publisher);
    const seq = event.sequenceNumber;
    const prev = event.previousEventHash;
    const duplicate = (): Admitted => ({ duplicate: true, durable: this.whenDurable(key, log) });
    if (chain) {
      // The common case (above the tip) searches nothing.
      const known = seq <= chain.sequenceNumber ? chain.recent.find((r) => r.sequenceNumber === seq) : undefined;
      if (known) {
        if (known.eventHash.equals(hash)) return duplicate();
        throw new BrokerError(ErrorCodes.DUPLICATE_SEQUENCE, `sequence number ${seq} is already stored for this publisher, with another event`, {
          publisher: event.publisher,
          sequenceNumber: seq,
          lastSequenceNumber: chain.sequenceNumber,
          storedEventHash: "0x" + known.eventHash.toString("hex"),
        });
      }
      const holes = log.holes.get(event.publisher);
      const hole = holes?.find((h) => seq > h.afterSequence && seq < h.beforeSequence);
      if (hole) {
        // Fills (part of) a hole: the events of a chain a replica missed, in chain order.
        if (mode === "publish" && hole.afterHash !== null && prev !== hole.afterHash) {
          throw new BrokerError(ErrorCodes.PREVIOUS_EVENT_MISMATCH, "previousEventHash is not the hash of the stored event before this sequence number", {
            publisher: event.publisher,
            previousEventHash: prev,
            expected: hole.afterHash,
          });
        }
        if (fillHole(holes!, hole, event.frame, seq, event.timestamp, hash)) {
          if (holes!.length === 0) log.holes.delete(event.publisher);
          log.saveHoles();
        }
        this.remember(chain, seq, hash);
        return { duplicate: false, durable: this.queue(log, key, event, hash) };
      }
      if (seq < chain.first.sequenceNumber && mode === "replica") {
        // Older than anything this replica held of the chain (it joined or restarted after the
        // chain began): insert it below, with a hole when it does not link to the first event.
        const first = chain.first;
        if ("0x" + hash.toString("hex") !== first.previous) {
          this.openHole(log, {
            publisher: event.publisher,
            afterSequence: seq,
            afterHash: "0x" + hash.toString("hex"),
            afterTimestamp: event.timestamp,
            beforeSequence: first.sequenceNumber,
            beforePrevious: first.previous,
            beforeTimestamp: first.timestamp,
          });
        }
        chain.first = { sequenceNumber: seq, previous: prev, timestamp: event.timestamp };
        return { duplicate: false, durable: this.queue(log, key, event, hash) };
      }
      if (seq <= chain.sequenceNumber) {
        // Below the tip, not in a hole, not among the recent events: a replica already holds it
        // (catch-up overlaps what live replication brought); a publisher is out of order.
        if (mode === "replica") return duplicate();
        if (seq === chain.sequenceNumber) {
          throw new BrokerError(ErrorCodes.DUPLICATE_SEQUENCE, `sequence number ${seq} is already stored for this publisher, with another event`, {
            publisher: event.publisher,
            sequenceNumber: seq,
            lastSequenceNumber: chain.sequenceNumber,
            storedEventHash: "0x" + chain.eventHash.toString("hex"),
          });
        }
        throw new BrokerError(ErrorCodes.OUT_OF_ORDER_SEQUENCE, `sequence number ${seq} is below the last stored ${chain.sequenceNumber}`, {
          publisher: event.publisher,
          sequenceNumber: seq,
          lastSequenceNumber: chain.sequenceNumber,
        });
      }
      const tipHash = "0x" + chain.eventHash.toString("hex");
      if (prev !== ZERO_HASH && prev !== tipHash) {
        const forked = chain.recent.some((r) => "0x" + r.eventHash.toString("hex") === prev);
        if (mode === "publish" || forked) {
          // A continuation of an event the broker holds that is not the tip is a fork; one of an
          // event it does not hold is refused until the broker has fetched it (BrokerNode).
          throw new BrokerError(ErrorCodes.PREVIOUS_EVENT_MISMATCH, "previousEventHash is not the hash of the publisher's last stored event", {
            publisher: event.publisher,
            previousEventHash: prev,
            expected: tipHash,
            lastSequenceNumber: chain.sequenceNumber,
            lastTimestamp: chain.timestamp,
            missing: !forked,
          });
        }
        this.openHole(log, {
          publisher: event.publisher,
          afterSequence: chain.sequenceNumber,
          afterHash: tipHash,
          afterTimestamp: chain.timestamp,
          beforeSequence: seq,
          beforePrevious: prev,
          beforeTimestamp: event.timestamp,
        });
      }
      chain.sequenceNumber = seq;
      chain.eventHash = hash;
      chain.timestamp = event.timestamp;
      this.remember(chain, seq, hash);
    } else {
      log.chains.set(event.publisher, {
        sequenceNumber: seq,
        eventHash: hash,
        timestamp: event.timestamp,
        recent: [{ sequenceNumber: seq, eventHash: hash }],
        first: { sequenceNumber: seq, previous: prev, timestamp: event.timestamp },
      });
    }
    return { duplicate: false, durable: this.queue(log, key, event, hash) };
  }

  private remember(chain: ChainState, sequenceNumber: number, eventHash: Buffer): void {
    chain.recent.push({ sequenceNumber, eventHash });
    if (chain.recent.length > RECENT_PER_CHAIN) chain.recent.shift();
  }

  private openHole(log: PartitionLog, hole: Hole): void {
    let list = log.holes.get(hole.publisher);
    if (!list) log.holes.set(hole.publisher, (list = []));
    list.push(hole);
    list.sort((a, b) => a.afterSequence - b.afterSequence);
    log.saveHoles();
    this.emit("hole", { streamId: partitionStreamId(log), key: partitionKeyOf(log), hole });
  }

  private queue(log: PartitionLog, key: string, event: SignedEvent, hash: Buffer): Promise<void> {
    let p = this.pending.get(key);
    if (!p) {
      p = { log, key, streamId: event.streamId, streamPartition: event.streamPartition, events: [], hashes: [], waiters: [] };
      this.pending.set(key, p);
    }
    p.events.push(event);
    p.hashes.push(hash);
    const done = new Promise<void>((resolve, reject) => p!.waiters.push({ resolve, reject }));
    this.scheduleFlush();
    return done;
  }

  /** Resolves once every event accepted into the partition so far is durable. */
  private async whenDurable(key: string, log: PartitionLog): Promise<void> {
    const accepted = log.count + (this.pending.get(key)?.events.length ?? 0);
    while (log.durableCount < accepted && !this.failure && !this.closed) {
      await new Promise<void>((resolve) => this.commitWaiters.push(resolve));
    }
    if (this.failure) throw new BrokerError(ErrorCodes.STORAGE_FAILURE, `storage failed: ${this.failure.message}`);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    const go = () => {
      this.flushScheduled = false;
      void this.flush();
    };
    const wait = this.lastCommit.events > 1 ? this.lastCommit.at + this.commitDelayMs - performance.now() : 0;
    if (wait > 0) {
      this.stats.delayed++;
      setTimeout(go, wait);
    } else {
      // One turn later, so that the deliveries and acknowledgements written at the end of this turn
      // leave before the commit's write and fdatasync submission (tens of µs, at times milliseconds).
      setImmediate(() => setImmediate(go));
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.pending.size === 0) return;
    this.flushing = true;
    const batch = [...this.pending.values()];
    let events = 0;
    for (const p of batch) events += p.events.length;
    this.lastCommit = { at: performance.now(), events };
    this.pending = new Map();
    try {
      for (const p of batch)
        p.log.write(
          p.events.map((e) => e.frame),
          p.events.map((e) => e.timestamp),
        );
      const written = batch.map((p) => p.log.count);
      await Promise.all(batch.map((p) => p.log.sync()));
      batch.forEach((p, i) => (p.log.durableCount = written[i]));
      this.stats.batches++;
      this.stats.syncs += batch.length;
      for (const p of batch) {
        this.stats.events += p.events.length;
        for (const w of p.waiters) w.resolve();
        const durable: DurableBatch = { key: p.key, streamId: p.streamId, streamPartition: p.streamPartition, events: p.events, hashes: p.hashes };
        this.emit("durable", durable);
      }
    } catch (err) {
      // A failed write or fdatasync leaves the file in an unknown state (cf. PostgreSQL's fsync
      // panic): refuse everything from now on; recovery on restart truncates any torn record.
      this.failure = err as Error;
      const error = new BrokerError(ErrorCodes.STORAGE_FAILURE, `could not make the event durable: ${(err as Error).message}`);
      for (const p of [...batch, ...this.pending.values()]) for (const w of p.waiters) w.reject(error);
      this.pending = new Map();
      this.emit("failure", err);
    } finally {
      this.flushing = false;
      const waiters = this.commitWaiters;
      this.commitWaiters = [];
      for (const wake of waiters) wake();
    }
    if (this.pending.size > 0) this.scheduleFlush();
  }

  /** Waits until everything queued is durable. */
  async drain(): Promise<void> {
    while (this.pending.size > 0 || this.flushing || this.flushScheduled) {
      await new Promise((r) => setImmediate(r));
    }
  }

  count(streamId: string, streamPartition: number): number {
    return this.logs.get(partitionKey(streamId, streamPartition))?.count ?? 0;
  }

  lastOfChain(streamId: string, streamPartition: number, publisher: string) {
    return this.logs.get(partitionKey(streamId, streamPartition))?.chains.get(publisher);
  }

  /** The tip of a publisher chain: its highest stored sequence number, that event's hash and timestamp. */
  chainTip(streamId: string, streamPartition: number, publisher: string): { sequenceNumber: number; eventHash: string; timestamp: number } | undefined {
    const c = this.logs.get(partitionKey(streamId, streamPartition))?.chains.get(publisher.toLowerCase());
    return c && { sequenceNumber: c.sequenceNumber, eventHash: "0x" + c.eventHash.toString("hex"), timestamp: c.timestamp };
  }

  /** The open holes of a stream partition's chains (of one publisher when given). */
  holesOf(streamId: string, streamPartition: number, publisher?: string): Hole[] {
    const log = this.logs.get(partitionKey(streamId, streamPartition));
    if (!log) return [];
    if (publisher) return [...(log.holes.get(publisher.toLowerCase()) ?? [])];
    return [...log.holes.values()].flat();
  }

  /**
   * A page of durable events of a stream partition stored after byte position `after` of this
   * broker's log (-1: from the start) with a timestamp in [from, to], oldest first, at most `max`:
   * what a replica catching up reads. `next` is the position to continue after, null when done.
   */
  async readAfter(
    streamId: string,
    streamPartition: number,
    after: number,
    from: number,
    to: number,
    max: number,
    publisher?: string,
  ): Promise<{ frames: Buffer[]; next: number | null }> {
    const key = partitionKey(streamId, streamPartition);
    const log = this.logs.get(key);
    if (!log) return { frames: [], next: null };
    await this.whenDurable(key, log).catch(() => undefined);
    const n = log.durableCount;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log.positions[mid] > after) hi = mid;
      else lo = mid + 1;
    }
    const picked: number[] = [];
    let i = lo;
    for (; i < n && picked.length < max; i++) if (log.timestamps[i] >= from && log.timestamps[i] <= to) picked.push(i);
    const who = publisher ? Buffer.from(publisher.slice(2), "hex") : undefined;
    const frames: Buffer[] = [];
    // Contiguous runs of picked records are read with one positioned read each.
    let start = 0;
    for (let k = 1; k <= picked.length; k++) {
      if (k < picked.length && picked[k] === picked[k - 1] + 1) continue;
      for (const f of await log.read(picked[start], picked[k - 1] + 1)) if (!who || f.subarray(85, 105).equals(who)) frames.push(f);
      start = k;
    }
    return { frames, next: i < n ? log.positions[i - 1] : null };
  }

  /** The stream partitions this store holds a log for. */
  keys(): { streamId: string; streamPartition: number }[] {
    return [...this.logs.keys()].map((key) => {
      const [id, part] = key.split("-");
      return { streamId: "0x" + id, streamPartition: Number(part) };
    });
  }

  /** Durable events of a stream partition matching the query, oldest first. */
  async resend(streamId: string, streamPartition: number, query: ResendQuery): Promise<ResendResult> {
    const key = partitionKey(streamId, streamPartition);
    const log = this.logs.get(key);
    if (!log) return { frames: [], truncated: false, next: null };
    this.resendsInFlight++;
    try {
      // Events accepted before this request may already have been delivered live (liveDelivery
      // "ordered") while their group commit runs: wait for it, so that a subscriber filling a gap
      // finds them. A resend never returns an event that is not durable.
      await this.whenDurable(key, log).catch(() => undefined);
      if (log.durableCount === 0) return { frames: [], truncated: false, next: null };
      return query.type === "last" ? await this.resendLast(log, query.count, query.publisher) : await this.resendFrom(log, query);
    } finally {
      this.resendsInFlight--;
    }
  }

  /** The last `count` durable events (of `publisher`), at most maxResendEvents, in storage order. */
  private async resendLast(log: PartitionLog, count: number, publisher?: string): Promise<ResendResult> {
    const n = log.durableCount;
    const want = Math.min(count, this.maxResendEvents);
    if (!publisher) return { frames: await log.read(Math.max(0, n - want), n), truncated: count > this.maxResendEvents && n > want, next: null };
    // One publisher's: read backwards in chunks until `want` (and one more, to tell truncation) are found.
    const who = Buffer.from(publisher.slice(2), "hex");
    const picked: Buffer[] = [];
    for (let end = n; end > 0 && picked.length <= want;) {
      const start = Math.max(0, end - 4096);
      const frames = await log.read(start, end);
      for (let j = frames.length - 1; j >= 0 && picked.length <= want; j--) if (frames[j].subarray(85, 105).equals(who)) picked.push(frames[j]);
      end = start;
    }
    const truncated = picked.length > want;
    return { frames: picked.slice(0, want).reverse(), truncated: truncated && count > want, next: null };
  }

  /**
   * `from` / `range`: the durable events with a timestamp in range (of `publisher`, after the cursor
   * `after`), sent in storage order. When more than maxResendEvents match, the answer is the first
   * maxResendEvents in resend order (timestamp, sequenceNumber, publisher) and `next` is the cursor of
   * its last, so that `after: next` continues without repeating or skipping an event, even among
   * more events at one timestamp than one answer holds.
   */
  private async resendFrom(log: PartitionLog, query: Extract<ResendQuery, { type: "from" | "range" }>): Promise<ResendResult> {
    // Only durable records: a record written but not yet fdatasync'ed is not returned.
    const n = log.durableCount;
    const max = this.maxResendEvents;
    const to = query.type === "range" ? query.toTimestamp : Number.MAX_SAFE_INTEGER;
    const lower = Math.max(query.fromTimestamp, query.after?.timestamp ?? 0);
    const publisher = query.publisher ? Buffer.from(query.publisher.slice(2), "hex") : undefined;
    const after = query.after;
    // Arrival order is not timestamp order across publishers: every record is matched by timestamp.
    const ts = log.timestamps;
    const candidates: number[] = [];
    for (let i = 0; i < n; i++) if (ts[i] >= lower && ts[i] <= to) candidates.push(i);
    const kept: { index: number; frame: Buffer; key: Required<ResendCursor> }[] = [];
    /** Reads the candidates with a timestamp in (above, upTo], in runs of consecutive records. */
    const readBetween = async (above: number, upTo: number) => {
      let runStart = -1;
      let runEnd = -1;
      const flush = async () => {
        if (runStart < 0) return;
        const frames = await log.read(runStart, runEnd + 1);
        for (let k = 0; k < frames.length; k++) {
          const index = runStart + k;
          if (ts[index] <= above || ts[index] > upTo) continue;
          const frame = frames[k];
          if (publisher && !frame.subarray(85, 105).equals(publisher)) continue;
          const key = cursorOf(frame);
          if (after && compareCursors(key, after) <= 0) continue;
          kept.push({ index, frame, key });
        }
        runStart = -1;
      };
      for (const i of candidates) {
        if (ts[i] <= above || ts[i] > upTo) continue;
        if (runStart >= 0 && i === runEnd + 1) runEnd = i;
        else {
          await flush();
          runStart = runEnd = i;
        }
      }
      await flush();
    };
    if (candidates.length <= max) {
      await readBetween(-Infinity, Infinity);
    } else {
      // Read the candidates by rising timestamp, a whole timestamp at a time, until more than `max`
      // match: every event not read then comes after every event read, in resend order.
      const sorted = Float64Array.from(candidates, (i) => ts[i]).sort();
      let readUpTo = -Infinity;
      for (let k = max + 1; ; k = Math.min(sorted.length, 2 * k)) {
        const upTo = sorted[Math.min(k, sorted.length) - 1];
        await readBetween(readUpTo, upTo);
        readUpTo = upTo;
        if (kept.length > max || upTo === sorted[sorted.length - 1]) break;
      }
    }
    kept.sort((x, y) => compareCursors(x.key, y.key));
    const truncated = kept.length > max;
    const answer = truncated ? kept.slice(0, max) : kept;
    const next = truncated ? answer[answer.length - 1].key : null;
    answer.sort((x, y) => x.index - y.index);
    return { frames: answer.map((e) => e.frame), truncated, next };
  }

  /** Applies the retention policy to every partition; returns the number of records dropped. */
  applyRetention(nowMs = Date.now()): number {
    const r = this.options.retention;
    if (!r || (r.maxAgeMs === undefined && r.maxBytesPerPartition === undefined)) return 0;
    // Index positions must not shift under a flush or a resend in progress; the next run catches up.
    if (this.flushing || this.resendsInFlight > 0) return 0;
    let dropped = 0;
    for (const log of this.logs.values()) dropped += log.applyRetention(nowMs, r.maxAgeMs, r.maxBytesPerPartition);
    return dropped;
  }

  partitions(): { streamId: string; streamPartition: number; events: number; bytes: number }[] {
    return [...this.logs.entries()].map(([key, log]) => {
      const [id, part] = key.split("-");
      return { streamId: "0x" + id, streamPartition: Number(part), events: log.count, bytes: log.bytes };
    });
  }

  /** Flushes what is queued and closes every file. */
  async close(): Promise<void> {
    await this.drain();
    this.closed = true;
    for (const log of this.logs.values()) log.close();
  }
}
