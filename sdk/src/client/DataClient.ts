// The client: publish (sign, encrypt, chain, partition) and subscribe / resend (verify against the
// publisher's permission, decrypt, fill gaps by resend, resume after reconnect without loss or
// duplicates), with the group-key exchange of docs/protocol.md "Key exchange" carried in-band.

import {
  assembleEvent,
  buildRequest,
  bytesToUtf8,
  ContentType,
  decodeFrame,
  decodeKeyExchangeMessage,
  defaultRandom,
  encodeCanonical,
  EncryptionType,
  EventOffsets,
  eventHash,
  frameTimestamp,
  GroupKeyManager,
  GroupKeyStore,
  hexOf,
  hexToBytes,
  isKeyExchangeMessage,
  normalizeSignature,
  publicKeyOf,
  readSafeUint64BE,
  readUint32BE,
  signEvent,
  toHex,
  utf8ToBytes,
  verifyEvent,
  ZERO_HASH,
  type EventFields,
  type RandomSource,
  type SignedEvent,
} from "@datamarket/protocol";
import { Wallet, type Signer } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { ownBytes } from "../platform";
import type { VoucherRequest, VoucherSigner } from "./payments";
import type { KeyRequestChannel, StreamAccess } from "./access";
import { BrokerLocator, type BrokerEndpoint, type CoordinatorWithEndpoints } from "./BrokerLocator";
import { partitionOf } from "./partition";
import { WsTransport, type BrokerTransport, type ChainTip, type GapNotice, type ResendFrames, type ResendQuery, type WsTransportOptions } from "./transport";

