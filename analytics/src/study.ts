// A study is a product of the data-license market: its descriptor (what is measured, with which Prio3
// type and bounds, the minimum batch size, the purpose, the two aggregators) is hashed into the
// product's termsHash, so the aggregators, the custodian and the buyer all hold the same definition.
import { keccak256, toUtf8Bytes } from "ethers";
import { AnalyticsError } from "./errors";
import type { HpkeConfig } from "./hpke";

/** The VDAF the reports follow: Prio3 as specified by draft-irtf-cfrg-vdaf-08 (@divviup/prio3 0.8.0). */
export const VDAF_VERSION = "prio3/draft-irtf-cfrg-vdaf-08";
export const DEFAULT_MIN_BATCH_SIZE = 10;
export const DEFAULT_TIME_PRECISION_SECONDS = 3_600;
export const MAX_MEASUREMENTS = 8;

export type Comparison = "<" | "<=" | ">" | ">=" | "==" | "!=";

interface MeasurementBase {
  /** Unique within the study: [a-z0-9-], 1..64 characters. */
  name: string;
  /** Which of a subject's records the measurement reads: every field named must be equal. */
  where?: Record<string, string | number | boolean>;
}

/** 1 when `field <op> value` holds for the subject, else 0. Result: how many subjects it holds for. */
export interface CountMeasurement extends MeasurementBase {
  type: "count";
  field: string;
  predicate: { op: Comparison; value: number };
}

/** round(field × scale), an integer in [0, 2^bits). Result: the sum (the mean is sum / reports / scale). */
export interface SumMeasurement extends MeasurementBase {
  type: "sum";
  field: string;
  bits: number;
  /** Fixed-point factor applied before rounding (default 1), e.g. 10 for one decimal. */
  scale?: number;
}

/** One round(field × scale) in [0, 2^bits) per field. Result: the element-wise sum. */
export interface SumVecMeasurement extends MeasurementBase {
  type: "sumvec";
  fields: string[];
  /** 1..31 (the library shifts entries as 32-bit integers). */
  bits: number;
  scale?: number;
  /** Prio3 gadget chunk length (default: the shortest proof, as libprio's optimal_chunk_length; 11 for 10 × 16 bits). */
  chunkLength?: number;
}

/**
 * The bucket of `field`: bucket 0 is (-inf, bounds[0]), bucket i is [bounds[i-1], bounds[i]), the last
 * is [bounds[last], +inf). Result: the count per bucket.
 */
export interface HistogramMeasurement extends MeasurementBase {
  type: "histogram";
  field: string;
  bounds: number[];
  chunkLength?: number;
}

export type MeasurementSpec = CountMeasurement | SumMeasurement | SumVecMeasurement | HistogramMeasurement;

export interface StudyAggregator {
  /** Base URL of the aggregator's HTTP API. */
  url: string;
  /** The key clients encrypt this aggregator's input shares to. */
  hpkeConfig: HpkeConfig;
}

export interface StudyDescriptor {
  version: 1;
  title: string;
  /** The DPV purpose the study is sold for; the buyer's consent-ledger request names it. */
  purpose: string;
  /** Always VDAF_VERSION; a descriptor for another draft is refused. */
  vdaf: typeof VDAF_VERSION;
  measurements: MeasurementSpec[];
  /** The fewest reports, and the fewest distinct subjects, an aggregate may cover (k-anonymity floor). */
  minBatchSize: number;
  /** Report times are rounded down to a multiple of this; batch intervals are made of whole multiples. */
  timePrecisionSeconds: number;
  /** Leader (receives the uploads, drives aggregation) and helper. */
  aggregators: { leader: StudyAggregator; helper: StudyAggregator };
}

