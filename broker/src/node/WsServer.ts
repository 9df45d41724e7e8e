// The WebSocket API (docs/protocol.md §6): EIP-4361 sign-in, publish (acknowledged only once
// durable), subscribe, unsubscribe, live delivery, resend; typed errors; a per-connection send
// budget that disconnects a subscriber that cannot keep up, so memory stays bounded.

import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server as HttpServer } from "node:http";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import { BrokerError, ErrorCodes, isWireError, toBrokerError } from "../errors";
import { BinaryKind, FRAME_OVERHEAD, PROTOCOL_VERSION, verifySiwe } from "@datamarket/protocol";
import { proveAtSignIn, type CredentialGate } from "../access/CredentialGate";
import type { ResendCursor, ResendQuery } from "../storage/EventStore";
import type { BrokerNode, Delivery, PreparedEvent, Subscriber } from "./BrokerNode";

export { BinaryKind };

export interface WsServerOptions {
  host: string;
  port: number;
  /** EIP-4361 domain the sign-in message must name. */
  domain: string;
  chainId: number;
  /** Bytes a connection may have queued for sending before it is cut. Default 8 MiB. */
  sendBudgetBytes?: number;
  /** How long a resend may wait for room in the budget before the connection is cut (ms). Default 5000. */
  resendStallMs?: number;
  /** Session length when the sign-in message has no Expiration Time (ms). Default 1 h. */
  defaultSessionMs?: number;
  /** Maximum events a single resend request may ask for. Default 100,000. */
  logger?: Logger;
  /** Takes credential presentations at sign-in (streams with a credential policy need one). */
  credentials?: CredentialGate;
}

const STREAM_ID = /^0x[0-9a-fA-F]{64}$/;

function badRequest(message: string, details: Record<string, unknown> = {}): BrokerError {
  return new BrokerError(ErrorCodes.BAD_REQUEST, message, details);
}

function parseStreamPartition(msg: Record<string, unknown>): { streamId: string; streamPartition: number } {
  if (typeof msg.streamId !== "string" || !STREAM_ID.test(msg.streamId)) throw badRequest("streamId must be 0x + 64 hex", { field: "streamId" });
  const p = msg.streamPartition ?? 0;
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 0xffffffff)
    throw badRequest("streamPartition must be a uint32", { field: "streamPartition" });
  return { streamId: msg.streamId.toLowerCase(), streamPartition: p };
}

const nonNegInt = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

const ADDRESS = /^0x[0-9a-f]{40}$/;

/** The `after` cursor of a from/range query (docs/protocol.md §6.4), or undefined. */
export function parseResendCursor(c: unknown, field: string): ResendCursor | undefined {
  if (c === undefined || c === null) return undefined;
  if (typeof c !== "object") throw badRequest(`${field} must be { timestamp, sequenceNumber, publisher? }`, { field });
  const o = c as Record<string, unknown>;
  if (!nonNegInt(o.timestamp)) throw badRequest(`${field}.timestamp must be unix ms`, { field: `${field}.timestamp` });
  if (!nonNegInt(o.sequenceNumber)) throw badRequest(`${field}.sequenceNumber must be a non-negative integer`, { field: `${field}.sequenceNumber` });
  const publisher = o.publisher === undefined || o.publisher === null ? undefined : String(o.publisher).toLowerCase();
  if (publisher !== undefined && !ADDRESS.test(publisher)) throw badRequest(`${field}.publisher must be a 0x address`, { field: `${field}.publisher` });
  return { timestamp: o.timestamp as number, sequenceNumber: o.sequenceNumber as number, ...(publisher === undefined ? {} : { publisher }) };
}

