// Whole dual-gateway flow benchmark on the embedded defaults: a Hardhat node (child process), the
// in-process consent ledger, 3 consent bridges (2 of 3), one broker. For N concurrent buyers
// (1 -> 100) each buyer runs the flow: Fabric access request (approved, grant written) -> 2 bridges
// signed -> buyWithPermit mined -> subscribed -> first live event decrypted. Then the publisher sends
// a burst to the N subscribers (fan-out). Prints JSON (median and spread per figure) on the last line.
//   ts-node --transpile-only bench/flow.ts [--quick] [--out FILE]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, id, keccak256, toUtf8Bytes } from "ethers";
import type {} from "@nomicfoundation/hardhat-toolbox";
import {
  ConsentGrantFollower,
  ContractAccessGate,
  DEFAULT_CONFIG,
  InMemoryStreamIndex,
  StaticPartitionAssignment,
  consentSourceOf,
  startBroker,
} from "@datamarket/broker";
import { InProcessConsentLedger } from "@datamarket/consent-ledger";
import { BridgeStore, ConsentBridge, memoryLogger } from "@datamarket/consent-bridge";
import { DataClient, MarketClient, StreamRegistryClient, WsTransport, generateKeyPair } from "@datamarket/sdk";
import { freePort, startNode, type Cleanup } from "../src/node";

