// Credential sign-in beside EIP-4361: the broker verified the EIP-4361 message (its own verifier) and
// passes the address and the session nonce; the presentation must match both and satisfy the policy.
import { expect } from "chai";
import {
  ACCREDITED_RESEARCHERS,
  CredentialType,
  IdentityError,
  policyRefusal,
  validateCredentialPolicy,
  verifyCredentialSignIn,
  verifySignInPresentation,
} from "../src";
import { AUDIENCE, accreditationClaims, buyerHolder, useDeployment, type Deployment } from "./fixture";

describe("verifyCredentialSignIn", () => {
  let d: Deployment;
  useDeployment((deployed) => (d = deployed));

  async function researcherWith(buyerType = "PublicResearch") {
    const buyer = buyerHolder();
    const { credential } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: buyer.holder.did,
      holderKey: buyer.holder.publicKey,
      claims: accreditationClaims(buyer.address, buyerType),
    });
    return { ...buyer, credential };
  }

  it("accepts an accredited researcher signed in with the credential's own account, on the session nonce", async () => {
    const { holder, address, credential } = await researcherWith();
    const nonce = d.nonces.issue(); // the broker's EIP-4361 nonce: alphanumeric, 32 hex digits
    expect(nonce).to.match(/^[A-Za-z0-9]{8,}$/);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE });
    const verified = await verifyCredentialSignIn(d.verifier, { address, nonce, presentation, policy: ACCREDITED_RESEARCHERS });
    expect(verified.claims).to.deep.equal({ buyer_type: "PublicResearch", jurisdiction: "DE" });
    expect(verified.holder.ethAddress).to.equal(address);
  });

  it("accepts a nonce the broker issued itself once registered, and only once", async () => {
    const { holder, address, credential } = await researcherWith();
    const nonce = "brokerSession0001";
    d.nonces.register(nonce);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE });
    await verifyCredentialSignIn(d.verifier, { address, nonce, presentation, policy: ACCREDITED_RESEARCHERS });
    const replay = await verifyCredentialSignIn(d.verifier, { address, nonce, presentation, policy: ACCREDITED_RESEARCHERS }).catch((error) => error);
    expect(replay).to.be.instanceOf(IdentityError).with.property("code", "PRESENTATION_REPLAYED");
  });

  it("refuses a credential held by another account than the one signed in", async () => {
    const { holder, credential } = await researcherWith();
    const signedIn = buyerHolder().address;
    const nonce = d.nonces.issue();
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE });
    const error = await verifyCredentialSignIn(d.verifier, { address: signedIn, nonce, presentation, policy: ACCREDITED_RESEARCHERS }).catch((e) => e);
    expect(error).to.be.instanceOf(IdentityError).with.property("code", "HOLDER_NOT_SIGNED_IN");
    // refused before the nonce is consumed: the session's own holder can still use it
    d.nonces.check(nonce);
  });

  it("verifies a sign-in presentation before any policy (a broker's session), then tells which policies it satisfies", async () => {
    const { holder, address, credential } = await researcherWith("PrivateCompany");
    const nonce = d.nonces.issue();
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE });
    const verified = await verifySignInPresentation(d.verifier, {
      address,
      nonce,
      presentation,
      credentialTypes: [CredentialType.BuyerAccreditation],
      optionalClaims: ["buyer_type", "jurisdiction", "organisation_name"],
    });
    expect(verified.claims).to.deep.equal({ buyer_type: "PrivateCompany", jurisdiction: "DE" });
    expect(policyRefusal(verified, ACCREDITED_RESEARCHERS)?.code).to.equal("POLICY_NOT_SATISFIED");
    expect(policyRefusal(verified, { credentialTypes: [CredentialType.BuyerAccreditation], claims: { jurisdiction: ["DE", "NL"] } })).to.equal(null);
    expect(policyRefusal(verified, { credentialTypes: [CredentialType.Degree], claims: {} })?.code).to.equal("WRONG_CREDENTIAL_TYPE");
    expect(policyRefusal(verified, { credentialTypes: [CredentialType.BuyerAccreditation], claims: { organisation_name: true } })?.code).to.equal(
      "UNDISCLOSED_CLAIM",
    );
  });

  it("checks a policy's shape, naming the field", () => {
    expect(validateCredentialPolicy(ACCREDITED_RESEARCHERS)).to.equal(ACCREDITED_RESEARCHERS);
    const field = (policy: unknown) => {
      try {
        validateCredentialPolicy(policy, "policies.s1");
        return "accepted";
      } catch (e) {
        return (e as IdentityError).details.field;
      }
    };
    expect(field(null)).to.equal("policies.s1");
    expect(field({ credentialTypes: [], claims: {} })).to.equal("policies.s1.credentialTypes");
    expect(field({ credentialTypes: ["t"], claims: [] })).to.equal("policies.s1.claims");
    expect(field({ credentialTypes: ["t"], claims: { degree: [] } })).to.equal("policies.s1.claims.degree");
    expect(field({ credentialTypes: ["t"], claims: { degree: [{}] } })).to.equal("policies.s1.claims.degree");
    expect(field({ credentialTypes: ["t"], claims: { degree: true, eqf_level: [7, 8] } })).to.equal("accepted");
  });

  it("refuses a buyer type the stream's policy does not accept", async () => {
    const { holder, address, credential } = await researcherWith("PrivateCompany");
    const nonce = d.nonces.issue();
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE });
    const error = await verifyCredentialSignIn(d.verifier, { address, nonce, presentation, policy: ACCREDITED_RESEARCHERS }).catch((e) => e);
    expect(error).to.be.instanceOf(IdentityError).with.property("code", "POLICY_NOT_SATISFIED");
    expect(error.details).to.deep.equal({ claim: "buyer_type", value: "PrivateCompany" });
  });

  it("refuses a presentation whose nonce is not the session's, and one that hides the policy's claim", async () => {
    const { holder, address, credential } = await researcherWith();
    const session = d.nonces.issue();
    const other = d.nonces.issue();
    let presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: other, audience: AUDIENCE });
    expect(await verifyCredentialSignIn(d.verifier, { address, nonce: session, presentation, policy: ACCREDITED_RESEARCHERS }).catch((e) => e.code)).to.equal(
      "NONCE_UNKNOWN",
    );
    presentation = await holder.present(credential, { disclose: ["jurisdiction"], nonce: session, audience: AUDIENCE });
    expect(await verifyCredentialSignIn(d.verifier, { address, nonce: session, presentation, policy: ACCREDITED_RESEARCHERS }).catch((e) => e.code)).to.equal(
      "UNDISCLOSED_CLAIM",
    );
  });
});