export function parseResendQuery(q: unknown): ResendQuery {
  if (typeof q !== "object" || q === null) throw badRequest("query must be an object", { field: "query" });
  const o = q as Record<string, unknown>;
  const publisher = o.publisher === undefined ? undefined : String(o.publisher).toLowerCase();
  if (publisher !== undefined && !ADDRESS.test(publisher)) throw badRequest("publisher must be a 0x address", { field: "query.publisher" });
  switch (o.type) {
    case "last":
      if (!nonNegInt(o.count) || (o.count as number) < 1) throw badRequest("query.count must be a positive integer", { field: "query.count" });
      if (o.after !== undefined) throw badRequest("a last query takes no cursor: page with from or range (docs/protocol.md §6.4)", { field: "query.after" });
      return { type: "last", count: o.count as number, publisher };
    case "from":
      if (!nonNegInt(o.fromTimestamp)) throw badRequest("query.fromTimestamp must be unix ms", { field: "query.fromTimestamp" });
      return { type: "from", fromTimestamp: o.fromTimestamp as number, publisher, after: parseResendCursor(o.after, "query.after") };
    case "range":
      if (!nonNegInt(o.fromTimestamp) || !nonNegInt(o.toTimestamp))
        throw badRequest("query.fromTimestamp and query.toTimestamp must be unix ms", { field: "query" });
      if ((o.toTimestamp as number) < (o.fromTimestamp as number))
        throw badRequest("query.toTimestamp is before query.fromTimestamp", { field: "query.toTimestamp" });
      return {
        type: "range",
        fromTimestamp: o.fromTimestamp as number,
        toTimestamp: o.toTimestamp as number,
        publisher,
        after: parseResendCursor(o.after, "query.after"),
      };
    default:
      throw badRequest('query.type must be "last", "from" or "range"', { field: "query.type" });
  }
}

/**
 * An unmasked, final, binary WebSocket frame (RFC 6455 §5.2) carrying kind ‖ [requestId] ‖ payload
 * (requestId as uint32 BE when given).
 */
export function wsBinaryFrame(kind: number, payload: Buffer, requestId?: number): Buffer {
  const prefix = requestId === undefined ? 1 : 5;
  const length = prefix + payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + length);
  out[0] = 0x82; // FIN, opcode 2 (binary)
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeUInt32BE(Math.floor(length / 0x100000000), 2);
    out.writeUInt32BE(length >>> 0, 6);
  }
  out[headerLength] = kind;
  if (requestId !== undefined) out.writeUInt32BE(requestId, headerLength + 1);
  payload.copy(out, headerLength + prefix);
  return out;
}

class WsSession implements Subscriber {
  address = "";
  readonly nonce = randomBytes(16).toString("hex");
  private expiresAt = 0;
  private sessionTimer?: NodeJS.Timeout;
  private closed = false;
  /** Serialises commit() calls in arrival order (see BrokerNode.prepare). */
  private commitTail: Promise<unknown> = Promise.resolve();
  /** The same for events another replica forwards on this connection. */
  private replicaTail: Promise<unknown> = Promise.resolve();
  /** This connection is another replica's link (signed in with an assignee's operator key). */
  private peer = false;
  /** Largest bufferedAmount seen (for tests and metrics). */
  maxBuffered = 0;

  constructor(
    readonly server: WsServer,
    readonly ws: WebSocket,
  ) {}

  get authenticated(): boolean {
    return this.address !== "" && Date.now() < this.expiresAt;
  }

  sendJson(msg: Record<string, unknown>): void {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    this.send(JSON.stringify(msg));
  }

  private corked = false;

  /**
   * Sends with the socket corked until the end of this event-loop turn, so that the acks of one
   * group commit, or the deliveries of one batch, leave in one write instead of one syscall each.
   * Corked bytes count in bufferedAmount, so past a quarter of the budget (at most 64 KiB) the
   * socket is flushed early: corking must never be what pushes a healthy client over its budget.
   */
  private send(data: string | Buffer): void {
    this.corkForThisTurn();
    this.ws.send(data);
  }

  private socket(): { cork(): void; uncork(): void; write(b: Buffer): boolean; writableLength: number } | undefined {
    return (this.ws as unknown as { _socket?: { cork(): void; uncork(): void; write(b: Buffer): boolean; writableLength: number } })._socket;
  }

