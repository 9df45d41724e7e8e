// The connection to a broker: its WebSocket API (docs/protocol.md §6) with an EIP-4361 sign-in
// signed by an ethers Signer. One job: move frames and requests; the DataClient above it does
// chains, gaps, keys and reconnection. The socket is the platform's (../platform.ts).

import {
  BinaryKind,
  buildSiweMessage,
  decodeBrokerBinaryMessage,
  encodeRequestFrame,
  frameTimestamp,
  hexOf,
  type ChainTip,
  type GapNotice,
  type ResendQuery,
} from "@datamarket/protocol";
import type { Signer } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { openSocket } from "../platform";
import type { PlatformSocket } from "../platform-types";

export type { ChainTip, GapNotice, ResendQuery };

/** A resend's frames, oldest first, with the broker's gap notices (if it sent any). */
export type ResendFrames = Uint8Array[] & { gaps?: GapNotice[] };

/** What the DataClient needs from a broker connection (the WebSocket one below, or a test double). */
export interface BrokerTransport {
  /** Resolves with the event hash once the broker has made the event durable. */
  publish(frame: Uint8Array): Promise<{ eventHash: string }>;
  subscribe(streamId: string, streamPartition: number): Promise<void>;
  unsubscribe(streamId: string, streamPartition: number): Promise<void>;
  /** Frames of the stream partition matching the query, oldest first (with `gaps` when the broker reports missing events). */
  resend(streamId: string, streamPartition: number, query: ResendQuery): Promise<ResendFrames>;
  /** The tip of this client's chain (or `publisher`'s) as the broker holds it; null when it holds none. Optional (older brokers, test doubles). */
  chainTip?(streamId: string, streamPartition: number, publisher?: string): Promise<ChainTip | null>;
  /** Sends a payment voucher (docs/protocol.md §6.7). Optional (older brokers, test doubles). */
  voucher?(voucher: { payer: string; generation: number; amount: string; signature: string }): Promise<void>;
  /** Live deliveries. */
  onFrame: (frame: Uint8Array) => void;
  /** Messages the broker sends unasked (revocations, budget cut, shutdown). */
  onNotice: (notice: { type: string; code?: string; message?: string; [k: string]: unknown }) => void;
  /** Called once when the connection is lost (not after close()). */
  onDisconnect: (reason: string) => void;
  close(): Promise<void>;
}

export interface WsTransportOptions {
  /** ws://host:port of the broker. */
  url: string;
  signer: Signer;
  /** URI named in the sign-in message (defaults to the url). */
  uri?: string;
  /** Session length requested in the sign-in message (ms). Default 1 h. */
  sessionMs?: number;
  /** Timeout of one request (ms). Default 10 s. */
  requestTimeoutMs?: number;
  /** Most events one paged resend collects. Default 1,000,000. */
  maxResendEvents?: number;
  /** How long opening the socket and signing in may take (ms). Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * A verifiable-credential presentation sent with the sign-in, for streams whose policy asks for a proven
   * claim (docs/protocol.md §6.1): called with the session nonce and the broker's `credentialAudience`,
   * it returns an SD-JWT VC presentation bound to both (e.g. `holder.present(credential, { disclose, nonce, audience })`).
   */
  presentation?: (challenge: { nonce: string; audience: string }) => Promise<string>;
}

/** The signed timestamp of a frame (uint64 at offset 37, docs/protocol.md §1.1). */
const timestampOf = frameTimestamp;

interface Waiting {
  resolve: (reply: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  frames?: Uint8Array[];
  timer: ReturnType<typeof setTimeout>;
}

/** The error a broker answered, as received (kept as the SdkError's `cause`). */
export class BrokerReplyError extends Error {
  override name = "BrokerReplyError";
  constructor(readonly reply: { code?: unknown; message?: unknown; details?: unknown }) {
    super(`${String(reply.code)}: ${String(reply.message)}`);
  }
}

function brokerError(reply: Record<string, unknown>): SdkError {
  return new SdkError(
    SdkErrorCodes.BROKER_ERROR,
    `${reply.code}: ${reply.message}`,
    { brokerCode: reply.code, ...(reply.details as object) },
    { cause: new BrokerReplyError(reply) },
  );
}

export class WsTransport implements BrokerTransport {
  onFrame: (frame: Uint8Array) => void = () => undefined;
  onNotice: BrokerTransport["onNotice"] = () => undefined;
  onDisconnect: (reason: string) => void = () => undefined;
  /** The authenticated address (lowercase). */
  address = "";
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closing = false;

