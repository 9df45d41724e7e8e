// One stream partition's append-only log: segment files of length-prefixed, CRC-checked records,
// an in-memory index (timestamp and position of every record) for resend, the publisher chains'
// last (sequenceNumber, eventHash) for the sequence rules, and retention by age or size.
//
// Record: u32 frameLength ‖ u32 crc32(frame) ‖ frame. Segment file name: 20-digit base offset.
// Recovery scans every segment and truncates a torn tail (a record cut short or failing its CRC),
// which can only hold events that were never acknowledged (acks follow fdatasync).

import * as fs from "node:fs";
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { keccak256 } from "../wire";

export const RECORD_HEADER = 8;

export interface Segment {
  base: number;
  size: number;
  path: string;
  /** Event timestamp of the newest record (for age retention). */
  newestTimestamp: number;
  readFd?: number;
}

export interface ChainState {
  /** The highest sequence number stored for the chain (its tip). */
  sequenceNumber: number;
  eventHash: Buffer;
  timestamp: number;
  /** The last few events stored for the chain (sequence number, eventHash), for idempotent republishes. */
  recent: { sequenceNumber: number; eventHash: Buffer }[];
  /** The lowest sequence number stored and the hash it links to (a replica may insert below it). */
  first: { sequenceNumber: number; previous: string; timestamp: number };
}

/** Events of a chain kept for idempotent republishes (docs/protocol.md §2). */
export const RECENT_PER_CHAIN = 64;

/**
 * A hole in a publisher chain: the broker holds the events up to `after` and the event `before`,
 * whose previousEventHash it does not hold. The events in between are fetched from the partition's
 * other replicas (catch-up); until then resends report the hole (docs/protocol.md §6.4).
 */
export interface Hole {
  /** Lowercase 0x publisher. */
  publisher: string;
  /** The last contiguous event below the hole: -1 / null when the chain's start is unknown. */
  afterSequence: number;
  afterHash: string | null;
  afterTimestamp: number;
  /** The event above the hole and the hash it links to. */
  beforeSequence: number;
  beforePrevious: string;
  beforeTimestamp: number;
}

export interface RecoveredRecord {
  frame: Buffer;
  timestamp: number;
}

export class PartitionLog {
  readonly segments: Segment[] = [];
  /** Index of records: parallel arrays, oldest first. */
  timestamps: number[] = [];
  positions: number[] = [];
  /** Byte offset where the next record goes (global across segments). */
  end = 0;
  /** Records known durable (fdatasync done); resend never reads past them. */
  durableCount = 0;
  /** Last stored event of each publisher chain, keyed by lowercase 0x publisher. */
  readonly chains = new Map<string, ChainState>();
  /** Open holes per publisher (rare: a replica that missed events; persisted in holes.json). */
  readonly holes = new Map<string, Hole[]>();
  private writeFd: number | undefined;
  truncatedBytes = 0;

  constructor(
    readonly dir: string,
    readonly segmentBytes: number,
  ) {}

