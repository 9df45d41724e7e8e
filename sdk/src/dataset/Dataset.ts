// Batch datasets: the seller encrypts a dataset per data subject, so that a release can be
// filtered to the subjects whose consent the consent ledger approved for a request, and a buyer
// can verify a filtered release against the content hash registered in the stream registry.
// Layouts: docs/sdk.md, "Datasets".

import {
  ByteReader,
  ByteWriter,
  GCM_NONCE_LENGTH,
  GCM_TAG_LENGTH,
  aesGcmOpen,
  aesGcmSeal,
  bytesToUtf8,
  concatBytes,
  defaultRandom,
  equalBytes,
  hexToBytes,
  hkdfSha256,
  sha256,
  toHex,
  unwrapEntry,
  utf8ToBytes,
  wrapForRecipients,
  writeUint32BE,
  type RandomSource,
  type WrappedEntry,
} from "@datamarket/protocol";
import { SdkError, SdkErrorCodes } from "../errors";
import { ownBytes } from "../platform";

export const DATASET_MAGIC = utf8ToBytes("DMDS");
export const DATASET_VERSION = 1;
const MANIFEST_HEADER_LENGTH = 41;
const ROW_LENGTH = 72;

/** One record of one data subject (the seller's plaintext). */
export interface DatasetRecord {
  subjectId: string;
  data: Uint8Array;
}

/** The consent ledger's decision for one dataset request (a subset of its AccessDecision). */
export interface ConsentDecision {
  decision: "approved" | "denied" | string;
  /** Distinct denial reasons when the whole request is denied. */
  reasons?: string[];
  /** Subjects whose records may be released. */
  approvedSubjects: string[];
  /** Count of the other subjects by denial reason (e.g. { WITHDRAWN: 2, EXPIRED: 1 }). */
  deniedByReason: Record<string, number>;
}

export interface ManifestRow {
  /** SHA-256(utf8("datamarket/dataset-subject/v1") ‖ datasetId ‖ utf8(subjectId)), 0x-hex. */
  label: string;
  recordCount: number;
  bodyLength: number;
  /** SHA-256 of the chunk body (nonce ‖ sealed), 0x-hex. */
  bodyHash: string;
}

export interface EncryptedDataset {
  datasetId: string;
  /** SHA-256(manifest): the value to register with createDataset / updateDatasetContent. */
  contentHash: string;
  /** manifest ‖ body_1 ‖ … ‖ body_n: the file the seller uploads. */
  file: Uint8Array;
  /** The seller's secret; every subject key derives from it. Never leaves the seller. */
  masterKey: Uint8Array;
}

export function subjectLabel(datasetId: string, subjectId: string): string {
  return toHex(sha256(utf8ToBytes("datamarket/dataset-subject/v1"), hexToBytes(datasetId, 32, "datasetId"), utf8ToBytes(subjectId)));
}

/** subjectKey = HKDF-SHA-256(ikm = masterKey, salt = datasetId, info = utf8("datamarket/dataset-subject-key/v1") ‖ label, 32). */
export function subjectKey(masterKey: Uint8Array, datasetId: string, label: string): Uint8Array {
  const info = concatBytes(utf8ToBytes("datamarket/dataset-subject-key/v1"), hexToBytes(label, 32, "label"));
  return hkdfSha256(masterKey, hexToBytes(datasetId, 32, "datasetId"), info, 32);
}

function chunkAad(datasetId: string, label: string, recordCount: number): Uint8Array {
  const n = new Uint8Array(4);
  writeUint32BE(n, recordCount, 0);
  return concatBytes(hexToBytes(datasetId, 32, "datasetId"), hexToBytes(label, 32, "label"), n);
}

/** Chunk plaintext = uint16 length ‖ utf8(subjectId) ‖ recordCount × (uint32 length ‖ record bytes). */
function encodeChunk(subjectId: string, records: Uint8Array[]): Uint8Array {
  const id = utf8ToBytes(subjectId);
  if (id.length > 0xffff) throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "subjectId longer than 65535 bytes");
  const w = new ByteWriter().u16(id.length).bytes(id);
  for (const r of records) w.u32(r.length).bytes(r);
  return w.finish();
}

function decodeChunk(plain: Uint8Array, recordCount: number): { subjectId: string; records: Uint8Array[] } {
  const r = new ByteReader(plain, "dataset chunk");
  const subjectId = bytesToUtf8(r.bytes(r.u16("subjectIdLength"), "subjectId"));
  const records: Uint8Array[] = [];
  for (let i = 0; i < recordCount; i++) records.push(ownBytes(r.bytes(r.u32("recordLength"), "record")));
  r.end();
  return { subjectId, records };
}

