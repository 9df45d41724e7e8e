// Follows the consent ledger's chaincode events (docs/consent.md §7) and keeps, per (product,
// buyer), the access grants issued and whether each is still valid: GrantIssued adds one,
// GrantsInvalidated (consent withdrawn, revoked or updated) ends it at once, and a timer ends it
// at its expiresAt (expiry emits no event). A periodic probe tells whether the ledger is reachable.
//
// Checkpoint (docs/network.md §15): with a CheckpointStore the follower persists the grants it holds
// and the (number, hash) of the last ledger blocks it applied, the hash being a digest of the block's
// consent transaction ids in order, and resumes there instead of replaying from the start block. At
// start it reads the ledger again from the oldest checkpointed block: each block's transactions must
// be the checkpointed ones. When one is not (a ledger recreated, a channel of another network), the
// follower rewinds its grants to the newest block that matched (the fork point; each grant records the
// blocks that issued and invalidated it, so the rewind is exact) and applies the ledger from there. It
// reports no sync (lastSyncedAt() 0: the gate fails closed) until that check is done.

import { createHash } from "node:crypto";
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import type { Logger } from "pino";
import type { CheckpointStore } from "../chain/Checkpoint";

/** What the broker needs of a consent ledger client (ConsentLedgerClient fits it). */
export interface ConsentSource {
  /** Chaincode events from `startBlock` on (one batch per committed transaction). */
  events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>>;
  /** Resolves when the ledger answers (any chaincode answer, even "not found", counts). */
  ping(): Promise<void>;
}

/** A grant as the follower knows it. */
export interface FollowedGrant {
  grantId: string;
  productId: string;
  buyer: string;
  /** Unix seconds; invalid from this second on. */
  expiresAt: number;
  invalidated: boolean;
  /** The ledger block that issued it, and the one that invalidated it (for a rewind). */
  issuedBlock?: string;
  invalidatedBlock?: string;
}

export interface ConsentGrantFollowerOptions {
  probeMs?: number;
  now?: () => number;
  /** Where the grants and the last applied blocks are persisted; none: replay from the start block at each start. */
  checkpoint?: CheckpointStore;
  /** Checkpointed blocks kept to find a fork point in (default 16). */
  checkpointBlocks?: number;
  /**
   * How long the check of the checkpointed blocks waits, with no transaction coming, for a block the
   * ledger may not have (ms; default 5,000): a ledger shorter than the checkpoint holds none of the
   * blocks after its end.
   */
  verifyTimeoutMs?: number;
  /** Says at warn when a checkpoint is found not to be the ledger's (and where the follower rewound to). */
  logger?: Logger;
}

/** A block the follower applied: its number, the digest of its consent transaction ids, and how many. */
interface AppliedBlock {
  number: string;
  hash: string;
  transactions: string[];
}

/** The digest of a block's consent transaction ids, in order (the checkpoint's block hash). */
export function consentBlockHash(transactionIds: readonly string[]): string {
  return "0x" + createHash("sha256").update(transactionIds.join("\n")).digest("hex");
}

