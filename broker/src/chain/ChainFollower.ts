// Follows contract logs on an Ethereum node by polling eth_getLogs block range by block range, in
// block and log order, `confirmations` blocks behind the head, and records when it last reached the
// chain (the gate's staleness). One follower can serve the access gate, the stream index and the
// coordinator assignment.
//
// Reorgs: the follower remembers the hash of every block it applied a log from and of the last block
// of each range, for `reorgWindow` blocks. Before each poll it checks that its last applied block is
// still canonical; when it is not, it walks its hashes back to the newest block the node still has
// (the fork point F), undoes what the consumers applied after F (their entries in `journal`, newest
// first), tells the `onReorg` listeners, and reads again from F + 1. Undo, not rebuild: a consumer
// records how to restore the state one log changed, so a reorg costs the logs it removed, not a
// replay from the deployment block (docs/network.md, "Confirmation depths and reorgs").
//
// Checkpoints: with a CheckpointStore the follower persists (block, hash) of its last applied blocks
// and the consumers' snapshots, and resumes after the checkpoint when it is still canonical.

import type { Interface, Log, LogDescription, Provider } from "ethers";
import { UndoJournal } from "./UndoJournal";
import type { CheckpointStore } from "./Checkpoint";

/** A decoded log with where it sits on the chain. */
export interface ChainLog {
  address: string;
  name: string;
  args: LogDescription["args"];
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  transactionHash: string;
}

export interface ChainFollowerOptions {
  /** How often the head is polled (ms). Default 250: on a 1 s+ block time, within one block. */
  pollMs?: number;
  /** First block to read logs from (the deployment block). Default 0. */
  fromBlock?: number;
  /** Largest block range of one eth_getLogs call. Default 2,000. */
  maxRange?: number;
  /**
   * Blocks a log must be under before it is applied (0: at the head, as a dev node needs). A reorg
   * shallower than this is never seen by the consumers; a deeper one is undone (see above).
   */
  confirmations?: number;
  /**
   * Blocks of applied hashes and undo entries kept. A reorg deeper than this (past finality on any
   * real chain) cannot be undone: the follower then replays from `fromBlock` with empty consumers.
   * Default 256.
   */
  reorgWindow?: number;
  /** Where the follower persists its checkpoint; none: it replays from `fromBlock` at each start. */
  checkpoint?: CheckpointStore;
}

/** What a consumer's state is at a checkpoint, so a restart can resume after it. */
export interface Snapshot {
  /** Unique per follower: the key of this state in the checkpoint. */
  name: string;
  save(): unknown;
  load(state: unknown): void;
}

export interface WatchOptions {
  /**
   * The consumer's state at a checkpoint. A watch with neither `snapshot` nor `stateless` makes the
   * follower replay from `fromBlock` at start (what it applied before is not persisted).
   */
  snapshot?: Snapshot;
  /** The handler keeps no state from the logs (it only forwards them, or reads views anew). */
  stateless?: boolean;
}

/** Where the follower rewound to and which applied logs the reorg removed (in chain order). */
export interface Reorg {
  /** The newest block still canonical: the follower reads again from forkBlock + 1. */
  forkBlock: number;
  /** The hash the follower had applied at its tip, and the canonical one now (null: the chain is shorter). */
  was: { number: number; hash: string };
  removed: ChainLog[];
}

interface Watch {
  address: string;
  iface: Interface;
  handler: (logs: ChainLog[]) => void | Promise<void>;
  options: WatchOptions;
}

interface AppliedBlock {
  number: number;
  hash: string;
}

/** The head as a poll reads it. */
interface Head extends AppliedBlock {
  parentHash: string;
  timestamp: number;
}

/** A block as eth_getBlockByNumber returns it (the fields the follower reads). */
interface RawBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
}

