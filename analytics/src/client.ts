// The custodian's side: one report per released subject and measurement, sharded with Prio3 and each
// input share sealed to its aggregator, then uploaded to the leader in batches.
import { randomBytes } from "node:crypto";
import { AnalyticsError } from "./errors";
import { toBase64Url } from "./encoding";
import type { PreparePool } from "./pool";
import { PrepareExecutor, type ShardRequest, type ShardResponse } from "./prepare";
import { measure, type Study } from "./study";
import { vdafFor, vdafParametersOf } from "./vdaf";
import type { Report, UploadRequest, UploadResponse } from "./wire";

/** A dataset record as the SDK holds it: the subject and its record (JSON bytes, text or object). */
export interface DatasetRecordLike {
  subjectId: string;
  data: Uint8Array | string | Record<string, unknown>;
}

/** The consent ledger's decision on the buyer's dataset request (an AccessDecision): who is released. */
export interface ReleaseDecision {
  approvedSubjects: string[];
  grant: { grantId: string } | null;
}

export interface EncodeOptions {
  /** The time the measurements are reported for, unix seconds (default now); rounded down to the study's precision. */
  time?: number;
  /** Shard on these worker threads (default: inline). */
  pool?: PreparePool;
  /** Reports per request to a worker (default 64). */
  chunk?: number;
}

export interface EncodedReports {
  grantId: string;
  /** The grant's released subjects (the aggregators check them against the grant's digest). */
  subjects: string[];
  reports: Report[];
  /** Released subjects with no record for a measurement. */
  skipped: Array<{ subjectId: string; measurement: string }>;
}

function recordOf(data: DatasetRecordLike["data"], subjectId: string): Record<string, unknown> {
  if (typeof data === "object" && !(data instanceof Uint8Array)) return data;
  const text = typeof data === "string" ? data : new TextDecoder().decode(data);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new AnalyticsError("BAD_REQUEST", `subject ${subjectId}: a record is not JSON`, { subjectId });
  }
}

/**
 * One report per subject released by the decision and per measurement of the study (subjects the
 * decision does not release are never read). Throws OUT_OF_RANGE / AMBIGUOUS_RECORDS naming the
 * subject whose records do not fit the study: an honest client never shards an invalid value.
 */
export async function encodeReports(
  dataset: readonly DatasetRecordLike[],
  study: Study,
  release: ReleaseDecision,
  options: EncodeOptions = {},
): Promise<EncodedReports> {
  if (!release.grant) throw new AnalyticsError("GRANT_INVALID", "the access decision carries no grant: nothing is released");
  const descriptor = study.descriptor;
  const released = new Set(release.approvedSubjects);
  const bySubject = new Map<string, Record<string, unknown>[]>();
  for (const record of dataset) {
    if (!released.has(record.subjectId)) continue;
    const list = bySubject.get(record.subjectId) ?? [];
    list.push(recordOf(record.data, record.subjectId));
    bySubject.set(record.subjectId, list);
  }
  const precision = descriptor.timePrecisionSeconds;
  const time = Math.floor((options.time ?? Math.floor(Date.now() / 1000)) / precision) * precision;
  const skipped: EncodedReports["skipped"] = [];
  const requests: ShardRequest[] = [];
  const chunk = options.chunk ?? 64;
  for (const spec of descriptor.measurements) {
    const parameters = vdafParametersOf(spec);
    const vdaf = vdafFor(parameters);
    let items: ShardRequest["items"] = [];
    const flush = () => {
      if (items.length > 0)
        requests.push({
          op: "shard",
          studyId: study.productId.toLowerCase(),
          vdaf: parameters,
          leader: descriptor.aggregators.leader.hpkeConfig,
          helper: descriptor.aggregators.helper.hpkeConfig,
          items,
        });
      items = [];
    };
    for (const subjectId of [...released].sort()) {
      const value = measure(spec, subjectId, bySubject.get(subjectId) ?? []);
      if (value === null) {
        skipped.push({ subjectId, measurement: spec.name });
        continue;
      }
      items.push({ reportId: toBase64Url(randomBytes(16)), measurement: spec.name, subject: subjectId, time, value, rand: randomBytes(vdaf.randSize) });
      if (items.length >= chunk) flush();
    }
    flush();
  }
  const executor = options.pool ? null : new PrepareExecutor();
  const responses = await Promise.all(requests.map((r) => (options.pool ? options.pool.run<ShardResponse>(r) : (executor!.run(r) as Promise<ShardResponse>))));
  return { grantId: release.grant.grantId, subjects: [...release.approvedSubjects], reports: responses.flatMap((r) => r.reports), skipped };
}

/** Uploads the reports to the study's leader, `batchSize` per request; returns the leader's answers summed. */
export async function uploadReports(
  study: Study,
  encoded: EncodedReports,
  options: { batchSize?: number; fetch?: typeof fetch } = {},
): Promise<UploadResponse> {
  const batchSize = options.batchSize ?? 1_000;
  const doFetch = options.fetch ?? fetch;
  const url = `${study.descriptor.aggregators.leader.url}/v1/studies/${study.productId.toLowerCase()}/reports`;
  const total: UploadResponse = { accepted: 0, rejected: [] };
  for (let i = 0; i < Math.max(1, encoded.reports.length); i += batchSize) {
    const body: UploadRequest = {
      grantId: encoded.grantId,
      reports: encoded.reports.slice(i, i + batchSize),
      ...(i === 0 ? { subjects: encoded.subjects } : {}),
    };
    const response = await doFetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const answer = (await response.json()) as UploadResponse & { error?: { code: AnalyticsError["code"]; message: string; details?: Record<string, unknown> } };
    if (!response.ok)
      throw new AnalyticsError(
        answer.error?.code ?? "PEER_FAILED",
        `leader: ${answer.error?.message ?? `HTTP ${response.status}`}`,
        answer.error?.details ?? {},
      );
    total.accepted += answer.accepted;
    total.rejected.push(...answer.rejected);
  }
  return total;
}
