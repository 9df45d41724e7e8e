// A credential's revocation under load (docs/consent.md §4b): while 50 identities resting on one credential
// keep requesting access, the status report that ends the credential's valid status must commit at its first
// try, no grant may be issued after it, and every grant issued before it must be named to followers and read
// Invalidated. The status report reads and writes single keys no request writes (credentials.ts), on the
// in-process ledger that validates MVCC and range reads as a Fabric peer does.
import { expect } from "chai";
import { ConsentLedgerClient, InProcessConsentLedger, fabric } from "@datamarket/consent-ledger";
import { BUYER_ADDRESS, buyerWallet, credentialReference, terms, whileRequesting } from "./fixtures";

/** Trials (each suspends the credential under load, then reinstates it; the last revokes it); CREDENTIAL_TRIALS overrides. */
const TRIALS = Number(process.env.CREDENTIAL_TRIALS ?? 50);
const BUYERS = 50;
/** An orderer BatchTimeout short enough for the trials, long enough for blocks of many transactions. */
const BATCH_TIMEOUT_MS = 20;
const STREAM = "0x" + "5e".repeat(32);

interface Trial {
  reportCode: number;
  reportTx: string;
  status: "suspended" | "revoked";
}

describe("credential revocation under load", function () {
  this.timeout(20 * 60_000);

  const credential = credentialReference("urn:uuid:load-0001", 4242);
  let ledger: InProcessConsentLedger;
  let checker: ConsentLedgerClient;
  let checkerContract: fabric.Contract;
  let auditor: ConsentLedgerClient;
  let buyers: ConsentLedgerClient[];
  let lastCheckedAt = 0;
  const checkedAt = () => (lastCheckedAt = Math.max(lastCheckedAt + 1, Date.now()));

  before(async () => {
    ledger = await InProcessConsentLedger.create({
      custodianMspIds: ["HospitalMSP"],
      otherMspIds: ["ResearchMSP", "AuditMSP"],
      batchTimeoutMs: BATCH_TIMEOUT_MS,
    });
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    const checkerIdentity = await ledger.enroll("ResearchMSP", "status-monitor", { "consent.role": "statuschecker" });
    checker = ledger.client(checkerIdentity);
    checkerContract = ledger.connect(checkerIdentity).getNetwork("consent").getContract("consent", "credential");
    auditor = ledger.client(await ledger.enroll("AuditMSP", "auditor", { "consent.role": "auditor" }));
    // the same holder onboarded 50 times (50 identities on one credential), as concurrent as requests get
    buyers = await Promise.all(
      Array.from({ length: BUYERS }, async (_, i) =>
        ledger.client(
          await ledger.enroll("ResearchMSP", `lab${i}`, {
            "consent.role": "buyer",
            "consent.buyerType": "PublicResearch",
            "consent.jurisdiction": "DE",
            "consent.ethAddress": buyerWallet.address,
            "consent.credentialRef": credential.hash,
          }),
        ),
      ),
    );
    for (const buyer of buyers) await buyer.recordCredential(credential);
    await custodian.registerResource(STREAM, "stream");
    await custodian.addResourceSubjects(STREAM, ["subj-load-cred"]);
    await custodian.giveConsent(terms(ledger, { subjectId: "subj-load-cred", resources: [STREAM] }));
  });

  /** One trial: 50 buyers requesting in a loop, one status report submitted once; then the credential reinstated. */
  async function trial(status: Trial["status"]): Promise<Trial> {
    const request = { resourceId: STREAM, purpose: "ScientificResearch", ethAddress: BUYER_ADDRESS };
    const outcome = await whileRequesting(buyers, request, BUYERS, async (): Promise<Trial> => {
      const report = JSON.stringify({ hash: credential.hash, status, checkedAt: checkedAt() });
      const proposal = await checkerContract.newProposal("ReportCredentialStatus", { arguments: [report] }).endorse();
      const committed = await (await proposal.submit()).getStatus();
      return { reportCode: committed.code, reportTx: committed.transactionId, status };
    });
    if (status === "suspended") {
      await checker.reportCredentialStatus({ hash: credential.hash, status: "valid", checkedAt: checkedAt() });
    }
    return outcome;
  }

  it(`commits the report that ends a credential's valid status at its first try in at least 99 % of ${TRIALS} trials while ${BUYERS} of its identities request access, and leaves no grant usable`, async function () {
    const startBlock = BigInt(ledger.peer.state.height);
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i += 1) {
      trials.push(await trial(i === TRIALS - 1 ? "revoked" : "suspended"));
    }
    const firstTry = trials.filter((t) => t.reportCode === fabric.TxValidationCode.VALID).length;
    const codes = trials.map((t) => fabric.validationCodeName(t.reportCode));
    this.test!.title += ` [${firstTry} of ${TRIALS} at the first try]`;
    expect(firstTry, `reports committed at the first try: ${firstTry} of ${TRIALS} (${JSON.stringify(codes)})`).to.be.at.least(Math.ceil(TRIALS * 0.99));

    // Every grant of the trials, as a follower sees it: issued while the credential was valid, then named by
    // the report that ended that valid status.
    const reports = new Map(trials.map((t) => [t.reportTx, t.status]));
    const issued = new Set<string>();
    const invalidatedBy = new Map<string, string>();
    const issuedWhileNotValid: string[] = [];
    let valid = true;
    let reportsSeen = 0;
    const events = await auditor.events(startBlock);
    for await (const batch of events) {
      for (const event of batch.events) {
        if (event.type === "GrantIssued") {
          issued.add(event.grantId);
          if (!valid) issuedWhileNotValid.push(event.grantId);
        } else if (event.type === "CredentialStatusChanged") {
          valid = event.status === "valid";
        } else if (event.type === "GrantsInvalidated" && reports.has(batch.transactionId)) {
          expect(event).to.include({
            credentialRef: credential.hash,
            cause: reports.get(batch.transactionId) === "revoked" ? "CredentialRevoked" : "CredentialSuspended",
          });
          event.grantIds.forEach((grantId) => invalidatedBy.set(grantId, batch.transactionId));
          reportsSeen += 1;
        }
      }
      if (reportsSeen === firstTry) {
        break;
      }
    }
    events.close();
    expect(issuedWhileNotValid, "grants issued while the credential was not valid").to.deep.equal([]);
    expect(issued.size).to.be.at.least(TRIALS * BUYERS);
    // the followers learn every grant that died (none left out), and the ledger reports each one invalidated
    const notInvalidated = [...issued].filter((grantId) => !invalidatedBy.has(grantId));
    expect(notInvalidated.length, `grants no report event names: ${notInvalidated.slice(0, 3).join(", ")}`).to.equal(0);
    for (const grantId of [...issued].filter((_, i) => i % 97 === 0)) {
      const grant = await auditor.getGrant(grantId);
      expect(grant.status, grantId).to.equal("Invalidated");
      expect(grant.invalidatedBy).to.equal(reports.get(invalidatedBy.get(grantId)!) === "revoked" ? "CredentialRevoked" : "CredentialSuspended");
    }
    // and the revoked credential's identities are refused from now on
    expect((await buyers[0].requestAccess({ resourceId: STREAM, purpose: "ScientificResearch", ethAddress: BUYER_ADDRESS })).reasons).to.deep.equal([
      "CREDENTIAL_REVOKED",
    ]);
  });
});
