// WalletContract: a wallet bound to a ledger party by the party's own identity, and operations and reads
// a relay submits for it, each checked on the ledger (binding, signature over the exact text, expiry,
// nonce, the transaction-time skew). The relay by itself can do nothing.
import { expect } from "chai";
import { Wallet } from "ethers";
import {
  ConsentLedgerClient,
  bindWallet,
  bindingTextFor,
  buildSiweMessage,
  canonicalJson,
  fabric,
  ledgerResource,
  partyOf,
  signedOperationText,
  type WalletBinding,
} from "@datamarket/consent-ledger";
import { toChecksumAddress } from "../src";
import { DATASET, DAY, PRODUCT, RESOURCE, World, expectCode, terms, world } from "./fixtures";

const LEDGER = "consent";

describe("WalletContract: wallets bound on the ledger, operations a relay submits for them", function () {
  this.timeout(60_000);
  let w: World;
  let relay: ConsentLedgerClient;
  let subjectIdentity: fabric.EnrolledIdentity;
  let subjectClient: ConsentLedgerClient;
  let buyerIdentity: fabric.EnrolledIdentity;
  let buyerClient: ConsentLedgerClient;
  const patient = new Wallet("0x" + "51".repeat(32));
  const lab = new Wallet("0x" + "52".repeat(32));
  const thief = new Wallet("0x" + "53".repeat(32));
  let subjectBinding: WalletBinding;
  let consentId: string;
  const now = () => w.ledger.clock.nowSeconds();

  beforeEach(async () => {
    w = await world();
    relay = w.ledger.client(await w.ledger.enroll("HospitalMSP", "consent-api", { "consent.role": "relay" }));
    subjectIdentity = await w.ledger.enroll("HospitalMSP", "patient-wallet", { "consent.role": "subject", "consent.subject": "subj-0001" });
    subjectClient = w.ledger.client(subjectIdentity);
    buyerIdentity = await w.ledger.enroll("ResearchMSP", "lab-wallet", {
      "consent.role": "buyer",
      "consent.buyerType": "PublicResearch",
      "consent.jurisdiction": "DE",
    });
    buyerClient = w.ledger.client(buyerIdentity);
    consentId = (await w.custodian.giveConsent(terms(w.ledger, { resources: [DATASET], purposes: ["ResearchAndDevelopment", "ServiceProvision"] }))).consentId;
    subjectBinding = await bindWallet(subjectClient, subjectIdentity, patient, { ledger: LEDGER, now: now() });
  });

  /** An operation signed by `signer` for `address` (the signer's unless given) under `binding`. */
  async function signed(
    signer: Wallet,
    binding: WalletBinding,
    operation: string,
    args: Record<string, unknown>,
    o: { expires?: number; nonce?: string; address?: string } = {},
  ) {
    const address = (o.address ?? signer.address).toLowerCase();
    const fields = {
      address,
      party: binding.party,
      operation,
      arguments: args,
      nonce:
        o.nonce ??
        "ab".repeat(8) +
          Math.floor(Math.random() * 2 ** 48)
            .toString(16)
            .padStart(16, "0"),
      expires: o.expires ?? now() + 120,
    };
    const text = signedOperationText({ ...fields, ledger: LEDGER, binding: binding.bindingId, arguments: canonicalJson(args) });
    return { ...fields, signature: await signer.signMessage(text) };
  }

  async function session(signer: Wallet, o: { issuedAt?: number; expires?: number; resources?: string[] } = {}) {
    const issuedAt = o.issuedAt ?? now();
    const message = buildSiweMessage({
      domain: "portal.example",
      address: toChecksumAddress(signer.address),
      statement: "Read my consents and access log on the consent ledger.",
      uri: "https://portal.example/consent",
      version: "1",
      chainId: 31337,
      nonce: "n0nce1234",
      issuedAt: new Date(issuedAt * 1000).toISOString(),
      expirationTime: new Date((o.expires ?? issuedAt + 900) * 1000).toISOString(),
      resources: o.resources ?? [ledgerResource(LEDGER)],
    });
    return { message, signature: await signer.signMessage(message) };
  }

  describe("binding", () => {
    it("binds a wallet to the subject identity that proves it, once, and emits WalletBound", async () => {
      expect(subjectBinding).to.deep.include({ address: patient.address.toLowerCase(), party: "subject:subj-0001", kind: "subject", subjectId: "subj-0001" });
      expect(subjectBinding.bindingId).to.match(/^0x[0-9a-f]{64}$/);
      const listed = await relay.listWalletBindings(patient.address);
      expect(listed.records).to.deep.equal([
        {
          bindingId: subjectBinding.bindingId,
          address: subjectBinding.address,
          party: "subject:subj-0001",
          kind: "subject",
          subjectId: "subj-0001",
          boundAt: subjectBinding.boundAt,
        },
      ]);
      await expectCode(bindWallet(subjectClient, subjectIdentity, patient, { ledger: LEDGER, now: now() }), "ALREADY_EXISTS");
      const events = await w.auditor.events(0n);
      const types: string[] = [];
      for await (const batch of events) {
        types.push(...batch.events.map((e) => e.type));
        if (types.includes("WalletBound")) break;
      }
      events.close();
      expect(types).to.include("WalletBound");
    });

    it("refuses a proof by another wallet, one made for another identity, an expired one, a custodian binding with a subject's proof, and binding by a relay", async () => {
      const expires = now() + 60;
      const text = bindingTextFor(subjectIdentity, lab.address, expires, LEDGER);
      // the thief signs, claiming the lab's address
      await expectCode(
        subjectClient.bindWallet({ address: lab.address, expires, signature: await thief.signMessage(text) }),
        "BAD_WALLET_SIGNATURE",
        thief.address.toLowerCase(),
      );
      // the lab's wallet signed a proof for another identity: worthless to this one
      const other = bindingTextFor(buyerIdentity, lab.address, expires, LEDGER);
      await expectCode(subjectClient.bindWallet({ address: lab.address, expires, signature: await lab.signMessage(other) }), "BAD_WALLET_SIGNATURE");
      const stale = now() - 1;
      await expectCode(
        subjectClient.bindWallet({
          address: lab.address,
          expires: stale,
          signature: await lab.signMessage(bindingTextFor(subjectIdentity, lab.address, stale, LEDGER)),
        }),
        "SIGNATURE_EXPIRED",
      );
      // a custodian binds its own wallet (below), never with a proof made for another identity
      await expectCode(w.custodian.bindWallet({ address: lab.address, expires, signature: await lab.signMessage(text) }), "BAD_WALLET_SIGNATURE");
      await expectCode(relay.bindWallet({ address: lab.address, expires, signature: await lab.signMessage(text) }), "FORBIDDEN");
      expect((await relay.listWalletBindings(lab.address)).records).to.deep.equal([]);
    });

    it("unbinds by the party or its custodian; operations signed under the binding are refused afterwards", async () => {
      const op = await signed(patient, subjectBinding, "WithdrawConsent", { consentId });
      await w.custodian.unbindWallet(patient.address, "subj-0001");
      await expectCode(relay.submitSigned(op), "WALLET_NOT_BOUND");
      await expectCode(subjectClient.unbindWallet(patient.address), "WALLET_NOT_BOUND");
      expect((await w.custodian.getConsent(consentId)).status).to.equal("ConsentGiven");
      // bound again: a new binding id, so the old signature is worthless under it too
      const again = await bindWallet(subjectClient, subjectIdentity, patient, { ledger: LEDGER, now: now() });
      expect(again.bindingId).to.not.equal(subjectBinding.bindingId);
      await expectCode(relay.submitSigned(op), "BAD_WALLET_SIGNATURE");
      await subjectClient.unbindWallet(patient.address);
      expect((await relay.listWalletBindings(patient.address)).records).to.deep.equal([]);
    });
  });

  describe("relayed operations", () => {
    it("withdraws the subject's consent on the wallet's signature, exactly once (a replay is refused on the ledger)", async () => {
      const op = await signed(patient, subjectBinding, "WithdrawConsent", { consentId });
      const record = await relay.submitSigned<{ status: string }>(op);
      expect(record.status).to.equal("ConsentWithdrawn");
      await expectCode(relay.submitSigned(op), "NONCE_USED", op.nonce);
      // the same nonce under another operation is refused too: a nonce is the wallet's, not the operation's
      const renewed = (await w.custodian.giveConsent(terms(w.ledger, { resources: [RESOURCE] }))).consentId;
      await expectCode(relay.submitSigned(await signed(patient, subjectBinding, "WithdrawConsent", { consentId: renewed }, { nonce: op.nonce })), "NONCE_USED");
      expect((await w.custodian.getConsent(renewed)).status).to.equal("ConsentGiven");
    });

    it("refuses a wrong signer, arguments changed after signing, an expired operation and one expiring too far ahead, changing nothing", async () => {
      await expectCode(
        relay.submitSigned(await signed(thief, subjectBinding, "WithdrawConsent", { consentId }, { address: patient.address })),
        "BAD_WALLET_SIGNATURE",
      );
      const other = (await w.custodian.giveConsent(terms(w.ledger, { resources: [RESOURCE] }))).consentId;
      const op = await signed(patient, subjectBinding, "WithdrawConsent", { consentId });
      await expectCode(relay.submitSigned({ ...op, arguments: { consentId: other } }), "BAD_WALLET_SIGNATURE");
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "WithdrawConsent", { consentId }, { expires: now() - 1 })),
        "SIGNATURE_EXPIRED",
      );
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "WithdrawConsent", { consentId }, { expires: now() + 3_600 })),
        "INVALID_ARGUMENT",
        "more than 600 s",
      );
      // a wallet bound to no party, and an operation a subject's wallet may not sign
      await expectCode(relay.submitSigned(await signed(thief, subjectBinding, "WithdrawConsent", { consentId })), "WALLET_NOT_BOUND");
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "RequestAccess", { resourceId: DATASET, purpose: "ScientificResearch" })),
        "INVALID_ARGUMENT",
      );
      expect((await w.custodian.getConsent(consentId)).status).to.equal("ConsentGiven");
      expect((await w.custodian.getConsent(other)).status).to.equal("ConsentGiven");
    });

    it("keeps the expiry under the timestamp-skew check: a relay cannot move the transaction time past the peer's bound", async () => {
      const op = await signed(patient, subjectBinding, "WithdrawConsent", { consentId }, { expires: now() + 30 });
      // a relay whose proposals are timestamped 10 minutes ago, to revive an expired operation, is refused before anything runs
      const lagging = w.ledger.client(await w.ledger.enroll("HospitalMSP", "lagging-api", { "consent.role": "relay" }), {
        clock: () => w.ledger.clock.now() - 600_000,
      });
      w.ledger.clock.advance(60);
      await expectCode(lagging.submitSigned(op), "TIMESTAMP_SKEW");
      await expectCode(relay.submitSigned(op), "SIGNATURE_EXPIRED");
      expect((await w.custodian.getConsent(consentId)).status).to.equal("ConsentGiven");
    });

    it("narrows a consent (drops a purpose, an earlier end) and refuses a widening", async () => {
      const end = now() + 30 * DAY;
      const narrowed = await relay.submitSigned<{ purposes: string[]; validUntil: number; version: number }>(
        await signed(patient, subjectBinding, "NarrowConsent", { consentId, purposes: ["ResearchAndDevelopment"], validUntil: end }),
      );
      expect(narrowed).to.deep.include({ purposes: ["ResearchAndDevelopment"], validUntil: end, version: 2 });
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "NarrowConsent", { consentId, purposes: ["Marketing"] })),
        "INVALID_ARGUMENT",
        "cannot add purpose",
      );
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "NarrowConsent", { consentId, validUntil: end + 1 })),
        "INVALID_ARGUMENT",
        "cannot extend",
      );
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "NarrowConsent", { consentId, legalBasis: "A6-1-a" })),
        "INVALID_ARGUMENT",
        "cannot change legalBasis",
      );
      // a purpose a listed one covers, a country a listed group covers: still a narrowing
      const finer = await relay.submitSigned<{ purposes: string[]; jurisdictions: string[] }>(
        await signed(patient, subjectBinding, "NarrowConsent", { consentId, purposes: ["ScientificResearch"], jurisdictions: ["DE"] }),
      );
      expect(finer).to.deep.include({ purposes: ["ScientificResearch"], jurisdictions: ["DE"] });
    });

    it("gives consent for the subject itself and answers a pending request; never for another subject", async () => {
      const given = await relay.submitSigned<{ status: string; subjectId: string }>(
        await signed(patient, subjectBinding, "GiveConsent", { ...terms(w.ledger, { resources: [RESOURCE] }) }),
      );
      expect(given).to.deep.include({ status: "ConsentGiven", subjectId: "subj-0001" });
      const pending = await w.custodian.requestConsent(terms(w.ledger, { resources: [PRODUCT] }));
      const answered = await relay.submitSigned<{ status: string }>(await signed(patient, subjectBinding, "GiveConsent", { consentId: pending.consentId }));
      expect(answered.status).to.equal("ConsentGiven");
      const refused = await w.custodian.requestConsent(terms(w.ledger, { resources: [PRODUCT] }));
      expect(
        (await relay.submitSigned<{ status: string }>(await signed(patient, subjectBinding, "RefuseConsent", { consentId: refused.consentId }))).status,
      ).to.equal("ConsentRefused");
      await w.custodian.giveConsent(terms(w.ledger, { subjectId: "subj-0002" }));
      await expectCode(
        relay.submitSigned(await signed(patient, subjectBinding, "GiveConsent", { ...terms(w.ledger, { subjectId: "subj-0002" }) })),
        "FORBIDDEN",
      );
    });

    it("decides a buyer's request signed by its bound wallet: the grant names the wallet, proven by the binding", async () => {
      await w.custodian.registerResource(DATASET, "dataset", [PRODUCT]);
      await w.custodian.addResourceSubjects(DATASET, ["subj-0001"]);
      const binding = await bindWallet(buyerClient, buyerIdentity, lab, { ledger: LEDGER, now: now() });
      expect(binding.party).to.equal(partyOf(buyerIdentity));
      const decision = await relay.submitSigned<{ decision: string; txId: string; grant: { buyer: string; addressProof: string; grantId: string } }>(
        await signed(lab, binding, "RequestAccess", { productId: PRODUCT, purpose: "ScientificResearch" }),
      );
      expect(decision.decision).to.equal("approved");
      expect(decision.grant).to.deep.include({ buyer: lab.address.toLowerCase(), addressProof: "wallet" });
      // the buyer's own identity sees it in its log, and by its request id
      expect((await buyerClient.getAccessRequest(decision.txId)).grantId).to.equal(decision.grant.grantId);
      await expectCode(w.company.getAccessRequest(decision.txId), "NOT_FOUND");
      // a buyer's wallet names no other address, and may not sign a subject's operation
      await expectCode(
        relay.submitSigned(
          await signed(lab, binding, "RequestAccess", { productId: PRODUCT, purpose: "ScientificResearch", ethAddress: thief.address.toLowerCase() }),
        ),
        "INVALID_ARGUMENT",
      );
      await expectCode(relay.submitSigned(await signed(lab, binding, "WithdrawConsent", { consentId })), "INVALID_ARGUMENT");
      // and reads it back with a sign-in session
      const read = await relay.readWithSession<{ grantId: string }>(await session(lab), binding.party, "GetAccessRequest", { requestId: decision.txId });
      expect(read.grantId).to.equal(decision.grant.grantId);
      const grant = await relay.readWithSession<{ status: string }>(await session(lab), binding.party, "GetGrant", { grantId: decision.grant.grantId });
      expect(grant.status).to.equal("Open");
    });

    it("gives the relay by itself no power: it can neither act for nor read a subject, nor request access", async () => {
      await expectCode(relay.withdrawConsent(consentId), "FORBIDDEN");
      await expectCode(relay.listSubjectConsents("subj-0001"), "FORBIDDEN");
      await expectCode(relay.getConsent(consentId), "FORBIDDEN");
      await expectCode(relay.requestAccess({ resourceId: DATASET, purpose: "ScientificResearch", ethAddress: lab.address.toLowerCase() }), "FORBIDDEN");
      await expectCode(relay.giveConsent(terms(w.ledger)), "FORBIDDEN");
      // and a subject's or buyer's own identity cannot relay
      await expectCode(subjectClient.submitSigned(await signed(patient, subjectBinding, "WithdrawConsent", { consentId })), "FORBIDDEN");
      expect((await w.custodian.getConsent(consentId)).status).to.equal("ConsentGiven");
    });
  });

  describe("a custodian's wallet: resource registration relayed", () => {
    const hospital = new Wallet("0x" + "54".repeat(32));
    const clinic = new Wallet("0x" + "55".repeat(32));
    const STREAM = "0x" + "33".repeat(32);
    const OTHER_PRODUCT = "0x" + "a2".repeat(32);
    let custodianIdentity: fabric.EnrolledIdentity;
    let custodianBinding: WalletBinding;
    let clinicBinding: WalletBinding;

    beforeEach(async () => {
      custodianIdentity = await w.ledger.enroll("HospitalMSP", "studio-wallet", { "consent.role": "custodian" });
      custodianBinding = await bindWallet(w.ledger.client(custodianIdentity), custodianIdentity, hospital, { ledger: LEDGER, now: now() });
      const clinicIdentity = await w.ledger.enroll("ClinicMSP", "studio-wallet", { "consent.role": "custodian" });
      clinicBinding = await bindWallet(w.ledger.client(clinicIdentity), clinicIdentity, clinic, { ledger: LEDGER, now: now() });
    });

    it("binds a custodian identity's wallet to that identity", async () => {
      expect(custodianBinding).to.deep.include({
        address: hospital.address.toLowerCase(),
        kind: "custodian",
        subjectId: null,
        party: partyOf(custodianIdentity),
      });
      expect(custodianBinding.party).to.match(/^custodian:0x[0-9a-f]{64}$/);
      expect((await relay.listWalletBindings(hospital.address)).records.map((b) => b.kind)).to.deep.equal(["custodian"]);
    });

    it("registers a dataset with its products and adds and removes subjects, as the custodian itself would", async () => {
      const registered = await relay.submitSigned<{ controllerMsp: string; productIds: string[] }>(
        await signed(hospital, custodianBinding, "RegisterResource", { resourceId: DATASET, kind: "dataset", productIds: [PRODUCT] }),
      );
      expect(registered).to.deep.include({ controllerMsp: "HospitalMSP", productIds: [PRODUCT] });
      await relay.submitSigned(
        await signed(hospital, custodianBinding, "AddResourceSubjects", { resourceId: DATASET, subjectIds: ["subj-0001", "subj-0002"] }),
      );
      expect((await w.custodian.listResourceSubjects(DATASET)).records).to.deep.equal(["subj-0001", "subj-0002"]);
      const removed = await relay.submitSigned<{ subjectCount: number }>(
        await signed(hospital, custodianBinding, "RemoveResourceSubjects", { resourceId: DATASET, subjectIds: ["subj-0002"] }),
      );
      expect(removed.subjectCount).to.equal(1);
      // the same rules as the custodian's own transaction: a product licenses one resource, a stream holds one subject
      await expectCode(
        relay.submitSigned(await signed(hospital, custodianBinding, "RegisterResource", { resourceId: STREAM, kind: "stream", productIds: [PRODUCT] })),
        "ALREADY_EXISTS",
        PRODUCT,
      );
      await relay.submitSigned(
        await signed(hospital, custodianBinding, "RegisterResource", { resourceId: STREAM, kind: "stream", productIds: [OTHER_PRODUCT] }),
      );
      await expectCode(
        relay.submitSigned(await signed(hospital, custodianBinding, "AddResourceSubjects", { resourceId: STREAM, subjectIds: ["subj-0001", "subj-0002"] })),
        "DATASET_TOO_LARGE",
      );
      // another custodian's wallet cannot touch the hospital's resource
      await expectCode(
        relay.submitSigned(await signed(clinic, clinicBinding, "AddResourceSubjects", { resourceId: DATASET, subjectIds: ["subj-0003"] })),
        "FORBIDDEN",
        "HospitalMSP",
      );
      expect((await w.custodian.listResourceSubjects(DATASET)).records).to.deep.equal(["subj-0001"]);
    });

    it("refuses a registration signed by a subject's or a buyer's wallet, or forged, registering nothing", async () => {
      const args = { resourceId: DATASET, kind: "dataset", productIds: [PRODUCT] };
      await expectCode(relay.submitSigned(await signed(patient, subjectBinding, "RegisterResource", args)), "INVALID_ARGUMENT", "subject's wallet");
      const buyerBinding = await bindWallet(buyerClient, buyerIdentity, lab, { ledger: LEDGER, now: now() });
      await expectCode(relay.submitSigned(await signed(lab, buyerBinding, "RegisterResource", args)), "INVALID_ARGUMENT", "buyer's wallet");
      await expectCode(
        relay.submitSigned(await signed(thief, custodianBinding, "RegisterResource", args, { address: hospital.address })),
        "BAD_WALLET_SIGNATURE",
      );
      // nor can a custodian's wallet sign a subject's or a buyer's operation
      await expectCode(relay.submitSigned(await signed(hospital, custodianBinding, "WithdrawConsent", { consentId })), "INVALID_ARGUMENT");
      await expectCode(
        relay.submitSigned(await signed(hospital, custodianBinding, "RequestAccess", { productId: PRODUCT, purpose: "ScientificResearch" })),
        "INVALID_ARGUMENT",
      );
      await expectCode(w.custodian.getResource(DATASET), "NOT_FOUND");
      expect((await w.custodian.getConsent(consentId)).status).to.equal("ConsentGiven");
    });

    it("refuses a replayed, an expired and an unbound custodian's registration", async () => {
      const op = await signed(hospital, custodianBinding, "RegisterResource", { resourceId: DATASET, kind: "dataset" });
      await relay.submitSigned(op);
      await expectCode(relay.submitSigned(op), "NONCE_USED", op.nonce);
      await expectCode(
        relay.submitSigned(await signed(hospital, custodianBinding, "RegisterResource", { resourceId: STREAM, kind: "stream" }, { expires: now() - 1 })),
        "SIGNATURE_EXPIRED",
      );
      const later = await signed(hospital, custodianBinding, "RegisterResource", { resourceId: STREAM, kind: "stream" });
      await w.ledger.client(custodianIdentity).unbindWallet(hospital.address);
      await expectCode(relay.submitSigned(later), "WALLET_NOT_BOUND");
      await expectCode(w.custodian.getResource(STREAM), "NOT_FOUND");
    });
  });

  describe("reads with an EIP-4361 session", () => {
    it("reads the subject's consents and access log for a wallet that signed in", async () => {
      const s = await session(patient);
      const page = await relay.readWithSession<{ records: Array<{ consentId: string }> }>(s, "subject:subj-0001", "ListSubjectConsents", {});
      expect(page.records.map((r) => r.consentId)).to.deep.equal([consentId]);
      const log = await relay.readWithSession<{ records: unknown[] }>(s, "subject:subj-0001", "ListAccessBySubject", {});
      expect(log.records).to.deep.equal([]);
      const one = await relay.readWithSession<{ consentId: string }>(s, "subject:subj-0001", "GetConsent", { consentId });
      expect(one.consentId).to.equal(consentId);
      const history = await relay.readWithSession<unknown[]>(s, "subject:subj-0001", "GetConsentHistory", { consentId });
      expect(history).to.have.length(1);
    });

    it("refuses an expired session, one too long, one for another ledger, one by another wallet, a party it is not bound to, an unknown query", async () => {
      await expectCode(
        relay.readWithSession(await session(patient, { issuedAt: now() - 1_000, expires: now() - 10 }), "subject:subj-0001", "ListSubjectConsents"),
        "SIGNATURE_EXPIRED",
      );
      await expectCode(
        relay.readWithSession(await session(patient, { expires: now() + 7_200 }), "subject:subj-0001", "ListSubjectConsents"),
        "INVALID_ARGUMENT",
        "more than 3600 s",
      );
      await expectCode(
        relay.readWithSession(await session(patient, { resources: ["urn:datamarket:consent-ledger:elsewhere"] }), "subject:subj-0001", "ListSubjectConsents"),
        "INVALID_ARGUMENT",
        "does not name this ledger",
      );
      const s = await session(patient);
      await expectCode(
        relay.readWithSession({ ...s, signature: (await session(thief)).signature }, "subject:subj-0001", "ListSubjectConsents"),
        "BAD_WALLET_SIGNATURE",
      );
      await expectCode(relay.readWithSession(await session(thief), "subject:subj-0001", "ListSubjectConsents"), "WALLET_NOT_BOUND");
      await expectCode(relay.readWithSession(s, "subject:subj-0002", "ListSubjectConsents"), "WALLET_NOT_BOUND");
      await expectCode(relay.readWithSession(s, "subject:subj-0001", "EraseSubjectDetails"), "INVALID_ARGUMENT");
      await expectCode(
        relay.readWithSession({ message: "hello", signature: s.signature }, "subject:subj-0001", "ListSubjectConsents"),
        "INVALID_ARGUMENT",
        "not an EIP-4361 message",
      );
    });
  });
});
