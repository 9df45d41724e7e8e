// Consent records: give, request, refuse, update, withdraw, revoke, renew, expiry, history, erasure.
import { expect } from "chai";
import { ConsentStatus } from "@datamarket/consent-ledger";
import { DAY, DATASET, RESOURCE, World, expectCode, terms, world } from "./fixtures";

describe("ConsentContract", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it("records a given consent with DPV values, the special-category flag and only a hash of the private details", async () => {
    const record = await w.custodian.giveConsent(terms(w.ledger, { dataCategories: ["HealthRecord", "Education"] }), { name: "Jane Roe", born: "1980-01-01" });
    expect(record.status).to.equal(ConsentStatus.Given);
    expect(record.version).to.equal(1);
    expect(record.custodianMsp).to.equal("HospitalMSP");
    expect(record.consentId).to.match(/^0x[0-9a-f]{64}$/);
    expect(record.dataCategories).to.deep.equal([
      { category: "Education", specialCategory: false },
      { category: "HealthRecord", specialCategory: true },
    ]);
    const subject = await w.custodian.getSubject("subj-0001");
    expect(subject.detailsHash).to.match(/^0x[0-9a-f]{64}$/);
    // the channel ledger holds no personal detail; the private collection holds it under the subject id
    const publicState = JSON.stringify([...w.ledger.peer.state.namespace("consent").range("", "")]);
    expect(publicState).to.not.contain("Jane");
    const collection = w.ledger.peer.state.collection("consent", "subjectDetails");
    expect(collection?.values.get("subj-0001")?.value.toString()).to.equal('{"born":"1980-01-01","name":"Jane Roe"}');
  });

  it("lets the subject's own identity give and withdraw its consent", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { resources: [DATASET] }));
    const record = await w.subject.giveConsent(terms(w.ledger));
    expect(record.status).to.equal(ConsentStatus.Given);
    const withdrawn = await w.subject.withdrawConsent(record.consentId);
    expect(withdrawn.status).to.equal(ConsentStatus.Withdrawn);
  });

  it("refuses a subject identity registering a subject that does not exist yet", async () => {
    await expectCode(w.subject.giveConsent(terms(w.ledger)), "FORBIDDEN", "needs one of custodian");
  });

  it("refuses consent changes by another custodian, another subject, or a buyer", async () => {
    const record = await w.custodian.giveConsent(terms(w.ledger));
    await expectCode(w.otherCustodian.withdrawConsent(record.consentId), "FORBIDDEN", "may not act for subject subj-0001");
    await expectCode(w.otherCustodian.giveConsent(terms(w.ledger)), "FORBIDDEN", "of custodian HospitalMSP");
    await expectCode(w.buyer.withdrawConsent(record.consentId), "FORBIDDEN");
    await expectCode(w.buyer.requestConsent(terms(w.ledger)), "FORBIDDEN");
    await w.custodian.giveConsent(terms(w.ledger, { subjectId: "subj-0002" }));
    const other = (await w.custodian.listSubjectConsents("subj-0002")).records[0];
    await expectCode(w.subject.withdrawConsent(other.consentId), "FORBIDDEN");
    await expectCode(w.subject.revokeConsent(record.consentId), "FORBIDDEN", "needs one of custodian");
  });

  it("moves a requested consent to given, or to refused, and refuses other transitions", async () => {
    const requested = await w.custodian.requestConsent(terms(w.ledger));
    expect(requested.status).to.equal(ConsentStatus.Requested);
    const given = await w.subject.acceptConsentRequest(requested.consentId);
    expect(given.status).to.equal(ConsentStatus.Given);
    await expectCode(w.subject.refuseConsent(given.consentId), "INVALID_TRANSITION", `in status ${ConsentStatus.Given}`);
    await expectCode(w.subject.acceptConsentRequest(given.consentId), "INVALID_TRANSITION");

    const second = await w.custodian.requestConsent(terms(w.ledger));
    const refused = await w.subject.refuseConsent(second.consentId);
    expect(refused.status).to.equal(ConsentStatus.Refused);
    await expectCode(w.subject.withdrawConsent(second.consentId), "INVALID_TRANSITION");
    await expectCode(w.custodian.renewConsent(second.consentId, w.ledger.clock.nowSeconds() + DAY), "INVALID_TRANSITION");
    await expectCode(w.custodian.updateConsent(second.consentId, terms(w.ledger)), "INVALID_TRANSITION");
    await expectCode(w.custodian.revokeConsent(second.consentId), "INVALID_TRANSITION");
  });

  it("refuses to give a requested consent whose validity has lapsed", async () => {
    const requested = await w.custodian.requestConsent(terms(w.ledger, { validUntil: w.ledger.clock.nowSeconds() + DAY }));
    w.ledger.clock.advance(2 * DAY);
    await expectCode(w.subject.acceptConsentRequest(requested.consentId), "INVALID_TRANSITION", "lapsed");
  });

  it("updates terms as a new version and keeps the subject fixed", async () => {
    const record = await w.custodian.giveConsent(terms(w.ledger));
    const updated = await w.custodian.updateConsent(record.consentId, terms(w.ledger, { resources: [DATASET], purposes: ["ScientificResearch"] }));
    expect(updated.version).to.equal(2);
    expect(updated.resources).to.deep.equal([DATASET]);
    expect(updated.status).to.equal(ConsentStatus.Given);
    await expectCode(w.custodian.updateConsent(record.consentId, terms(w.ledger, { subjectId: "subj-0002" })), "INVALID_ARGUMENT", "differs");
  });

  it("revokes (custodian) and renews, and reports ConsentExpired once validUntil has passed", async () => {
    const record = await w.custodian.giveConsent(terms(w.ledger, { validUntil: w.ledger.clock.nowSeconds() + DAY }));
    w.ledger.clock.advance(DAY);
    expect((await w.custodian.getConsent(record.consentId)).status).to.equal(ConsentStatus.Expired);
    const renewed = await w.subject.renewConsent(record.consentId, w.ledger.clock.nowSeconds() + 30 * DAY);
    expect(renewed.status).to.equal(ConsentStatus.RenewedGiven);
    expect(renewed.version).to.equal(2);
    expect((await w.custodian.getConsent(record.consentId)).status).to.equal(ConsentStatus.RenewedGiven);
    await expectCode(w.subject.renewConsent(record.consentId, w.ledger.clock.nowSeconds() - 1), "INVALID_ARGUMENT", "must be after now");
    const revoked = await w.custodian.revokeConsent(record.consentId);
    expect(revoked.status).to.equal(ConsentStatus.Revoked);
  });

  it("keeps every version in the key history, newest first, with the transaction ids", async () => {
    const record = await w.custodian.giveConsent(terms(w.ledger));
    await w.custodian.updateConsent(record.consentId, terms(w.ledger, { purposes: ["ScientificResearch"] }));
    await w.subject.withdrawConsent(record.consentId);
    const history = await w.auditor.getConsentHistory(record.consentId);
    expect(history.map((entry) => entry.record?.status)).to.deep.equal([ConsentStatus.Withdrawn, ConsentStatus.Given, ConsentStatus.Given]);
    expect(history.map((entry) => entry.record?.version)).to.deep.equal([2, 2, 1]);
    expect(history[0].txId).to.equal(history[0].record?.lastTxId);
    expect(history.every((entry) => !entry.isDelete && entry.timestamp > 0)).to.equal(true);
    await expectCode(w.buyer.getConsentHistory(record.consentId), "FORBIDDEN", "may not read subject");
  });

  it("pages through a subject's consents with a bookmark", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await w.custodian.giveConsent(terms(w.ledger))).consentId);
    }
    const first = await w.subject.listSubjectConsents("subj-0001", 2);
    expect(first.records).to.have.length(2);
    expect(first.fetchedRecordsCount).to.equal(2);
    expect(first.bookmark).to.not.equal("");
    const second = await w.subject.listSubjectConsents("subj-0001", 2, first.bookmark);
    const third = await w.subject.listSubjectConsents("subj-0001", 2, second.bookmark);
    expect(third.records).to.have.length(1);
    expect(third.bookmark).to.equal("");
    expect([...first.records, ...second.records, ...third.records].map((r) => r.consentId)).to.deep.equal([...ids].sort());
    await expectCode(w.subject.listSubjectConsents("subj-0001", 0), "INVALID_ARGUMENT", "pageSize");
    await expectCode(w.subject.listSubjectConsents("subj-0001", 501), "INVALID_ARGUMENT", "pageSize");
    await expectCode(w.subject.listSubjectConsents("subj-0001", 5, "x".repeat(1025)), "INVALID_ARGUMENT", "bookmark");
    await expectCode(w.subject.listSubjectConsents("subj-9999"), "NOT_FOUND", "subject subj-9999 is not registered");
  });

  it("erases a subject's private details (purge) and clears the hash on the channel", async () => {
    await w.custodian.giveConsent(terms(w.ledger), { name: "Jane Roe" });
    await expectCode(w.subject.eraseSubjectDetails("subj-0001"), "FORBIDDEN");
    const subject = await w.custodian.eraseSubjectDetails("subj-0001");
    expect(subject.detailsHash).to.equal("");
    const collection = w.ledger.peer.state.collection("consent", "subjectDetails");
    expect(collection?.values.has("subj-0001")).to.equal(false);
    expect(collection?.hashes.size).to.equal(0);
    await expectCode(w.custodian.eraseSubjectDetails("subj-0001"), "NOT_FOUND", "no private details");
  });

  it("lets only the custodian store private details", async () => {
    await w.custodian.giveConsent(terms(w.ledger));
    await expectCode(w.subject.giveConsent(terms(w.ledger), { name: "Jane" }), "FORBIDDEN", "only the custodian");
  });

  describe("bad input is refused with a typed error and changes nothing", () => {
    const cases: Array<[string, (w: World) => Record<string, unknown>, string]> = [
      ["an unknown purpose", (x) => ({ ...terms(x.ledger), purposes: ["Surveillance"] }), "UNKNOWN_PURPOSE"],
      ["an empty purpose list", (x) => ({ ...terms(x.ledger), purposes: [] }), "EMPTY_LIST"],
      ["an empty resource list", (x) => ({ ...terms(x.ledger), resources: [] }), "EMPTY_LIST"],
      ["a purpose listed twice", (x) => ({ ...terms(x.ledger), purposes: ["Marketing", "Marketing"] }), "INVALID_ARGUMENT"],
      ["a non-string list entry", (x) => ({ ...terms(x.ledger), purposes: [7] }), "INVALID_ARGUMENT"],
      ["a list that is not an array", (x) => ({ ...terms(x.ledger), purposes: "Marketing" }), "INVALID_ARGUMENT"],
      [
        "more than 64 resources",
        (x) => ({ ...terms(x.ledger), resources: Array.from({ length: 65 }, (_, i) => "0x" + i.toString(16).padStart(64, "0")) }),
        "INVALID_ARGUMENT",
      ],
      ["an unknown data category", (x) => ({ ...terms(x.ledger), dataCategories: ["ShoeSize"] }), "INVALID_ARGUMENT"],
      ["an unknown buyer type", (x) => ({ ...terms(x.ledger), buyerTypes: ["Anyone"] }), "INVALID_ARGUMENT"],
      ["a jurisdiction without adequacy", (x) => ({ ...terms(x.ledger), jurisdictions: ["CN"] }), "INVALID_ARGUMENT"],
      ["an unknown legal basis", (x) => ({ ...terms(x.ledger), legalBasis: "A6-1-f" }), "INVALID_ARGUMENT"],
      ["a subject id that looks like an e-mail address", (x) => ({ ...terms(x.ledger), subjectId: "jane@example.org" }), "INVALID_ARGUMENT"],
      ["a missing controller", (x) => ({ ...terms(x.ledger), controller: undefined }), "INVALID_ARGUMENT"],
      ["validUntil in the past", (x) => ({ ...terms(x.ledger), validUntil: x.ledger.clock.nowSeconds() - 10 }), "INVALID_ARGUMENT"],
      ["validUntil that is not an integer", (x) => ({ ...terms(x.ledger), validUntil: 1.5 }), "INVALID_ARGUMENT"],
      ["a malformed notice hash", (x) => ({ ...terms(x.ledger), noticeHash: "0x1234" }), "INVALID_ARGUMENT"],
    ];
    for (const [what, input, code] of cases) {
      it(`refuses ${what} (${code})`, async () => {
        const height = w.ledger.peer.state.height;
        await expectCode(w.custodian.giveConsent(input(w) as never), code);
        expect(w.ledger.peer.state.height).to.equal(height);
        await expectCode(w.custodian.getSubject("subj-0001"), "NOT_FOUND");
      });
    }

    it("refuses malformed JSON, a JSON array and an oversized argument", async () => {
      const contract = w.ledger
        .connect(await w.ledger.enroll("HospitalMSP", "raw", { "consent.role": "custodian" }))
        .getNetwork("consent")
        .getContract("consent", "consent");
      const { toClientError } = await import("@datamarket/consent-ledger");
      const attempt = (arg: string) =>
        contract.submitTransaction("GiveConsent", arg).then(
          () => "ok",
          (error) => toClientError(error).code,
        );
      expect(await attempt('{"subjectId": ')).to.equal("BAD_JSON");
      expect(await attempt("[1,2]")).to.equal("BAD_JSON");
      expect(await attempt("x".repeat(256 * 1024 + 1))).to.equal("ARGUMENT_TOO_LARGE");
      expect(await attempt("{}")).to.equal("INVALID_ARGUMENT");
      await expectCode(w.custodian.withdrawConsent("not-an-id"), "INVALID_ARGUMENT", "consentId");
      await expectCode(w.custodian.getConsent("0x" + "00".repeat(32)), "NOT_FOUND");
      await expectCode(w.custodian.renewConsent("0x" + "00".repeat(32), 1.5), "INVALID_ARGUMENT");
    });

    it("refuses oversized or malformed private details", async () => {
      await expectCode(w.custodian.giveConsent(terms(w.ledger), { blob: "x".repeat(17 * 1024) }), "ARGUMENT_TOO_LARGE");
      const contract = w.ledger
        .connect(await w.ledger.enroll("HospitalMSP", "raw2", { "consent.role": "custodian" }))
        .getNetwork("consent")
        .getContract("consent", "consent");
      const { toClientError } = await import("@datamarket/consent-ledger");
      const code = await contract.submit("GiveConsent", { arguments: [JSON.stringify(terms(w.ledger))], transientData: { subjectDetails: "Jane" } }).then(
        () => "ok",
        (error) => toClientError(error).code,
      );
      expect(code).to.equal("BAD_JSON");
    });
  });

  it("emits one combined event per transaction", async () => {
    const events = await w.auditor.events(0n);
    await w.custodian.giveConsent(terms(w.ledger, { resources: [RESOURCE] }));
    const iterator = events[Symbol.asyncIterator]();
    const batch = (await iterator.next()).value;
    events.close();
    expect(batch.events.map((event: { type: string }) => event.type)).to.deep.equal(["SubjectRegistered", "ConsentChanged"]);
    expect(batch.transactionId).to.match(/^[0-9a-f]{64}$/);
  });
});
