// The client: publish (sign, encrypt, chain, partition) and subscribe / resend (verify against the
// publisher's permission, decrypt, fill gaps by resend, resume after reconnect without loss or
// duplicates), with the group-key exchange of docs/protocol.md "Key exchange" carried in-band.

import {
  BrokerError,
  ContentType,
  decodeFrame,
  encodeCanonical,
  EncryptionType,
  eventHash,
  SignatureType,
  signEvent,
  verifyEvent,
  ZERO_HASH,
  type EventFields,
  type SignedEvent,
} from "@datamarket/broker";
import { getBytes, Signature, Wallet, type Signer } from "ethers";
import { toHex } from "../crypto/bytes";
import { defaultRandom, type RandomSource } from "../crypto/random";
import { publicKeyOf } from "../crypto/secp256k1";
import { SdkError, SdkErrorCodes } from "../errors";
import { buildRequest, GroupKeyManager } from "../keyexchange/GroupKeyManager";
import { GroupKeyStore } from "../keyexchange/GroupKeyStore";
import { decodeKeyExchangeMessage, isKeyExchangeMessage } from "../keyexchange/messages";
import type { KeyRequestChannel, StreamAccess } from "./access";
import { partitionOf } from "./partition";
import type { BrokerTransport, ResendQuery } from "./transport";

export interface DataClientOptions {
  /** The wallet that signs events, key messages and the broker sign-in. */
  signer: Signer;
  /** Opens an authenticated broker connection; called again to reconnect. */
  connect: () => Promise<BrokerTransport>;
  /** Publish permission, subscribe access and registered encryption keys. */
  access: StreamAccess;
  /** Private key whose compressed public key this client registered (registerEncryptionKey). Needed to decrypt. */
  encryptionPrivateKey?: Uint8Array;
  /** Where to ask a publisher for a group key this client missed. */
  keyRequests?: KeyRequestChannel;
  /** Number of partitions of a stream (the registry's). Default: 1. */
  partitionsOf?: (streamId: string) => Promise<number>;
  /** How far before the last received event a resume after reconnect reads back (ms). Default 30,000 (the broker's clock-skew bound). */
  resumeLookbackMs?: number;
  /** Reconnect attempts before giving up (each after `reconnectDelayMs`). Default 20. */
  reconnectAttempts?: number;
  reconnectDelayMs?: number;
  /** How long a refused or failed key request is not repeated (ms). Default 30,000. */
  keyRetryMs?: number;
  /** How long a publish-permission answer is reused (ms). Default 10,000. */
  permissionCacheMs?: number;
  random?: RandomSource;
}

export interface PublishOptions {
  /** Explicit stream partition. */
  partition?: number;
  /** Chooses the partition by hashing (partitionOf); ignored if `partition` is given. */
  partitionKey?: string;
  /** Encrypt with the stream's group key. Default: true, unless `access.isPublic(streamId)` says the stream is public. */
  encrypt?: boolean;
  /** Overrides the content type inferred from the content. */
  contentType?: number;
  /** Unix ms; default now. */
  timestamp?: number;
}

export interface PublishResult {
  eventHash: string;
  streamPartition: number;
  sequenceNumber: number;
  groupKeyId: string;
}

/** A verified (and decrypted) event as handed to the application. */
export interface ReceivedMessage {
  streamId: string;
  streamPartition: number;
  publisher: string;
  timestamp: number;
  sequenceNumber: number;
  eventHash: string;
  contentType: number;
  /** Plaintext bytes. */
  content: Buffer;
  encrypted: boolean;
  groupKeyId: string;
  /** The content parsed as JSON (contentType 1) or text (2); the raw bytes for binary. */
  parsed(): unknown;
}

export interface SubscribeOptions {
  partition?: number;
  /** Every event refused or undecryptable, with the reason (the subscription goes on). */
  onError?: (error: SdkError) => void;
}

interface ChainState {
  sequenceNumber: number;
  hash: string;
  timestamp: number;
}

interface PendingAnnouncement {
  bytes: Buffer;
  publishedIn: Set<number>;
}