  private constructor(
    private readonly ws: PlatformSocket,
    private readonly options: WsTransportOptions,
  ) {}

  /** Opens the socket, waits for the broker's hello and signs in. */
  static async connect(options: WsTransportOptions): Promise<WsTransport> {
    const timeoutMs = options.connectTimeoutMs ?? 5000;
    let ws: PlatformSocket | undefined;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      ws = openSocket(options.url, { timeoutMs, maxPayload: 64 * 1024 * 1024 });
      const socket = ws;
      const expired = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => reject(new Error(`no sign-in within ${timeoutMs} ms`)), timeoutMs);
      });
      return await Promise.race([WsTransport.open(socket, options), expired]);
    } catch (err) {
      ws?.terminate();
      throw err instanceof SdkError
        ? err
        : new SdkError(
            SdkErrorCodes.BROKER_ERROR,
            `cannot connect to ${options.url}: ${(err as Error)?.message ?? err}`,
            { brokerCode: "DISCONNECTED", url: options.url },
            { cause: err },
          );
    } finally {
      clearTimeout(timeout);
    }
  }

  private static async open(ws: PlatformSocket, options: WsTransportOptions): Promise<WsTransport> {
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      ws.onClose = (code) => reject(new Error(`connection closed (${code})`));
      ws.onMessage = (data) => {
        if (typeof data !== "string") return reject(new SdkError(SdkErrorCodes.BROKER_ERROR, "expected a hello message"));
        try {
          resolve(JSON.parse(data));
        } catch (err) {
          reject(err);
        }
      };
      ws.opened.catch(reject);
    });
    if (hello.type !== "hello") throw new SdkError(SdkErrorCodes.BROKER_ERROR, `expected hello, got ${String(hello.type)}`);
    const transport = new WsTransport(ws, options);
    ws.onMessage = (data) => transport.onMessage(data);
    ws.onClose = (code) => transport.onClose(`connection closed (${code})`);
    await transport.signIn(hello);
    return transport;
  }

  private async signIn(hello: Record<string, unknown>): Promise<void> {
    const address = (await this.options.signer.getAddress()).toLowerCase();
    const now = Date.now();
    const message = buildSiweMessage({
      domain: String(hello.domain),
      address,
      statement: "Sign in to the broker.",
      uri: this.options.uri ?? this.options.url,
      chainId: Number(hello.chainId),
      nonce: String(hello.nonce),
      issuedAt: new Date(now).toISOString(),
      expirationTime: new Date(now + (this.options.sessionMs ?? 3_600_000)).toISOString(),
    });
    const signature = await this.options.signer.signMessage(message);
    let presentation: string | undefined;
    if (this.options.presentation) {
      if (typeof hello.credentialAudience !== "string")
        throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the broker takes no credential presentations (its hello names no credentialAudience)");
      presentation = await this.options.presentation({ nonce: String(hello.nonce), audience: hello.credentialAudience });
    }
    await this.request({ type: "auth", message, signature, ...(presentation !== undefined ? { presentation } : {}) });
    this.address = address;
  }

  private onMessage(data: string | Uint8Array): void {
    if (typeof data !== "string") {
      let m: ReturnType<typeof decodeBrokerBinaryMessage>;
      try {
        m = decodeBrokerBinaryMessage(data);
      } catch {
        return; // an unknown kind: ignored, as an unknown notice is
      }
      if (m.kind === BinaryKind.DELIVER) this.onFrame(m.frame);
      else this.waiting.get(m.requestId)?.frames?.push(new Uint8Array(m.frame)); // a copy: the message is not kept
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const w = typeof msg.requestId === "number" ? this.waiting.get(msg.requestId) : undefined;
    if (!w) {
      this.onNotice(msg as Parameters<BrokerTransport["onNotice"]>[0]);
      return;
    }
    this.waiting.delete(msg.requestId as number);
    clearTimeout(w.timer);
    if (msg.type === "error") w.reject(brokerError(msg));
    else w.resolve(w.frames ? { ...msg, frames: w.frames } : msg);
  }

  private onClose(reason: string): void {
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new SdkError(SdkErrorCodes.BROKER_ERROR, reason, { brokerCode: "DISCONNECTED" }));
    }
    this.waiting.clear();
    if (!this.closing) this.onDisconnect(reason);
  }

  private send(requestId: number, payload: string | Uint8Array, collectFrames: boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.ws.isOpen()) return reject(new SdkError(SdkErrorCodes.BROKER_ERROR, "not connected", { brokerCode: "DISCONNECTED" }));
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new SdkError(SdkErrorCodes.BROKER_ERROR, `request ${requestId} timed out`, { brokerCode: "TIMEOUT" }));
      }, this.options.requestTimeoutMs ?? 10_000);
      this.waiting.set(requestId, { resolve, reject, timer, frames: collectFrames ? [] : undefined });
      this.ws.send(payload);
    });
  }

  private request(msg: Record<string, unknown>, collectFrames = false): Promise<Record<string, unknown>> {
    const requestId = this.nextId++;
    return this.send(requestId, JSON.stringify({ ...msg, requestId }), collectFrames);
  }

  async publish(frame: Uint8Array): Promise<{ eventHash: string }> {
    const requestId = this.nextId++;
    const reply = await this.send(requestId, encodeRequestFrame(BinaryKind.PUBLISH, requestId, frame), false);
    return { eventHash: String(reply.eventHash) };
  }

  async subscribe(streamId: string, streamPartition: number): Promise<void> {
    await this.request({ type: "subscribe", streamId, streamPartition });
  }

  async unsubscribe(streamId: string, streamPartition: number): Promise<void> {
    await this.request({ type: "unsubscribe", streamId, streamPartition });
  }

  /**
   * Resend; a "from" or "range" answer the broker truncated (docs/protocol.md §6.4) is continued
   * after its `next` cursor (a broker without one: from the last timestamp received, dropping the
   * frames already returned at that timestamp), up to `maxResendEvents` (default 1,000,000) in total.
   */
  async resend(streamId: string, streamPartition: number, query: ResendQuery): Promise<ResendFrames> {
    const out: ResendFrames = [];
    let q = query;
    for (;;) {
      const reply = await this.request({ type: "resend", streamId, streamPartition, query: q }, true);
      const frames = reply.frames as Uint8Array[];
      if (Array.isArray(reply.gaps) && reply.gaps.length > 0) out.gaps = [...(out.gaps ?? []), ...(reply.gaps as GapNotice[])];
      const boundary = out.length > 0 ? timestampOf(out[out.length - 1]) : -1;
      const seen = new Set(out.filter((f) => timestampOf(f) === boundary).map((f) => hexOf(f)));
      for (const f of frames) if (!(timestampOf(f) === boundary && seen.has(hexOf(f)))) out.push(f);
      if (!reply.truncated || q.type === "last" || frames.length === 0) return out;
      if (out.length >= (this.options.maxResendEvents ?? 1_000_000)) {
        throw new SdkError(SdkErrorCodes.BROKER_ERROR, `resend exceeds ${out.length} events`, { brokerCode: "RESEND_TOO_LARGE", count: out.length });
      }
      // A broker that names where its answer ends (docs/protocol.md §6.4): continue exactly after it.
      if (reply.next) {
        q = { ...q, after: reply.next as { timestamp: number; sequenceNumber: number; publisher?: string } };
        continue;
      }
      const from = timestampOf(frames[frames.length - 1]);
      if (from === boundary && frames.every((f) => timestampOf(f) === from)) {
        throw new SdkError(SdkErrorCodes.BROKER_ERROR, `more events at timestamp ${from} than one resend returns`, { brokerCode: "RESEND_TOO_LARGE" });
      }
      q = { ...q, fromTimestamp: from };
    }
  }

  async voucher(voucher: { payer: string; generation: number; amount: string; signature: string }): Promise<void> {
    await this.request({ type: "voucher", ...voucher });
  }

  async chainTip(streamId: string, streamPartition: number, publisher?: string): Promise<ChainTip | null> {
    const reply = await this.request({ type: "chainTip", streamId, streamPartition, publisher });
    return (reply.tip as ChainTip | null) ?? null;
  }

  /** Drops the connection without a close handshake (tests of reconnection use it). */
  terminate(): void {
    this.ws.terminate();
  }

  close(): Promise<void> {
    this.closing = true;
    return this.ws.close();
  }
}
