// Whole dual-gateway flow benchmark on the embedded defaults: a local node (child process: Hardhat's,
// or anvil with interval mining), the in-process consent ledger, 3 consent bridges (2 of 3), one
// broker. For N concurrent buyers (1 -> 100) each buyer runs the flow: Fabric access request
// (approved, grant written) -> 2 bridges signed -> buyWithPermit mined -> subscribed -> first live
// event decrypted. Then the publisher sends a burst to the N subscribers (fan-out).
// On a node with block times the chain's limit is the block's gas: the bench reads the block gas limit
// from the node, measures the gas of every transaction a flow sends from its receipt, and prints
// flows/s beside the bound (gas limit / gas of a flow / block time) and 0.8 x the bound.
// Prints JSON (median and spread per figure) on the last line.
// --sustain K adds the throughput phase: --sustain-buyers (default 100) buyers each run K flows back to
// back, and flows/s in the steady state is set beside the chain's bound. --in-flight F (default 1): each
// buyer keeps F flows in flight at once, each on a product of its own (a buyer licensing F streams
// together; its wallet's purchases go out with consecutive nonces), F x K flows a buyer in all.
// --buyer-workers W (default 0): the sustained phase's buyers (wallets, SDK clients, their part of each
// flow: flow-buyers.ts) run in W worker threads instead of the thread that hosts the ledger, the bridges,
// the broker and the publisher; the CPU of the host thread and of the buyer threads is reported apart.
// --services host|threads (default host): threads runs the bridges, the broker (with its access gate and
// followers) and the publisher each in a worker thread of their own, as each organisation runs its own
// process, and the main thread keeps the in-process consent ledger (flow-services.ts); host, as before,
// runs all of them in the main thread beside the ledger. Each service thread's CPU is reported.
//   ts-node --transpile-only bench/flow.ts [--quick] [--chain hardhat|anvil] [--block-time S] [--buyers 1,5,100] [--runs N]
//     [--services host|threads] [--sustain K [--sustain-buyers N] [--in-flight F] [--buyer-workers W]] [--out FILE]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, id, keccak256, toUtf8Bytes } from "ethers";
import type {} from "@nomicfoundation/hardhat-toolbox";
import { InProcessConsentLedger } from "@datamarket/consent-ledger";
import { DataClient, MarketClient, StreamRegistryClient, WsTransport, generateKeyPair } from "@datamarket/sdk";
import { devChainIgnition } from "../src/network";
import { startChain, takeChainOptions, type Cleanup } from "../src/node";
import {
  runBuyers,
  sharedNow,
  sleep,
  subscribeRetrying,
  processCpuSeconds,
  threadCpuSeconds,
  useNativeKeccak,
  type BuyerHost,
  type BuyersResult,
  type BuyersSpec,
  type ToHost,
} from "./flow-buyers";
import { startServicesInHost, startServicesInThreads } from "./flow-services";

