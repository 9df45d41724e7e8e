// Key requests over HTTP: a publisher serves POST /key-requests (body: a signed GroupKeyRequest,
// answer: a signed GroupKeyResponse or GroupKeyError, both application/octet-stream, layouts in
// docs/protocol.md "Key exchange"), and subscribers reach it through HttpKeyRequestChannel (fetch:
// Node and browsers). The messages are signed end to end, so plain HTTP carries no trust; TLS in
// front is still advised. Serving needs Node (a browser cannot listen).
//
// Opt-in (options.rekey): POST /rekey lets the stream's owner, as the stream registry records it,
// ask this publisher to rekey a stream from anywhere (a web page), by a personal_sign signature
// over rekeyRequestText: this server's origin, the stream, the removed addresses, a single-use
// nonce and an expiry at most maxLifetimeSeconds ahead.

import { verifyMessage } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { startKeyRequestServer } from "../platform";
import type { KeyRequestChannel } from "./access";
import type { DataClient } from "./DataClient";

const MAX_REQUEST_BYTES = 64 * 1024;
const PATH = "/key-requests";
const REKEY_PATH = "/rekey";
/** The longest a signed rekey request may stay good, seconds (its expiry minus now). */
export const MAX_REKEY_LIFETIME_SECONDS = 300;
const MAX_REMOVED = 1_000;

export interface KeyRequestServerOptions {
  host: string;
  port: number;
  /** The handler of each path (POST only). */
  routes: Record<string, KeyRequestHandler>;
  maxRequestBytes: number;
  /** Answer cross-origin requests from this origin ("*" for any): needed by subscribers in web pages. */
  allowOrigin?: string;
}

/** What the server does with one request body: the HTTP answer. */
export type KeyRequestHandler = (body: Uint8Array) => Promise<{ status: number; contentType: string; body: Uint8Array | string }>;

export interface KeyRequestServer {
  url: string;
  close(): Promise<void>;
}

/** What the owner signs to have a publisher rekey a stream (POST /rekey). */
export interface RekeyRequestFields {
  /** The key server's origin (scheme://host:port), as the server knows itself. */
  origin: string;
  streamId: string;
  /** Addresses that lose the key (none: a fresh key for the same recipients). */
  removed: string[];
  /** Single use: 16 to 64 hexadecimal characters. */
  nonce: string;
  /** Unix seconds after which the server refuses the request. */
  expires: number;
}

/** POST /rekey's body: the signed fields (origin aside, which the server fills in) and the signature. */
export type SignedRekeyRequest = Omit<RekeyRequestFields, "origin"> & { signature: string };

/** POST /rekey's answer. */
export interface RekeyResult {
  streamId: string;
  /** The new current group key's id. */
  groupKeyId: string;
  /** How many recipients the new key was wrapped for. */
  recipients: number;
}

/**
 * The exact text the stream's owner signs (EIP-191 personal_sign) for POST /rekey. Addresses and
 * the stream id are lowercase, removed addresses sorted, so that signer and server build the same text.
 */
export function rekeyRequestText(f: RekeyRequestFields): string {
  const removed = [...new Set(f.removed.map((a) => a.toLowerCase()))].sort();
  return [
    "DataMarket: rekey a stream",
    `Key server: ${f.origin}`,
    `Stream: ${f.streamId.toLowerCase()}`,
    `Remove: ${removed.length === 0 ? "(none)" : removed.join(",")}`,
    `Nonce: ${f.nonce}`,
    `Expires: ${f.expires}`,
  ].join("\n");
}

/**
 * Builds a rekey request for the key server at `keyServerUrl` and has `sign` (the owner wallet's
 * personal_sign) sign it; POST the result as JSON to `${keyServerUrl}/rekey`. Works in browsers.
 */
export async function signRekeyRequest(
  sign: (text: string) => Promise<string>,
  o: { keyServerUrl: string; streamId: string; removed?: string[]; lifetimeSeconds?: number; now?: number },
): Promise<SignedRekeyRequest> {
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  const expires = Math.floor((o.now ?? Date.now()) / 1000) + (o.lifetimeSeconds ?? MAX_REKEY_LIFETIME_SECONDS);
  const fields = {
    origin: new URL(o.keyServerUrl).origin,
    streamId: o.streamId.toLowerCase(),
    removed: (o.removed ?? []).map((a) => a.toLowerCase()),
    nonce,
    expires,
  };
  const { origin: _origin, ...body } = fields;
  return { ...body, signature: await sign(rekeyRequestText(fields)) };
}

