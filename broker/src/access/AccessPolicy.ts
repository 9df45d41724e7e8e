// The broker's access rules over an AccessGate: publish needs the publish permission; subscribe and
// resend need the subscribe permission, or a valid licence (plus a valid consent grant when the
// product is consent-gated). Fails closed when the gate has not synced within the bound.
// Publish decisions are cached briefly (the hot path); subscribe decisions are never cached.

import { BrokerError, ErrorCodes } from "../errors";
import type { AccessGate, AskOptions } from "./AccessGate";

/** One source of the gate: ms since it last answered (null: never), its block, its last error. */
export interface SourceFreshness {
  ageMs: number | null;
  /** the chain's last head block, or the consent ledger's last block applied */
  block?: number;
  error?: string;
  /** beyond the staleness bound */
  stale: boolean;
}

/** Whether the gate can be trusted now, and why not (`/health`, metrics, logs). */
export interface GateFreshness {
  stale: boolean;
  /** ms since the gate last synced: the older of its sources (null: never) */
  ageMs: number | null;
  maxStalenessMs: number;
  chain?: SourceFreshness;
  consentLedger?: SourceFreshness;
}

/**
 * A further condition on reading a stream (subscribe, resend, chain tip), checked before the registry
 * and the market: throws a BrokerError (SUBSCRIBE_NOT_ALLOWED) to refuse; returns the unix ms at which
 * what admitted the subscriber ends by itself (a live subscription is checked again then), if it does.
 * The credential gate is one.
 */
export interface SubscribeCheck {
  checkSubscribe(streamId: string, subscriber: string, now: number): number | undefined;
}

export interface SubscribeGrant {
  /** Why access was granted. */
  via: "permission" | "licence";
  /** Unix ms when this grant ends by itself (licence expiry, end of a credential proof), if it does. */
  endsAt?: number;
}

/** The publish cache's key: a stream and a publisher, case-folded (the gate's changes are lower case). */
const publishKey = (streamId: string, publisher: string) => `${streamId.toLowerCase()}|${publisher.toLowerCase()}`;

export class AccessPolicy {
  private readonly publishCache = new Map<string, { allowed: boolean; until: number; at: number }>();
  private readonly subscribeChecks: SubscribeCheck[] = [];

  constructor(
    readonly gate: AccessGate,
    /** Fail closed when the gate's last sync is older than this (ms). */
    readonly maxStalenessMs: number,
    /** How long a publish decision is reused (ms). Revocations clear the cache at once. */
    readonly publishCacheMs = 1000,
    /**
     * How long one question to the gate may take (ms). A chain node that stops answering must not
     * hold a publish: past this, a publish decision the gate gave within maxStalenessMs is used
     * (the same bound the broker trusts for live subscriptions), else ACCESS_GATE_UNAVAILABLE.
     */
    readonly callTimeoutMs = 2000,
  ) {
    // A change that names its stream and address (a PermissionUpdated of one user) can only change
    // that user's decision on that stream: every other cached decision stays (a buyer's purchase
    // writes a permission, and must not send every publisher back to the gate).
    gate.onChange((c) => {
      if (c.kind !== "permission") return;
      if (c.streamId !== undefined && c.address !== undefined) this.publishCache.delete(publishKey(c.streamId, c.address));
      else this.publishCache.clear();
    });
  }

  /** Adds a condition every subscribe, resend and chain-tip read must meet (e.g. a proven credential). */
  addSubscribeCheck(check: SubscribeCheck): void {
    this.subscribeChecks.push(check);
  }

