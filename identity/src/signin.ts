// Sign-in with a credential, beside EIP-4361: where a stream's policy asks for it (say, "accredited
// public researchers only"), a broker or the consent API accepts a subscriber only if, in the same
// session, it presents a credential proving the claim. The caller has already verified the EIP-4361
// message (its own verifier); it passes the address that signed it and the session nonce. The
// presentation must carry that nonce and the caller's client_id as audience, be held by that very
// address (did:pkh, key binding with the account key), and disclose claims the policy accepts.
import { IdentityError } from "./errors";
import type { PresentationVerifier, VerifiedPresentation } from "./verifier";

/** A stream's credential policy: the credential types accepted and, per claim, the values accepted (true: any valid value). */
export interface CredentialPolicy {
  credentialTypes: readonly string[];
  claims: Readonly<Record<string, readonly (string | number)[] | true>>;
}

export interface CredentialSignIn {
  /** the address the EIP-4361 message was signed by (verified by the caller) */
  address: string;
  /** the EIP-4361 session nonce: the presentation's key-binding nonce must be this one */
  nonce: string;
  /** the SD-JWT VC presentation */
  presentation: string;
  policy: CredentialPolicy;
}

/** Accredited public researchers in the EEA (an example policy; docs/identity.md §9). */
export const ACCREDITED_RESEARCHERS: CredentialPolicy = {
  credentialTypes: ["urn:datamarket:credential:buyer-accreditation:1"],
  claims: { buyer_type: ["PublicResearch"], jurisdiction: true },
};

/**
 * Verifies a credential presented at sign-in. The nonce must be known to the verifier's nonce store
 * (issue the EIP-4361 nonce with `verifier.nonces.issue()`, or `register` it); it is consumed.
 */
export async function verifyCredentialSignIn(verifier: PresentationVerifier, signIn: CredentialSignIn): Promise<VerifiedPresentation> {
  if (typeof signIn.address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(signIn.address)) {
    throw new IdentityError("BAD_REQUEST", "address must be the 0x address that signed the EIP-4361 message");
  }
  const verified = await verifier.verify(signIn.presentation, {
    credentialTypes: signIn.policy.credentialTypes,
    requiredClaims: Object.keys(signIn.policy.claims),
    nonce: signIn.nonce,
  });
  if (verified.holder.ethAddress !== signIn.address.toLowerCase()) {
    throw new IdentityError("HOLDER_NOT_SIGNED_IN", `the credential is held by ${verified.holder.did}, not by the signed-in ${signIn.address.toLowerCase()}`, { holder: verified.holder.did });
  }
  for (const [claim, accepted] of Object.entries(signIn.policy.claims)) {
    if (accepted !== true && !accepted.includes(verified.claims[claim] as string | number)) {
      throw new IdentityError("POLICY_NOT_SATISFIED", `${claim} ${String(verified.claims[claim])} is not one of ${accepted.join(", ")}`, { claim, value: verified.claims[claim] });
    }
  }
  return verified;
}