/** serveKeyRequests' rekey option: POST /rekey, authorised by the stream's owner on chain. */
export interface RekeyServiceOptions {
  /** The stream's owner as the stream registry records it now; null for no such stream (e.g. StreamRegistryClient.ownerOf). */
  ownerOf(streamId: string): Promise<string | null>;
  /** The origin signed texts must name: this server's public origin (behind a proxy). Default: the origin of the URL it listens on. */
  origin?: string;
  /** The longest accepted lifetime of a request, seconds. Default and maximum MAX_REKEY_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /** Unix milliseconds now (tests). */
  now?: () => number;
}

function refusal(status: number, e: SdkError): { status: number; contentType: string; body: string } {
  return { status, contentType: "application/json", body: JSON.stringify(e.toJSON()) };
}

/** The POST /rekey handler: checks the request (shape, expiry, signature, owner on chain, nonce) and then rekeys. */
function rekeyHandler(client: DataClient, o: RekeyServiceOptions, originOf: () => string): KeyRequestHandler {
  const maxLifetime = Math.min(o.maxLifetimeSeconds ?? MAX_REKEY_LIFETIME_SECONDS, MAX_REKEY_LIFETIME_SECONDS);
  const now = o.now ?? Date.now;
  const used = new Map<string, number>(); // nonce -> expiry (s): kept until the request could no longer be accepted
  const bad = (message: string, details: Record<string, unknown> = {}) => refusal(400, new SdkError(SdkErrorCodes.INVALID_ARGUMENT, message, details));
  return async (raw) => {
    let r: SignedRekeyRequest;
    try {
      r = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw)) as SignedRekeyRequest;
    } catch {
      return bad("the rekey request is not JSON");
    }
    if (typeof r !== "object" || r === null) return bad("the rekey request is not a JSON object");
    if (typeof r.streamId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(r.streamId))
      return bad("streamId must be a 32-byte hex stream id", { streamId: r.streamId });
    const removed = r.removed ?? [];
    if (!Array.isArray(removed) || removed.length > MAX_REMOVED || !removed.every((a) => typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a)))
      return bad(`removed must be a list of at most ${MAX_REMOVED} addresses`);
    if (typeof r.nonce !== "string" || !/^[0-9a-fA-F]{16,64}$/.test(r.nonce)) return bad("nonce must be 16 to 64 hexadecimal characters");
    if (!Number.isSafeInteger(r.expires)) return bad("expires must be unix seconds");
    if (typeof r.signature !== "string") return bad("signature must be a hex string");
    const t = Math.floor(now() / 1000);
    if (r.expires <= t)
      return refusal(
        401,
        new SdkError(SdkErrorCodes.REQUEST_EXPIRED, `the rekey request expired at ${r.expires} (now ${t}): sign a new one`, { expires: r.expires, now: t }),
      );
    if (r.expires > t + maxLifetime)
      return refusal(
        401,
        new SdkError(SdkErrorCodes.REQUEST_EXPIRED, `the rekey request's expiry is over ${maxLifetime} s ahead`, {
          expires: r.expires,
          now: t,
          maxLifetimeSeconds: maxLifetime,
        }),
      );
    const streamId = r.streamId.toLowerCase();
    let signer: string;
    try {
      signer = verifyMessage(rekeyRequestText({ origin: originOf(), streamId, removed, nonce: r.nonce, expires: r.expires }), r.signature).toLowerCase();
    } catch (err) {
      return refusal(401, new SdkError(SdkErrorCodes.INVALID_SIGNATURE, `the rekey request's signature is malformed: ${(err as Error)?.message ?? err}`));
    }
    let owner: string | null;
    try {
      owner = await o.ownerOf(streamId);
    } catch (err) {
      return refusal(
        503,
        new SdkError(SdkErrorCodes.CHAIN_UNAVAILABLE, `the stream's owner could not be read: ${(err as Error)?.message ?? err}`, {}, { cause: err }),
      );
    }
    if (!owner || /^0x0{40}$/.test(owner))
      return refusal(404, new SdkError(SdkErrorCodes.UNKNOWN_STREAM, `no stream ${streamId} in the registry`, { streamId }));
    // A signature over other fields (another stream, origin, list or nonce) recovers to some other address: refused here too.
    if (signer !== owner.toLowerCase())
      return refusal(
        403,
        new SdkError(SdkErrorCodes.NOT_STREAM_OWNER, `the rekey request is signed by ${signer}, not by the stream's owner`, { streamId, signer }),
      );
    for (const [n, exp] of used) if (exp < t) used.delete(n);
    const nonce = r.nonce.toLowerCase();
    if (used.has(nonce)) return refusal(409, new SdkError(SdkErrorCodes.NONCE_REUSED, "this rekey request was already used: sign a new one", { nonce }));
    used.set(nonce, r.expires);
    try {
      const done = await client.rekey(streamId, removed);
      const answer: RekeyResult = { streamId, groupKeyId: done.groupKeyId, recipients: done.recipients.length };
      return { status: 200, contentType: "application/json", body: JSON.stringify(answer) };
    } catch (err) {
      const e = SdkError.from(err, SdkErrorCodes.INVALID_ARGUMENT);
      return refusal(e.code === SdkErrorCodes.INVALID_KEY ? 409 : 500, e);
    }
  };
}

