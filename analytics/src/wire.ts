// The messages between custodian (client), leader, helper and collector (docs/analytics.md §5), and the
// bytes each HPKE ciphertext and signature is bound to. JSON over HTTP; binary fields are base64url.
import { createHash } from "node:crypto";
import { getAddress, keccak256, toUtf8Bytes, verifyTypedData, type Signer, type TypedDataDomain } from "ethers";
import { AnalyticsError, type AnalyticsErrorCode } from "./errors";
import { lengthPrefixed, utf8, fromBase64Url } from "./encoding";
import type { HpkeCiphertext, HpkeConfig } from "./hpke";
import { canonicalJson } from "./study";

/** Server roles, as DAP numbers them in HPKE info strings. */
export const ROLE_COLLECTOR = 0x00;
export const ROLE_CLIENT = 0x01;
export const ROLE_LEADER = 0x02;
export const ROLE_HELPER = 0x03;

const INPUT_SHARE_LABEL = "datamarket-analytics/1 input share";
const AGGREGATE_SHARE_LABEL = "datamarket-analytics/1 aggregate share";

/** One subject's share of one measurement, as uploaded to the leader. */
export interface Report {
  /** 16 random bytes, base64url: the report's id and the VDAF nonce. */
  reportId: string;
  measurement: string;
  /** The pseudonymous subject id of the consent ledger (public: aggregators check consent by it). */
  subject: string;
  /** Unix seconds, a multiple of the study's time precision. */
  time: number;
  /** Prio3 public share, base64url. */
  publicShare: string;
  leaderShare: HpkeCiphertext;
  helperShare: HpkeCiphertext;
}

export interface UploadRequest {
  /** The consent-ledger grant that releases these subjects for the study. */
  grantId: string;
  /** The grant's released subjects (checked against the grant's subjectsDigest), needed once per grant. */
  subjects?: string[];
  reports: Report[];
}

export interface ReportRejection {
  reportId: string;
  code: AnalyticsErrorCode;
  message: string;
}

export interface UploadResponse {
  accepted: number;
  rejected: ReportRejection[];
}

/** A batch: the reports whose time t has start <= t < start + duration. */
export interface BatchInterval {
  start: number;
  duration: number;
}

/** What the collector signs (EIP-712, COLLECTION_TYPES) to ask for a study's aggregate over a batch. */
export interface CollectionRequest {
  studyId: string;
  /** The buyer's address: its licence of the study product is checked on the market. */
  collector: string;
  /** The consent-ledger grant the collector's licence runs under. */
  grantId: string;
  batch: BatchInterval;
  /** The collector's one-time HPKE key: the aggregate shares are sealed to it. */
  collectorKey: HpkeConfig;
  /** Unix seconds; aggregators refuse a request older than 10 minutes or from the future. */
  issuedAt: number;
}

export interface SignedCollectionRequest {
  request: CollectionRequest;
  /** The grant's released subjects (from the collector's access decision). */
  subjects: string[];
  /** EIP-712 signature by `request.collector`. */
  signature: string;
}

export interface AggregationJobRequest {
  collectionId: string;
  collection: SignedCollectionRequest;
  measurement: string;
  reports: Array<{ reportId: string; time: number; subject: string; publicShare: string; helperShare: HpkeCiphertext; leaderPrepShare: string }>;
}

export type PrepareResult = { reportId: string; prepMessage: string } | { reportId: string; error: AnalyticsErrorCode | "VDAF_PREP_ERROR" };

export interface AggregationJobResponse {
  results: PrepareResult[];
}

export interface BatchSummary {
  measurement: string;
  reportCount: number;
  /** XOR of SHA-256(report id) over the batch's reports, base64url (DAP's checksum). */
  checksum: string;
}

export interface AggregateShareRequest {
  collectionId: string;
  collection: SignedCollectionRequest;
  batches: BatchSummary[];
}

export interface AggregateShareResponse {
  shares: Array<{ measurement: string; reportCount: number; encryptedShare: HpkeCiphertext }>;
}

export interface CollectionJob {
  collectionId: string;
  status: "processing" | "done" | "failed";
  error?: { code: AnalyticsErrorCode; message: string; details?: Record<string, unknown> };
  result?: CollectionResult;
}

export interface CollectionResult {
  collectionId: string;
  batch: BatchInterval;
  measurements: Array<{ measurement: string; reportCount: number; leaderShare: HpkeCiphertext; helperShare: HpkeCiphertext }>;
}

