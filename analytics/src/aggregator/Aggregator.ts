// An aggregator (leader or helper) of the analytics protocol: a fastify service with a durable store.
// Leader: takes the custodian's uploads, and on a collection request drives aggregation jobs with the
// helper, then releases its aggregate share sealed to the collector. Helper: prepares the report
// shares the leader sends and releases its own aggregate share. Each checks on its own, before it
// answers, the collector's signature, its licence on the market, the consent grant, the minimum batch
// and the differencing rule (docs/analytics.md §4-§6).
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import pino, { type Logger } from "pino";
import type { ContractRunner, TypedDataDomain } from "ethers";
import { AnalyticsError, httpStatusOf, type AnalyticsErrorCode } from "../errors";
import { fromBase64Url } from "../encoding";
import { generateHpkeKeyPair, open, seal, type HpkeCiphertext, type HpkeConfig, type HpkeKeyPair } from "../hpke";
import { PreparePool } from "../pool";
import type { FinishResponse, InitResponse, PrepareItem } from "../prepare";
import { studyHash, validateStudy, type StudyDescriptor } from "../study";
import { vdafFor, vdafParametersOf, type VdafParameters } from "../vdaf";
import {
  aggregateShareAad,
  aggregateShareInfo,
  checksumOf,
  collectionDomain,
  collectionIdOf,
  inputShareAad,
  inputShareInfo,
  ROLE_HELPER,
  ROLE_LEADER,
  verifyCollectionSignature,
  type AggregateShareRequest,
  type AggregateShareResponse,
  type AggregationJobRequest,
  type AggregationJobResponse,
  type BatchSummary,
  type CollectionJob,
  type CollectionResult,
  type PrepareResult,
  type Report,
  type ReportRejection,
  type SignedCollectionRequest,
  type UploadRequest,
  type UploadResponse,
} from "../wire";
import { checkBatchInterval, checkDifferencing, checkMinimumBatch, inInterval, type CollectedBatch } from "./batches";
import { ConsentView, type ConsentReader, type ReleasedGrant, type Withdrawal } from "./ConsentView";
import { DurableLog } from "./DurableLog";
import { MarketView } from "./MarketView";

export const DEFAULT_MIN_BATCH_FLOOR = 10;
/** A collection request older than this (or issued later than now + 60 s) is refused. */
export const COLLECTION_REQUEST_MAX_AGE_SECONDS = 600;
const MAX_REPORTS_PER_UPLOAD = 5_000;

export interface AggregatorOptions {
  role: "leader" | "helper";
  /** Holds the store (store.log) and, unless `hpke` is given, the HPKE key (hpke-key.json, mode 0600). */
  dataDir: string;
  host?: string;
  /** 0 (default): a free port. */
  port?: number;
  /** The consent ledger, read with an auditor identity (a ConsentLedgerClient). */
  consent: ConsentReader;
  /** The market the study products are sold on. */
  market: { address: string; runner: ContractRunner };
  /** The clock grants and collection requests are judged by, unix seconds (default: the wall clock). */
  now?: () => number;
  hpke?: HpkeKeyPair;
  /** Prio3 worker threads (default: one per core; 0: inline). */
  workers?: number;
  /** The aggregator's own k-anonymity floor: batches need max(study.minBatchSize, this) reports and subjects. Default 10. */
  minBatchFloor?: number;
  /** Reports per aggregation job (default 250). */
  jobSize?: number;
  /** Aggregation jobs a leader keeps in flight (default 2 per worker, at least 2). */
  jobsInFlight?: number;
  logger?: Logger;
  fetch?: typeof fetch;
}

export interface StudyRegistration {
  productId: string;
  descriptor: StudyDescriptor;
  /** The Prio3 verify key the two aggregators share (16 bytes, base64url); secret from clients and collectors. */
  verifyKey: string;
}

interface MeasurementState {
  parameters: VdafParameters;
}

interface StudyState {
  productId: string;
  descriptor: StudyDescriptor;
  verifyKey: Uint8Array;
  measurements: Map<string, MeasurementState>;
  /** consent-ledger resource ids the study's grants were issued on */
  resources: Set<string>;
  /** grantId -> the subjects it releases (as verified against its digest once) */
  grants: Map<string, string[]>;
  /** subject -> unix seconds of its latest withdrawal */
  withdrawn: Map<string, number>;
  /** leader: the stored reports */
  reports: Map<string, Report>;
  collected: CollectedBatch[];
  /** collection id -> what was released (leader: the result; helper: the encrypted shares) */
  released: Map<string, CollectionResult | AggregateShareResponse>;
}

type LogRecord =
  | { t: "study"; productId: string; descriptor: StudyDescriptor; verifyKey: string }
  | { t: "grant"; studyId: string; grantId: string; subjects: string[]; resourceId: string }
  | { t: "report"; studyId: string; report: Report }
  | { t: "withdrawn"; studyId: string; subject: string; at: number }
  | { t: "collected"; studyId: string; batch: CollectedBatch; released: CollectionResult | AggregateShareResponse }
  | { t: "checkpoint"; block: string };

