// The services of the flow bench, each as its organisation runs it: the three consent bridges (the
// attestors), the broker with its access gate and followers, and the hospital's publisher. With
// `--services threads` each runs in a worker thread of its own, with its own event loop,
// JSON-RPC provider and GC, as each organisation runs its own process in a deployment; the bench's main
// thread keeps the chain's set-up and the in-process consent ledger (it stands for Fabric's peers and
// gateway). With `--services host` (the default) they run in the main thread beside the ledger, as before.
//
// They reach each other only as in a deployment: the chain over JSON-RPC, the bridges over HTTP, the
// broker over WebSocket, and the consent ledger through a message-port proxy of the auditor client's
// chaincode-event stream and its getGrant call (what a Fabric gateway connection carries). The main
// thread drives the bench through a few calls to each thread (a stream was created, wait for a grant's
// signatures, share a group key, publish): the operator's side of each service, not part of a flow's
// protocol.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import path from "node:path";
import { MessageChannel, Worker, parentPort, workerData, type MessagePort } from "node:worker_threads";
import pino from "pino";
import { JsonRpcProvider, Wallet } from "ethers";
import {
  chainProvider,
  ConsentGrantFollower,
  ContractAccessGate,
  DEFAULT_CONFIG,
  InMemoryStreamIndex,
  StaticPartitionAssignment,
  consentSourceOf,
  startBroker,
} from "@datamarket/broker";
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import { BridgeStore, ConsentBridge, memoryLogger } from "@datamarket/consent-bridge";
import { DataClient, StreamRegistryClient, WsTransport, generateKeyPair } from "@datamarket/sdk";
import { sleep, threadCpuSeconds, useNativeKeccak } from "./flow-buyers";

/** What the services need to know of the deployment (plain data: it crosses to the worker threads). */
export interface ServicesConfig {
  url: string;
  chainId: number;
  registry: string;
  market: string;
  /** the attestors' keys, one bridge each */
  attestorKeys: string[];
  /** the hospital's key: the publisher's signer */
  publisherKey: string;
  /** the block the broker's gate follows the chain from */
  fromBlock: number;
  /** the consent ledger clock's offset from the machine's clock (LedgerClock.offset's shared memory) */
  ledgerClockOffset: SharedArrayBuffer;
}
/** What the bridges and the broker's consent follower read of the consent ledger (a ConsentLedgerClient has both). */
export interface LedgerEvents {
  events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>>;
  getGrant(grantId: string): Promise<unknown>;
}
/** A stream as the broker's stream index records it. */
export interface IndexedStream {
  id: string;
  creator: string;
  path: string;
  partitions: number;
  metadata: Record<string, unknown>;
}
/** A service thread's CPU seconds (cumulative, user + system) and its event loop's delay since the last reading, ms. */
export interface ThreadFigures {
  thread: string;
  cpuSeconds: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}
/** The services as the bench drives them, wherever they run. */
export interface Services {
  layout: "host" | "threads";
  bridgeUrls: string[];
  brokerUrl: string;
  /** The broker's index learns of a new stream (a deployment's broker follows the registry for it). */
  streamCreated(stream: IndexedStream): Promise<void>;
  /** Resolves when 2 bridges have stored their signature of the grant. */
  signatures(grantId: string): Promise<void>;
  shareGroupKey(streamId: string, addresses: string[]): Promise<void>;
  publish(streamId: string, content: Record<string, unknown>): Promise<void>;
  /**
   * The publisher as a real one runs: every 100 ms, for each stream that has subscribers still waiting
   * for data, it shares the group key with the ones it has not shared it with (one announcement for the
   * batch) and publishes an event. Each stream has its own loop, as a publisher of several sensors has.
   */
  startPublishing(streamIds: string[]): Promise<void>;
  /** A buyer waits for (true) or has received (false) its first event on the stream. */
  waiting(streamId: string, address: string, on: boolean): void;
  /** Stops the loop; the shares and publishes the broker refused, by error code (each tried again 100 ms later). */
  stopPublishing(): Promise<Record<string, number>>;
  /** Each service thread's figures (none with the host layout: the services are the main thread's). */
  figures(): Promise<ThreadFigures[]>;
  stop(): Promise<void>;
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
const provider = (url: string) => new JsonRpcProvider(url, undefined, { pollingInterval: 20, cacheTimeout: -1 });
type Stops = Array<() => unknown>;
async function stopAll(stops: Stops) {
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch {
      /* best effort */
    }
  }
}

