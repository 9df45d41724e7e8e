// Step 7 of the demo (issue 16): privacy-preserving analytics. The hospital lists a study of the
// patients' HbA1c as a market product; two aggregators (Prio3, @datamarket/analytics) serve it; the
// patients who consented to scientific research consent to the study; the pharma lab, which never
// receives a record, asks the consent ledger for the study's purpose, buys the licence, and collects
// the mean and the distribution over the released patients, checked against the plaintext computation.
import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak256, toUtf8Bytes, type JsonRpcProvider, type Wallet } from "ethers";
import { Aggregator, collect, defineStudy, encodeReports, studyHash, uploadReports, type Study } from "@datamarket/analytics";
import type { ConsentLedgerClient, InProcessConsentLedger } from "@datamarket/consent-ledger";
import type { BridgeStore } from "@datamarket/consent-bridge";
import { MarketClient, StreamRegistryClient } from "@datamarket/sdk";
import type { Narrator } from "./narrator";
import type { Cleanup } from "./node";

export interface AnalyticsStepContext {
  say: Narrator;
  cleanup: Cleanup;
  provider: JsonRpcProvider;
  chainId: bigint;
  addresses: { market: string; registry: string; token: string };
  ledger: InProcessConsentLedger;
  custodian: ConsentLedgerClient;
  /** the pharma lab's consent-ledger identity (PrivateCompany) */
  pharmaLedger: ConsentLedgerClient;
  hospital: { signer: Wallet | import("ethers").Signer; address: string };
  pharma: { signer: Wallet | import("ethers").Signer; address: string };
  bridgeUrls: string[];
  bridgeStores: BridgeStore[];
  /** the hospital's lab results (plaintext: the custodian holds them) */
  records: Array<{ subjectId: string; data: Uint8Array }>;
  /** patients whose consent to scientific research still stands */
  researchSubjects: string[];
  allSubjects: string[];
}

const PURPOSE = "ScientificResearch";
const HOUR = 3_600;