export interface DataClientOptions {
  /** The wallet that signs events, key messages and the broker sign-in. */
  signer: Signer;
  /**
   * The network coordinator (e.g. `deployment.coordinator`): the default way to reach brokers. Each
   * stream partition is served by the brokers the coordinator assigns to its network partition; the
   * client connects to one of them and fails over to the others (docs/sdk.md, "Failover").
   */
  coordinator?: CoordinatorWithEndpoints;
  /** The same through a locator of your own (endpoints from elsewhere); takes precedence over `coordinator`. */
  locator?: BrokerLocator;
  /** Opens an authenticated connection to one broker of the locator. Default: `WsTransport.connect({ url: endpoint.wsUrl, signer, presentation })`. */
  transportFor?: (endpoint: BrokerEndpoint) => Promise<BrokerTransport>;
  /** A credential presentation for each broker sign-in (WsTransportOptions.presentation), for streams whose policy asks for one. */
  presentation?: WsTransportOptions["presentation"];
  /** A single fixed broker instead (tests, a private deployment): opens an authenticated connection; called again to reconnect. */
  connect?: () => Promise<BrokerTransport>;
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
  /**
   * Reconnection: after a lost connection the client tries the partition's other brokers at once,
   * then waits between rounds from `reconnectDelayMs` (default 100) doubling up to
   * `reconnectMaxDelayMs` (default 5,000), and never gives up while a subscription is open.
   */
  reconnectDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** How long one publish may take, reconnections and republishes included (ms). Default 30,000. */
  publishTimeoutMs?: number;
  /** How long one chain read (permissions, stream flags, the coordinator) may take before it counts as unreachable (ms). Default 3,000. */
  chainTimeoutMs?: number;
  /** How long a refused or failed key request is not repeated (ms). Default 30,000. */
  keyRetryMs?: number;
  /** How long a publish-permission answer is reused (ms). Default 10,000. */
  permissionCacheMs?: number;
  /**
   * Pays brokers that charge per event (docs/sdk.md, "Paying brokers"): answers their voucher requests
   * within its spending limit. Without it, a broker with prices stops this client after one voucher period.
   */
  payments?: VoucherSigner;
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
  /** Plaintext bytes (a Buffer in Node, a Uint8Array in browsers). */
  content: Uint8Array;
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

/** A publish chain: its tip, its queue, and whether the tip was learnt from a broker since the last uncertain outcome. */
interface PublishChain extends ChainState {
  queue: Promise<unknown>;
  synced: boolean;
}

/** One broker connection, shared by the stream partitions routed to it. */
interface Conn {
  key: string;
  transport: BrokerTransport;
  routes: Set<Route>;
  dead: boolean;
}

/** A stream partition: the brokers that serve it, the one in use, its subscriptions. */
interface Route {
  key: string;
  streamId: string;
  partition: number;
  endpoints: BrokerEndpoint[];
  index: number;
  failures: number;
  conn?: Conn;
  connecting?: Promise<BrokerTransport>;
  subs: Set<Subscription>;
  recovering?: Promise<void>;
}

/** The one "endpoint" of a client built with a fixed `connect`. */
const FIXED: BrokerEndpoint = { broker: "", wsUrl: "" };
/** Broker codes after which the same signed event is sent again (to the next broker), idempotently. */
const RETRY_CODES = new Set(["DISCONNECTED", "TIMEOUT", "NOT_ENOUGH_REPLICAS", "SHUTTING_DOWN", "STORAGE_FAILURE", "PARTITION_NOT_SERVED"]);
/** Chain-rule refusals: the broker's tip differs from the client's. */
const CHAIN_CODES = new Set(["DUPLICATE_SEQUENCE", "OUT_OF_ORDER_SEQUENCE", "PREVIOUS_EVENT_MISMATCH"]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const brokerCodeOf = (err: unknown) => (err instanceof SdkError ? (err.details.brokerCode as string | undefined) : undefined);

interface PendingAnnouncement {
  bytes: Uint8Array;
  publishedIn: Set<number>;
}

export class Subscription {
  /** Per publisher: the last event taken from its chain. */
  readonly chains = new Map<string, ChainState>();
  lastTimestamp = 0;
  queue: Promise<void> = Promise.resolve();
  active = true;
  /** Counters for tests and monitoring. */
  readonly stats = { delivered: 0, duplicates: 0, gapsFilled: 0, refused: 0, reconnects: 0, resubscribes: 0 };
  /** Waiting to subscribe again after a fail-closed cut (ACCESS_GATE_UNAVAILABLE). */
  resubscribing = false;

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

function toContent(content: unknown, contentType?: number): { bytes: Uint8Array; contentType: number } {
  if (content instanceof Uint8Array) return { bytes: content, contentType: contentType ?? ContentType.BINARY };
  if (typeof content === "string") return { bytes: utf8ToBytes(content), contentType: contentType ?? ContentType.TEXT };
  return { bytes: utf8ToBytes(JSON.stringify(content)), contentType: contentType ?? ContentType.JSON };
}

/** A refused frame's error: the protocol's decoding and signature errors keep their codes (INVALID_SIGNATURE, MALFORMED_MESSAGE), the original as `cause`. */
function wrapBrokerError(err: unknown): SdkError {
  if (err instanceof SdkError) return err;
  const wire = (err as { code?: unknown })?.code;
  if (wire === "INVALID_SIGNATURE") return SdkError.from(err, SdkErrorCodes.INVALID_SIGNATURE, { brokerCode: wire });
  return SdkError.from(err, SdkErrorCodes.MALFORMED_MESSAGE, typeof wire === "string" ? { brokerCode: wire } : {});
}

const sequenceNumberOf = (frame: Uint8Array) =>
  frame.length >= EventOffsets.previousEventHash ? (readSafeUint64BE(frame, EventOffsets.sequenceNumber) ?? -1) : -1;

export class DataClient {
  private readonly conns = new Map<string, Conn>();
  private readonly opening = new Map<string, Promise<Conn>>();
  private readonly routes = new Map<string, Route>();
  private readonly locator?: BrokerLocator;
  /** When a chain read last failed (ms): reads within chainTimeoutMs after it do not wait again. */
  private chainDownSince = 0;
  private address = "";
  private readonly publishChains = new Map<string, PublishChain>();
  private readonly keyManagers = new Map<string, GroupKeyManager>();
  private readonly announcements = new Map<string, PendingAnnouncement[]>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly permissionCache = new Map<string, { allowed: boolean; until: number }>();
  private readonly watchers = new Set<() => void>();
  private readonly publicCache = new Map<string, { allowed: boolean; until: number }>();
  private readonly partitionCache = new Map<string, { count: number; until: number }>();
  private readonly keyRequestsInFlight = new Map<string, Promise<void>>();
  private readonly refusedKeys = new Map<string, { until: number; error: SdkError }>();
  private readonly privateKeyBytes?: Uint8Array;
  private keys?: GroupKeyStore;
  private closed = false;
  private readonly random: RandomSource;

  constructor(private readonly options: DataClientOptions) {
    this.random = options.random ?? defaultRandom;
    if (options.signer instanceof Wallet) this.privateKeyBytes = hexToBytes(options.signer.privateKey, 32, "privateKey");
    this.locator = options.locator ?? (options.coordinator ? BrokerLocator.fromCoordinator(options.coordinator) : undefined);
    if (!this.locator && !options.connect) {
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "give the coordinator (or a locator) to reach the brokers, or a fixed connect()", {
        field: "coordinator",
      });
    }
  }

  /**
   * Signs in (publish and subscribe do it on first use) to the fixed broker of `connect`; with a
   * coordinator, connections are per stream partition and opened on first use. Returns this client's address.
   */
  async connect(): Promise<string> {
    await this.ensureAddress();
    if (!this.locator) await this.connOf(FIXED);
    return this.address;
  }

  /** This client's compressed encryption public key (to register with registerEncryptionKey). */
  get encryptionPublicKey(): Uint8Array | undefined {
    return this.options.encryptionPrivateKey ? publicKeyOf(this.options.encryptionPrivateKey) : undefined;
  }

  // ---------------------------------------------------------------- connections and failover

  private routeFor(streamId: string, partition: number): Route {
    const key = `${streamId}|${partition}`;
    let r = this.routes.get(key);
    // Clients start on a random assignee, which spreads them over the partition's brokers.
    if (!r)
      this.routes.set(
        key,
        (r = { key, streamId, partition, endpoints: this.locator ? [] : [FIXED], index: Math.floor(Math.random() * 8), failures: 0, subs: new Set() }),
      );
    return r;
  }

  /** The brokers of a route, refreshed from the coordinator (the previous list when it does not answer). */
  private async endpointsOf(route: Route): Promise<BrokerEndpoint[]> {
    if (!this.locator) return route.endpoints;
    try {
      const current = route.endpoints.length > 0 ? route.endpoints[route.index % route.endpoints.length].broker : undefined;
      const fresh = await this.chainRead(() => this.locator!.brokersOf(route.streamId, route.partition));
      route.endpoints = fresh;
      // Keep pointing at the broker in turn when the list is reordered.
      const at = current === undefined ? -1 : fresh.findIndex((e) => e.broker === current);
      if (at >= 0) route.index = at;
    } catch (err) {
      if (route.endpoints.length === 0) throw err;
    }
    return route.endpoints;
  }

  /** An open connection to one broker (shared by routes), signing in once. */
  private connOf(endpoint: BrokerEndpoint): Promise<Conn> {
    const key = endpoint === FIXED ? "fixed" : endpoint.wsUrl;
    const open = this.conns.get(key);
    if (open && !open.dead) return Promise.resolve(open);
    let pending = this.opening.get(key);
    if (!pending) {
      pending = (async () => {
        if (this.closed) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the client is closed", { brokerCode: "CLOSED" });
        await this.ensureAddress();
        const transport =
          endpoint === FIXED
            ? await this.options.connect!()
            : await (
                this.options.transportFor ??
                ((e: BrokerEndpoint) =>
                  WsTransport.connect({ url: e.wsUrl, signer: this.options.signer, connectTimeoutMs: 3000, presentation: this.options.presentation }))
              )(endpoint);
        const conn: Conn = { key, transport, routes: new Set(), dead: false };
        transport.onFrame = (frame) => this.onLiveFrame(conn, frame);
        transport.onNotice = (n) => this.onNotice(conn, n);
        transport.onDisconnect = () => this.onConnLost(conn);
        if (this.closed) {
          await transport.close();
          throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the client is closed", { brokerCode: "CLOSED" });
        }
        this.conns.set(key, conn);
        return conn;
      })().finally(() => this.opening.delete(key));
      this.opening.set(key, pending);
    }
    return pending;
  }

  /**
   * The connection of a route: the broker in use, else the next of the partition's brokers that
   * answers. A full round of refusals waits `reconnectDelayMs`, doubling up to `reconnectMaxDelayMs`;
   * with a deadline it throws past it, without one it tries as long as the client is open.
   */
  private transportOf(route: Route, deadline?: number): Promise<BrokerTransport> {
    if (route.conn && !route.conn.dead) return Promise.resolve(route.conn.transport);
    route.connecting ??= (async () => {
      let last: unknown;
      for (;;) {
        if (this.closed) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the client is closed", { brokerCode: "CLOSED" });
        let endpoints: BrokerEndpoint[] = [];
        try {
          endpoints = await this.endpointsOf(route);
          const endpoint = endpoints[route.index % endpoints.length];
          const conn = await this.connOf(endpoint);
          conn.routes.add(route);
          route.conn = conn;
          route.failures = 0;
          return conn.transport;
        } catch (err) {
          last = err;
          route.index++;
          route.failures++;
        }
        if (deadline !== undefined && Date.now() >= deadline) {
          throw last instanceof SdkError
            ? last
            : new SdkError(SdkErrorCodes.BROKER_ERROR, `no broker of ${route.streamId}/${route.partition} answers: ${(last as Error)?.message ?? last}`, {
                brokerCode: "DISCONNECTED",
              });
        }
        const round = Math.floor((route.failures - 1) / Math.max(1, endpoints.length));
        if (route.failures % Math.max(1, endpoints.length) === 0 || endpoints.length <= 1) {
          const base = this.options.reconnectDelayMs ?? 100;
          const delay = Math.min(this.options.reconnectMaxDelayMs ?? 5000, base * 2 ** Math.min(round, 16)) * (0.8 + 0.4 * Math.random());
          await sleep(deadline !== undefined ? Math.min(delay, deadline - Date.now()) : delay);
        }
      }
    })().finally(() => (route.connecting = undefined));
    return route.connecting;
  }

  /** Whether a request refused with this broker code is tried again (on the partition's next broker). */
  private retryable(code: string | undefined): boolean {
    // A fixed broker that does not serve the partition never will; with the coordinator it means
    // the assignment moved, and another assignee does.
    return code !== undefined && RETRY_CODES.has(code) && (code !== "PARTITION_NOT_SERVED" || !!this.locator);
  }

  /** Moves a route off its broker (which timed out or refused for a reason another may not have). */
  private rotate(route: Route): void {
    route.conn?.routes.delete(route);
    route.conn = undefined;
    route.index++;
  }

  /** A connection was lost: its routes move to their next broker; those with subscriptions resume there. */
  private onConnLost(conn: Conn): void {
    if (conn.dead) return;
    conn.dead = true;
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
    if (this.closed) return;
    for (const route of conn.routes) {
      if (route.conn === conn) this.rotate(route);
      // Silent for the application: the subscription resumes without loss (stats.reconnects counts it).
      if ([...route.subs].some((s) => s.active)) void this.recover(route);
    }
    conn.routes.clear();
  }

  /** Reconnects a route with subscriptions (no final give-up while one is open) and resumes each. */
  private recover(route: Route): Promise<void> {
    route.recovering ??= (async () => {
      while (!this.closed && [...route.subs].some((s) => s.active)) {
        let t: BrokerTransport;
        try {
          t = await this.transportOf(route);
        } catch {
          continue; // closed, or retried inside
        }
        for (const sub of route.subs) {
          if (!sub.active) continue;
          sub.stats.reconnects++;
          this.resume(t, sub);
        }
        return;
      }
    })().finally(() => (route.recovering = undefined));
    return route.recovering;
  }

  /**
   * A chain read bounded by chainTimeoutMs. While the chain is known to be unreachable (a read
   * failed less than chainTimeoutMs ago), reads fail at once instead of waiting again.
   */
  private async chainRead<T>(read: () => Promise<T>): Promise<T> {
    const timeoutMs = this.options.chainTimeoutMs ?? 3000;
    if (Date.now() - this.chainDownSince < timeoutMs) {
      throw new SdkError(SdkErrorCodes.CHAIN_UNAVAILABLE, "the chain did not answer a moment ago", { brokerCode: "CHAIN_TIMEOUT", since: this.chainDownSince });
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        read(),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new SdkError(SdkErrorCodes.CHAIN_UNAVAILABLE, `the chain did not answer within ${timeoutMs} ms`, { brokerCode: "CHAIN_TIMEOUT" })),
              timeoutMs,
            )),
        ),
      ]);
    } catch (err) {
      if (err instanceof SdkError && err.code === SdkErrorCodes.CHAIN_UNAVAILABLE) this.chainDownSince = Date.now();
      throw err;
    } finally {
      clearTimeout(timer);
    }
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
  async answerKeyRequest(requestBytes: Uint8Array): Promise<Uint8Array> {
    await this.ensureAddress();
    const request = decodeKeyExchangeMessage(requestBytes);
    if (request.type !== "request") throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `expected a key request, got a ${request.type}`);
    return this.keyManager(request.streamId).handleRequest(requestBytes, this.options.access);
  }

  private async registeredKeys(addresses: string[]): Promise<{ address: string; publicKey: Uint8Array }[]> {
    // Read together: one chain read after another made a share with the 30 buyers of one publish
    // interval wait 30 round trips (2 s on a loaded node) before the first of them could read an event.
    return Promise.all(
      addresses.map(async (a) => {
        const publicKey = await this.options.access.encryptionKeyOf(a.toLowerCase());
        if (!publicKey || publicKey.length === 0) throw new SdkError(SdkErrorCodes.INVALID_KEY, `${a} has no registered encryption key`, { address: a });
        return { address: a.toLowerCase(), publicKey };
      }),
    );
  }

  private async streamIsPublic(streamId: string): Promise<boolean> {
    if (!this.options.access.isPublic) return false;
    const cached = this.publicCache.get(streamId);
    if (cached && cached.until > Date.now()) return cached.allowed;
    let allowed: boolean;
    try {
      allowed = await this.chainRead(() => this.options.access.isPublic!(streamId));
    } catch (err) {
      // A stream's public flag rarely changes: the last answer holds while the chain is away.
      if (cached) return cached.allowed;
      throw err instanceof SdkError
        ? err
        : new SdkError(SdkErrorCodes.CHAIN_UNAVAILABLE, `the registry could not be read: ${(err as Error)?.message ?? err}`, {}, { cause: err });
    }
    this.publicCache.set(streamId, { allowed, until: Date.now() + (this.options.permissionCacheMs ?? 10_000) });
    return allowed;
  }

  /** A stream's partition count (options.partitionsOf), cached like the public flag; the last answer holds while the chain is away. */
  private async partitionCount(streamId: string): Promise<number> {
    const cached = this.partitionCache.get(streamId);
    if (cached && cached.until > Date.now()) return cached.count;
    try {
      const count = await this.chainRead(() => this.options.partitionsOf!(streamId));
      this.partitionCache.set(streamId, { count, until: Date.now() + (this.options.permissionCacheMs ?? 10_000) });
      return count;
    } catch (err) {
      if (cached) return cached.count;
      throw err;
    }
  }

  private queueAnnouncement(streamId: string, bytes: Uint8Array, replace: boolean): void {
    const list = replace ? [] : (this.announcements.get(streamId) ?? []);
    list.push({ bytes, publishedIn: new Set() });
    this.announcements.set(streamId, list);
  }

  /**
   * Publishes one event. Resolves once a broker has made it durable (on as many replicas as its
   * partition's acknowledgement policy asks). A lost connection, a timeout or too few replicas make
   * the client send the same signed event again, to the next broker of the partition (brokers
   * deduplicate it by event hash), until `publishTimeoutMs`. Refused at once with CHAIN_UNAVAILABLE
   * when the chain cannot be reached (by this client or by the broker's access gate).
   */
  async publish(streamId: string, content: unknown, options: PublishOptions = {}): Promise<PublishResult> {
    streamId = streamId.toLowerCase();
    await this.ensureAddress();
    let partition = options.partition;
    if (partition === undefined) {
      const partitions = this.options.partitionsOf ? await this.partitionCount(streamId) : 1;
      partition = options.partitionKey !== undefined ? partitionOf(options.partitionKey, partitions) : 0;
    }
    // Encrypt unless told otherwise or the stream is public (anyone may read it anyway).
    const encrypt = options.encrypt ?? !(await this.streamIsPublic(streamId));
    const { bytes, contentType } = toContent(content, options.contentType);
    const chainKey = `${streamId}|${partition}`;
    let chain = this.publishChains.get(chainKey);
    if (!chain) {
      // Until a broker tells the chain's tip (chainTip), a new chain starts at the clock (ms) with
      // a zero previous hash, so that it goes on increasing even without that answer.
      chain = { sequenceNumber: Date.now() - 1, hash: ZERO_HASH, timestamp: 0, queue: Promise.resolve(), synced: false };
      this.publishChains.set(chainKey, chain);
    }
    const c = chain;
    const p = partition;
    const route = this.routeFor(streamId, p);
    const run = async (): Promise<PublishResult> => {
      const deadline = Date.now() + (this.options.publishTimeoutMs ?? 30_000);
      let groupKeyId = ZERO_HASH;
      let payload = bytes;
      if (encrypt) {
        const key = this.keyManager(streamId).currentKey();
        for (const a of this.announcements.get(streamId) ?? []) {
          if (!a.publishedIn.has(p)) {
            await this.publishInChain(route, c, a.bytes, ContentType.BINARY, ZERO_HASH, deadline, options.timestamp);
            a.publishedIn.add(p);
          }
        }
        groupKeyId = key.id;
        payload = key.encrypt(bytes, this.random);
      }
      return this.publishInChain(route, c, payload, contentType, groupKeyId, deadline, options.timestamp);
    };
    const result = c.queue.then(run, run);
    c.queue = result.catch(() => undefined);
    return result;
  }

  /** Learns the chain's tip from the broker (a restarted client, or after an uncertain outcome). */
  private async syncChain(route: Route, chain: PublishChain, deadline: number): Promise<void> {
    const t = await this.transportOf(route, deadline);
    if (!t.chainTip) {
      chain.synced = true;
      return;
    }
    const tip = await t.chainTip(route.streamId, route.partition);
    // A chain this client has not published on yet continues from the broker's tip; a known one
    // only moves forward (the broker answers after fetching the partition's tip, protocol.md §6.6).
    const fresh = chain.timestamp === 0 && chain.hash === ZERO_HASH;
    if (tip && (fresh || tip.sequenceNumber >= chain.sequenceNumber)) this.adopt(chain, tip);
    chain.synced = true;
  }

  private adopt(chain: PublishChain, tip: ChainTip): void {
    chain.sequenceNumber = tip.sequenceNumber;
    chain.hash = tip.eventHash;
    chain.timestamp = tip.timestamp;
  }

  private async publishInChain(
    route: Route,
    chain: PublishChain,
    content: Uint8Array,
    contentType: number,
    groupKeyId: string,
    deadline: number,
    timestamp?: number,
  ): Promise<PublishResult> {
    try {
      for (let attempt = 0; ; attempt++) {
        if (!chain.synced)
          await this.syncChain(route, chain, deadline).catch((err) => {
            if (Date.now() >= deadline) throw err;
          });
        const fields: EventFields = {
          streamId: route.streamId,
          streamPartition: route.partition,
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
        try {
          const { eventHash: hash } = await this.send(route, frame, deadline);
          chain.sequenceNumber = fields.sequenceNumber;
          chain.hash = hash;
          chain.timestamp = fields.timestamp;
          return { eventHash: hash, streamPartition: route.partition, sequenceNumber: fields.sequenceNumber, groupKeyId };
        } catch (err) {
          // The broker holds another tip (this client restarted, or an earlier attempt's outcome
          // was unknown): learn it, and sign the content again on top of it, once.
          if (attempt > 0 || !CHAIN_CODES.has(brokerCodeOf(err) ?? "")) throw err;
          chain.synced = false;
          const t = await this.transportOf(route, deadline);
          const tip = t.chainTip ? await t.chainTip(route.streamId, route.partition) : null;
          const mine = toHex(eventHash(frame.subarray(0, frame.length - 66)));
          if (tip?.eventHash === mine) {
            this.adopt(chain, tip);
            return { eventHash: mine, streamPartition: route.partition, sequenceNumber: fields.sequenceNumber, groupKeyId };
          }
          if (tip) this.adopt(chain, tip);
          chain.synced = true;
        }
      }
    } catch (err) {
      // The outcome is unknown (the event may be stored): the next publish asks the broker first.
      chain.synced = false;
      throw err;
    }
  }

  /**
   * Sends one signed event until a broker acknowledges it: after a lost connection, a timeout or
   * too few replicas, the same frame goes to the next broker of the partition (idempotent).
   */
  private async send(route: Route, frame: Uint8Array, deadline: number): Promise<{ eventHash: string }> {
    for (;;) {
      const t = await this.transportOf(route, deadline);
      try {
        return await t.publish(frame);
      } catch (err) {
        const code = brokerCodeOf(err);
        if (code === "ACCESS_GATE_UNAVAILABLE") {
          throw new SdkError(
            SdkErrorCodes.CHAIN_UNAVAILABLE,
            `the broker cannot reach the chain or the consent ledger and refuses publishing: ${(err as SdkError).shortMessage ?? (err as Error).message}`,
            { ...(err as SdkError).details },
            { cause: err },
          );
        }
        if (!this.retryable(code) || Date.now() >= deadline) throw err;
        if (route.conn?.transport === t) this.rotate(route);
        if (code === "NOT_ENOUGH_REPLICAS") await sleep(Math.min(200, deadline - Date.now()));
      }
    }
  }

  /** Signs with the native path for a private-key wallet, else through Signer.signMessage (browser wallets). */
  private async sign(fields: EventFields): Promise<Uint8Array> {
    if (this.privateKeyBytes) return signEvent(fields, this.privateKeyBytes).frame;
    const signature = normalizeSignature(await this.options.signer.signMessage(eventHash(encodeCanonical(fields))));
    return assembleEvent(fields, signature).frame;
  }

  // ---------------------------------------------------------------- subscribing

  /**
   * Subscribes to one stream partition; `handler` gets every verified, decrypted event once, in
   * chain order. The subscription survives its broker: on a lost connection it moves to another of
   * the partition's brokers and reads back what it missed; after a fail-closed cut
   * (ACCESS_GATE_UNAVAILABLE) it subscribes again once the broker's gate recovers. A revocation
   * (ACCESS_REVOKED) ends it.
   */
  async subscribe(streamId: string, handler: (message: ReceivedMessage) => void | Promise<void>, options: SubscribeOptions = {}): Promise<Subscription> {
    await this.ensureAddress();
    const sub = new Subscription(this, streamId.toLowerCase(), options.partition ?? 0, handler, options.onError ?? (() => undefined));
    const route = this.routeFor(sub.streamId, sub.streamPartition);
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 30_000);
    for (;;) {
      const t = await this.transportOf(route, deadline);
      try {
        route.subs.add(sub);
        this.subscriptions.add(sub);
        await t.subscribe(sub.streamId, sub.streamPartition);
        return sub;
      } catch (err) {
        if (!this.retryable(brokerCodeOf(err)) || Date.now() >= deadline) {
          route.subs.delete(sub);
          this.subscriptions.delete(sub);
          throw err;
        }
        if (route.conn?.transport === t) this.rotate(route);
      }
    }
  }

  async unsubscribe(sub: Subscription): Promise<void> {
    sub.active = false;
    this.subscriptions.delete(sub);
    const route = this.routes.get(`${sub.streamId}|${sub.streamPartition}`);
    route?.subs.delete(sub);
    const stillWanted = [...this.subscriptions].some((s) => s.streamId === sub.streamId && s.streamPartition === sub.streamPartition);
    if (!stillWanted && route?.conn && !route.conn.dead) await route.conn.transport.unsubscribe(sub.streamId, sub.streamPartition).catch(() => undefined);
  }

  /** Reads history (verified and decrypted); refused events go to `onError`, and so do the broker's gap notices (GAP_NOT_FILLED). */
  async resend(streamId: string, query: ResendQuery, options: SubscribeOptions = {}): Promise<ReceivedMessage[]> {
    await this.ensureAddress();
    const route = this.routeFor(streamId.toLowerCase(), options.partition ?? 0);
    const deadline = Date.now() + (this.options.publishTimeoutMs ?? 30_000);
    let frames: ResendFrames;
    for (;;) {
      const t = await this.transportOf(route, deadline);
      try {
        frames = await t.resend(route.streamId, route.partition, query);
        break;
      } catch (err) {
        if (!this.retryable(brokerCodeOf(err)) || Date.now() >= deadline) throw err;
        if (route.conn?.transport === t) this.rotate(route);
      }
    }
    for (const gap of frames.gaps ?? []) options.onError?.(gapError(gap));
    return this.open(streamId, frames, options);
  }

  /**
   * Verifies and decrypts frames obtained any other way (HTTP history, a file, another client):
   * the same checks as a subscription. Refused or undecryptable frames go to `onError`.
   */
  async open(streamId: string, frames: Uint8Array[], options: SubscribeOptions = {}): Promise<ReceivedMessage[]> {
    await this.ensureAddress();
    const out: ReceivedMessage[] = [];
    const sub = new Subscription(this, streamId.toLowerCase(), options.partition ?? 0, (m) => void out.push(m), options.onError ?? (() => undefined));
    for (const f of frames) await this.processFrame(sub, f, false);
    return out;
  }

  private onLiveFrame(conn: Conn, frame: Uint8Array): void {
    // The partition is at a fixed offset; decodeFrame (with all checks) runs in processFrame.
    if (frame.length < 37) return;
    const streamId = "0x" + hexOf(frame, 1, 33);
    const partition = readUint32BE(frame, EventOffsets.streamPartition);
    const route = this.routes.get(`${streamId}|${partition}`);
    // Only the connection a route uses delivers to its subscriptions (not one it left).
    if (!route || route.conn !== conn) return;
    for (const sub of route.subs) {
      sub.queue = sub.queue.then(() => (sub.active ? this.processFrame(sub, frame, true) : undefined));
    }
  }

  private onNotice(conn: Conn, n: { type: string; code?: string; message?: string; [k: string]: unknown }): void {
    if (n.type === "voucherRequest" && this.options.payments && conn.transport.voucher) {
      const transport = conn.transport;
      void this.options.payments
        .answer(n as unknown as VoucherRequest)
        .then((v) => transport.voucher!(v))
        .catch((err: unknown) => {
          // Not signed (above the limit) or not taken: the broker will stop this client; say why.
          const error = err instanceof SdkError ? err : new SdkError(SdkErrorCodes.BROKER_ERROR, String((err as Error)?.message ?? err), { notice: n });
          for (const route of conn.routes) for (const sub of route.subs) sub.onError(error);
        });
      return;
    }
    const err = new SdkError(SdkErrorCodes.BROKER_ERROR, `${n.code ?? n.type}: ${n.message ?? ""}`, { brokerCode: n.code, notice: n });
    for (const route of conn.routes) {
      if (route.conn !== conn) continue;
      for (const sub of route.subs) {
        if (n.type !== "revoked" || (n.streamId === sub.streamId && (n.streamPartition ?? sub.streamPartition) === sub.streamPartition)) {
          sub.onError(err);
          // A fail-closed cut is not a revocation: subscribe again once the gate recovers.
          if (n.type === "revoked" && n.code === "ACCESS_GATE_UNAVAILABLE") this.resubscribe(route, sub);
        }
      }
    }
  }

  /** After a fail-closed cut: tries to subscribe again (backing off) while the subscription is wanted, then resumes it. */
  private resubscribe(route: Route, sub: Subscription): void {
    if (sub.resubscribing) return;
    sub.resubscribing = true;
    void (async () => {
      let delay = this.options.reconnectDelayMs ?? 100;
      while (sub.active && !this.closed) {
        await sleep(delay * (0.8 + 0.4 * Math.random()));
        delay = Math.min(this.options.reconnectMaxDelayMs ?? 5000, delay * 2);
        let t: BrokerTransport;
        try {
          t = await this.transportOf(route);
          await t.subscribe(sub.streamId, sub.streamPartition);
        } catch (err) {
          // Still failing closed here: try the partition's next broker next time.
          if (brokerCodeOf(err) === "ACCESS_GATE_UNAVAILABLE" && this.locator && route.endpoints.length > 1 && route.subs.size === 1) this.rotate(route);
          continue;
        }
        sub.stats.resubscribes++;
        this.resume(t, sub, false);
        break;
      }
    })().finally(() => (sub.resubscribing = false));
  }

  /**
   * Handles one frame: decode, verify signature, check the publisher's permission, drop
   * duplicates, fill a gap by resend, take key messages, decrypt, deliver.
   */
  private async processFrame(sub: Subscription, frame: Uint8Array, mayFillGap: boolean): Promise<void> {
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
      sub.onError(
        new SdkError(SdkErrorCodes.PUBLISHER_NOT_ALLOWED, `${event.publisher} may not publish to ${event.streamId}`, {
          publisher: event.publisher,
          eventHash: hash,
        }),
      );
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
        sub.onError(
          new SdkError(
            SdkErrorCodes.GAP_NOT_FILLED,
            `events of ${event.publisher} between sequence numbers ${after.sequenceNumber} and ${event.sequenceNumber} could not be recovered`,
            { publisher: event.publisher, from: after.sequenceNumber, to: event.sequenceNumber },
          ),
        );
      }
    }
    sub.chains.set(event.publisher, { sequenceNumber: event.sequenceNumber, hash, timestamp: event.timestamp });
    if (event.timestamp > sub.lastTimestamp) sub.lastTimestamp = event.timestamp;
    await this.take(sub, event, hash);
  }

  private async fillGap(sub: Subscription, event: SignedEvent, chain: ChainState): Promise<void> {
    const route = this.routeFor(sub.streamId, sub.streamPartition);
    const query: ResendQuery = { type: "range", fromTimestamp: chain.timestamp, toTimestamp: event.timestamp, publisher: event.publisher };
    const before = sub.stats.delivered;
    let frames: ResendFrames;
    try {
      frames = await (await this.transportOf(route, Date.now() + (this.options.publishTimeoutMs ?? 30_000))).resend(sub.streamId, sub.streamPartition, query);
    } catch (err) {
      sub.onError(err instanceof SdkError ? err : wrapBrokerError(err));
      return;
    }
    await this.takeRange(sub, frames, chain, event);
    // The broker says it lacks some of them: ask the partition's other brokers.
    if (sub.chains.get(event.publisher)?.hash !== event.previousEventHash && (frames.gaps?.length ?? 0) > 0 && this.locator) {
      for (const endpoint of route.endpoints) {
        if (endpoint.wsUrl === route.conn?.key) continue;
        try {
          const other = await this.connOf(endpoint);
          await this.takeRange(sub, await other.transport.resend(sub.streamId, sub.streamPartition, query), chain, event);
        } catch {
          continue;
        }
        if (sub.chains.get(event.publisher)?.hash === event.previousEventHash) break;
      }
    }
    if (sub.stats.delivered > before) sub.stats.gapsFilled++;
  }

  private async takeRange(sub: Subscription, frames: Uint8Array[], chain: ChainState, event: SignedEvent): Promise<void> {
    for (const f of chainOrder(frames)) {
      const seq = sequenceNumberOf(f);
      if (seq > chain.sequenceNumber && seq < event.sequenceNumber) await this.processFrame(sub, f, false);
    }
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
    let content: Uint8Array = event.content;
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
        sub.onError(
          new SdkError(
            e.code,
            e.shortMessage,
            { ...e.details, eventHash: hash, publisher: event.publisher, sequenceNumber: event.sequenceNumber },
            { cause: e.cause ?? e },
          ),
        );
        return;
      }
    }
    sub.stats.delivered++;
    const owned = ownBytes(content);
    const message: ReceivedMessage = {
      streamId: event.streamId,
      streamPartition: event.streamPartition,
      publisher: event.publisher,
      timestamp: event.timestamp,
      sequenceNumber: event.sequenceNumber,
      eventHash: hash,
      contentType: event.contentType,
      content: owned,
      encrypted: event.encryptionType !== EncryptionType.NONE,
      groupKeyId: event.groupKeyId,
      parsed: () =>
        event.contentType === ContentType.JSON ? JSON.parse(bytesToUtf8(owned)) : event.contentType === ContentType.TEXT ? bytesToUtf8(owned) : owned,
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
        const error =
          err instanceof SdkError
            ? err
            : new SdkError(SdkErrorCodes.UNKNOWN_GROUP_KEY, `key request failed: ${(err as Error)?.message}`, { groupKeyId: event.groupKeyId });
        this.refusedKeys.set(event.groupKeyId, { until: Date.now() + (this.options.keyRetryMs ?? 30_000), error });
        throw error;
      }
    }
    return this.keyStore.get(event.groupKeyId);
  }

  private async requestKey(event: SignedEvent): Promise<void> {
    const request = await buildRequest(
      {
        streamId: event.streamId,
        publisher: event.publisher,
        subscriber: this.address,
        subscriberPublicKey: this.keyStore!.publicKey,
        groupKeyIds: [event.groupKeyId],
      },
      this.options.signer,
      this.random,
    );
    const answer = await this.options.keyRequests!.request(event.publisher, request);
    this.keyStore!.ingest(answer, event.publisher);
  }

  // ---------------------------------------------------------------- resuming

  /**
   * Re-subscribes (unless already subscribed), then reads back from just before the last event
   * received, in chain order; duplicates are dropped by sequence number.
   */
  private resume(t: BrokerTransport, sub: Subscription, subscribe = true): void {
    sub.queue = sub.queue.then(async () => {
      try {
        if (subscribe) await t.subscribe(sub.streamId, sub.streamPartition);
        const from = Math.max(0, sub.lastTimestamp - (this.options.resumeLookbackMs ?? 30_000));
        const frames = await t.resend(sub.streamId, sub.streamPartition, { type: "from", fromTimestamp: from });
        for (const f of chainOrder(frames)) await this.processFrame(sub, f, true);
      } catch (err) {
        sub.onError(err instanceof SdkError ? err : wrapBrokerError(err));
        const route = this.routeFor(sub.streamId, sub.streamPartition);
        if (brokerCodeOf(err) === "ACCESS_GATE_UNAVAILABLE") this.resubscribe(route, sub);
      }
    });
  }

  /** A current broker connection (for tests of reconnection). */
  get connection(): BrokerTransport | undefined {
    for (const c of this.conns.values()) if (!c.dead) return c.transport;
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of [...this.watchers]) stop();
    for (const sub of this.subscriptions) sub.active = false;
    this.subscriptions.clear();
    const conns = [...this.conns.values()];
    this.conns.clear();
    for (const c of conns) c.dead = true;
    await Promise.all(conns.map((c) => c.transport.close().catch(() => undefined)));
  }
}