export class ChainFollower {
  private readonly watches: Watch[] = [];
  private readonly blockListeners = new Set<(blockNumber: number, timestamp: number) => void>();
  private readonly reorgListeners = new Set<(reorg: Reorg) => void | Promise<void>>();
  /** Callers of nextApplied(): each is resolved by the first poll that applies a block past `after`. */
  private readonly appliedWaiters = new Set<{ after: number; resolve: (block: number) => void }>();
  private nextBlock: number;
  private syncedAt = 0;
  private headTimestamp = 0;
  private headNumber?: number;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  readonly pollMs: number;
  readonly confirmations: number;
  readonly reorgWindow: number;
  readonly fromBlock: number;
  private readonly maxRange: number;
  /** Hashes of applied blocks (ascending, within reorgWindow of the tip). */
  private applied: AppliedBlock[] = [];
  /** Applied logs within the window, for Reorg.removed. */
  private recent: ChainLog[] = [];
  /** The consumers' undo entries (UndoJournal.record from their handlers). */
  readonly journal = new UndoJournal();
  /** Reorgs seen since start (for logs, metrics and tests). */
  reorgs = 0;
  /** How the last start resumed: from a checkpoint, or from fromBlock (and why). */
  resumed?: { from: number; checkpoint: boolean; reason?: string };
  /** The last poll's error, for logs and health. */
  lastError?: Error;
  /** Set by a reorg deeper than the window: every poll fails with it (fail closed) until a restart. */
  private broken?: Error;
  private savedTip = -1;
  /** Whether hashes or undo entries were dropped (past the window) or not held (resumed from a checkpoint). */
  private trimmed = false;

  constructor(
    readonly provider: Provider,
    options: ChainFollowerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.fromBlock = options.fromBlock ?? 0;
    this.nextBlock = this.fromBlock;
    this.maxRange = options.maxRange ?? 2000;
    this.confirmations = options.confirmations ?? 0;
    this.reorgWindow = Math.max(1, options.reorgWindow ?? 256);
    this.checkpointStore = options.checkpoint;
    if (!Number.isInteger(this.confirmations) || this.confirmations < 0)
      throw new RangeError(`confirmations must be an integer >= 0, not ${options.confirmations}`);
  }

  private readonly checkpointStore?: CheckpointStore;

  /**
   * Delivers every log of `address` that `iface` knows, batched per poll, in (block, log index)
   * order. Register before start(): logs already read are not replayed. A handler that keeps state
   * records how to undo each change in `journal` (see UndoJournal).
   */
  watch(address: string, iface: Interface, handler: (logs: ChainLog[]) => void | Promise<void>, options: WatchOptions = {}): void {
    this.watches.push({ address: address.toLowerCase(), iface, handler, options });
  }

  /** Called after each poll that reached a new head, with its number and timestamp (unix s). */
  onBlock(listener: (blockNumber: number, timestamp: number) => void): () => void {
    this.blockListeners.add(listener);
    return () => this.blockListeners.delete(listener);
  }

  /**
   * Called on a reorg, after the consumers' journal entries past the fork are undone and before the
   * canonical logs from the fork are delivered (awaited).
   */
  onReorg(listener: (reorg: Reorg) => void | Promise<void>): () => void {
    this.reorgListeners.add(listener);
    return () => this.reorgListeners.delete(listener);
  }