  /** Opens (creating if needed) and recovers the log; calls onRecord for every intact record, oldest first. */
  open(onRecord: (r: RecoveredRecord) => void): void {
    if (fs.mkdirSync(this.dir, { recursive: true }) !== undefined) fsyncDir(dirname(this.dir)); // a new partition's directory entry must survive a crash too
    const names = fs
      .readdirSync(this.dir)
      .filter((n) => /^\d{20}\.log$/.test(n))
      .sort();
    const savedHoles = this.loadHoles();
    for (let s = 0; s < names.length; s++) {
      const path = join(this.dir, names[s]);
      const base = Number(names[s].slice(0, 20));
      const data = fs.readFileSync(path);
      let pos = 0;
      let newest = 0;
      const lastOfChain = new Map<string, { sequenceNumber: number; frame: Buffer; timestamp: number }>();
      const firstOfChain = new Map<string, { sequenceNumber: number; previous: string; timestamp: number }>();
      while (pos + RECORD_HEADER <= data.length) {
        const len = data.readUInt32BE(pos);
        const crc = data.readUInt32BE(pos + 4);
        if (pos + RECORD_HEADER + len > data.length) break;
        const frame = data.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + len);
        if (crc32(frame) !== crc) break;
        const timestamp = readTimestamp(frame);
        this.timestamps.push(timestamp);
        this.positions.push(base + pos);
        newest = timestamp;
        const publisher = frame.toString("hex", 85, 105);
        const sequenceNumber = readUint64(frame, 45);
        const last = lastOfChain.get(publisher);
        if (!last || sequenceNumber > last.sequenceNumber) lastOfChain.set(publisher, { sequenceNumber, frame, timestamp });
        const first = firstOfChain.get(publisher);
        if (!first || sequenceNumber < first.sequenceNumber)
          firstOfChain.set(publisher, { sequenceNumber, previous: "0x" + frame.toString("hex", 53, 85), timestamp });
        // Events that filled part of a hole after it was saved: replay them, in log order.
        const holes = savedHoles.get("0x" + publisher);
        const inHole = holes?.find((h) => sequenceNumber > h.afterSequence && sequenceNumber < h.beforeSequence);
        if (inHole) fillHole(holes!, inHole, frame, sequenceNumber, timestamp);
        onRecord({ frame, timestamp });
        pos += RECORD_HEADER + len;
      }
      for (const [publisher, last] of lastOfChain) {
        const known = this.chains.get("0x" + publisher);
        const first = firstOfChain.get(publisher)!;
        if (known && first.sequenceNumber < known.first.sequenceNumber) known.first = first;
        if (known && known.sequenceNumber >= last.sequenceNumber) continue;
        const eventHash = keccak256(last.frame.subarray(0, last.frame.length - 66));
        this.chains.set("0x" + publisher, {
          sequenceNumber: last.sequenceNumber,
          eventHash,
          timestamp: last.timestamp,
          recent: [{ sequenceNumber: last.sequenceNumber, eventHash }],
          first: known && known.first.sequenceNumber < first.sequenceNumber ? known.first : first,
        });
      }
      if (pos < data.length) {
        // Torn or corrupt tail: nothing after it was acknowledged. Drop it and any later segment.
        this.truncatedBytes += data.length - pos;
        fs.truncateSync(path, pos);
        for (const later of names.slice(s + 1)) {
          this.truncatedBytes += fs.statSync(join(this.dir, later)).size;
          fs.unlinkSync(join(this.dir, later));
        }
        names.length = s + 1;
      }
      this.segments.push({ base, size: pos, path, newestTimestamp: newest });
      this.end = base + pos;
    }
    this.durableCount = this.timestamps.length;
    // A hole whose upper event did not survive (a torn tail) does not exist.
    for (const [publisher, holes] of savedHoles) {
      const tip = this.chains.get(publisher)?.sequenceNumber ?? -1;
      const kept = holes.filter((h) => h.beforeSequence <= tip);
      if (kept.length > 0) this.holes.set(publisher, kept);
    }
    if (this.segments.length === 0) {
      this.roll();
      fsyncDir(this.dir);
    }
    const active = this.segments[this.segments.length - 1];
    this.writeFd = fs.openSync(active.path, "a");
  }

  private loadHoles(): Map<string, Hole[]> {
    const out = new Map<string, Hole[]>();
    const file = join(this.dir, "holes.json");
    if (!fs.existsSync(file)) return out;
    for (const h of JSON.parse(fs.readFileSync(file, "utf8")) as Hole[]) {
      let list = out.get(h.publisher);
      if (!list) out.set(h.publisher, (list = []));
      list.push(h);
    }
    return out;
  }

  /** Persists the open holes (on creation and closure only: fills in between are replayed at recovery). */
  saveHoles(): void {
    const all: Hole[] = [];
    for (const list of this.holes.values()) all.push(...list);
    const file = join(this.dir, "holes.json");
    if (all.length === 0) {
      if (fs.existsSync(file)) fs.unlinkSync(file);
      return;
    }
    const fd = fs.openSync(file + ".tmp", "w");
    try {
      fs.writeSync(fd, JSON.stringify(all));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(file + ".tmp", file);
  }

  private roll(): void {
    const path = join(this.dir, String(this.end).padStart(20, "0") + ".log");
    fs.writeFileSync(path, Buffer.alloc(0), { flag: "a" });
    this.segments.push({ base: this.end, size: 0, path, newestTimestamp: 0 });
    if (this.writeFd !== undefined) {
      fs.fsyncSync(this.writeFd);
      fs.closeSync(this.writeFd);
      this.writeFd = fs.openSync(path, "a");
      fsyncDir(this.dir);
    }
  }

  /**
   * Writes records (not yet durable: call sync()). Returns the number of bytes written.
   * Rolls to a new segment first when the active one is full.
   */
  write(frames: Buffer[], timestamps: number[]): number {
    let active = this.segments[this.segments.length - 1];
    if (active.size >= this.segmentBytes && active.size > 0) {
      this.roll();
      active = this.segments[this.segments.length - 1];
    }
    let total = 0;
    for (const f of frames) total += RECORD_HEADER + f.length;
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i];
      buf.writeUInt32BE(f.length, pos);
      buf.writeUInt32BE(crc32(f), pos + 4);
      f.copy(buf, pos + RECORD_HEADER);
      this.timestamps.push(timestamps[i]);
      this.positions.push(this.end + pos);
      pos += RECORD_HEADER + f.length;
      if (timestamps[i] > active.newestTimestamp) active.newestTimestamp = timestamps[i];
    }
    let written = 0;
    while (written < total) written += fs.writeSync(this.writeFd!, buf, written, total - written);
    active.size += total;
    this.end += total;
    return total;
  }

  /** Makes everything written so far durable. */
  sync(): Promise<void> {
    const fd = this.writeFd!;
    return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  get count(): number {
    return this.timestamps.length;
  }

  get bytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  /** Number of reads in flight; retention waits for none, so a read fd is never closed under a read. */
  private readsInFlight = 0;

  /** Reads records [from, to) of the index, in order. The ranges are fixed before the first await. */
  async read(from: number, to: number): Promise<Buffer[]> {
    const jobs: { fd: number; start: number; length: number }[] = [];
    let i = from;
    while (i < to) {
      const seg = this.segmentOf(this.positions[i]);
      const segEnd = seg.base + seg.size;
      // The contiguous run of records [i, j) inside this segment.
      let j = i;
      while (j < to && this.positions[j] < segEnd) j++;
      const start = this.positions[i];
      const stop = j < this.positions.length ? Math.min(this.positions[j], segEnd) : Math.min(this.end, segEnd);
      if (seg.readFd === undefined) seg.readFd = fs.openSync(seg.path, "r");
      jobs.push({ fd: seg.readFd, start: start - seg.base, length: stop - start });
      i = j;
    }
    this.readsInFlight++;
    try {
      const out: Buffer[] = [];
      const buffers = await Promise.all(
        jobs.map(async (job) => {
          const buf = Buffer.allocUnsafe(job.length);
          await readFully(job.fd, buf, job.start);
          return buf;
        }),
      );
      for (const buf of buffers) {
        let p = 0;
        while (p < buf.length) {
          const len = buf.readUInt32BE(p);
          out.push(buf.subarray(p + RECORD_HEADER, p + RECORD_HEADER + len));
          p += RECORD_HEADER + len;
        }
      }
      return out;
    } finally {
      this.readsInFlight--;
    }
  }

  private segmentOf(position: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].base <= position) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo];
  }

  /**
   * Deletes whole closed segments (never the active one) that are older than maxAgeMs (by their
   * newest event timestamp) or that make the log exceed maxBytes. Returns the records dropped.
   */
  applyRetention(nowMs: number, maxAgeMs: number | undefined, maxBytes: number | undefined): number {
    if (this.readsInFlight > 0) return 0;
    let dropSegments = 0;
    let bytes = this.bytes;
    while (dropSegments < this.segments.length - 1) {
      const seg = this.segments[dropSegments];
      const tooOld = maxAgeMs !== undefined && seg.newestTimestamp < nowMs - maxAgeMs;
      const tooBig = maxBytes !== undefined && bytes > maxBytes;
      if (!tooOld && !tooBig) break;
      bytes -= seg.size;
      dropSegments++;
    }
    if (dropSegments === 0) return 0;
    const keepFrom = this.segments[dropSegments].base;
    for (const seg of this.segments.splice(0, dropSegments)) {
      if (seg.readFd !== undefined) fs.closeSync(seg.readFd);
      fs.unlinkSync(seg.path);
    }
    let k = 0;
    while (k < this.positions.length && this.positions[k] < keepFrom) k++;
    this.positions.splice(0, k);
    this.timestamps.splice(0, k);
    this.durableCount -= k;
    return k;
  }

  close(): void {
    if (this.writeFd !== undefined) {
      fs.closeSync(this.writeFd);
      this.writeFd = undefined;
    }
    for (const s of this.segments) {
      if (s.readFd !== undefined) fs.closeSync(s.readFd);
      s.readFd = undefined;
    }
  }
}

