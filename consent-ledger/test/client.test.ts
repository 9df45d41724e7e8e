// The consent client over the in-process ledger (conflicts, determinism, events) and the
// fabric-gateway 1.11 backend as far as it can be exercised without a peer.
import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { Wallet } from "ethers";
import {
  ConsentClientError,
  ConsentLedgerClient,
  EVENT_NAME,
  InProcessConsentLedger,
  connectFabricGateway,
  decodeConsentEvent,
  fabric,
  toClientError,
  validateFabricGatewayConfig,
  type ConsentTermsInput,
  type FabricGatewayConfig,
} from "../src";

const RESOURCE = "0x" + "33".repeat(32);
const buyerWallet = new Wallet("0x" + "51".repeat(32));

async function setUp() {
  const ledger = await InProcessConsentLedger.create();
  const custodianIdentity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
  const custodian = ledger.client(custodianIdentity);
  const buyerIdentity = await ledger.enroll("ResearchMSP", "lab", {
    "consent.role": "buyer",
    "consent.buyerType": "PublicResearch",
    "consent.jurisdiction": "NL",
    "consent.ethAddress": buyerWallet.address,
  });
  const buyer = ledger.client(buyerIdentity);
  const auditor = ledger.client(await ledger.enroll("AuditMSP", "auditor", { "consent.role": "auditor" }));
  const terms = (subjectId: string): ConsentTermsInput => ({
    subjectId,
    controller: "University Hospital",
    resources: [RESOURCE],
    purposes: ["ScientificResearch"],
    dataCategories: ["PhysicalHealth"],
    buyerTypes: ["PublicResearch"],
    jurisdictions: ["EU"],
    legalBasis: "A9-2-a",
    validUntil: ledger.clock.nowSeconds() + 86_400,
    noticeHash: "0x" + "cd".repeat(32),
  });
  await custodian.registerResource(RESOURCE, "dataset");
  return { ledger, custodian, custodianIdentity, buyer, buyerIdentity, auditor, terms };
}

