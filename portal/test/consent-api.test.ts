// The consent API (server/consent-api.ts) against a real in-process consent ledger. The API holds one
// ledger identity, a relay, which by itself can do nothing: every change it makes is an operation a
// bound wallet signed, checked on the ledger; every read rides on an EIP-4361 sign-in the ledger
// checks too. A request without the wallet's signature (forged, altered, replayed, expired) changes
// nothing, and a second API holding the same relay identity can replay nothing.
import { expect } from "chai";
import { Wallet, keccak256, toUtf8Bytes, AbiCoder, id } from "ethers";
import { InProcessConsentLedger, bindWallet, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { protocolErrorsAbi } from "@datamarket/contracts";
import { buildConsentApi } from "../server/consent-api";
import { signOperation, type SignedOperationBody } from "../src/signed-request";
import { signInMessage } from "../src/siwe";
import { decodeCustomError, describeError } from "../src/errors";
import type { AccessRequestResult, AccessRequestStatus, SessionAnswer } from "../src/consent-client";

const RESOURCE = keccak256(toUtf8Bytes("resource"));
const PRODUCT = keccak256(toUtf8Bytes("product"));
const NOTICE = keccak256(toUtf8Bytes("notice"));
const LEDGER = "consent";

describe("consent API: a relay that acts only on wallets' signatures the ledger checks", function () {
  this.timeout(60_000);
  let ledger: InProcessConsentLedger;
  let custodian: ConsentLedgerClient;
  let relay: ConsentLedgerClient;
  const alice = new Wallet(Wallet.createRandom().privateKey);
  const bob = new Wallet(Wallet.createRandom().privateKey);
  const lab = new Wallet(Wallet.createRandom().privateKey);
  const thief = new Wallet(Wallet.createRandom().privateKey);
  const seller = new Wallet(Wallet.createRandom().privateKey);
  const consentOf = new Map<string, string>();
  const bindingOf = new Map<string, { bindingId: string; party: string }>();
  let app: ReturnType<typeof buildConsentApi>;

  const terms = (subjectId: string, purposes = ["ScientificResearch", "ServiceProvision"]) => ({
    subjectId,
    controller: "University Hospital",
    resources: [RESOURCE],
    purposes,
    dataCategories: ["PhysicalHealth"],
    buyerTypes: ["PublicResearch"],
    jurisdictions: ["EU"],
    legalBasis: "A9-2-a" as const,
    validUntil: ledger.clock.nowSeconds() + 86_400,
    noticeHash: NOTICE,
  });

  before(async () => {
    ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["UniversityMSP"] });
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    await custodian.registerResource(RESOURCE, "dataset", [PRODUCT]);
    for (const subjectId of ["alice-1", "bob-1"]) consentOf.set(subjectId, (await custodian.giveConsent(terms(subjectId))).consentId);
    await custodian.addResourceSubjects(RESOURCE, ["alice-1", "bob-1"]);
    const channel = { ledger: LEDGER, now: ledger.clock.nowSeconds() };
    for (const [subjectId, wallet] of [
      ["alice-1", alice],
      ["bob-1", bob],
    ] as const) {
      const identity = await ledger.enroll("HospitalMSP", `subject-${subjectId}`, { "consent.role": "subject", "consent.subject": subjectId });
      bindingOf.set(wallet.address, await bindWallet(ledger.client(identity), identity, wallet, channel));
    }
    const labIdentity = await ledger.enroll("UniversityMSP", "lab", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "NL",
    });
    bindingOf.set(lab.address, await bindWallet(ledger.client(labIdentity), labIdentity, lab, channel));
    const studioIdentity = await ledger.enroll("HospitalMSP", "studio", { "consent.role": "custodian" });
    bindingOf.set(seller.address, await bindWallet(ledger.client(studioIdentity), studioIdentity, seller, channel));
    relay = ledger.client(await ledger.enroll("HospitalMSP", "consent-api", { "consent.role": "relay" }));
    app = buildConsentApi({ relay, ledger: LEDGER, allowOrigin: "*" });
  });

  after(async () => {
    await app?.close();
  });

  async function signIn(wallet: Wallet, o: { nonce?: string; lifetime?: number; resources?: string[] } = {}) {
    const issued = (await app.inject({ method: "POST", url: "/v1/auth/nonce", payload: {} })).json();
    const message = signInMessage({
      domain: "127.0.0.1:5173",
      uri: "http://127.0.0.1:5173/",
      address: wallet.address,
      chainId: 31337,
      nonce: o.nonce ?? issued.nonce,
      statement: "Sign in to read my consents.",
      resources: o.resources ?? [issued.resource],
      lifetimeSeconds: o.lifetime ?? 600,
    });
    return app.inject({ method: "POST", url: "/v1/auth/session", payload: { message, signature: await wallet.signMessage(message) } });
  }
  const tokenOf = async (wallet: Wallet) => ((await signIn(wallet)).json() as SessionAnswer).token;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const op = (signer: Wallet, owner: Wallet, operation: string, args: Record<string, unknown>): Promise<SignedOperationBody> =>
    signOperation((text) => signer.signMessage(text), { ledger: LEDGER, ...bindingOf.get(owner.address)!, address: owner.address, operation, args });
  const statusOf = async (subjectId: string) => (await custodian.getConsent(consentOf.get(subjectId)!)).status;

  it("signs a wallet in (EIP-4361) and serves its reads through the ledger's own check of the sign-in", async () => {
    const r = await signIn(alice);
    expect(r.statusCode, r.body).to.equal(200);
    const session = r.json() as SessionAnswer;
    expect(session).to.deep.include({ address: alice.address.toLowerCase(), ledger: LEDGER, subjects: ["alice-1"] });
    expect(session.bindings).to.deep.equal([
      { bindingId: bindingOf.get(alice.address)!.bindingId, party: "subject:alice-1", kind: "subject", subjectId: "alice-1" },
    ]);
    const consents = await app.inject({ method: "GET", url: "/v1/subjects/alice-1/consents", headers: bearer(session.token) });
    expect(consents.statusCode, consents.body).to.equal(200);
    expect(consents.json().records.map((c: { consentId: string }) => c.consentId)).to.deep.equal([consentOf.get("alice-1")]);
    const access = await app.inject({ method: "GET", url: "/v1/subjects/alice-1/access", headers: bearer(session.token) });
    expect(access.json().records).to.deep.equal([]);
    // alice's session reads nothing of bob's: the ledger finds her wallet bound to no such party
    const foreign = await app.inject({ method: "GET", url: "/v1/subjects/bob-1/consents", headers: bearer(session.token) });
    expect(foreign.statusCode).to.equal(403);
    expect(foreign.json().error).to.equal("WALLET_NOT_BOUND");
  });

  it("refuses a sign-in with a nonce it did not issue or already used, for another ledger, too long, or signed by another wallet", async () => {
    expect((await signIn(alice, { nonce: "abcdef0123456789" })).json()).to.deep.include({ error: "BAD_SIGN_IN" });
    expect((await signIn(alice, { resources: ["urn:datamarket:consent-ledger:other"] })).json().message).to.contain("Resources");
    expect((await signIn(alice, { lifetime: 7_200 })).json().message).to.contain("at most 3600 s");
    const issued = (await app.inject({ method: "POST", url: "/v1/auth/nonce", payload: {} })).json();
    const message = signInMessage({
      domain: "x.example",
      uri: "https://x.example/",
      address: alice.address,
      chainId: 1,
      nonce: issued.nonce,
      resources: [issued.resource],
      lifetimeSeconds: 600,
    });
    const forged = await app.inject({ method: "POST", url: "/v1/auth/session", payload: { message, signature: await thief.signMessage(message) } });
    expect(forged.statusCode).to.equal(401);
    expect(forged.json().message).to.contain(thief.address.toLowerCase());
    // the nonce went with the failed attempt: signed correctly now, it is refused as used
    const again = await app.inject({ method: "POST", url: "/v1/auth/session", payload: { message, signature: await alice.signMessage(message) } });
    expect(again.json().message).to.contain("already used");
    const unsigned = await app.inject({ method: "GET", url: "/v1/subjects/alice-1/consents" });
    expect(unsigned.statusCode).to.equal(401);
    expect(unsigned.json().error).to.equal("NOT_SIGNED_IN");
  });

  it("refuses a sign-in made for another site than the portal it serves", async () => {
    const portalApi = buildConsentApi({ relay, ledger: LEDGER, allowOrigin: "http://127.0.0.1:5173" });
    try {
      const issued = (await portalApi.inject({ method: "POST", url: "/v1/auth/nonce", payload: {} })).json();
      const sign = async (domain: string) => {
        const message = signInMessage({
          domain,
          uri: `http://${domain}/`,
          address: alice.address,
          chainId: 1,
          nonce: issued.nonce,
          resources: [issued.resource],
          lifetimeSeconds: 600,
        });
        return portalApi.inject({ method: "POST", url: "/v1/auth/session", payload: { message, signature: await alice.signMessage(message) } });
      };
      const elsewhere = await sign("evil.example");
      expect(elsewhere.statusCode).to.equal(400);
      expect(elsewhere.json().message).to.contain("not for the portal at 127.0.0.1:5173");
      expect((await sign("127.0.0.1:5173")).statusCode).to.equal(200);
    } finally {
      await portalApi.close();
    }
  });

  it("changes nothing on a request without the wallet's signature: forged, altered after signing, unsigned, or malformed", async () => {
    const forged = await op(thief, alice, "WithdrawConsent", { consentId: consentOf.get("alice-1") });
    const r = await app.inject({ method: "POST", url: "/v1/operations", payload: forged });
    expect(r.statusCode).to.equal(401);
    expect(r.json().error).to.equal("BAD_WALLET_SIGNATURE");
    // alice signed the withdrawal of her consent; the API swaps in bob's consent: the ledger refuses
    const signed = await op(alice, alice, "WithdrawConsent", { consentId: consentOf.get("alice-1") });
    const altered = await app.inject({ method: "POST", url: "/v1/operations", payload: { ...signed, arguments: { consentId: consentOf.get("bob-1") } } });
    expect(altered.json().error).to.equal("BAD_WALLET_SIGNATURE");
    const unsigned = await app.inject({ method: "POST", url: "/v1/operations", payload: { ...signed, signature: undefined } });
    expect(unsigned.statusCode).to.equal(400);
    expect(unsigned.json().message).to.contain("signature");
    expect(await statusOf("alice-1")).to.equal("ConsentGiven");
    expect(await statusOf("bob-1")).to.equal("ConsentGiven");
    // the relay's own identity, used directly, can do nothing either
    for (const attempt of [relay.withdrawConsent(consentOf.get("alice-1")!), relay.listSubjectConsents("alice-1")]) {
      const error = await attempt.then(
        () => null,
        (e: { code: string }) => e.code,
      );
      expect(error).to.equal("FORBIDDEN");
    }
  });

  it("narrows and withdraws on the subject's signed operations, each accepted once: neither this API nor a stolen copy can replay one", async () => {
    const narrowing = await op(alice, alice, "NarrowConsent", { consentId: consentOf.get("alice-1"), purposes: ["ScientificResearch"] });
    const narrowed = await app.inject({ method: "POST", url: "/v1/operations", payload: narrowing });
    expect(narrowed.statusCode, narrowed.body).to.equal(200);
    expect(narrowed.json()).to.deep.include({ purposes: ["ScientificResearch"], version: 2 });
    const widening = await app.inject({
      method: "POST",
      url: "/v1/operations",
      payload: await op(alice, alice, "NarrowConsent", { consentId: consentOf.get("alice-1"), purposes: ["Marketing"] }),
    });
    expect(widening.statusCode).to.equal(409);
    expect(widening.json().message).to.contain("cannot add purpose");

    const withdrawal = await op(alice, alice, "WithdrawConsent", { consentId: consentOf.get("alice-1") });
    const r = await app.inject({ method: "POST", url: "/v1/operations", payload: withdrawal });
    expect(r.statusCode, r.body).to.equal(200);
    expect(r.json().status).to.equal("ConsentWithdrawn");
    // a thief who copied the API server (and its relay identity) replays the captured operation
    const stolen = buildConsentApi({
      relay: ledger.client(await ledger.enroll("HospitalMSP", "stolen-api", { "consent.role": "relay" })),
      ledger: LEDGER,
      allowOrigin: "*",
    });
    try {
      const replay = await stolen.inject({ method: "POST", url: "/v1/operations", payload: narrowing });
      expect(replay.statusCode).to.equal(409);
      expect(replay.json().error).to.equal("NONCE_USED");
    } finally {
      await stolen.close();
    }
    expect((await custodian.getConsent(consentOf.get("alice-1")!)).version).to.equal(2);
    expect(await statusOf("bob-1")).to.equal("ConsentGiven");
  });

  it("registers a resource only on the custodian's wallet signature: forged, altered, unsigned or a subject's changes nothing", async () => {
    const NEW = keccak256(toUtf8Bytes("new dataset"));
    const OTHER = keccak256(toUtf8Bytes("other dataset"));
    const NEW_PRODUCT = keccak256(toUtf8Bytes("new product"));
    const registration = { resourceId: NEW, kind: "dataset", productIds: [NEW_PRODUCT] };
    const post = (payload: unknown) => app.inject({ method: "POST", url: "/v1/operations", payload: payload as Record<string, unknown> });
    const forged = await post(await op(thief, seller, "RegisterResource", registration));
    expect(forged.json().error).to.equal("BAD_WALLET_SIGNATURE");
    const signed = await op(seller, seller, "RegisterResource", registration);
    expect((await post({ ...signed, arguments: { ...registration, resourceId: OTHER } })).json().error).to.equal("BAD_WALLET_SIGNATURE");
    expect((await post({ ...signed, signature: undefined })).statusCode).to.equal(400);
    // a subject's wallet, bound and signing genuinely, may not register a resource
    const bySubject = await post(await op(alice, alice, "RegisterResource", registration));
    expect(bySubject.json().message).to.contain("not one a subject's wallet may sign");
    for (const resourceId of [NEW, OTHER]) {
      const missing = await custodian.getResource(resourceId).then(
        () => null,
        (e: { code: string }) => e.code,
      );
      expect(missing).to.equal("NOT_FOUND");
    }
    // the custodian's wallet: registered with the custodian's MSP as controller, its subjects added
    const r = await post(signed);
    expect(r.statusCode, r.body).to.equal(200);
    expect(r.json()).to.deep.include({ resourceId: NEW, controllerMsp: "HospitalMSP", productIds: [NEW_PRODUCT] });
    const added = await post(await op(seller, seller, "AddResourceSubjects", { resourceId: NEW, subjectIds: ["alice-1"] }));
    expect(added.json().subjectCount, added.body).to.equal(1);
    expect((await post(signed)).json().error).to.equal("NONCE_USED");
    const me = (await signIn(seller)).json() as SessionAnswer;
    expect(me.bindings.map((b) => b.kind)).to.deep.equal(["custodian"]);
  });

  it("gives consent on the subject's signed operation, and never for another subject", async () => {
    const given = await app.inject({
      method: "POST",
      url: "/v1/operations",
      payload: await op(bob, bob, "GiveConsent", { ...terms("bob-1", ["ScientificResearch"]), resources: [PRODUCT] }),
    });
    expect(given.statusCode, given.body).to.equal(200);
    expect(given.json()).to.deep.include({ subjectId: "bob-1", status: "ConsentGiven" });
    const foreign = await app.inject({ method: "POST", url: "/v1/operations", payload: await op(bob, bob, "GiveConsent", terms("alice-1")) });
    expect(foreign.statusCode).to.equal(403);
    expect(foreign.json().error).to.equal("FORBIDDEN");
  });

  it("decides a buyer's signed access request on the ledger: released subjects, those left out by reason, the grant for the wallet; reads it back", async () => {
    const body = await op(lab, lab, "RequestAccess", { productId: PRODUCT, purpose: "ScientificResearch", ttlSeconds: 600 });
    const r = await app.inject({ method: "POST", url: "/v1/access-requests", payload: body });
    expect(r.statusCode, r.body).to.equal(200);
    const result = r.json() as AccessRequestResult;
    expect(result).to.deep.include({ decision: "approved", reasons: [], subjectsTotal: 2, releasedSubjects: ["bob-1"], resourceId: RESOURCE });
    expect(result.leftOut).to.deep.equal([{ reason: "WITHDRAWN", count: 1 }]);
    expect(result.grant?.buyer).to.equal(lab.address.toLowerCase());
    expect(result.grantId)
      .to.equal(result.grant?.grantId)
      .and.match(/^0x[0-9a-f]{64}$/);
    // replayed: refused on the ledger, no second decision
    expect((await app.inject({ method: "POST", url: "/v1/access-requests", payload: body })).json().error).to.equal("NONCE_USED");

    const token = await tokenOf(lab);
    const read = await app.inject({ method: "GET", url: `/v1/access-requests/${result.requestId}`, headers: bearer(token) });
    expect(read.statusCode, read.body).to.equal(200);
    expect(read.json() as AccessRequestStatus).to.deep.include({ requestId: result.requestId, decision: "approved", subjectsTotal: 2, subjectsReleased: 1 });
    expect((read.json() as AccessRequestStatus).grant?.status).to.equal("Open");
    // bob withdraws his consent on the product's resource: the grant reads Invalidated
    const bobs = (await custodian.listSubjectConsents("bob-1")).records.find((c) => c.resources.includes(RESOURCE) && c.status === "ConsentGiven")!;
    await app.inject({ method: "POST", url: "/v1/operations", payload: await op(bob, bob, "WithdrawConsent", { consentId: bobs.consentId }) });
    const after = (await app.inject({ method: "GET", url: `/v1/access-requests/${result.requestId}`, headers: bearer(token) })).json() as AccessRequestStatus;
    expect(after.grant).to.deep.include({ status: "Invalidated", invalidatedBy: "ConsentWithdrawn" });

    const denied = await app.inject({
      method: "POST",
      url: "/v1/access-requests",
      payload: await op(lab, lab, "RequestAccess", { productId: PRODUCT, purpose: "Marketing" }),
    });
    expect(denied.json() as AccessRequestResult).to.deep.include({ decision: "denied", grantId: null, releasedSubjects: [] });
    expect((denied.json() as AccessRequestResult).reasons.length).to.be.greaterThan(0);
    // a subject's wallet, or an operation that is not a request, is no buyer's request
    expect(
      (
        await app.inject({
          method: "POST",
          url: "/v1/access-requests",
          payload: await op(alice, alice, "RequestAccess", { productId: PRODUCT, purpose: "ScientificResearch" }),
        })
      ).statusCode,
    ).to.equal(409);
    expect(
      (await app.inject({ method: "POST", url: "/v1/access-requests", payload: await op(lab, lab, "WithdrawConsent", { consentId: bobs.consentId }) }))
        .statusCode,
    ).to.equal(400);
    const aliceToken = await tokenOf(alice);
    expect((await app.inject({ method: "GET", url: `/v1/access-requests/${result.requestId}`, headers: bearer(aliceToken) })).json().error).to.equal(
      "WALLET_NOT_BOUND",
    );
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
