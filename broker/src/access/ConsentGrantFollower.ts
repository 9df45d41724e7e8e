// Follows the consent ledger's chaincode events (docs/consent.md §7) and keeps, per (product,
// buyer), the access grants issued and whether each is still valid: GrantIssued adds one,
// GrantsInvalidated (consent withdrawn, revoked or updated) ends it at once, and a timer ends it
// at its expiresAt (expiry emits no event). A periodic probe tells whether the ledger is reachable.

import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";

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

  constructor(
    private readonly source: ConsentSource,
    private readonly options: { probeMs?: number; now?: () => number } = {},
  ) {}

  private static key(productId: string, buyer: string): string {
    return `${productId.toLowerCase()}|${buyer.toLowerCase()}`;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Replays the ledger's events from `startBlock` (default: the first block) and follows it. */
  async start(startBlock: bigint = 0n): Promise<void> {
    await this.probe();
    await this.follow(startBlock);
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
          this.apply(next.value);
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
    clearInterval(this.probeTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.stream?.close();
  }

  /** Unix ms of the last answer from the ledger (probe or event); 0 while the event stream is down. */
  lastSyncedAt(): number {
    return this.streamBroken ? 0 : this.probedAt;
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

  /** Applies one transaction's events (exposed for replay from a checkpoint). */
  apply(batch: ConsentLedgerEventBatch): void {
    for (const event of batch.events) {
      if (event.type === "GrantIssued") {
        if (this.grants.has(event.grantId.toLowerCase())) continue; // replayed after a reconnection
        const g: FollowedGrant = {
          grantId: event.grantId.toLowerCase(),
          productId: event.productId.toLowerCase(),
          buyer: event.buyer.toLowerCase(),
          expiresAt: event.expiresAt,
          invalidated: false,
        };
        this.grants.set(g.grantId, g);
        const k = ConsentGrantFollower.key(g.productId, g.buyer);
        let ids = this.byKey.get(k);
        if (!ids) this.byKey.set(k, (ids = new Set()));
        ids.add(g.grantId);
        this.armExpiry(g);
      } else if (event.type === "GrantsInvalidated") {
        for (const id of event.grantIds) {
          const g = this.grants.get(id.toLowerCase());
          if (!g || g.invalidated) continue;
          g.invalidated = true;
          clearTimeout(this.timers.get(g.grantId));
          this.timers.delete(g.grantId);
          this.emit({ productId: g.productId, buyer: g.buyer, grantId: g.grantId, cause: "invalidated" });
        }
      }
    }
    this.lastBlock = batch.blockNumber;
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
      if (this.streamBroken && !this.stopped) await this.follow(this.lastBlock ?? 0n);
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
