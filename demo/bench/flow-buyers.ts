// The buyers' side of the flow bench's sustained phase: each buyer's wallet, market client and SDK client,
// and the part of a flow a buyer runs (consent request -> bridges' signatures -> buyWithPermit mined ->
// subscribed -> first event decrypted). The same code runs in the process that hosts the consent ledger,
// the bridges, the broker and the publisher (--buyer-workers 0) or in worker threads (--buyer-workers N),
// where it reaches the host only as a buyer's machine would: the chain over JSON-RPC, the bridges over
// HTTP, the broker over WebSocket, and the consent ledger (the buyer's Fabric gateway) and the publisher's
// "who is waiting" list through messages to the host thread.
import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { JsonRpcProvider, Wallet, keccak256 } from "ethers";
import { DataClient, MarketClient, StreamRegistryClient, WsTransport } from "@datamarket/sdk";
import { cryptoBackend, keccak256 as nativeKeccak256 } from "@datamarket/broker";

/** What a buyer reaches in the hosting process: its Fabric gateway and the publisher's list of buyers waiting for data. */
export interface BuyerHost {
  /** The buyer's access request, decided on the consent ledger: the grant's id (throws when denied). */
  requestAccess(buyer: number, productId: string): Promise<string>;
  /** Resolves when 2 bridges have stored their signature of the grant. */
  signatures(grantId: string): Promise<void>;
  /** The buyer waits for (true) or has received (false) its first event on the stream. */
  waiting(streamId: string, address: string, on: boolean): void;
}
/** What a thread needs to run buyers: where the node, bridges and broker are, and each buyer's keys. */
export interface BuyersSpec {
  url: string;
  registry: string;
  market: string;
  token: string;
  bridgeUrls: string[];
  brokerUrl: string;
  /** index: the buyer's number in the host (its Fabric identity). */
  buyers: Array<{ index: number; privateKey: string; encryption: { privateKey: Uint8Array; publicKey: Uint8Array } }>;
  /** The products of each lane: a buyer's lane j runs its products one after the other, its lanes at once. */
  lanes: Array<Array<{ streamId: string; productId: string }>>;
}
/** A thread's figures: completion times on the shared clock (performance.timeOrigin + now, ms), per-step times. */
export interface BuyersResult {
  completions: number[];
  steps: Record<string, number[]>;
  gas: number[];
  blocks: number[];
  gateRetries: number;
  gateRetriesBy: Record<string, number>;
  /** CPU seconds of the thread that ran the buyers (user + system, from /proc/thread-self/stat). */
  threadCpuSeconds: number;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Milliseconds on a clock that threads share (performance.now() of each thread counts from its own start). */
export const sharedNow = () => performance.timeOrigin + performance.now();
/** CPU seconds (user + system) of the calling thread, from Linux's /proc/thread-self/stat (clock ticks of 10 ms). */
export function threadCpuSeconds(): number {
  const stat = readFileSync("/proc/thread-self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields from the 3rd of stat(5): utime is the 14th, stime the 15th; USER_HZ is 100 on Linux
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** CPU seconds (user + system, all its threads) of another process, from /proc/<pid>/stat: the chain node's. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** ethers' keccak through the protocol's native addon where it loads (same digests); which one is in use. */
export function useNativeKeccak(): "native" | "js" {
  if (cryptoBackend.backend !== "native") return "js";
  keccak256.register(function nativeKeccakInEthers(data) {
    return nativeKeccak256(data);
  });
  return "native";
}

/**
 * A subscribe, retried on ACCESS_GATE_UNAVAILABLE: a broker that cannot get its gate's answer in time
 * refuses, failing closed, and a client retries that one, as a wallet would, a bounded number of times.
 * The retries are counted in `count` by what the gate did not answer in time ("the licence", ...).
 */
export async function subscribeRetrying(
  client: DataClient,
  streamId: string,
  handler: () => void,
  count: { gateRetries: number; gateRetriesBy: Record<string, number> },
) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.subscribe(streamId, handler);
    } catch (error) {
      if (attempt >= 20 || !String((error as Error).message).includes("ACCESS_GATE_UNAVAILABLE")) throw error;
      count.gateRetries += 1;
      const what = /did not answer (.+?) within/.exec(String((error as Error).message))?.[1] ?? "other";
      count.gateRetriesBy[what] = (count.gateRetriesBy[what] ?? 0) + 1;
      await sleep(250);
    }
  }
}

/**
 * Runs each buyer's lanes (all at once; a lane's products one after the other), each flow the whole flow,
 * and returns the figures. Every timing point is taken here, in the thread that runs the buyers.
 */
