// The one error base class of every @datamarket package (as viem's BaseError): a stable `code` a
// caller can switch on, a short message, the details that explain it, the original error as
// `cause`, and where the docs explain it. Subclasses only narrow the code type and the name.

export interface DataMarketErrorOptions {
  /** Values that explain the error (field names, offending values, limits). Serialisable. */
  details?: Record<string, unknown>;
  /** The error that caused this one; kept, never dropped. */
  cause?: unknown;
  /** Path of the page that documents the error, relative to the repository's docs/ (e.g. "sdk.md#errors"). */
  docsPath?: string;
}

export class DataMarketError<C extends string = string> extends Error {
  override name = "DataMarketError";
  /** Stable, upper-snake-case; documented next to the API that raises it. */
  readonly code: C;
  /** The message without the code prefix and without the cause. */
  readonly shortMessage: string;
  readonly details: Record<string, unknown>;
  readonly docsPath?: string;
  declare readonly cause?: unknown;

  constructor(code: C, shortMessage: string, options: DataMarketErrorOptions = {}) {
    const causeMessage = options.cause instanceof Error ? options.cause.message : options.cause === undefined ? undefined : String(options.cause);
    // the cause's message is appended unless one already contains the other (a short message that
    // quotes its cause, `could not read X: <cause>`, or one taken from the cause's text)
    const redundant = causeMessage === undefined || shortMessage.includes(causeMessage) || causeMessage.includes(shortMessage);
    super(
      redundant ? `${code}: ${shortMessage}` : `${code}: ${shortMessage} (cause: ${causeMessage})`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.shortMessage = shortMessage;
    this.details = options.details ?? {};
    if (options.docsPath !== undefined) this.docsPath = options.docsPath;
  }

  /**
   * Follows the `cause` chain and returns the first error for which `match` is true (this one
   * included), e.g. `err.walk((e) => e instanceof DataMarketError && e.code === "DISCONNECTED")`.
   */
  walk(match: (error: unknown) => boolean): unknown {
    let current: unknown = this;
    for (let depth = 0; current !== undefined && depth < 32; depth++) {
      if (match(current)) return current;
      current = current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
    }
    return undefined;
  }

  /** The wire form `{ code, message, details }` (message without the code prefix). */
  toJSON(): { code: C; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.shortMessage, details: this.details };
  }
}

/** True for any error of an @datamarket package (works across duplicated installs: checks the shape, not the class). */
export function isDataMarketError(error: unknown): error is DataMarketError {
  return (
    error instanceof DataMarketError ||
    (error instanceof Error &&
      typeof (error as DataMarketError).code === "string" &&
      typeof (error as DataMarketError).shortMessage === "string" &&
      typeof (error as DataMarketError).details === "object")
  );
}

/**
 * The error codes of the wire protocol (docs/protocol.md, "Error codes"): what a broker answers
 * `{ type: "error", code, message, details }` with. Stable across versions.
 */
