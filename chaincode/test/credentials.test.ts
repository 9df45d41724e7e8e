// The credential behind an identity's attributes (docs/consent.md §4b): recorded by its holders, reported
// on by its organisation's status checker; a report that ends its valid status stops new grants and ends
// the open ones as a consent withdrawal does, and followers learn which grants died.
import { expect } from "chai";
import { Wallet } from "ethers";
import { ConsentLedgerClient, InProcessConsentLedger } from "@datamarket/consent-ledger";
import { DAY, credentialReference as reference, expectCode, terms } from "./fixtures";

const STREAM = "0x" + "31".repeat(32);
const OTHER_STREAM = "0x" + "32".repeat(32);

describe("credentials behind identities", () => {
  let ledger: InProcessConsentLedger;
  let custodian: ConsentLedgerClient;
  let auditor: ConsentLedgerClient;
  let checker: ConsentLedgerClient;
  let otherChecker: ConsentLedgerClient;
  const wallet = new Wallet("0x" + "51".repeat(32));
  const address = wallet.address.toLowerCase();
  const credential = reference("urn:uuid:0001");

  /** A buyer of `mspId` onboarded from `ref` (attributes as the onboarding service enrols them), which has recorded it unless `record` is false. */
  async function credentialBuyer(name: string, ref = credential, { mspId = "ResearchMSP", record = true } = {}): Promise<ConsentLedgerClient> {
    const client = ledger.client(
      await ledger.enroll(mspId, name, {
        "consent.role": "buyer",
        "consent.buyerType": "PublicResearch",
        "consent.jurisdiction": "DE",
        "consent.ethAddress": address,
        "consent.credentialRef": ref.hash,
      }),
    );
    if (record) await client.recordCredential(ref);
    return client;
  }
  const request = (resourceId = STREAM) => ({ resourceId, purpose: "ScientificResearch", ethAddress: address, ttlSeconds: 7 * DAY });
  let checkedAt = Date.now();
  const report = (status: "valid" | "revoked" | "suspended" | "untrusted", hash = credential.hash) =>
    checker.reportCredentialStatus({ hash, status, checkedAt: (checkedAt += 1000) });

  before(async () => {
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["ResearchMSP", "CompanyMSP", "AuditMSP"] });
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    auditor = ledger.client(await ledger.enroll("AuditMSP", "auditor", { "consent.role": "auditor" }));
    checker = ledger.client(await ledger.enroll("ResearchMSP", "status-monitor", { "consent.role": "statuschecker" }));
    otherChecker = ledger.client(await ledger.enroll("CompanyMSP", "status-monitor", { "consent.role": "statuschecker" }));
    for (const [resourceId, subjectId] of [
      [STREAM, "subj-cred-1"],
      [OTHER_STREAM, "subj-cred-2"],
    ]) {
      await custodian.registerResource(resourceId, "stream");
      await custodian.addResourceSubjects(resourceId, [subjectId]);
      await custodian.giveConsent(terms(ledger, { subjectId, resources: [resourceId] }));
    }
  });

  it("refuses access to an identity whose credential is not recorded, then decides as usual once its holder records it", async () => {
    const buyer = await credentialBuyer("lab-record", credential, { record: false });
    await expectCode(buyer.requestAccess(request()), "CREDENTIAL_NOT_RECORDED", "RecordCredential");
    const record = await buyer.recordCredential(credential);
    expect(record).to.deep.include({
      hash: credential.hash,
      issuer: credential.issuer,
      credentialId: credential.credentialId,
      statusListIndex: 7,
      mspId: "ResearchMSP",
      status: "valid",
      checkedAt: 0,
      epoch: "genesis",
    });
    const decision = await buyer.requestAccess(request());
    expect(decision.decision).to.equal("approved");
    expect(decision.grant).to.include({ credentialRef: credential.hash, credentialEpoch: "genesis" });
  });

  it("records only the credential the certificate names, and only for its organisation", async () => {
    const buyer = await credentialBuyer("lab-wrong", credential, { record: false });
    await expectCode(buyer.recordCredential({ ...reference("urn:uuid:other"), hash: undefined }), "FORBIDDEN", "hashes to");
    await expectCode(buyer.recordCredential({ ...credential, hash: "0x" + "00".repeat(32) }), "INVALID_ARGUMENT", "is not the reference");
    await expectCode(buyer.recordCredential({ ...credential, statusListIndex: -1 }), "INVALID_ARGUMENT", "statusListIndex");
    await expectCode(buyer.recordCredential({ ...credential, issuer: "line\nbreak" }), "INVALID_ARGUMENT", "issuer");
    const plain = ledger.client(
      await ledger.enroll("ResearchMSP", "lab-plain", { "consent.role": "buyer", "consent.buyerType": "PublicResearch", "consent.jurisdiction": "DE" }),
    );
    await expectCode(plain.recordCredential(credential), "FORBIDDEN", "consent.credentialRef");
    const company = await credentialBuyer("lab-company", credential, { mspId: "CompanyMSP", record: false });
    await expectCode(company.recordCredential(credential), "FORBIDDEN", "backs identities of ResearchMSP");
    await buyer.recordCredential(credential);
    // recording again changes nothing
    const height = ledger.peer.state.height;
    const again = await buyer.recordCredential(credential);
    expect(again.recordedAt).to.be.a("number");
    const holders = (await auditor.getCredential(credential.hash)).holders;
    expect(holders.map((h) => h.mspId)).to.deep.equal(["ResearchMSP", "ResearchMSP"]);
    expect(ledger.peer.state.height, "one more block (the second recording), without an event").to.equal(height + 1);
  });

  it("lets holders, auditors and the organisation's status checkers read the record, nobody else", async () => {
    const holder = await credentialBuyer("lab-reader");
    expect((await holder.getCredential(credential.hash)).hash).to.equal(credential.hash);
    expect((await checker.getCredential(credential.hash)).holders).to.have.length(3);
    await expectCode(otherChecker.getCredential(credential.hash), "FORBIDDEN");
    await expectCode(custodian.getCredential(credential.hash), "FORBIDDEN");
    await expectCode(auditor.getCredential("0x" + "00".repeat(32)), "NOT_FOUND");
    await expectCode(auditor.getCredential("nope"), "INVALID_ARGUMENT");
  });

  it("takes reports from its organisation's status checker only, and refuses malformed ones", async () => {
    const buyer = await credentialBuyer("lab-reporter");
    await expectCode(buyer.reportCredentialStatus({ hash: credential.hash, status: "revoked", checkedAt: Date.now() }), "FORBIDDEN");
    await expectCode(
      otherChecker.reportCredentialStatus({ hash: credential.hash, status: "revoked", checkedAt: Date.now() }),
      "FORBIDDEN",
      "backs identities of ResearchMSP",
    );
    await expectCode(
      checker.reportCredentialStatus({ hash: "0x" + "00".repeat(32), status: "revoked", checkedAt: Date.now() }),
      "NOT_FOUND",
      "has not been recorded",
    );
    await expectCode(
      checker.reportCredentialStatus({ hash: credential.hash, status: "lost" as "revoked", checkedAt: Date.now() }),
      "INVALID_ARGUMENT",
      "status",
    );
    await expectCode(
      checker.reportCredentialStatus({ hash: credential.hash, status: "revoked", checkedAt: Date.now() + 3_600_000 }),
      "INVALID_ARGUMENT",
      "checkedAt",
    );
    expect((await auditor.getCredential(credential.hash)).status).to.equal("valid");
  });

  it("ends the open grants of a revoked credential (not an expired one, not another credential's), names them to followers and denies new requests", async () => {
    const buyer = await credentialBuyer("lab-revoked");
    const other = reference("urn:uuid:0002");
    const otherBuyer = await credentialBuyer("lab-other", other);
    const open = (await buyer.requestAccess(request())).grant!;
    const openOther = (await buyer.requestAccess(request(OTHER_STREAM))).grant!;
    const short = (await buyer.requestAccess({ ...request(), ttlSeconds: 60 })).grant!;
    const untouched = (await otherBuyer.requestAccess(request())).grant!;
    ledger.clock.advance(120); // the short grant has expired before the revocation
    const startBlock = BigInt(ledger.peer.state.height);

    const revoked = await report("revoked");
    expect(revoked).to.include({ status: "revoked", checkedAt });
    expect(revoked.epoch).to.not.equal("genesis");
    const events = await auditor.events(startBlock);
    let invalidated: { grantIds: string[]; cause: string; credentialRef?: string } | undefined;
    for await (const batch of events) {
      const event = batch.events.find((e) => e.type === "GrantsInvalidated");
      if (event?.type === "GrantsInvalidated") {
        invalidated = event;
        expect(batch.events.map((e) => e.type)).to.deep.equal(["CredentialStatusChanged", "GrantsInvalidated"]);
        break;
      }
    }
    events.close();
    // every open grant of the credential, on every resource: the two earlier tests' and this one's
    expect(invalidated).to.deep.include({ credentialRef: credential.hash, cause: "CredentialRevoked" });
    expect(invalidated!.grantIds).to.include.members([open.grantId, openOther.grantId]);
    expect(invalidated!.grantIds).to.not.include.members([short.grantId]);
    expect(invalidated!.grantIds).to.not.include(untouched.grantId);
    const grant = await auditor.getGrant(open.grantId);
    expect(grant).to.include({ status: "Invalidated", invalidatedBy: "CredentialRevoked", invalidatedAt: revoked.statusChangedAt });
    expect((await auditor.getGrant(short.grantId)).status).to.equal("Expired");
    expect((await auditor.getGrant(untouched.grantId)).status).to.equal("Open");

    // new requests: denied with a typed reason, logged, no grant
    const denied = await buyer.requestAccess(request());
    expect(denied).to.deep.include({ decision: "denied", reasons: ["CREDENTIAL_REVOKED"], grant: null, subjectsTotal: 0 });
    const log = await buyer.listAccessByBuyer();
    expect(log.records.at(-1)).to.include({ decision: "denied", grantId: "" });
    expect((await otherBuyer.requestAccess(request())).decision).to.equal("approved");
  });

  it("refuses a report checked before the last one, takes the same report twice without a second change, and keeps a revocation", async () => {
    const last = await auditor.getCredential(credential.hash);
    await expectCode(
      checker.reportCredentialStatus({ hash: credential.hash, status: "valid", checkedAt: last.checkedAt - 1 }),
      "STALE_REPORT",
      `checked at ${last.checkedAt}`,
    );
    await expectCode(checker.reportCredentialStatus({ hash: credential.hash, status: "valid", checkedAt: last.checkedAt }), "STALE_REPORT");
    const again = await checker.reportCredentialStatus({ hash: credential.hash, status: "revoked", checkedAt: last.checkedAt });
    expect(again).to.deep.equal({ ...last, holders: [], holdersTruncated: false });
    // a later check with the same status moves checkedAt only: same epoch, nothing invalidated again
    const later = await report("revoked");
    expect(later).to.include({ epoch: last.epoch, statusChangedAt: last.statusChangedAt, checkedAt });
    await expectCode(auditor.listCredentialInvalidatedGrants(credential.hash, "not-a-report"), "NOT_FOUND");
    await expectCode(auditor.listCredentialInvalidatedGrants("not-a-hash", "not-a-report"), "INVALID_ARGUMENT");
    // a revocation is permanent, whoever reports otherwise
    await expectCode(report("valid"), "INVALID_TRANSITION", "permanent");
    await expectCode(report("untrusted"), "INVALID_TRANSITION", "permanent");
    expect((await auditor.getCredential(credential.hash)).status).to.equal("revoked");
  });

  it("reopens access when a suspension is lifted, and a later suspension ends only the grants issued since", async () => {
    const hash = reference("urn:uuid:0003");
    const buyer = await credentialBuyer("lab-suspended", hash);
    const first = (await buyer.requestAccess(request())).grant!;
    const startBlock = BigInt(ledger.peer.state.height);
    await report("suspended", hash.hash);
    expect((await buyer.requestAccess(request())).reasons).to.deep.equal(["CREDENTIAL_SUSPENDED"]);
    const reinstated = await report("valid", hash.hash);
    const second = (await buyer.requestAccess(request())).grant!;
    expect(second.credentialEpoch).to.equal(reinstated.epoch);
    await report("untrusted", hash.hash);
    expect((await buyer.requestAccess(request())).reasons).to.deep.equal(["CREDENTIAL_UNTRUSTED"]);

    const seen: Array<{ cause: string; grantIds: string[] }> = [];
    const events = await auditor.events(startBlock);
    for await (const batch of events) {
      for (const event of batch.events) {
        if (event.type === "GrantsInvalidated") seen.push({ cause: event.cause, grantIds: event.grantIds });
      }
      if (seen.length === 2) break;
    }
    events.close();
    expect(seen).to.deep.equal([
      { cause: "CredentialSuspended", grantIds: [first.grantId] },
      { cause: "CredentialUntrusted", grantIds: [second.grantId] },
    ]);
    expect(await auditor.getGrant(first.grantId)).to.include({ status: "Invalidated", invalidatedBy: "CredentialSuspended" });
    expect(await auditor.getGrant(second.grantId)).to.include({ status: "Invalidated", invalidatedBy: "CredentialUntrusted" });
    // the status checker may list them too; a buyer may not
    expect((await checker.getCredential(hash.hash)).status).to.equal("untrusted");
    await expectCode(buyer.listCredentialInvalidatedGrants(hash.hash, reinstated.epoch), "FORBIDDEN");
    await expectCode(otherChecker.listCredentialInvalidatedGrants(hash.hash, reinstated.epoch), "FORBIDDEN");
    // the reinstating report ended nothing
    await expectCode(checker.listCredentialInvalidatedGrants(hash.hash, reinstated.epoch), "NOT_FOUND", "ended no valid status");
  });

  it("reports a grant that both a withdrawal and a revocation ended as ended by the earlier of the two", async () => {
    const hash = reference("urn:uuid:0004");
    const buyer = await credentialBuyer("lab-both", hash);
    const resourceId = "0x" + "33".repeat(32);
    await custodian.registerResource(resourceId, "stream");
    await custodian.addResourceSubjects(resourceId, ["subj-cred-3"]);
    const consent = await custodian.giveConsent(terms(ledger, { subjectId: "subj-cred-3", resources: [resourceId] }));
    const grant = (await buyer.requestAccess(request(resourceId))).grant!;
    const withdrawnAt = (await custodian.withdrawConsent(consent.consentId)).updatedAt;
    ledger.clock.advance(30);
    await report("revoked", hash.hash);
    expect(await auditor.getGrant(grant.grantId)).to.include({ status: "Invalidated", invalidatedBy: "ConsentWithdrawn", invalidatedAt: withdrawnAt });
  });
});
