// `npm run portal` and the end-to-end test start the same stack: the demo's embedded network (Hardhat
// node, Ignition deployment, in-process consent ledger, three consent bridges, brokers on the
// coordinator), the KRAKEN pilot's seed (a consent-gated product of the hospital, patients' consents,
// one access decision), the consent API, and a static server of the built portal with its config.
import { existsSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, id, keccak256, toUtf8Bytes } from "ethers";
import { DataClient, MarketClient, StreamRegistryClient, coordinatorAt, encryptDataset, generateKeyPair, serveKeyRequests } from "@datamarket/sdk";
import { DAY, Narrator, compileContracts, freePort, hardhatAccounts, startNetwork, startNode, waitFor, type Cleanup, type DemoNetwork } from "@datamarket/demo";
import { bindWallet } from "@datamarket/consent-ledger";
import { startConsentApi } from "./consent-api";
import { startReleaseService } from "./release-service";
import { serveStatic } from "./static";
import type { PortalConfig } from "../src/config";

const ROOT = path.resolve(__dirname, "..", "..");
export const PRICE_PER_SECOND = 10n ** 14n; // 8.64 DATA a day
/** The patients whose wallets are Hardhat accounts 14..16, which hold no role in the deployment (the e2e test's wallet is patient 2's). */
export const PATIENT_ACCOUNTS = [14, 15, 16];
export const PATIENTS = 9;
/** A marketing company's wallet (Hardhat account 3): a buyer on the ledger whose purpose no patient consented to. */
export const MARKETING_ACCOUNT = 3;

/** What a wallet of the demo signs with (a Hardhat account's ethers Wallet). */
interface WalletSigner {
  getAddress(): Promise<string>;
  signMessage(text: string): Promise<string>;
}

export interface PortalStack {
  portalUrl: string;
  apiUrl: string;
  rpcUrl: string;
  config: PortalConfig;
  network: DemoNetwork;
  productId: string;
  streamId: string;
  datasetId: string;
  /** the heart-rate events the hospital has published so far (one a second) */
  published(): number;
  /** subject id -> lowercase wallet address, for the patients who have one */
  wallets: Map<string, string>;
}

export interface StackOptions {
  cleanup: Cleanup;
  /** the built portal (portal/dist) */
  distDir: string;
  brokers?: number;
  log?: (line: string) => void;
}

export async function startPortalStack(o: StackOptions): Promise<PortalStack> {
  const log = o.log ?? (() => undefined);
  if (!existsSync(path.join(o.distDir, "index.html"))) throw new Error(`${o.distDir} holds no built portal: run npm run build -w @datamarket/portal first`);
  if (!existsSync(path.join(ROOT, "typechain-types", "index.ts"))) await compileContracts();
  const rpcUrl = await startNode(await freePort(), o.cleanup);
  const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 50, cacheTimeout: -1 });
  o.cleanup.push(() => provider.destroy());
  const say = new Narrator(provider, 1);
  if (!o.log) say.say = () => undefined;
  const { party } = hardhatAccounts(provider);
  const deployer = party("deployer", 0);
  const hospital = party("University Hospital", 1);
  const university = party("university research group", 2);
  const operators = Array.from({ length: o.brokers ?? 3 }, (_, i) => party(`broker ${i}`, 10 + i));
  const network = await startNetwork({
    say,
    provider,
    rpcUrl,
    cleanup: o.cleanup,
    deployer,
    relayer: party("bridge relayer", 13),
    name: "portal",
    brokerOperators: operators,
    custodianMspIds: ["HospitalMSP"],
    otherMspIds: ["UniversityMSP"],
    mint: [{ party: university, tokens: 1_000n }, ...operators.map((p) => ({ party: p, tokens: 2_000n }))],
  });
  const seeded = await seedKraken(
    network,
    hospital,
    university.wallet,
    (i) => party(`patient ${i}`, i).wallet,
    party("marketing company", MARKETING_ACCOUNT).wallet,
  );
  log(`seeded product ${seeded.productId} with ${PATIENTS} patients (${seeded.wallets.size} with a wallet)`);

  const generated = new Map<string, string>();
  const server = await serveStatic(o.distDir, generated);
  o.cleanup.push(() => server.close());
  const portalOrigin = new URL(server.url).origin;
  // the consent API holds one ledger identity: a relay, which can do nothing without a wallet's signature
  const relay = network.ledger.client(await network.ledger.enroll("HospitalMSP", "consent-api", { "consent.role": "relay" }));
  const api = await startConsentApi({ relay, ledger: network.ledger.peer.channelName, allowOrigin: portalOrigin });
  o.cleanup.push(() => api.close());
  // the hospital's services for its buyers: dataset releases, the live stream and its key requests
  const releases = await startReleaseService({
    provider,
    market: network.a.DataLicenseMarket,
    registry: network.a.StreamRegistry,
    ledger: network.auditor,
    datasets: new Map([[seeded.datasetId, { dataset: seeded.dataset, subjectsBySlot: seeded.subjects }]]),
    allowOrigin: portalOrigin,
  });
  o.cleanup.push(() => releases.close());
  const live = await startHeartRate(network, provider, hospital.wallet, seeded.streamId, o.cleanup, log);
  // POST /rekey too: the studio's Rekey action, authorised by the stream owner's signature, checked against the registry
  const registry = new StreamRegistryClient(network.a.StreamRegistry, provider);
  const keyServer = await serveKeyRequests(live.client, { allowOrigin: portalOrigin, rekey: { ownerOf: (streamId) => registry.ownerOf(streamId) } });
  o.cleanup.push(() => keyServer.close());
  const fromBlock = Math.min(...Object.values(network.record.contracts).map((c) => c.deployBlock));
  const config: PortalConfig = {
    chainId: Number(network.chainId),
    rpcUrl,
    consentApiUrl: api.url,
    fromBlock,
    contracts: {
      DATAToken: network.a.DATAToken,
      StreamRegistry: network.a.StreamRegistry,
      DataLicenseMarket: network.a.DataLicenseMarket,
      NetworkCoordinator: network.a.NetworkCoordinator,
    },
    bridgeUrls: network.bridgeUrls,
    releaseUrls: { [seeded.datasetId]: releases.url },
    keyRequestUrls: { [hospital.address.toLowerCase()]: keyServer.url },
  };
  generated.set("/config.json", JSON.stringify(config));
  generated.set("/deployment.json", JSON.stringify(network.record)); // the Audit page's verification table
  return {
    portalUrl: `${portalOrigin}/`,
    apiUrl: api.url,
    rpcUrl,
    config,
    network,
    productId: seeded.productId,
    streamId: seeded.streamId,
    datasetId: seeded.datasetId,
    published: () => live.published,
    wallets: seeded.wallets,
  };
}