  private corkForThisTurn(): void {
    const socket = this.socket();
    if (!socket) return;
    if (!this.corked) {
      socket.cork();
      this.corked = true;
      setImmediate(() => {
        this.corked = false;
        socket.uncork();
      });
    } else if (socket.writableLength >= this.server.corkFlushBytes) {
      socket.uncork(); // writes what is queued now
      socket.cork(); // stays corked until the scheduled uncork
    }
  }

  sendError(err: unknown, requestId?: unknown): void {
    if (!isWireError(err)) this.server.logger?.warn({ err }, "unexpected error in a request");
    const e = toBrokerError(err);
    this.sendJson({ type: "error", requestId, ...e.toJSON() });
  }

  /** Live delivery: never waits; over budget means the subscriber is cut. */
  deliver(d: Delivery): void {
    if (this.closed) return;
    // The complete WebSocket frame is built once per event and written as-is to every subscriber's
    // socket (server frames are unmasked, so the bytes are the same for all). ws writes its own
    // messages synchronously too (no compression), so the order on the socket is kept.
    const frame = (d.encoded ??= wsBinaryFrame(BinaryKind.DELIVER, d.event.frame));
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.maxBuffered) this.maxBuffered = buffered;
    if (buffered + frame.length > this.server.sendBudgetBytes) {
      this.cutForBudget(buffered, frame.length);
      return;
    }
    const socket = this.socket();
    if (!socket || this.ws.readyState !== WebSocket.OPEN) return;
    this.corkForThisTurn();
    socket.write(frame);
  }

  revoked(streamId: string, streamPartition: number, error: BrokerError): void {
    this.sendJson({ type: "revoked", streamId, streamPartition, ...error.toJSON() });
  }

  private cutForBudget(buffered: number, next: number): void {
    this.server.node.metrics.disconnects.inc({ reason: ErrorCodes.SEND_BUDGET_EXCEEDED });
    const error = new BrokerError(
      ErrorCodes.SEND_BUDGET_EXCEEDED,
      `the connection has ${buffered} bytes unsent; sending ${next} more exceeds the budget of ${this.server.sendBudgetBytes}`,
      {
        bufferedBytes: buffered,
        budgetBytes: this.server.sendBudgetBytes,
      },
    );
    this.sendError(error);
    this.shutdown(4008, ErrorCodes.SEND_BUDGET_EXCEEDED);
  }

  /** Stops all delivery at once, closes politely, and terminates if the peer does not read the close. */
  shutdown(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.server.node.removeSubscriber(this);
    clearTimeout(this.sessionTimer);
    try {
      this.ws.close(code, reason);
    } catch {
      /* already closing */
    }
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  onClose(): void {
    if (this.peer) this.server.node.options.replicator?.inboundPeer(this.address, false);
    this.peer = false;
    this.closed = true;
    clearTimeout(this.sessionTimer);
    this.server.node.removeSubscriber(this);
  }

  async onMessage(data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) return this.onBinary(data);
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString("utf8"));
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) throw new Error("not an object");
    } catch {
      this.sendError(badRequest("a text message must be a JSON object"));
      return;
    }
    const requestId = msg.requestId;
    try {
      switch (msg.type) {
        case "auth":
          return await this.onAuth(msg);
        case "subscribe": {
          this.requireAuth();
          const { streamId, streamPartition } = parseStreamPartition(msg);
          await this.server.node.subscribe(this, streamId, streamPartition);
          this.sendJson({ type: "subscribed", requestId, streamId, streamPartition });
          return;
        }
        case "unsubscribe": {
          this.requireAuth();
          const { streamId, streamPartition } = parseStreamPartition(msg);
          const was = this.server.node.unsubscribe(this, streamId, streamPartition);
          this.sendJson({ type: "unsubscribed", requestId, streamId, streamPartition, wasSubscribed: was });
          return;
        }
        case "resend":
          return await this.onResend(msg);
        case "chainTip": {
          this.requireAuth();
          const { streamId, streamPartition } = parseStreamPartition(msg);
          const publisher = msg.publisher === undefined || msg.publisher === null ? this.address : String(msg.publisher).toLowerCase();
          if (!/^0x[0-9a-f]{40}$/.test(publisher)) throw badRequest("publisher must be a 0x address", { field: "publisher" });
          const tip = await this.server.node.chainTip(this.address, streamId, streamPartition, publisher);
          this.sendJson({ type: "chainTip", requestId, streamId, streamPartition, publisher, tip });
          return;
        }
        case "sync":
          return await this.onSync(msg);
        case "voucher": {
          // docs/protocol.md §6.7: a voucher authenticates itself (its payer's signature); no sign-in needed.
          const payments = this.server.node.options.payments;
          if (!payments) throw badRequest("this broker charges nothing: it takes no vouchers", { field: "type" });
          this.sendJson({ type: "voucherAccepted", requestId, ...(await payments.submit(msg)) });
          return;
        }
        default:
          throw badRequest(`unknown message type ${JSON.stringify(msg.type)}`, { field: "type" });
      }
    } catch (err) {
      this.sendError(err, requestId);
    }
  }

  private requireAuth(): void {
    if (!this.authenticated) throw new BrokerError(ErrorCodes.NOT_AUTHENTICATED, "sign in first (EIP-4361 auth message)");
  }

  private async onAuth(msg: Record<string, unknown>): Promise<void> {
    const { address, expiresAt } = verifySiwe(String(msg.message ?? ""), String(msg.signature ?? ""), {
      domain: this.server.options.domain,
      chainId: this.server.options.chainId,
      nonce: this.nonce,
      defaultSessionMs: this.server.defaultSessionMs,
    });
    // a presentation beside EIP-4361 (§6.1): verified before the session changes; a refusal leaves it as it was
    const credential =
      msg.presentation === undefined ? undefined : await proveAtSignIn(this.server.options.credentials, address, this.nonce, msg.presentation, expiresAt);
    if (this.address && this.address !== address) this.server.node.removeSubscriber(this);
    this.address = address;
    this.expiresAt = expiresAt;
    clearTimeout(this.sessionTimer);
    this.sessionTimer = setTimeout(
      () => {
        this.server.node.removeSubscriber(this);
        this.sendError(new BrokerError(ErrorCodes.NOT_AUTHENTICATED, "the session expired; sign in again"));
      },
      Math.min(2 ** 31 - 1, Math.max(0, expiresAt - Date.now())),
    );
    this.sessionTimer.unref();
    const replicator = this.server.node.options.replicator;
    if (!this.peer && replicator?.isAnyPeer(address)) {
      this.peer = true;
      replicator.inboundPeer(address, true);
    }
    this.sendJson({ type: "authenticated", requestId: msg.requestId, address, expiresAt, ...(credential ? { credential } : {}) });
  }

  private async onResend(msg: Record<string, unknown>): Promise<void> {
    this.requireAuth();
    const { streamId, streamPartition } = parseStreamPartition(msg);
    const query = parseResendQuery(msg.query);
    const requestId = nonNegInt(msg.requestId) ? (msg.requestId as number) & 0xffffffff : 0;
    const result = await this.server.node.resend(this.address, streamId, streamPartition, query);
    if (!(await this.sendFrames(result.frames, requestId))) return;
    this.sendJson({
      type: "resent",
      requestId: msg.requestId,
      streamId,
      streamPartition,
      count: result.frames.length,
      truncated: result.truncated,
      next: result.next,
      gaps: result.gaps,
    });
  }

  /** Replica to replica: one page of a catch-up (docs/protocol.md §10). */
  private async onSync(msg: Record<string, unknown>): Promise<void> {
    this.requireAuth();
    const np = msg.networkPartition;
    if (!nonNegInt(np)) throw badRequest("networkPartition must be a non-negative integer", { field: "networkPartition" });
    if (!nonNegInt(msg.fromTimestamp)) throw badRequest("fromTimestamp must be unix ms", { field: "fromTimestamp" });
    if (msg.toTimestamp !== undefined && msg.toTimestamp !== null && !nonNegInt(msg.toTimestamp))
      throw badRequest("toTimestamp must be unix ms", { field: "toTimestamp" });
    const maxEvents = nonNegInt(msg.maxEvents) && (msg.maxEvents as number) > 0 ? Math.min(msg.maxEvents as number, 10_000) : 1000;
    let only: { streamId?: string; streamPartition?: number } = {};
    if (msg.streamId !== undefined && msg.streamId !== null) only = parseStreamPartition(msg);
    const c = msg.cursor as Record<string, unknown> | null | undefined;
    let cursor = null;
    if (c !== undefined && c !== null) {
      const sp = parseStreamPartition(c);
      if (typeof c.after !== "number" || !Number.isSafeInteger(c.after) || c.after < -1)
        throw badRequest("cursor.after must be an integer >= -1", { field: "cursor.after" });
      cursor = { ...sp, after: c.after };
    }
    const publisher = typeof msg.publisher === "string" ? msg.publisher.toLowerCase() : undefined;
    const requestId = nonNegInt(msg.requestId) ? (msg.requestId as number) & 0xffffffff : 0;
    const page = await this.server.node.servePage(this.address, {
      networkPartition: np as number,
      fromTimestamp: msg.fromTimestamp as number,
      toTimestamp: (msg.toTimestamp as number | undefined) ?? undefined,
      maxEvents,
      cursor,
      ...only,
      publisher,
    });
    if (!(await this.sendFrames(page.frames, requestId))) return;
    this.sendJson({ type: "synced", requestId: msg.requestId, count: page.frames.length, next: page.next });
  }

  /**
   * Sends frames as 0x03 ‖ requestId ‖ frame, paced by the send budget (a resend or a catch-up
   * page); false when the connection closed or was cut on the way.
   */
  private async sendFrames(frames: Buffer[], requestId: number): Promise<boolean> {
    for (const frame of frames) {
      const out = wsBinaryFrame(BinaryKind.RESEND, frame, requestId);
      if (this.ws.bufferedAmount + out.length > this.server.sendBudgetBytes && !(await this.waitForRoom(out.length))) return false;
      if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
      this.corkForThisTurn();
      this.socket()!.write(out);
      if (this.ws.bufferedAmount > this.maxBuffered) this.maxBuffered = this.ws.bufferedAmount;
    }
    return true;
  }

  /** Times a resend waited for the client to read (for tests). */
  resendWaits = 0;

  /** Resends are paced by the budget: wait (bounded) for the client to read. */
  private async waitForRoom(bytes: number): Promise<boolean> {
    this.resendWaits++;
    const deadline = Date.now() + this.server.resendStallMs;
    while (!this.closed && this.ws.bufferedAmount + bytes > this.server.sendBudgetBytes) {
      if (Date.now() > deadline) {
        this.cutForBudget(this.ws.bufferedAmount, bytes);
        return false;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return !this.closed;
  }

  private onBinary(data: Buffer): void {
    const kind = data[0];
    if (data.length < 5 || (kind !== BinaryKind.PUBLISH && kind !== BinaryKind.REPLICATE)) {
      this.sendError(badRequest("a binary message must be 0x01 (publish) or 0x04 (replicate) ‖ u32 requestId ‖ frame"));
      return;
    }
    const requestId = data.readUInt32BE(1);
    if (!this.authenticated) {
      this.sendError(new BrokerError(ErrorCodes.NOT_AUTHENTICATED, "sign in first (EIP-4361 auth message)"), requestId);
      return;
    }
    const node = this.server.node;
    const frame = data.subarray(5);
    // Checks run concurrently; commits in arrival order, per kind.
    if (kind === BinaryKind.PUBLISH) {
      this.commitTail = this.inOrder(
        this.commitTail,
        node.prepare(frame),
        (p) => node.commit(p),
        requestId,
        (hash) => ({ type: "published", requestId, eventHash: "0x" + hash.toString("hex") }),
      );
    } else {
      this.replicaTail = this.inOrder(
        this.replicaTail,
        node.prepareReplica(frame, this.address),
        (p) => node.commitReplica(p),
        requestId,
        (r) => ({ type: "replicated", requestId, eventHash: "0x" + r.hash.toString("hex"), duplicate: r.duplicate }),
      );
    }
  }

  /**
   * Commits a prepared event once the connection's earlier ones are committed (arrival order), and
   * answers when it is durable. Returns the new tail. The prepared promise is marked handled now,
   * so that a quick refusal waiting behind a slow check is not an unhandled rejection (fatal in Node).
   */
  private inOrder<T>(
    tail: Promise<unknown>,
    prepared: Promise<PreparedEvent>,
    commit: (p: PreparedEvent) => Promise<T>,
    requestId: number,
    reply: (result: T) => Record<string, unknown>,
  ): Promise<unknown> {
    prepared.catch(() => undefined);
    const committed = tail.then(() => prepared).then((p) => ({ durable: commit(p) }));
    committed
      .then((c) => c.durable)
      .then(
        (result) => this.sendJson(reply(result)),
        (err) => this.sendError(err, requestId),
      );
    return committed.catch(() => undefined);
  }
}

export class WsServer {
  readonly sendBudgetBytes: number;
  readonly corkFlushBytes: number;
  readonly resendStallMs: number;
  readonly defaultSessionMs: number;
  readonly logger?: Logger;
  private wss?: WebSocketServer;
  readonly sessions = new Set<WsSession>();

  constructor(
    readonly node: BrokerNode,
    readonly options: WsServerOptions,
  ) {
    this.sendBudgetBytes = options.sendBudgetBytes ?? 8 * 1024 * 1024;
    this.corkFlushBytes = Math.min(64 * 1024, Math.floor(this.sendBudgetBytes / 4));
    this.resendStallMs = options.resendStallMs ?? 5000;
    this.defaultSessionMs = options.defaultSessionMs ?? 3_600_000;
    this.logger = options.logger;
    // Voucher requests go to every session signed in as the payer (docs/protocol.md §6.7).
    this.unhookPayments = node.options.payments?.onRequest((notice) => {
      for (const s of this.sessions) if (s.address === notice.payer && s.authenticated) s.sendJson({ ...notice });
    });
  }

  private readonly unhookPayments?: () => void;

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      // Frames up to twice the content limit reach the decoder and get a typed PAYLOAD_TOO_LARGE;
      // larger messages are cut by ws with close code 1009 before they are buffered.
      const maxPayload = 2 * (this.node.maxContentBytes + FRAME_OVERHEAD) + 5;
      const wss = new WebSocketServer({ host: this.options.host, port: this.options.port, maxPayload, perMessageDeflate: false });
      this.wss = wss;
      wss.once("error", reject);
      wss.once("listening", () => resolve((wss.address() as { port: number }).port));
      wss.on("connection", (ws: WebSocket, req: IncomingMessage) => this.onConnection(ws, req));
    });
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const session = new WsSession(this, ws);
    this.sessions.add(session);
    this.node.metrics.connections.inc();
    this.logger?.debug({ remote: req.socket.remoteAddress }, "connection");
    ws.on("message", (data: Buffer, isBinary: boolean) => void session.onMessage(data, isBinary));
    ws.on("close", () => {
      this.sessions.delete(session);
      this.node.metrics.connections.dec();
      session.onClose();
    });
    ws.on("error", (err) => this.logger?.debug({ err }, "connection error"));
    const payments = this.node.options.payments?.hello();
    session.sendJson({
      type: "hello",
      protocolVersion: PROTOCOL_VERSION,
      nonce: session.nonce,
      domain: this.options.domain,
      chainId: this.options.chainId,
      ...(this.options.credentials ? { credentialAudience: this.options.credentials.audience } : {}),
      ...(payments ? { payments } : {}),
    });
  }

  /** Graceful: tells every client, closes, and stops listening. */
  async close(): Promise<void> {
    this.unhookPayments?.();
    for (const s of this.sessions) {
      s.sendError(new BrokerError(ErrorCodes.SHUTTING_DOWN, "the broker is shutting down"));
      s.shutdown(1001, ErrorCodes.SHUTTING_DOWN);
    }
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }
}

export type { HttpServer };