/** Encrypts a dataset: one chunk per subject (in first-appearance order), each under its own subject key. */
export function encryptDataset(datasetId: string, records: DatasetRecord[], random: RandomSource = defaultRandom): EncryptedDataset {
  datasetId = toHex(hexToBytes(datasetId, 32, "datasetId"));
  const bySubject = new Map<string, Uint8Array[]>();
  for (const rec of records) {
    if (typeof rec.subjectId !== "string" || rec.subjectId.length === 0)
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "every record needs a non-empty subjectId");
    const list = bySubject.get(rec.subjectId) ?? [];
    list.push(rec.data);
    bySubject.set(rec.subjectId, list);
  }
  const masterKey = new Uint8Array(random(32));
  const rows: ManifestRow[] = [];
  const bodies: Uint8Array[] = [];
  for (const [subjectId, list] of bySubject) {
    const label = subjectLabel(datasetId, subjectId);
    const nonce = random(GCM_NONCE_LENGTH);
    const body = concatBytes(
      nonce,
      aesGcmSeal(subjectKey(masterKey, datasetId, label), nonce, encodeChunk(subjectId, list), chunkAad(datasetId, label, list.length)),
    );
    rows.push({ label, recordCount: list.length, bodyLength: body.length, bodyHash: toHex(sha256(body)) });
    bodies.push(body);
  }
  const manifest = encodeManifest(datasetId, rows);
  return { datasetId, contentHash: toHex(sha256(manifest)), file: concatBytes(manifest, ...bodies), masterKey };
}

export function encodeManifest(datasetId: string, rows: ManifestRow[]): Uint8Array {
  const w = new ByteWriter()
    .bytes(DATASET_MAGIC)
    .u8(DATASET_VERSION)
    .bytes(hexToBytes(datasetId, 32, "datasetId"))
    .u32(rows.length);
  for (const r of rows)
    w.bytes(hexToBytes(r.label, 32, "label"))
      .u32(r.recordCount)
      .u32(r.bodyLength)
      .bytes(hexToBytes(r.bodyHash, 32, "bodyHash"));
  return w.finish();
}

/** The manifest at the start of a dataset file; MALFORMED_MESSAGE (an SdkError, the reader's error as cause) when it does not follow its layout. */
export function decodeManifest(bytes: Uint8Array): { datasetId: string; rows: ManifestRow[]; length: number } {
  try {
    return readManifest(bytes);
  } catch (err) {
    throw SdkError.from(err, SdkErrorCodes.MALFORMED_MESSAGE);
  }
}

function readManifest(bytes: Uint8Array): { datasetId: string; rows: ManifestRow[]; length: number } {
  const r = new ByteReader(bytes, "dataset manifest");
  if (!equalBytes(r.bytes(4, "magic"), DATASET_MAGIC)) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, 'dataset magic must be "DMDS"');
  const version = r.u8("version");
  if (version !== DATASET_VERSION) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `unsupported dataset version ${version}`);
  const datasetId = toHex(r.bytes(32, "datasetId"));
  const n = r.u32("chunkCount");
  if (MANIFEST_HEADER_LENGTH + n * ROW_LENGTH > bytes.length) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `chunkCount ${n} exceeds the file`);
  const rows: ManifestRow[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      label: toHex(r.bytes(32, "label")),
      recordCount: r.u32("recordCount"),
      bodyLength: r.u32("bodyLength"),
      bodyHash: toHex(r.bytes(32, "bodyHash")),
    });
  }
  return { datasetId, rows, length: r.offset };
}

/** What a licensed buyer receives: the manifest, the approved chunks, their keys wrapped for it, and what was left out. */
export interface DatasetRelease {
  datasetId: string;
  buyer: string;
  manifest: Uint8Array;
  /** Indexes (into the manifest rows) of the released chunks, ascending. */
  released: number[];
  bodies: Uint8Array[];
  /** ECIES (docs/protocol.md) of the released subject keys, concatenated in `released` order. */
  ephemeralPublicKey: Uint8Array;
  keys: WrappedEntry;
  /** Subjects in the dataset that were not released, in total and by the consent ledger's reason. */
  leftOut: { total: number; byReason: Record<string, number> };
}

function releaseAad(datasetId: string, contentHash: Uint8Array, buyer: string, released: number[]): Uint8Array {
  const w = new ByteWriter()
    .bytes(utf8ToBytes("datamarket/dataset-release/v1"))
    .bytes(hexToBytes(datasetId, 32, "datasetId"))
    .bytes(contentHash)
    .bytes(hexToBytes(buyer, 20, "buyer"))
    .u32(released.length);
  for (const i of released) w.u32(i);
  return w.finish();
}

/**
 * Seller side of a download: given the consent ledger's decision for this buyer's request and the
 * buyer's registered encryption key (the caller has checked the licence), releases exactly the
 * approved subjects' chunks with their keys wrapped for the buyer. Subjects the decision does not
 * approve are left out and counted by reason; approved subjects absent from the dataset are ignored.
 */