/** The three consent bridges (2 of 3), following the ledger's events, signing, serving their attestations over HTTP. */
async function startBridges(config: ServicesConfig, ledger: LedgerEvents, stops: Stops) {
  const stores = config.attestorKeys.map(() => BridgeStore.inMemory());
  const urls: string[] = [];
  for (const [i, attestorKey] of config.attestorKeys.entries()) {
    const bridge = await ConsentBridge.start({
      events: ledger,
      attestorKey,
      domain: { chainId: BigInt(config.chainId), market: config.market.toLowerCase() },
      store: stores[i],
      http: { host: "127.0.0.1", port: 0 },
      retryDelayMs: 100,
      log: memoryLogger(),
    });
    stops.push(() => bridge.stop());
    urls.push(bridge.url);
  }
  return {
    urls,
    signatures: (grantId: string) => waitFor(() => stores.filter((s) => s.attestations.has(grantId)).length >= 2, "2 bridge signatures"),
  };
}

/** The broker with its own dual gateway: licences on the market (chain follower), their grants on the consent ledger. */
async function startBrokerService(config: ServicesConfig, ledger: LedgerEvents, stops: Stops) {
  const offset = new Float64Array(config.ledgerClockOffset);
  // the provider a broker makes for itself from its configuration (chain.rpcUrl, chainId)
  const chain = chainProvider(config.url, config.chainId);
  stops.push(() => chain.destroy());
  const consent = new ConsentGrantFollower(consentSourceOf(ledger), { now: () => Date.now() + offset[0] });
  await consent.start();
  stops.push(() => consent.stop());
  const gate = new ContractAccessGate({ provider: chain, registry: config.registry, market: config.market, consent, fromBlock: config.fromBlock });
  await gate.start();
  stops.push(() => gate.stop());
  const index = new InMemoryStreamIndex();
  const dataDir = mkdtempSync(path.join(tmpdir(), "flow-broker-"));
  stops.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const broker = await startBroker(
    { ...structuredClone(DEFAULT_CONFIG), host: "127.0.0.1", wsPort: 0, httpPort: 0, dataDir, chainId: config.chainId, verifyThreads: 0 },
    { gate, streams: index, assignment: new StaticPartitionAssignment(() => 0, "all"), logger: pino({ level: "silent" }) },
  );
  stops.push(() => broker.close());
  return {
    url: `ws://127.0.0.1:${broker.wsPort}`,
    streamCreated: async (stream: IndexedStream) => void index.apply({ type: "created", stream }),
  };
}

