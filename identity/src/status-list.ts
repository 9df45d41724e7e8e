// Revocation through the IETF Token Status List (draft-ietf-oauth-status-list), as the EUDI wallet
// uses it: each credential names (uri, idx) of a compressed bit string its issuer publishes as a
// signed `statuslist+jwt`. The encoding is @sd-jwt/jwt-status-list's; the JWT is @sd-jwt/core's.
//   IssuerStatusList — the issuer's side: random index allocation, status changes, the signed token.
//   StatusListResolver — the relying party's side: fetch (bounded), verify against the trust list,
//   cache for at most `maxAgeSeconds` (or the token's ttl / exp if sooner).
import { randomInt } from "node:crypto";
import { Jwt } from "@sd-jwt/core";
import { StatusList, createHeaderAndPayload, getListFromStatusListJWT, type BitsPerStatus } from "@sd-jwt/jwt-status-list";
import { IdentityError, asIdentityError } from "./errors";
import type { TrustedIssuer } from "./trust-list";
import { jwsVerifier, type PublicJwk } from "./keys";

/** Status values of the Token Status List (its §7.1). */
export const CredentialStatus = { Valid: 0, Invalid: 1, Suspended: 2 } as const;
export type CredentialStatus = (typeof CredentialStatus)[keyof typeof CredentialStatus];

/** Media type of a status list token. */
export const STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt";

export interface IssuerStatusListOptions {
  /** the URI this list is published at (the token's `sub`, the credentials' `status.status_list.uri`) */
  uri: string;
  /** number of entries; indices are drawn at random among the free ones (default 65,536) */
  capacity?: number;
  /** bits per entry: 2 allows Suspended besides Valid / Invalid (default 2) */
  bits?: BitsPerStatus;
}

export class IssuerStatusList {
  readonly uri: string;
  readonly capacity: number;
  private readonly list: StatusList;
  private readonly used = new Set<number>();

  constructor(options: IssuerStatusListOptions) {
    this.uri = options.uri;
    this.capacity = options.capacity ?? 65_536;
    if (!Number.isSafeInteger(this.capacity) || this.capacity < 8 || this.capacity > 1 << 24) {
      throw new IdentityError("INVALID_CONFIG", `status list capacity ${this.capacity} must be in 8..2^24`, { field: "capacity" });
    }
    this.list = new StatusList(new Array<number>(this.capacity).fill(CredentialStatus.Valid), options.bits ?? 2);
  }

  /**
   * A free index, drawn uniformly at random so that the index says nothing about the order of
   * issuance (the draft's herd-privacy recommendation). Draws are bounded: past 64 misses the free
   * indices are listed.
   */
  allocate(): number {
    if (this.used.size >= this.capacity)
      throw new IdentityError("STATUS_LIST_FULL", `status list ${this.uri} has no free index (${this.capacity} used)`, { uri: this.uri });
    for (let attempt = 0; attempt < 64; attempt++) {
      const index = randomInt(this.capacity);
      if (!this.used.has(index)) {
        this.used.add(index);
        return index;
      }
    }
    const free: number[] = [];
    for (let index = 0; index < this.capacity; index++) if (!this.used.has(index)) free.push(index);
    const index = free[randomInt(free.length)];
    this.used.add(index);
    return index;
  }

  status(index: number): number {
    return this.list.getStatus(index);
  }

  setStatus(index: number, status: CredentialStatus): void {
    if (!this.used.has(index)) throw new IdentityError("UNKNOWN_CREDENTIAL", `index ${index} of ${this.uri} was never allocated`, { uri: this.uri, index });
    this.list.setStatus(index, status);
  }

  /** The signed status list token: `typ: statuslist+jwt`, `sub` = uri, iat, exp, ttl. */
  async token(options: {
    issuer: string;
    kid: string;
    signer: (data: string) => string;
    now: number;
    validitySeconds: number;
    ttlSeconds: number;
  }): Promise<string> {
    const { header, payload } = createHeaderAndPayload(
      this.list,
      { iss: options.issuer, sub: this.uri, iat: options.now, exp: options.now + options.validitySeconds, ttl: options.ttlSeconds },
      { alg: "ES256", typ: "statuslist+jwt", kid: options.kid },
    );
    return new Jwt({ header, payload }).sign(options.signer);
  }
}

