// How a peer records a range query in the read/write set, and how the committer checks it again for
// phantom reads. Up to 50 results are kept as raw key/version reads; beyond that Fabric 2.5 keeps only a
// Merkle summary of them (txmgr: queryReadsHashingEnabled = true, maxDegreeQueryReadsHashing = 50), built
// exactly as rwsetutil.RangeQueryResultsHelper does, so a large range costs a few hashes, not one read per key.
import { ledger } from "@hyperledger/fabric-protos";
import { Version, sha256 } from "./worldstate";

/** Fabric's maxDegreeQueryReadsHashing: results per leaf hash minus one, hashes per tree level. */
export const MAX_DEGREE_QUERY_READS_HASHING = 50;

export interface KeyVersion {
  key: string;
  version: Version;
}

export interface MerkleSummary {
  maxDegree: number;
  maxLevel: number;
  maxLevelHashes: Buffer[];
}

/** What the read/write set holds for one range query: the raw reads or their Merkle summary. */
export type RangeReadsInfo = { raw: KeyVersion[]; merkle?: undefined } | { raw?: undefined; merkle: MerkleSummary };

function protoVersion(version: Version): ledger.rwset.kvrwset.Version {
  const out = new ledger.rwset.kvrwset.Version();
  out.setBlockNum(version.blockNum);
  out.setTxNum(version.txNum);
  return out;
}

export function protoKvRead(read: KeyVersion): ledger.rwset.kvrwset.KVRead {
  const out = new ledger.rwset.kvrwset.KVRead();
  out.setKey(read.key);
  out.setVersion(protoVersion(read.version));
  return out;
}

function hashReads(reads: KeyVersion[]): Buffer {
  const query = new ledger.rwset.kvrwset.QueryReads();
  query.setKvReadsList(reads.map(protoKvRead));
  return sha256(query.serializeBinary());
}

/**
 * The output of Fabric's RangeQueryResultsHelper for `reads` in iteration order: the reads themselves when
 * there are at most `maxDegree` of them, else the hashes at the top level of the Merkle tree (groups of
 * maxDegree + 1 reads hashed into leaves, groups of maxDegree + 1 hashes combined upwards).
 */
export function summarizeRangeReads(reads: KeyVersion[], maxDegree = MAX_DEGREE_QUERY_READS_HASHING): RangeReadsInfo {
  if (reads.length <= maxDegree) {
    return { raw: reads };
  }
  const tree = new Map<number, Buffer[]>();
  let maxLevel = 1;
  const append = (level: number, hash: Buffer) => {
    const hashes = tree.get(level);
    if (hashes) {
      hashes.push(hash);
    } else {
      tree.set(level, [hash]);
    }
  };
  const update = (leaf: Buffer) => {
    let level = 1;
    append(level, leaf);
    for (;;) {
      const hashes = tree.get(level) as Buffer[];
      if (hashes.length <= maxDegree) {
        return;
      }
      tree.delete(level);
      level += 1;
      append(level, sha256(Buffer.concat(hashes)));
      maxLevel = Math.max(maxLevel, level);
    }
  };
  // AddResult: a leaf is hashed whenever more than maxDegree results are pending
  let pending: KeyVersion[] = [];
  for (const read of reads) {
    pending.push(read);
    if (pending.length > maxDegree) {
      update(hashReads(pending));
      pending = [];
    }
  }
  // Done: the last partial group, then completion of the lower levels up to maxLevel
  if (pending.length > 0) {
    update(hashReads(pending));
  }
  for (let level = 1; level < maxLevel; level++) {
    const hashes = tree.get(level) ?? [];
    if (hashes.length === 0) {
      continue;
    }
    tree.delete(level);
    append(level + 1, hashes.length === 1 ? hashes[0] : sha256(Buffer.concat(hashes)));
  }
  let top = tree.get(maxLevel) ?? [];
  if (top.length > maxDegree) {
    maxLevel += 1;
    top = [sha256(Buffer.concat(top))];
  }
  return { merkle: { maxDegree, maxLevel, maxLevelHashes: top } };
}

/** True when the range's results now summarize to what the transaction recorded (no phantom read). */
export function sameRangeReads(recorded: RangeReadsInfo, now: KeyVersion[]): boolean {
  if (recorded.raw) {
    return (
      recorded.raw.length === now.length &&
      recorded.raw.every(
        (read, i) => read.key === now[i].key && read.version.blockNum === now[i].version.blockNum && read.version.txNum === now[i].version.txNum,
      )
    );
  }
  const summary = summarizeRangeReads(now, recorded.merkle.maxDegree);
  return (
    summary.merkle !== undefined &&
    summary.merkle.maxLevel === recorded.merkle.maxLevel &&
    summary.merkle.maxLevelHashes.length === recorded.merkle.maxLevelHashes.length &&
    summary.merkle.maxLevelHashes.every((hash, i) => hash.equals(recorded.merkle.maxLevelHashes[i]))
  );
}