  /**
   * A gate answer within callTimeoutMs, or ACCESS_GATE_UNAVAILABLE. The gate gets a signal that
   * aborts at the bound, so what it waits for (its follower's next block) is dropped with the question.
   */
  private bounded<T>(ask: (options: AskOptions) => Promise<T>, what: string): Promise<T> {
    const abort = new AbortController();
    const call = ask({ signal: abort.signal });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new BrokerError(ErrorCodes.ACCESS_GATE_UNAVAILABLE, `the access gate did not answer ${what} within ${this.callTimeoutMs} ms`, {
            timeoutMs: this.callTimeoutMs,
          }),
        );
      }, this.callTimeoutMs);
      timer.unref();
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  /** The gate's freshness now, per source when the gate follows a chain or a consent ledger. */
  freshness(now = Date.now()): GateFreshness {
    const bound = this.maxStalenessMs;
    const source = (syncedAt: number, block?: number, error?: string): SourceFreshness => {
      const ageMs = syncedAt > 0 ? Math.max(0, now - syncedAt) : null;
      return { ageMs, block, error, stale: ageMs === null || ageMs > bound };
    };
    const synced = this.gate.lastSyncedAt();
    const ageMs = synced > 0 ? Math.max(0, now - synced) : null;
    const sources = this.gate.sources?.();
    return {
      stale: ageMs === null || ageMs > bound,
      ageMs,
      maxStalenessMs: bound,
      chain: sources?.chain && source(sources.chain.syncedAt, sources.chain.headBlock, sources.chain.error),
      consentLedger: sources?.consentLedger && source(sources.consentLedger.syncedAt, sources.consentLedger.lastBlock, sources.consentLedger.error),
    };
  }

  /** Throws ACCESS_GATE_UNAVAILABLE when the gate is too stale to be trusted. */
  assertFresh(now = Date.now()): void {
    const age = now - this.gate.lastSyncedAt();
    if (age > this.maxStalenessMs) {
      throw new BrokerError(ErrorCodes.ACCESS_GATE_UNAVAILABLE, `the access gate last synced ${age} ms ago (bound ${this.maxStalenessMs} ms)`, {
        staleForMs: age,
        maxStalenessMs: this.maxStalenessMs,
      });
    }
  }

  async checkPublish(streamId: string, publisher: string, now = Date.now()): Promise<void> {
    this.assertFresh(now);
    const key = publishKey(streamId, publisher);
    const cached = this.publishCache.get(key);
    let allowed: boolean;
    if (cached && cached.until > now) allowed = cached.allowed;
    else {
      try {
        // While an answer the gate gave within the staleness bound is known, a slow node costs the
        // publisher at most a few hundred ms: that answer is used (a revocation clears it).
        allowed =
          cached && Date.now() - cached.at <= this.maxStalenessMs
            ? await Promise.race([
                this.gate.canPublish(streamId, publisher),
                new Promise<boolean>((resolve) => setTimeout(() => resolve(cached.allowed), 250).unref()),
              ])
            : await this.bounded((o) => this.gate.canPublish(streamId, publisher, o), "the publish permission");
        if (this.publishCache.size > 100_000) this.publishCache.clear();
        this.publishCache.set(key, { allowed, until: Date.now() + this.publishCacheMs, at: Date.now() });
      } catch (err) {
        // The node is slow or gone: the gate's last answer holds while it is within the staleness
        // bound (as live subscriptions do), after which every publish is refused at once.
        if (!cached || Date.now() - cached.at > this.maxStalenessMs)
          throw err instanceof BrokerError
            ? err
            : new BrokerError(ErrorCodes.ACCESS_GATE_UNAVAILABLE, `the access gate failed: ${(err as Error).message}`, {}, { cause: err });
        allowed = cached.allowed;
      }
    }
    if (!allowed) {
      throw new BrokerError(ErrorCodes.PUBLISH_NOT_ALLOWED, `${publisher} may not publish to ${streamId}`, { streamId, publisher });
    }
  }

  async checkSubscribe(streamId: string, subscriber: string, now = Date.now()): Promise<SubscribeGrant> {
    this.assertFresh(now);
    // even a public stream (a free research stream) may ask who reads it
    let checksEnd: number | undefined;
    for (const check of this.subscribeChecks) {
      const ends = check.checkSubscribe(streamId, subscriber, now);
      if (ends !== undefined) checksEnd = Math.min(ends, checksEnd ?? ends);
    }
    const grant = await this.checkRegistryAndMarket(streamId, subscriber, now);
    const endsAt = [grant.endsAt, checksEnd].filter((end): end is number => end !== undefined);
    return endsAt.length > 0 ? { ...grant, endsAt: Math.min(...endsAt) } : grant;
  }

  private async checkRegistryAndMarket(streamId: string, subscriber: string, now: number): Promise<SubscribeGrant> {
    // Both asked at once: a licensee (no permission of its own) waits for one round of chain reads,
    // not two. The licence answer is used only when there is no permission.
    const permission = this.bounded((o) => this.gate.canSubscribe(streamId, subscriber, o), "the subscribe permission");
    const licenceAsked = this.bounded((o) => this.gate.licenceOf(streamId, subscriber, o), "the licence");
    licenceAsked.catch(() => undefined); // not awaited when the permission admits (or fails) first
    if (await permission) return { via: "permission" };
    const licence = await licenceAsked;
    if (!licence) {
      throw new BrokerError(ErrorCodes.SUBSCRIBE_NOT_ALLOWED, `${subscriber} has neither a subscribe permission nor a licence for ${streamId}`, {
        streamId,
        subscriber,
        reason: "no-permission-or-licence",
      });
    }
    if (now >= licence.expiresAt * 1000) {
      throw new BrokerError(ErrorCodes.SUBSCRIBE_NOT_ALLOWED, `the licence of ${subscriber} for ${streamId} expired at ${licence.expiresAt}`, {
        streamId,
        subscriber,
        reason: "licence-expired",
        productId: licence.productId,
        expiresAt: licence.expiresAt,
      });
    }
    if (licence.consentGated && !(await this.bounded(() => this.gate.consentValid(licence.productId, subscriber, licence), "the consent grant"))) {
      throw new BrokerError(ErrorCodes.SUBSCRIBE_NOT_ALLOWED, `no valid consent grant of ${subscriber} for product ${licence.productId}`, {
        streamId,
        subscriber,
        reason: "no-consent",
        productId: licence.productId,
      });
    }
    return { via: "licence", endsAt: licence.expiresAt * 1000 };
  }
}