export interface ConsentChange {
  productId: string;
  buyer: string;
  grantId: string;
  cause: "invalidated" | "expired";
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class ConsentGrantFollower {
  private readonly grants = new Map<string, FollowedGrant>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<(c: ConsentChange) => void>();
  private stream?: CloseableEvents<ConsentLedgerEventBatch>;
  private probeTimer?: NodeJS.Timeout;
  private probedAt = 0;
  private stopped = false;
  private streamBroken = false;
  /** The last block whose events were applied (resume point). */
  lastBlock?: bigint;
  /** Why the last probe failed (cleared by an answer), for logs and health. */
  lastError?: Error;
  /** How the last start resumed: from the checkpoint (after `from`), rewound to a fork point, or from the start block. */
  resumed?: { checkpoint: boolean; from: bigint; reason?: string };
  /** Batches applied since start (a resumed follower does not apply the checkpointed ones again). */
  applied = 0;
  private blocks: AppliedBlock[] = [];
  /** The checkpointed blocks still to match against the ledger, oldest first (empty: checked). */
  private verifying: AppliedBlock[] = [];
  private verifyTimer?: NodeJS.Timeout;
  private seen: string[] = [];
  private forkBlock?: bigint;
  private saveTimer?: NodeJS.Timeout;
  private dirty = false;
  private startBlock = 0n;

  constructor(
    private readonly source: ConsentSource,
    private readonly options: ConsentGrantFollowerOptions = {},
  ) {}

  private static key(productId: string, buyer: string): string {
    return `${productId.toLowerCase()}|${buyer.toLowerCase()}`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Resumes from the checkpoint when there is one (checking it against the ledger, see above), else
   * replays the ledger's events from `startBlock` (default: the first block); then follows it.
   */
  async start(startBlock: bigint = 0n): Promise<void> {
    this.startBlock = startBlock;
    await this.probe();
    await this.follow(this.resume(startBlock));
    if (this.verifying.length > 0) this.armVerifyTimeout();
    const probeMs = this.options.probeMs ?? 1000;
    this.probeTimer = setInterval(() => void this.probe(), probeMs);
    this.probeTimer.unref();
  }

  /**
   * Reads the event stream until it ends or breaks. A broken stream makes the follower stale at
   * once (events may be missed: fail closed); the next probe reopens it after the last block applied.
   */
  private async follow(startBlock: bigint): Promise<void> {
    this.stream = await this.source.events(startBlock);
    this.streamBroken = false;
    const iterator = this.stream[Symbol.asyncIterator]();
    void (async () => {
      try {
        for (;;) {
          const next = await iterator.next();
          if (next.done || this.stopped) break;
          this.receive(next.value);
          // An event is also proof that the ledger is reachable.
          this.probedAt = Date.now();
        }
      } catch {
        // falls through: the stream is gone
      }
      if (!this.stopped) this.streamBroken = true;
    })();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.verifyTimer);
    clearTimeout(this.saveTimer);
    if (this.dirty) this.save();
    clearInterval(this.probeTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.stream?.close();
  }

  /** Unix ms of the last answer from the ledger (probe or event); 0 while the event stream is down. */
  lastSyncedAt(): number {
    return this.streamBroken || this.verifying.length > 0 ? 0 : this.probedAt;
  }

  onChange(listener: (c: ConsentChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A grant known to the follower, or undefined. */
  grant(grantId: string): FollowedGrant | undefined {
    return this.grants.get(grantId.toLowerCase());
  }

  /**
   * Whether the buyer holds a still-valid grant for the product (not invalidated, now < expiresAt)
   * that `match` accepts (e.g. the grant a licence runs under); without `match`, any such grant.
   */
  isValid(productId: string, buyer: string, match: (g: FollowedGrant) => boolean = () => true): boolean {
    const nowS = this.now() / 1000;
    for (const id of this.byKey.get(ConsentGrantFollower.key(productId, buyer)) ?? []) {
      const g = this.grants.get(id)!;
      if (!g.invalidated && nowS < g.expiresAt && match(g)) return true;
    }
    return false;
  }

  /** The checkpoint's start point; loads its grants. */
  private resume(startBlock: bigint): bigint {
    const store = this.options.checkpoint;
    const cp = store?.load();
    const fresh = (reason: string) => {
      this.resumed = { checkpoint: false, from: startBlock, reason };
      return startBlock;
    };
    if (!cp) return fresh("no checkpoint");
    if (BigInt(cp.fromBlock) !== startBlock) return fresh(`the checkpoint follows from block ${cp.fromBlock}, this ledger from ${startBlock}`);
    const state = cp.state.consent as { grants: FollowedGrant[]; transactions: string[][] } | undefined;
    if (!state || cp.blocks.length === 0 || state.transactions?.length !== cp.blocks.length) return fresh("the checkpoint holds no consent state");
    for (const g of state.grants) this.addGrant(g);
    this.blocks = cp.blocks.map((b, i) => ({ number: String(b.number), hash: b.hash, transactions: state.transactions[i] }));
    this.verifying = [...this.blocks];
    this.forkBlock = startBlock - 1n;
    this.lastBlock = BigInt(this.blocks[this.blocks.length - 1].number);
    const from = BigInt(this.blocks[0].number);
    this.resumed = { checkpoint: true, from };
    return from;
  }

  /** A batch from the stream: checked against the checkpoint while that is not done, else applied. */
  private receive(batch: ConsentLedgerEventBatch): void {
    if (this.verifying.length > 0) this.armVerifyTimeout();
    while (this.verifying.length > 0) {
      const expected = this.verifying[0];
      const n = BigInt(expected.number);
      if (batch.blockNumber === n && expected.transactions[this.seen.length] === batch.transactionId) {
        this.seen.push(batch.transactionId);
        if (this.seen.length === expected.transactions.length) {
          // The whole block is there, transaction for transaction: canonical.
          this.forkBlock = n;
          this.verifying.shift();
          this.seen = [];
          if (this.verifying.length === 0) this.verified();
        }
        return;
      }
      this.diverged(`block ${n} is not the checkpointed one (it has transaction ${batch.transactionId} of block ${batch.blockNumber})`);
    }
    if (this.forkBlock !== undefined && batch.blockNumber <= this.forkBlock) return; // applied before the checkpoint
    this.apply(batch);
  }

  private armVerifyTimeout(): void {
    clearTimeout(this.verifyTimer);
    this.verifyTimer = setTimeout(() => {
      if (this.verifying.length > 0 && !this.stopped)
        this.diverged(`the ledger has not served block ${this.verifying[0].number} within ${this.options.verifyTimeoutMs ?? 5000} ms`);
    }, this.options.verifyTimeoutMs ?? 5000);
    this.verifyTimer.unref();
  }

  private verified(): void {
    clearTimeout(this.verifyTimer);
  }

  /** The ledger no longer has the checkpointed block: rewind the grants to the newest block that matched. */
  private diverged(why: string): void {
    const fork = this.forkBlock!;
    this.verifying = [];
    this.seen = [];
    clearTimeout(this.verifyTimer);
    this.resumed = { checkpoint: true, from: fork + 1n, reason: `${why}: rewound to block ${fork}` };
    this.options.logger?.warn(
      { forkBlock: fork.toString(), reason: why },
      "consent ledger: the checkpoint is not this ledger's past its fork point: rewound there",
    );
    this.blocks = this.blocks.filter((b) => BigInt(b.number) <= fork);
    for (const g of [...this.grants.values()]) {
      if (g.issuedBlock !== undefined && BigInt(g.issuedBlock) > fork) {
        this.grants.delete(g.grantId);
        this.byKey.get(ConsentGrantFollower.key(g.productId, g.buyer))?.delete(g.grantId);
        clearTimeout(this.timers.get(g.grantId));
        this.timers.delete(g.grantId);
        // The grant is not on this ledger: access under it ends as an invalidation does.
        if (!g.invalidated) this.emit({ productId: g.productId, buyer: g.buyer, grantId: g.grantId, cause: "invalidated" });
      } else if (g.invalidated && g.invalidatedBlock !== undefined && BigInt(g.invalidatedBlock) > fork) {
        g.invalidated = false;
        g.invalidatedBlock = undefined;
        this.armExpiry(g);
      }
    }
    this.lastBlock = fork;
    this.scheduleSave();
  }

  private addGrant(g: FollowedGrant): void {
    this.grants.set(g.grantId, g);
    const k = ConsentGrantFollower.key(g.productId, g.buyer);
    let ids = this.byKey.get(k);
    if (!ids) this.byKey.set(k, (ids = new Set()));
    ids.add(g.grantId);
    if (!g.invalidated) this.armExpiry(g);
  }

  /** Applies one transaction's events (exposed for replay from a checkpoint). */
  apply(batch: ConsentLedgerEventBatch): void {
    const block = batch.blockNumber.toString();
    for (const event of batch.events) {
      if (event.type === "GrantIssued") {
        if (this.grants.has(event.grantId.toLowerCase())) continue; // replayed after a reconnection
        const g: FollowedGrant = {
          grantId: event.grantId.toLowerCase(),
          productId: event.productId.toLowerCase(),
          buyer: event.buyer.toLowerCase(),
          expiresAt: event.expiresAt,
          invalidated: false,
          issuedBlock: block,
        };
        this.addGrant(g);
      } else if (event.type === "GrantsInvalidated") {
        for (const id of event.grantIds) {
          const g = this.grants.get(id.toLowerCase());
          if (!g || g.invalidated) continue;
          g.invalidated = true;
          g.invalidatedBlock = block;
          clearTimeout(this.timers.get(g.grantId));
          this.timers.delete(g.grantId);
          this.emit({ productId: g.productId, buyer: g.buyer, grantId: g.grantId, cause: "invalidated" });
        }
      }
    }
    this.lastBlock = batch.blockNumber;
    this.applied++;
    this.record(block, batch.transactionId);
  }

  /** Records the applied transaction under its block, for the checkpoint. */
  private record(block: string, transactionId: string): void {
    if (!this.options.checkpoint) return;
    const last = this.blocks[this.blocks.length - 1];
    if (last?.number === block) {
      if (last.transactions.includes(transactionId)) return;
      last.transactions.push(transactionId);
      last.hash = consentBlockHash(last.transactions);
    } else {
      this.blocks.push({ number: block, hash: consentBlockHash([transactionId]), transactions: [transactionId] });
      if (this.blocks.length > (this.options.checkpointBlocks ?? 16)) this.blocks.shift();
    }
    this.scheduleSave();
  }

  /** Saves at most once a second (a crash loses at most that second, which the next start reads again). */
  private scheduleSave(): void {
    if (!this.options.checkpoint) return;
    this.dirty = true;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 1000);
    this.saveTimer.unref();
  }

  /** Writes the checkpoint now (also called by stop()). Not while the checkpoint is being checked. */
  save(): void {
    const store = this.options.checkpoint;
    if (!store || this.verifying.length > 0 || this.blocks.length === 0) return;
    this.dirty = false;
    // A grant that can never be valid again is left out: expired, or invalidated under the oldest
    // checkpointed block (no rewind reaches below it to undo that invalidation).
    const oldest = BigInt(this.blocks[0].number);
    const nowS = this.now() / 1000;
    const live = [...this.grants.values()].filter(
      (g) => nowS < g.expiresAt && !(g.invalidated && (g.invalidatedBlock === undefined || BigInt(g.invalidatedBlock) < oldest)),
    );
    void store.save({
      fromBlock: Number(this.startBlock),
      blocks: this.blocks.map((b) => ({ number: Number(b.number), hash: b.hash })),
      state: { consent: { grants: live, transactions: this.blocks.map((b) => b.transactions) } },
    });
  }

  private armExpiry(g: FollowedGrant): void {
    const inMs = g.expiresAt * 1000 - this.now();
    if (inMs <= 0) return;
    const t = setTimeout(
      () => {
        this.timers.delete(g.grantId);
        if (!g.invalidated) this.emit({ productId: g.productId, buyer: g.buyer, grantId: g.grantId, cause: "expired" });
      },
      Math.min(MAX_TIMER_MS, inMs + 1),
    );
    t.unref();
    this.timers.set(g.grantId, t);
  }

  private async probe(): Promise<void> {
    try {
      await this.source.ping();
      // From the last block applied (it may hold more transactions); re-applied events change nothing.
      if (this.streamBroken && !this.stopped) {
        // While the checkpoint is being checked, from its oldest block unmatched (its transactions again).
        this.seen = [];
        await this.follow(this.verifying.length > 0 ? BigInt(this.verifying[0].number) : (this.lastBlock ?? this.startBlock));
      }
      this.probedAt = Date.now();
      this.lastError = undefined;
    } catch (err) {
      // unreachable: lastSyncedAt() stops advancing
      this.lastError = err as Error;
    }
  }

  private emit(c: ConsentChange): void {
    for (const l of this.listeners) l(c);
  }
}

/** A ConsentSource over a ConsentLedgerClient (in-process or fabric-gateway). */
export function consentSourceOf(client: {
  events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>>;
  getGrant(grantId: string): Promise<unknown>;
}): ConsentSource {
  const ZERO = "0x" + "00".repeat(32);
  return {
    events: (startBlock) => client.events(startBlock),
    ping: async () => {
      try {
        await client.getGrant(ZERO);
      } catch (err) {
        // A chaincode error (NOT_FOUND, FORBIDDEN, ...) is an answer; ENDORSEMENT_FAILED is not.
        const code = (err as { code?: string }).code;
        if (code === undefined || code === "ENDORSEMENT_FAILED") throw err;
      }
    },
  };
}
