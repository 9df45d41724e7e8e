// Errors of the SDK: values with a code a caller can act on, a message, the details that explain
// them and the error that caused them (`cause`: a broker's refusal, a protocol decoding error, a
// provider's failure), on the protocol's DataMarketError base class.

import { DataMarketError, ProtocolErrorCodes, type DataMarketErrorOptions } from "@datamarket/protocol";

export const SdkErrorCodes = {
  /** A cryptographic input has the wrong length or is not a valid key. */
  INVALID_KEY: ProtocolErrorCodes.INVALID_KEY,
  /** AES-GCM authentication failed: wrong key, or tampered ciphertext / associated data. */
  DECRYPTION_FAILED: ProtocolErrorCodes.DECRYPTION_FAILED,
  /** A key-exchange message or dataset file does not follow its byte layout. */
  MALFORMED_MESSAGE: ProtocolErrorCodes.MALFORMED_MESSAGE,
  /** A signature does not recover to the address the message names. */
  INVALID_SIGNATURE: ProtocolErrorCodes.INVALID_SIGNATURE,
  /** The signer lacks the publish permission on the stream at the time of checking. */
  PUBLISHER_NOT_ALLOWED: "PUBLISHER_NOT_ALLOWED",
  /** No group key with this id is known to this client (never received, or revoked). */
  UNKNOWN_GROUP_KEY: ProtocolErrorCodes.UNKNOWN_GROUP_KEY,
  /** An unwrapped key does not hash to the group-key id it was sent under. */
  GROUP_KEY_ID_MISMATCH: ProtocolErrorCodes.GROUP_KEY_ID_MISMATCH,
  /** This client is not a recipient of the key-exchange response. */
  NOT_A_RECIPIENT: ProtocolErrorCodes.NOT_A_RECIPIENT,
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
  /** The broker refused a request (details.brokerCode holds its code; `cause` the broker's error as received). */
  BROKER_ERROR: "BROKER_ERROR",
  /** A deployment record is missing or malformed, or does not match the chain it is used on. */
  INVALID_DEPLOYMENT: "INVALID_DEPLOYMENT",
  /** A caller-supplied argument is out of its domain. */
  INVALID_ARGUMENT: ProtocolErrorCodes.INVALID_ARGUMENT,
  /** A transaction was not mined (dropped or replaced), or the wallet could not send it. */
  TRANSACTION_FAILED: "TRANSACTION_FAILED",
  /** The feature needs Node.js (e.g. serving key requests over HTTP) and this is a browser build. */
  NOT_SUPPORTED: "NOT_SUPPORTED",
  /** A broker asked for a voucher above this client's spending limit (payments.maxAmount): not signed. */
  PAYMENT_LIMIT: "PAYMENT_LIMIT",
  /** A stream name has no record in StreamNames, or its record is void (details.reason). */
  NAME_NOT_FOUND: "NAME_NOT_FOUND",
  /** A signed request (POST /rekey) is past its expiry, or its expiry is further ahead than allowed. */
  REQUEST_EXPIRED: "REQUEST_EXPIRED",
  /** A signed request's single-use nonce was used already (a replay). */
  NONCE_REUSED: "NONCE_REUSED",
  /** The request is not signed by the stream's owner as the stream registry records it. */
  NOT_STREAM_OWNER: "NOT_STREAM_OWNER",
  /** The stream registry has no such stream. */
  UNKNOWN_STREAM: "UNKNOWN_STREAM",
} as const;
export type SdkErrorCode = (typeof SdkErrorCodes)[keyof typeof SdkErrorCodes];

const SDK_CODES: ReadonlySet<string> = new Set(Object.values(SdkErrorCodes));

export class SdkError extends DataMarketError<SdkErrorCode> {
  override name = "SdkError";
  constructor(code: SdkErrorCode, message: string, details: Record<string, unknown> = {}, options: Omit<DataMarketErrorOptions, "details"> = {}) {
    super(code, message, { docsPath: "sdk.md#errors", ...options, details });
  }

  /**
   * The SDK's form of any error: an SdkError as it is; an error of another @datamarket package with
   * a code the SDK also uses (a protocol decoding or key-exchange error) with that code and details;
   * anything else as `fallback`. The original is always kept as `cause`.
   */
  static from(err: unknown, fallback: SdkErrorCode, details: Record<string, unknown> = {}): SdkError {
    if (err instanceof SdkError) return err;
    if (err instanceof DataMarketError && SDK_CODES.has(err.code))
      return new SdkError(err.code as SdkErrorCode, err.shortMessage, { ...err.details, ...details }, { cause: err });
    const message = err instanceof DataMarketError ? err.shortMessage : ((err as Error)?.message ?? String(err));
    return new SdkError(fallback, message, err instanceof DataMarketError ? { ...details, code: err.code, ...err.details } : details, { cause: err });
  }
}
