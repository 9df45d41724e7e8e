// Test helpers: a broker from the broker package running in-process on 127.0.0.1 (ephemeral
// ports, temporary data dir, in-memory access gate and stream index), clients, and a
// man-in-the-middle transport that drops or alters deliveries, as a faulty or malicious broker would.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Wallet } from "ethers";
import {
  DEFAULT_CONFIG,
  InMemoryAccessGate,
  InMemoryStreamIndex,
  startBroker,
  streamIdOf,
  type PartitionAssignmentSource,
  type RunningBroker,
} from "@datamarket/broker";
import { DataClient, type DataClientOptions } from "../src/client/DataClient";
import type { StreamAccess } from "../src/client/access";
import { WsTransport, type BrokerTransport } from "../src/client/transport";
import { generateKeyPair } from "@datamarket/protocol";

export interface TestNet {
  broker: RunningBroker;
  gate: InMemoryAccessGate;
  index: InMemoryStreamIndex;
  url: string;
  /** Registered encryption keys (the stream registry's encryptionKeyOf). */
  registeredKeys: Map<string, Uint8Array>;
  access: StreamAccess;
  stop(): Promise<void>;
}

/** `assignment`: the network partitions the broker serves (default: all). */
export async function startTestNet(storage: { maxResendEvents?: number } = {}, assignment?: PartitionAssignmentSource): Promise<TestNet> {
  const dir = mkdtempSync(join(tmpdir(), "sdk-test-"));
  const gate = new InMemoryAccessGate();
  const index = new InMemoryStreamIndex();
  const broker = await startBroker(
    { ...structuredClone(DEFAULT_CONFIG), host: "127.0.0.1", wsPort: 0, httpPort: 0, dataDir: dir, storage: { ...DEFAULT_CONFIG.storage, ...storage } },
    { gate, streams: index, assignment, logger: pino({ level: "silent" }) },
  );
  const registeredKeys = new Map<string, Uint8Array>();
  const access: StreamAccess = {
    canPublish: (s, a) => gate.canPublish(s, a),
    canSubscribe: async (s, a) => (await gate.canSubscribe(s, a)) || (await gate.licenceOf(s, a)) !== null,
    encryptionKeyOf: async (a) => registeredKeys.get(a.toLowerCase()) ?? null,
  };
  return {
    broker,
    gate,
    index,
    registeredKeys,
    access,
    url: `ws://127.0.0.1:${broker.wsPort}`,
    stop: async () => {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function createStream(net: TestNet, creator: string, path: string, partitions = 1): string {
  const id = streamIdOf(creator.toLowerCase(), path);
  net.index.apply({ type: "created", stream: { id, creator: creator.toLowerCase(), path, partitions, metadata: {} } });
  return id;
}

/** A wrapper around a real transport that lets a test drop or alter live deliveries. */
export class MitmTransport implements BrokerTransport {
  onFrame: (frame: Uint8Array) => void = () => undefined;
  onNotice: BrokerTransport["onNotice"] = () => undefined;
  onDisconnect: (reason: string) => void = () => undefined;
  /** Returns the frame to deliver (possibly altered), or null to drop it. */
  tamper: (frame: Buffer, index: number) => Buffer | null = (f) => f;
  private delivered = 0;

  constructor(readonly inner: WsTransport) {
    inner.onFrame = (f) => {
      const out = this.tamper(Buffer.from(f), this.delivered++);
      if (out) this.onFrame(out);
    };
    inner.onNotice = (n) => this.onNotice(n);
    inner.onDisconnect = (r) => this.onDisconnect(r);
  }
  publish(frame: Uint8Array) {
    return this.inner.publish(frame);
  }
  subscribe(s: string, p: number) {
    return this.inner.subscribe(s, p);
  }
  unsubscribe(s: string, p: number) {
    return this.inner.unsubscribe(s, p);
  }
  resend(s: string, p: number, q: Parameters<BrokerTransport["resend"]>[2]) {
    return this.inner.resend(s, p, q);
  }
  close() {
    return this.inner.close();
  }
}

export interface TestClient {
  wallet: Wallet;
  address: string;
  client: DataClient;
  encryptionPrivateKey: Uint8Array;
  /** The transports this client opened, latest last. */
  transports: WsTransport[];
  mitm?: MitmTransport;
}

/** A client with a fresh wallet (or `wallet`) and a registered encryption key; `signer` replaces the wallet as signer everywhere. */
export function makeClient(net: TestNet, opts: { mitm?: boolean; wallet?: Wallet } & Partial<DataClientOptions> = {}): TestClient {
  const wallet = opts.wallet ?? (Wallet.createRandom() as unknown as Wallet);
  const signer = opts.signer ?? wallet;
  const enc = generateKeyPair();
  net.registeredKeys.set(wallet.address.toLowerCase(), enc.publicKey);
  const tc: TestClient = {
    wallet,
    address: wallet.address.toLowerCase(),
    encryptionPrivateKey: enc.privateKey,
    transports: [],
    client: undefined as unknown as DataClient,
  };
  tc.client = new DataClient({
    signer,
    access: net.access,
    encryptionPrivateKey: enc.privateKey,
    reconnectDelayMs: 50,
    connect: async () => {
      const t = await WsTransport.connect({ url: net.url, signer });
      tc.transports.push(t);
      if (!opts.mitm) return t;
      tc.mitm = new MitmTransport(t);
      return tc.mitm;
    },
    ...opts,
  });
  return tc;
}

/** Waits for `cond`: a liveness bound (15 s by default, which a loaded machine needs), not a speed bar. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
