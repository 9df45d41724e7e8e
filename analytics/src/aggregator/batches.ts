// The rules an aggregator applies to a batch before it releases an aggregate share: the minimum batch
// size (k reports and k distinct subjects) and the differencing rule against batches already collected.
import { AnalyticsError } from "../errors";
import type { BatchInterval } from "../wire";

/** A batch an aggregator released a share of: enough to refuse a batch that differs from it by few subjects. */
export interface CollectedBatch {
  collectionId: string;
  collector: string;
  grantId: string;
  batch: BatchInterval;
  /** [reportId, subject] of every report aggregated, over all measurements. */
  reports: Array<[string, string]>;
  /** unix seconds */
  collectedAt: number;
}

/** Throws BATCH_INVALID unless the interval is non-empty and made of whole time-precision units. */
export function checkBatchInterval(batch: BatchInterval, precision: number): void {
  const { start, duration } = batch ?? ({} as BatchInterval);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(duration) || start < 0 || duration <= 0) {
    throw new AnalyticsError("BATCH_INVALID", `the batch interval must be { start >= 0, duration > 0 } in whole seconds, got ${JSON.stringify(batch)}`);
  }
  if (start % precision !== 0 || duration % precision !== 0) {
    throw new AnalyticsError(
      "BATCH_INVALID",
      `the batch interval [${start}, ${start + duration}) is not aligned to the study's time precision of ${precision} s`,
      { start, duration, precision },
    );
  }
}

export function inInterval(time: number, batch: BatchInterval): boolean {
  return time >= batch.start && time < batch.start + batch.duration;
}

function overlaps(a: BatchInterval, b: BatchInterval): boolean {
  return a.start < b.start + b.duration && b.start < a.start + a.duration;
}

/** Throws BATCH_TOO_SMALL unless the batch has at least k reports and k distinct subjects. */
export function checkMinimumBatch(measurement: string, reportCount: number, subjectCount: number, k: number): void {
  if (reportCount < k || subjectCount < k) {
    throw new AnalyticsError(
      "BATCH_TOO_SMALL",
      `measurement "${measurement}": the batch holds ${reportCount} reports of ${subjectCount} subjects; at least ${k} of each are needed`,
      { measurement, reportCount, subjectCount, minBatchSize: k },
    );
  }
}

/**
 * The differencing rule. A batch may overlap a collected batch of the same study (any buyer, any
 * grant) only if both cover the same interval and either hold the same reports, or each holds reports
 * of at least k subjects the other does not: then subtracting one aggregate from the other reveals a
 * difference of two aggregates of k or more subjects each, never one subject's value. Partial overlaps
 * in time are refused outright (DAP: a batch interval is collected once; intervals never overlap).
 */
export function checkDifferencing(
  collected: readonly CollectedBatch[],
  candidate: { collectionId: string; batch: BatchInterval; reports: Map<string, string> },
  k: number,
): void {
  for (const previous of collected) {
    if (previous.collectionId === candidate.collectionId || !overlaps(previous.batch, candidate.batch)) continue;
    const where = { collectedBatch: previous.batch, collectedAt: previous.collectedAt, batch: candidate.batch };
    if (previous.batch.start !== candidate.batch.start || previous.batch.duration !== candidate.batch.duration) {
      throw new AnalyticsError(
        "BATCH_OVERLAP",
        `the batch [${candidate.batch.start}, ${candidate.batch.start + candidate.batch.duration}) partly overlaps the batch [${previous.batch.start}, ${previous.batch.start + previous.batch.duration}) collected before`,
        where,
      );
    }
    const before = new Map(previous.reports);
    const added = new Set<string>();
    for (const [id, subject] of candidate.reports) if (!before.has(id)) added.add(subject);
    const removed = new Set<string>();
    for (const [id, subject] of before) if (!candidate.reports.has(id)) removed.add(subject);
    if (added.size === 0 && removed.size === 0) continue;
    if (added.size >= k && removed.size >= k) continue;
    throw new AnalyticsError(
      "BATCH_OVERLAP",
      `the batch differs from the one collected before for the same interval by ${added.size} added and ${removed.size} removed subjects; differencing the two would single out fewer than ${k} subjects`,
      { ...where, addedSubjects: added.size, removedSubjects: removed.size, minBatchSize: k },
    );
  }
}
