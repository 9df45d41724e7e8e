// The coordinator's routing function (@datamarket/protocol's partitioning.ts) with a bounded memo: the broker
// routes every published event, and the keccak-256 of the stream partition's key is the same each
// time, so it is computed once per stream partition instead of once per event.

import { jumpHash, streamPartitionKey } from "@datamarket/protocol";

interface Route {
  key: bigint;
  partitionCount: number;
  networkPartition: number;
}

/** Entries kept before the memo starts over (each is a few hundred bytes). */
export const ROUTE_MEMO_ENTRIES = 65_536;

const memo = new Map<string, Route>();

/** networkPartitionOf of @datamarket/protocol's partitioning.ts, memoised per (streamId, streamPartition). */
export function networkPartitionOf(streamId: string, streamPartition: number, partitionCount: number): number {
  const id = `${streamId}/${streamPartition}`;
  let r = memo.get(id);
  if (r === undefined) {
    // Validates its inputs (throws RangeError) before anything is cached.
    const key = streamPartitionKey(streamId, streamPartition);
    if (memo.size >= ROUTE_MEMO_ENTRIES) memo.clear();
    r = { key, partitionCount, networkPartition: jumpHash(key, partitionCount) };
    memo.set(id, r);
  } else if (r.partitionCount !== partitionCount) {
    r.networkPartition = jumpHash(r.key, partitionCount);
    r.partitionCount = partitionCount;
  }
  return r.networkPartition;
}

/** Memo size (for tests). */
export function routeMemoSize(): number {
  return memo.size;
}
