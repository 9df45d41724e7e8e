// How grants die (docs/consent.md §4): a change on a resource that can narrow a decision voids every grant
// issued on it so far (a new epoch of the resource); GetGrant and ListInvalidatedGrants read that back, and
// the decoded event stream names the grants. Membership changes and the subject's access log.
import { expect } from "chai";
import { ConsentLedgerEventBatch, DenialReason } from "@datamarket/consent-ledger";
import { BUYER_ADDRESS, DATASET, DAY, RESOURCE, World, expectCode, terms, world } from "./fixtures";

describe("grants, epochs and membership", () => {
  let w: World;
  const request = (resourceId: string, purpose = "ScientificResearch") => ({ resourceId, purpose, ethAddress: BUYER_ADDRESS });
  const subjects = ["subj-d01", "subj-d02", "subj-d03"];

  beforeEach(async () => {
    w = await world();
    await w.custodian.registerResource(DATASET, "dataset");
    await w.custodian.addResourceSubjects(DATASET, subjects);
  });

  /** The event batches from `startBlock` up to the one of transaction `txId`. */
  async function batchesUntil(startBlock: bigint, txId: string): Promise<ConsentLedgerEventBatch[]> {
    const events = await w.auditor.events(startBlock);
    const batches: ConsentLedgerEventBatch[] = [];
    for await (const batch of events) {
      batches.push(batch);
      if (batch.transactionId === txId) break;
    }
    events.close();
    return batches;
  }

  it("reports each grant invalidated by the first change after it, with that change's cause and time", async () => {
    const consents = [];
    for (const subjectId of subjects) {
      consents.push(await w.custodian.giveConsent(terms(w.ledger, { subjectId, resources: [DATASET] })));
    }
    const first = (await w.buyer.requestAccess(request(DATASET))).grant!;
    w.ledger.clock.advance(10);
    const withdrawn = await w.custodian.withdrawConsent(consents[0].consentId);
    const second = (await w.buyer.requestAccess(request(DATASET))).grant!;
    expect(second.subjectCount).to.equal(2);
    expect(second.epoch).to.equal(withdrawn.lastTxId);
    w.ledger.clock.advance(10);
    await w.custodian.updateConsent(consents[1].consentId, terms(w.ledger, { subjectId: subjects[1], resources: [DATASET], purposes: ["AcademicResearch"] }));
    expect(await w.auditor.getGrant(first.grantId)).to.deep.include({
      status: "Invalidated",
      invalidatedBy: "ConsentWithdrawn",
      invalidatedAt: first.issuedAt + 10,
    });
    expect(await w.auditor.getGrant(second.grantId)).to.deep.include({
      status: "Invalidated",
      invalidatedBy: "ConsentUpdated",
      invalidatedAt: first.issuedAt + 20,
    });
    const third = (await w.buyer.requestAccess(request(DATASET))).grant!;
    expect(third.subjectCount).to.equal(1);
    expect((await w.buyer.getGrant(third.grantId)).status).to.equal("Open");
  });

  it("ends only the grants that released the subject whose consent changed", async () => {
    const consents = [];
    for (const [i, subjectId] of subjects.entries()) {
      consents.push(
        await w.custodian.giveConsent(terms(w.ledger, { subjectId, resources: [DATASET], purposes: i === 2 ? ["Marketing"] : ["ResearchAndDevelopment"] })),
      );
    }
    const research = (await w.buyer.requestAccess(request(DATASET))).grant!;
    const marketing = (await w.buyer.requestAccess(request(DATASET, "Marketing"))).grant!;
    expect([research.subjectCount, marketing.subjectCount]).to.deep.equal([2, 1]);
    // subject 3 was released to the marketing grant only
    const withdrawn = await w.custodian.withdrawConsent(consents[2].consentId);
    expect((await w.auditor.getGrant(research.grantId)).status).to.equal("Open");
    expect(await w.auditor.getGrant(marketing.grantId)).to.deep.include({ status: "Invalidated", invalidatedBy: "ConsentWithdrawn" });
    expect((await w.auditor.listInvalidatedGrants(DATASET, withdrawn.lastTxId)).records).to.deep.equal([marketing.grantId]);
    // a later change that concerns the research grant's subjects ends it then, and names it then only
    const updated = await w.custodian.updateConsent(
      consents[0].consentId,
      terms(w.ledger, { subjectId: subjects[0], resources: [DATASET], purposes: ["AcademicResearch"] }),
    );
    expect(await w.auditor.getGrant(research.grantId)).to.deep.include({ status: "Invalidated", invalidatedBy: "ConsentUpdated" });
    expect((await w.auditor.listInvalidatedGrants(DATASET, updated.lastTxId)).records).to.deep.equal([research.grantId]);
  });

  it("names the grants a change ended, exactly: those of the epoch it closed that had not expired", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger, { subjectId: subjects[0], resources: [DATASET] }));
    const startBlock = BigInt(w.ledger.peer.state.height);
    const short = (await w.buyer.requestAccess({ ...request(DATASET), ttlSeconds: 5 })).grant!;
    const long = (await w.buyer.requestAccess(request(DATASET, "ResearchAndDevelopment"))).grant!;
    w.ledger.clock.advance(6);
    const revoked = await w.custodian.revokeConsent(consent.consentId);
    const page = await w.auditor.listInvalidatedGrants(DATASET, revoked.lastTxId);
    expect(page.records).to.deep.equal([long.grantId]);
    expect(page.fetchedRecordsCount).to.equal(2);
    const batches = await batchesUntil(startBlock, revoked.lastTxId);
    expect(batches.at(-1)!.events.at(-1)).to.deep.equal({
      type: "GrantsInvalidated",
      consentId: consent.consentId,
      resourceIds: [DATASET],
      grantIds: [long.grantId],
      cause: "ConsentRevoked",
      invalidatedAt: revoked.updatedAt,
    });
    expect((await w.auditor.getGrant(short.grantId)).status).to.equal("Expired");
    await expectCode(w.auditor.listInvalidatedGrants(DATASET, "00".repeat(32)), "NOT_FOUND", "voided no grants");
    await expectCode(w.buyer.listInvalidatedGrants(DATASET, revoked.lastTxId), "FORBIDDEN");
    await expectCode(w.otherCustodian.listInvalidatedGrants(DATASET, revoked.lastTxId), "FORBIDDEN", "controlled by HospitalMSP");
    expect((await w.custodian.listInvalidatedGrants(DATASET, revoked.lastTxId)).records).to.deep.equal([long.grantId]);
  });

  it("voids a member's grants when a newer consent supersedes the one they were built on, but not on renewal", async () => {
    const older = await w.custodian.giveConsent(terms(w.ledger, { subjectId: subjects[0], resources: [DATASET] }));
    const grant = (await w.buyer.requestAccess(request(DATASET))).grant!;
    await w.custodian.renewConsent(older.consentId, w.ledger.clock.nowSeconds() + 400 * DAY);
    expect((await w.buyer.getGrant(grant.grantId)).status).to.equal("Open");
    await w.custodian.giveConsent(terms(w.ledger, { subjectId: subjects[0], resources: [DATASET], purposes: ["Marketing"] }));
    expect(await w.buyer.getGrant(grant.grantId)).to.deep.include({ status: "Invalidated", invalidatedBy: "ConsentSuperseded" });
    expect((await w.buyer.requestAccess(request(DATASET))).reasons).to.deep.equal([DenialReason.NO_CONSENT, DenialReason.PURPOSE_NOT_COVERED]);
    // the superseded consent covers nothing any more: withdrawing it voids nothing
    const withdrawn = await w.custodian.withdrawConsent(older.consentId);
    await expectCode(w.auditor.listInvalidatedGrants(DATASET, withdrawn.lastTxId), "NOT_FOUND");
  });

  it("gives a consent for a resource before its subject is a member: membership picks it up", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { subjectId: "subj-late", resources: [DATASET] }));
    expect((await w.buyer.previewAccess(request(DATASET))).approvedSubjects).to.deep.equal([]);
    await w.custodian.addResourceSubjects(DATASET, ["subj-late"]);
    const decision = await w.buyer.previewAccess(request(DATASET));
    expect(decision.approvedSubjects).to.deep.equal(["subj-late"]);
    expect(decision.deniedByReason).to.deep.equal({ NO_CONSENT: 3 });
  });

  it("removes subjects from a dataset: their grants are voided (SubjectRemoved) and later decisions leave them out", async () => {
    for (const subjectId of subjects.slice(0, 2)) {
      await w.custodian.giveConsent(terms(w.ledger, { subjectId, resources: [DATASET] }));
    }
    const grant = (await w.buyer.requestAccess(request(DATASET))).grant!;
    const startBlock = BigInt(w.ledger.peer.state.height);
    const resource = await w.custodian.removeResourceSubjects(DATASET, [subjects[0], "subj-never-added"]);
    expect(resource).to.deep.include({ subjectCount: 2, nextSlot: 3 });
    expect(await w.buyer.getGrant(grant.grantId)).to.deep.include({ status: "Invalidated", invalidatedBy: "SubjectRemoved" });
    const events = await w.auditor.events(startBlock);
    const batch = (await events[Symbol.asyncIterator]().next()).value as ConsentLedgerEventBatch;
    events.close();
    expect(batch.events).to.deep.equal([
      { type: "ResourceSubjectsRemoved", resourceId: DATASET, removed: 1, subjectCount: 2 },
      {
        type: "GrantsInvalidated",
        subjectIds: [subjects[0]],
        resourceIds: [DATASET],
        grantIds: [grant.grantId],
        cause: "SubjectRemoved",
        invalidatedAt: batch.timestamp,
      },
    ]);
    const decision = await w.buyer.requestAccess(request(DATASET));
    expect(decision.subjectsTotal).to.equal(2);
    expect(decision.approvedSubjects).to.deep.equal([subjects[1]]);
    // removing a subject without a consent voids nothing; the grant just issued stands
    await w.custodian.removeResourceSubjects(DATASET, [subjects[2]]);
    expect((await w.buyer.getGrant(decision.grant!.grantId)).status).to.equal("Open");
    await expectCode(w.otherCustodian.removeResourceSubjects(DATASET, [subjects[1]]), "FORBIDDEN", "controlled by HospitalMSP");
  });

  it("keeps a subject's access log across its resources, and across leaving and rejoining one, page by page", async () => {
    const subject = "subj-0001";
    await w.custodian.registerResource(RESOURCE, "stream");
    await w.custodian.addResourceSubjects(RESOURCE, [subject]);
    await w.custodian.addResourceSubjects(DATASET, [subject]);
    await w.custodian.giveConsent(terms(w.ledger, { subjectId: subject, resources: [RESOURCE, DATASET] }));
    const onDataset = await w.buyer.requestAccess(request(DATASET));
    w.ledger.clock.advance(1);
    await w.buyer.requestAccess(request(DATASET, "Marketing"));
    await w.custodian.removeResourceSubjects(DATASET, [subject]);
    w.ledger.clock.advance(1);
    await w.buyer.requestAccess(request(DATASET)); // not a member then: not in its log
    await w.custodian.addResourceSubjects(DATASET, [subject]);
    w.ledger.clock.advance(1);
    const rejoined = await w.buyer.requestAccess(request(DATASET));
    const onStream = await w.buyer.requestAccess(request(RESOURCE));
    const seen = [];
    let bookmark = "";
    do {
      const page = await w.subject.listAccessBySubject(subject, 2, bookmark);
      seen.push(...page.records);
      bookmark = page.bookmark;
    } while (bookmark !== "");
    // resources in id order (0x11.. the stream, then 0x22.. the dataset), each oldest first
    expect(seen.map((entry) => [entry.resourceId, entry.decision, entry.reasons, entry.grantId])).to.deep.equal([
      [RESOURCE, "approved", [], onStream.grant!.grantId],
      [DATASET, "approved", [], onDataset.grant!.grantId],
      [DATASET, "denied", [DenialReason.PURPOSE_NOT_COVERED], ""],
      [DATASET, "approved", [], rejoined.grant!.grantId],
    ]);
    expect(seen[1]).to.deep.include({
      txId: onDataset.txId,
      timestamp: onDataset.decidedAt,
      buyerKey: onDataset.grant!.buyerKey,
      purpose: "ScientificResearch",
    });
    await expectCode(w.subject.listAccessBySubject(subject, 2, "not-a-bookmark"), "INVALID_ARGUMENT", "bookmark");
  });
});