describe("ConsentLedgerClient (in-process)", () => {
  it("reports the loser of two concurrent changes to one consent as MVCC_READ_CONFLICT", async () => {
    const { custodian, terms } = await setUp();
    const consent = await custodian.giveConsent(terms("subj-1"));
    const results = await Promise.allSettled([
      custodian.withdrawConsent(consent.consentId),
      custodian.renewConsent(consent.consentId, consent.validUntil + 10),
    ]);
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    expect(results.filter((result) => result.status === "fulfilled")).to.have.length(1);
    expect(rejected).to.have.length(1);
    expect(rejected[0].reason).to.be.instanceOf(ConsentClientError);
    expect(rejected[0].reason.code).to.equal("MVCC_READ_CONFLICT");
  });

  it("serialises a withdrawal with concurrent requests: the request fails validation, the withdrawal commits", async () => {
    const { ledger, custodian, custodianIdentity, buyerIdentity, auditor, terms } = await setUp();
    await custodian.addResourceSubjects(RESOURCE, ["subj-1"]);
    const consent = await custodian.giveConsent(terms("subj-1"));
    const events = await auditor.events();
    const request = JSON.stringify({ resourceId: RESOURCE, purpose: "ScientificResearch", ethAddress: buyerWallet.address.toLowerCase() });
    const access = ledger.connect(buyerIdentity).getNetwork("consent").getContract("consent", "access");
    const withdrawal = await ledger
      .connect(custodianIdentity)
      .getNetwork("consent")
      .getContract("consent", "consent")
      .newProposal("WithdrawConsent", { arguments: [consent.consentId] })
      .endorse();
    const endorsedBefore = await access.newProposal("RequestAccess", { arguments: [request] }).endorse();
    // a request committed between the withdrawal's endorsement and its commit does not invalidate it
    const between = await access.newProposal("RequestAccess", { arguments: [request] }).endorse();
    expect((await (await between.submit()).getStatus()).successful).to.equal(true);
    expect((await (await withdrawal.submit()).getStatus()).successful).to.equal(true);
    // a request endorsed before the withdrawal and committed after it read the resource's epoch, which the
    // withdrawal wrote (and its member range, which the withdrawal changed: checked next, had the epoch not failed it)
    const status = await (await endorsedBefore.submit()).getStatus();
    expect(status.code).to.equal(fabric.TxValidationCode.MVCC_READ_CONFLICT);
    expect(toClientError(new fabric.CommitError(status.code, status.transactionId)).code).to.equal("MVCC_READ_CONFLICT");
    // the grant issued in between is void from the withdrawal on, and the withdrawal's event names it
    const grantId = JSON.parse(Buffer.from(between.getResult()).toString()).grant.grantId;
    expect(await auditor.getGrant(grantId)).to.deep.include({ status: "Invalidated", invalidatedBy: "ConsentWithdrawn" });
    const batches = [];
    for await (const batch of events) {
      batches.push(batch);
      if (batch.transactionId === withdrawal.getTransactionId()) break;
    }
    events.close();
    expect(batches.map((batch) => batch.events.map((event) => event.type))).to.deep.equal([["GrantIssued"], ["ConsentChanged", "GrantsInvalidated"]]);
    expect(batches[1].events[1]).to.deep.include({ grantIds: [grantId], resourceIds: [RESOURCE], consentId: consent.consentId });
  });

  it("lets only the custodian organisation's peers endorse a change to a consent (key-level endorsement policy)", async () => {
    const { ledger, custodian, custodianIdentity, terms } = await setUp();
    const consent = await custodian.giveConsent(terms("subj-1"));
    const contract = ledger.connect(custodianIdentity).getNetwork("consent").getContract("consent", "consent");
    const byBuyerPeers = await contract.newProposal("WithdrawConsent", { arguments: [consent.consentId], endorsingOrganizations: ["ResearchMSP"] }).endorse();
    const status = await (await byBuyerPeers.submit()).getStatus();
    expect(status.code).to.equal(fabric.TxValidationCode.ENDORSEMENT_POLICY_FAILURE);
    expect((await custodian.getConsent(consent.consentId)).status).to.equal("ConsentGiven");
    const byCustodianPeers = await contract
      .newProposal("WithdrawConsent", { arguments: [consent.consentId], endorsingOrganizations: ["HospitalMSP"] })
      .endorse();
    expect((await (await byCustodianPeers.submit()).getStatus()).successful).to.equal(true);
    try {
      await contract.newProposal("GetConsent", { arguments: [consent.consentId], endorsingOrganizations: ["NoSuchMSP"] }).evaluate();
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect((error as Error).message).to.contain("no endorsing peers for organisations [NoSuchMSP]");
    }
  });

  it("executes the same dataset access proposal twice to byte-identical read/write sets", async () => {
    const { ledger, custodian, buyerIdentity, terms } = await setUp();
    const subjects = Array.from({ length: 25 }, (_, i) => `subj-${i + 10}`);
    await custodian.addResourceSubjects(RESOURCE, subjects);
    for (const subjectId of subjects.slice(0, 20)) {
      await custodian.giveConsent(terms(subjectId));
    }
    const contract = ledger.connect(buyerIdentity).getNetwork("consent").getContract("consent", "access");
    const proposal = contract.newProposal("RequestAccess", {
      arguments: [JSON.stringify({ resourceId: RESOURCE, purpose: "ScientificResearch", ethAddress: buyerWallet.address.toLowerCase() })],
    });
    const first = await ledger.peer.endorse(await proposal.getSignedProposal());
    const second = await ledger.peer.endorse(await proposal.getSignedProposal());
    expect(Buffer.from(first.readWriteSet).equals(Buffer.from(second.readWriteSet))).to.equal(true);
    expect(Buffer.from(first.response.payload).equals(Buffer.from(second.response.payload))).to.equal(true);
    expect(first.event && Buffer.from(first.event.payload).equals(Buffer.from(second.event!.payload))).to.equal(true);
    expect(JSON.parse(Buffer.from(first.response.payload).toString()).approvedSubjects).to.have.length(20);
  });

  it("streams decoded event batches a consent bridge can follow (grants, then their invalidation)", async () => {
    const { custodian, buyer, auditor, terms } = await setUp();
    const consent = await custodian.giveConsent(terms("subj-1"));
    await custodian.addResourceSubjects(RESOURCE, ["subj-1"]);
    const events = await auditor.events();
    const decision = await buyer.requestAccess({ resourceId: RESOURCE, purpose: "ScientificResearch", ethAddress: buyerWallet.address.toLowerCase() });
    await custodian.withdrawConsent(consent.consentId);
    const iterator = events[Symbol.asyncIterator]();
    const issued = (await iterator.next()).value;
    const withdrawn = (await iterator.next()).value;
    events.close();
    expect(issued.events).to.deep.equal([
      {
        type: "GrantIssued",
        grantId: decision.grant!.grantId,
        buyer: buyerWallet.address.toLowerCase(),
        productId: RESOURCE,
        resourceId: RESOURCE,
        purpose: "ScientificResearch",
        purposeId: decision.grant!.purposeId,
        issuedAt: decision.decidedAt,
        expiresAt: decision.grant!.expiresAt,
        attestationStructHash: decision.grant!.attestationStructHash,
        subjectCount: 1,
      },
    ]);
    expect(withdrawn.events.map((event: { type: string }) => event.type)).to.deep.equal(["ConsentChanged", "GrantsInvalidated"]);
    // the chaincode's event names the resource; the client reads which grants died from the ledger
    expect(withdrawn.events[1]).to.deep.include({ resourceIds: [RESOURCE], grantIds: [decision.grant!.grantId], cause: "ConsentWithdrawn" });
    expect(withdrawn.blockNumber).to.equal(issued.blockNumber + 1n);
    expect(decodeConsentEvent({ blockNumber: 1n, transactionId: "t", chaincodeName: "consent", eventName: "Other", payload: new Uint8Array() })).to.equal(null);
    expect(EVENT_NAME).to.equal("ConsentLedgerEvents");
  });

  it("maps errors of either backend to a ConsentClientError with a code", () => {
    expect(toClientError(new Error("chaincode response 500, NOT_FOUND: consent 0x01 does not exist")).code).to.equal("NOT_FOUND");
    // fabric-gateway's EndorseError puts the peer's message into details
    const gatewayError = Object.assign(new Error("10 ABORTED: failed to endorse transaction, see attached details for more info"), {
      name: "EndorseError",
      transactionId: "tx1",
      details: [{ message: "chaincode response 500, FORBIDDEN: caller Org2MSP has role (none), needs one of buyer" }],
    });
    const mapped = toClientError(gatewayError);
    expect(mapped.code).to.equal("FORBIDDEN");
    expect(mapped.transactionId).to.equal("tx1");
    expect(toClientError(Object.assign(new Error("commit failed"), { name: "CommitError", code: 11 })).code).to.equal("MVCC_READ_CONFLICT");
    expect(toClientError(Object.assign(new Error("commit failed"), { name: "CommitError", code: 10 })).code).to.equal("ENDORSEMENT_POLICY_FAILURE");
    expect(toClientError(Object.assign(new Error("commit failed"), { name: "CommitError", code: 14 })).code).to.equal("COMMIT_FAILED");
    expect(toClientError(new Error("14 UNAVAILABLE: No connection established")).code).to.equal("ENDORSEMENT_FAILED");
    expect(toClientError(mapped)).to.equal(mapped);
  });

  it("refuses a response that is not JSON", async () => {
    const client = new ConsentLedgerClient({
      getContract: () => ({ submit: async () => Buffer.from("<html>"), evaluate: async () => Buffer.from("<html>") }),
      getChaincodeEvents: async () => {
        throw new Error("unused");
      },
    });
    try {
      await client.getConsent("0x" + "00".repeat(32));
      expect.fail("expected BAD_RESPONSE");
    } catch (error) {
      expect((error as ConsentClientError).code).to.equal("BAD_RESPONSE");
    }
  });
});

