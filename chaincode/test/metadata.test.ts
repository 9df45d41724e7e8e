// The contract metadata clients read is generated from the decorators, not written by hand.
import { expect } from "chai";
import { World, world } from "./fixtures";

describe("generated contract metadata", () => {
  let w: World;
  before(async () => {
    w = await world();
  });

  it("lists the five contracts, their transactions (submit or evaluate) and the record schemas", async () => {
    const identity = await w.ledger.enroll("AuditMSP", "reader", { "consent.role": "auditor" });
    const contract = w.ledger.connect(identity).getNetwork("consent").getContract("consent");
    const metadata = JSON.parse(Buffer.from(await contract.evaluateTransaction("org.hyperledger.fabric:GetMetadata")).toString());
    const transactions = (name: string) =>
      metadata.contracts[name].transactions
        .map((t: { name: string; tag?: string[] }) => `${t.name}:${(t.tag ?? []).includes("SUBMIT") ? "submit" : "evaluate"}`)
        .sort();
    expect(transactions("consent")).to.deep.equal([
      "EraseSubjectDetails:submit",
      "GetConsent:evaluate",
      "GetConsentHistory:evaluate",
      "GetSubject:evaluate",
      "GiveConsent:submit",
      "ListSubjectConsents:evaluate",
      "RefuseConsent:submit",
      "RenewConsent:submit",
      "RequestConsent:submit",
      "RevokeConsent:submit",
      "UpdateConsent:submit",
      "WithdrawConsent:submit",
    ]);
    expect(transactions("resource")).to.deep.equal([
      "AddResourceSubjects:submit",
      "GetResource:evaluate",
      "ListResourceSubjects:evaluate",
      "RegisterResource:submit",
      "RemoveResourceSubjects:submit",
    ]);
    expect(transactions("access")).to.deep.equal([
      "GetAccessRequest:evaluate",
      "GetGrant:evaluate",
      "ListAccessByBuyer:evaluate",
      "ListAccessBySubject:evaluate",
      "ListInvalidatedGrants:evaluate",
      "RequestAccess:submit",
    ]);
    expect(transactions("credential")).to.deep.equal([
      "GetCredential:evaluate",
      "ListCredentialInvalidatedGrants:evaluate",
      "RecordCredential:submit",
      "ReportCredentialStatus:submit",
    ]);
    expect(transactions("wallet")).to.deep.equal([
      "BindWallet:submit",
      "ListWalletBindings:evaluate",
      "ReadWithSession:evaluate",
      "SubmitSigned:submit",
      "UnbindWallet:submit",
    ]);
    expect(Object.keys(metadata.components.schemas)).to.include.members([
      "ConsentRecord",
      "AccessGrant",
      "AccessDecision",
      "ResourceRecord",
      "SubjectRecord",
      "DataCategory",
      "CredentialRecord",
      "CredentialHolder",
    ]);
    expect(Object.keys(metadata.components.schemas.AccessGrant.properties)).to.include.members([
      "grantId",
      "attestationStructHash",
      "expiresAt",
      "credentialRef",
      "credentialEpoch",
    ]);
  });

  it("refuses a transaction that does not exist", async () => {
    const identity = await w.ledger.enroll("AuditMSP", "reader2", { "consent.role": "auditor" });
    const contract = w.ledger.connect(identity).getNetwork("consent").getContract("consent", "consent");
    const outcome = await contract.evaluateTransaction("DeleteEverything").then(
      () => "ok",
      (error: Error) => error.message,
    );
    expect(outcome).to.contain("DeleteEverything");
  });
});