/**
 * Applies a stored event with a sequence number inside `hole` to the chain's hole list: it extends
 * the contiguous part from below when it links to it, else splits the hole in two. Returns true when
 * the list changed in a way that must be persisted (a hole closed or split).
 */
export function fillHole(holes: Hole[], hole: Hole, frame: Buffer, sequenceNumber: number, timestamp: number, eventHash?: Buffer): boolean {
  const hash = "0x" + (eventHash ?? keccak256(frame.subarray(0, frame.length - 66))).toString("hex");
  const previous = "0x" + frame.toString("hex", 53, 85);
  const linksBelow = hole.afterHash === null || previous === hole.afterHash;
  const closesAbove = hash === hole.beforePrevious;
  if (linksBelow && closesAbove) {
    holes.splice(holes.indexOf(hole), 1);
    return true;
  }
  if (linksBelow) {
    Object.assign(hole, { afterSequence: sequenceNumber, afterHash: hash, afterTimestamp: timestamp });
    return false;
  }
  // It does not link to the part below: two holes, below and above it (the upper one may be closed).
  const upper: Hole = { ...hole, afterSequence: sequenceNumber, afterHash: hash, afterTimestamp: timestamp };
  Object.assign(hole, { beforeSequence: sequenceNumber, beforePrevious: previous, beforeTimestamp: timestamp });
  if (!closesAbove) holes.splice(holes.indexOf(hole) + 1, 0, upper);
  return true;
}

function readUint64(frame: Buffer, offset: number): number {
  return frame.readUInt32BE(offset) * 0x100000000 + frame.readUInt32BE(offset + 4);
}

function readTimestamp(frame: Buffer): number {
  return readUint64(frame, 37);
}

function readFully(fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = () =>
      fs.read(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error(`short read at ${position + done}`));
        done += n;
        if (done < buf.length) step();
        else resolve();
      });
    if (buf.length === 0) resolve();
    else step();
  });
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