interface CollectionContext {
  study: StudyState;
  signed: SignedCollectionRequest;
  collectionId: string;
  grant: ReleasedGrant;
  k: number;
}

interface HelperAccumulator {
  aggregate: bigint[];
  count: number;
  reports: Map<string, string>;
}

interface HelperCollection {
  context: CollectionContext;
  /** report ids in jobs being prepared (a replay within the collection is refused before it is prepared twice) */
  pending: Set<string>;
  measurements: Map<string, HelperAccumulator>;
  touchedAt: number;
}

const HELPER_COLLECTION_TTL_MS = 3_600_000;

export class Aggregator {
  readonly role: "leader" | "helper";
  private readonly studies = new Map<string, StudyState>();
  private readonly jobs = new Map<string, CollectionJob>();
  private readonly helperCollections = new Map<string, Promise<HelperCollection>>();
  private readonly consent: ConsentView;
  private readonly market: MarketView;
  private readonly pool: PreparePool;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;
  private domain?: TypedDataDomain;
  private lastBlock = -1n;
  private url_ = "";

  private constructor(
    private readonly options: AggregatorOptions,
    private readonly store: DurableLog<LogRecord>,
    private readonly key: HpkeKeyPair,
    private readonly server: FastifyInstance,
  ) {
    this.role = options.role;
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.consent = new ConsentView(options.consent, this.now);
    this.market = new MarketView(options.market.address, options.market.runner);
    this.pool = new PreparePool(options.workers);
    this.log = options.logger ?? pino({ level: "silent" });
    this.fetch = options.fetch ?? fetch;
  }

  /** Opens the store (replaying it), starts the HTTP API and follows the consent ledger. */
  static async start(options: AggregatorOptions): Promise<Aggregator> {
    await fs.mkdir(options.dataDir, { recursive: true });
    const key = options.hpke ?? (await loadOrCreateKey(path.join(options.dataDir, "hpke-key.json")));
    const { log, records } = await DurableLog.open<LogRecord>(path.join(options.dataDir, "store.log"));
    const server = Fastify({ bodyLimit: 256 * 1024 * 1024, logger: false });
    const aggregator = new Aggregator(options, log, key, server);
    for (const record of records) aggregator.apply(record);
    aggregator.routes();
    await server.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
    const address = server.server.address();
    aggregator.url_ = typeof address === "object" && address ? `http://${options.host ?? "127.0.0.1"}:${address.port}` : String(address);
    await aggregator.consent.follow(aggregator.lastBlock + 1n, {
      onWithdrawal: (w) => aggregator.onWithdrawal(w),
      onBlock: async (block) => {
        aggregator.lastBlock = block;
      },
      onError: (error) => aggregator.log.error({ err: error }, "consent ledger event stream failed"),
    });
    return aggregator;
  }

  get url(): string {
    return this.url_;
  }

  /** The HPKE config clients seal this aggregator's input shares to. */
  get hpkeConfig(): HpkeConfig {
    return this.key.config;
  }

  /** Number of reports stored for a study (leader). */
  reportCount(studyId: string): number {
    return this.studies.get(studyId.toLowerCase())?.reports.size ?? 0;
  }

  /** Unix seconds of the subject's withdrawal as this aggregator knows it, or undefined. */
  withdrawalOf(studyId: string, subject: string): number | undefined {
    return this.studies.get(studyId.toLowerCase())?.withdrawn.get(subject);
  }

  /** The stored reports of a study (leader), as uploaded: what this aggregator holds. */
  storedReports(studyId: string): Report[] {
    return [...(this.studies.get(studyId.toLowerCase())?.reports.values() ?? [])];
  }

  /** Decrypts this aggregator's own input share of a stored report (its view of the subject's data). */
  async ownInputShare(studyId: string, report: Report): Promise<Uint8Array> {
    const role = this.role === "leader" ? ROLE_LEADER : ROLE_HELPER;
    return open(this.key, this.role === "leader" ? report.leaderShare : report.helperShare, inputShareInfo(role), inputShareAad(studyId, report));
  }

  /**
   * Serves a study: checks the descriptor, that the market's product carries its hash as termsHash,
   * and that the descriptor names this aggregator's HPKE key for its role; then stores it.
   */
  async addStudy(registration: StudyRegistration): Promise<void> {
    validateStudy(registration.descriptor);
    const productId = registration.productId.toLowerCase();
    await this.market.checkProduct(productId, studyHash(registration.descriptor), registration.descriptor.purpose);
    const mine = registration.descriptor.aggregators[this.role].hpkeConfig;
    if (mine.publicKey !== this.key.config.publicKey || mine.id !== this.key.config.id) {
      throw new AnalyticsError("INVALID_STUDY", `the study names another HPKE key for the ${this.role} than this aggregator's`, { productId });
    }
    if (fromBase64Url(registration.verifyKey).length !== 16) throw new AnalyticsError("INVALID_STUDY", "the verify key must be 16 bytes (base64url)");
    const existing = this.studies.get(productId);
    if (existing) {
      if (studyHash(existing.descriptor) !== studyHash(registration.descriptor))
        throw new AnalyticsError("INVALID_STUDY", `study ${productId} is already served with another descriptor`);
      return;
    }
    const record: LogRecord = { t: "study", productId, descriptor: registration.descriptor, verifyKey: registration.verifyKey };
    await this.store.append([record]);
    this.apply(record);
  }