/** The hospital's publisher: an SDK client on the broker, and its publishing loop over the streams with buyers waiting. */
async function startPublisherService(config: ServicesConfig, brokerUrl: string, stops: Stops) {
  const chain = provider(config.url);
  stops.push(() => chain.destroy());
  const signer = new Wallet(config.publisherKey, chain);
  const publisher = new DataClient({
    signer,
    access: new StreamRegistryClient(config.registry, chain),
    encryptionPrivateKey: generateKeyPair().privateKey,
    connect: () => WsTransport.connect({ url: brokerUrl, signer }),
  });
  stops.push(() => publisher.close());
  const waiting = new Map<string, Set<string>>();
  const shared = new Map<string, Set<string>>();
  let publishing = false;
  let loops: Promise<unknown> = Promise.resolve();
  const refused: Record<string, number> = {};
  return {
    shareGroupKey: async (streamId: string, addresses: string[]) => void (await publisher.shareGroupKey(streamId, addresses)),
    publish: async (streamId: string, content: Record<string, unknown>) => void (await publisher.publish(streamId, content)),
    startPublishing: async (streamIds: string[]) => {
      for (const s of streamIds) {
        waiting.set(s.toLowerCase(), new Set());
        shared.set(s.toLowerCase(), new Set());
      }
      publishing = true;
      loops = Promise.all(
        streamIds.map(async (s) => {
          const streamId = s.toLowerCase();
          const addresses = waiting.get(streamId)!;
          while (publishing) {
            if (addresses.size > 0) {
              // a share or publish the broker refuses (its gate late: ACCESS_GATE_UNAVAILABLE, fail closed)
              // is tried again on the next turn, as a publisher keeps publishing; counted by its code
              try {
                const fresh = [...addresses].filter((x) => !shared.get(streamId)!.has(x));
                if (fresh.length > 0) {
                  await publisher.shareGroupKey(streamId, fresh);
                  for (const x of fresh) shared.get(streamId)!.add(x);
                }
                await publisher.publish(streamId, { t: Date.now() });
              } catch (e) {
                const code = /[A-Z]+(_[A-Z]+)+/.exec(String((e as Error)?.message ?? e))?.[0] ?? "other";
                refused[code] = (refused[code] ?? 0) + 1;
              }
            }
            await sleep(100);
          }
        }),
      );
    },
    waiting: (streamId: string, address: string, on: boolean) => void waiting.get(streamId.toLowerCase())![on ? "add" : "delete"](address),
    stopPublishing: async () => {
      publishing = false;
      await loops;
      return refused;
    },
  };
}

// ---- messages between threads -------------------------------------------------------------------------

/** A MessagePort, a Worker or a thread's parentPort: something to post messages to and hear them from. */
interface Port {
  postMessage(value: unknown): void;
  on(event: "message", listener: (value: any) => void): unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}
type Handlers = Record<string, (...args: any[]) => unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** An error's message and its `code` (a chaincode error's, which the consent follower's ping reads), across threads. */
const wireError = (e: unknown) => ({ error: String((e as Error)?.message ?? e), code: (e as { code?: string })?.code });
function fromWire(m: { error: string; code?: string }) {
  return Object.assign(new Error(m.error), m.code === undefined ? {} : { code: m.code });
}

/** Answers calls ({ call, id, args }; with no id, nothing is answered) on a port with the handlers. */
function serve(port: Port, handlers: Handlers) {
  port.on("message", (m: { call?: string; id?: number; args?: unknown[] }) => {
    if (m.call === undefined) return;
    let answer: Promise<unknown>;
    try {
      answer = Promise.resolve(handlers[m.call](...(m.args ?? [])));
    } catch (e) {
      answer = Promise.reject(e);
    }
    if (m.id === undefined) answer.catch(() => undefined);
    else
      answer.then(
        (value) => port.postMessage({ id: m.id, value }),
        (e) => port.postMessage({ id: m.id, ...wireError(e) }),
      );
  });
}
/** Calls the handlers served on the other end of a port; `post` sends one without waiting for an answer. */
function caller(port: Port) {
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  port.on("message", (m: { id?: number; value?: unknown; error?: string; code?: string }) => {
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p) return;
    pending.delete(m.id!);
    if (m.error !== undefined) p.reject(fromWire(m as { error: string; code?: string }));
    else p.resolve(m.value);
  });
  return {
    call: (name: string, ...args: unknown[]) =>
      new Promise<any>((resolve, reject) => {
        // eslint-disable-line @typescript-eslint/no-explicit-any
        const id = nextId++;
        pending.set(id, { resolve, reject });
        port.postMessage({ call: name, id, args });
      }),
    post: (name: string, ...args: unknown[]) => port.postMessage({ call: name, args }),
    /** fails every call still waiting (the other end is gone) */
    fail: (e: Error) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    },
  };
}

/**
 * The main thread's end of a ledger proxy: serves `events` (each stream's batches pushed as
 * { stream, batch } messages, in order, until closed) and `getGrant` of the client on the port.
 */