/** Fetches the status list token published at `uri`. */
export type StatusListFetcher = (uri: string) => Promise<string>;

export interface HttpStatusListFetcherOptions {
  /** per request, ms (default 5,000) */
  timeoutMs?: number;
  /** largest token accepted, bytes (default 1 MiB) */
  maxBytes?: number;
  /** accept http: URIs (tests on 127.0.0.1); production status lists are https: */
  allowHttp?: boolean;
}

/** A bounded HTTP fetcher: https only (unless allowed), a timeout, a size cap, the status list media type. */
export function httpStatusListFetcher(options: HttpStatusListFetcherOptions = {}): StatusListFetcher {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  return async (uri: string) => {
    const url = new URL(uri);
    if (url.protocol !== "https:" && !(options.allowHttp && url.protocol === "http:")) {
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is not an https URI`, { uri });
    }
    const response = await fetch(url, { headers: { accept: STATUS_LIST_MEDIA_TYPE }, signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    if (!response.ok) throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} answered HTTP ${response.status}`, { uri, status: response.status });
    if (!(response.headers.get("content-type") ?? "").startsWith(STATUS_LIST_MEDIA_TYPE)) {
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is not served as ${STATUS_LIST_MEDIA_TYPE}`, { uri });
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > maxBytes) throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is ${declared} bytes, the limit is ${maxBytes}`, { uri });
    const body = await response.text();
    if (body.length > maxBytes) throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is over ${maxBytes} bytes`, { uri });
    return body.trim();
  };
}

interface CachedList {
  list: StatusList;
  issuer: string;
  /** ms */
  freshUntil: number;
}

export interface StatusListResolverOptions {
  fetcher: StatusListFetcher;
  /** longest a verified list is reused, seconds (default 300; a token's ttl or exp may shorten it) */
  maxAgeSeconds?: number;
  /** lists kept in cache (default 1,000; the oldest goes first) */
  maxEntries?: number;
  /** ms clock (default Date.now) */
  clock?: () => number;
  /**
   * How far the issuer's clock may be from this one, seconds (default 60, as the verifier's): a list
   * stamped (iat) up to this much after now is taken, and one whose exp passed less than this long ago.
   * The two are different machines' clocks; with none tolerated, a list fetched within a second of its
   * issue by a clock a second behind was refused (STATUS_UNAVAILABLE, "not yet valid").
   */
  clockSkewSeconds?: number;
}

/** The relying party's view of status lists: fetched once per max age, verified with the issuer's trusted keys. */
export class StatusListResolver {
  private readonly cache = new Map<string, CachedList>();
  private readonly inFlight = new Map<string, Promise<CachedList>>();
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly skewSeconds: number;

  constructor(private readonly options: StatusListResolverOptions) {
    this.maxAgeMs = (options.maxAgeSeconds ?? 300) * 1000;
    this.skewSeconds = options.clockSkewSeconds ?? 60;
    this.maxEntries = options.maxEntries ?? 1_000;
    this.clock = options.clock ?? Date.now;
  }

  /** The status of entry `index` of the list at `uri`, which `issuer` must have signed. */
  async status(uri: string, index: number, issuer: TrustedIssuer, options: { refresh?: boolean } = {}): Promise<number> {
    const cached = await this.list(uri, issuer, options.refresh ?? false);
    try {
      return cached.list.getStatus(index);
    } catch (error) {
      throw asIdentityError(error, "STATUS_UNAVAILABLE", `index ${index} is not in status list ${uri}`, { uri, index });
    }
  }

  private async list(uri: string, issuer: TrustedIssuer, refresh: boolean): Promise<CachedList> {
    const cached = this.cache.get(uri);
    if (!refresh && cached && cached.issuer === issuer.id && cached.freshUntil > this.clock()) return cached;
    let pending = this.inFlight.get(uri);
    if (!pending) {
      pending = this.load(uri, issuer).finally(() => this.inFlight.delete(uri));
      this.inFlight.set(uri, pending);
    }
    const loaded = await pending;
    if (loaded.issuer !== issuer.id)
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is signed by ${loaded.issuer}, not ${issuer.id}`, { uri });
    return loaded;
  }

  private async load(uri: string, issuer: TrustedIssuer): Promise<CachedList> {
    if (issuer.statusListPrefixes.length > 0 && !issuer.statusListPrefixes.some((prefix) => uri.startsWith(prefix))) {
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is outside the locations the trust list gives ${issuer.id}`, {
        uri,
        issuer: issuer.id,
      });
    }
    let token: string;
    try {
      token = await this.options.fetcher(uri);
    } catch (error) {
      throw asIdentityError(error, "STATUS_UNAVAILABLE", `status list ${uri} could not be fetched`, { uri });
    }
    const nowSeconds = Math.floor(this.clock() / 1000);
    let jwt: Jwt;
    try {
      jwt = Jwt.fromEncode(token);
    } catch (error) {
      throw asIdentityError(error, "STATUS_UNAVAILABLE", `status list ${uri} is not a JWT`, { uri });
    }
    const header = jwt.header ?? {};
    const payload = (jwt.payload ?? {}) as { sub?: unknown; iss?: unknown; exp?: unknown; ttl?: unknown };
    if (header.typ !== "statuslist+jwt" || header.alg !== "ES256")
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} has typ ${String(header.typ)} / alg ${String(header.alg)}`, { uri });
    if (payload.sub !== uri) throw new IdentityError("STATUS_UNAVAILABLE", `status list token's sub ${String(payload.sub)} is not ${uri}`, { uri });
    if (payload.iss !== undefined && payload.iss !== issuer.id)
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is issued by ${String(payload.iss)}, not ${issuer.id}`, { uri });
    const key = issuer.keyFor(typeof header.kid === "string" ? header.kid : undefined);
    if (!key)
      throw new IdentityError("STATUS_UNAVAILABLE", `status list ${uri} is signed with a key ${String(header.kid)} the trust list does not give ${issuer.id}`, {
        uri,
      });
    try {
      await jwt.verify(statusVerifier(key), { currentDate: nowSeconds, skewSeconds: this.skewSeconds });
    } catch (error) {
      throw asIdentityError(error, "STATUS_UNAVAILABLE", `status list ${uri} does not verify`, { uri });
    }
    let list: StatusList;
    try {
      list = getListFromStatusListJWT(token);
    } catch (error) {
      throw asIdentityError(error, "STATUS_UNAVAILABLE", `status list ${uri} does not decode`, { uri });
    }
    let freshUntil = this.clock() + this.maxAgeMs;
    if (typeof payload.ttl === "number" && payload.ttl >= 0) freshUntil = Math.min(freshUntil, this.clock() + payload.ttl * 1000);
    if (typeof payload.exp === "number") freshUntil = Math.min(freshUntil, payload.exp * 1000);
    const entry: CachedList = { list, issuer: issuer.id, freshUntil };
    this.cache.delete(uri);
    this.cache.set(uri, entry);
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }
}

function statusVerifier(key: PublicJwk): (data: string, signature: string) => boolean {
  return jwsVerifier(key);
}

/** Maps a status value to the refusal it means (0 passes). */
export function refuseStatus(status: number, reference: { uri: string; idx: number }): void {
  if (status === CredentialStatus.Valid) return;
  if (status === CredentialStatus.Suspended)
    throw new IdentityError("CREDENTIAL_SUSPENDED", `the credential is suspended (${reference.uri} #${reference.idx})`, { ...reference, status });
  throw new IdentityError("CREDENTIAL_REVOKED", `the credential is revoked (${reference.uri} #${reference.idx}, status ${status})`, { ...reference, status });
}