  async close(): Promise<void> {
    this.consent.stop();
    await this.server.close();
    await this.pool.close();
    await this.store.append([{ t: "checkpoint", block: this.lastBlock.toString() }]).catch(() => undefined);
    await this.store.close();
  }

  // --- state ----------------------------------------------------------------------------------

  private apply(record: LogRecord): void {
    switch (record.t) {
      case "study":
        this.studies.set(record.productId, {
          productId: record.productId,
          descriptor: record.descriptor,
          verifyKey: fromBase64Url(record.verifyKey),
          measurements: new Map(record.descriptor.measurements.map((m) => [m.name, { parameters: vdafParametersOf(m) }])),
          resources: new Set(),
          grants: new Map(),
          withdrawn: new Map(),
          reports: new Map(),
          collected: [],
          released: new Map(),
        });
        return;
      case "grant": {
        const study = this.studies.get(record.studyId);
        study?.grants.set(record.grantId, record.subjects);
        study?.resources.add(record.resourceId);
        return;
      }
      case "report":
        this.studies.get(record.studyId)?.reports.set(record.report.reportId, record.report);
        return;
      case "withdrawn": {
        const study = this.studies.get(record.studyId);
        if (!study) return;
        study.withdrawn.set(record.subject, record.at);
        // from the moment of withdrawal the subject's stored reports are not used again
        for (const [id, report] of study.reports) if (report.subject === record.subject) study.reports.delete(id);
        return;
      }
      case "collected": {
        const study = this.studies.get(record.studyId);
        study?.collected.push(record.batch);
        study?.released.set(record.batch.collectionId, record.released);
        return;
      }
      case "checkpoint":
        if (BigInt(record.block) > this.lastBlock) this.lastBlock = BigInt(record.block);
        return;
    }
  }

  private async onWithdrawal(withdrawal: Withdrawal): Promise<void> {
    const records: LogRecord[] = [];
    for (const study of this.studies.values()) {
      const concerned = withdrawal.resources === null || withdrawal.resources.some((r) => study.resources.has(r));
      const known = study.withdrawn.get(withdrawal.subject);
      if (!concerned || (known !== undefined && known >= withdrawal.at)) continue;
      records.push({ t: "withdrawn", studyId: study.productId, subject: withdrawal.subject, at: withdrawal.at });
    }
    if (records.length === 0) return;
    // the checkpoint goes with the withdrawal: a restart never applies it twice
    records.push({ t: "checkpoint", block: (this.lastBlock + 1n).toString() });
    await this.store.append(records);
    for (const r of records) if (r.t === "withdrawn") this.apply(r);
    this.log.info({ subject: withdrawal.subject, at: withdrawal.at }, "consent withdrawn: subject dropped");
  }

  private study(studyId: string): StudyState {
    const study = this.studies.get(String(studyId).toLowerCase());
    if (!study) throw new AnalyticsError("UNKNOWN_STUDY", `this aggregator serves no study ${studyId}`, { studyId });
    return study;
  }

  private minBatch(study: StudyState): number {
    return Math.max(study.descriptor.minBatchSize, this.options.minBatchFloor ?? DEFAULT_MIN_BATCH_FLOOR);
  }

  /** Whether the subject may be included under a grant issued at `issuedAt`: released and not withdrawn since. */
  private released(study: StudyState, grant: ReleasedGrant, subject: string): boolean {
    if (!grant.subjects.has(subject)) return false;
    const withdrawnAt = study.withdrawn.get(subject);
    return withdrawnAt === undefined || withdrawnAt < grant.issuedAt;
  }

  /** Verifies a grant (fresh read) with the subjects presented or stored, and stores a new subject list. */
  private async grant(study: StudyState, grantId: string, subjects?: string[]): Promise<ReleasedGrant> {
    const id = String(grantId).toLowerCase();
    const list = subjects ?? study.grants.get(id);
    if (!list) throw new AnalyticsError("GRANT_INVALID", `grant ${grantId} is not known to this aggregator: present its released subjects`, { grantId });
    const grant = await this.consent.verifyGrant(id, list, { productId: study.productId, purpose: study.descriptor.purpose });
    if (!study.grants.has(id)) {
      const record: LogRecord = { t: "grant", studyId: study.productId, grantId: id, subjects: [...list], resourceId: grant.resourceId };
      await this.store.append([record]);
      this.apply(record);
    }
    return grant;
  }

  // --- HTTP -------------------------------------------------------------------------------------

