// The whole path over HTTP: issue, request (OpenID4VP, direct_post), present, verify, enrol on the
// in-process consent ledger with exactly the verified claims, then access requests on that ledger
// decided on those attributes; the periodic status check reporting a revocation.
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { keccak256, toUtf8Bytes } from "ethers";
import { Attr, InProcessConsentLedger } from "@datamarket/consent-ledger";
import {
  CREDENTIAL_REF_ATTR,
  CredentialStatusMonitor,
  CredentialType,
  Holder,
  InProcessLedgerEnroller,
  buyerProfile,
  createVerifierService,
  dataSubjectProfile,
  enrollmentIdOf,
  type Enrolment,
  type StatusChange,
} from "../src";
import { accreditationClaims, buyerHolder, deployment, onboardingClient, type Deployment } from "./fixture";

const DAY = 86_400;

describe("onboarding onto the in-process consent ledger", () => {
  let d: Deployment;
  let ledger: InProcessConsentLedger;
  let enroller: InProcessLedgerEnroller;
  let monitor: CredentialStatusMonitor;
  let service: FastifyInstance;
  let post: ReturnType<typeof onboardingClient>["post"];
  let onboard: ReturnType<typeof onboardingClient>["onboard"];
  const changes: StatusChange[] = [];

  before(async () => {
    d = await deployment();
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["ResearchMSP", "AuditMSP"] });
    enroller = new InProcessLedgerEnroller(ledger);
    monitor = new CredentialStatusMonitor({ trustList: d.trustList, statusLists: d.statusLists, onStatusChange: (change) => void changes.push(change) });
    service = createVerifierService({
      verifier: d.verifier,
      enroller,
      monitor,
      responseUri: "https://onboarding.datamarket.example/onboarding/responses",
      profiles: { buyer: buyerProfile({ mspId: "ResearchMSP" }), "data-subject": dataSubjectProfile() },
    });
    await service.listen({ host: "127.0.0.1", port: 0 });
    ({ post, onboard } = onboardingClient(`http://127.0.0.1:${(service.server.address() as { port: number }).port}`));
  });
  after(async () => {
    monitor.stop();
    await service.close();
    await d.close();
  });

  it("answers an OpenID4VP request: client_id, nonce, state, direct_post and a DCQL query of the claims needed", async () => {
    const { status, body } = await post("/onboarding/requests", { profile: "buyer" });
    expect(status).to.equal(201);
    expect(body).to.include({ client_id: d.verifier.audience, response_type: "vp_token", response_mode: "direct_post" });
    expect(body.nonce).to.match(/^[0-9a-f]{32}$/);
    expect(body.state).to.match(/^[0-9a-f]{32}$/);
    expect(body.dcql_query).to.deep.equal({
      credentials: [
        {
          id: "credential",
          format: "dc+sd-jwt",
          meta: { vct_values: [CredentialType.BuyerAccreditation] },
          claims: [
            { id: "buyer_type", path: ["buyer_type"] },
            { id: "jurisdiction", path: ["jurisdiction"] },
            { id: "ethereum_address", path: ["ethereum_address"] },
          ],
          claim_sets: [
            ["buyer_type", "jurisdiction", "ethereum_address"],
            ["buyer_type", "jurisdiction"],
          ],
        },
      ],
    });
    expect((await post("/onboarding/requests", { profile: "admin" })).body.code).to.equal("BAD_REQUEST");
  });

  it("issues, presents, verifies and enrols buyers with exactly the verified claims; the chaincode decides on them", async () => {
    // two buyers accredited by the accreditation body: a public research institute and a company
    const researcher = buyerHolder();
    const company = buyerHolder();
    const researcherVc = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: researcher.holder.did,
      holderKey: researcher.holder.publicKey,
      claims: accreditationClaims(researcher.address),
    });
    const companyVc = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: company.holder.did,
      holderKey: company.holder.publicKey,
      claims: accreditationClaims(company.address, "PrivateCompany"),
    });

    const researcherAnswer = await onboard(researcher.holder, researcherVc.credential, "buyer");
    expect(researcherAnswer.status, JSON.stringify(researcherAnswer.body)).to.equal(200);
    const enrolment = researcherAnswer.body.enrolment as Enrolment;
    expect(enrolment.enrollmentId).to.equal(enrollmentIdOf(researcher.holder.did));
    expect(enrolment.mspId).to.equal("ResearchMSP");
    expect(enrolment.attributes).to.deep.equal({
      [Attr.role]: "buyer",
      [Attr.buyerType]: "PublicResearch",
      [Attr.jurisdiction]: "DE",
      [Attr.ethAddress]: researcher.address,
      [CREDENTIAL_REF_ATTR]: researcherVc.reference.hash,
    });
    expect(enrolment.credential).to.deep.equal(researcherVc.reference);
    expect(JSON.stringify(researcherAnswer.body)).to.not.include("Charité");
    // the form-urlencoded direct_post body of OpenID4VP is accepted too
    const companyAnswer = await onboard(company.holder, companyVc.credential, "buyer", true);
    expect(companyAnswer.status, JSON.stringify(companyAnswer.body)).to.equal(200);

    // the certificates carry the attributes: the consent chaincode reads them on the in-process peer
    const researcherIdentity = enroller.identities.get(enrolment.enrollmentId)!;
    expect(researcherIdentity.certificatePem).to.equal(enrolment.certificatePem);
    const companyIdentity = enroller.identities.get(companyAnswer.body.enrolment.enrollmentId)!;

    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { [Attr.role]: "custodian" }));
    const resourceId = keccak256(toUtf8Bytes("identity-test dataset"));
    await custodian.registerResource(resourceId, "dataset");
    await custodian.giveConsent({
      subjectId: "patient-0001",
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
    await custodian.addResourceSubjects(resourceId, ["patient-0001"]);

    const approved = await ledger.client(researcherIdentity).requestAccess({ resourceId, purpose: "ScientificResearch", ethAddress: researcher.address });
    expect(approved.decision, JSON.stringify(approved)).to.equal("approved");
    // the grant records the attributes the credential proved, and the address the certificate carries
    expect(approved.grant).to.include({
      buyer: researcher.address,
      addressProof: "certificate",
      buyerType: "PublicResearch",
      jurisdiction: "DE",
      buyerMsp: "ResearchMSP",
    });
    const denied = await ledger.client(companyIdentity).requestAccess({ resourceId, purpose: "ScientificResearch", ethAddress: company.address });
    expect(denied.decision).to.equal("denied");
    expect(denied.reasons).to.deep.equal(["BUYER_TYPE_NOT_ALLOWED"]);

    // the periodic status check: the accreditation body revokes the company's credential
    expect(monitor.size).to.be.at.least(2);
    d.accreditation.revoke(companyVc.reference.credentialId);
    const report = await monitor.checkNow();
    expect(report.errors).to.deep.equal([]);
    expect(report.changes.map((change) => [change.enrollmentId, change.previous, change.status])).to.deep.equal([
      [companyAnswer.body.enrolment.enrollmentId, "valid", "revoked"],
    ]);
    expect(changes.at(-1)?.credential).to.deep.equal(companyVc.reference);
    // reported once: the next run has nothing new
    expect((await monitor.checkNow()).changes).to.deep.equal([]);

    // and the revoked credential no longer onboards
    const again = await onboard(company.holder, companyVc.credential, "buyer");
    expect(again.status).to.equal(403);
    expect(again.body.code).to.equal("CREDENTIAL_REVOKED");
  });

  it("enrols a patient in its hospital's MSP as a data subject, who can then act on its own consent", async () => {
    const patient = Holder.withNewDidKey();
    const link = await d.hospital.issue({
      vct: CredentialType.PatientCustodianLink,
      holder: patient.did,
      holderKey: patient.publicKey,
      claims: { subject_id: "patient-0002", custodian: "HospitalMSP", custodian_name: "University Hospital", medical_record_number: "MRN-778812" },
    });
    const answer = await onboard(patient, link.credential, "data-subject");
    expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    expect(answer.body.enrolment.mspId).to.equal("HospitalMSP");
    expect(answer.body.enrolment.attributes).to.deep.equal({
      [Attr.role]: "subject",
      [Attr.subject]: "patient-0002",
      [CREDENTIAL_REF_ATTR]: link.reference.hash,
    });
    expect(JSON.stringify(answer.body)).to.not.include("MRN-778812");

    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar-2", { [Attr.role]: "custodian" }));
    const resourceId = keccak256(toUtf8Bytes("identity-test dataset 2"));
    await custodian.registerResource(resourceId, "dataset");
    const consent = await custodian.giveConsent({
      subjectId: "patient-0002",
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
    const subject = ledger.client(enroller.identities.get(answer.body.enrolment.enrollmentId)!);
    const withdrawn = await subject.withdrawConsent(consent.consentId);
    expect(withdrawn.status).to.equal("ConsentWithdrawn");
  });

  it("answers refusals with their code and HTTP status, and a second answer to a request as a replay", async () => {
    const { holder, address } = buyerHolder();
    const { credential } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(address),
    });
    const request = await post("/onboarding/requests", { profile: "buyer" });
    const presentation = await holder.present(credential, { disclose: ["buyer_type"], nonce: request.body.nonce, audience: request.body.client_id });
    const undisclosed = await post("/onboarding/responses", { state: request.body.state, vp_token: { credential: [presentation] } });
    expect([undisclosed.status, undisclosed.body.code]).to.deep.equal([403, "UNDISCLOSED_CLAIM"]);

    const full = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.body.nonce, audience: request.body.client_id });
    expect((await post("/onboarding/responses", { state: request.body.state, vp_token: { credential: [full] } })).status).to.equal(200);
    const replay = await post("/onboarding/responses", { state: request.body.state, vp_token: { credential: [full] } });
    expect([replay.status, replay.body.code]).to.deep.equal([409, "PRESENTATION_REPLAYED"]);

    expect((await post("/onboarding/responses", { state: "0".repeat(32), vp_token: { credential: [full] } })).body.code).to.equal("UNKNOWN_REQUEST");
    expect((await post("/onboarding/responses", { state: request.body.state, vp_token: { other: [full] } })).body.code).to.equal("BAD_REQUEST");
  });
});