export function createRelease(
  dataset: { file: Uint8Array; masterKey: Uint8Array },
  decision: ConsentDecision,
  buyer: { address: string; publicKey: Uint8Array },
  random: RandomSource = defaultRandom,
): DatasetRelease {
  const { datasetId, rows, length } = decodeManifest(dataset.file);
  if (decision.decision !== "approved") {
    throw new SdkError(SdkErrorCodes.NOT_LICENSED, `the consent ledger denied the request: ${(decision.reasons ?? []).join(", ") || "no reason given"}`, {
      reasons: decision.reasons ?? [],
    });
  }
  const approvedLabels = new Set(decision.approvedSubjects.map((s) => subjectLabel(datasetId, s)));
  const released: number[] = [];
  const bodies: Uint8Array[] = [];
  const keys: Uint8Array[] = [];
  let offset = length;
  rows.forEach((row, i) => {
    if (approvedLabels.has(row.label)) {
      released.push(i);
      bodies.push(dataset.file.subarray(offset, offset + row.bodyLength));
      keys.push(subjectKey(dataset.masterKey, datasetId, row.label));
    }
    offset += row.bodyLength;
  });
  const manifest = dataset.file.subarray(0, length);
  const contentHash = sha256(manifest);
  const address = buyer.address.toLowerCase();
  const wrapped = wrapForRecipients(
    concatBytes(...keys),
    [{ address, publicKey: buyer.publicKey }],
    () => releaseAad(datasetId, contentHash, address, released),
    random,
  );
  const denied = Object.values(decision.deniedByReason).reduce((a, b) => a + b, 0);
  const leftOut = rows.length - released.length;
  // Subjects the dataset holds but the ledger knows nothing of (a mismatch between the two) are named so.
  const byReason: Record<string, number> = { ...decision.deniedByReason };
  if (leftOut > denied) byReason.NOT_IN_DECISION = leftOut - denied;
  return {
    datasetId,
    buyer: address,
    manifest: new Uint8Array(manifest),
    released,
    bodies: bodies.map((b) => new Uint8Array(b)),
    ephemeralPublicKey: wrapped.ephemeralPublicKey,
    keys: wrapped.entries[0],
    leftOut: { total: leftOut, byReason },
  };
}

/**
 * Buyer side: checks the manifest against the content hash registered in the stream registry and
 * every chunk against its manifest row, opens the subject keys, and returns the records by subject.
 */
export function openRelease(
  release: DatasetRelease,
  registeredContentHash: string,
  buyerPrivateKey: Uint8Array,
): { subjects: { subjectId: string; records: Uint8Array[] }[]; leftOut: DatasetRelease["leftOut"] } {
  try {
    return openCheckedRelease(release, registeredContentHash, buyerPrivateKey);
  } catch (err) {
    throw SdkError.from(err, SdkErrorCodes.MALFORMED_MESSAGE);
  }
}

function openCheckedRelease(
  release: DatasetRelease,
  registeredContentHash: string,
  buyerPrivateKey: Uint8Array,
): { subjects: { subjectId: string; records: Uint8Array[] }[]; leftOut: DatasetRelease["leftOut"] } {
  const contentHash = sha256(release.manifest);
  if (toHex(contentHash) !== registeredContentHash.toLowerCase()) {
    throw new SdkError(SdkErrorCodes.CONTENT_HASH_MISMATCH, "the manifest does not hash to the registered content hash", {
      expected: registeredContentHash,
      actual: toHex(contentHash),
    });
  }
  const { datasetId, rows } = decodeManifest(release.manifest);
  if (release.bodies.length !== release.released.length)
    throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, "released indexes and chunk bodies differ in number");
  const keys = unwrapEntry(buyerPrivateKey, release.ephemeralPublicKey, release.keys, releaseAad(datasetId, contentHash, release.buyer, release.released));
  if (keys.length !== 32 * release.released.length) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, "the wrapped key bundle has the wrong length");
  const subjects = release.released.map((index, k) => {
    const row = rows[index];
    const body = release.bodies[k];
    if (!row || body.length !== row.bodyLength || toHex(sha256(body)) !== row.bodyHash) {
      throw new SdkError(SdkErrorCodes.CONTENT_HASH_MISMATCH, `chunk ${index} does not match its manifest row`, { index });
    }
    if (body.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `chunk ${index} is too short`);
    const plain = aesGcmOpen(
      keys.subarray(32 * k, 32 * k + 32),
      body.subarray(0, GCM_NONCE_LENGTH),
      body.subarray(GCM_NONCE_LENGTH),
      chunkAad(datasetId, row.label, row.recordCount),
    );
    const chunk = decodeChunk(plain, row.recordCount);
    if (subjectLabel(datasetId, chunk.subjectId) !== row.label)
      throw new SdkError(SdkErrorCodes.CONTENT_HASH_MISMATCH, `chunk ${index} names a subject that does not match its label`, { index });
    return chunk;
  });
  return { subjects, leftOut: release.leftOut };
}
