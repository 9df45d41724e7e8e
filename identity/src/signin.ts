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

/** What a verified presentation proves, as a policy reads it: the credential type and the disclosed claims. */
export interface ProvenClaims {
  vct: string;
  claims: Readonly<Record<string, unknown>>;
}

export interface SignInPresentation {
  /** the address the EIP-4361 message was signed by (verified by the caller) */
  address: string;
  /** the EIP-4361 session nonce: the presentation's key-binding nonce must be this one */
  nonce: string;
  /** the SD-JWT VC presentation */
  presentation: string;
  /** credential types accepted */
  credentialTypes: readonly string[];
  /** claims that must be disclosed (default none) */
  requiredClaims?: readonly string[];
  /** claims that are returned when disclosed */
  optionalClaims?: readonly string[];
}

/**
 * Verifies a presentation made at sign-in, before any policy is applied (a broker learns which streams a
 * session will ask for only later): every check of §6 on the claims named, then the credential must be
 * held by the signed-in address (did:pkh of it, key binding with the account key). The nonce must be
 * known to the verifier's nonce store (issue it there, or `register` it); it is consumed.
 */
export async function verifySignInPresentation(verifier: PresentationVerifier, signIn: SignInPresentation): Promise<VerifiedPresentation> {
  if (typeof signIn.address !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(signIn.address)) {
    throw new IdentityError("BAD_REQUEST", "address must be the 0x address that signed the EIP-4361 message");
  }
  return verifier.verify(signIn.presentation, {
    credentialTypes: signIn.credentialTypes,
    requiredClaims: signIn.requiredClaims ?? [],
    optionalClaims: signIn.optionalClaims,
    nonce: signIn.nonce,
    // checked before the nonce is consumed: a presentation of another account does not burn the session's nonce
    holderAddress: signIn.address,
  });
}

/** Why `proven` does not satisfy `policy` (WRONG_CREDENTIAL_TYPE, UNDISCLOSED_CLAIM, POLICY_NOT_SATISFIED), or null when it does. */
export function policyRefusal(proven: ProvenClaims, policy: CredentialPolicy): IdentityError | null {
  if (!policy.credentialTypes.includes(proven.vct)) {
    return new IdentityError("WRONG_CREDENTIAL_TYPE", `a ${proven.vct} was proven; the policy accepts ${policy.credentialTypes.join(", ")}`, {
      vct: proven.vct,
    });
  }
  for (const [claim, accepted] of Object.entries(policy.claims)) {
    const value = proven.claims[claim];
    if (value === undefined) return new IdentityError("UNDISCLOSED_CLAIM", `the policy needs ${claim}, which was not disclosed`, { missing: [claim] });
    if (accepted !== true && !accepted.includes(value as string | number)) {
      return new IdentityError("POLICY_NOT_SATISFIED", `${claim} ${String(value)} is not one of ${accepted.join(", ")}`, { claim, value });
    }
  }
  return null;
}

/** Checks a policy's shape (a configuration): credential types, and per claim `true` or a non-empty list of values; INVALID_CONFIG names the field. */
export function validateCredentialPolicy(policy: unknown, field = "policy"): CredentialPolicy {
  const invalid = (message: string, at = field) => new IdentityError("INVALID_CONFIG", `${at}: ${message}`, { field: at });
  if (typeof policy !== "object" || policy === null || Array.isArray(policy)) throw invalid("must be an object {credentialTypes, claims}");
  const { credentialTypes, claims } = policy as Record<string, unknown>;
  if (!Array.isArray(credentialTypes) || credentialTypes.length === 0 || !credentialTypes.every((type) => typeof type === "string" && type.length > 0)) {
    throw invalid("must be a non-empty list of credential types (vct)", `${field}.credentialTypes`);
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) throw invalid("must be an object of claim names", `${field}.claims`);
  for (const [claim, accepted] of Object.entries(claims)) {
    const ok =
      accepted === true ||
      (Array.isArray(accepted) && accepted.length > 0 && accepted.every((value) => typeof value === "string" || typeof value === "number"));
    if (!ok) throw invalid("must be true (any value) or a non-empty list of accepted values", `${field}.claims.${claim}`);
  }
  return policy as CredentialPolicy;
}

/**
 * Verifies a credential presented at sign-in against one policy: verifySignInPresentation on the policy's
 * claims, then the values the policy accepts (POLICY_NOT_SATISFIED otherwise).
 */
export async function verifyCredentialSignIn(verifier: PresentationVerifier, signIn: CredentialSignIn): Promise<VerifiedPresentation> {
  const verified = await verifySignInPresentation(verifier, {
    ...signIn,
    credentialTypes: signIn.policy.credentialTypes,
    requiredClaims: Object.keys(signIn.policy.claims),
  });
  const refusal = policyRefusal(verified, signIn.policy);
  if (refusal) throw refusal;
  return verified;
}