const ROOT = path.resolve(__dirname, "..", "..");
const argv = process.argv.slice(2);
const CHAIN = takeChainOptions(argv);
const quick = argv.includes("--quick");
const OUT = option("out");
/** `--NAME value` of the command line, if given. */
function option(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const BUYERS = option("buyers")?.split(",").map(Number) ?? (quick ? [1, 5, 20] : [1, 5, 10, 25, 50, 100]);
const RUNS = Number(option("runs") ?? (quick ? 2 : 3));
if (!BUYERS.every((n) => Number.isInteger(n) && n >= 1 && n <= 200) || !Number.isInteger(RUNS) || RUNS < 1 || RUNS > 10)
  throw new Error(`--buyers ${option("buyers")} --runs ${option("runs")}: buyers are whole numbers from 1 to 200, runs from 1 to 10`);
const BURST = quick ? 50 : 100;
// The sustained phase (--sustain K): SUSTAIN_BUYERS buyers each run K flows back to back, each on a product
// of its own, so that the chain, not the start and end of a round, sets the pace. Bounded: K x buyers flows.
const SUSTAIN = Number(option("sustain") ?? 0);
const SUSTAIN_BUYERS = Number(option("sustain-buyers") ?? 100);
// Flows each sustained buyer keeps in flight at once, on as many products (1: one flow after the other).
const IN_FLIGHT = Number(option("in-flight") ?? 1);
if (!Number.isInteger(SUSTAIN) || SUSTAIN < 0 || SUSTAIN > 20 || !Number.isInteger(SUSTAIN_BUYERS) || SUSTAIN_BUYERS < 1 || SUSTAIN_BUYERS > 200)
  throw new Error(`--sustain ${option("sustain")} --sustain-buyers ${option("sustain-buyers")}: flows per buyer from 0 to 20, buyers from 1 to 200`);
if (!Number.isInteger(IN_FLIGHT) || IN_FLIGHT < 1 || IN_FLIGHT > 10)
  throw new Error(`--in-flight ${option("in-flight")}: flows in flight per buyer from 1 to 10`);
// Worker threads the sustained phase's buyers run in (0: in the process hosting the ledger, bridges,
// broker and publisher, as before). A deployment's buyers run on machines of their own.
const BUYER_WORKERS = Number(option("buyer-workers") ?? 0);
if (!Number.isInteger(BUYER_WORKERS) || BUYER_WORKERS < 0 || BUYER_WORKERS > 8)
  throw new Error(`--buyer-workers ${option("buyer-workers")}: worker threads for the buyers from 0 (none: in the hosting process) to 8`);
// Where the bridges, the broker and the publisher run: a worker thread each (threads) or the main thread (host).
const SERVICES = option("services") ?? "host";
if (SERVICES !== "threads" && SERVICES !== "host") throw new Error(`--services ${SERVICES}: "threads" (a thread each) or "host" (the main thread)`);
const UNIT = 10n ** 18n;
const PRICE = 10n ** 12n;
const MNEMONIC = "test test test test test test test test test test test junk";

// This one process does the work of every buyer's wallet (100 and more), the bridges and the broker:
// ethers hashes with its pure-JS keccak (checksummed addresses, transaction hashes, EIP-712, ABI
// selectors), about a tenth of the process's CPU in the sustained phase. Where the native addon loads
// (the protocol's backend; DATAMARKET_CRYPTO=noble keeps ethers' own), ethers uses it: same digests.
const ETHERS_KECCAK = useNativeKeccak();

async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
export function quantiles(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, p25: q(0.25), p75: q(0.75), min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * One worker thread per spec, each running its buyers (flow-buyers.ts) once told to start; resolves when
 * every thread has loaded its modules (the SDK, ethers), so that a thread's start-up is not timed. The
 * host answers the threads' calls with its own BuyerHost; the threads end with the run (cleanup kills
 * any left).
 */
async function startBuyerWorkers(specs: BuyersSpec[], host: BuyerHost, cleanup: Cleanup) {
  const boot = `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(path.join(__dirname, "flow-buyers.ts"))});`;
  return Promise.all(
    specs.map(
      (spec) =>
        new Promise<{ run: () => Promise<BuyersResult> }>((ready, failed) => {
          const worker = new Worker(boot, { eval: true, workerData: spec });
          cleanup.push(async () => void (await worker.terminate()));
          let finish: { resolve: (r: BuyersResult) => void; reject: (e: Error) => void } | undefined;
          worker.on("error", (e) => (finish ? finish.reject(e) : failed(e)));
          // a thread that ends without its figures (crashed, killed) fails the run rather than hanging it
          worker.on("exit", (code) => {
            const e = new Error(`buyer thread exited (code ${code}) before its figures`);
            if (finish) finish.reject(e);
            else failed(e);
          });
          worker.on("message", (m: ToHost) => {
            if ("ready" in m)
              ready({
                run: () =>
                  new Promise<BuyersResult>((resolve, reject) => {
                    finish = { resolve, reject };
                    worker.postMessage({ start: true });
                  }),
              });
            else if ("waiting" in m) host.waiting(...m.waiting);
            else if ("call" in m) {
              const answer = m.call === "requestAccess" ? host.requestAccess(m.args[0] as number, m.args[1] as string) : host.signatures(m.args[0] as string);
              answer.then(
                (value) => worker.postMessage({ id: m.id, value }),
                (e) => worker.postMessage({ id: m.id, error: String((e as Error)?.message ?? e) }),
              );
            } else if ("done" in m) finish?.resolve(m.done);
            else if ("failed" in m) finish?.reject(new Error(`buyer thread: ${m.failed}`));
          });
        }),
    ),
  );
}

async function main() {
  const cleanup: Cleanup = [];
  const done = async () => {
    for (const a of cleanup.reverse()) {
      try {
        await a();
      } catch {
        /* best effort */
      }
    }
  };
  process.once("SIGINT", () => void done().then(() => process.exit(130)));
  try {
    const chain = await startChain(CHAIN, cleanup);
    const url = chain.url;
    const provider = new JsonRpcProvider(url, undefined, { pollingInterval: 20, cacheTimeout: -1 });
    cleanup.push(() => provider.destroy());
    process.env.HARDHAT_NETWORK = "localhost";
    process.env.LOCALHOST_RPC_URL = url;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hre = require("hardhat") as import("hardhat/types").HardhatRuntimeEnvironment;
    const scratch = mkdtempSync(path.join(tmpdir(), "flow-bench-"));
    cleanup.push(() => rmSync(scratch, { recursive: true, force: true }));
    hre.config.paths.ignition = path.join(scratch, "ignition");
    devChainIgnition(hre);
    const { deployProtocol } = await import("../../tasks/deployment");
    const record = await deployProtocol(hre, { parametersFile: path.join(ROOT, "deploy", "parameters", "localhost.json"), exportDir: scratch });
    const a = Object.fromEntries(Object.entries(record.contracts).map(([k, v]) => [k, v.address])) as Record<string, string>;
    const chainId = (await provider.getNetwork()).chainId;
    const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/0'/0");
    const keys = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const w = root.deriveChild(i);
      keys.set(w.address.toLowerCase(), w.privateKey);
    }
    const deployer = new NonceManager(new Wallet(root.deriveChild(0).privateKey, provider));
    const hospitalWallet = new Wallet(root.deriveChild(1).privateKey, provider);
    const hospital = new NonceManager(hospitalWallet);
    const token = new Contract(a.DATAToken, hre.artifacts.readArtifactSync("DATAToken").abi, deployer);
    const market = new Contract(a.DataLicenseMarket, hre.artifacts.readArtifactSync("DataLicenseMarket").abi, provider);
    const attestors: string[] = (await market.attestors()).map((x: string) => x.toLowerCase());

    const ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["ResearchMSP", "AuditMSP"] });
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    const auditor = ledger.client(await ledger.enroll("AuditMSP", "bridge", { "consent.role": "auditor" }));
    // the bridges, the broker (its gate and followers) and the publisher: in worker threads of their own
    // (--services threads) or in this thread beside the ledger (--services host); flow-services.ts
    const services = await (SERVICES === "threads" ? startServicesInThreads : startServicesInHost)(
      {
        url,
        chainId: Number(chainId),
        registry: a.StreamRegistry,
        market: a.DataLicenseMarket,
        attestorKeys: attestors.map((attestor) => keys.get(attestor)!),
        publisherKey: hospitalWallet.privateKey,
        fromBlock: await provider.getBlockNumber(),
        ledgerClockOffset: ledger.clock.offset.buffer as SharedArrayBuffer,
      },
      auditor,
    );
    cleanup.push(() => services.stop());
    const { bridgeUrls, brokerUrl } = services;

    const registry = new StreamRegistryClient(a.StreamRegistry, hospital);
    const hospitalMarket = new MarketClient(a.DataLicenseMarket, a.DATAToken, hospital);

    // The chain's limit: on a node with block times, a block holds gasLimit / (gas of one flow's
    // transactions) flows, one block every blockTime seconds. Hardhat's automining node mines a block per
    // transaction as it arrives: no gas bound applies there (the node's own speed is the limit).
    const gasLimit = BigInt((await provider.getBlock("latest"))!.gasLimit);
    const chainName = chain.kind === "anvil" ? `anvil, ${chain.blockTime} s blocks, block gas limit ${gasLimit.toLocaleString("en-US")}` : "hardhat, automine";
    const chainBound = (gasPerFlow: number): number | null => (chain.blockTime > 0 ? Number(gasLimit) / gasPerFlow / chain.blockTime : null);
    /** A stream sold by a product that requires consent, and a data subject who consents to research on it (set-up, not measured). */
    const newProduct = async (name: string) => {
      const { streamId } = await registry.createStream(`/bench/${name}`, 1);
      await services.streamCreated({
        id: streamId.toLowerCase(),
        creator: hospitalWallet.address.toLowerCase(),
        path: `/bench/${name}`,
        partitions: 1,
        metadata: {},
      });
      await registry.setSubscribeDelegate(streamId, a.DataLicenseMarket);
      const { productId } = await hospitalMarket.listProduct(id(name), {
        beneficiary: hospitalWallet.address,
        pricePerSecond: PRICE,
        minSeconds: 60,
        maxSeconds: 86_400 * 30,
        requiresConsent: true,
        requiresKyc: false,
        termsHash: keccak256(toUtf8Bytes("t")),
        termsUri: "https://x.example/t",
        resources: [streamId],
      });
      await (await hospitalMarket.market.setPurposes(productId, [id("ScientificResearch")], true)).wait();
      await custodian.registerResource(streamId, "stream", [productId]);
      await custodian.giveConsent({
        subjectId: `s-${name}`,
        controller: "Hospital",
        resources: [streamId],
        purposes: ["ScientificResearch"],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: ["PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: ledger.clock.nowSeconds() + 86_400 * 365,
        noticeHash: keccak256(toUtf8Bytes("n")),
      });
      await custodian.addResourceSubjects(streamId, [`s-${name}`]);
      return { streamId, productId };
    };
    /**
     * n buyers: funded wallets with a Fabric identity each (set-up, not measured). The mints are sent
     * together and then awaited, so that on a node with block times they share a few blocks.
     */
    const newBuyers = async (n: number, tag: string) => {
      const wallets = Array.from({ length: n }, () => Wallet.createRandom().connect(provider) as unknown as Wallet);
      const mints = [];
      for (const wallet of wallets) {
        await provider.send(`${chain.kind}_setBalance`, [wallet.address, "0x" + (10n ** 20n).toString(16)]);
        mints.push(await token.mint(wallet.address, 100n * UNIT));
      }
      await Promise.all(mints.map((m) => m.wait()));
      const buyers = [];
      for (const [i, wallet] of wallets.entries()) {
        const fabric = ledger.client(
          await ledger.enroll("ResearchMSP", `buyer-${tag}-${i}`, {
            "consent.role": "buyer",
            "consent.buyerType": "PublicResearch",
            "consent.jurisdiction": "NL",
            "consent.ethAddress": wallet.address.toLowerCase(),
          }),
        );
        // one market client per wallet: the SDK gives its purchases in flight consecutive account
        // nonces and permit nonces (an ethers NonceManager would add a round trip to each send: it
        // lets the wallet read the pending count again, then replaces it)
        const market = new MarketClient(a.DataLicenseMarket, a.DATAToken, wallet, {
          urls: bridgeUrls,
          // the SDK's 5 s per bridge request is for a wallet facing remote bridges; here 100 buyers,
          // 3 bridges, the ledger and the broker share one process on a shared machine, and a bridge
          // answering late must slow the figure down, not abort the run
          timeoutMs: 30_000,
        });
        buyers.push({ wallet, fabric, market, encryption: generateKeyPair() });
      }
      return buyers;
    };
    type Buyer = Awaited<ReturnType<typeof newBuyers>>[number];
    /** One buyer's way to a licence: Fabric decision, k bridge signatures, buyWithPermit mined. */
    const purchase = async (b: Buyer, productId: string) => {
      const t0 = performance.now();
      const decision = await b.fabric.requestAccess({
        productId,
        purpose: "ScientificResearch",
        ethAddress: b.wallet.address.toLowerCase(),
        ttlSeconds: 86_400 * 7,
      });
      if (decision.decision !== "approved") throw new Error(`denied: ${decision.reasons}`);
      const t1 = performance.now();
      const grantId = decision.grant!.grantId;
      await services.signatures(grantId);
      const t2 = performance.now();
      // every transaction the flow sends (here one: buyWithPermit) and the gas its receipt records
      const { receipt } = await b.market.buyWithPermit({ productId, duration: 3_600, grantId, encryptionKey: b.encryption.publicKey });
      const t3 = performance.now();
      return { gas: receipt.gasUsed, block: receipt.blockNumber, t: { fabricDecision: t1 - t0, bridgeSignatures: t2 - t1, buyWithPermit: t3 - t2 } };
    };
    /** A buyer's SDK client on the broker, closed at the end. */
    const buyerClient = (b: Buyer) => {
      const client = new DataClient({
        signer: b.wallet,
        access: new StreamRegistryClient(a.StreamRegistry, provider),
        encryptionPrivateKey: b.encryption.privateKey,
        connect: () => WsTransport.connect({ url: brokerUrl, signer: b.wallet }),
      });
      cleanup.push(() => client.close());
      return client;
    };
    // A broker that cannot get its gate's answer in time (the chain follower behind the purchase's
    // block on a loaded machine) refuses with ACCESS_GATE_UNAVAILABLE, failing closed; a client retries
    // that one (subscribeRetrying). The round phase's retries, counted here, are reported with each round.
    const roundRetries = { gateRetries: 0, gateRetriesBy: {} as Record<string, number> };
    const results: Record<string, unknown>[] = [];
    let round = 0;
    for (const n of BUYERS) {
      for (let run = 0; run < RUNS; run++) {
        round += 1;
        // a fresh stream and product per round: every buyer is new to it
        const { streamId, productId } = await newProduct(`flow-${round}`);
        const buyers = await newBuyers(n, `${round}`);
        let live = 0;
        // the bench's one process hosts the ledger, the bridges, the broker and every buyer's SDK: its
        // event loop's delay says whether the process, rather than the chain, held the flows back
        const loopDelay = monitorEventLoopDelay({ resolution: 10 });
        loopDelay.enable();
        const started = performance.now();
        const flows = await Promise.all(
          buyers.map(async (b) => {
            const t0 = performance.now();
            const bought = await purchase(b, productId);
            const t3 = performance.now();
            const client = buyerClient(b);
            let received = 0;
            await subscribeRetrying(
              client,
              streamId,
              () => {
                received += 1;
              },
              roundRetries,
            );
            live += 1;
            const t4 = performance.now();
            return {
              b,
              client,
              t: { ...bought.t, subscribe: t4 - t3 },
              received: () => received,
              gas: bought.gas,
              block: bought.block,
              started: t0,
            };
          }),
        );
        await waitFor(() => live === n, "every buyer subscribed");
        // the publisher shares its key with every buyer and sends one event: the flow ends when it is read
        await services.shareGroupKey(
          streamId,
          buyers.map((b) => b.wallet.address),
        );
        const tPub = performance.now();
        await services.publish(streamId, { seq: 0 });
        await waitFor(() => flows.every((f) => f.received() >= 1), "the first event at every buyer");
        const firstEventMs = performance.now() - tPub;
        const flowSeconds = (performance.now() - started) / 1000;
        // fan-out: a burst of BURST events to the n subscribers
        const tBurst = performance.now();
        for (let i = 1; i <= BURST; i++) void services.publish(streamId, { seq: i });
        await waitFor(() => flows.every((f) => f.received() >= BURST + 1), "the burst at every buyer", 120_000);
        const burstSeconds = (performance.now() - tBurst) / 1000;
        const gasPerFlow = Math.round(flows.reduce((x, f) => x + Number(f.gas), 0) / flows.length);
        const bound = chainBound(gasPerFlow);
        results.push({
          buyers: n,
          run,
          flowSeconds,
          flowsPerSecond: n / flowSeconds,
          gasPerFlow,
          purchaseBlocks: new Set(flows.map((f) => f.block)).size,
          eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
          ...(bound === null ? {} : { boundFlowsPerSecond: bound, bar: 0.8 * bound }),
          gateRetries: roundRetries.gateRetries,
          loadAverage: loadavg()[0],
          firstEventMs,
          steps: Object.fromEntries(
            ["fabricDecision", "bridgeSignatures", "buyWithPermit", "subscribe"].map((k) => [k, flows.map((f) => (f.t as Record<string, number>)[k])]),
          ),
          fanout: {
            subscribers: n,
            events: BURST,
            deliveries: n * BURST,
            seconds: burstSeconds,
            deliveriesPerSecond: (n * BURST) / burstSeconds,
            eventsPerSecond: BURST / burstSeconds,
          },
        });
        loopDelay.disable();
        for (const f of flows) await f.client.close();
        console.error(
          `flow bench (${chainName}): ${n} buyers run ${run + 1}/${RUNS}: ${(n / flowSeconds).toFixed(2)} flows/s` +
            (bound === null
              ? ""
              : ` (bound ${bound.toFixed(1)} flows/s = ${gasLimit.toLocaleString("en-US")} gas a block / ${gasPerFlow.toLocaleString("en-US")} gas a flow / ${chain.blockTime} s; 0.8 x bound ${(0.8 * bound).toFixed(1)})`) +
            `, purchases in ${new Set(flows.map((f) => f.block)).size} block(s), event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms max ${(loopDelay.max / 1e6).toFixed(0)} ms, ${((n * BURST) / burstSeconds).toFixed(0)} deliveries/s, load ${loadavg()[0].toFixed(1)}`,
        );
      }
    }
    let sustained: Record<string, unknown> | undefined;
    if (SUSTAIN > 0) {
      // SUSTAIN x IN_FLIGHT products; a buyer's lane j runs products j, F + j, 2F + j, ... so that its flows
      // in flight are always on different products. Set up together where the node queues a sender's
      // transactions (anvil); one after the other on Hardhat's automining node, which takes none out of order.
      const names = Array.from({ length: SUSTAIN * IN_FLIGHT }, (_, k) => `sustained-${k}`);
      const products: Array<{ streamId: string; productId: string }> = [];
      if (chain.kind === "anvil") products.push(...(await Promise.all(names.map((name) => newProduct(name)))));
      else for (const name of names) products.push(await newProduct(name));
      const lanes = Array.from({ length: IN_FLIGHT }, (_, j) => products.filter((_, k) => k % IN_FLIGHT === j));
      const buyers = await newBuyers(SUSTAIN_BUYERS, "sustained");
      // the publisher's loop (flow-services.ts): every 100 ms, for each stream with buyers waiting for
      // data, it shares the group key with the new ones and publishes an event
      await services.startPublishing(products.map((p) => p.streamId));
      // The buyers' side of each flow runs in this process (BUYER_WORKERS 0) or in worker threads, where
      // it reaches the ledger (the buyer's Fabric gateway) and the publisher's list through messages.
      const host: BuyerHost = {
        requestAccess: async (i, productId) => {
          const decision = await buyers[i].fabric.requestAccess({
            productId,
            purpose: "ScientificResearch",
            ethAddress: buyers[i].wallet.address.toLowerCase(),
            ttlSeconds: 86_400 * 7,
          });
          if (decision.decision !== "approved") throw new Error(`denied: ${decision.reasons}`);
          return decision.grant!.grantId;
        },
        signatures: (grantId) => services.signatures(grantId),
        waiting: (streamId, address, on) => services.waiting(streamId, address, on),
      };
      const specs: BuyersSpec[] = Array.from({ length: Math.max(1, BUYER_WORKERS) }, (_, w) => ({
        url,
        registry: a.StreamRegistry,
        market: a.DataLicenseMarket,
        token: a.DATAToken,
        bridgeUrls,
        brokerUrl,
        buyers: buyers
          .map((b, index) => ({ index, privateKey: b.wallet.privateKey, encryption: b.encryption }))
          .filter((_, index) => index % Math.max(1, BUYER_WORKERS) === w),
        lanes,
      }));
      const workers = BUYER_WORKERS > 0 ? await startBuyerWorkers(specs, host, cleanup) : [];
      const loopDelay = monitorEventLoopDelay({ resolution: 10 });
      loopDelay.enable();
      const load = [loadavg()[0]];
      const fromBlock = await provider.getBlockNumber();
      // CPU time (user + system): unlike wall time, it does not grow with the other jobs on the machine,
      // and 1000 / (CPU ms a flow) is what one core can carry at most. The process's in all, and the
      // host's own thread's (the ledger, bridges, broker, publisher, and with BUYER_WORKERS 0 the buyers)
      // and each service thread's (--services threads)
      const servicesStart = await services.figures();
      const cpuStart = process.cpuUsage();
      const hostCpuStart = threadCpuSeconds();
      // the node's own CPU (anvil: a process of its own), which shares the machine's cores with the bench
      const nodeCpuStart = chain.pid === undefined ? undefined : processCpuSeconds(chain.pid);
      const started = sharedNow();
      // the monotonic clock, in µs as a --cpu-prof profile's timestamps: the sustained phase's samples
      const monotonicUs = [Number(process.hrtime.bigint() / 1000n)];
      let parts: BuyersResult[];
      let publisherRefused: Record<string, number> = {};
      try {
        parts = BUYER_WORKERS > 0 ? await Promise.all(workers.map((w) => w.run())) : [await runBuyers(specs[0], host, provider)];
      } finally {
        publisherRefused = await services.stopPublishing();
        loopDelay.disable();
      }
      load.push(loadavg()[0]);
      const seconds = (sharedNow() - started) / 1000;
      monotonicUs.push(Number(process.hrtime.bigint() / 1000n));
      const cpu = process.cpuUsage(cpuStart);
      const hostThreadCpu = threadCpuSeconds() - hostCpuStart;
      const nodeCpu = nodeCpuStart === undefined ? undefined : processCpuSeconds(chain.pid!) - nodeCpuStart;
      const buyerThreadsCpu = BUYER_WORKERS > 0 ? parts.map((p) => p.threadCpuSeconds) : [];
      const serviceThreads = (await services.figures()).map((f, i) => ({ ...f, cpuSeconds: f.cpuSeconds - servicesStart[i].cpuSeconds }));
      const serviceThreadsCpu = serviceThreads.reduce((x, t) => x + t.cpuSeconds, 0);
      const completions = parts.flatMap((p) => p.completions.map((t) => t - started));
      const steps = Object.fromEntries(Object.keys(parts[0].steps).map((k) => [k, parts.flatMap((p) => p.steps[k])]));
      const gas = parts.flatMap((p) => p.gas);
      const blocks = new Set(parts.flatMap((p) => p.blocks));
      const gateRetries = parts.reduce((x, p) => x + p.gateRetries, 0);
      const gateRetriesBy: Record<string, number> = {};
      for (const p of parts) for (const [k, v] of Object.entries(p.gateRetriesBy)) gateRetriesBy[k] = (gateRetriesBy[k] ?? 0) + v;
      const toBlock = await provider.getBlockNumber();
      const flows = completions.length;
      // steady state: the flows completed between the 10th and the 90th percentile of completion times
      // (the ramp-up, when every buyer starts at once, and the tail, when buyers run out, left out)
      completions.sort((x, y) => x - y);
      const [t10, t90] = [completions[Math.floor(flows * 0.1)], completions[Math.ceil(flows * 0.9) - 1]];
      const steady = (completions.filter((t) => t > t10 && t <= t90).length / (t90 - t10)) * 1000;
      const cpuMsPerFlow = (cpu.user + cpu.system) / 1000 / flows;
      // the mean: the chain's bound is the gas of all the flows' transactions over the gas a second holds
      // (a buyer's first purchase writes more new storage than its next ones)
      const gasPerFlow = Math.round(gas.reduce((x, y) => x + y, 0) / gas.length);
      const bound = chainBound(gasPerFlow);
      sustained = {
        buyers: SUSTAIN_BUYERS,
        inFlightPerBuyer: IN_FLIGHT,
        flowsPerBuyer: SUSTAIN * IN_FLIGHT,
        flows,
        seconds,
        flowsPerSecond: flows / seconds,
        steadyFlowsPerSecond: steady,
        cpuMsPerFlow,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        // where the buyers ran, and the CPU seconds of each thread: the host's main thread (ledger, bridges,
        // broker, publisher; the buyers too with 0 workers), each buyer thread, and the rest of the process
        // (V8's GC and compiler helper threads and libuv's pool, of every thread: not attributable per thread)
        buyerWorkers: BUYER_WORKERS,
        hostThreadCpuSeconds: hostThreadCpu,
        hostThreadCpuMsPerFlow: (hostThreadCpu * 1000) / flows,
        buyerThreadsCpuSeconds: buyerThreadsCpu,
        // with --services threads: the bridges', the broker's and the publisher's threads (CPU seconds,
        // event-loop delay over the phase); the host thread then keeps the ledger and the bench's driving
        services: services.layout,
        serviceThreads: serviceThreads.map((t) => ({ ...t, cpuMsPerFlow: (t.cpuSeconds * 1000) / flows })),
        ...(nodeCpu === undefined ? {} : { nodeCpuSeconds: nodeCpu, nodeCpuMsPerFlow: (nodeCpu * 1000) / flows }),
        otherThreadsCpuSeconds: (cpu.user + cpu.system) / 1e6 - hostThreadCpu - buyerThreadsCpu.reduce((x, y) => x + y, 0) - serviceThreadsCpu,
        gasPerFlow,
        blocks: toBlock - fromBlock,
        blocksWithPurchases: blocks.size,
        ...(bound === null ? {} : { boundFlowsPerSecond: bound, bar: 0.8 * bound }),
        stepsMs: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, quantiles(v)])),
        eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
        gateRetries,
        gateRetriesBy,
        publisherRefused,
        loadAverage: load,
        monotonicWindowUs: monotonicUs,
      };
      const hostHolds = services.layout === "threads" ? "the ledger" : "the ledger, bridges, broker and publisher";
      console.error(
        `flow bench (${chainName}): sustained, ${SUSTAIN_BUYERS} concurrent buyers` +
          (BUYER_WORKERS > 0
            ? ` (run in ${BUYER_WORKERS} worker thread(s) of the bench's process, apart from the thread hosting ${hostHolds})`
            : ` (run in the thread hosting ${hostHolds})`) +
          (services.layout === "threads" ? ", the bridges, the broker and the publisher in a thread each" : "") +
          (IN_FLIGHT > 1
            ? ` with ${IN_FLIGHT} purchases in flight each (${IN_FLIGHT} x ${SUSTAIN} flows a buyer, on ${IN_FLIGHT} products at a time)`
            : ` x ${SUSTAIN} flows`) +
          `: ${(flows / seconds).toFixed(2)} flows/s overall, ` +
          `${steady.toFixed(2)} flows/s steady (10th-90th percentile of completions)` +
          (bound === null
            ? ""
            : `; bound ${bound.toFixed(1)} flows/s = ${gasLimit.toLocaleString("en-US")} gas a block / ${gasPerFlow.toLocaleString("en-US")} gas a flow / ${chain.blockTime} s, ` +
              `0.8 x bound ${(0.8 * bound).toFixed(1)}: ${steady >= 0.8 * bound ? "met" : `missed (${((steady / (0.8 * bound)) * 100).toFixed(0)}% of it)`}`) +
          `; flow latency median ${(quantiles(steps.flow).median / 1000).toFixed(2)} s, purchases in ${blocks.size} of ${toBlock - fromBlock} blocks, ` +
          `the process's CPU ${cpuMsPerFlow.toFixed(1)} ms a flow (` +
          (BUYER_WORKERS > 0 ? "all its threads; " : `one core carries at most ${(1000 / cpuMsPerFlow).toFixed(1)} flows/s; `) +
          `${((cpu.user + cpu.system) / 1e6 / seconds).toFixed(2)} cores used), ` +
          `CPU seconds: host thread ${hostThreadCpu.toFixed(2)} (${((hostThreadCpu * 1000) / flows).toFixed(1)} ms a flow: it carries at most ${(flows / hostThreadCpu).toFixed(1)} flows/s on one core)` +
          (BUYER_WORKERS > 0
            ? `, buyer threads ${buyerThreadsCpu.map((c) => c.toFixed(2)).join(" + ")} (${((buyerThreadsCpu.reduce((x, y) => x + y, 0) * 1000) / flows).toFixed(1)} ms a flow)`
            : "") +
          serviceThreads
            .map(
              (t) =>
                `, ${t.thread} thread ${t.cpuSeconds.toFixed(2)} (${((t.cpuSeconds * 1000) / flows).toFixed(1)} ms a flow, event-loop delay p99 ${t.eventLoopDelayMs.p99.toFixed(0)} ms)`,
            )
            .join("") +
          `, other threads (GC, compiler, libuv) ${((cpu.user + cpu.system) / 1e6 - hostThreadCpu - buyerThreadsCpu.reduce((x, y) => x + y, 0) - serviceThreadsCpu).toFixed(2)}; ` +
          (nodeCpu === undefined ? "" : `the node (anvil) ${nodeCpu.toFixed(2)} CPU seconds (${((nodeCpu * 1000) / flows).toFixed(1)} ms a flow); `) +
          `host event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms (ethers keccak: ${ETHERS_KECCAK}), ${gateRetries} subscribe retries (ACCESS_GATE_UNAVAILABLE) in all ${JSON.stringify(gateRetriesBy)}, publisher's shares and publishes refused ${JSON.stringify(publisherRefused)}, load ${load.map((l) => l.toFixed(1)).join(" -> ")}`,
      );
    }
    const out = JSON.stringify({
      chain: chain.kind,
      blockTime: chain.blockTime,
      blockGasLimit: Number(gasLimit),
      ethersKeccak: ETHERS_KECCAK,
      buyers: BUYERS,
      runs: RUNS,
      burst: BURST,
      results,
      ...(sustained ? { sustained } : {}),
    });
    if (OUT) writeFileSync(OUT, out);
    else console.log(out);
  } finally {
    await done();
  }
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