export async function runBuyers(spec: BuyersSpec, host: BuyerHost, provider: JsonRpcProvider): Promise<BuyersResult> {
  const clients: DataClient[] = [];
  const result: BuyersResult = { completions: [], steps: {}, gas: [], blocks: [], gateRetries: 0, gateRetriesBy: {}, threadCpuSeconds: 0 };
  for (const k of ["fabricDecision", "bridgeSignatures", "buyWithPermit", "subscribe", "firstEvent", "flow"]) result.steps[k] = [];
  const cpu0 = threadCpuSeconds();
  try {
    await Promise.all(
      spec.buyers.flatMap((buyer) => {
        const wallet = new Wallet(buyer.privateKey, provider);
        const address = wallet.address.toLowerCase();
        // one market client per wallet: the SDK gives its purchases in flight consecutive account
        // nonces and permit nonces (an ethers NonceManager would add a round trip to each send: it
        // lets the wallet read the pending count again, then replaces it)
        const market = new MarketClient(spec.market, spec.token, wallet, {
          urls: spec.bridgeUrls,
          // the SDK's 5 s per bridge request is for a wallet facing remote bridges; here the buyers, 3
          // bridges, the ledger and the broker share a shared machine, and a bridge answering late must
          // slow the figure down, not abort the run
          timeoutMs: 30_000,
        });
        const client = new DataClient({
          signer: wallet,
          access: new StreamRegistryClient(spec.registry, provider),
          encryptionPrivateKey: buyer.encryption.privateKey,
          connect: () => WsTransport.connect({ url: spec.brokerUrl, signer: wallet }),
        });
        clients.push(client);
        return spec.lanes.map(async (lane) => {
          for (const { streamId, productId } of lane) {
            const t0 = sharedNow();
            const grantId = await host.requestAccess(buyer.index, productId);
            const t1 = sharedNow();
            await host.signatures(grantId);
            const t2 = sharedNow();
            // every transaction the flow sends (here one: buyWithPermit) and the gas its receipt records
            const { receipt } = await market.buyWithPermit({ productId, duration: 3_600, grantId, encryptionKey: buyer.encryption.publicKey });
            result.gas.push(Number(receipt.gasUsed));
            result.blocks.push(receipt.blockNumber);
            const t3 = sharedNow();
            let first: () => void = () => undefined;
            const arrived = new Promise<void>((resolve) => (first = resolve));
            const sub = await subscribeRetrying(client, streamId, () => first(), result);
            const t4 = sharedNow();
            host.waiting(streamId, address, true);
            await arrived;
            host.waiting(streamId, address, false);
            const t5 = sharedNow();
            await sub.unsubscribe();
            result.completions.push(t5);
            const t = { fabricDecision: t1 - t0, bridgeSignatures: t2 - t1, buyWithPermit: t3 - t2, subscribe: t4 - t3, firstEvent: t5 - t4, flow: t5 - t0 };
            for (const [k, v] of Object.entries(t)) result.steps[k].push(v);
          }
        });
      }),
    );
  } finally {
    result.threadCpuSeconds = threadCpuSeconds() - cpu0;
    for (const c of clients) await c.close().catch(() => undefined);
  }
  return result;
}

// Messages between the host and a buyer thread. Host -> thread: "start", and the answers to the thread's
// calls ({ id, value } or { id, error }). Thread -> host: "ready", calls ({ call, id, args }), waiting
// notices, and at the end { done: BuyersResult } or { failed: message }.
export type ToHost =
  | { ready: true }
  | { call: "requestAccess" | "signatures"; id: number; args: unknown[] }
  | { waiting: [string, string, boolean] }
  | { done: BuyersResult }
  | { failed: string };

/** In a worker thread: the buyers of workerData, on the host reached through messages. */
async function workerMain() {
  const port = parentPort!;
  const spec = workerData as BuyersSpec;
  useNativeKeccak();
  const provider = new JsonRpcProvider(spec.url, undefined, { pollingInterval: 20, cacheTimeout: -1 });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const call = (name: "requestAccess" | "signatures", ...args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      port.postMessage({ call: name, id, args } satisfies ToHost);
    });
  const host: BuyerHost = {
    requestAccess: async (buyer, productId) => (await call("requestAccess", buyer, productId)) as string,
    signatures: async (grantId) => void (await call("signatures", grantId)),
    waiting: (streamId, address, on) => port.postMessage({ waiting: [streamId, address, on] } satisfies ToHost),
  };
  const started = new Promise<void>((resolve) =>
    port.on("message", (m: { start?: true; id?: number; value?: unknown; error?: string }) => {
      if (m.start) return resolve();
      const p = pending.get(m.id!);
      pending.delete(m.id!);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.value);
    }),
  );
  port.postMessage({ ready: true } satisfies ToHost);
  await started;
  try {
    port.postMessage({ done: await runBuyers(spec, host, provider) } satisfies ToHost);
  } catch (e) {
    port.postMessage({ failed: String((e as Error)?.stack ?? e) } satisfies ToHost);
  } finally {
    provider.destroy();
    port.close();
  }
}

if (parentPort && workerData?.buyers) void workerMain();