/** A study as its parties use it: the market product and the descriptor its termsHash commits to. */
export interface Study {
  /** The market product id (bytes32, 0x-hex lowercase): also the study id on the aggregators. */
  productId: string;
  descriptor: StudyDescriptor;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const COMPARISONS: readonly Comparison[] = ["<", "<=", ">", ">=", "==", "!="];

function invalid(message: string, details: Record<string, unknown> = {}): never {
  throw new AnalyticsError("INVALID_STUDY", message, details);
}

function checkInteger(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    invalid(`${what} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  return value;
}

function checkField(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 128)
    invalid(`${what} must be a field name of 1..128 characters, got ${JSON.stringify(value)}`);
  return value;
}

function checkScale(scale: unknown, what: string): void {
  if (scale !== undefined && (typeof scale !== "number" || !Number.isFinite(scale) || scale <= 0)) invalid(`${what}.scale must be a positive number`);
}

/** Checks a measurement spec; throws INVALID_STUDY naming the field at fault. */
export function validateMeasurement(spec: MeasurementSpec, index = 0): void {
  const at = `measurements[${index}]`;
  if (typeof spec !== "object" || spec === null) invalid(`${at} must be an object`);
  if (typeof spec.name !== "string" || !NAME.test(spec.name)) invalid(`${at}.name must match ${NAME}, got ${JSON.stringify(spec.name)}`);
  if (spec.where !== undefined) {
    if (typeof spec.where !== "object" || spec.where === null || Array.isArray(spec.where)) invalid(`${at}.where must be an object of field values`);
    for (const [k, v] of Object.entries(spec.where)) {
      checkField(k, `${at}.where key`);
      if (!["string", "number", "boolean"].includes(typeof v)) invalid(`${at}.where.${k} must be a string, number or boolean`);
    }
  }
  switch (spec.type) {
    case "count":
      checkField(spec.field, `${at}.field`);
      if (!spec.predicate || !COMPARISONS.includes(spec.predicate.op) || typeof spec.predicate.value !== "number" || !Number.isFinite(spec.predicate.value)) {
        invalid(`${at}.predicate must be { op: one of ${COMPARISONS.join(" ")}, value: a finite number }`);
      }
      return;
    case "sum":
      checkField(spec.field, `${at}.field`);
      checkInteger(spec.bits, `${at}.bits`, 1, 64);
      checkScale(spec.scale, at);
      return;
    case "sumvec": {
      if (!Array.isArray(spec.fields) || spec.fields.length < 1 || spec.fields.length > 1_000) invalid(`${at}.fields must list 1..1000 fields`);
      spec.fields.forEach((f, i) => checkField(f, `${at}.fields[${i}]`));
      // the library encodes SumVec entries with 32-bit shifts: at most 31 bits
      checkInteger(spec.bits, `${at}.bits`, 1, 31);
      checkScale(spec.scale, at);
      if (spec.chunkLength !== undefined) checkInteger(spec.chunkLength, `${at}.chunkLength`, 1, spec.fields.length * spec.bits);
      return;
    }
    case "histogram": {
      checkField(spec.field, `${at}.field`);
      if (!Array.isArray(spec.bounds) || spec.bounds.length < 1 || spec.bounds.length > 1_000) invalid(`${at}.bounds must list 1..1000 bucket bounds`);
      spec.bounds.forEach((b, i) => {
        if (typeof b !== "number" || !Number.isFinite(b)) invalid(`${at}.bounds[${i}] must be a finite number`);
        if (i > 0 && b <= spec.bounds[i - 1]) invalid(`${at}.bounds must be strictly increasing (bounds[${i}] = ${b} <= ${spec.bounds[i - 1]})`);
      });
      if (spec.chunkLength !== undefined) checkInteger(spec.chunkLength, `${at}.chunkLength`, 1, spec.bounds.length + 1);
      return;
    }
    default:
      invalid(`${at}.type must be count, sum, sumvec or histogram, got ${JSON.stringify((spec as { type?: unknown }).type)}`);
  }
}

/** Checks a descriptor; throws INVALID_STUDY naming the field at fault. */
export function validateStudy(descriptor: StudyDescriptor): void {
  if (typeof descriptor !== "object" || descriptor === null) invalid("the descriptor must be an object");
  if (descriptor.version !== 1) invalid(`version must be 1, got ${JSON.stringify(descriptor.version)}`);
  if (descriptor.vdaf !== VDAF_VERSION)
    invalid(`vdaf must be "${VDAF_VERSION}" (the draft this implementation follows), got ${JSON.stringify(descriptor.vdaf)}`);
  if (typeof descriptor.title !== "string" || descriptor.title.length === 0 || descriptor.title.length > 200) invalid("title must be 1..200 characters");
  if (typeof descriptor.purpose !== "string" || !/^[A-Za-z]{1,64}$/.test(descriptor.purpose))
    invalid(`purpose must be a DPV purpose term, got ${JSON.stringify(descriptor.purpose)}`);
  if (!Array.isArray(descriptor.measurements) || descriptor.measurements.length < 1 || descriptor.measurements.length > MAX_MEASUREMENTS) {
    invalid(`measurements must list 1..${MAX_MEASUREMENTS} measurements`);
  }
  descriptor.measurements.forEach((m, i) => validateMeasurement(m, i));
  const names = descriptor.measurements.map((m) => m.name);
  if (new Set(names).size !== names.length) invalid(`measurement names must be unique: ${names.join(", ")}`);
  checkInteger(descriptor.minBatchSize, "minBatchSize", 2, 1_000_000);
  checkInteger(descriptor.timePrecisionSeconds, "timePrecisionSeconds", 1, 365 * 86_400);
  for (const role of ["leader", "helper"] as const) {
    const agg = descriptor.aggregators?.[role];
    if (!agg || typeof agg.url !== "string" || !/^https?:\/\//.test(agg.url)) invalid(`aggregators.${role}.url must be an http(s) URL`);
    if (!agg.hpkeConfig || typeof agg.hpkeConfig.publicKey !== "string") invalid(`aggregators.${role}.hpkeConfig must be an HPKE config`);
  }
}

/** JSON with sorted object keys and no whitespace: the bytes the study hash is taken over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** keccak256 of the canonical JSON: the product's termsHash. */
export function studyHash(descriptor: StudyDescriptor): string {
  return keccak256(toUtf8Bytes(canonicalJson(descriptor)));
}

/** Builds a descriptor with the defaults filled in, and checks it. */
export function defineStudy(
  input: Omit<StudyDescriptor, "version" | "vdaf" | "minBatchSize" | "timePrecisionSeconds"> &
    Partial<Pick<StudyDescriptor, "minBatchSize" | "timePrecisionSeconds">>,
): StudyDescriptor {
  const descriptor: StudyDescriptor = {
    version: 1,
    vdaf: VDAF_VERSION,
    minBatchSize: DEFAULT_MIN_BATCH_SIZE,
    timePrecisionSeconds: DEFAULT_TIME_PRECISION_SECONDS,
    ...input,
  };
  validateStudy(descriptor);
  return descriptor;
}

// ---------------------------------------------------------------------------------------------
// Turning a subject's records into the measurement a Prio3 client shards

/** The Prio3 measurement of one subject: a 0/1 count, an integer, a vector of integers, or a bucket index. */
export type Prio3Measurement = boolean | bigint | number[] | number;

function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

function numberOf(record: Record<string, unknown>, field: string, subjectId: string, measurement: string): number {
  const value = record[field];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new AnalyticsError(
      "OUT_OF_RANGE",
      `subject ${subjectId}: field "${field}" of measurement "${measurement}" is not a finite number (${JSON.stringify(value)})`,
      { subjectId, measurement, field },
    );
  }
  return value;
}

function fixedPoint(value: number, scale: number | undefined, bits: number, subjectId: string, measurement: string, field: string): bigint {
  const scaled = Math.round(value * (scale ?? 1));
  const max = 2n ** BigInt(bits);
  if (!Number.isSafeInteger(scaled) || scaled < 0 || BigInt(scaled) >= max) {
    throw new AnalyticsError(
      "OUT_OF_RANGE",
      `subject ${subjectId}: ${field} = ${value} (x${scale ?? 1} = ${scaled}) is outside [0, ${max}) of measurement "${measurement}"`,
      { subjectId, measurement, field, value },
    );
  }
  return BigInt(scaled);
}

/** The bucket index of `value` for bounds b: the number of bounds <= value. */
export function bucketOf(value: number, bounds: readonly number[]): number {
  let bucket = 0;
  while (bucket < bounds.length && value >= bounds[bucket]) bucket++;
  return bucket;
}

/**
 * The subject's measurement from its records (JSON objects), or null when no record matches `where`.
 * Several matching records are an error (AMBIGUOUS_RECORDS): the study must select one per subject.
 */
export function measure(spec: MeasurementSpec, subjectId: string, records: readonly Record<string, unknown>[]): Prio3Measurement | null {
  const matching = records.filter((r) => Object.entries(spec.where ?? {}).every(([k, v]) => r[k] === v));
  if (matching.length === 0) return null;
  if (matching.length > 1) {
    throw new AnalyticsError(
      "AMBIGUOUS_RECORDS",
      `subject ${subjectId}: ${matching.length} records match measurement "${spec.name}" (where ${JSON.stringify(spec.where ?? {})}); it must select one`,
      { subjectId, measurement: spec.name, matching: matching.length },
    );
  }
  const record = matching[0];
  switch (spec.type) {
    case "count":
      return compare(numberOf(record, spec.field, subjectId, spec.name), spec.predicate.op, spec.predicate.value);
    case "sum":
      return fixedPoint(numberOf(record, spec.field, subjectId, spec.name), spec.scale, spec.bits, subjectId, spec.name, spec.field);
    case "sumvec":
      return spec.fields.map((f) => Number(fixedPoint(numberOf(record, f, subjectId, spec.name), spec.scale, spec.bits, subjectId, spec.name, f)));
    case "histogram":
      return bucketOf(numberOf(record, spec.field, subjectId, spec.name), spec.bounds);
  }
}