describe("fabric-gateway 1.11 backend (no peer available here)", () => {
  let config: FabricGatewayConfig;
  before(async () => {
    const authority = await fabric.CertificateAuthority.create("HospitalMSP");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    config = {
      endpoint: "127.0.0.1:1",
      tlsCaCertificate: authority.certificatePem,
      mspId: "HospitalMSP",
      certificate: (await authority.enroll("registrar")).certificatePem,
      privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      channelName: "consent",
      timeouts: { evaluate: 2_000, endorse: 2_000, submit: 2_000, commitStatus: 2_000 },
    };
  });

  it("validates its configuration and names the bad field", () => {
    expect(() => validateFabricGatewayConfig(config)).to.not.throw();
    expect(() => validateFabricGatewayConfig({ ...config, endpoint: "grpcs://peer:7051" })).to.throw("endpoint must be host:port");
    expect(() => validateFabricGatewayConfig({ ...config, mspId: "" })).to.throw("mspId");
    expect(() => validateFabricGatewayConfig({ ...config, channelName: "" })).to.throw("channelName");
    expect(() => validateFabricGatewayConfig({ ...config, tlsCaCertificate: "not a pem" })).to.throw("tlsCaCertificate must be a PEM certificate");
    expect(() => validateFabricGatewayConfig({ ...config, certificate: "x" })).to.throw("certificate must be a PEM certificate");
    expect(() => validateFabricGatewayConfig({ ...config, privateKey: "x" })).to.throw("privateKey is not a PEM private key");
  });

  it("builds proposals, with the real fabric-gateway client, that the in-process peer executes", async () => {
    // fabric-gateway's offline signing: build, sign the digest, take the SignedProposal it would send
    const { connect: gatewayConnect } = await import("@hyperledger/fabric-gateway");
    const { gateway: gatewayProtos } = await import("@hyperledger/fabric-protos");
    const grpc = await import("@grpc/grpc-js");
    const ledger = await InProcessConsentLedger.create();
    const identity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
    const grpcClient = new grpc.Client("127.0.0.1:1", grpc.credentials.createInsecure());
    const realGateway = gatewayConnect({ client: grpcClient, identity: { mspId: identity.mspId, credentials: identity.credentials } });
    try {
      const contract = realGateway.getNetwork("consent").getContract("consent", "resource");
      const unsigned = contract.newProposal("RegisterResource", { arguments: [JSON.stringify({ resourceId: RESOURCE, kind: "stream" })] });
      const signed = realGateway.newSignedProposal(unsigned.getBytes(), await identity.signer(unsigned.getDigest()));
      const signedProposal = gatewayProtos.ProposedTransaction.deserializeBinary(signed.getBytes()).getProposal()!;
      const endorsement = await ledger.peer.endorse(signedProposal.serializeBinary());
      expect(endorsement.transactionId).to.equal(signed.getTransactionId());
      expect(JSON.parse(Buffer.from(endorsement.response.payload).toString())).to.deep.include({ resourceId: RESOURCE, controllerMsp: "HospitalMSP" });
      expect((await ledger.peer.submit(endorsement)).successful).to.equal(true);
    } finally {
      realGateway.close();
      grpcClient.close();
    }
  });

  it("connects lazily and reports an unreachable peer as ENDORSEMENT_FAILED", async () => {
    const connection = connectFabricGateway(config);
    try {
      expect(connection.network.getName()).to.equal("consent");
      await connection.client.getConsent("0x" + "00".repeat(32));
      expect.fail("expected a failure");
    } catch (error) {
      expect(error).to.be.instanceOf(ConsentClientError);
      expect((error as ConsentClientError).code).to.equal("ENDORSEMENT_FAILED");
      expect((error as Error).message).to.match(/UNAVAILABLE|DEADLINE_EXCEEDED/);
    } finally {
      connection.close();
    }
  });
});