export class Subscription {
  /** Per publisher: the last event taken from its chain. */
  readonly chains = new Map<string, ChainState>();
  lastTimestamp = 0;
  queue: Promise<void> = Promise.resolve();
  active = true;
  /** Counters for tests and monitoring. */
  readonly stats = { delivered: 0, duplicates: 0, gapsFilled: 0, refused: 0 };

  constructor(
    readonly client: DataClient,
    readonly streamId: string,
    readonly streamPartition: number,
    readonly handler: (message: ReceivedMessage) => void | Promise<void>,
    readonly onError: (error: SdkError) => void,
  ) {}

  unsubscribe(): Promise<void> {
    return this.client.unsubscribe(this);
  }
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

function toContent(content: unknown, contentType?: number): { bytes: Buffer; contentType: number } {
  if (content instanceof Uint8Array) return { bytes: asBuffer(content), contentType: contentType ?? ContentType.BINARY };
  if (typeof content === "string") return { bytes: Buffer.from(content, "utf8"), contentType: contentType ?? ContentType.TEXT };
  return { bytes: Buffer.from(JSON.stringify(content), "utf8"), contentType: contentType ?? ContentType.JSON };
}

function wrapBrokerError(err: unknown): SdkError {
  if (err instanceof SdkError) return err;
  if (err instanceof BrokerError) {
    const code = err.code === "INVALID_SIGNATURE" ? SdkErrorCodes.INVALID_SIGNATURE : SdkErrorCodes.MALFORMED_MESSAGE;
    return new SdkError(code, err.message, { brokerCode: err.code, ...err.details });
  }
  return new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, (err as Error)?.message ?? String(err));
}

export class DataClient {
  private transport?: BrokerTransport;
  private connecting?: Promise<BrokerTransport>;
  private address = "";
  private readonly publishChains = new Map<string, ChainState & { queue: Promise<unknown> }>();
  private readonly keyManagers = new Map<string, GroupKeyManager>();
  private readonly announcements = new Map<string, PendingAnnouncement[]>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly permissionCache = new Map<string, { allowed: boolean; until: number }>();
  private readonly watchers = new Set<() => void>();
  private readonly publicCache = new Map<string, { allowed: boolean; until: number }>();
  private readonly keyRequestsInFlight = new Map<string, Promise<void>>();
  private readonly refusedKeys = new Map<string, { until: number; error: SdkError }>();
  private readonly privateKeyBytes?: Buffer;
  private keys?: GroupKeyStore;
  private closed = false;
  private readonly random: RandomSource;

  constructor(private readonly options: DataClientOptions) {
    this.random = options.random ?? defaultRandom;
    if (options.signer instanceof Wallet) this.privateKeyBytes = Buffer.from(getBytes(options.signer.privateKey));
  }

  /** Connects and signs in (publish and subscribe do it on first use). Returns this client's address. */
  async connect(): Promise<string> {
    await this.getTransport();
    return this.address;
  }

  /** This client's compressed encryption public key (to register with registerEncryptionKey). */
  get encryptionPublicKey(): Uint8Array | undefined {
    return this.options.encryptionPrivateKey ? publicKeyOf(this.options.encryptionPrivateKey) : undefined;
  }

