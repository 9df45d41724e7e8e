// Errors of the identity package: one class, a code a caller can act on, the values that explain it,
// and the original error kept as `cause`. The verifier service answers { code, message, details } with
// the HTTP status of httpStatusOf(code). The codes are documented in docs/identity.md §8.
import { DataMarketError } from "@datamarket/protocol";

export const IdentityErrorCodes = {
  /** A configuration (trust list, profile, service option) breaks a rule; `details.field` names it. */
  INVALID_CONFIG: "INVALID_CONFIG",
  /** Claims that do not match the credential type's schema (at issuance, or disclosed by a presentation). */
  INVALID_CLAIMS: "INVALID_CLAIMS",
  /** A holder DID whose method or key type this deployment does not accept, or that does not resolve. */
  UNSUPPORTED_DID: "UNSUPPORTED_DID",
  /** The credential's confirmation key (cnf.jwk) is not a key of the holder DID it names. */
  HOLDER_BINDING_MISMATCH: "HOLDER_BINDING_MISMATCH",
  /** Not an SD-JWT VC presentation with a key-binding JWT (bad encoding, header, typ or algorithm). */
  MALFORMED_PRESENTATION: "MALFORMED_PRESENTATION",
  /** The issuer's signature over the credential does not verify with the trusted key. */
  INVALID_SIGNATURE: "INVALID_SIGNATURE",
  /** The issuer is not in the trust list, not trusted for this credential type, or signed with an unknown key. */
  ISSUER_NOT_TRUSTED: "ISSUER_NOT_TRUSTED",
  /** The credential's `exp` has passed. */
  CREDENTIAL_EXPIRED: "CREDENTIAL_EXPIRED",
  /** The credential's `nbf` (or `iat`) is in the future. */
  CREDENTIAL_NOT_YET_VALID: "CREDENTIAL_NOT_YET_VALID",
  /** The issuer's status list marks the credential invalid (revoked). */
  CREDENTIAL_REVOKED: "CREDENTIAL_REVOKED",
  /** The issuer's status list marks the credential suspended. */
  CREDENTIAL_SUSPENDED: "CREDENTIAL_SUSPENDED",
  /** The status list could not be fetched or verified: the verifier fails closed. */
  STATUS_UNAVAILABLE: "STATUS_UNAVAILABLE",
  /** The key-binding JWT does not verify, does not hash the presented disclosures, or is stale. */
  KEY_BINDING_INVALID: "KEY_BINDING_INVALID",
  /** The presentation's nonce was never issued by this verifier, or has expired. */
  NONCE_UNKNOWN: "NONCE_UNKNOWN",
  /** The presentation's nonce has already been used: a replay. */
  PRESENTATION_REPLAYED: "PRESENTATION_REPLAYED",
  /** The key-binding JWT names another audience than this verifier. */
  WRONG_AUDIENCE: "WRONG_AUDIENCE",
  /** The credential is not of a type the request accepts. */
  WRONG_CREDENTIAL_TYPE: "WRONG_CREDENTIAL_TYPE",
  /** A claim the request needs was not disclosed. */
  UNDISCLOSED_CLAIM: "UNDISCLOSED_CLAIM",
  /** A disclosed claim's value is not one the policy accepts (e.g. buyer type not a researcher). */
  POLICY_NOT_SATISFIED: "POLICY_NOT_SATISFIED",
  /** Sign-in: the credential's holder is not the address that signed the EIP-4361 message. */
  HOLDER_NOT_SIGNED_IN: "HOLDER_NOT_SIGNED_IN",
  /** A request body that does not decode, or lacks / mistypes a field. */
  BAD_REQUEST: "BAD_REQUEST",
  /** The onboarding request (`state`) is unknown, expired or already answered. */
  UNKNOWN_REQUEST: "UNKNOWN_REQUEST",
  /** Too many onboarding requests are pending; retry later. */
  TOO_MANY_PENDING: "TOO_MANY_PENDING",
  /** The ledger refused or failed the enrolment (the cause is kept). */
  ENROLMENT_FAILED: "ENROLMENT_FAILED",
  /** The consent ledger refused or failed a credential status report (the cause is kept); the monitor reports it again. */
  STATUS_REPORT_FAILED: "STATUS_REPORT_FAILED",
  /** An attribute value fabric-ca's command line cannot carry (':' ',' '"', spaces or control characters). */
  INVALID_ATTRIBUTE: "INVALID_ATTRIBUTE",
  /** The issuer's status list has no free index left. */
  STATUS_LIST_FULL: "STATUS_LIST_FULL",
  /** The issuer has not issued a credential with this id. */
  UNKNOWN_CREDENTIAL: "UNKNOWN_CREDENTIAL",
} as const;

export type IdentityErrorCode = (typeof IdentityErrorCodes)[keyof typeof IdentityErrorCodes];

/**
 * An error of the identity package. Extends the protocol's error base class: `message` is
 * `"CODE: short message"`, `shortMessage` the message alone, `toJSON()` the `{ code, message,
 * details }` the verifier service answers with (message without the code prefix).
 */
export class IdentityError extends DataMarketError<IdentityErrorCode> {
  override name = "IdentityError";

  constructor(code: IdentityErrorCode, message: string, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(code, message, { details, cause: options.cause, docsPath: "identity.md#12-errors" });
  }
}

/** HTTP status the verifier service answers each code with. */
export function httpStatusOf(code: IdentityErrorCode): number {
  switch (code) {
    case "BAD_REQUEST":
    case "MALFORMED_PRESENTATION":
    case "INVALID_CLAIMS":
    case "INVALID_ATTRIBUTE":
      return 400;
    case "UNKNOWN_REQUEST":
      return 404;
    case "PRESENTATION_REPLAYED":
      return 409;
    case "TOO_MANY_PENDING":
      return 429;
    case "STATUS_UNAVAILABLE":
    case "ENROLMENT_FAILED":
    case "STATUS_REPORT_FAILED":
      return 502;
    case "INVALID_CONFIG":
    case "STATUS_LIST_FULL":
    case "UNKNOWN_CREDENTIAL":
      return 500;
    default:
      // every refusal of a presentation: the holder is not authorised on what it presented
      return 403;
  }
}

/** `error` as an IdentityError: itself, or wrapped with `code` and kept as the cause. */
export function asIdentityError(error: unknown, code: IdentityErrorCode, message: string, details: Record<string, unknown> = {}): IdentityError {
  if (error instanceof IdentityError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new IdentityError(code, `${message}: ${reason}`, details, { cause: error });
}