  private routes(): void {
    const s = this.server;
    const handle =
      <T>(work: (body: T, params: Record<string, string>) => Promise<unknown>, status = 200) =>
      async (request: { body: unknown; params: unknown }, reply: FastifyReply) => {
        try {
          const result = await work(request.body as T, request.params as Record<string, string>);
          return reply.code(status).send(result);
        } catch (error) {
          return this.sendError(reply, error);
        }
      };
    s.get("/v1/hpke-config", async () => this.key.config);
    if (this.role === "leader") {
      s.post(
        "/v1/studies/:studyId/reports",
        handle<UploadRequest>((body, p) => this.upload(p.studyId, body)),
      );
      s.post("/v1/studies/:studyId/collections", async (request, reply) => {
        try {
          const job = await this.startCollection((request.params as { studyId: string }).studyId, request.body as SignedCollectionRequest);
          return reply.code(201).send(job);
        } catch (error) {
          return this.sendError(reply, error);
        }
      });
      s.get("/v1/studies/:studyId/collections/:collectionId", async (request, reply) => {
        const { studyId, collectionId } = request.params as { studyId: string; collectionId: string };
        try {
          const job = this.collectionJob(studyId, collectionId);
          return reply.code(job.status === "processing" ? 202 : 200).send(job);
        } catch (error) {
          return this.sendError(reply, error);
        }
      });
    } else {
      s.post(
        "/v1/studies/:studyId/aggregation-jobs",
        handle<AggregationJobRequest>((body, p) => this.aggregationJob(p.studyId, body)),
      );
      s.post(
        "/v1/studies/:studyId/aggregate-shares",
        handle<AggregateShareRequest>((body, p) => this.aggregateShare(p.studyId, body)),
      );
    }
  }

  private sendError(reply: FastifyReply, error: unknown) {
    if (error instanceof AnalyticsError) return reply.code(httpStatusOf(error.code)).send({ error: error.toJSON() });
    this.log.error({ err: error }, "internal error");
    return reply.code(500).send({ error: { code: "INTERNAL", message: (error as Error).message } });
  }

  // --- leader: uploads --------------------------------------------------------------------------

  private async upload(studyId: string, body: UploadRequest): Promise<UploadResponse> {
    const study = this.study(studyId);
    if (!body || typeof body !== "object" || !Array.isArray(body.reports) || typeof body.grantId !== "string") {
      throw new AnalyticsError("BAD_REQUEST", "an upload is { grantId, subjects?, reports: [...] }");
    }
    if (body.reports.length > MAX_REPORTS_PER_UPLOAD)
      throw new AnalyticsError("BAD_REQUEST", `at most ${MAX_REPORTS_PER_UPLOAD} reports per upload, got ${body.reports.length}`);
    const grant = await this.grant(study, body.grantId, body.subjects);
    const precision = study.descriptor.timePrecisionSeconds;
    const now = this.now();
    const rejected: ReportRejection[] = [];
    const accepted: Report[] = [];
    const seen = new Set<string>();
    for (const report of body.reports) {
      const reject = (code: AnalyticsErrorCode, message: string) => rejected.push({ reportId: String(report?.reportId), code, message });
      const shape = reportShapeError(report);
      if (shape) {
        reject("BAD_REQUEST", shape);
        continue;
      }
      if (!study.measurements.has(report.measurement)) {
        reject("UNKNOWN_STUDY", `the study has no measurement "${report.measurement}"`);
        continue;
      }
      if (report.time % precision !== 0) {
        reject("BAD_REQUEST", `time ${report.time} is not a multiple of the time precision ${precision}`);
        continue;
      }
      if (report.time > now + precision) {
        reject("BAD_REQUEST", `time ${report.time} is in the future (now ${now})`);
        continue;
      }
      if (!this.released(study, grant, report.subject)) {
        const at = study.withdrawn.get(report.subject);
        reject(
          "SUBJECT_NOT_RELEASED",
          at !== undefined && grant.subjects.has(report.subject)
            ? `subject ${report.subject} withdrew consent at ${at}`
            : `subject ${report.subject} is not released by grant ${grant.grantId}`,
        );
        continue;
      }
      if (study.reports.has(report.reportId) || seen.has(report.reportId)) {
        reject("REPORT_REPLAYED", `report ${report.reportId} was uploaded before`);
        continue;
      }
      const closed = study.collected.find((c) => inInterval(report.time, c.batch));
      if (closed) {
        reject(
          "REPORT_TOO_LATE",
          `the batch [${closed.batch.start}, ${closed.batch.start + closed.batch.duration}) holding time ${report.time} has been collected`,
        );
        continue;
      }
      seen.add(report.reportId);
      accepted.push(report);
    }
    const records: LogRecord[] = accepted.map((report) => ({ t: "report", studyId: study.productId, report }));
    await this.store.append(records);
    for (const record of records) this.apply(record);
    return { accepted: accepted.length, rejected };
  }

  // --- collection checks (both roles) -----------------------------------------------------------

  private async collectionDomain(): Promise<TypedDataDomain> {
    this.domain ??= collectionDomain(await this.market.chainId(), this.market.address);
    return this.domain;
  }