export async function runAnalyticsStep(c: AnalyticsStepContext): Promise<void> {
  const { say } = c;
  await say.step("7", "pharma lab learns HbA1c statistics of consenting patients via two Prio3 aggregators", async () => {
    // two aggregators run by different organisations, each with its own consent-ledger auditor identity
    const auditor = async (name: string) => c.ledger.client(await c.ledger.enroll("AuditMSP", name, { "consent.role": "auditor" }));
    const start = async (role: "leader" | "helper") => {
      const dataDir = mkdtempSync(path.join(tmpdir(), `kraken-${role}-`));
      c.cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const aggregator = await Aggregator.start({
        role,
        dataDir,
        consent: await auditor(`analytics-${role}`),
        market: { address: c.addresses.market, runner: c.provider },
        now: () => c.ledger.clock.nowSeconds(),
        workers: 0,
      });
      c.cleanup.push(() => aggregator.close());
      return aggregator;
    };
    const leader = await start("leader");
    const helper = await start("helper");

    // the study: a dataset resource whose content hash is the descriptor's hash, listed as a consent-gated product
    const descriptor = defineStudy({
      title: "KRAKEN HbA1c, November 2026",
      purpose: PURPOSE,
      minBatchSize: 10,
      measurements: [
        { name: "hba1c-sum", type: "sum", where: { test: "HbA1c" }, field: "value", bits: 8, scale: 10 },
        { name: "hba1c-bands", type: "histogram", where: { test: "HbA1c" }, field: "value", bounds: [5.7, 6.5] },
      ],
      aggregators: { leader: { url: leader.url, hpkeConfig: leader.hpkeConfig }, helper: { url: helper.url, hpkeConfig: helper.hpkeConfig } },
    });
    const registry = new StreamRegistryClient(c.addresses.registry, c.hospital.signer);
    const { datasetId: resourceId } = await registry.createDataset(
      "/kraken/studies/hba1c-2026-11",
      studyHash(descriptor),
      "https://hospital.example/kraken/studies/hba1c-2026-11.json",
    );
    await registry.setSubscribeDelegate(resourceId, c.addresses.market);
    const hospitalMarket = new MarketClient(c.addresses.market, c.addresses.token, c.hospital.signer);
    const { productId } = await hospitalMarket.listProduct(keccak256(toUtf8Bytes("kraken/hba1c-study/v1")), {
      beneficiary: c.hospital.address,
      pricePerSecond: 10n ** 13n,
      minSeconds: 3_600,
      maxSeconds: 30 * 86_400,
      requiresConsent: true,
      requiresKyc: false,
      termsHash: studyHash(descriptor),
      termsUri: "https://hospital.example/kraken/studies/hba1c-2026-11.json",
      resources: [resourceId],
    });
    const study: Study = { productId: productId.toLowerCase(), descriptor };
    await (await hospitalMarket.market.setPurposes(productId, [keccak256(toUtf8Bytes(PURPOSE))], true)).wait();
    const verifyKey = randomBytes(16).toString("base64url");
    for (const a of [leader, helper]) await a.addStudy({ productId: study.productId, descriptor, verifyKey });
    say.say(`study product ${study.productId.slice(0, 18)}… (termsHash = the descriptor's hash); leader ${leader.url}, helper ${helper.url}`);

    // consent: the patients who consented to scientific research agree to statistical use by any researcher
    await c.custodian.registerResource(resourceId.toLowerCase(), "dataset", [study.productId]);
    for (const subjectId of c.researchSubjects) {
      await c.custodian.giveConsent({
        subjectId,
        controller: "University Hospital",
        resources: [resourceId.toLowerCase()],
        purposes: [PURPOSE],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: ["PrivateCompany", "PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: c.ledger.clock.nowSeconds() + 365 * 86_400,
        noticeHash: keccak256(toUtf8Bytes("KRAKEN statistics notice v1")),
      });
    }
    await c.custodian.addResourceSubjects(resourceId.toLowerCase(), c.allSubjects);

    // the pharma lab: consent-ledger request for the study's purpose, then the licence (2 of 3 bridges attest)
    const decision = await c.pharmaLedger.requestAccess({
      productId: study.productId,
      purpose: PURPOSE,
      ethAddress: c.pharma.address,
      ttlSeconds: 30 * 86_400,
    });
    say.expect(
      decision.decision === "approved" && decision.approvedSubjects.length === c.researchSubjects.length,
      `Fabric releases the ${c.researchSubjects.length} patients whose consent covers the study`,
      `${decision.decision} ${decision.approvedSubjects.length}`,
    );
    const grantId = decision.grant!.grantId;
    const signedBy = Date.now() + 15_000;
    while (c.bridgeStores.filter((s) => s.attestations.has(grantId)).length < 2) {
      if (Date.now() > signedBy) throw new Error("timed out waiting for two bridges to sign the study grant");
      await new Promise((r) => setTimeout(r, 25));
    }
    // the permit's deadline by the chain's clock (step 6 moved it past the wall clock)
    const deadline = BigInt((await c.provider.getBlock("latest"))!.timestamp + HOUR);
    await new MarketClient(c.addresses.market, c.addresses.token, c.pharma.signer, c.bridgeUrls).buyWithPermit({
      productId: study.productId,
      duration: 7 * 86_400,
      grantId,
      deadline,
    });

    // the hospital: one report per released patient and measurement, uploaded to the leader
    const time = Math.floor(c.ledger.clock.nowSeconds() / HOUR) * HOUR;
    const encoded = await encodeReports(c.records, study, decision, { time });
    const uploaded = await uploadReports(study, encoded);
    say.expect(
      uploaded.accepted === 2 * c.researchSubjects.length && uploaded.rejected.length === 0,
      `the leader accepted ${uploaded.accepted} reports (2 per released patient), encrypted to the two aggregators`,
      JSON.stringify(uploaded.rejected.slice(0, 2)),
    );

    const started = performance.now();
    const result = await collect(
      study,
      { start: time, duration: HOUR },
      { signer: c.pharma.signer, decision, chainId: c.chainId, market: c.addresses.market, now: () => c.ledger.clock.nowSeconds(), pollMs: 20 },
    );
    const sum = result.measurements.find((m) => m.measurement === "hba1c-sum")!;
    const bands = result.measurements.find((m) => m.measurement === "hba1c-bands")!;
    say.say(
      `collected in ${((performance.now() - started) / 1000).toFixed(2)} s: mean HbA1c ${(sum.mean as number).toFixed(3)} % over ${sum.reportCount} patients; ${bands.buckets!.map((b, i) => `${b}: ${(bands.value as number[])[i]}`).join(", ")}`,
    );

    // the plaintext computation the demo checks against (the custodian's records of the released patients)
    const released = new Set(decision.approvedSubjects);
    const values = c.records
      .map((r) => JSON.parse(new TextDecoder().decode(r.data)) as { subjectId: string; test: string; value: number })
      .filter((r) => r.test === "HbA1c" && released.has(r.subjectId))
      .map((r) => r.value);
    const plainMean = values.reduce((a, v) => a + Math.round(v * 10), 0) / 10 / values.length;
    const plainBands = [values.filter((v) => v < 5.7).length, values.filter((v) => v >= 5.7 && v < 6.5).length, values.filter((v) => v >= 6.5).length];
    say.expect(
      sum.reportCount === values.length && sum.mean === plainMean,
      `the mean equals the plaintext mean over the same ${values.length} patients (${plainMean.toFixed(3)} %)`,
      `${sum.mean} vs ${plainMean}`,
    );
    say.expect(
      JSON.stringify(bands.value) === JSON.stringify(plainBands),
      `the histogram equals the plaintext counts (${plainBands.join(" / ")})`,
      `${JSON.stringify(bands.value)}`,
    );
  });
}
