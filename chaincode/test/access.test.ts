// Access requests: decisions and every denial reason, address proofs, grants with the EIP-712 struct
// hash, withdrawal invalidating grants, datasets, access logs.
import { expect } from "chai";
import { TypedDataEncoder, Wallet, keccak256, toUtf8Bytes } from "ethers";
import { DenialReason, addressProofText, fabric } from "@datamarket/consent-ledger";
import { BUYER_ADDRESS, COMPANY_ADDRESS, DATASET, DAY, PRODUCT, RESOURCE, World, buyerWallet, expectCode, terms, world } from "./fixtures";

const ATTESTATION_TYPES = {
  ConsentAttestation: [
    { name: "grantId", type: "bytes32" },
    { name: "buyer", type: "address" },
    { name: "productId", type: "bytes32" },
    { name: "purpose", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
  ],
};

describe("AccessContract", () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
    await w.custodian.registerResource(RESOURCE, "stream", [PRODUCT]);
    await w.custodian.addResourceSubjects(RESOURCE, ["subj-0001"]);
  });

  const request = (overrides: Record<string, unknown> = {}) => ({
    resourceId: RESOURCE,
    purpose: "ScientificResearch",
    ethAddress: BUYER_ADDRESS,
    ...overrides,
  });

  it("approves a purpose covered through the DPV hierarchy and writes a grant with the EIP-712 struct hash", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger, { validUntil: w.ledger.clock.nowSeconds() + 10 * DAY }));
    const decision = await w.buyer.requestAccess({ productId: PRODUCT, purpose: "ScientificResearch", ethAddress: BUYER_ADDRESS, ttlSeconds: 7200 });
    expect(decision.decision).to.equal("approved");
    expect(decision.reasons).to.deep.equal([]);
    expect(decision.approvedSubjects).to.deep.equal(["subj-0001"]);
    expect(decision.resourceId).to.equal(RESOURCE);
    const grant = decision.grant!;
    expect(grant.grantId).to.match(/^0x[0-9a-f]{64}$/);
    expect(grant.buyer).to.equal(BUYER_ADDRESS);
    expect(grant.addressProof).to.equal("certificate");
    expect(grant.buyerType).to.equal("PublicResearch");
    expect(grant.jurisdiction).to.equal("DE");
    expect(grant.purposeId).to.equal(keccak256(toUtf8Bytes("ScientificResearch")));
    expect(grant.expiresAt).to.equal(decision.decidedAt + 7200);
    expect(grant.nonce).to.match(/^0x[0-9a-f]{64}$/);
    // the same struct hash an EIP-712 implementation computes for the market's ConsentAttestation
    const expected = TypedDataEncoder.hashStruct("ConsentAttestation", ATTESTATION_TYPES, {
      grantId: grant.grantId,
      buyer: buyerWallet.address,
      productId: PRODUCT,
      purpose: grant.purposeId,
      expiresAt: grant.expiresAt,
    });
    expect(grant.attestationStructHash).to.equal(expected);
    expect(await w.buyer.getGrant(grant.grantId)).to.deep.equal(grant);
    expect(consent.status).to.equal("ConsentGiven");
  });

  it("follows a purpose with several parents (PersonalisedAdvertising is Advertising and Personalisation)", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { purposes: ["Personalisation"], buyerTypes: ["PublicResearch"] }));
    expect((await w.buyer.previewAccess(request({ purpose: "PersonalisedAdvertising" }))).decision).to.equal("approved");
    expect((await w.buyer.previewAccess(request({ purpose: "Advertising" }))).reasons).to.deep.equal([DenialReason.PURPOSE_NOT_COVERED]);
  });

  it("caps the grant at the consent's validUntil", async () => {
    await w.custodian.giveConsent(terms(w.ledger, { validUntil: w.ledger.clock.nowSeconds() + 600 }));
    const decision = await w.buyer.requestAccess(request({ ttlSeconds: 3600 }));
    const consent = (await w.custodian.listSubjectConsents("subj-0001")).records[0];
    expect(decision.grant!.expiresAt).to.equal(consent.validUntil);
    w.ledger.clock.advance(601);
    expect((await w.buyer.getGrant(decision.grant!.grantId)).status).to.equal("Expired");
  });

  describe("denies with the machine-readable reason", () => {
    const deny = async (expected: string[], setup: (w: World) => Promise<unknown>, client: keyof World = "buyer", req: Record<string, unknown> = {}) => {
      await setup(w);
      const buyer = w[client] as World["buyer"];
      const decision = await buyer.requestAccess(request(req));
      expect(decision.decision).to.equal("denied");
      expect(decision.reasons).to.deep.equal(expected);
      expect(decision.grant).to.equal(null);
      expect(decision.approvedSubjects).to.deep.equal([]);
      return decision;
    };

    it("NO_CONSENT when the subject never consented", () => deny([DenialReason.NO_CONSENT], async () => undefined));
    it("NO_CONSENT when consent was only requested", () => deny([DenialReason.NO_CONSENT], (x) => x.custodian.requestConsent(terms(x.ledger))));
    it("NO_CONSENT when the resource holds no subjects", () =>
      deny([DenialReason.NO_CONSENT], (x) => x.custodian.registerResource(DATASET, "dataset"), "buyer", { resourceId: DATASET }));
    it("PURPOSE_NOT_COVERED", () =>
      deny([DenialReason.PURPOSE_NOT_COVERED], (x) => x.custodian.giveConsent(terms(x.ledger, { purposes: ["AcademicResearch"] }))));
    it("BUYER_TYPE_NOT_ALLOWED and JURISDICTION_NOT_ALLOWED together", () =>
      deny([DenialReason.BUYER_TYPE_NOT_ALLOWED, DenialReason.JURISDICTION_NOT_ALLOWED], (x) => x.custodian.giveConsent(terms(x.ledger)), "company", {
        ethAddress: COMPANY_ADDRESS,
      }));
    it("SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT", () =>
      deny([DenialReason.SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT], (x) => x.custodian.giveConsent(terms(x.ledger, { legalBasis: "A6-1-a" }))));
    it("NOT_YET_VALID", () =>
      deny([DenialReason.NOT_YET_VALID], (x) => x.custodian.giveConsent(terms(x.ledger, { validFrom: x.ledger.clock.nowSeconds() + DAY }))));
    it("EXPIRED", () =>
      deny([DenialReason.EXPIRED], async (x) => {
        await x.custodian.giveConsent(terms(x.ledger, { validUntil: x.ledger.clock.nowSeconds() + 60 }));
        x.ledger.clock.advance(60);
      }));
    it("WITHDRAWN", () =>
      deny([DenialReason.WITHDRAWN], async (x) => {
        const consent = await x.custodian.giveConsent(terms(x.ledger));
        await x.subject.withdrawConsent(consent.consentId);
      }));
    it("REVOKED", () =>
      deny([DenialReason.REVOKED], async (x) => {
        const consent = await x.custodian.giveConsent(terms(x.ledger));
        await x.custodian.revokeConsent(consent.consentId);
      }));
    it("UNKNOWN_RESOURCE for an unregistered resource or product", async () => {
      await deny([DenialReason.UNKNOWN_RESOURCE], async () => undefined, "buyer", { resourceId: "0x" + "99".repeat(32) });
      const decision = await w.buyer.requestAccess({ productId: "0x" + "98".repeat(32), purpose: "ScientificResearch", ethAddress: BUYER_ADDRESS });
      expect(decision.reasons).to.deep.equal([DenialReason.UNKNOWN_RESOURCE]);
    });
    it("uses only the consent that names the resource (a consent for another resource does not count)", () =>
      deny([DenialReason.NO_CONSENT], (x) => x.custodian.giveConsent(terms(x.ledger, { resources: [DATASET] }))));
  });

  it("withdrawal immediately invalidates every open grant built on the consent and says so in its event", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger));
    const first = (await w.buyer.requestAccess(request())).grant!;
    const second = (await w.buyer.requestAccess(request({ purpose: "ResearchAndDevelopment" }))).grant!;
    const events = await w.auditor.events();
    await w.subject.withdrawConsent(consent.consentId);
    const batch = (await events[Symbol.asyncIterator]().next()).value;
    events.close();
    const invalidated = batch.events.find((event: { type: string }) => event.type === "GrantsInvalidated");
    expect(invalidated).to.deep.include({ consentId: consent.consentId, cause: "ConsentWithdrawn", grantIds: [first.grantId, second.grantId].sort() });
    for (const grant of [first, second]) {
      const now = await w.buyer.getGrant(grant.grantId);
      expect(now.status).to.equal("Invalidated");
      expect(now.invalidatedBy).to.equal("ConsentWithdrawn");
    }
    expect((await w.buyer.requestAccess(request())).reasons).to.deep.equal([DenialReason.WITHDRAWN]);
  });

  it("an update of the terms invalidates the grants issued under the old terms", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger));
    const grant = (await w.buyer.requestAccess(request())).grant!;
    await w.custodian.updateConsent(consent.consentId, terms(w.ledger, { purposes: ["AcademicResearch"] }));
    expect((await w.auditor.getGrant(grant.grantId)).invalidatedBy).to.equal("ConsentUpdated");
    expect((await w.buyer.requestAccess(request())).reasons).to.deep.equal([DenialReason.PURPOSE_NOT_COVERED]);
  });

  it("an update that drops the resource leaves the subject without consent for it", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger));
    await w.custodian.updateConsent(consent.consentId, terms(w.ledger, { resources: [DATASET] }));
    expect((await w.buyer.previewAccess(request())).reasons).to.deep.equal([DenialReason.NO_CONSENT]);
  });

  it("decides on the consent most recently given for the resource; withdrawing a superseded one changes nothing", async () => {
    const older = await w.custodian.giveConsent(terms(w.ledger, { purposes: ["Marketing"] }));
    await w.custodian.giveConsent(terms(w.ledger, { purposes: ["ResearchAndDevelopment"] }));
    await w.subject.withdrawConsent(older.consentId);
    expect((await w.buyer.requestAccess(request())).decision).to.equal("approved");
  });

  it("does not re-invalidate a grant that has already expired", async () => {
    const consent = await w.custodian.giveConsent(terms(w.ledger));
    const grant = (await w.buyer.requestAccess(request({ ttlSeconds: 60 }))).grant!;
    w.ledger.clock.advance(120);
    const withdrawn = await w.subject.withdrawConsent(consent.consentId);
    expect(withdrawn.status).to.equal("ConsentWithdrawn");
    expect((await w.buyer.getGrant(grant.grantId)).status).to.equal("Expired");
  });

  describe("the buyer's Ethereum address must be proven to belong to the caller", () => {
    beforeEach(async () => {
      await w.custodian.giveConsent(terms(w.ledger));
    });

    it("accepts an EIP-191 signature by the address over the request bound to the caller's identity", async () => {
      const wallet = new Wallet("0x" + "07".repeat(32));
      const address = wallet.address.toLowerCase();
      const text = addressProofText({
        mspId: "ResearchMSP",
        clientId: fabric.fabricClientId(w.unprovenIdentity.certificatePem),
        address,
        target: RESOURCE,
        purpose: "ScientificResearch",
      });
      const decision = await w.unprovenBuyer.requestAccess(request({ ethAddress: address, ethSignature: await wallet.signMessage(text) }));
      expect(decision.grant!.buyer).to.equal(address);
      expect(decision.grant!.addressProof).to.equal("signature");
    });

    it("refuses a signature made for another caller identity", async () => {
      const wallet = new Wallet("0x" + "07".repeat(32));
      const address = wallet.address.toLowerCase();
      const text = addressProofText({ mspId: "ResearchMSP", clientId: "x509::/CN=someone-else", address, target: RESOURCE, purpose: "ScientificResearch" });
      await expectCode(
        w.unprovenBuyer.requestAccess(request({ ethAddress: address, ethSignature: await wallet.signMessage(text) })),
        "ADDRESS_NOT_PROVEN",
        "recovers to",
      );
    });

    it("refuses an address that is neither in the certificate nor signed for", async () => {
      await expectCode(w.unprovenBuyer.requestAccess(request({ ethAddress: BUYER_ADDRESS })), "ADDRESS_NOT_PROVEN", "no ethSignature");
      await expectCode(w.buyer.requestAccess(request({ ethAddress: COMPANY_ADDRESS })), "ADDRESS_NOT_PROVEN");
    });

    it("refuses a malformed or high-S signature", async () => {
      const bad = "0x" + "ff".repeat(64) + "1b";
      await expectCode(w.unprovenBuyer.requestAccess(request({ ethSignature: bad })), "ADDRESS_NOT_PROVEN", "(invalid signature)");
      await expectCode(w.unprovenBuyer.requestAccess(request({ ethSignature: "0x" + "11".repeat(64) + "05" })), "ADDRESS_NOT_PROVEN");
      await expectCode(w.unprovenBuyer.requestAccess(request({ ethSignature: "0x1234" })), "INVALID_ARGUMENT", "ethSignature");
    });
  });

  it("takes buyer type and jurisdiction from the certificate only", async () => {
    await w.custodian.giveConsent(terms(w.ledger));
    await expectCode(w.untypedBuyer.requestAccess(request()), "FORBIDDEN", "consent.buyerType");
    await expectCode(w.custodian.requestAccess(request()), "FORBIDDEN", "needs one of buyer");
    const noJurisdiction = w.ledger.client(await w.ledger.enroll("ResearchMSP", "visitor", { "consent.role": "buyer", "consent.buyerType": "PublicResearch" }));
    await expectCode(noJurisdiction.requestAccess(request()), "FORBIDDEN", "consent.jurisdiction");
  });

  it("refuses malformed requests", async () => {
    await expectCode(w.buyer.requestAccess({ purpose: "ScientificResearch", ethAddress: BUYER_ADDRESS }), "INVALID_ARGUMENT", "resourceId or a productId");
    await expectCode(w.buyer.requestAccess(request({ purpose: "Espionage" })), "UNKNOWN_PURPOSE");
    await expectCode(w.buyer.requestAccess(request({ ethAddress: buyerWallet.address })), "INVALID_ARGUMENT", "ethAddress");
    await expectCode(w.buyer.requestAccess(request({ ttlSeconds: 0 })), "INVALID_ARGUMENT", "ttlSeconds");
    await expectCode(w.buyer.requestAccess(request({ ttlSeconds: 31 * DAY })), "INVALID_ARGUMENT", "ttlSeconds");
    await expectCode(w.buyer.requestAccess(request({ productId: PRODUCT, resourceId: DATASET })), "INVALID_ARGUMENT", "licenses resource");
    await expectCode(w.buyer.getGrant("0x12"), "INVALID_ARGUMENT");
    await expectCode(w.buyer.getGrant("0x" + "00".repeat(32)), "NOT_FOUND");
  });

  it("shows a grant to its buyer and auditors only", async () => {
    await w.custodian.giveConsent(terms(w.ledger));
    const grant = (await w.buyer.requestAccess(request())).grant!;
    await expectCode(w.unprovenBuyer.getGrant(grant.grantId), "FORBIDDEN");
    expect((await w.auditor.getGrant(grant.grantId)).grantId).to.equal(grant.grantId);
  });

  it("logs every decision per subject and per buyer, readable with pagination by those allowed", async () => {
    await w.custodian.giveConsent(terms(w.ledger));
    // logs are ordered by transaction time (then txId): one request per second keeps the order known
    const approved = await w.buyer.requestAccess(request());
    w.ledger.clock.advance(1);
    await w.buyer.requestAccess(request({ purpose: "Marketing" }));
    w.ledger.clock.advance(1);
    await w.buyer.requestAccess(request({ resourceId: "0x" + "99".repeat(32) }));
    const bySubject = await w.subject.listAccessBySubject("subj-0001", 1);
    expect(bySubject.records).to.have.length(1);
    expect(bySubject.records[0]).to.deep.equal({
      decision: "approved",
      grantId: approved.grant!.grantId,
      buyerKey: approved.grant!.buyerKey,
      resourceId: RESOURCE,
      purpose: "ScientificResearch",
      reasons: [],
      txId: approved.txId,
      timestamp: approved.decidedAt,
    });
    const rest = await w.subject.listAccessBySubject("subj-0001", 10, bySubject.bookmark);
    expect(rest.records.map((entry) => entry.reasons)).to.deep.equal([[DenialReason.PURPOSE_NOT_COVERED]]);
    const own = await w.buyer.listAccessByBuyer();
    expect(own.records.map((entry) => entry.decision)).to.deep.equal(["approved", "denied", "denied"]);
    expect(own.records[2].reasons).to.deep.equal([DenialReason.UNKNOWN_RESOURCE]);
    const buyerKey = approved.grant!.buyerKey;
    expect((await w.auditor.listAccessByBuyer(buyerKey)).records).to.have.length(3);
    await expectCode(w.company.listAccessByBuyer(buyerKey), "FORBIDDEN", "auditors only");
    await expectCode(w.buyer.listAccessBySubject("subj-0001"), "FORBIDDEN");
  });

  describe("datasets", () => {
    it("releases only the subjects whose consent allows the request and counts the rest by reason", async () => {
      await w.custodian.registerResource(DATASET, "dataset");
      const subjects = Array.from({ length: 40 }, (_, i) => `subj-${(i + 100).toString().padStart(4, "0")}`);
      await w.custodian.addResourceSubjects(DATASET, subjects);
      for (const [i, subjectId] of subjects.entries()) {
        if (i % 4 === 0) {
          continue; // no consent
        }
        const purposes = i % 4 === 1 ? ["Marketing"] : ["ResearchAndDevelopment"];
        const consent = await w.custodian.giveConsent(terms(w.ledger, { subjectId, resources: [DATASET], purposes }));
        if (i % 8 === 3) {
          await w.custodian.withdrawConsent(consent.consentId);
        }
      }
      const decision = await w.buyer.requestAccess(request({ resourceId: DATASET }));
      expect(decision.decision).to.equal("approved");
      expect(decision.subjectsTotal).to.equal(40);
      const expectedApproved = subjects.filter((_, i) => i % 4 >= 2 && i % 8 !== 3);
      expect(decision.approvedSubjects).to.deep.equal(expectedApproved);
      expect(decision.deniedByReason).to.deep.equal({ NO_CONSENT: 10, PURPOSE_NOT_COVERED: 10, WITHDRAWN: 5 });
      expect(decision.grant!.subjectCount).to.equal(expectedApproved.length);
      // withdrawing one released subject's consent invalidates the dataset grant
      const consentOf = (await w.custodian.listSubjectConsents(expectedApproved[0])).records[0];
      await w.custodian.withdrawConsent(consentOf.consentId);
      expect((await w.buyer.getGrant(decision.grant!.grantId)).status).to.equal("Invalidated");
    });

    it("adds subjects idempotently and pages through them", async () => {
      await w.custodian.registerResource(DATASET, "dataset");
      await w.custodian.addResourceSubjects(DATASET, ["subj-a01", "subj-a02", "subj-a03"]);
      const resource = await w.custodian.addResourceSubjects(DATASET, ["subj-a02", "subj-a04"]);
      expect(resource.subjectCount).to.equal(4);
      const page = await w.auditor.listResourceSubjects(DATASET, 3);
      expect(page.records).to.deep.equal(["subj-a01", "subj-a02", "subj-a03"]);
      expect((await w.custodian.listResourceSubjects(DATASET, 3, page.bookmark)).records).to.deep.equal(["subj-a04"]);
      await expectCode(w.otherCustodian.listResourceSubjects(DATASET), "FORBIDDEN", "controlled by HospitalMSP");
      await expectCode(w.buyer.listResourceSubjects(DATASET), "FORBIDDEN");
    });

    it("refuses to grow a resource beyond its limit and bad membership changes", async () => {
      await expectCode(w.custodian.addResourceSubjects(RESOURCE, ["subj-0002"]), "DATASET_TOO_LARGE", "limit of 1");
      await expectCode(w.otherCustodian.addResourceSubjects(RESOURCE, ["subj-0003"]), "FORBIDDEN", "controlled by HospitalMSP");
      await expectCode(w.custodian.addResourceSubjects("0x" + "77".repeat(32), ["subj-0003"]), "NOT_FOUND", "is not registered");
      // the client refuses before sending; the chaincode refuses the same on its own
      await expectCode(
        w.custodian.addResourceSubjects(
          DATASET,
          Array.from({ length: 1001 }, (_, i) => `s-${i}00`),
        ),
        "INVALID_ARGUMENT",
        "MAX_SUBJECTS_PER_CALL of 1000",
      );
      const raw = w.ledger
        .connect(await w.ledger.enroll("HospitalMSP", "raw-registrar", { "consent.role": "custodian" }))
        .getNetwork("consent")
        .getContract("consent", "resource");
      const tooMany = JSON.stringify({ resourceId: DATASET, subjectIds: Array.from({ length: 1001 }, (_, i) => `s-${i}00`) });
      expect(
        await raw.submitTransaction("AddResourceSubjects", tooMany).then(
          () => "ok",
          (error: Error) => error.message,
        ),
      ).to.contain("limit is 1000");
      await expectCode(w.custodian.addResourceSubjects(RESOURCE, []), "EMPTY_LIST");
    });

    it("refuses duplicate resources and products, and unknown kinds", async () => {
      await expectCode(w.custodian.registerResource(RESOURCE, "stream"), "ALREADY_EXISTS", "already registered");
      await expectCode(w.custodian.registerResource(DATASET, "dataset", [PRODUCT]), "ALREADY_EXISTS", "already licenses");
      await expectCode(w.custodian.registerResource(DATASET, "archive" as never), "INVALID_ARGUMENT", "kind");
      await expectCode(w.buyer.registerResource(DATASET, "dataset"), "FORBIDDEN");
      expect((await w.buyer.getResource(RESOURCE)).productIds).to.deep.equal([PRODUCT]);
      await expectCode(w.buyer.getResource(DATASET), "NOT_FOUND");
    });
  });
});
