// The consent API's signature checks (server/consent-api.ts) against a real in-process consent ledger:
// a request signed by the subject's bound wallet is served; a replayed, expired, wrongly signed,
// unsigned or foreign-identity request is refused with a status and an error that says why, and
// changes nothing on the ledger.
import { expect } from "chai";
import { Wallet, keccak256, toUtf8Bytes, AbiCoder, id } from "ethers";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { protocolErrorsAbi } from "@datamarket/contracts";
import { buildConsentApi, subjectIdentity, type SubjectIdentity } from "../server/consent-api";
import { SIGNED_HEADERS, bodyHash, newNonce, signedRequestText } from "../src/signed-request";
import { decodeCustomError, describeError } from "../src/errors";

const RESOURCE = keccak256(toUtf8Bytes("resource"));
const API = "http://127.0.0.1:8600";

describe("consent API: signed requests", function () {
  this.timeout(60_000);
  let ledger: InProcessConsentLedger;
  let custodian: ConsentLedgerClient;
  const alice = new Wallet(Wallet.createRandom().privateKey);
  const bob = new Wallet(Wallet.createRandom().privateKey);
  let identities: SubjectIdentity[];
  const consentOf = new Map<string, string>();
  let now = Date.now();
  let app: ReturnType<typeof buildConsentApi>;

  before(async () => {
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["UniversityMSP"] });
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    for (const subjectId of ["alice-1", "bob-1"]) {
      const record = await custodian.giveConsent({
        subjectId,
        controller: "University Hospital",
        resources: [RESOURCE],
        purposes: ["ScientificResearch"],
        dataCategories: ["PhysicalHealth"],
        buyerTypes: ["PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A9-2-a",
        validUntil: ledger.clock.nowSeconds() + 86_400,
        noticeHash: keccak256(toUtf8Bytes("notice")),
      });
      consentOf.set(subjectId, record.consentId);
    }
    identities = [];
    for (const [subjectId, wallet] of [
      ["alice-1", alice],
      ["bob-1", bob],
    ] as const) {
      const enrolled = await ledger.enroll("HospitalMSP", `subject-${subjectId}`, {
        "consent.role": "subject",
        "consent.subject": subjectId,
        "consent.ethAddress": wallet.address,
      });
      identities.push(subjectIdentity(enrolled, ledger.client(enrolled)));
    }
    app = buildConsentApi({ identities, allowOrigin: "http://127.0.0.1:1", now: () => now, origin: () => API });
  });

  after(async () => {
    await app?.close();
  });

  /** Headers of a request signed by `signer`, claiming `address` (the signer's unless given). */
  async function sign(
    signer: Wallet,
    method: string,
    path: string,
    subjectId: string,
    o: { address?: string; expires?: number; nonce?: string; api?: string } = {},
  ) {
    const address = (o.address ?? signer.address).toLowerCase();
    const nonce = o.nonce ?? newNonce();
    const expires = o.expires ?? Math.floor(now / 1000) + 60;
    const signature = await signer.signMessage(
      signedRequestText({ api: o.api ?? API, method, path, subjectId, address, nonce, expires, bodyHash: await bodyHash("") }),
    );
    return {
      [SIGNED_HEADERS.address]: address,
      [SIGNED_HEADERS.nonce]: nonce,
      [SIGNED_HEADERS.expires]: String(expires),
      [SIGNED_HEADERS.signature]: signature,
    };
  }
  const consentsPath = (s: string) => `/v1/subjects/${s}/consents`;
  const withdrawPath = (s: string, c: string) => `/v1/subjects/${s}/consents/${c}/withdraw`;
  const statusOf = async (subjectId: string) => (await custodian.getConsent(consentOf.get(subjectId)!)).status;

  it("serves the bound subject: /v1/me, consents, access log", async () => {
    const me = await app.inject({ method: "GET", url: "/v1/me", headers: await sign(alice, "GET", "/v1/me", "") });
    expect(me.statusCode).to.equal(200);
    expect(me.json()).to.deep.equal({ address: alice.address.toLowerCase(), subjects: ["alice-1"] });
    const consents = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers: await sign(alice, "GET", consentsPath("alice-1"), "alice-1") });
    expect(consents.statusCode).to.equal(200);
    expect(consents.json().records.map((c: { consentId: string; status: string }) => [c.consentId, c.status])).to.deep.equal([
      [consentOf.get("alice-1"), "ConsentGiven"],
    ]);
    const access = await app.inject({
      method: "GET",
      url: "/v1/subjects/alice-1/access",
      headers: await sign(alice, "GET", "/v1/subjects/alice-1/access", "alice-1"),
    });
    expect(access.statusCode).to.equal(200);
    expect(access.json().records).to.deep.equal([]);
  });

  it("refuses a replayed request (the same nonce twice), saying so", async () => {
    const headers = await sign(alice, "GET", consentsPath("alice-1"), "alice-1");
    expect((await app.inject({ method: "GET", url: consentsPath("alice-1"), headers })).statusCode).to.equal(200);
    const again = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers });
    expect(again.statusCode).to.equal(401);
    expect(again.json().error).to.equal("REPLAYED");
    expect(again.json().message).to.match(/already used/);
  });

  it("refuses a signature by another wallet than the one named (wrong signer), one made for another API, and a request altered after signing", async () => {
    const forged = await sign(bob, "GET", consentsPath("alice-1"), "alice-1", { address: alice.address });
    const r = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers: forged });
    expect(r.statusCode).to.equal(401);
    expect(r.json()).to.deep.include({ error: "WRONG_SIGNER" });
    expect(r.json().message).to.contain(bob.address.toLowerCase());
    // signed for another consent API (another deployment): useless here
    const elsewhere = await app.inject({
      method: "GET",
      url: consentsPath("alice-1"),
      headers: await sign(alice, "GET", consentsPath("alice-1"), "alice-1", { api: "https://other.example" }),
    });
    expect(elsewhere.statusCode).to.equal(401);
    expect(elsewhere.json().error).to.equal("WRONG_SIGNER");
    // signed for the consents list, sent as a withdrawal: the text differs, so the signer does not recover
    const signedForList = await sign(alice, "GET", consentsPath("alice-1"), "alice-1");
    const altered = await app.inject({ method: "POST", url: withdrawPath("alice-1", consentOf.get("alice-1")!), headers: signedForList });
    expect(altered.statusCode).to.equal(401);
    expect(altered.json().error).to.equal("WRONG_SIGNER");
    expect(await statusOf("alice-1")).to.equal("ConsentGiven");
  });

  it("refuses an expired request and one whose expiry is too far ahead", async () => {
    const expired = await app.inject({
      method: "GET",
      url: consentsPath("alice-1"),
      headers: await sign(alice, "GET", consentsPath("alice-1"), "alice-1", { expires: Math.floor(now / 1000) - 1 }),
    });
    expect(expired.statusCode).to.equal(401);
    expect(expired.json()).to.deep.include({ error: "EXPIRED" });
    const far = await app.inject({
      method: "GET",
      url: consentsPath("alice-1"),
      headers: await sign(alice, "GET", consentsPath("alice-1"), "alice-1", { expires: Math.floor(now / 1000) + 3_600 }),
    });
    expect(far.statusCode).to.equal(401);
    expect(far.json()).to.deep.include({ error: "EXPIRY_TOO_FAR" });
    // a request that was valid when signed expires with the clock
    const headers = await sign(alice, "GET", consentsPath("alice-1"), "alice-1");
    now += 61_000;
    try {
      const late = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers });
      expect(late.json().error).to.equal("EXPIRED");
    } finally {
      now -= 61_000;
    }
  });

  it("refuses a foreign identity: another subject, or another subject's consent, and an unknown subject alike", async () => {
    const foreign = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers: await sign(bob, "GET", consentsPath("alice-1"), "alice-1") });
    expect(foreign.statusCode).to.equal(403);
    expect(foreign.json()).to.deep.include({ error: "FOREIGN_IDENTITY" });
    const unknown = await app.inject({ method: "GET", url: consentsPath("carol-1"), headers: await sign(bob, "GET", consentsPath("carol-1"), "carol-1") });
    expect(unknown.statusCode).to.equal(403);
    expect(unknown.json().error).to.equal("FOREIGN_IDENTITY");
    // bob, signing correctly for his own subject, names alice's consent
    const path = withdrawPath("bob-1", consentOf.get("alice-1")!);
    const cross = await app.inject({ method: "POST", url: path, headers: await sign(bob, "POST", path, "bob-1") });
    // the ledger itself refuses: bob's identity may not even read alice's consent
    expect(cross.statusCode).to.equal(403);
    expect(cross.json().error).to.equal("FORBIDDEN");
    expect(cross.json().message).to.contain("may not read subject alice-1");
    expect(await statusOf("alice-1")).to.equal("ConsentGiven");
  });

  it("refuses an unsigned request and malformed signature headers with a clear error", async () => {
    const unsigned = await app.inject({ method: "GET", url: consentsPath("alice-1") });
    expect(unsigned.statusCode).to.equal(401);
    expect(unsigned.json()).to.deep.include({ error: "UNSIGNED" });
    const headers = { ...(await sign(alice, "GET", consentsPath("alice-1"), "alice-1")), [SIGNED_HEADERS.signature]: "0x1234" };
    const bad = await app.inject({ method: "GET", url: consentsPath("alice-1"), headers });
    expect(bad.json()).to.deep.include({ error: "BAD_SIGNATURE" });
  });

  it("withdraws the subject's own consent on the ledger, once", async () => {
    const path = withdrawPath("alice-1", consentOf.get("alice-1")!);
    const r = await app.inject({ method: "POST", url: path, headers: await sign(alice, "POST", path, "alice-1") });
    expect(r.statusCode, r.body).to.equal(200);
    expect(r.json().status).to.equal("ConsentWithdrawn");
    expect(await statusOf("alice-1")).to.equal("ConsentWithdrawn");
    const twice = await app.inject({ method: "POST", url: path, headers: await sign(alice, "POST", path, "alice-1") });
    expect(twice.statusCode).to.equal(409);
    expect(twice.json().error).to.equal("INVALID_TRANSITION");
    expect(await statusOf("bob-1")).to.equal("ConsentGiven");
  });

  it("binds only a subject identity whose certificate names a wallet", async () => {
    const noWallet = await ledger.enroll("HospitalMSP", "subject-nowallet", { "consent.role": "subject", "consent.subject": "x-1" });
    expect(() => subjectIdentity(noWallet, ledger.client(noWallet))).to.throw(/binds no wallet/);
    const buyer = await ledger.enroll("UniversityMSP", "lab", { "consent.role": "buyer", "consent.ethAddress": alice.address });
    expect(() => subjectIdentity(buyer, ledger.client(buyer))).to.throw(/role buyer, not subject/);
  });
});

describe("portal errors in words", () => {
  it("decodes a protocol custom error with its arguments, and says a refusal in the wallet", () => {
    const fragment = protocolErrorsAbi.find((e) => e.name === "PurposeNotAllowed")!;
    const selector = id(`PurposeNotAllowed(${fragment.inputs.map((i) => i.type).join(",")})`).slice(0, 10);
    const data =
      selector +
      AbiCoder.defaultAbiCoder()
        .encode(["bytes32", "bytes32"], [id("p"), id("ScientificResearch")])
        .slice(2);
    expect(decodeCustomError(data)).to.equal(`PurposeNotAllowed: productId = ${id("p")}, purpose = ${id("ScientificResearch")}`);
    expect(describeError({ data })).to.match(/^the contract refused: PurposeNotAllowed: productId = 0x/);
    expect(describeError({ code: 4001, message: "User rejected" })).to.equal("you declined the request in your wallet");
    expect(describeError({ data: "0xdeadbeef" })).to.equal("the contract refused with unknown error data 0xdeadbeef");
  });
});
