// Typed errors of the broker: every refusal carries a stable code a client can act on.
// The codes are part of the protocol (docs/protocol.md, "Error codes").

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

/** An error a client receives as `{ code, message, details }`. */
export class BrokerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "BrokerError";
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