/**
 * Serves this publisher's key requests on host:port (port 0: any free port). `allowOrigin` (e.g.
 * "*") lets subscribers in web pages of other origins reach it (CORS). With `rekey`, also serves
 * POST /rekey for the streams' owners (off by default). Node only.
 */
export async function serveKeyRequests(
  client: DataClient,
  options: { host?: string; port?: number; allowOrigin?: string; rekey?: RekeyServiceOptions } = {},
): ReturnType<typeof startKeyRequestServer> {
  const routes: Record<string, KeyRequestHandler> = {
    [PATH]: async (body) => {
      try {
        return { status: 200, contentType: "application/octet-stream", body: await client.answerKeyRequest(body) };
      } catch (err) {
        const e = SdkError.from(err, SdkErrorCodes.MALFORMED_MESSAGE);
        return { status: 400, contentType: "application/json", body: JSON.stringify(e.toJSON()) };
      }
    },
  };
  let origin = options.rekey?.origin ? new URL(options.rekey.origin).origin : "";
  if (options.rekey) routes[REKEY_PATH] = rekeyHandler(client, options.rekey, () => origin);
  const server = await startKeyRequestServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    routes,
    maxRequestBytes: MAX_REQUEST_BYTES,
    allowOrigin: options.allowOrigin,
  });
  if (!origin) origin = new URL(server.url).origin;
  return server;
}

/** Sends key requests to each publisher's endpoint (`endpointOf(publisher)` gives its base URL). */
export class HttpKeyRequestChannel implements KeyRequestChannel {
  constructor(
    private readonly endpointOf: (publisher: string) => string | undefined | Promise<string | undefined>,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  async request(publisher: string, requestBytes: Uint8Array): Promise<Uint8Array> {
    const base = await this.endpointOf(publisher.toLowerCase());
    if (!base) throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `no key-request endpoint known for publisher ${publisher}`, { publisher });
    let res: Response;
    try {
      res = await this.fetchImpl(`${base.replace(/\/$/, "")}${PATH}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: requestBytes,
      });
    } catch (err) {
      throw new SdkError(
        SdkErrorCodes.UNKNOWN_GROUP_KEY,
        `publisher ${publisher}'s key-request endpoint is unreachable: ${(err as Error)?.message ?? err}`,
        { publisher },
        { cause: err },
      );
    }
    if (!res.ok) {
      const text = await res.text();
      throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `publisher ${publisher} answered HTTP ${res.status}: ${text.slice(0, 200)}`, {
        publisher,
        status: res.status,
      });
    }
    return new Uint8Array(await res.arrayBuffer());
  }
}