export const ErrorCodes = {
  /** The frame is not a well-formed event encoding (wrong length, bad field value). */
  MALFORMED_FRAME: "MALFORMED_FRAME",
  /** The event's protocol version byte is not one this broker implements. */
  UNSUPPORTED_VERSION: "UNSUPPORTED_VERSION",
  /** The frame or message exceeds the configured maximum size. */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** The signature does not recover to the event's publisher field, or is malleable (high s). */
  INVALID_SIGNATURE: "INVALID_SIGNATURE",
  /** The stream id is not known to the registry index. */
  UNKNOWN_STREAM: "UNKNOWN_STREAM",
  /** The stream partition is outside the stream's partition count. */
  INVALID_PARTITION: "INVALID_PARTITION",
  /** The sequence number was already stored for this publisher chain. */
  DUPLICATE_SEQUENCE: "DUPLICATE_SEQUENCE",
  /** The sequence number is lower than the last stored one for this publisher chain. */
  OUT_OF_ORDER_SEQUENCE: "OUT_OF_ORDER_SEQUENCE",
  /** previousEventHash is neither zero nor the hash of the publisher's last stored event. */
  PREVIOUS_EVENT_MISMATCH: "PREVIOUS_EVENT_MISMATCH",
  /** The event timestamp is too far from the broker's clock. */
  TIMESTAMP_OUT_OF_RANGE: "TIMESTAMP_OUT_OF_RANGE",
  /** The authenticated address may not publish to this stream. */
  PUBLISH_NOT_ALLOWED: "PUBLISH_NOT_ALLOWED",
  /** The authenticated address may not subscribe to / resend this stream (no permission, licence or consent). */
  SUBSCRIBE_NOT_ALLOWED: "SUBSCRIBE_NOT_ALLOWED",
  /** The access gate (chain or consent ledger) was unreachable for longer than the configured bound. */
  ACCESS_GATE_UNAVAILABLE: "ACCESS_GATE_UNAVAILABLE",
  /** The session is not authenticated (no valid EIP-4361 sign-in yet). */
  NOT_AUTHENTICATED: "NOT_AUTHENTICATED",
  /** The EIP-4361 sign-in message or its signature is invalid. */
  AUTHENTICATION_FAILED: "AUTHENTICATION_FAILED",
  /** The request message is not valid JSON or lacks / mistypes a field. */
  BAD_REQUEST: "BAD_REQUEST",
  /** This broker does not serve the network partition of the stream partition; see `brokers`. */
  PARTITION_NOT_SERVED: "PARTITION_NOT_SERVED",
  /** The subscriber could not keep up: its send budget was exceeded; the connection is closed. */
  SEND_BUDGET_EXCEEDED: "SEND_BUDGET_EXCEEDED",
  /** The subscription was ended because access was revoked. */
  ACCESS_REVOKED: "ACCESS_REVOKED",
  /** The event could not be made durable (storage error). Nothing was acknowledged. */
  STORAGE_FAILURE: "STORAGE_FAILURE",
  /** Fewer replicas of the partition than the acknowledgement needs (replication.acks) can be reached, or they did not acknowledge in time. */
  NOT_ENOUGH_REPLICAS: "NOT_ENOUGH_REPLICAS",
  /** A replica-to-replica request from an address that is not another assignee of the network partition. */
  NOT_A_REPLICA: "NOT_A_REPLICA",
  /** The broker is shutting down. */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  /** The payer's vouchers fell behind (or it has no funded channel to this broker): served nothing more until paid (docs/network.md §14). */
  PAYMENT_REQUIRED: "PAYMENT_REQUIRED",
  /** A voucher is malformed, for another channel or generation, or not signed by its payer. */
  INVALID_VOUCHER: "INVALID_VOUCHER",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const WIRE_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** True when `code` is one of the wire protocol's error codes. */
export function isWireErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && WIRE_CODES.has(code);
}

/** Codes of the errors the protocol's own functions raise (decoding, signatures, key exchange, bad arguments). */
export const ProtocolErrorCodes = {
  MALFORMED_FRAME: ErrorCodes.MALFORMED_FRAME,
  UNSUPPORTED_VERSION: ErrorCodes.UNSUPPORTED_VERSION,
  PAYLOAD_TOO_LARGE: ErrorCodes.PAYLOAD_TOO_LARGE,
  INVALID_SIGNATURE: ErrorCodes.INVALID_SIGNATURE,
  AUTHENTICATION_FAILED: ErrorCodes.AUTHENTICATION_FAILED,
  /** A cryptographic input has the wrong length or is not a valid key. */
  INVALID_KEY: "INVALID_KEY",
  /** AES-GCM authentication failed: wrong key, or tampered ciphertext / associated data. */
  DECRYPTION_FAILED: "DECRYPTION_FAILED",
  /** A key-exchange message or dataset file does not follow its byte layout. */
  MALFORMED_MESSAGE: "MALFORMED_MESSAGE",
  /** An unwrapped key does not hash to the group-key id it was sent under. */
  GROUP_KEY_ID_MISMATCH: "GROUP_KEY_ID_MISMATCH",
  /** This client is not a recipient of the key-exchange response. */
  NOT_A_RECIPIENT: "NOT_A_RECIPIENT",
  /** No group key with this id is known (never received, or refused by the publisher). */
  UNKNOWN_GROUP_KEY: "UNKNOWN_GROUP_KEY",
  /** A caller-supplied argument is out of its domain. */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
} as const;

export type ProtocolErrorCode = (typeof ProtocolErrorCodes)[keyof typeof ProtocolErrorCodes];

/** An error raised by the protocol's encoders, decoders and cryptography. */
export class ProtocolError extends DataMarketError<ProtocolErrorCode> {
  override name = "ProtocolError";
  constructor(code: ProtocolErrorCode, shortMessage: string, details: Record<string, unknown> = {}, options: Omit<DataMarketErrorOptions, "details"> = {}) {
    super(code, shortMessage, { docsPath: "protocol.md", ...options, details });
  }
}