// ---------------------------------------------------------------------------------------------

export function inputShareInfo(serverRole: number): Uint8Array {
  return Uint8Array.from([...utf8(INPUT_SHARE_LABEL), ROLE_CLIENT, serverRole]);
}

export function aggregateShareInfo(serverRole: number): Uint8Array {
  return Uint8Array.from([...utf8(AGGREGATE_SHARE_LABEL), serverRole, ROLE_COLLECTOR]);
}

/** The input shares' AAD: the report's metadata and public share, so neither can be swapped. */
export function inputShareAad(studyId: string, report: Pick<Report, "reportId" | "measurement" | "subject" | "time" | "publicShare">): Uint8Array {
  return lengthPrefixed(
    utf8(studyId.toLowerCase()),
    utf8(report.measurement),
    fromBase64Url(report.reportId),
    utf8(report.subject),
    utf8(String(report.time)),
    fromBase64Url(report.publicShare),
  );
}

export function aggregateShareAad(studyId: string, collectionId: string, measurement: string, batch: BatchInterval, reportCount: number): Uint8Array {
  return utf8(canonicalJson({ studyId: studyId.toLowerCase(), collectionId, measurement, batch, reportCount }));
}

/**
 * The collection job's id: the same request (study, collector, grant, batch, collector key) is the same
 * job, answered again with the shares sealed to that key. A new key is a new job over the same reports.
 */
export function collectionIdOf(request: CollectionRequest): string {
  return createHash("sha256")
    .update(
      canonicalJson({
        studyId: request.studyId.toLowerCase(),
        collector: request.collector.toLowerCase(),
        grantId: request.grantId.toLowerCase(),
        batch: request.batch,
        collectorKey: request.collectorKey,
      }),
    )
    .digest("base64url");
}

/** DAP's batch checksum: XOR of SHA-256 of every report id. */
export function checksumOf(reportIds: Iterable<string>): string {
  const sum = new Uint8Array(32);
  for (const id of reportIds) {
    const digest = createHash("sha256").update(fromBase64Url(id)).digest();
    for (let i = 0; i < 32; i++) sum[i] ^= digest[i];
  }
  return Buffer.from(sum).toString("base64url");
}

// --- the collector's signature ----------------------------------------------------------------

export const COLLECTION_TYPES = {
  CollectionRequest: [
    { name: "studyId", type: "bytes32" },
    { name: "collector", type: "address" },
    { name: "grantId", type: "bytes32" },
    { name: "batchStart", type: "uint64" },
    { name: "batchDuration", type: "uint64" },
    { name: "collectorKeyHash", type: "bytes32" },
    { name: "issuedAt", type: "uint64" },
  ],
};

/** EIP-712 domain: this protocol, version 1, bound to the chain and market the licence lives on. */
export function collectionDomain(chainId: bigint | number, market: string): TypedDataDomain {
  return { name: "DataMarketAnalytics", version: "1", chainId, verifyingContract: market };
}

function typedValue(request: CollectionRequest) {
  return {
    studyId: request.studyId,
    collector: request.collector,
    grantId: request.grantId,
    batchStart: request.batch.start,
    batchDuration: request.batch.duration,
    collectorKeyHash: keccak256(toUtf8Bytes(canonicalJson(request.collectorKey))),
    issuedAt: request.issuedAt,
  };
}

export async function signCollectionRequest(
  signer: Signer,
  domain: TypedDataDomain,
  request: CollectionRequest,
  subjects: string[],
): Promise<SignedCollectionRequest> {
  const signature = await signer.signTypedData(domain, COLLECTION_TYPES, typedValue(request));
  return { request, subjects, signature };
}

/** Throws BAD_SIGNATURE unless the signature recovers to the collector the request names. */
export function verifyCollectionSignature(domain: TypedDataDomain, signed: SignedCollectionRequest): void {
  let signer: string;
  try {
    signer = verifyTypedData(domain, COLLECTION_TYPES, typedValue(signed.request), signed.signature);
  } catch (error) {
    throw new AnalyticsError("BAD_SIGNATURE", `the collection request's signature does not decode: ${(error as Error).message}`, {}, { cause: error });
  }
  if (getAddress(signer) !== getAddress(signed.request.collector)) {
    throw new AnalyticsError("BAD_SIGNATURE", `the collection request is signed by ${signer}, not by the collector ${signed.request.collector}`, {
      signer,
      collector: signed.request.collector,
    });
  }
}