  /** Resumes from the checkpoint if any, catches up to the head (awaited: the first answers are complete), then polls. */
  async start(): Promise<void> {
    if (this.checkpointStore && !this.resumed) await this.resume(this.checkpointStore);
    await this.poll();
    if (this.lastError) throw this.lastError;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Unix ms when the follower last had read every log up to the head. 0 before the first. */
  lastSyncedAt(): number {
    return this.syncedAt;
  }

  /** Timestamp (unix s) of the last head read: the chain's "now" for expiries. */
  chainTime(): number {
    return this.headTimestamp;
  }

  /** Number of the last head read (undefined before the first). */
  headBlock(): number | undefined {
    return this.headNumber;
  }

  /** The newest block applied (head - confirmations at the last poll); undefined before the first. */
  confirmedBlock(): number | undefined {
    return this.nextBlock > this.fromBlock ? this.nextBlock - 1 : undefined;
  }

  /**
   * Resolves with the newest applied block once the follower has applied a block past `after`
   * (default: the newest applied now), by its own polls: nothing is read on the caller's behalf, so
   * any number of waiters cost no more calls to the node than the follower makes anyway. Rejects with
   * the signal's reason when `signal` aborts first (the caller's bound), and drops the waiter.
   */
  nextApplied(after: number = this.confirmedBlock() ?? this.fromBlock - 1, signal?: AbortSignal): Promise<number> {
    const now = this.confirmedBlock();
    if (now !== undefined && now > after) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const onAbort = () => {
        this.appliedWaiters.delete(waiter);
        reject(signal!.reason);
      };
      const waiter = {
        after,
        resolve: (block: number) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(block);
        },
      };
      this.appliedWaiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The next block whose logs are not read yet. */
  get cursor(): number {
    return this.nextBlock;
  }

  /** Moves the next block to read (before start(), e.g. after reading state views at a head). */
  resumeFrom(block: number): void {
    this.nextBlock = block;
  }

  /** One poll (serialised: a poll that is still running is joined, not doubled). */
  poll(): Promise<void> {
    return (this.polling ??= this.pollOnce().finally(() => (this.polling = undefined)));
  }

  private async pollOnce(): Promise<void> {
    try {
      if (this.broken) throw this.broken;
      const head = await this.head();
      await this.checkTip(head);
      const safe = head.number - this.confirmations;
      while (this.nextBlock <= safe) {
        const to = Math.min(safe, this.nextBlock + this.maxRange - 1);
        await this.readRange(this.nextBlock, to, to === head.number ? head.hash : undefined);
        this.nextBlock = to + 1;
      }
      this.trim();
      this.headTimestamp = head.timestamp;
      this.headNumber = head.number;
      this.syncedAt = Date.now();
      this.lastError = undefined;
      for (const l of this.blockListeners) l(head.number, head.timestamp);
      this.wakeApplied();
      await this.saveCheckpoint();
    } catch (err) {
      // Stays unsynced: consumers fail closed once lastSyncedAt() is older than their bound.
      this.lastError = err as Error;
    }
  }

  /** Resolves the nextApplied() waiters whose block the last poll applied. */
  private wakeApplied(): void {
    const confirmed = this.confirmedBlock();
    if (confirmed === undefined) return;
    for (const w of this.appliedWaiters) {
      if (confirmed <= w.after) continue;
      this.appliedWaiters.delete(w);
      w.resolve(confirmed);
    }
  }

  /**
   * The chain's newest block: its number, hash, parent's hash and timestamp, in one request
   * (eth_getBlockByNumber "latest" through send() where the provider has it: ethers' providers answer
   * a repeated getBlock("latest") from a 250 ms cache, so a poll on demand, for a stream created a
   * moment ago, would read a head older than the block it waits for).
   */
  private async head(): Promise<Head> {
    const send = this.sendOf();
    if (send) {
      const block = (await send("eth_getBlockByNumber", ["latest", false])) as RawBlock | null;
      if (!block) throw new Error("the node returned no latest block");
      return { number: Number(block.number), hash: block.hash, parentHash: block.parentHash, timestamp: Number(block.timestamp) };
    }
    const number = await this.provider.getBlockNumber();
    const block = await this.provider.getBlock(number);
    if (!block?.hash) throw new Error(`the node returned no block ${number} (its latest)`);
    return { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp };
  }

  /** The provider's raw JSON-RPC call, uncached (undefined: a provider without one). */
  private sendOf(): ((method: string, params: unknown[]) => Promise<unknown>) | undefined {
    const send = (this.provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> }).send;
    return typeof send === "function" ? (method, params) => send.call(this.provider, method, params) : undefined;
  }

  /** The canonical hash of a block now (null: the node has no such block, the chain is shorter). */
  private async canonicalHash(number: number): Promise<string | null> {
    const send = this.sendOf();
    if (send) {
      // Uncached: ethers' getBlock may answer from its cache, which a reorg has made wrong.
      const block = (await send("eth_getBlockByNumber", ["0x" + number.toString(16), false])) as { hash: string } | null;
      return block?.hash ?? null;
    }
    return (await this.provider.getBlock(number))?.hash ?? null;
  }

