// Errors of the analytics package: one class, a code a caller can act on, the values that explain it.
// Aggregators send the same codes over HTTP ({ error: { code, message, details } }); see docs/analytics.md §7.
import { DataMarketError } from "@datamarket/protocol";

export const AnalyticsErrorCodes = {
  /** A study descriptor or a measurement spec breaks a rule (the message names the field). */
  INVALID_STUDY: "INVALID_STUDY",
  /** A subject's records do not give one value for a measurement (none is skipped; several are an error). */
  AMBIGUOUS_RECORDS: "AMBIGUOUS_RECORDS",
  /** A value the study's type cannot carry (an honest client refuses it before sharding). */
  OUT_OF_RANGE: "OUT_OF_RANGE",
  /** A request body or a report that does not decode. */
  BAD_REQUEST: "BAD_REQUEST",
  /** The aggregator serves no such study (or measurement). */
  UNKNOWN_STUDY: "UNKNOWN_STUDY",
  /** The grant is not open on the consent ledger, not for this study/purpose, or its subject list does not match. */
  GRANT_INVALID: "GRANT_INVALID",
  /** The report's subject is not released by the grant, or has withdrawn consent. */
  SUBJECT_NOT_RELEASED: "SUBJECT_NOT_RELEASED",
  /** A report id seen before. */
  REPORT_REPLAYED: "REPORT_REPLAYED",
  /** A report whose time falls in a batch interval that has already been collected. */
  REPORT_TOO_LATE: "REPORT_TOO_LATE",
  /** A report's input share did not decrypt (wrong key, AAD or tampering). */
  HPKE_DECRYPT_ERROR: "HPKE_DECRYPT_ERROR",
  /** The collection request's signature does not recover to the collector it names, or is stale. */
  BAD_SIGNATURE: "BAD_SIGNATURE",
  /** The collector holds no valid licence of the study product on the market (none, ended, expired, other grant). */
  NOT_LICENSED: "NOT_LICENSED",
  /** The batch interval is not aligned to the study's time precision, or is empty. */
  BATCH_INVALID: "BATCH_INVALID",
  /** Fewer reports or distinct subjects than the minimum batch size. */
  BATCH_TOO_SMALL: "BATCH_TOO_SMALL",
  /** The batch overlaps a collected batch in a way that would single out subjects by differencing. */
  BATCH_OVERLAP: "BATCH_OVERLAP",
  /** The two aggregators disagree on the batch (report count or checksum): nothing is released. */
  BATCH_MISMATCH: "BATCH_MISMATCH",
  /** No such collection job (e.g. the leader restarted while it ran): submit it again. */
  UNKNOWN_COLLECTION: "UNKNOWN_COLLECTION",
  /** The other aggregator could not be reached or answered with an error. */
  PEER_FAILED: "PEER_FAILED",
} as const;

export type AnalyticsErrorCode = (typeof AnalyticsErrorCodes)[keyof typeof AnalyticsErrorCodes];

/**
 * An error of the analytics package. Extends the protocol's error base class: `message` is
 * `"CODE: short message"`, `shortMessage` the message alone, `toJSON()` the `{ code, message,
 * details }` an aggregator answers with (message without the code prefix).
 */
export class AnalyticsError extends DataMarketError<AnalyticsErrorCode> {
  override name = "AnalyticsError";

  constructor(code: AnalyticsErrorCode, message: string, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(code, message, { details, cause: options.cause, docsPath: "analytics.md#5-wire-format-json-over-http-binary-as-base64url" });
  }
}

/** HTTP status an aggregator answers each code with. */
export function httpStatusOf(code: AnalyticsErrorCode): number {
  switch (code) {
    case "UNKNOWN_STUDY":
    case "UNKNOWN_COLLECTION":
      return 404;
    case "BAD_SIGNATURE":
      return 401;
    case "NOT_LICENSED":
    case "GRANT_INVALID":
    case "SUBJECT_NOT_RELEASED":
      return 403;
    case "BATCH_OVERLAP":
    case "REPORT_REPLAYED":
    case "REPORT_TOO_LATE":
      return 409;
    case "PEER_FAILED":
      return 502;
    default:
      return 400;
  }
}
