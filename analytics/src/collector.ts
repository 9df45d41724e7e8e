// The buyer's side: sign a collection request for a batch interval, let the leader run it, open the two
// aggregate shares with a one-time HPKE key, and unshard them into the study's statistics.
import type { Signer } from "ethers";
import { AnalyticsError, type AnalyticsErrorCode } from "./errors";
import { generateHpkeKeyPair, open } from "./hpke";
import type { MeasurementSpec, Study } from "./study";
import { vdafFor, vdafParametersOf } from "./vdaf";
import {
  aggregateShareAad,
  aggregateShareInfo,
  collectionDomain,
  ROLE_HELPER,
  ROLE_LEADER,
  signCollectionRequest,
  type BatchInterval,
  type CollectionJob,
  type CollectionRequest,
} from "./wire";
import type { ReleaseDecision } from "./client";

export interface CollectOptions {
  /** The licensee's wallet: it signs the request; its licence of the study product is checked. */
  signer: Signer;
  /** The collector's own access decision on the consent ledger (its grant and released subjects). */
  decision: ReleaseDecision;
  /** The chain and market the licence is on (the signature's EIP-712 domain). */
  chainId: bigint | number;
  market: string;
  /** unix seconds (default: the wall clock) */
  now?: () => number;
  pollMs?: number;
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface MeasurementResult {
  measurement: string;
  type: MeasurementSpec["type"];
  reportCount: number;
  /** count: subjects for whom the predicate holds; sum: the sum (in the measured unit, after dividing by scale); sumvec: per field; histogram: per bucket. */
  value: number | number[];
  /** sum and sumvec: value / reportCount */
  mean?: number | number[];
  /** histogram: the label of each bucket ("< 5.7", "[5.7, 6.5)", ">= 6.5") */
  buckets?: string[];
}

export interface CollectResult {
  collectionId: string;
  batch: BatchInterval;
  measurements: MeasurementResult[];
}

function bucketLabels(bounds: number[]): string[] {
  return [`< ${bounds[0]}`, ...bounds.slice(1).map((b, i) => `[${bounds[i]}, ${b})`), `>= ${bounds[bounds.length - 1]}`];
}

function interpret(spec: MeasurementSpec, raw: unknown, reportCount: number): Omit<MeasurementResult, "measurement" | "reportCount"> {
  switch (spec.type) {
    case "count":
      return { type: "count", value: Number(raw) };
    case "sum": {
      const value = Number(raw as bigint | number) / (spec.scale ?? 1);
      return { type: "sum", value, mean: reportCount > 0 ? value / reportCount : NaN };
    }
    case "sumvec": {
      const value = (raw as number[]).map((v) => Number(v) / (spec.scale ?? 1));
      return { type: "sumvec", value, mean: value.map((v) => (reportCount > 0 ? v / reportCount : NaN)) };
    }
    case "histogram":
      return { type: "histogram", value: (raw as number[]).map(Number), buckets: bucketLabels(spec.bounds) };
  }
}

async function send(
  doFetch: typeof fetch,
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: CollectionJob & { error?: CollectionJob["error"] } }> {
  let response: Response;
  try {
    response = await doFetch(url, init);
  } catch (error) {
    throw new AnalyticsError("PEER_FAILED", `the leader at ${url} could not be reached: ${(error as Error).message}`, { url }, { cause: error });
  }
  return { status: response.status, body: (await response.json()) as CollectionJob };
}

function refusal(error: { code: AnalyticsErrorCode; message: string; details?: Record<string, unknown> } | undefined, status: number): AnalyticsError {
  return new AnalyticsError(error?.code ?? "PEER_FAILED", error?.message?.replace(/^[A-Z_]+: /, "") ?? `HTTP ${status}`, error?.details ?? {});
}

/**
 * The study's aggregate over the reports with time in [window.start, window.start + window.duration).
 * Throws AnalyticsError with the aggregators' code when they refuse (NOT_LICENSED, BATCH_TOO_SMALL, ...).
 */
export async function collect(study: Study, window: BatchInterval, options: CollectOptions): Promise<CollectResult> {
  const doFetch = options.fetch ?? fetch;
  if (!options.decision.grant) throw new AnalyticsError("GRANT_INVALID", "the access decision carries no grant");
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const studyId = study.productId.toLowerCase();
  const key = await generateHpkeKeyPair(0);
  const request: CollectionRequest = {
    studyId,
    collector: await options.signer.getAddress(),
    grantId: options.decision.grant.grantId,
    batch: window,
    collectorKey: key.config,
    issuedAt: now(),
  };
  const signed = await signCollectionRequest(options.signer, collectionDomain(options.chainId, options.market), request, [
    ...options.decision.approvedSubjects,
  ]);
  const base = `${study.descriptor.aggregators.leader.url}/v1/studies/${studyId}/collections`;
  const submit = async () => {
    const { status, body } = await send(doFetch, base, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(signed) });
    if (status >= 400) throw refusal(body.error, status);
    return body;
  };
  let job = await submit();
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let resubmitted = false;
  while (job.status === "processing") {
    if (Date.now() > deadline) throw new AnalyticsError("PEER_FAILED", `collection ${job.collectionId} did not finish in ${options.timeoutMs ?? 600_000} ms`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    const { status, body } = await send(doFetch, `${base}/${job.collectionId}`);
    if (status === 404 && !resubmitted) {
      // the leader lost the job (restart): the same request is the same job
      resubmitted = true;
      job = await submit();
      continue;
    }
    if (status >= 400 && status !== 404) throw refusal(body.error, status);
    job = body;
  }
  if (job.status === "failed" || !job.result) throw refusal(job.error, 0);
  const measurements: MeasurementResult[] = [];
  for (const share of job.result.measurements) {
    const spec = study.descriptor.measurements.find((m) => m.name === share.measurement);
    if (!spec) throw new AnalyticsError("BAD_REQUEST", `the leader answered an unknown measurement "${share.measurement}"`);
    const vdaf = vdafFor(vdafParametersOf(spec));
    const aad = aggregateShareAad(studyId, job.collectionId, share.measurement, window, share.reportCount);
    const leader = vdaf.decodeAggregateShare(await open(key, share.leaderShare, aggregateShareInfo(ROLE_LEADER), aad));
    const helper = vdaf.decodeAggregateShare(await open(key, share.helperShare, aggregateShareInfo(ROLE_HELPER), aad));
    measurements.push({
      measurement: share.measurement,
      reportCount: share.reportCount,
      ...interpret(spec, vdaf.unshard(leader, helper, share.reportCount), share.reportCount),
    });
  }
  return { collectionId: job.collectionId, batch: window, measurements };
}