  /**
   * Detects a reorg under the applied tip and rewinds to the fork point. The head just read settles
   * the common cases without a request: it is the tip, or the tip is its parent.
   */
  private async checkTip(head: Head): Promise<void> {
    const tip = this.applied[this.applied.length - 1];
    if (!tip) return;
    if ((head.number === tip.number && head.hash === tip.hash) || (head.number === tip.number + 1 && head.parentHash === tip.hash)) return;
    const hash = await this.canonicalHash(tip.number);
    if (hash === tip.hash) return;
    let fork = this.fromBlock - 1;
    // Nothing forgotten yet: the journal goes back to fromBlock, so a rewind to there is exact.
    let found = !this.trimmed;
    for (let i = this.applied.length - 2; i >= 0; i--) {
      const b = this.applied[i];
      if ((await this.canonicalHash(b.number)) === b.hash) {
        fork = b.number;
        found = true;
        break;
      }
    }
    await this.rewind(fork, found, tip);
  }

  private async rewind(fork: number, withinWindow: boolean, was: AppliedBlock): Promise<void> {
    this.reorgs++;
    if (!withinWindow) {
      // Deeper than the window: nothing to undo from, so every consumer starts again from fromBlock.
      // Their journal is undone as far as it goes; the owner restarts with fresh consumers if it keeps
      // state older than the window (the error says so).
      // Stays failed (the consumers fail closed) until a restart replays with empty consumers.
      this.broken = new Error(
        `reorg deeper than the follower's window (${this.reorgWindow} blocks) under block ${was.number}: restart to replay from block ${this.fromBlock}`,
      );
      throw this.broken;
    }
    const removed = this.recent.filter((l) => l.blockNumber > fork);
    this.journal.rewind(fork);
    this.applied = this.applied.filter((b) => b.number <= fork);
    this.recent = this.recent.filter((l) => l.blockNumber <= fork);
    this.nextBlock = fork + 1;
    this.savedTip = -1;
    const reorg: Reorg = { forkBlock: fork, was, removed };
    for (const l of this.reorgListeners) await l(reorg);
  }

  /**
   * Reads [from, to]; `toHash`: the hash of block `to` when the poll has it already (the head). One
   * block whose hash is known is read by that hash (EIP-234): its logs are that block's whatever the
   * chain does meanwhile, and a reorg that removes it is found at the next poll's tip check.
   */
  private async readRange(from: number, to: number, toHash?: string): Promise<void> {
    let raw: Log[][];
    const before = toHash ?? (await this.canonicalHash(to));
    if (!before) throw new Error(`the node has no block ${to} any more (a reorg while reading): retried at the next poll`);
    if (from === to && toHash) {
      raw = await Promise.all(this.watches.map((w) => this.provider.getLogs({ address: w.address, blockHash: toHash })));
      if (raw.some((logs) => logs.some((l) => l.blockHash !== toHash))) throw new Error(`the node answered logs of another block than ${toHash} (block ${to})`);
    } else {
      raw = await Promise.all(this.watches.map((w) => this.provider.getLogs({ address: w.address, fromBlock: from, toBlock: to })));
      // The logs must all come from the branch whose block `to` was read before and after them: a
      // reorg in between is retried at the next poll, not applied half.
      const after = await this.canonicalHash(to);
      if (after !== before || raw.some((logs) => logs.some((l) => l.blockNumber === to && l.blockHash !== before))) {
        throw new Error(`block ${to} changed while its logs were read (a reorg): retried at the next poll`);
      }
    }
    // Decode each watch's logs; deliver in watch order (each handler sees its logs in chain order).
    const hashes = new Map<number, string>();
    for (let i = 0; i < this.watches.length; i++) {
      const w = this.watches[i];
      const logs = raw[i]
        .slice()
        .sort(byChainOrder)
        .map((log) => decode(w.iface, log))
        .filter((l): l is ChainLog => l !== null);
      for (const l of logs) hashes.set(l.blockNumber, l.blockHash);
      if (logs.length > 0) {
        this.recent.push(...logs);
        await w.handler(logs);
      }
    }
    hashes.set(to, before);
    for (const [number, hash] of [...hashes].sort((a, b) => a[0] - b[0])) this.applied.push({ number, hash });
  }