const ROOT = path.resolve(__dirname, "..", "..");
const quick = process.argv.includes("--quick");
const outIndex = process.argv.indexOf("--out");
const OUT = outIndex > 0 ? process.argv[outIndex + 1] : undefined;
const BUYERS = quick ? [1, 5, 20] : [1, 5, 10, 25, 50, 100];
const RUNS = quick ? 2 : 3;
const BURST = quick ? 50 : 100;
const UNIT = 10n ** 18n;
const PRICE = 10n ** 12n;
const MNEMONIC = "test test test test test test test test test test test junk";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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
    const url = await startNode(await freePort(), cleanup);
    const provider = new JsonRpcProvider(url, undefined, { pollingInterval: 20, cacheTimeout: -1 });
    cleanup.push(() => provider.destroy());
    process.env.HARDHAT_NETWORK = "localhost";
    process.env.LOCALHOST_RPC_URL = url;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const hre = require("hardhat") as import("hardhat/types").HardhatRuntimeEnvironment;
    const scratch = mkdtempSync(path.join(tmpdir(), "flow-bench-"));
    cleanup.push(() => rmSync(scratch, { recursive: true, force: true }));
    hre.config.paths.ignition = path.join(scratch, "ignition");
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
    const stores = attestors.map(() => BridgeStore.inMemory());
    const bridges: ConsentBridge[] = [];
    for (const [i, attestor] of attestors.entries()) {
      const bridge = await ConsentBridge.start({
        events: auditor,
        attestorKey: keys.get(attestor)!,
        domain: { chainId, market: a.DataLicenseMarket.toLowerCase() },
        store: stores[i],
        http: { host: "127.0.0.1", port: 0 },
        retryDelayMs: 100,
        log: memoryLogger(),
      });
      bridges.push(bridge);
      cleanup.push(() => bridge.stop());
    }
    const bridgeUrls = bridges.map((b) => b.url);
    const dataDir = mkdtempSync(path.join(tmpdir(), "flow-broker-"));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    // the broker's own dual gateway: licences on the market, their grants on the consent ledger
    const consent = new ConsentGrantFollower(consentSourceOf(auditor), { now: () => ledger.clock.now() });
    await consent.start();
    cleanup.push(() => consent.stop());
    const gate = new ContractAccessGate({
      provider,
      registry: a.StreamRegistry,
      market: a.DataLicenseMarket,
      consent,
      fromBlock: await provider.getBlockNumber(),
    });
    await gate.start();
    cleanup.push(() => gate.stop());
    const index = new InMemoryStreamIndex();
    const broker = await startBroker(
      { ...structuredClone(DEFAULT_CONFIG), host: "127.0.0.1", wsPort: 0, httpPort: 0, dataDir, chainId: Number(chainId), verifyThreads: 0 },
      { gate, streams: index, assignment: new StaticPartitionAssignment(() => 0, "all"), logger: pino({ level: "silent" }) },
    );
    cleanup.push(() => broker.close());
    const brokerUrl = `ws://127.0.0.1:${broker.wsPort}`;

    const registry = new StreamRegistryClient(a.StreamRegistry, hospital);
    const hospitalMarket = new MarketClient(a.DataLicenseMarket, a.DATAToken, hospital);
    const publisher = new DataClient({
      signer: hospitalWallet,
      access: new StreamRegistryClient(a.StreamRegistry, provider),
      encryptionPrivateKey: generateKeyPair().privateKey,
      connect: () => WsTransport.connect({ url: brokerUrl, signer: hospitalWallet }),
    });
    cleanup.push(() => publisher.close());

    const results: Record<string, unknown>[] = [];
    let round = 0;
    for (const n of BUYERS) {
      for (let run = 0; run < RUNS; run++) {
        round += 1;
        // a fresh stream and product per round: every buyer is new to it
        const { streamId } = await registry.createStream(`/bench/flow-${round}`, 1);
        index.apply({
          type: "created",
          stream: { id: streamId.toLowerCase(), creator: hospitalWallet.address.toLowerCase(), path: `/bench/flow-${round}`, partitions: 1, metadata: {} },
        });
        await registry.setSubscribeDelegate(streamId, a.DataLicenseMarket);
        const salt = id(`flow-${round}`);
        const { productId } = await hospitalMarket.listProduct(salt, {
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
        const consent = await custodian.giveConsent({
          subjectId: `s-${round}`,
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
        await custodian.addResourceSubjects(streamId, [`s-${round}`]);
        void consent;
        // buyers: funded wallets with a Fabric identity each (set-up, not measured)
        const buyers = [];
        for (let i = 0; i < n; i++) {
          const wallet = Wallet.createRandom().connect(provider) as unknown as Wallet;
          await provider.send("hardhat_setBalance", [wallet.address, "0x" + (10n ** 20n).toString(16)]);
          await (await token.mint(wallet.address, 100n * UNIT)).wait();
          const fabric = ledger.client(
            await ledger.enroll("ResearchMSP", `buyer-${round}-${i}`, {
              "consent.role": "buyer",
              "consent.buyerType": "PublicResearch",
              "consent.jurisdiction": "NL",
              "consent.ethAddress": wallet.address.toLowerCase(),
            }),
          );
          buyers.push({ wallet, fabric, encryption: generateKeyPair() });
        }
        let live = 0;
        const started = performance.now();
        const flows = await Promise.all(
          buyers.map(async (b) => {
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
            await waitFor(() => stores.filter((s) => s.attestations.has(grantId)).length >= 2, "2 bridge signatures");
            const t2 = performance.now();
            const buyer = new MarketClient(a.DataLicenseMarket, a.DATAToken, new NonceManager(b.wallet), bridgeUrls);
            await buyer.buyWithPermit({ productId, duration: 3_600, grantId, encryptionKey: b.encryption.publicKey });
            const t3 = performance.now();
            const client = new DataClient({
              signer: b.wallet,
              access: new StreamRegistryClient(a.StreamRegistry, provider),
              encryptionPrivateKey: b.encryption.privateKey,
              connect: () => WsTransport.connect({ url: brokerUrl, signer: b.wallet }),
            });
            cleanup.push(() => client.close());
            let received = 0;
            await client.subscribe(streamId, () => {
              received += 1;
            });
            live += 1;
            const t4 = performance.now();
            return {
              b,
              client,
              t: { fabricDecision: t1 - t0, bridgeSignatures: t2 - t1, buyWithPermit: t3 - t2, subscribe: t4 - t3 },
              received: () => received,
              started: t0,
            };
          }),
        );
        await waitFor(() => live === n, "every buyer subscribed");
        // the publisher shares its key with every buyer and sends one event: the flow ends when it is read
        await publisher.shareGroupKey(
          streamId,
          buyers.map((b) => b.wallet.address),
        );
        const tPub = performance.now();
        await publisher.publish(streamId, { seq: 0 });
        await waitFor(() => flows.every((f) => f.received() >= 1), "the first event at every buyer");
        const firstEventMs = performance.now() - tPub;
        const flowSeconds = (performance.now() - started) / 1000;
        // fan-out: a burst of BURST events to the n subscribers
        const tBurst = performance.now();
        for (let i = 1; i <= BURST; i++) void publisher.publish(streamId, { seq: i });
        await waitFor(() => flows.every((f) => f.received() >= BURST + 1), "the burst at every buyer", 120_000);
        const burstSeconds = (performance.now() - tBurst) / 1000;
        results.push({
          buyers: n,
          run,
          flowSeconds,
          flowsPerSecond: n / flowSeconds,
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
        for (const f of flows) await f.client.close();
        console.error(
          `flow bench: ${n} buyers run ${run + 1}/${RUNS}: ${(n / flowSeconds).toFixed(2)} flows/s, ${((n * BURST) / burstSeconds).toFixed(0)} deliveries/s`,
        );
      }
    }
    const out = JSON.stringify({ buyers: BUYERS, runs: RUNS, burst: BURST, results });
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