  /** Signature, freshness, batch, grant (fresh read) and licence (chain now): everything checked before answering. */
  private async checkCollection(study: StudyState, signed: SignedCollectionRequest, checkFreshness: boolean): Promise<CollectionContext> {
    if (!signed || typeof signed !== "object" || !signed.request || !Array.isArray(signed.subjects) || typeof signed.signature !== "string") {
      throw new AnalyticsError("BAD_REQUEST", "a collection request is { request, subjects, signature }");
    }
    const { request } = signed;
    if (String(request.studyId).toLowerCase() !== study.productId)
      throw new AnalyticsError("BAD_REQUEST", `the request is for study ${request.studyId}, not ${study.productId}`);
    verifyCollectionSignature(await this.collectionDomain(), signed);
    const now = this.now();
    if (checkFreshness && (request.issuedAt < now - COLLECTION_REQUEST_MAX_AGE_SECONDS || request.issuedAt > now + 60)) {
      throw new AnalyticsError("BAD_SIGNATURE", `the collection request was issued at ${request.issuedAt}; now is ${now}: sign a fresh one`, {
        issuedAt: request.issuedAt,
        now,
      });
    }
    checkBatchInterval(request.batch, study.descriptor.timePrecisionSeconds);
    const grant = await this.grant(study, request.grantId, signed.subjects);
    if (grant.buyer !== request.collector.toLowerCase()) {
      throw new AnalyticsError("GRANT_INVALID", `grant ${grant.grantId} was issued to ${grant.buyer}, not to the collector ${request.collector}`, {
        grantId: grant.grantId,
        buyer: grant.buyer,
      });
    }
    await this.market.checkLicence(study.productId, request.collector, grant);
    return { study, signed, collectionId: collectionIdOf(request), grant, k: this.minBatch(study) };
  }

  // --- leader: collection -----------------------------------------------------------------------

  private collectionJob(studyId: string, collectionId: string): CollectionJob {
    const study = this.study(studyId);
    const released = study.released.get(collectionId);
    if (released) return { collectionId, status: "done", result: released as CollectionResult };
    const job = this.jobs.get(collectionId);
    if (!job) throw new AnalyticsError("UNKNOWN_COLLECTION", `no collection ${collectionId}: submit the request again`, { collectionId });
    return job;
  }

  private async startCollection(studyId: string, signed: SignedCollectionRequest): Promise<CollectionJob> {
    const study = this.study(studyId);
    const collectionId = collectionIdOf(signed.request);
    const released = study.released.get(collectionId);
    const running = this.jobs.get(collectionId);
    if (running?.status === "processing") return running;
    // a collection released before is answered again only to a collector still licensed
    const context = await this.checkCollection(study, signed, released === undefined);
    if (released) return { collectionId, status: "done", result: released as CollectionResult };
    const job: CollectionJob = { collectionId, status: "processing" };
    this.jobs.set(collectionId, job);
    void this.runCollection(context).then(
      (result) => {
        job.status = "done";
        job.result = result;
      },
      (error) => {
        job.status = "failed";
        job.error = error instanceof AnalyticsError ? error.toJSON() : { code: "PEER_FAILED", message: (error as Error).message };
        this.log.warn({ err: error, collectionId }, "collection failed");
      },
    );
    return { ...job };
  }

  private selectReports(context: CollectionContext): Map<string, Report[]> {
    const { study, grant, signed } = context;
    const byMeasurement = new Map<string, Report[]>([...study.measurements.keys()].map((m) => [m, []]));
    for (const report of study.reports.values()) {
      if (inInterval(report.time, signed.request.batch) && this.released(study, grant, report.subject)) byMeasurement.get(report.measurement)?.push(report);
    }
    return byMeasurement;
  }

  private checkBatches(context: CollectionContext, accepted: Map<string, Map<string, string>>): void {
    const all = new Map<string, string>();
    for (const [measurement, reports] of accepted) {
      checkMinimumBatch(measurement, reports.size, new Set(reports.values()).size, context.k);
      for (const [id, subject] of reports) all.set(id, subject);
    }
    checkDifferencing(context.study.collected, { collectionId: context.collectionId, batch: context.signed.request.batch, reports: all }, context.k);
  }