  private async getTransport(): Promise<BrokerTransport> {
    if (this.closed) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the client is closed", { brokerCode: "CLOSED" });
    if (this.transport) return this.transport;
    this.connecting ??= (async () => {
      await this.ensureAddress();
      const t = await this.options.connect();
      t.onFrame = (frame) => this.onLiveFrame(frame);
      t.onNotice = (n) => this.onNotice(n);
      t.onDisconnect = (reason) => void this.onDisconnect(t, reason);
      this.transport = t;
      return t;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  // ---------------------------------------------------------------- publishing

  private keyManager(streamId: string): GroupKeyManager {
    let m = this.keyManagers.get(streamId);
    if (!m) {
      m = new GroupKeyManager(streamId, this.options.signer, this.address, this.random);
      this.keyManagers.set(streamId, m);
    }
    return m;
  }

  private async ensureAddress(): Promise<void> {
    if (!this.address) this.address = (await this.options.signer.getAddress()).toLowerCase();
    if (this.options.encryptionPrivateKey && !this.keys) this.keys = new GroupKeyStore(this.address, this.options.encryptionPrivateKey);
  }

  /** The group keys this client holds as a subscriber (undefined without an encryption key). */
  get keyStore(): GroupKeyStore | undefined {
    return this.keys;
  }

  /**
   * Sends the current group key of `streamId` to `subscribers` (their keys as registered in the
   * stream registry). The announcement goes into each partition before the next encrypted event.
   */
  async shareGroupKey(streamId: string, subscribers: string[]): Promise<void> {
    await this.ensureAddress();
    streamId = streamId.toLowerCase();
    const recipients = await this.registeredKeys(subscribers);
    const bytes = await this.keyManager(streamId).announce(recipients);
    if (bytes) this.queueAnnouncement(streamId, bytes, false);
  }

  /**
   * Rekey: `removed` lose access; a new group key becomes current and is wrapped only for the
   * remaining recipients. Events published after this call are unreadable to the removed ones.
   */
  async rekey(streamId: string, removed: string[]): Promise<{ groupKeyId: string; recipients: string[] }> {
    await this.ensureAddress();
    streamId = streamId.toLowerCase();
    const manager = this.keyManager(streamId);
    const gone = new Set(removed.map((a) => a.toLowerCase()));
    const remaining = manager.recipientAddresses().filter((a) => !gone.has(a));
    const recipients = await this.registeredKeys(remaining);
    const { key, response } = await manager.rekey(recipients);
    this.announcements.delete(streamId);
    if (response) this.queueAnnouncement(streamId, response, true);
    return { groupKeyId: key.id, recipients: recipients.map((r) => r.address) };
  }

  /**
   * Checks every current recipient of the stream's group key against `access.canSubscribe` now, and
   * rekeys without those who lost access (licence ended, permission or consent withdrawn). Call it
   * on the contracts' and the consent ledger's events, and on a timer for expiries, which emit none.
   * Returns the removed addresses (none: no rekey).
   */
  async rekeyIfAccessLost(streamId: string): Promise<string[]> {
    await this.ensureAddress();
    streamId = streamId.toLowerCase();
    const manager = this.keyManagers.get(streamId);
    if (!manager) return [];
    const lost: string[] = [];
    for (const a of manager.recipientAddresses()) if (!(await this.options.access.canSubscribe(streamId, a))) lost.push(a);
    if (lost.length > 0) await this.rekey(streamId, lost);
    return lost;
  }

  /**
   * Runs rekeyIfAccessLost every `intervalMs` (default 15 s) until stopped or the client closes;
   * `onRekey(removed)` reports each rekey, `onError` a failed check (retried next tick). Expiries
   * emit no event, so a timer is the backstop; call rekeyIfAccessLost directly on access events too.
   */
  watchAccess(streamId: string, options: { intervalMs?: number; onRekey?: (removed: string[]) => void; onError?: (err: unknown) => void } = {}): () => void {
    let running = false;
    const timer = setInterval(async () => {
      if (running || this.closed) return;
      running = true;
      try {
        const removed = await this.rekeyIfAccessLost(streamId);
        if (removed.length > 0) options.onRekey?.(removed);
      } catch (err) {
        options.onError?.(err);
      } finally {
        running = false;
      }
    }, options.intervalMs ?? 15_000);
    timer.unref();
    const stop = () => {
      clearInterval(timer);
      this.watchers.delete(stop);
    };
    this.watchers.add(stop);
    return stop;
  }

  /**
   * Answers a key request addressed to this publisher (the server side of the app's
   * KeyRequestChannel): a signed response, or a signed error if the requester may not subscribe,
   * its key is not the registered one, or a key is unknown. Throws on a malformed or forged request.
   */
  async answerKeyRequest(requestBytes: Buffer): Promise<Buffer> {
    await this.ensureAddress();
    const request = decodeKeyExchangeMessage(requestBytes);
    if (request.type !== "request") throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `expected a key request, got a ${request.type}`);
    return this.keyManager(request.streamId).handleRequest(requestBytes, this.options.access);
  }

  private async registeredKeys(addresses: string[]): Promise<{ address: string; publicKey: Uint8Array }[]> {
    const out: { address: string; publicKey: Uint8Array }[] = [];
    for (const a of addresses) {
      const publicKey = await this.options.access.encryptionKeyOf(a.toLowerCase());
      if (!publicKey || publicKey.length === 0) throw new SdkError(SdkErrorCodes.INVALID_KEY, `${a} has no registered encryption key`, { address: a });
      out.push({ address: a.toLowerCase(), publicKey });
    }
    return out;
  }

  private async streamIsPublic(streamId: string): Promise<boolean> {
    if (!this.options.access.isPublic) return false;
    const cached = this.publicCache.get(streamId);
    if (cached && cached.until > Date.now()) return cached.allowed;
    const allowed = await this.options.access.isPublic(streamId);
    this.publicCache.set(streamId, { allowed, until: Date.now() + (this.options.permissionCacheMs ?? 10_000) });
    return allowed;
  }

  private queueAnnouncement(streamId: string, bytes: Buffer, replace: boolean): void {
    const list = replace ? [] : (this.announcements.get(streamId) ?? []);
    list.push({ bytes, publishedIn: new Set() });
    this.announcements.set(streamId, list);
  }

  /** Publishes one event. Resolves once the broker has made it durable. */
  async publish(streamId: string, content: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    streamId = streamId.toLowerCase();
    const transport = await this.getTransport();
    let partition = options.partition;
    if (partition === undefined) {
      const partitions = this.options.partitionsOf ? await this.options.partitionsOf(streamId) : 1;
      partition = options.partitionKey !== undefined ? partitionOf(options.partitionKey, partitions) : 0;
    }
    // Encrypt unless told otherwise or the stream is public (anyone may read it anyway).
    const encrypt = options.encrypt ?? !(await this.streamIsPublic(streamId));
    const { bytes, contentType } = toContent(content, options.contentType);
    const chainKey = `${streamId}|${partition}`;
    let chain = this.publishChains.get(chainKey);
    if (!chain) {
      // A new chain starts at the clock (ms), so that it goes on increasing after a restart of a
      // publisher that averaged at most one event per millisecond; the previous hash is zero.
      chain = { sequenceNumber: Date.now() - 1, hash: ZERO_HASH, timestamp: 0, queue: Promise.resolve() };
      this.publishChains.set(chainKey, chain);
    }
    const c = chain;
    const p = partition;
    const run = async (): Promise<PublishResult> => {
      let groupKeyId = ZERO_HASH;
      let payload = bytes;
      if (encrypt) {
        const key = this.keyManager(streamId).currentKey();
        for (const a of this.announcements.get(streamId) ?? []) {
          if (!a.publishedIn.has(p)) {
            await this.publishInChain(transport, c, streamId, p, a.bytes, ContentType.BINARY, ZERO_HASH, options.timestamp);
            a.publishedIn.add(p);
          }
        }
        groupKeyId = key.id;
        payload = key.encrypt(bytes, this.random);
      }
      return this.publishInChain(transport, c, streamId, p, payload, contentType, groupKeyId, options.timestamp);
    };
    const result = c.queue.then(run, run);
    c.queue = result.catch(() => undefined);
    return result;
  }

  private async publishInChain(
    transport: BrokerTransport,
    chain: ChainState,
    streamId: string,
    streamPartition: number,
    content: Buffer,
    contentType: number,
    groupKeyId: string,
    timestamp?: number,
  ): Promise<PublishResult> {
    const fields: EventFields = {
      streamId,
      streamPartition,
      timestamp: Math.max(timestamp ?? Date.now(), chain.timestamp),
      sequenceNumber: chain.sequenceNumber + 1,
      previousEventHash: chain.hash,
      publisher: this.address,
      contentType,
      encryptionType: groupKeyId === ZERO_HASH ? EncryptionType.NONE : EncryptionType.AES_256_GCM,
      groupKeyId,
      content,
    };
    const frame = await this.sign(fields);
    const { eventHash: hash } = await transport.publish(frame);
    chain.sequenceNumber = fields.sequenceNumber;
    chain.hash = hash;
    chain.timestamp = fields.timestamp;
    return { eventHash: hash, streamPartition, sequenceNumber: fields.sequenceNumber, groupKeyId };
  }

  /** Signs with the native path for a private-key wallet, else through Signer.signMessage (browser wallets). */
  private async sign(fields: EventFields): Promise<Buffer> {
    if (this.privateKeyBytes) return signEvent(fields, this.privateKeyBytes).frame;
    const canonical = encodeCanonical(fields);
    const signature = Signature.from(await this.options.signer.signMessage(eventHash(canonical)));
    return Buffer.concat([canonical, Buffer.from([SignatureType.EIP191_SECP256K1]), Buffer.from(getBytes(signature.serialized))]);
  }

  // ---------------------------------------------------------------- subscribing

  /** Subscribes to one stream partition; `handler` gets every verified, decrypted event once, in chain order. */
  async subscribe(streamId: string, handler: (message: ReceivedMessage) => void | Promise<void>, options: SubscribeOptions = {}): Promise<Subscription> {
    const transport = await this.getTransport();
    const sub = new Subscription(this, streamId.toLowerCase(), options.partition ?? 0, handler, options.onError ?? (() => undefined));
    await transport.subscribe(sub.streamId, sub.streamPartition);
    this.subscriptions.add(sub);
    return sub;
  }

  async unsubscribe(sub: Subscription): Promise<void> {
    sub.active = false;
    this.subscriptions.delete(sub);
    const stillWanted = [...this.subscriptions].some((s) => s.streamId === sub.streamId && s.streamPartition === sub.streamPartition);
    if (!stillWanted && this.transport) await this.transport.unsubscribe(sub.streamId, sub.streamPartition).catch(() => undefined);
  }

  /** Reads history (verified and decrypted); refused events go to `onError`. */
  async resend(streamId: string, query: ResendQuery, options: SubscribeOptions = {}): Promise<ReceivedMessage[]> {
    const transport = await this.getTransport();
    const frames = await transport.resend(streamId.toLowerCase(), options.partition ?? 0, query);
    return this.open(streamId, frames, options);
  }

  /**
   * Verifies and decrypts frames obtained any other way (HTTP history, a file, another client):
   * the same checks as a subscription. Refused or undecryptable frames go to `onError`.
   */
  async open(streamId: string, frames: Buffer[], options: SubscribeOptions = {}): Promise<ReceivedMessage[]> {
    await this.ensureAddress();
    const out: ReceivedMessage[] = [];
    const sub = new Subscription(this, streamId.toLowerCase(), options.partition ?? 0, (m) => void out.push(m), options.onError ?? (() => undefined));
    for (const f of frames) await this.processFrame(sub, f, false);
    return out;
  }

  private onLiveFrame(frame: Buffer): void {
    // The partition is at a fixed offset; decodeFrame (with all checks) runs in processFrame.
    if (frame.length < 37) return;
    const streamId = "0x" + frame.toString("hex", 1, 33);
    const partition = frame.readUInt32BE(33);
    for (const sub of this.subscriptions) {
      if (sub.streamId === streamId && sub.streamPartition === partition) {
        sub.queue = sub.queue.then(() => (sub.active ? this.processFrame(sub, frame, true) : undefined));
      }
    }
  }

  private onNotice(n: { type: string; code?: string; message?: string; [k: string]: unknown }): void {
    const err = new SdkError(SdkErrorCodes.BROKER_ERROR, `${n.code ?? n.type}: ${n.message ?? ""}`, { brokerCode: n.code, notice: n });
    for (const sub of this.subscriptions) {
      if (n.type !== "revoked" || (n.streamId === sub.streamId && (n.streamPartition ?? sub.streamPartition) === sub.streamPartition)) sub.onError(err);
    }
  }

  /**
   * Handles one frame: decode, verify signature, check the publisher's permission, drop
   * duplicates, fill a gap by resend, take key messages, decrypt, deliver.
   */
  private async processFrame(sub: Subscription, frame: Buffer, mayFillGap: boolean): Promise<void> {
    let event: SignedEvent;
    let hash: string;
    try {
      event = decodeFrame(frame);
      hash = toHex(verifyEvent(event));
    } catch (err) {
      sub.stats.refused++;
      sub.onError(wrapBrokerError(err));
      return;
    }
    if (event.streamId !== sub.streamId || event.streamPartition !== sub.streamPartition) return;
    if (!(await this.publisherAllowed(event.streamId, event.publisher))) {
      sub.stats.refused++;
      sub.onError(new SdkError(SdkErrorCodes.PUBLISHER_NOT_ALLOWED, `${event.publisher} may not publish to ${event.streamId}`, { publisher: event.publisher, eventHash: hash }));
      return;
    }
    const chain = sub.chains.get(event.publisher);
    if (chain && event.sequenceNumber <= chain.sequenceNumber) {
      sub.stats.duplicates++;
      return;
    }
    if (chain && event.previousEventHash !== ZERO_HASH && event.previousEventHash !== chain.hash && mayFillGap) {
      await this.fillGap(sub, event, chain);
      const after = sub.chains.get(event.publisher)!;
      if (after.hash !== event.previousEventHash) {
        sub.onError(new SdkError(SdkErrorCodes.GAP_NOT_FILLED, `events of ${event.publisher} between sequence numbers ${after.sequenceNumber} and ${event.sequenceNumber} could not be recovered`, { publisher: event.publisher, from: after.sequenceNumber, to: event.sequenceNumber }));
      }
    }
    sub.chains.set(event.publisher, { sequenceNumber: event.sequenceNumber, hash, timestamp: event.timestamp });
    if (event.timestamp > sub.lastTimestamp) sub.lastTimestamp = event.timestamp;
    await this.take(sub, event, hash);
  }

  private async fillGap(sub: Subscription, event: SignedEvent, chain: ChainState): Promise<void> {
    const transport = await this.getTransport();
    let frames: Buffer[];
    try {
      frames = await transport.resend(sub.streamId, sub.streamPartition, { type: "range", fromTimestamp: chain.timestamp, toTimestamp: event.timestamp, publisher: event.publisher });
    } catch (err) {
      sub.onError(err instanceof SdkError ? err : wrapBrokerError(err));
      return;
    }
    const before = sub.stats.delivered;
    for (const f of frames) {
      const seq = f.length >= 53 ? Number(f.readBigUInt64BE(45)) : -1;
      if (seq > chain.sequenceNumber && seq < event.sequenceNumber) await this.processFrame(sub, f, false);
    }
    if (sub.stats.delivered > before) sub.stats.gapsFilled++;
  }

  private async publisherAllowed(streamId: string, publisher: string): Promise<boolean> {
    const k = `${streamId}|${publisher}`;
    const cached = this.permissionCache.get(k);
    if (cached && cached.until > Date.now()) return cached.allowed;
    const allowed = await this.options.access.canPublish(streamId, publisher);
    this.permissionCache.set(k, { allowed, until: Date.now() + (this.options.permissionCacheMs ?? 10_000) });
    return allowed;
  }

  private async take(sub: Subscription, event: SignedEvent, hash: string): Promise<void> {
    let content: Buffer = Buffer.from(event.content);
    if (event.encryptionType === EncryptionType.NONE && isKeyExchangeMessage(content)) {
      if (!this.keyStore) return;
      try {
        this.keyStore.ingest(content, event.publisher);
      } catch (err) {
        sub.onError(err instanceof SdkError ? err : wrapBrokerError(err));
      }
      return;
    }
    if (event.encryptionType === EncryptionType.AES_256_GCM) {
      try {
        const key = await this.groupKey(event);
        content = key.decrypt(event.content);
      } catch (err) {
        sub.stats.refused++;
        const e = err instanceof SdkError ? err : wrapBrokerError(err);
        sub.onError(new SdkError(e.code, e.message.replace(/^[A-Z_]+: /, ""), { ...e.details, eventHash: hash, publisher: event.publisher, sequenceNumber: event.sequenceNumber }));
        return;
      }
    }
    sub.stats.delivered++;
    const message: ReceivedMessage = {
      streamId: event.streamId,
      streamPartition: event.streamPartition,
      publisher: event.publisher,
      timestamp: event.timestamp,
      sequenceNumber: event.sequenceNumber,
      eventHash: hash,
      contentType: event.contentType,
      content,
      encrypted: event.encryptionType !== EncryptionType.NONE,
      groupKeyId: event.groupKeyId,
      parsed: () => (event.contentType === ContentType.JSON ? JSON.parse(content.toString("utf8")) : event.contentType === ContentType.TEXT ? content.toString("utf8") : content),
    };
    try {
      await sub.handler(message);
    } catch (err) {
      sub.onError(new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `the message handler threw: ${(err as Error)?.message}`, { eventHash: hash }));
    }
  }

  private async groupKey(event: SignedEvent) {
    if (!this.keyStore) throw new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, "this client has no encryption key configured", { groupKeyId: event.groupKeyId });
    if (this.keyStore.has(event.groupKeyId)) return this.keyStore.get(event.groupKeyId);
    if (this.options.keyRequests) {
      // One request per missing key at a time, and a refused key is not asked for again for a while:
      // a subscriber without access must not send the publisher a request per event.
      const refused = this.refusedKeys.get(event.groupKeyId);
      if (refused && refused.until > Date.now()) throw refused.error;
      let pending = this.keyRequestsInFlight.get(event.groupKeyId);
      if (!pending) {
        pending = this.requestKey(event).finally(() => this.keyRequestsInFlight.delete(event.groupKeyId));
        this.keyRequestsInFlight.set(event.groupKeyId, pending);
      }
      try {
        await pending;
      } catch (err) {
        const error = err instanceof SdkError ? err : new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `key request failed: ${(err as Error)?.message}`, { groupKeyId: event.groupKeyId });
        this.refusedKeys.set(event.groupKeyId, { until: Date.now() + (this.options.keyRetryMs ?? 30_000), error });
        throw error;
      }
    }
    return this.keyStore.get(event.groupKeyId);
  }

  private async requestKey(event: SignedEvent): Promise<void> {
    const request = await buildRequest(
      { streamId: event.streamId, publisher: event.publisher, subscriber: this.address, subscriberPublicKey: this.keyStore!.publicKey, groupKeyIds: [event.groupKeyId] },
      this.options.signer,
      this.random,
    );
    const answer = await this.options.keyRequests!.request(event.publisher, request);
    this.keyStore!.ingest(answer, event.publisher);
  }

  // ---------------------------------------------------------------- reconnection

  private async onDisconnect(lost: BrokerTransport, reason: string): Promise<void> {
    if (this.transport !== lost || this.closed) return;
    this.transport = undefined;
    const attempts = this.options.reconnectAttempts ?? 20;
    for (let i = 0; i < attempts && !this.closed; i++) {
      try {
        const t = await this.getTransport();
        for (const sub of this.subscriptions) this.resume(t, sub);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, this.options.reconnectDelayMs ?? 200));
      }
    }
    const err = new SdkError(SdkErrorCodes.BROKER_ERROR, `could not reconnect after ${reason}`, { brokerCode: "DISCONNECTED" });
    for (const sub of this.subscriptions) sub.onError(err);
  }

  /** Re-subscribes, then reads back from just before the last event received; duplicates are dropped by sequence number. */
  private resume(t: BrokerTransport, sub: Subscription): void {
    sub.queue = sub.queue.then(async () => {
      try {
        await t.subscribe(sub.streamId, sub.streamPartition);
        const from = Math.max(0, sub.lastTimestamp - (this.options.resumeLookbackMs ?? 30_000));
        const frames = await t.resend(sub.streamId, sub.streamPartition, { type: "from", fromTimestamp: from });
        for (const f of frames) await this.processFrame(sub, f, true);
      } catch (err) {
        sub.onError(err instanceof SdkError ? err : wrapBrokerError(err));
      }
    });
  }

  /** The current broker connection (for tests of reconnection). */
  get connection(): BrokerTransport | undefined {
    return this.transport;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.watchers]) stop();
    for (const sub of this.subscriptions) sub.active = false;
    this.subscriptions.clear();
    await this.transport?.close();
    this.transport = undefined;
  }
}
