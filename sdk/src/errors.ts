// Errors of the SDK: values with a code a caller can act on, a message, and the details that explain them.

export const SdkErrorCodes = {
  /** A cryptographic input has the wrong length or is not a valid key. */
  INVALID_KEY: "INVALID_KEY",
  /** AES-GCM authentication failed: wrong key, or tampered ciphertext / associated data. */
  DECRYPTION_FAILED: "DECRYPTION_FAILED",
  /** A key-exchange message or dataset file does not follow its byte layout. */
  MALFORMED_MESSAGE: "MALFORMED_MESSAGE",
  /** A signature does not recover to the address the message names. */
  INVALID_SIGNATURE: "INVALID_SIGNATURE",
  /** The signer lacks the publish permission on the stream at the time of checking. */
  PUBLISHER_NOT_ALLOWED: "PUBLISHER_NOT_ALLOWED",
  /** No group key with this id is known to this client (never received, or revoked). */
  UNKNOWN_GROUP_KEY: "UNKNOWN_GROUP_KEY",
  /** An unwrapped key does not hash to the group-key id it was sent under. */
  GROUP_KEY_ID_MISMATCH: "GROUP_KEY_ID_MISMATCH",
  /** This client is not a recipient of the key-exchange response. */
  NOT_A_RECIPIENT: "NOT_A_RECIPIENT",
  /** The dataset's content hash differs from the one registered. */
  CONTENT_HASH_MISMATCH: "CONTENT_HASH_MISMATCH",
  /** The caller has no licence for the dataset (no wrapped key for it). */
  NOT_LICENSED: "NOT_LICENSED",
  /** A gap in a publisher chain could not be filled by resend. */
  GAP_NOT_FILLED: "GAP_NOT_FILLED",
  /**
   * The chain cannot be reached (by this client, or by the broker's access gate, which then fails
   * closed): a publish is refused at once rather than left waiting. details.brokerCode says which.
   */
  CHAIN_UNAVAILABLE: "CHAIN_UNAVAILABLE",
  /** The broker refused a request (details.brokerCode holds its code). */
  BROKER_ERROR: "BROKER_ERROR",
  /** A deployment record is missing or malformed, or does not match the chain it is used on. */
  INVALID_DEPLOYMENT: "INVALID_DEPLOYMENT",
  /** A caller-supplied argument is out of its domain. */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /** A broker asked for a voucher above this client's spending limit (payments.maxAmount): not signed. */
  PAYMENT_LIMIT: "PAYMENT_LIMIT",
  /** A stream name has no record in StreamNames, or its record is void (details.reason). */
  NAME_NOT_FOUND: "NAME_NOT_FOUND",
} as const;
export type SdkErrorCode = (typeof SdkErrorCodes)[keyof typeof SdkErrorCodes];

export class SdkError extends Error {
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(`${code}: ${message}`);
    this.name = "SdkError";
  }
}
