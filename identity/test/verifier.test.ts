// The presentation verifier: what it accepts (selective disclosure, key binding to nonce and audience)
// and every refusal the issue names, each with its typed error.
import { expect } from "chai";
import { SDJwt } from "@sd-jwt/core";
import { digest } from "@sd-jwt/crypto-nodejs";
import { CredentialType, Holder, IdentityError, type IdentityErrorCode } from "../src";
import { AUDIENCE, accreditationClaims, buyerHolder, buyerRequest, useDeployment, type Deployment } from "./fixture";

async function refusal(promise: Promise<unknown>): Promise<IdentityError> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(IdentityError);
    return error as IdentityError;
  }
  throw new Error("expected a refusal, but it was accepted");
}

async function expectRefused(promise: Promise<unknown>, code: IdentityErrorCode): Promise<IdentityError> {
  const error = await refusal(promise);
  expect(error.code, error.message).to.equal(code);
  return error;
}

describe("PresentationVerifier", () => {
  let d: Deployment;
  useDeployment((deployed) => (d = deployed));

  async function accredited(buyerType = "PublicResearch") {
    const { holder, address } = buyerHolder();
    const { credential, reference } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(address, buyerType),
    });
    return { holder, address, credential, reference };
  }

  it("accepts a presentation disclosing only buyer type and jurisdiction, and returns exactly those claims", async () => {
    const { holder, address, credential, reference } = await accredited();
    const request = buyerRequest(d);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE });
    // what travels: two disclosures; the organisation's name and the address are not in the presentation at all
    const decoded = await SDJwt.fromEncode(presentation, digest);
    expect((decoded.disclosures ?? []).map((disclosure) => disclosure.key)).to.have.members(["buyer_type", "jurisdiction"]);
    expect((await decoded.getClaims(digest)) as Record<string, unknown>).to.not.have.any.keys("organisation_name", "ethereum_address");

    const verified = await d.verifier.verify(presentation, request);
    expect(verified.claims).to.deep.equal({ buyer_type: "PublicResearch", jurisdiction: "DE" });
    expect(verified.issuer).to.equal(d.accreditation.id);
    expect(verified.holder).to.deep.equal({ did: holder.did, method: "pkh", ethAddress: address });
    expect(verified.reference).to.deep.equal(reference);
    expect(verified.credentialId).to.match(/^urn:uuid:/);
  });

  it("accepts a did:key holder (no wallet), bound with ES256", async () => {
    const holder = Holder.withNewDidKey();
    const { credential } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(undefined),
    });
    const request = buyerRequest(d);
    const verified = await d.verifier.verify(
      await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }),
      request,
    );
    expect(verified.holder).to.deep.equal({ did: holder.did, method: "key" });
    expect(holder.did).to.match(/^did:key:zDn/);
  });

  it("refuses a forged signature (the trusted issuer's id and kid, another key)", async () => {
    const { holder } = buyerHolder();
    const { credential } = await d.impostor.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(undefined),
    });
    const request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "INVALID_SIGNATURE",
    );
  });

  it("refuses a credential whose signed payload was altered", async () => {
    const { holder, credential } = await accredited();
    const [jwt, ...rest] = credential.split("~");
    const [header, payload, signature] = jwt.split(".");
    const altered = JSON.parse(Buffer.from(payload, "base64url").toString());
    altered.exp += 10 * 365 * 86400;
    const tampered = [[header, Buffer.from(JSON.stringify(altered)).toString("base64url"), signature].join("."), ...rest].join("~");
    const request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(await holder.present(tampered, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "INVALID_SIGNATURE",
    );
  });

  it("refuses an issuer outside the trust list, and a trusted issuer for a type it is not trusted for", async () => {
    const { holder } = buyerHolder();
    const { credential } = await d.untrusted.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(undefined),
    });
    let request = buyerRequest(d);
    const error = await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "ISSUER_NOT_TRUSTED",
    );
    expect(error.details.issuer).to.equal(d.untrusted.id);

    // the university is trusted for degrees and enrolments, not for patient links
    const patient = Holder.withNewDidKey();
    const link = await d.universityOutsideRemit.issue({
      vct: CredentialType.PatientCustodianLink,
      holder: patient.did,
      holderKey: patient.publicKey,
      claims: { subject_id: "patient-0001", custodian: "HospitalMSP", custodian_name: "University Hospital" },
    });
    request = { credentialTypes: [CredentialType.PatientCustodianLink], requiredClaims: ["subject_id"], nonce: d.nonces.issue() };
    const outside = await expectRefused(
      d.verifier.verify(await patient.present(link.credential, { disclose: ["subject_id"], nonce: request.nonce, audience: AUDIENCE }), request),
      "ISSUER_NOT_TRUSTED",
    );
    expect(outside.details).to.deep.equal({ issuer: d.university.id, vct: CredentialType.PatientCustodianLink });
  });

  it("refuses an expired credential, and one not yet valid", async () => {
    const { holder } = buyerHolder();
    const past = d.now() - 10 * 86400;
    const expired = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(undefined),
      validFrom: past,
      validitySeconds: 86400,
    });
    let request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(
        await holder.present(expired.credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }),
        request,
      ),
      "CREDENTIAL_EXPIRED",
    );

    const future = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(undefined),
      validFrom: d.now() + 86400,
    });
    request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(
        await holder.present(future.credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }),
        request,
      ),
      "CREDENTIAL_NOT_YET_VALID",
    );
  });

  it("refuses a credential revoked in its issuer's status list, and a suspended one until it is reinstated", async () => {
    const { holder, credential, reference } = await accredited();
    d.accreditation.suspend(reference.credentialId);
    let request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "CREDENTIAL_SUSPENDED",
    );
    d.accreditation.reinstate(reference.credentialId);
    request = buyerRequest(d);
    await d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request);
    d.accreditation.revoke(reference.credentialId);
    request = buyerRequest(d);
    const error = await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "CREDENTIAL_REVOKED",
    );
    expect(error.details).to.include({ uri: reference.statusListUri, idx: reference.statusListIndex });
    expect(() => d.accreditation.reinstate(reference.credentialId))
      .to.throw(IdentityError)
      .with.property("code", "CREDENTIAL_REVOKED");
  });

  it("refuses a replayed presentation (its nonce is single use)", async () => {
    const { holder, credential } = await accredited();
    const request = buyerRequest(d);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE });
    await d.verifier.verify(presentation, request);
    await expectRefused(d.verifier.verify(presentation, request), "PRESENTATION_REPLAYED");
    // replayed into a new request: the old nonce is still known as used
    await expectRefused(d.verifier.verify(presentation, buyerRequest(d)), "PRESENTATION_REPLAYED");
  });

  it("refuses a presentation made for another audience, even with this verifier's nonce", async () => {
    const { holder, credential } = await accredited();
    const request = buyerRequest(d);
    const presentation = await holder.present(credential, {
      disclose: ["buyer_type", "jurisdiction"],
      nonce: request.nonce,
      audience: "https://other-verifier.example",
    });
    const error = await expectRefused(d.verifier.verify(presentation, request), "WRONG_AUDIENCE");
    expect(error.details.audience).to.equal("https://other-verifier.example");
    // the refused presentation did not use up the nonce
    await d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request);
  });

  it("refuses a presentation that does not disclose a required claim", async () => {
    const { holder, credential } = await accredited();
    const request = buyerRequest(d);
    const error = await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type"], nonce: request.nonce, audience: AUDIENCE }), request),
      "UNDISCLOSED_CLAIM",
    );
    expect(error.details.missing).to.deep.equal(["jurisdiction"]);
  });

  it("refuses a nonce it never issued, a stale key-binding JWT and a credential of another type", async () => {
    const { holder, credential } = await accredited();
    await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: "0123456789abcdef", audience: AUDIENCE }), {
        ...buyerRequest(d),
        nonce: "0123456789abcdef",
      }),
      "NONCE_UNKNOWN",
    );
    let request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(
        await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE, issuedAt: d.now() - 3600 }),
        request,
      ),
      "KEY_BINDING_INVALID",
    );
    request = { ...buyerRequest(d), credentialTypes: [CredentialType.Enrolment] };
    await expectRefused(
      d.verifier.verify(await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "WRONG_CREDENTIAL_TYPE",
    );
  });

  it("refuses a credential presented by someone who does not hold its key", async () => {
    const { credential } = await accredited();
    const thief = buyerHolder().holder;
    const request = buyerRequest(d);
    await expectRefused(
      d.verifier.verify(await thief.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE }), request),
      "KEY_BINDING_INVALID",
    );
  });

  it("does not take an altered disclosure for a claim, and refuses an injected one", async () => {
    const { holder, address, credential } = await accredited("PrivateCompany");
    // the holder rewrites its own buyer_type disclosure and binds the result with its own key
    const parts = credential.split("~");
    const index = parts.findIndex((part, i) => i > 0 && part !== "" && Buffer.from(part, "base64url").toString().includes("buyer_type"));
    const disclosure = JSON.parse(Buffer.from(parts[index], "base64url").toString());
    parts[index] = Buffer.from(JSON.stringify([disclosure[0], "buyer_type", "PublicResearch"])).toString("base64url");
    let request = buyerRequest(d);
    const altered = await holder.present(parts.join("~"), { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE });
    const error = await expectRefused(d.verifier.verify(altered, request), "UNDISCLOSED_CLAIM");
    expect(error.details.missing).to.deep.equal(["buyer_type"]);

    // a disclosure added after the key binding breaks its sd_hash
    request = buyerRequest(d);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE });
    const segments = presentation.split("~");
    const injected = Buffer.from(JSON.stringify(["c2FsdHNhbHRzYWx0", "ethereum_address", address])).toString("base64url");
    await expectRefused(d.verifier.verify([segments[0], injected, ...segments.slice(1)].join("~"), request), "KEY_BINDING_INVALID");
  });

  it("fails closed when the status list cannot be fetched", async () => {
    const { holder, credential } = await accredited();
    const request = buyerRequest(d);
    const presentation = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: request.nonce, audience: AUDIENCE });
    const { StatusListResolver, PresentationVerifier } = await import("../src");
    const offline = new PresentationVerifier({
      trustList: d.trustList,
      audience: AUDIENCE,
      nonces: d.nonces,
      statusLists: new StatusListResolver({
        fetcher: async () => {
          throw new Error("connection refused");
        },
      }),
    });
    await expectRefused(offline.verify(presentation, request), "STATUS_UNAVAILABLE");
  });

  it("refuses garbage with MALFORMED_PRESENTATION", async () => {
    await expectRefused(d.verifier.verify("not-an-sd-jwt", buyerRequest(d)), "MALFORMED_PRESENTATION");
    await expectRefused(d.verifier.verify("x".repeat(70_000), buyerRequest(d)), "MALFORMED_PRESENTATION");
    const { holder, credential } = await accredited();
    // a credential without a key-binding JWT
    const withoutKb = await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce: "abcdefgh12345678", audience: AUDIENCE });
    await expectRefused(d.verifier.verify(withoutKb.slice(0, withoutKb.lastIndexOf("~") + 1), buyerRequest(d)), "MALFORMED_PRESENTATION");
  });
});
