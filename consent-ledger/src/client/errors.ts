// Errors of the consent client: one class with a code a caller can act on, whichever backend failed.
import { ErrorCode } from "@datamarket/consent-chaincode/src/errors";
import { DataMarketError } from "@datamarket/protocol";

/** Client-side codes in addition to the chaincode's ErrorCode values. */
export const ClientErrorCode = {
  ...ErrorCode,
  /** the transaction read a key another committed transaction changed; retry it */
  MVCC_READ_CONFLICT: "MVCC_READ_CONFLICT",
  /** a range the transaction read changed before commit; retry it */
  PHANTOM_READ_CONFLICT: "PHANTOM_READ_CONFLICT",
  /** the endorsements did not satisfy the (key-level) endorsement policy; endorse with the right organisations */
  ENDORSEMENT_POLICY_FAILURE: "ENDORSEMENT_POLICY_FAILURE",
  /** the transaction was invalidated at commit for another reason */
  COMMIT_FAILED: "COMMIT_FAILED",
  /** endorsement failed outside the chaincode (identity, signature, unknown chaincode, connection) */
  ENDORSEMENT_FAILED: "ENDORSEMENT_FAILED",
  /** the chaincode answered something that is not the documented JSON */
  BAD_RESPONSE: "BAD_RESPONSE",
  /** a request or response over the gRPC message size limit (grpcOptions of connectFabricGateway) */
  MESSAGE_TOO_LARGE: "MESSAGE_TOO_LARGE",
  /** a call that did not complete before its deadline (timeouts of connectFabricGateway) */
  DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * Any failure of the consent client, whichever backend failed. Extends the protocol's error base
 * class: `message` is `"CODE: detail"` (as the chaincode's own messages), `shortMessage` the detail,
 * `details.transactionId` the transaction's id when it had one, `cause` the backend's error.
 */
export class ConsentClientError extends DataMarketError<ClientErrorCode> {
  override name = "ConsentClientError";
  readonly transactionId?: string;

  constructor(code: ClientErrorCode, message: string, transactionId?: string, options: { cause?: unknown } = {}) {
    super(code, message, { details: transactionId === undefined ? {} : { transactionId }, cause: options.cause, docsPath: "consent.md#6-errors" });
    if (transactionId !== undefined) this.transactionId = transactionId;
  }
}

/** The limits of a connection to a gateway peer, named by the errors that hit them. */
export interface GatewayLimits {
  maxReceiveBytes: number;
  maxSendBytes: number;
  /** deadlines in ms */
  timeouts: { evaluate: number; endorse: number; submit: number; commitStatus: number };
}

/** gRPC status codes (grpc.status) the client names. */
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_RESOURCE_EXHAUSTED = 8;

const CHAINCODE_CODE = new RegExp(`\\b(${Object.values(ErrorCode).join("|")}): (.*)$`, "s");
/** fabric-gateway CommitError codes (peer.TxValidationCode) the client names. */
const VALIDATION_CODES: Record<number, ClientErrorCode> = { 10: "ENDORSEMENT_POLICY_FAILURE", 11: "MVCC_READ_CONFLICT", 12: "PHANTOM_READ_CONFLICT" };

interface ErrorShape {
  name?: string;
  message?: string;
  code?: number;
  transactionId?: string;
  details?: Array<{ message?: string }>;
}

/**
 * Maps an error of either backend (in-process or fabric-gateway) to a ConsentClientError. With the
 * connection's `limits`, an error that hit one of them names it.
 */
export function toClientError(error: unknown, limits?: GatewayLimits): ConsentClientError {
  if (error instanceof ConsentClientError) {
    return error;
  }
  const shape = (error ?? {}) as ErrorShape;
  const texts = [shape.message ?? String(error), ...(shape.details ?? []).map((detail) => detail.message ?? "")];
  if (shape.code === GRPC_RESOURCE_EXHAUSTED && shape.name !== "CommitError") {
    const named = limits ? `; the limits are ${limits.maxReceiveBytes} bytes received and ${limits.maxSendBytes} bytes sent` : "";
    return new ConsentClientError(
      "MESSAGE_TOO_LARGE",
      `${texts[0]}${named} (grpc.max_receive_message_length / grpc.max_send_message_length in connectFabricGateway's grpcOptions)`,
      shape.transactionId,
      { cause: error },
    );
  }
  if (shape.code === GRPC_DEADLINE_EXCEEDED && shape.name !== "CommitError") {
    const named = limits
      ? `; the deadlines are evaluate ${limits.timeouts.evaluate} ms, endorse ${limits.timeouts.endorse} ms, ` +
        `submit ${limits.timeouts.submit} ms, commit status ${limits.timeouts.commitStatus} ms`
      : "";
    return new ConsentClientError("DEADLINE_EXCEEDED", `${texts[0]}${named} (timeouts in connectFabricGateway)`, shape.transactionId, { cause: error });
  }
  for (const text of texts) {
    const match = CHAINCODE_CODE.exec(text);
    if (match) {
      return new ConsentClientError(match[1] as ClientErrorCode, match[2], shape.transactionId, { cause: error });
    }
  }
  if (shape.name === "CommitError" && typeof shape.code === "number") {
    return new ConsentClientError(VALIDATION_CODES[shape.code] ?? "COMMIT_FAILED", texts[0], shape.transactionId, { cause: error });
  }
  return new ConsentClientError("ENDORSEMENT_FAILED", texts.filter((text) => text !== "").join("; "), shape.transactionId, { cause: error });
}