/**
 * Frames in chain order: each publisher's events by sequence number (a replica may hold a chain's
 * events in another arrival order), publishers interleaved by timestamp.
 */
export function chainOrder<F extends Uint8Array>(frames: F[]): F[] {
  const byPublisher = new Map<string, F[]>();
  for (const f of frames) {
    if (f.length < 105) continue;
    const p = hexOf(f, 85, 105);
    let list = byPublisher.get(p);
    if (!list) byPublisher.set(p, (list = []));
    list.push(f);
  }
  const seq = sequenceNumberOf;
  const ts = (f: Uint8Array) => (f.length >= EventOffsets.sequenceNumber ? frameTimestamp(f) : 0);
  const lists = [...byPublisher.values()].map((l) => l.sort((a, b) => seq(a) - seq(b)));
  if (lists.length === 1) return lists[0];
  const out: F[] = [];
  const heads = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) if (heads[i] < lists[i].length && (best < 0 || ts(lists[i][heads[i]]) < ts(lists[best][heads[best]]))) best = i;
    if (best < 0) return out;
    out.push(lists[best][heads[best]++]);
  }
}

function gapError(gap: GapNotice): SdkError {
  return new SdkError(
    SdkErrorCodes.GAP_NOT_FILLED,
    gap.reason === "CATCHING_UP"
      ? `the broker is still catching up on events from ${gap.fromTimestamp} to ${gap.toTimestamp}`
      : `the broker lacks events of ${gap.publisher} between sequence numbers ${gap.fromSequence} and ${gap.toSequence}`,
    { ...gap, from: gap.fromSequence, to: gap.toSequence },
  );
}