export function serveLedger(port: MessagePort, client: LedgerEvents) {
  const streams = new Map<number, CloseableEvents<ConsentLedgerEventBatch>>();
  let next = 0;
  serve(port, {
    events: async (startBlock?: bigint) => {
      const stream = await client.events(startBlock);
      const id = next++;
      streams.set(id, stream);
      void (async () => {
        try {
          for await (const batch of stream) port.postMessage({ stream: id, batch });
          port.postMessage({ stream: id, end: true });
        } catch (e) {
          port.postMessage({ stream: id, ...wireError(e) });
        } finally {
          streams.delete(id);
        }
      })();
      return id;
    },
    closeEvents: (id: number) => streams.get(id)?.close(),
    getGrant: (grantId: string) => client.getGrant(grantId),
  });
  return () => {
    for (const s of streams.values()) s.close();
    port.close();
  };
}
/** A service thread's end of a ledger proxy: the auditor client's event stream and getGrant, over the port. */
function ledgerProxy(port: MessagePort): LedgerEvents {
  const rpc = caller(port);
  type Item = { batch?: ConsentLedgerEventBatch; end?: true; error?: string; code?: string };
  const queues = new Map<number, { items: Item[]; wake?: () => void }>();
  port.on("message", (m: Item & { stream?: number }) => {
    if (m.stream === undefined) return;
    const q = queues.get(m.stream) ?? { items: [] };
    queues.set(m.stream, q);
    q.items.push(m);
    q.wake?.();
  });
  return {
    getGrant: (grantId) => rpc.call("getGrant", grantId),
    events: async (startBlock) => {
      const id: number = await rpc.call("events", startBlock);
      const q = queues.get(id) ?? { items: [] };
      queues.set(id, q);
      let closed = false;
      return {
        close: () => {
          if (closed) return;
          closed = true;
          rpc.post("closeEvents", id);
          q.items.push({ end: true });
          q.wake?.();
        },
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              while (q.items.length === 0) await new Promise<void>((r) => (q.wake = r));
              const item = q.items.shift()!;
              if (item.error !== undefined) throw fromWire(item as { error: string; code?: string });
              if (item.end) return;
              yield item.batch!;
            }
          } finally {
            queues.delete(id);
          }
        },
      };
    },
  };
}

// ---- the layouts ---------------------------------------------------------------------------------------

/** The services in the calling thread (the old layout: one event loop for the ledger, bridges, broker and publisher). */
export async function startServicesInHost(config: ServicesConfig, ledger: LedgerEvents): Promise<Services> {
  const stops: Stops = [];
  try {
    const bridges = await startBridges(config, ledger, stops);
    const broker = await startBrokerService(config, ledger, stops);
    const publisher = await startPublisherService(config, broker.url, stops);
    return {
      layout: "host",
      bridgeUrls: bridges.urls,
      brokerUrl: broker.url,
      streamCreated: broker.streamCreated,
      signatures: bridges.signatures,
      ...publisher,
      figures: async () => [],
      stop: () => stopAll(stops),
    };
  } catch (e) {
    await stopAll(stops);
    throw e;
  }
}

type Role = "bridges" | "broker" | "publisher";
interface ServiceThreadData {
  role: Role;
  config: ServicesConfig;
  brokerUrl?: string;
  ledger?: MessagePort;
}

/**
 * One worker thread running one service; resolves with a caller of its handlers once it has started
 * (its start-up, loading the packages, is not timed). A thread that fails or exits fails every call
 * still waiting on it.
 */
