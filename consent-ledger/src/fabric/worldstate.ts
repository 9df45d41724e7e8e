// The committed state of the in-process peer: versioned world state per namespace with keys kept in
// LevelDB order (UTF-8 byte order), key history, private data collections with their hashes, and
// state metadata (key-level endorsement policies).
import { createHash } from "node:crypto";

/** Height of the transaction that last wrote a key, as Fabric's kvrwset Version. */
export interface Version {
  blockNum: number;
  txNum: number;
}

export interface VersionedValue {
  value: Buffer;
  version: Version;
}

export interface HistoryEntry {
  txId: string;
  /** proposal timestamp of the writing transaction */
  seconds: number;
  nanos: number;
  value: Buffer;
  isDelete: boolean;
}

/** Compares two strings by the UTF-8 byte order LevelDB uses (differs from UTF-16 order for U+E000..U+FFFF vs astral). */
export function compareUtf8(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) {
        return sa ? 1 : -1;
      }
      return ca < cb ? -1 : 1;
    }
  }
  return a.length - b.length;
}

export function sameVersion(a: Version | null, b: Version | null): boolean {
  if (a === null || b === null) {
    return a === b;
  }
  return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash("sha256").update(data).digest();
}

/** A sorted key-value store with versions: one namespace (or one private collection). */
export class VersionedStore {
  private readonly values = new Map<string, VersionedValue>();
  private keys: string[] = [];

  get size(): number {
    return this.values.size;
  }

  get(key: string): VersionedValue | undefined {
    return this.values.get(key);
  }

  /**
   * Applies one transaction's writes (null = delete) at `version`. Many new keys are sorted and merged
   * in one pass (O(n + k log k) instead of k array insertions); a few are inserted one by one.
   */
  applyWrites(writes: Iterable<[string, Buffer | null]>, version: Version): void {
    const added: string[] = [];
    const removed = new Set<string>();
    for (const [key, value] of writes) {
      if (value === null) {
        if (this.values.delete(key)) {
          removed.add(key);
        }
      } else {
        if (!this.values.has(key)) {
          added.push(key);
        }
        this.values.set(key, { value, version });
      }
    }
    if (added.length + removed.size <= 64) {
      // a few keys: binary-search insertions and removals beat rebuilding the whole index
      for (const key of removed) {
        this.keys.splice(this.lowerBound(key), 1);
      }
      for (const key of added) {
        this.keys.splice(this.lowerBound(key), 0, key);
      }
      return;
    }
    added.sort(compareUtf8);
    const merged: string[] = [];
    let i = 0;
    let j = 0;
    while (i < this.keys.length || j < added.length) {
      if (j >= added.length || (i < this.keys.length && compareUtf8(this.keys[i], added[j]) < 0)) {
        const key = this.keys[i++];
        if (!removed.has(key)) {
          merged.push(key);
        }
      } else {
        merged.push(added[j++]);
      }
    }
    this.keys = merged;
  }

  /** Keys in [start, end) in byte order; "" as end means unbounded. */
  range(start: string, end: string): Array<{ key: string } & VersionedValue> {
    const out: Array<{ key: string } & VersionedValue> = [];
    for (let i = this.lowerBound(start); i < this.keys.length; i++) {
      const key = this.keys[i];
      if (end !== "" && compareUtf8(key, end) >= 0) {
        break;
      }
      out.push({ key, ...(this.values.get(key) as VersionedValue) });
    }
    return out;
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUtf8(this.keys[mid], key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}

/** A private data collection as defined in collections_config.json. */
export interface CollectionConfig {
  name: string;
  /** MSP ids whose peers hold the private values */
  memberMspIds: string[];
  /** blocks after which a private value is purged; 0 = kept until deleted or purged */
  blockToLive: number;
}

interface PrivateEntry extends VersionedValue {
  committedBlock: number;
}

/** Private values of one collection, plus the hashes every channel member keeps. */
export class PrivateCollection {
  readonly values = new Map<string, PrivateEntry>();
  /** sha256(key) hex -> { sha256(value), version } */
  readonly hashes = new Map<string, VersionedValue>();

  constructor(readonly config: CollectionConfig) {}

  /** Drops values (and their hashes) whose blockToLive has passed at `height`. */
  expire(height: number): void {
    if (this.config.blockToLive === 0) {
      return;
    }
    for (const [key, entry] of this.values) {
      if (height > entry.committedBlock + this.config.blockToLive) {
        this.values.delete(key);
        this.hashes.delete(sha256(key).toString("hex"));
      }
    }
  }
}

/** Everything a peer has committed for one channel. */
export class WorldState {
  private readonly namespaces = new Map<string, VersionedStore>();
  private readonly histories = new Map<string, HistoryEntry[]>();
  private readonly metadata = new Map<string, Map<string, Buffer>>();
  readonly collections = new Map<string, PrivateCollection>();
  readonly committedTxIds = new Set<string>();
  /** number of committed blocks */
  height = 0;

  namespace(name: string): VersionedStore {
    let store = this.namespaces.get(name);
    if (!store) {
      store = new VersionedStore();
      this.namespaces.set(name, store);
    }
    return store;
  }

  history(namespace: string, key: string): HistoryEntry[] {
    return this.histories.get(`${namespace}\u0000${key}`) ?? [];
  }

  appendHistory(namespace: string, key: string, entry: HistoryEntry): void {
    const id = `${namespace}\u0000${key}`;
    const list = this.histories.get(id);
    if (list) {
      list.push(entry);
    } else {
      this.histories.set(id, [entry]);
    }
  }

  getMetadata(namespace: string, key: string): Map<string, Buffer> {
    return this.metadata.get(`${namespace}\u0000${key}`) ?? new Map();
  }

  setMetadata(namespace: string, key: string, name: string, value: Buffer): void {
    const id = `${namespace}\u0000${key}`;
    const entries = this.metadata.get(id) ?? new Map<string, Buffer>();
    entries.set(name, value);
    this.metadata.set(id, entries);
  }

  collection(namespace: string, name: string): PrivateCollection | undefined {
    return this.collections.get(`${namespace}$$${name}`);
  }

  defineCollection(namespace: string, config: CollectionConfig): void {
    this.collections.set(`${namespace}$$${config.name}`, new PrivateCollection(config));
  }
}
