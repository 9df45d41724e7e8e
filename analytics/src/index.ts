// Public API of @datamarket/analytics (docs/analytics.md): studies as market products, the custodian's
// encodeReports, the aggregators, and the buyer's collect.
export {
  VDAF_VERSION,
  DEFAULT_MIN_BATCH_SIZE,
  DEFAULT_TIME_PRECISION_SECONDS,
  bucketOf,
  canonicalJson,
  defineStudy,
  measure,
  studyHash,
  validateStudy,
  type CountMeasurement,
  type HistogramMeasurement,
  type MeasurementSpec,
  type Study,
  type StudyDescriptor,
  type SumMeasurement,
  type SumVecMeasurement,
} from "./study";
export { encodeReports, uploadReports, type DatasetRecordLike, type EncodeOptions, type EncodedReports, type ReleaseDecision } from "./client";
export { collect, type CollectOptions, type CollectResult, type MeasurementResult } from "./collector";
export { Aggregator, DEFAULT_MIN_BATCH_FLOOR, type AggregatorOptions, type StudyRegistration } from "./aggregator/Aggregator";
export { subjectsDigest, type ConsentReader } from "./aggregator/ConsentView";
export { generateHpkeKeyPair, type HpkeCiphertext, type HpkeConfig, type HpkeKeyPair } from "./hpke";
export { PreparePool } from "./pool";
export { Vdaf, vdafFor, vdafParametersOf, type VdafParameters } from "./vdaf";
export { AnalyticsError, AnalyticsErrorCodes, type AnalyticsErrorCode } from "./errors";
export type { BatchInterval, CollectionRequest, Report, UploadResponse } from "./wire";