describe("connectConsentLedger (backend chosen by configuration)", () => {
  it("uses the in-process ledger when so configured", async () => {
    const { connectConsentLedger, InProcessConsentLedger: Ledger } = await import("../src");
    const ledger = await Ledger.create();
    const identity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
    const { client, close } = connectConsentLedger({ kind: "in-process", ledger, identity });
    const resource = await client.registerResource("0x" + "44".repeat(32), "stream");
    expect(resource.controllerMsp).to.equal("HospitalMSP");
    close();
  });

  it("reads a fabric-gateway configuration from the environment, or none when no endpoint is set", async () => {
    const { fabricGatewayConfigFromEnv, connectConsentLedger } = await import("../src");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    expect(fabricGatewayConfigFromEnv({})).to.equal(null);
    const dir = mkdtempSync(join(tmpdir(), "consent-ledger-"));
    const authority = await fabric.CertificateAuthority.create("HospitalMSP");
    writeFileSync(join(dir, "ca.pem"), authority.certificatePem);
    writeFileSync(join(dir, "cert.pem"), (await authority.enroll("svc")).certificatePem);
    writeFileSync(join(dir, "key.pem"), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    const env = {
      CONSENT_LEDGER_ENDPOINT: "127.0.0.1:1",
      CONSENT_LEDGER_TLS_CA: join(dir, "ca.pem"),
      CONSENT_LEDGER_MSP_ID: "HospitalMSP",
      CONSENT_LEDGER_CERT: join(dir, "cert.pem"),
      CONSENT_LEDGER_KEY: join(dir, "key.pem"),
    };
    const config = fabricGatewayConfigFromEnv(env)!;
    expect(config).to.deep.include({ endpoint: "127.0.0.1:1", mspId: "HospitalMSP", channelName: "consent", chaincodeName: "consent" });
    const connection = connectConsentLedger({ kind: "fabric-gateway", ...config });
    connection.close();
    expect(() => fabricGatewayConfigFromEnv({ ...env, CONSENT_LEDGER_MSP_ID: "" })).to.throw("CONSENT_LEDGER_MSP_ID must be set");
    expect(() => fabricGatewayConfigFromEnv({ ...env, CONSENT_LEDGER_KEY: join(dir, "missing.pem") })).to.throw("CONSENT_LEDGER_KEY: cannot read");
  });
});
