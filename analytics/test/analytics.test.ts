// The analytics protocol end to end: custodian -> leader -> helper -> collector, on the real market
// (Hardhat in-process) and the in-process consent ledger, each required property asserted on the
// aggregators' answers.
import { expect } from "chai";
import hre from "hardhat";
import { Wallet } from "ethers";
import { AnalyticsError, collect, encodeReports, uploadReports, vdafFor, vdafParametersOf, type CollectResult, type Study } from "../src";
import { PrepareExecutor, type InitResponse } from "../src/prepare";
import { inputShareAad } from "../src/wire";
import { createWorld, hourStart, recordsOf, requestAndBuy, waitFor, HOUR, type World } from "./fixture";

async function refusal(promise: Promise<unknown>): Promise<AnalyticsError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AnalyticsError) return error;
    throw error;
  }
  throw new Error("expected a refusal, got a result");
}

/** The study's statistics computed in the clear from the records (what the aggregate must equal). */
function plaintext(dataset: ReturnType<typeof recordsOf>) {
  const records = dataset.map((r) => r.data as unknown as Record<string, number | string>);
  const hb = records.filter((r) => r.test === "HbA1c").map((r) => r.value as number);
  const lipids = records.filter((r) => r.test === "lipids") as Record<string, number>[];
  const tenths = hb.map((v) => Math.round(v * 10));
  return {
    sum: tenths.reduce((a, b) => a + b, 0) / 10,
    bands: [hb.filter((v) => v < 5.7).length, hb.filter((v) => v >= 5.7 && v < 6.5).length, hb.filter((v) => v >= 6.5).length],
    high: hb.filter((v) => v >= 6.5).length,
    lipids: ["ldl", "hdl", "tg"].map((k) => lipids.reduce((a, r) => a + Math.round(r[k] * 100), 0) / 100),
  };
}

function byName(result: CollectResult, name: string) {
  const m = result.measurements.find((x) => x.measurement === name);
  if (!m) throw new Error(`no ${name} in the result`);
  return m;
}

