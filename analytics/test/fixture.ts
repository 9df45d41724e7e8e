// The world the analytics tests run in: the market on Hardhat's in-process network (the market tests'
// own deployment helpers: token, registry, karma, market, 2-of-3 attestors), the in-process consent
// ledger, a study listed as a consent-gated product over its own dataset resource, patients who
// consented to ScientificResearch, a licensed buyer, and the two aggregators on 127.0.0.1 port 0.
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers";
import { keccak256, toUtf8Bytes, type Signer } from "ethers";
import { InProcessConsentLedger, type AccessDecision, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { DAY, PRICE, attest, marketFixture, order, type MarketFixture } from "../../test/market/helpers";
import { Aggregator, defineStudy, generateHpkeKeyPair, studyHash, type HpkeKeyPair, type MeasurementSpec, type Study } from "../src";
import { toBase64Url } from "../src/encoding";

export const PURPOSE = "ScientificResearch";
export const HOUR = 3_600;

export interface World {
  f: MarketFixture;
  ledger: InProcessConsentLedger;
  custodian: ConsentLedgerClient;
  buyerLedger: ConsentLedgerClient;
  otherLedger: ConsentLedgerClient;
  study: Study;
  resourceId: string;
  subjects: string[];
  consentIds: Map<string, string>;
  leader: Aggregator;
  helper: Aggregator;
  leaderKey: HpkeKeyPair;
  helperKey: HpkeKeyPair;
  verifyKey: string;
  dirs: { leader: string; helper: string };
  chainId: bigint;
  market: string;
  /** the buyer's current decision (grant + released subjects) */
  decision: AccessDecision;
  /**
   * The start of the hour the world was created in (the ledger's clock). Batches are counted back from
   * it (hourStart), not from the present hour: an hour boundary passing during a run must not move the
   * batch a later step names onto another one.
   */
  hour: number;
  restartLeader(): Promise<void>;
  restartHelper(): Promise<void>;
  close(): Promise<void>;
}

/** HbA1c (%) of patient i, the lab value the tests aggregate: 4.0 .. 8.9 with one decimal. */
export function hba1c(i: number, salt = 0): number {
  return 4 + ((i * 7 + salt * 3) % 50) / 10;
}

export const MEASUREMENTS: MeasurementSpec[] = [
  { name: "hba1c-sum", type: "sum", where: { test: "HbA1c" }, field: "value", bits: 8, scale: 10 },
  { name: "hba1c-bands", type: "histogram", where: { test: "HbA1c" }, field: "value", bounds: [5.7, 6.5] },
  { name: "hba1c-high", type: "count", where: { test: "HbA1c" }, field: "value", predicate: { op: ">=", value: 6.5 } },
  { name: "lipids", type: "sumvec", where: { test: "lipids" }, fields: ["ldl", "hdl", "tg"], bits: 16, scale: 100 },
];

export async function auditorClient(ledger: InProcessConsentLedger, name: string): Promise<ConsentLedgerClient> {
  return ledger.client(await ledger.enroll("AuditMSP", name, { "consent.role": "auditor" }));
}

/** Requests access for the buyer and buys (or extends) its licence under the new grant. */
export async function requestAndBuy(
  w: Pick<World, "f" | "study">,
  buyerLedger: ConsentLedgerClient,
  buyer: Signer & { address: string },
  seconds: bigint = DAY,
): Promise<AccessDecision> {
  const decision = await buyerLedger.requestAccess({
    productId: w.study.productId,
    purpose: PURPOSE,
    ethAddress: buyer.address.toLowerCase(),
    ttlSeconds: 30 * 86_400,
  });
  if (decision.decision !== "approved" || !decision.grant) throw new Error(`access denied: ${decision.reasons.join(", ")}`);
  const { attestation, signatures } = await attest(w.f, buyer.address, w.study.productId, {
    grantId: decision.grant.grantId,
    expiresAt: BigInt(decision.grant.expiresAt),
    purpose: keccak256(toUtf8Bytes(PURPOSE)),
  });
  await (await w.f.market.connect(buyer).buy(order(w.study.productId, seconds, { attestation, signatures }), PRICE)).wait();
  return decision;
}

export async function createWorld(
  options: { subjects?: number; workers?: number; minBatchSize?: number; measurements?: MeasurementSpec[]; jobSize?: number } = {},
): Promise<World> {
  const f = await marketFixture();
  const marketAddress = await f.market.getAddress();
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  const ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["PharmaMSP", "AuditMSP"] });
  const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
  const buyerIdentity = async (name: string, address: string) =>
    ledger.client(
      await ledger.enroll("PharmaMSP", name, {
        "consent.role": "buyer",
        "consent.buyerType": "PrivateCompany",
        "consent.jurisdiction": "DE",
        "consent.ethAddress": address.toLowerCase(),
      }),
    );
  const buyerLedger = await buyerIdentity("rnd", f.buyer.address);
  const otherLedger = await buyerIdentity("other", f.other.address);

  const leaderKey = await generateHpkeKeyPair(1);
  const helperKey = await generateHpkeKeyPair(2);
  const verifyKey = toBase64Url(randomBytes(16));
  const dirs = { leader: mkdtempSync(path.join(tmpdir(), "analytics-leader-")), helper: mkdtempSync(path.join(tmpdir(), "analytics-helper-")) };
  const startAggregator = async (role: "leader" | "helper", port = 0) =>
    Aggregator.start({
      role,
      dataDir: dirs[role],
      port,
      consent: await auditorClient(ledger, `aggregator-${role}-${randomBytes(4).toString("hex")}`),
      market: { address: marketAddress, runner: hre.ethers.provider },
      now: () => ledger.clock.nowSeconds(),
      hpke: role === "leader" ? leaderKey : helperKey,
      workers: options.workers ?? 0,
      jobSize: options.jobSize ?? 8,
    });
  const holder = { leader: await startAggregator("leader"), helper: await startAggregator("helper") };

  // the study: its own dataset resource in the registry, listed as a consent-gated product
  const descriptor = defineStudy({
    title: "HbA1c and lipids of consenting patients",
    purpose: PURPOSE,
    measurements: options.measurements ?? MEASUREMENTS,
    minBatchSize: options.minBatchSize ?? 10,
    aggregators: { leader: { url: holder.leader.url, hpkeConfig: leaderKey.config }, helper: { url: holder.helper.url, hpkeConfig: helperKey.config } },
  });
  const hash = studyHash(descriptor);
  await (await f.registry.connect(f.seller).createDataset("/studies/hba1c", hash, "https://hospital.example/studies/hba1c.json", "{}")).wait();
  const resourceId = (await f.registry.resourceId(f.seller.address, "/studies/hba1c")).toLowerCase();
  await (await f.registry.connect(f.seller).setSubscribeDelegate(resourceId, marketAddress, true)).wait();
  const salt = hre.ethers.id("study/hba1c");
  await (
    await f.market.connect(f.seller).createProduct(salt, {
      pricePerSecond: PRICE,
      minSeconds: 3_600n,
      maxSeconds: 365n * DAY,
      requiresConsent: true,
      requiresKyc: false,
      termsHash: hash,
      termsUri: "https://hospital.example/studies/hba1c.json",
      beneficiary: f.beneficiary.address,
      resources: [resourceId],
    })
  ).wait();
  const study: Study = { productId: (await f.market.productIdOf(f.seller.address, salt)).toLowerCase(), descriptor };
  await (await f.market.connect(f.seller).setPurposes(study.productId, [hre.ethers.id(PURPOSE)], true)).wait();
  for (const a of [holder.leader, holder.helper]) await a.addStudy({ productId: study.productId, descriptor, verifyKey });

  // patients: every one consents to ScientificResearch for the study's resource, for private companies
  const subjects = Array.from({ length: options.subjects ?? 12 }, (_, i) => `p-${String(i + 1).padStart(3, "0")}`);
  await custodian.registerResource(resourceId, "dataset", [study.productId]);
  const consentIds = new Map<string, string>();
  for (const subjectId of subjects) {
    const consent = await custodian.giveConsent({
      subjectId,
      controller: "Hospital",
      resources: [resourceId],
      purposes: [PURPOSE],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PrivateCompany"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
      noticeHash: keccak256(toUtf8Bytes("study notice")),
    });
    consentIds.set(subjectId, consent.consentId);
  }
  await custodian.addResourceSubjects(resourceId, subjects);
  const world = { f, study } as World;
  const decision = await requestAndBuy(world, buyerLedger, f.buyer);

  const restart = (role: "leader" | "helper") => async () => {
    // back on the port the system gave it: the study's descriptor names the aggregators' URLs
    const port = Number(new URL(holder[role].url).port);
    await holder[role].close();
    holder[role] = await startAggregator(role, port);
  };
  // (getters: Object.assign would copy today's instances)
  Object.defineProperty(world, "leader", { get: () => holder.leader });
  Object.defineProperty(world, "helper", { get: () => holder.helper });
  return Object.assign(world, {
    ledger,
    custodian,
    buyerLedger,
    otherLedger,
    resourceId,
    subjects,
    consentIds,
    leaderKey,
    helperKey,
    verifyKey,
    dirs,
    chainId,
    market: marketAddress,
    decision,
    hour: Math.floor(ledger.clock.nowSeconds() / HOUR) * HOUR,
    restartLeader: restart("leader"),
    restartHelper: restart("helper"),
    close: async () => {
      await holder.leader.close().catch(() => undefined);
      await holder.helper.close().catch(() => undefined);
      rmSync(dirs.leader, { recursive: true, force: true });
      rmSync(dirs.helper, { recursive: true, force: true });
    },
  });
}

/** Each patient's records: an HbA1c result and a lipid panel (mmol/l). */
export function recordsOf(subjects: string[], salt = 0) {
  return subjects.flatMap((subjectId, i) => [
    { subjectId, data: { subjectId, test: "HbA1c", value: hba1c(i, salt) } },
    {
      subjectId,
      data: { subjectId, test: "lipids", ldl: 2 + ((i * 13 + salt) % 30) / 10, hdl: 1 + ((i * 5 + salt) % 10) / 10, tg: 0.8 + ((i * 3 + salt) % 20) / 10 },
    },
  ]);
}

/** The start of the hour `hoursAgo` hours before the one the world was created in. */
export function hourStart(world: Pick<World, "hour">, hoursAgo: number): number {
  return world.hour - hoursAgo * HOUR;
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
