// A credential's revocation reaching the consent ledger (docs/identity.md §10): issue, present, verify and
// enrol over HTTP (the enroller records the credential), request access (a grant on the credential), then the
// issuer revokes the credential in its status list; the status monitor reports it with the organisation's
// statuschecker identity, the grant is invalidated and named to followers through the client's events(),
// and the holder's new requests are refused with a typed reason. (The market half, with bridges relaying
// the revocation on chain and brokers cutting the stream: the education pilot, docs/demo.md.)
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { keccak256, toUtf8Bytes } from "ethers";
import { Attr, InProcessConsentLedger, type ConsentLedgerClient, type ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import {
  CredentialStatusMonitor,
  CredentialType,
  Holder,
  InProcessLedgerEnroller,
  buyerProfile,
  createVerifierService,
  dataSubjectProfile,
  ledgerStatusReporter,
  type Enrolment,
} from "../src";
import { accreditationClaims, buyerHolder, deployment, onboardingClient, type Deployment } from "./fixture";

const DAY = 86_400;

describe("a revoked credential on the consent ledger", () => {
  let d: Deployment;
  let ledger: InProcessConsentLedger;
  let enroller: InProcessLedgerEnroller;
  let monitor: CredentialStatusMonitor;
  let service: FastifyInstance;
  let onboard: ReturnType<typeof onboardingClient>["onboard"];
  let auditor: ConsentLedgerClient;
  let custodian: ConsentLedgerClient;
  const checkers: Record<string, ConsentLedgerClient> = {};
  const resourceId = keccak256(toUtf8Bytes("revocation-test dataset"));

  before(async () => {
    d = await deployment();
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["ResearchMSP", "AuditMSP"] });
    enroller = new InProcessLedgerEnroller(ledger);
    checkers.ResearchMSP = ledger.client(await ledger.enroll("ResearchMSP", "status-monitor", { [Attr.role]: "statuschecker" }));
    monitor = new CredentialStatusMonitor({
      trustList: d.trustList,
      statusLists: d.statusLists,
      onStatusChange: ledgerStatusReporter((mspId) => checkers[mspId]),
    });
    service = createVerifierService({
      verifier: d.verifier,
      enroller,
      monitor,
      responseUri: "https://onboarding.datamarket.example/onboarding/responses",
      profiles: { buyer: buyerProfile({ mspId: "ResearchMSP" }), "data-subject": dataSubjectProfile() },
    });
    await service.listen({ host: "127.0.0.1", port: 0 });
    ({ onboard } = onboardingClient(`http://127.0.0.1:${(service.server.address() as { port: number }).port}`));
    auditor = ledger.client(await ledger.enroll("AuditMSP", "consent-bridge", { [Attr.role]: "auditor" }));
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { [Attr.role]: "custodian" }));
    await custodian.registerResource(resourceId, "dataset");
    await custodian.giveConsent({
      subjectId: "patient-0101",
      controller: "University Hospital",
      resources: [resourceId],
      purposes: ["ScientificResearch"],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * DAY,
      noticeHash: keccak256(toUtf8Bytes("notice v1")),
    });
    await custodian.addResourceSubjects(resourceId, ["patient-0101"]);
  });
  after(async () => {
    monitor.stop();
    await service.close();
    await d.close();
  });

  /** The next batch of `events` with a GrantsInvalidated, within a bound. */
  async function nextInvalidation(events: AsyncIterable<ConsentLedgerEventBatch>): Promise<ConsentLedgerEventBatch> {
    for await (const batch of events) if (batch.events.some((event) => event.type === "GrantsInvalidated")) return batch;
    throw new Error("the event stream ended");
  }

  it("ends the holder's grant when its accreditation is revoked, names it to followers, and refuses the holder's new requests", async () => {
    const { holder, address } = buyerHolder();
    const issued = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(address),
    });
    const answer = await onboard(holder, issued.credential, "buyer");
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    const enrolment = answer.body.enrolment as Enrolment;
    // the enroller recorded the credential as the new identity: the ledger knows what backs its attributes
    const recorded = await auditor.getCredential(issued.reference.hash);
    expect(recorded).to.deep.include({
      issuer: d.accreditation.id,
      credentialId: issued.reference.credentialId,
      statusListIndex: issued.reference.statusListIndex,
      mspId: "ResearchMSP",
      status: "valid",
    });
    expect(recorded.holders).to.have.length(1);

    const buyer = ledger.client(enroller.identities.get(enrolment.enrollmentId)!);
    const request = { resourceId, purpose: "ScientificResearch", ethAddress: address, ttlSeconds: 30 * DAY };
    const approved = await buyer.requestAccess(request);
    expect(approved.decision, JSON.stringify(approved.reasons)).to.equal("approved");
    expect(approved.grant).to.include({ credentialRef: issued.reference.hash, buyerType: "PublicResearch", jurisdiction: "DE" });
    const grantId = approved.grant!.grantId;

    const events = await auditor.events(BigInt(ledger.peer.state.height));
    try {
      // the issuer revokes; the next status check reports it to the ledger
      d.accreditation.revoke(issued.reference.credentialId);
      const report = await monitor.checkNow();
      expect(report.errors).to.deep.equal([]);
      expect(report.changes.map((change) => [change.enrollmentId, change.status])).to.deep.equal([[enrolment.enrollmentId, "revoked"]]);

      const batch = await nextInvalidation(events);
      const invalidated = batch.events.find((event) => event.type === "GrantsInvalidated");
      expect(invalidated).to.deep.include({ credentialRef: issued.reference.hash, cause: "CredentialRevoked", grantIds: [grantId] });
      expect(await auditor.getGrant(grantId)).to.include({ status: "Invalidated", invalidatedBy: "CredentialRevoked", invalidatedAt: batch.timestamp });
      expect((await auditor.getCredential(issued.reference.hash)).status).to.equal("revoked");
    } finally {
      events.close();
    }

    const refused = await buyer.requestAccess(request);
    expect(refused).to.deep.include({ decision: "denied", reasons: ["CREDENTIAL_REVOKED"], grant: null });
    // reported once: the next run has nothing new, and the ledger keeps the revocation
    expect((await monitor.checkNow()).changes).to.deep.equal([]);
    // a later report of another status (an issuer un-revoking, a monitor gone wrong) cannot undo it: the
    // ledger refuses it and the reporter counts the ledger's revocation as delivered
    await ledgerStatusReporter(checkers)({
      credential: issued.reference,
      enrollmentId: enrolment.enrollmentId,
      mspId: "ResearchMSP",
      previous: "revoked",
      status: "valid",
      value: 0,
      checkedAt: Date.now() + 1_000,
    });
    expect((await auditor.getCredential(issued.reference.hash)).status).to.equal("revoked");
  });

  it("reports a change again at the next run while the ledger cannot take it, then delivers it", async () => {
    // a patient link whose custodian (HospitalMSP) has no statuschecker identity yet
    const patient = Holder.withNewDidKey();
    const link = await d.hospital.issue({
      vct: CredentialType.PatientCustodianLink,
      holder: patient.did,
      holderKey: patient.publicKey,
      claims: { subject_id: "patient-0102", custodian: "HospitalMSP", custodian_name: "University Hospital" },
    });
    expect((await onboard(patient, link.credential, "data-subject")).status).to.equal(200);
    d.hospital.suspend(link.reference.credentialId);
    const first = await monitor.checkNow();
    expect(first.changes).to.deep.equal([]);
    expect(first.errors.map((error) => (error.error as { code?: string }).code)).to.deep.equal(["STATUS_REPORT_FAILED"]);
    expect((await auditor.getCredential(link.reference.hash)).status).to.equal("valid");

    checkers.HospitalMSP = ledger.client(await ledger.enroll("HospitalMSP", "status-monitor", { [Attr.role]: "statuschecker" }));
    const second = await monitor.checkNow();
    expect(second.errors).to.deep.equal([]);
    expect(second.changes.map((change) => change.status)).to.deep.equal(["suspended"]);
    expect((await auditor.getCredential(link.reference.hash)).status).to.equal("suspended");
    // the issuer lifts the suspension: reported too
    d.hospital.reinstate(link.reference.credentialId);
    expect((await monitor.checkNow()).changes.map((change) => change.status)).to.deep.equal(["valid"]);
    expect((await auditor.getCredential(link.reference.hash)).status).to.equal("valid");
  });
});