describe("privacy-preserving analytics (Prio3 between two aggregators)", function () {
  let w: World;
  const collector = () => ({
    signer: w.f.buyer,
    decision: w.decision,
    chainId: w.chainId,
    market: w.market,
    now: () => w.ledger.clock.nowSeconds(),
    pollMs: 20,
  });
  const upload = async (subjects: string[], time: number, salt = 0, study: Study = w.study) => {
    const encoded = await encodeReports(recordsOf(subjects, salt), study, w.decision, { time });
    return uploadReports(study, encoded);
  };

  before(async function () {
    this.timeout(300_000);
    w = await createWorld({ workers: 1 });
  });

  after(async () => {
    await w?.close();
  });

  it("computes every measurement's aggregate exactly as the plaintext computation does", async () => {
    const start = hourStart(w, 10);
    const answer = await upload(w.subjects, start + 60);
    expect(answer).to.deep.equal({ accepted: 4 * w.subjects.length, rejected: [] });
    const result = await collect(w.study, { start, duration: HOUR }, collector());
    const expected = plaintext(recordsOf(w.subjects));
    expect(byName(result, "hba1c-sum").reportCount).to.equal(12);
    expect(byName(result, "hba1c-sum").value).to.equal(expected.sum);
    expect(byName(result, "hba1c-sum").mean).to.equal(expected.sum / 12);
    expect(byName(result, "hba1c-bands").value).to.deep.equal(expected.bands);
    expect(byName(result, "hba1c-high").value).to.equal(expected.high);
    expect(byName(result, "lipids").value).to.deep.equal(expected.lipids);
  });

  it("drops a report with an out-of-range value: the helper's proof check rejects it", async () => {
    const start = hourStart(w, 9);
    const encoded = await encodeReports(recordsOf(w.subjects), w.study, w.decision, { time: start });
    // a malicious client: the same Prio3 code, but the "bits" of its Sum measurement encode 1000 (not 0/1)
    const sum = w.study.descriptor.measurements[0];
    const vdaf = vdafFor(vdafParametersOf(sum));
    const circuit = (vdaf.prio3.flp as unknown as { circuit: { encode(m: unknown): bigint[] } }).circuit;
    const honestEncode = circuit.encode.bind(circuit);
    circuit.encode = () => [1000n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
    let poisoned;
    try {
      poisoned = await encodeReports(
        [{ subjectId: w.subjects[0], data: { test: "HbA1c", value: 4 } }],
        { ...w.study, descriptor: { ...w.study.descriptor, measurements: [sum] } },
        w.decision,
        { time: start },
      );
    } finally {
      circuit.encode = honestEncode;
    }
    expect((await uploadReports(w.study, { ...encoded, reports: [...encoded.reports, ...poisoned.reports] })).accepted).to.equal(49);

    // the helper answers VDAF_PREP_ERROR for it; the leader leaves it out
    const result = await collect(w.study, { start, duration: HOUR }, collector());
    expect(byName(result, "hba1c-sum").reportCount).to.equal(12);
    expect(byName(result, "hba1c-sum").value).to.equal(plaintext(recordsOf(w.subjects)).sum);

    // the same report prepared directly: the combined verifier rejects it
    const executor = new PrepareExecutor();
    const report = poisoned.reports[0];
    const aad = inputShareAad(w.study.productId, report);
    const leader = (await executor.run({
      op: "leader-init",
      job: 1,
      vdaf: vdafParametersOf(sum),
      verifyKey: Buffer.from(w.verifyKey, "base64url"),
      key: w.leaderKey,
      items: [{ reportId: report.reportId, publicShare: report.publicShare, ciphertext: report.leaderShare, aad }],
    })) as InitResponse;
    const helper = (await executor.run({
      op: "helper-prepare",
      vdaf: vdafParametersOf(sum),
      verifyKey: Buffer.from(w.verifyKey, "base64url"),
      key: w.helperKey,
      items: [
        {
          reportId: report.reportId,
          publicShare: report.publicShare,
          ciphertext: report.helperShare,
          aad,
          peerPrepShare: (leader.outcomes[0] as { value: string }).value,
        },
      ],
    })) as InitResponse;
    expect(helper.outcomes[0]).to.deep.include({ ok: false, code: "VDAF_PREP_ERROR" });
  });

  it("refuses a batch under the minimum batch size (leader and, on its own, the helper)", async () => {
    const start = hourStart(w, 8);
    await upload(w.subjects.slice(0, 9), start);
    const error = await refusal(collect(w.study, { start, duration: HOUR }, collector()));
    expect(error.code).to.equal("BATCH_TOO_SMALL");
    expect(error.details).to.include({ reportCount: 9, subjectCount: 9, minBatchSize: 10 });

    // a leader that skips the check: the helper refuses to release its share all the same
    const { signCollectionRequest, collectionDomain, collectionIdOf } = await import("../src/wire");
    const { generateHpkeKeyPair } = await import("../src/hpke");
    const request = {
      studyId: w.study.productId,
      collector: w.f.buyer.address,
      grantId: w.decision.grant!.grantId,
      batch: { start, duration: HOUR },
      collectorKey: (await generateHpkeKeyPair(0)).config,
      issuedAt: w.ledger.clock.nowSeconds(),
    };
    const signed = await signCollectionRequest(w.f.buyer, collectionDomain(w.chainId, w.market), request, w.decision.approvedSubjects);
    const collectionId = collectionIdOf(request);
    const spec = w.study.descriptor.measurements[0];
    const reports = w.leader.storedReports(w.study.productId).filter((r) => r.time === start && r.measurement === spec.name);
    const executor = new PrepareExecutor();
    const vdaf = vdafParametersOf(spec);
    const init = (await executor.run({
      op: "leader-init",
      job: 2,
      vdaf,
      verifyKey: Buffer.from(w.verifyKey, "base64url"),
      key: w.leaderKey,
      items: reports.map((r) => ({ reportId: r.reportId, publicShare: r.publicShare, ciphertext: r.leaderShare, aad: inputShareAad(w.study.productId, r) })),
    })) as InitResponse;
    const post = (route: string, body: unknown) =>
      fetch(`${w.helper.url}/v1/studies/${w.study.productId}/${route}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const job = await post("aggregation-jobs", {
      collectionId,
      collection: signed,
      measurement: spec.name,
      reports: reports.map((r, i) => ({
        reportId: r.reportId,
        time: r.time,
        subject: r.subject,
        publicShare: r.publicShare,
        helperShare: r.helperShare,
        leaderPrepShare: (init.outcomes[i] as { value: string }).value,
      })),
    });
    expect(job.status).to.equal(200);
    const { checksumOf } = await import("../src/wire");
    const batches = w.study.descriptor.measurements.map((m) =>
      m.name === spec.name
        ? { measurement: m.name, reportCount: 9, checksum: checksumOf(reports.map((r) => r.reportId)) }
        : { measurement: m.name, reportCount: 0, checksum: checksumOf([]) },
    );
    const share = await post("aggregate-shares", { collectionId, collection: signed, batches });
    expect(share.status).to.equal(400);
    expect(((await share.json()) as { error: { code: string } }).error.code).to.equal("BATCH_TOO_SMALL");
  });

  it("refuses to serve a study whose product its seller does not sell for the study's purpose", async () => {
    const purpose = hre.ethers.id(w.study.descriptor.purpose);
    const registration = { productId: w.study.productId, descriptor: w.study.descriptor, verifyKey: w.verifyKey };
    await (await w.f.market.connect(w.f.seller).setPurposes(w.study.productId, [purpose], false)).wait();
    try {
      const refused = await refusal(w.leader.addStudy(registration));
      expect(refused.code).to.equal("INVALID_STUDY");
      expect(refused.details).to.include({ purpose: w.study.descriptor.purpose });
    } finally {
      await (await w.f.market.connect(w.f.seller).setPurposes(w.study.productId, [purpose], true)).wait();
    }
    await w.leader.addStudy(registration); // declared again: served again
  });

  it("refuses a collector without a licence, or with a forged signature", async () => {
    const window = { start: hourStart(w, 10), duration: HOUR };
    // the other buyer holds a grant on the consent ledger but never bought the study
    const otherDecision = await w.otherLedger.requestAccess({
      productId: w.study.productId,
      purpose: "ScientificResearch",
      ethAddress: w.f.other.address.toLowerCase(),
      ttlSeconds: 86_400,
    });
    const noLicence = await refusal(collect(w.study, window, { ...collector(), signer: w.f.other, decision: otherDecision }));
    expect(noLicence.code).to.equal("NOT_LICENSED");
    expect(noLicence.details).to.include({ status: "None" });

    // someone else signs in the buyer's name
    const forger = Wallet.createRandom();
    const forged = await refusal(
      collect(w.study, window, { ...collector(), signer: Object.assign(forger, { getAddress: async () => w.f.buyer.address }) as unknown as Wallet }),
    );
    expect(forged.code).to.equal("BAD_SIGNATURE");
  });

  it("loses no accepted report when the leader and the helper restart in the middle of a batch", async () => {
    const start = hourStart(w, 5);
    const half = w.subjects.length / 2;
    const records = recordsOf(w.subjects, 2);
    const encoded = await encodeReports(records, w.study, w.decision, { time: start });
    const first = encoded.reports.filter((r) => w.subjects.indexOf(r.subject) < half);
    expect((await uploadReports(w.study, { ...encoded, reports: first })).accepted).to.equal(first.length);
    await w.restartLeader();
    expect(w.leader.storedReports(w.study.productId).filter((r) => r.time === start)).to.have.length(first.length);
    const rest = encoded.reports.filter((r) => w.subjects.indexOf(r.subject) >= half);
    expect((await uploadReports(w.study, { ...encoded, reports: rest })).accepted).to.equal(rest.length);
    await w.restartHelper();
    await w.restartLeader();
    const result = await collect(w.study, { start, duration: HOUR }, collector());
    const expected = plaintext(records);
    expect(byName(result, "hba1c-sum").reportCount).to.equal(w.subjects.length);
    expect(byName(result, "hba1c-sum").value).to.equal(expected.sum);
    expect(byName(result, "lipids").value).to.deep.equal(expected.lipids);
    // the answer survives a restart too: the same request gets the same released shares
    await w.restartLeader();
    expect((await collect(w.study, { start, duration: HOUR }, collector())).measurements).to.deep.equal(result.measurements);
  }).timeout(60_000);

  it("stops including a subject from its withdrawal: its stored and later reports are dropped, an earlier batch cannot be differenced", async () => {
    const uncollected = hourStart(w, 7);
    await upload(w.subjects, uncollected);
    const withdrawing = w.subjects[3];
    await w.custodian.withdrawConsent(w.consentIds.get(withdrawing)!);
    await waitFor(
      () => w.leader.withdrawalOf(w.study.productId, withdrawing) !== undefined && w.helper.withdrawalOf(w.study.productId, withdrawing) !== undefined,
      "both aggregators to see the withdrawal",
    );
    expect(w.leader.storedReports(w.study.productId).some((r) => r.subject === withdrawing)).to.equal(false);

    // the ledger invalidated the grant the withdrawn consent was part of: nothing more under it
    const stale = await refusal(upload([withdrawing], hourStart(w, 6)));
    expect(stale.code).to.equal("GRANT_INVALID");
    expect(stale.message).to.match(/Invalidated/);

    // the buyer asks again: the new grant releases the others; it renews its licence under it
    w.ledger.clock.advance(5);
    w.decision = await requestAndBuy(w, w.buyerLedger, w.f.buyer, BigInt(HOUR));
    const remaining = w.subjects.filter((s) => s !== withdrawing);
    expect([...w.decision.approvedSubjects].sort()).to.deep.equal(remaining);

    // a (stale) custodian still sends the withdrawn subject's new report: refused, the others taken
    const later = hourStart(w, 6);
    const records = recordsOf(w.subjects, 3);
    const encoded = await encodeReports(records, w.study, { ...w.decision, approvedSubjects: w.subjects }, { time: later });
    const answer = await uploadReports(w.study, { ...encoded, grantId: w.decision.grant!.grantId, subjects: w.decision.approvedSubjects });
    expect(answer.accepted).to.equal(4 * remaining.length);
    expect(answer.rejected.map((r) => r.code)).to.deep.equal(["SUBJECT_NOT_RELEASED", "SUBJECT_NOT_RELEASED", "SUBJECT_NOT_RELEASED", "SUBJECT_NOT_RELEASED"]);
    const after = await collect(w.study, { start: later, duration: HOUR }, collector());
    expect(byName(after, "hba1c-sum").reportCount).to.equal(remaining.length);
    expect(byName(after, "hba1c-sum").value).to.equal(plaintext(records.filter((r) => r.subjectId !== withdrawing)).sum);

    // reports stored before the withdrawal, in a batch not yet collected: aggregated without it
    const dropped = await collect(w.study, { start: uncollected, duration: HOUR }, collector());
    expect(byName(dropped, "hba1c-sum").value).to.equal(plaintext(recordsOf(w.subjects).filter((r) => r.subjectId !== withdrawing)).sum);

    // the batch collected with it before the withdrawal, again without it: the difference is one subject
    const again = await refusal(collect(w.study, { start: hourStart(w, 10), duration: HOUR }, collector()));
    expect(again.code).to.equal("BATCH_OVERLAP");
    expect(again.details).to.include({ addedSubjects: 0, removedSubjects: 1 });
    // and an interval that partly overlaps a collected one
    const partial = await refusal(collect(w.study, { start: hourStart(w, 11), duration: 2 * HOUR }, collector()));
    expect(partial.code).to.equal("BATCH_OVERLAP");
  }).timeout(60_000);

  it("refuses a collector whose licence has expired", async () => {
    const snapshot = await hre.network.provider.send("evm_snapshot", []);
    try {
      await hre.network.provider.send("evm_increaseTime", [2 * 86_400]);
      await hre.network.provider.send("evm_mine", []);
      const expired = await refusal(collect(w.study, { start: hourStart(w, 4), duration: HOUR }, collector()));
      expect(expired.code).to.equal("NOT_LICENSED");
      expect(expired.message).to.match(/expired at/);
    } finally {
      await hre.network.provider.send("evm_revert", [snapshot]);
    }
  });
});
