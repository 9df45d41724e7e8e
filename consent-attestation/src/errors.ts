// Error codes of the consent bridge's HTTP API (what its server answers `{ statusCode, code, message }`
// with) and of the attestation client, whose BridgeClientError extends the protocol's error base class.
import { DataMarketError } from "@datamarket/protocol";

/** Codes of the HTTP API. */
export const HttpErrorCode = {
  /** the grant id is not 0x + 64 lowercase hex digits (400) */
  INVALID_GRANT_ID: "INVALID_GRANT_ID",
  /** this bridge has seen no GrantIssued for the grant (404) */
  UNKNOWN_GRANT: "UNKNOWN_GRANT",
  /** the grant was seen but the bridge refused to sign it: its fields do not hash to the recorded struct hash (409) */
  ATTESTATION_REFUSED: "ATTESTATION_REFUSED",
  /** no GrantsInvalidated names the grant: consent was not withdrawn (404) */
  NOT_REVOKED: "NOT_REVOKED",
  /** no such route (404) */
  NOT_FOUND: "NOT_FOUND",
  /** anything else (500); the detail is logged, not served */
  INTERNAL: "INTERNAL",
} as const;
export type HttpErrorCode = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** Codes of the client helper (collecting k signatures from n bridges). */
export const ClientErrorCode = {
  /** fewer than k bridges gave a valid signature of the same fields */
  INSUFFICIENT_SIGNATURES: "INSUFFICIENT_SIGNATURES",
  /** bad arguments (threshold, URLs, grant id) */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** What one bridge answered when it did not contribute a signature. */
export interface BridgeFailure {
  url: string;
  /** an HttpErrorCode, or TIMEOUT, UNREACHABLE, BAD_RESPONSE, BAD_SIGNATURE, NOT_AN_ATTESTOR, WRONG_DOMAIN, DIFFERENT_FIELDS, DUPLICATE_ATTESTOR */
  code: string;
  message: string;
}

export class BridgeClientError extends DataMarketError<ClientErrorCode> {
  override name = "BridgeClientError";
  constructor(
    code: ClientErrorCode,
    message: string,
    readonly failures: BridgeFailure[] = [],
  ) {
    super(code, message, { details: { failures }, docsPath: "market.md" });
  }
}
