// The buyer side of the consent API (server/consent-api.ts): POST /v1/access-requests signed by the
// buyer's wallet is decided on a real in-process consent ledger and answered with the decision, its
// reasons, the released subjects and those left out; GET /v1/access-requests/:id reads it back with
// the grant's status now. An unsigned request or a wallet bound to no buyer changes nothing.
import { expect } from "chai";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { buildConsentApi, buyerIdentity } from "../server/consent-api";
import { SIGNED_HEADERS, bodyHash, newNonce, signedRequestText } from "../src/signed-request";
import type { AccessRequestResult, AccessRequestStatus } from "../src/consent-client";

const API = "http://127.0.0.1:8601";
const DATASET = keccak256(toUtf8Bytes("dataset"));
const PRODUCT = keccak256(toUtf8Bytes("product"));

describe("consent API: buyers' access requests", function () {
  this.timeout(60_000);
  let ledger: InProcessConsentLedger;
  let custodian: ConsentLedgerClient;
  let lab: ConsentLedgerClient;
  const labWallet = new Wallet(Wallet.createRandom().privateKey);
  const stranger = new Wallet(Wallet.createRandom().privateKey);
  let app: ReturnType<typeof buildConsentApi>;
  const consentOf = new Map<string, string>();

  before(async () => {
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["UniversityMSP"] });
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    await custodian.registerResource(DATASET, "dataset", [PRODUCT]);
    for (const [subjectId, purposes] of [
      ["p-1", ["ScientificResearch"]],
      ["p-2", ["ScientificResearch"]],
      ["p-3", ["Marketing"]],
    ] as const) {
      const record = await custodian.giveConsent({
        subjectId,
        controller: "University Hospital",
        resources: [DATASET],
        purposes: [...purposes],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: ["PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: ledger.clock.nowSeconds() + 86_400,
        noticeHash: keccak256(toUtf8Bytes("notice")),
      });
      consentOf.set(subjectId, record.consentId);
    }
    await custodian.addResourceSubjects(DATASET, ["p-1", "p-2", "p-3"]);
    const enrolled = await ledger.enroll("UniversityMSP", "lab", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "NL",
      "consent.ethAddress": labWallet.address,
    });
    lab = ledger.client(enrolled);
    app = buildConsentApi({ identities: [], buyers: [buyerIdentity(enrolled, lab)], allowOrigin: "*", origin: () => API });
  });

  after(async () => {
    await app?.close();
  });

  async function signedInject(signer: Wallet, method: "GET" | "POST", path: string, body = "") {
    const address = signer.address.toLowerCase();
    const nonce = newNonce();
    const expires = Math.floor(Date.now() / 1000) + 60;
    const signature = await signer.signMessage(
      signedRequestText({ api: API, method, path, subjectId: "", address, nonce, expires, bodyHash: await bodyHash(body) }),
    );
    return app.inject({
      method,
      url: path,
      payload: body === "" ? undefined : body,
      headers: {
        ...(body === "" ? {} : { "content-type": "application/json" }),
        [SIGNED_HEADERS.address]: address,
        [SIGNED_HEADERS.nonce]: nonce,
        [SIGNED_HEADERS.expires]: String(expires),
        [SIGNED_HEADERS.signature]: signature,
      },
    });
  }

  it("decides a signed request on the ledger: released subjects, those left out by reason, the grant for the signing wallet", async () => {
    const r = await signedInject(
      labWallet,
      "POST",
      "/v1/access-requests",
      JSON.stringify({ productId: PRODUCT, purpose: "ScientificResearch", ttlSeconds: 600 }),
    );
    expect(r.statusCode, r.body).to.equal(200);
    const result = r.json() as AccessRequestResult;
    expect(result.decision).to.equal("approved");
    expect(result.reasons).to.deep.equal([]);
    expect(result.subjectsTotal).to.equal(3);
    expect(result.releasedSubjects).to.deep.equal(["p-1", "p-2"]);
    expect(result.leftOut).to.deep.equal([{ reason: "PURPOSE_NOT_COVERED", count: 1 }]);
    expect(result.resourceId).to.equal(DATASET);
    expect(result.grant?.buyer).to.equal(labWallet.address.toLowerCase());
    expect(result.grantId)
      .to.equal(result.grant?.grantId)
      .and.match(/^0x[0-9a-f]{64}$/);
    expect(result.requestId).to.match(/^[0-9a-f]{64}$/);

    const read = await signedInject(labWallet, "GET", `/v1/access-requests/${result.requestId}`);
    expect(read.statusCode, read.body).to.equal(200);
    const status = read.json() as AccessRequestStatus;
    expect(status).to.deep.include({ requestId: result.requestId, decision: "approved", subjectsTotal: 3, subjectsReleased: 2 });
    expect(status.grant?.status).to.equal("Open");

    // a patient withdraws: the grant reads Invalidated, with the cause
    await custodian.withdrawConsent(consentOf.get("p-1")!);
    const after = (await signedInject(labWallet, "GET", `/v1/access-requests/${result.requestId}`)).json() as AccessRequestStatus;
    expect(after.grant?.status).to.equal("Invalidated");
    expect(after.grant?.invalidatedBy).to.equal("ConsentWithdrawn");
  });

  it("answers a denial with its reasons", async () => {
    const r = await signedInject(labWallet, "POST", "/v1/access-requests", JSON.stringify({ productId: PRODUCT, purpose: "ServiceProvision" }));
    expect(r.statusCode, r.body).to.equal(200);
    const result = r.json() as AccessRequestResult;
    expect(result.decision).to.equal("denied");
    expect(result.reasons).to.include("PURPOSE_NOT_COVERED");
    expect(result.releasedSubjects).to.deep.equal([]);
    expect(result.grantId).to.equal(null);
  });

  it("changes nothing for an unsigned request, a wallet bound to no buyer, or a malformed body", async () => {
    const before = (await lab.listAccessByBuyer()).records.length;
    const body = JSON.stringify({ productId: PRODUCT, purpose: "ScientificResearch" });
    const unsigned = await app.inject({ method: "POST", url: "/v1/access-requests", payload: body, headers: { "content-type": "application/json" } });
    expect(unsigned.statusCode).to.equal(401);
    expect(unsigned.json().error).to.equal("UNSIGNED");
    const foreign = await signedInject(stranger, "POST", "/v1/access-requests", body);
    expect(foreign.statusCode).to.equal(403);
    expect(foreign.json()).to.deep.include({ error: "FOREIGN_IDENTITY" });
    expect(foreign.json().message).to.contain("bound to no buyer");
    const bad = await signedInject(labWallet, "POST", "/v1/access-requests", JSON.stringify({ purpose: "ScientificResearch" }));
    expect(bad.statusCode).to.equal(400);
    expect(bad.json().message).to.contain("names no productId or resourceId");
    const unknown = await signedInject(labWallet, "GET", `/v1/access-requests/${"ab".repeat(32)}`);
    expect(unknown.statusCode).to.equal(404);
    expect((await lab.listAccessByBuyer()).records.length).to.equal(before);
  });
});
