// A minimal WebSocket client of the broker API, for tests, benchmarks and as an executable
// example of docs/protocol.md §6. (The SDK is the full client.) Signs in with a raw private key.

import { WebSocket } from "ws";
import { addressOfPrivateKey, buildSiweMessage, DataMarketError, personalMessageHash, signDigest, toHex, utf8ToBytes } from "@datamarket/protocol";
import { BinaryKind, type ResendQuery } from "@datamarket/protocol";

export interface BrokerReply {
  type: string;
  requestId?: number;
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A broker's `{ type: "error" }` answer as this client received it (`code` is the broker's, or UNKNOWN when it sent none). */
export class BrokerRequestError extends DataMarketError<string> {
  override name = "BrokerRequestError";
  constructor(readonly reply: BrokerReply) {
    super(typeof reply.code === "string" ? reply.code : "UNKNOWN", String(reply.message ?? ""), {
      details: reply.details ?? {},
      docsPath: "protocol.md#error-codes",
    });
  }
}

export class BrokerClient {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: BrokerReply) => void; reject: (e: Error) => void; frames?: Buffer[] }>();
  hello?: BrokerReply;
  /** Live events (frames) as they arrive. */
  onEvent: (frame: Buffer) => void = () => undefined;
  /** Messages with no request id: revocations, budget errors, shutdown. */
  readonly notices: BrokerReply[] = [];
  onNotice: (n: BrokerReply) => void = () => undefined;
  closeCode?: number;
  /** Called once when the connection closes. */
  onClose: (code: number) => void = () => undefined;

  private constructor(readonly ws: WebSocket) {}

  static connect(url: string): Promise<BrokerClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const client = new BrokerClient(ws);
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (isBinary) return client.onBinary(data);
        const msg = JSON.parse(data.toString("utf8")) as BrokerReply;
        if (msg.type === "hello") {
          client.hello = msg;
          resolve(client);
          return;
        }
        client.onText(msg);
      });
      ws.on("close", (code) => {
        client.closeCode = code;
        for (const w of client.waiting.values()) w.reject(new Error(`connection closed (${code})`));
        client.waiting.clear();
        client.onClose(code);
      });
      ws.once("error", reject);
      ws.on("error", () => undefined); // after the hello, 'close' reports it
    });
  }

  private onText(msg: BrokerReply): void {
    const w = typeof msg.requestId === "number" ? this.waiting.get(msg.requestId) : undefined;
    if (!w) {
      this.notices.push(msg);
      this.onNotice(msg);
      return;
    }
    this.waiting.delete(msg.requestId!);
    if (msg.type === "error") w.reject(new BrokerRequestError(msg));
    else w.resolve(w.frames ? { ...msg, frames: w.frames } : msg);
  }

  private onBinary(data: Buffer): void {
    if (data[0] === BinaryKind.DELIVER) this.onEvent(data.subarray(1));
    else if (data[0] === BinaryKind.RESEND) this.waiting.get(data.readUInt32BE(1))?.frames?.push(data.subarray(5));
  }

  private request(msg: Record<string, unknown>, collectFrames = false): Promise<BrokerReply> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error("connection closed"));
      this.waiting.set(requestId, { resolve, reject, frames: collectFrames ? [] : undefined });
      this.ws.send(JSON.stringify({ ...msg, requestId }));
    });
  }

  /**
   * EIP-4361 sign-in with the nonce from the broker's hello; `presentation` adds a credential proof on
   * the same nonce (docs/protocol.md §6.1).
   */
  async signIn(
    privateKey: Buffer,
    opts: { uri?: string; expirationTime?: string; domain?: string; nonce?: string; presentation?: string } = {},
  ): Promise<BrokerReply> {
    const message = buildSiweMessage({
      domain: opts.domain ?? String(this.hello!.domain),
      address: addressOfPrivateKey(privateKey),
      statement: "Sign in to the broker.",
      uri: opts.uri ?? "ws://127.0.0.1",
      chainId: Number(this.hello!.chainId),
      nonce: opts.nonce ?? String(this.hello!.nonce),
      issuedAt: new Date().toISOString(),
      expirationTime: opts.expirationTime,
    });
    const signature = toHex(signDigest(personalMessageHash(utf8ToBytes(message)), privateKey));
    return this.request({ type: "auth", message, signature, ...(opts.presentation !== undefined ? { presentation: opts.presentation } : {}) });
  }

  /** Publishes a frame; resolves with the ack once the broker made it durable. */
  publish(frame: Buffer): Promise<BrokerReply> {
    return this.sendFrame(BinaryKind.PUBLISH, frame);
  }

  /** Replica to replica (docs/protocol.md §10): forwards a stored event; resolves once the peer holds it durably. */
  replicate(frame: Buffer): Promise<BrokerReply> {
    return this.sendFrame(BinaryKind.REPLICATE, frame);
  }

  private sendFrame(kind: number, frame: Buffer): Promise<BrokerReply> {
    const requestId = this.nextId++;
    const msg = Buffer.allocUnsafe(5 + frame.length);
    msg[0] = kind;
    msg.writeUInt32BE(requestId, 1);
    frame.copy(msg, 5);
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) return reject(new Error("connection closed"));
      this.waiting.set(requestId, { resolve, reject });
      this.ws.send(msg);
    });
  }

  /** Replica to replica: one page of a catch-up (docs/protocol.md §10); resolves with { frames, next }. */
  sync(request: Record<string, unknown>): Promise<BrokerReply & { frames: Buffer[] }> {
    return this.request({ ...request, type: "sync" }, true) as Promise<BrokerReply & { frames: Buffer[] }>;
  }

  /** The tip of a publisher chain as this broker holds it (docs/protocol.md §6.6). */
  chainTip(streamId: string, streamPartition: number, publisher?: string): Promise<BrokerReply> {
    return this.request({ type: "chainTip", streamId, streamPartition, publisher });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  subscribe(streamId: string, streamPartition = 0): Promise<BrokerReply> {
    return this.request({ type: "subscribe", streamId, streamPartition });
  }

  unsubscribe(streamId: string, streamPartition = 0): Promise<BrokerReply> {
    return this.request({ type: "unsubscribe", streamId, streamPartition });
  }

  /** Resolves with { count, truncated, frames }. */
  resend(streamId: string, streamPartition: number, query: ResendQuery): Promise<BrokerReply & { frames: Buffer[] }> {
    return this.request({ type: "resend", streamId, streamPartition, query }, true) as Promise<BrokerReply & { frames: Buffer[] }>;
  }

  /** Sends a payment voucher (docs/protocol.md §6.7); resolves with the broker's voucherAccepted. */
  voucher(voucher: { payer: string; generation: number; amount: string; signature: string }): Promise<BrokerReply> {
    return this.request({ type: "voucher", ...voucher });
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Closes politely; terminates if the close handshake does not finish within a second. */
  close(): Promise<void> {
    return closeGracefully(this.ws);
  }
}

/** Closes a WebSocket politely, terminating it if the close handshake does not finish within `graceMs`. */
export function closeGracefully(ws: WebSocket, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => ws.terminate(), graceMs);
    ws.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close();
  });
}