  private async runCollection(context: CollectionContext): Promise<CollectionResult> {
    const { study, collectionId, signed } = context;
    const selected = this.selectReports(context);
    // refuse early what would be refused at the end anyway
    this.checkBatches(context, new Map([...selected].map(([m, reports]) => [m, new Map(reports.map((r) => [r.reportId, r.subject]))])));

    const jobSize = this.options.jobSize ?? 250;
    const inFlight = this.options.jobsInFlight ?? Math.max(2, 2 * this.pool.workers);
    const tasks: Array<{ measurement: string; reports: Report[] }> = [];
    for (const [measurement, reports] of selected)
      for (let i = 0; i < reports.length; i += jobSize) tasks.push({ measurement, reports: reports.slice(i, i + jobSize) });
    const partials = new Map<string, bigint[][]>([...selected.keys()].map((m) => [m, []]));
    const accepted = new Map<string, Map<string, string>>([...selected.keys()].map((m) => [m, new Map()]));
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++];
        const { aggregate, reports } = await this.runAggregationJob(context, task.measurement, task.reports);
        partials.get(task.measurement)!.push(aggregate);
        for (const r of reports) accepted.get(task.measurement)!.set(r.reportId, r.subject);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, tasks.length) }, worker));

    this.checkBatches(context, accepted);
    const batches: BatchSummary[] = [...accepted].map(([measurement, reports]) => ({
      measurement,
      reportCount: reports.size,
      checksum: checksumOf(reports.keys()),
    }));
    const helper = await this.callHelper<AggregateShareResponse>(study, "aggregate-shares", {
      collectionId,
      collection: signed,
      batches,
    } satisfies AggregateShareRequest);
    // the leader's own answer: checked again now, as the helper did
    const fresh = await this.checkCollection(study, signed, false);
    this.checkBatches(fresh, accepted);
    const measurements: CollectionResult["measurements"] = [];
    for (const summary of batches) {
      const vdaf = vdafFor(study.measurements.get(summary.measurement)!.parameters);
      const aggregate = vdaf.aggregate(partials.get(summary.measurement)!);
      const helperShare = helper.shares.find((s) => s.measurement === summary.measurement);
      if (!helperShare || helperShare.reportCount !== summary.reportCount) {
        throw new AnalyticsError(
          "BATCH_MISMATCH",
          `the helper answered ${helperShare?.reportCount ?? "nothing"} reports for "${summary.measurement}", the leader has ${summary.reportCount}`,
        );
      }
      const aad = aggregateShareAad(study.productId, collectionId, summary.measurement, signed.request.batch, summary.reportCount);
      const leaderShare = await seal(signed.request.collectorKey, aggregateShareInfo(ROLE_LEADER), aad, vdaf.encodeAggregateShare(aggregate));
      measurements.push({ measurement: summary.measurement, reportCount: summary.reportCount, leaderShare, helperShare: helperShare.encryptedShare });
    }
    const result: CollectionResult = { collectionId, batch: signed.request.batch, measurements };
    const all: Array<[string, string]> = [];
    for (const reports of accepted.values()) all.push(...reports);
    const record: LogRecord = {
      t: "collected",
      studyId: study.productId,
      released: result,
      batch: {
        collectionId,
        collector: signed.request.collector.toLowerCase(),
        grantId: context.grant.grantId,
        batch: signed.request.batch,
        reports: all,
        collectedAt: this.now(),
      },
    };
    await this.store.append([record]);
    this.apply(record);
    this.jobs.delete(collectionId);
    return result;
  }

  /** One aggregation job: the leader prepares, the helper prepares and finishes, the leader finishes. */
  private async runAggregationJob(context: CollectionContext, measurement: string, reports: Report[]): Promise<{ aggregate: bigint[]; reports: Report[] }> {
    const { study, collectionId, signed } = context;
    const parameters = study.measurements.get(measurement)!.parameters;
    const job = this.pool.newJob();
    const items: PrepareItem[] = reports.map((r) => ({
      reportId: r.reportId,
      publicShare: r.publicShare,
      ciphertext: r.leaderShare,
      aad: inputShareAad(study.productId, r),
    }));
    const init = await this.pool.run<InitResponse>({ op: "leader-init", job, vdaf: parameters, verifyKey: study.verifyKey, key: this.key, items });
    const prepared = reports.map((r, i) => ({ report: r, outcome: init.outcomes[i] })).filter((x) => x.outcome.ok);
    let results: PrepareResult[] = [];
    try {
      if (prepared.length > 0) {
        const request: AggregationJobRequest = {
          collectionId,
          collection: signed,
          measurement,
          reports: prepared.map(({ report, outcome }) => ({
            reportId: report.reportId,
            time: report.time,
            subject: report.subject,
            publicShare: report.publicShare,
            helperShare: report.helperShare,
            leaderPrepShare: (outcome as { value: string }).value,
          })),
        };
        results = (await this.callHelper<AggregationJobResponse>(study, "aggregation-jobs", request)).results;
      }
    } catch (error) {
      await this.pool.run<FinishResponse>({ op: "leader-finish", job, vdaf: parameters, messages: reports.map(() => null) });
      throw error;
    }
    const byId = new Map(results.map((r) => [r.reportId, r]));
    const messages = reports.map((r) => {
      const result = byId.get(r.reportId);
      return result && "prepMessage" in result ? result.prepMessage : null;
    });
    const finish = await this.pool.run<FinishResponse>({ op: "leader-finish", job, vdaf: parameters, messages });
    const vdaf = vdafFor(parameters);
    return { aggregate: vdaf.decodeAggregateShare(fromBase64Url(finish.aggregate)), reports: reports.filter((_, i) => finish.accepted[i]) };
  }

  private async callHelper<T>(study: StudyState, route: "aggregation-jobs" | "aggregate-shares", body: unknown): Promise<T> {
    const url = `${study.descriptor.aggregators.helper.url}/v1/studies/${study.productId}/${route}`;
    let response: Response;
    try {
      response = await this.fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    } catch (error) {
      throw new AnalyticsError("PEER_FAILED", `the helper at ${url} could not be reached: ${(error as Error).message}`, { url }, { cause: error });
    }
    const answer = (await response.json().catch(() => ({}))) as { error?: { code: AnalyticsErrorCode; message: string; details?: Record<string, unknown> } };
    if (!response.ok) {
      const e = answer.error;
      // the helper's refusal is the collection's refusal, under the helper's own code
      if (e?.code) throw new AnalyticsError(e.code, `helper: ${e.message}`, { ...(e.details ?? {}), by: "helper" });
      throw new AnalyticsError("PEER_FAILED", `the helper answered HTTP ${response.status}`, { url });
    }
    return answer as T;
  }

  // --- helper -----------------------------------------------------------------------------------

  private async helperCollection(study: StudyState, collectionId: string, signed: SignedCollectionRequest): Promise<HelperCollection> {
    if (collectionId !== collectionIdOf(signed.request)) throw new AnalyticsError("BAD_REQUEST", "the collection id does not match the collection request");
    const now = Date.now();
    let pending = this.helperCollections.get(collectionId);
    if (!pending) {
      // concurrent jobs of one collection share one check and one accumulator
      pending = this.checkCollection(study, signed, true).then((context) => ({ context, measurements: new Map(), pending: new Set<string>(), touchedAt: now }));
      this.helperCollections.set(collectionId, pending);
      pending.catch(() => this.helperCollections.delete(collectionId));
      for (const [id, c] of this.helperCollections) {
        void c.then(
          (x) => {
            if (now - x.touchedAt > HELPER_COLLECTION_TTL_MS) this.helperCollections.delete(id);
          },
          () => undefined,
        );
      }
    }
    const collection = await pending;
    collection.touchedAt = now;
    return collection;
  }

  private async aggregationJob(studyId: string, body: AggregationJobRequest): Promise<AggregationJobResponse> {
    const study = this.study(studyId);
    if (!body || !Array.isArray(body.reports) || typeof body.measurement !== "string")
      throw new AnalyticsError("BAD_REQUEST", "an aggregation job is { collectionId, collection, measurement, reports }");
    const measurement = study.measurements.get(body.measurement);
    if (!measurement) throw new AnalyticsError("UNKNOWN_STUDY", `the study has no measurement "${body.measurement}"`);
    const collection = await this.helperCollection(study, body.collectionId, body.collection);
    const { grant, signed } = collection.context;
    let accumulator = collection.measurements.get(body.measurement);
    if (!accumulator) {
      accumulator = { aggregate: [], count: 0, reports: new Map() };
      collection.measurements.set(body.measurement, accumulator);
    }
    const results: PrepareResult[] = [];
    const items: PrepareItem[] = [];
    const itemIds: string[] = [];
    const itemSubjects: string[] = [];
    for (const r of body.reports) {
      const fail = (error: PrepareResult & { error: string }) => results.push(error);
      if (reportShapeError({ ...r, measurement: body.measurement, leaderShare: r.helperShare } as Report) || typeof r.leaderPrepShare !== "string") {
        fail({ reportId: String(r?.reportId), error: "BAD_REQUEST" });
        continue;
      }
      if (!this.released(study, grant, r.subject)) {
        fail({ reportId: r.reportId, error: "SUBJECT_NOT_RELEASED" });
        continue;
      }
      if (!inInterval(r.time, signed.request.batch)) {
        fail({ reportId: r.reportId, error: "BATCH_INVALID" });
        continue;
      }
      if (accumulator.reports.has(r.reportId) || collection.pending.has(r.reportId)) {
        fail({ reportId: r.reportId, error: "REPORT_REPLAYED" });
        continue;
      }
      collection.pending.add(r.reportId);
      items.push({
        reportId: r.reportId,
        publicShare: r.publicShare,
        ciphertext: r.helperShare,
        peerPrepShare: r.leaderPrepShare,
        aad: inputShareAad(study.productId, {
          reportId: r.reportId,
          measurement: body.measurement,
          subject: r.subject,
          time: r.time,
          publicShare: r.publicShare,
        }),
      });
      itemIds.push(r.reportId);
      itemSubjects.push(r.subject);
    }
    if (items.length > 0) {
      let prepared: InitResponse & FinishResponse;
      try {
        prepared = await this.pool.run<InitResponse & FinishResponse>({
          op: "helper-prepare",
          vdaf: measurement.parameters,
          verifyKey: study.verifyKey,
          key: this.key,
          items,
        });
      } finally {
        for (const id of itemIds) collection.pending.delete(id);
      }
      const vdaf = vdafFor(measurement.parameters);
      const partial = vdaf.decodeAggregateShare(fromBase64Url(prepared.aggregate));
      accumulator.aggregate = accumulator.count === 0 ? partial : vdaf.aggregate([accumulator.aggregate, partial]);
      accumulator.count += prepared.count;
      prepared.outcomes.forEach((outcome, i) => {
        const reportId = itemIds[i];
        if (outcome.ok) {
          accumulator!.reports.set(reportId, itemSubjects[i]);
          results.push({ reportId, prepMessage: outcome.value });
        } else {
          results.push({ reportId, error: outcome.code === "BAD_REQUEST" ? "BAD_REQUEST" : outcome.code });
        }
      });
    }
    return { results };
  }

  private async aggregateShare(studyId: string, body: AggregateShareRequest): Promise<AggregateShareResponse> {
    const study = this.study(studyId);
    if (!body || !Array.isArray(body.batches)) throw new AnalyticsError("BAD_REQUEST", "an aggregate-share request is { collectionId, collection, batches }");
    // before answering: signature, grant and licence again, now
    const context = await this.checkCollection(study, body.collection, false);
    if (context.collectionId !== body.collectionId) throw new AnalyticsError("BAD_REQUEST", "the collection id does not match the collection request");
    const released = study.released.get(body.collectionId);
    if (released) {
      this.helperCollections.delete(body.collectionId);
      return released as AggregateShareResponse;
    }
    const collection = await this.helperCollections.get(body.collectionId)?.catch(() => undefined);
    if (!collection)
      throw new AnalyticsError("BATCH_MISMATCH", `the helper prepared no report of collection ${body.collectionId} (restarted?): run the collection again`);
    const all = new Map<string, string>();
    const shares: AggregateShareResponse["shares"] = [];
    for (const [name, measurement] of study.measurements) {
      const summary = body.batches.find((b) => b.measurement === name);
      const accumulator = collection.measurements.get(name) ?? { aggregate: [], count: 0, reports: new Map<string, string>() };
      if (!summary || summary.reportCount !== accumulator.count || summary.checksum !== checksumOf(accumulator.reports.keys())) {
        throw new AnalyticsError(
          "BATCH_MISMATCH",
          `measurement "${name}": the leader counts ${summary?.reportCount ?? "nothing"}, the helper ${accumulator.count} reports (or the checksums differ)`,
          { measurement: name },
        );
      }
      // a subject that withdrew while the batch was prepared: nothing of it is released
      for (const subject of accumulator.reports.values()) {
        if (!this.released(study, context.grant, subject))
          throw new AnalyticsError("SUBJECT_NOT_RELEASED", `subject ${subject} withdrew consent during the collection: collect again`);
      }
      checkMinimumBatch(name, accumulator.count, new Set(accumulator.reports.values()).size, context.k);
      for (const [id, subject] of accumulator.reports) all.set(id, subject);
      const vdaf = vdafFor(measurement.parameters);
      const aggregate = accumulator.count === 0 ? vdaf.aggregate([]) : accumulator.aggregate;
      const aad = aggregateShareAad(study.productId, body.collectionId, name, context.signed.request.batch, accumulator.count);
      const encryptedShare: HpkeCiphertext = await seal(
        context.signed.request.collectorKey,
        aggregateShareInfo(ROLE_HELPER),
        aad,
        vdaf.encodeAggregateShare(aggregate),
      );
      shares.push({ measurement: name, reportCount: accumulator.count, encryptedShare });
    }
    checkDifferencing(study.collected, { collectionId: body.collectionId, batch: context.signed.request.batch, reports: all }, context.k);
    const response: AggregateShareResponse = { shares };
    const record: LogRecord = {
      t: "collected",
      studyId: study.productId,
      released: response,
      batch: {
        collectionId: body.collectionId,
        collector: context.signed.request.collector.toLowerCase(),
        grantId: context.grant.grantId,
        batch: context.signed.request.batch,
        reports: [...all],
        collectedAt: this.now(),
      },
    };
    await this.store.append([record]);
    this.apply(record);
    this.helperCollections.delete(body.collectionId);
    return response;
  }
}

