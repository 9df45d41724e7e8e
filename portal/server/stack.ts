// `npm run portal` and the end-to-end test start the same stack: the demo's embedded network (Hardhat
// node, Ignition deployment, in-process consent ledger, three consent bridges, brokers on the
// coordinator), the KRAKEN pilot's seed (a consent-gated product of the hospital, patients' consents,
// one access decision), the consent API, and a static server of the built portal with its config.
import { existsSync } from "node:fs";
import path from "node:path";
import { JsonRpcProvider, id, keccak256, toUtf8Bytes } from "ethers";
import { MarketClient, StreamRegistryClient, encryptDataset } from "@datamarket/sdk";
import { DAY, Narrator, compileContracts, freePort, hardhatAccounts, startNetwork, startNode, type Cleanup, type DemoNetwork } from "@datamarket/demo";
import { bindWallet } from "@datamarket/consent-ledger";
import { startConsentApi } from "./consent-api";
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
  };
  generated.set("/config.json", JSON.stringify(config));
  return {
    portalUrl: `${portalOrigin}/`,
    apiUrl: api.url,
    rpcUrl,
    config,
    network,
    productId: seeded.productId,
    wallets: seeded.wallets,
  };
}

/**
 * The KRAKEN pilot's listing, smaller: the hospital's heart-rate stream and lab-results dataset with
 * names and descriptions, a consent-gated product on both; nine patients, the first three with a
 * wallet bound on the ledger by their own subject identity (WalletContract.BindWallet, with the
 * wallet's proof); the university's and a marketing company's buyer identities with their wallets
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

  const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
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
  return { productId, wallets };
}