/**
 * The KRAKEN pilot's listing, smaller: the hospital's heart-rate stream and lab-results dataset with
 * names and descriptions, a consent-gated product on both; nine patients, the first three with a
 * wallet bound on the ledger by their own subject identity (WalletContract.BindWallet, with the
 * wallet's proof); the hospital's custodian identity bound to the hospital's wallet the same way; the university's and a marketing company's buyer identities with their wallets
 * bound the same way; and one approved access request of the university, so the patients' access log
 * is not empty. The identities are used here once and dropped: nothing the portal runs holds them.
 */
async function seedKraken(
  n: DemoNetwork,
  hospital: ReturnType<ReturnType<typeof hardhatAccounts>["party"]>,
  universityWallet: WalletSigner,
  patientWallet: (account: number) => WalletSigner,
  marketingWallet: WalletSigner,
) {
  const universityAddress = (await universityWallet.getAddress()).toLowerCase();
  const { ledger, a, market } = n;
  const registry = new StreamRegistryClient(a.StreamRegistry, hospital.signer);
  const seller = new MarketClient(a.DataLicenseMarket, a.DATAToken, hospital.signer);
  const salt = id("kraken/cardiology-research/v1");
  const productId = String(await market.productIdOf(hospital.address, salt)).toLowerCase();
  const meta = (name: string, description: string) => JSON.stringify({ name, description });
  const { streamId } = await registry.createStream(
    "/kraken/heart-rate",
    1,
    meta("KRAKEN heart rate", "Live heart rate (bpm) of consenting cardiology patients, one event a second."),
  );
  const subjects = Array.from({ length: PATIENTS }, (_, i) => `kraken-p-${String(i + 1).padStart(3, "0")}`);
  const dataset = encryptDataset(
    StreamRegistryClient.resourceId(hospital.address, "/kraken/lab-results"),
    subjects.map((subjectId, i) => ({ subjectId, data: toUtf8Bytes(JSON.stringify({ subjectId, test: "HbA1c", value: 5 + i / 10 })) })),
  );
  const { datasetId } = await registry.createDataset(
    "/kraken/lab-results",
    dataset.contentHash,
    "https://hospital.example/kraken/lab-results.dmds",
    meta("KRAKEN lab results", "HbA1c, LDL and CRP results of pseudonymous patients, November 2026."),
  );
  await registry.setSubscribeDelegate(streamId, a.DataLicenseMarket);
  await registry.setSubscribeDelegate(datasetId, a.DataLicenseMarket);
  await seller.listProduct(salt, {
    beneficiary: hospital.address,
    pricePerSecond: PRICE_PER_SECOND,
    minSeconds: 3_600,
    maxSeconds: 365 * DAY,
    requiresConsent: true,
    requiresKyc: false,
    termsHash: keccak256(toUtf8Bytes("KRAKEN data use terms v1")),
    termsUri: "https://hospital.example/kraken/terms",
    resources: [streamId, datasetId],
  });
  await (await seller.market.setPurposes(productId, [id("ScientificResearch")], true)).wait();

  const custodianIdentity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
  const custodian = ledger.client(custodianIdentity);
  await custodian.registerResource(datasetId.toLowerCase(), "dataset", [productId]);
  for (const subjectId of subjects) {
    await custodian.giveConsent({
      subjectId,
      controller: "University Hospital",
      resources: [datasetId.toLowerCase()],
      purposes: ["ScientificResearch"],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * DAY,
      noticeHash: keccak256(toUtf8Bytes("KRAKEN notice v1")),
    });
  }
  await custodian.addResourceSubjects(datasetId.toLowerCase(), subjects);
  const channel = { ledger: ledger.peer.channelName, now: ledger.clock.nowSeconds() };
  const bind = async (identity: Awaited<ReturnType<typeof ledger.enroll>>, wallet: WalletSigner) =>
    bindWallet(ledger.client(identity), identity, { address: await wallet.getAddress(), signMessage: (text) => wallet.signMessage(text) }, channel);
  // the hospital's custodian identity binds the hospital's wallet: the studio registers new resources with it
  await bind(custodianIdentity, hospital.signer);
  const wallets = new Map<string, string>();
  for (const [i, account] of PATIENT_ACCOUNTS.entries()) {
    const enrolled = await ledger.enroll("HospitalMSP", `subject-${subjects[i]}`, { "consent.role": "subject", "consent.subject": subjects[i] });
    const binding = await bind(enrolled, patientWallet(account));
    wallets.set(subjects[i], binding.address);
  }
  const universityIdentity = await ledger.enroll("UniversityMSP", "cardio-lab", {
    "consent.role": "buyer",
    "consent.buyerType": "PublicResearch",
    "consent.jurisdiction": "NL",
    "consent.ethAddress": universityAddress,
  });
  const buyer = ledger.client(universityIdentity);
  await bind(universityIdentity, universityWallet);
  const marketingIdentity = await ledger.enroll("UniversityMSP", "marketing-company", {
    "consent.role": "buyer",
    "consent.buyerType": "PrivateCompany",
    "consent.jurisdiction": "NL",
  });
  await bind(marketingIdentity, marketingWallet);
  const decision = await buyer.requestAccess({ productId, purpose: "ScientificResearch", ethAddress: universityAddress, ttlSeconds: 30 * DAY });
  if (decision.decision !== "approved") throw new Error(`seed: the university's request was ${decision.decision}: ${decision.reasons.join(", ")}`);
  return { productId, wallets, streamId: streamId.toLowerCase(), datasetId: datasetId.toLowerCase(), dataset, subjects };
}
/**
 * The hospital publishes a heart-rate event a second on its stream (encrypted with the stream's group
 * key; a licensed buyer's browser gets the key through the hospital's key-request endpoint), through
 * the brokers the coordinator assigns, until cleanup.
 */
async function startHeartRate(
  n: DemoNetwork,
  provider: JsonRpcProvider,
  signer: import("ethers").Wallet,
  streamId: string,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<{ client: DataClient; published: number }> {
  const client = new DataClient({
    signer,
    access: new StreamRegistryClient(n.a.StreamRegistry, provider),
    encryptionPrivateKey: generateKeyPair().privateKey,
    coordinator: coordinatorAt(n.a.NetworkCoordinator, provider),
    publishTimeoutMs: 10_000,
  });
  // every broker learns the stream from the registry's ResourceCreated event
  await waitFor(() => n.brokers.every((b) => b.index.get(streamId) !== undefined), "the brokers to index the heart-rate stream");
  const state = { client, published: 0 };
  let stopped = false;
  let beat = 0;
  const publishing = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        await client.publish(streamId, { bpm: 62 + Math.round(12 * Math.sin(beat / 6)) + (beat % 3), seq: beat });
        state.published++;
      } catch (error) {
        if (!stopped) log(`heart-rate publish ${beat} failed: ${(error as Error).message}`);
      }
      beat++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1_000 - (Date.now() - started))));
    }
  })();
  cleanup.push(async () => {
    stopped = true;
    await publishing;
    await client.close();
  });
  return state;
}