function isCiphertext(value: unknown): value is HpkeCiphertext {
  const c = value as HpkeCiphertext;
  return !!c && Number.isInteger(c.configId) && typeof c.enc === "string" && typeof c.payload === "string";
}

/** A reason the report is malformed, or null. */
function reportShapeError(report: Report): string | null {
  if (!report || typeof report !== "object") return "a report must be an object";
  if (typeof report.reportId !== "string" || !/^[A-Za-z0-9_-]{22}$/.test(report.reportId)) return "reportId must be 16 bytes, base64url";
  if (typeof report.measurement !== "string") return "measurement must be a string";
  if (typeof report.subject !== "string" || report.subject.length === 0 || report.subject.length > 256) return "subject must be 1..256 characters";
  if (!Number.isSafeInteger(report.time) || report.time < 0) return "time must be unix seconds";
  if (typeof report.publicShare !== "string" || !/^[A-Za-z0-9_-]*$/.test(report.publicShare)) return "publicShare must be base64url";
  if (!isCiphertext(report.leaderShare) || !isCiphertext(report.helperShare))
    return "leaderShare and helperShare must be HPKE ciphertexts { configId, enc, payload }";
  return null;
}

async function loadOrCreateKey(file: string): Promise<HpkeKeyPair> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as HpkeKeyPair;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const pair = await generateHpkeKeyPair(randomBytes(1)[0]);
  await fs.writeFile(file, JSON.stringify(pair), { mode: 0o600 });
  return pair;
}