  /**
   * Forgets hashes older than the window, keeping the newest one under it as the anchor a fork search
   * can still stop at, and the logs and undo entries of blocks at or under that anchor (never undone).
   */
  private trim(): void {
    const floor = this.nextBlock - 1 - this.reorgWindow;
    if (this.applied.length === 0 || this.applied[0].number >= floor) return;
    let i = this.applied.findIndex((b) => b.number >= floor);
    if (i === -1) i = this.applied.length - 1;
    this.applied = this.applied.slice(Math.max(0, i - 1));
    this.trimmed = true;
    const anchor = this.applied[0].number;
    if (this.recent.length > 0 && this.recent[0].blockNumber <= anchor) this.recent = this.recent.filter((l) => l.blockNumber > anchor);
    this.journal.forget(anchor + 1);
  }

  /** Whether every consumer can resume from a checkpoint (its state is in it, or it keeps none). */
  private resumable(): boolean {
    return this.watches.every((w) => w.options.stateless || w.options.snapshot);
  }

  private async resume(store: CheckpointStore): Promise<void> {
    const cp = store.load();
    const fresh = (reason: string) => {
      this.resumed = { from: this.nextBlock, checkpoint: false, reason };
    };
    if (!cp) return fresh("no checkpoint");
    if (cp.fromBlock !== this.fromBlock) return fresh(`the checkpoint follows from block ${cp.fromBlock}, this deployment from ${this.fromBlock}`);
    const missing = this.watches.find((w) => w.options.snapshot && !(w.options.snapshot.name in cp.state));
    if (!this.resumable() || missing)
      return fresh(`a consumer keeps state the checkpoint does not hold${missing ? ` (${missing.options.snapshot!.name})` : ""}`);
    // The newest checkpointed block the node still has.
    let anchor: AppliedBlock | undefined;
    for (let i = cp.blocks.length - 1; i >= 0; i--) {
      if ((await this.canonicalHash(cp.blocks[i].number)) === cp.blocks[i].hash) {
        anchor = cp.blocks[i];
        break;
      }
    }
    const top = cp.blocks[cp.blocks.length - 1];
    if (!anchor || !top) return fresh(`no checkpointed block is canonical any more`);
    const stateful = this.watches.some((w) => w.options.snapshot);
    if (anchor !== top && stateful) {
      // The snapshots hold what the removed blocks applied, and no undo for it survived the restart.
      return fresh(`the checkpoint's block ${top.number} is no longer canonical (fork at ${anchor.number}) and consumers' state was saved after it`);
    }
    for (const w of this.watches) {
      const s = w.options.snapshot;
      if (s) s.load(cp.state[s.name]);
    }
    this.applied = cp.blocks.filter((b) => b.number <= anchor.number);
    this.trimmed = true;
    this.nextBlock = anchor.number + 1;
    this.resumed = {
      from: this.nextBlock,
      checkpoint: true,
      reason: anchor === top ? undefined : `rewound from block ${top.number} (no longer canonical) to the fork at ${anchor.number}`,
    };
  }

  private async saveCheckpoint(): Promise<void> {
    const tip = this.applied[this.applied.length - 1];
    if (!this.checkpointStore || !tip || tip.number === this.savedTip || !this.resumable()) return;
    this.savedTip = tip.number;
    const state: Record<string, unknown> = {};
    for (const w of this.watches) if (w.options.snapshot) state[w.options.snapshot.name] = w.options.snapshot.save();
    await this.checkpointStore.save({ fromBlock: this.fromBlock, blocks: this.applied.slice(-64), state });
  }
}

function byChainOrder(a: Log, b: Log): number {
  return a.blockNumber - b.blockNumber || a.index - b.index;
}

function decode(iface: Interface, log: Log): ChainLog | null {
  let parsed: LogDescription | null = null;
  try {
    parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null; // an event of another ABI version: not ours to interpret
  }
  if (!parsed) return null;
  return {
    address: log.address.toLowerCase(),
    name: parsed.name,
    args: parsed.args,
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    logIndex: log.index,
    transactionHash: log.transactionHash,
  };
}