function startServiceThread(data: ServiceThreadData, stops: Stops) {
  const boot = `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(__filename)});`;
  return new Promise<{ rpc: ReturnType<typeof caller>; started: Record<string, unknown> }>((resolve, reject) => {
    const worker = new Worker(boot, { eval: true, workerData: data, transferList: data.ledger ? [data.ledger] : [] });
    const rpc = caller(worker);
    let running = false;
    stops.push(async () => {
      if (running) await rpc.call("stop").catch(() => undefined);
      await worker.terminate();
    });
    const gone = (e: Error) => {
      running = false;
      rpc.fail(e);
      reject(e);
    };
    worker.on("error", (e) => gone(new Error(`${data.role} thread: ${e.message}`)));
    worker.on("exit", (code) => gone(new Error(`${data.role} thread exited (code ${code})`)));
    worker.on("message", (m: { started?: Record<string, unknown>; failed?: string }) => {
      if (m.started) {
        running = true;
        resolve({ rpc, started: m.started });
      } else if (m.failed) reject(new Error(`${data.role} thread: ${m.failed}`));
    });
  });
}

/** The bridges, the broker and the publisher in worker threads of their own; the ledger's events reach them through proxies. */
export async function startServicesInThreads(config: ServicesConfig, ledger: LedgerEvents): Promise<Services> {
  const stops: Stops = [];
  const proxied = () => {
    const { port1, port2 } = new MessageChannel();
    stops.push(serveLedger(port1, ledger));
    return port2;
  };
  try {
    const [bridges, broker] = await Promise.all([
      startServiceThread({ role: "bridges", config, ledger: proxied() }, stops),
      startServiceThread({ role: "broker", config, ledger: proxied() }, stops),
    ]);
    const brokerUrl = broker.started.url as string;
    const publisher = await startServiceThread({ role: "publisher", config, brokerUrl }, stops);
    const threads = { bridges, broker, publisher };
    return {
      layout: "threads",
      bridgeUrls: bridges.started.urls as string[],
      brokerUrl,
      streamCreated: (stream) => broker.rpc.call("streamCreated", stream),
      signatures: (grantId) => bridges.rpc.call("signatures", grantId),
      shareGroupKey: (streamId, addresses) => publisher.rpc.call("shareGroupKey", streamId, addresses),
      publish: (streamId, content) => publisher.rpc.call("publish", streamId, content),
      startPublishing: (streamIds) => publisher.rpc.call("startPublishing", streamIds),
      waiting: (streamId, address, on) => publisher.rpc.post("waiting", streamId, address, on),
      stopPublishing: () => publisher.rpc.call("stopPublishing"),
      figures: () => Promise.all(Object.values(threads).map((t) => t.rpc.call("figures"))),
      stop: () => stopAll(stops),
    };
  } catch (e) {
    await stopAll(stops);
    throw e;
  }
}

/** In a service thread: starts the service of workerData, reports what it serves, answers the main thread's calls. */
async function serviceThreadMain() {
  const port = parentPort!;
  const { role, config, brokerUrl, ledger } = workerData as ServiceThreadData;
  useNativeKeccak();
  const stops: Stops = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const common: Handlers = {
    figures: (): ThreadFigures => {
      const figures = {
        thread: role,
        cpuSeconds: threadCpuSeconds(),
        eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      };
      loopDelay.reset();
      return figures;
    },
    stop: async () => {
      loopDelay.disable();
      await stopAll(stops);
      ledger?.close();
    },
  };
  try {
    if (role === "bridges") {
      const bridges = await startBridges(config, ledgerProxy(ledger!), stops);
      serve(port, { ...common, signatures: bridges.signatures });
      port.postMessage({ started: { urls: bridges.urls } });
    } else if (role === "broker") {
      const broker = await startBrokerService(config, ledgerProxy(ledger!), stops);
      serve(port, { ...common, streamCreated: broker.streamCreated });
      port.postMessage({ started: { url: broker.url } });
    } else {
      const publisher = await startPublisherService(config, brokerUrl!, stops);
      serve(port, { ...common, ...publisher });
      port.postMessage({ started: {} });
    }
  } catch (e) {
    port.postMessage({ failed: String((e as Error)?.stack ?? e) });
    await stopAll(stops);
  }
}

if (parentPort && (workerData as ServiceThreadData | undefined)?.role) void serviceThreadMain();
