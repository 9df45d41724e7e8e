// Typed errors of the broker: every refusal carries a stable code a client can act on. The codes
// are part of the protocol (docs/protocol.md, "Error codes") and live in @datamarket/protocol,
// with the error base class every @datamarket package's errors extend.

import { DataMarketError, ErrorCodes, isWireErrorCode, type DataMarketErrorOptions, type ErrorCode } from "@datamarket/protocol";

export { ErrorCodes, isWireErrorCode };
export type { ErrorCode };

/** An error a client receives as `{ code, message, details }` (toJSON). */
export class BrokerError extends DataMarketError<ErrorCode> {
  override name = "BrokerError";
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options: Omit<DataMarketErrorOptions, "details"> = {}) {
    super(code, message, { docsPath: "protocol.md#error-codes", ...options, details });
  }
}

/**
 * The error as a client must see it: a BrokerError as it is; an error of the protocol package
 * whose code is a wire code (a malformed frame, a bad signature, a failed sign-in) with that code,
 * the original kept as `cause`; anything else as `fallback` (BAD_REQUEST by default).
 */
export function toBrokerError(err: unknown, fallback: ErrorCode = ErrorCodes.BAD_REQUEST): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof DataMarketError && isWireErrorCode(err.code)) return new BrokerError(err.code, err.shortMessage, err.details, { cause: err });
  return new BrokerError(fallback, (err as Error)?.message ?? String(err), {}, { cause: err });
}

/** True when `err` carries a wire error code (a BrokerError, or a protocol error with a wire code). */
export function isWireError(err: unknown): err is DataMarketError<ErrorCode> {
  return err instanceof DataMarketError && isWireErrorCode(err.code);
}
