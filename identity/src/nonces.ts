// Single-use nonces of a relying party. A presentation is accepted only with a nonce this verifier
// issued (or registered: a broker's EIP-4361 nonce), not yet expired and not yet used; a used nonce is
// remembered until it would have expired, so a replay is told apart from an unknown nonce. In memory
// and bounded: a verifier with several processes shares a store through this interface.
import { randomBytes } from "node:crypto";
import { IdentityError } from "./errors";

export interface NonceStore {
  /** A fresh nonce (128 random bits, hex: alphanumeric, so that it can also be an EIP-4361 nonce), valid `ttlSeconds`. */
  issue(ttlSeconds?: number): string;
  /** Registers a nonce issued elsewhere (e.g. an EIP-4361 session nonce) as valid `ttlSeconds`. */
  register(nonce: string, ttlSeconds?: number): void;
  /** Throws NONCE_UNKNOWN / PRESENTATION_REPLAYED unless the nonce is issued, unexpired and unused. */
  check(nonce: string): void;
  /** check(), then marks the nonce used (atomically: no await between). */
  consume(nonce: string): void;
}

interface Entry {
  /** ms */
  expiresAt: number;
  used: boolean;
}

export interface MemoryNonceStoreOptions {
  /** default lifetime, seconds (default 300) */
  ttlSeconds?: number;
  /** most nonces remembered at once, issued or used (default 100,000) */
  maxEntries?: number;
  /** ms clock (default Date.now) */
  clock?: () => number;
}

export class MemoryNonceStore implements NonceStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlSeconds: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.ttlSeconds = options.ttlSeconds ?? 300;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.clock = options.clock ?? Date.now;
  }

  issue(ttlSeconds = this.ttlSeconds): string {
    const nonce = randomBytes(16).toString("hex");
    this.register(nonce, ttlSeconds);
    return nonce;
  }

  register(nonce: string, ttlSeconds = this.ttlSeconds): void {
    if (typeof nonce !== "string" || nonce.length < 8 || nonce.length > 256)
      throw new IdentityError("BAD_REQUEST", "a nonce is a string of 8 to 256 characters");
    this.prune();
    if (this.entries.has(nonce)) throw new IdentityError("PRESENTATION_REPLAYED", "this nonce is already registered", { nonce });
    if (this.entries.size >= this.maxEntries) throw new IdentityError("TOO_MANY_PENDING", `${this.maxEntries} nonces are outstanding`);
    this.entries.set(nonce, { expiresAt: this.clock() + ttlSeconds * 1000, used: false });
  }

  check(nonce: string): void {
    const entry = typeof nonce === "string" ? this.entries.get(nonce) : undefined;
    if (!entry || entry.expiresAt <= this.clock())
      throw new IdentityError("NONCE_UNKNOWN", "the presentation's nonce was not issued by this verifier or has expired", { nonce });
    if (entry.used) throw new IdentityError("PRESENTATION_REPLAYED", "the presentation's nonce has already been used", { nonce });
  }

  consume(nonce: string): void {
    this.check(nonce);
    (this.entries.get(nonce) as Entry).used = true;
  }

  /** Drops expired entries (oldest first; entries are kept in insertion order). */
  private prune(): void {
    const now = this.clock();
    for (const [nonce, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(nonce);
    }
  }
}
