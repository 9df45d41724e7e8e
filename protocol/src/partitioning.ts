// The stream-partition -> network-partition function of the network coordinator, bit-for-bit the
// same as contracts/network/PartitionHash.sol (checked against test-vectors/partitioning.json).
import { hexOf, hexToBytes } from "./bytes";
import { keccak256 } from "./crypto";

const MASK_64 = (1n << 64n) - 1n;
/** Multiplier of the 64-bit linear congruential generator of Lamping & Veach's jump hash. */
const JUMP_MULTIPLIER = 2862933555777941757n;

/**
 * The 64-bit key of a stream partition: the first 8 bytes (big-endian) of
 * keccak256(streamId (32 bytes) ‖ streamPartition (uint16, 2 bytes big-endian)).
 */
export function streamPartitionKey(streamId: string, streamPartition: number): bigint {
  if (typeof streamId !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(streamId)) throw new RangeError(`streamId must be 32 bytes, got ${streamId}`);
  if (!Number.isInteger(streamPartition) || streamPartition < 0 || streamPartition > 0xffff) {
    throw new RangeError(`streamPartition must be an integer in 0..65535, got ${streamPartition}`);
  }
  const input = new Uint8Array(34);
  input.set(hexToBytes(streamId), 0);
  input[32] = streamPartition >>> 8;
  input[33] = streamPartition & 0xff;
  return BigInt("0x" + hexOf(keccak256(input), 0, 8)); // the first 8 bytes
}

/**
 * Jump consistent hash (Lamping & Veach 2014), integer variant: the bucket of `key` among
 * `buckets` buckets. Growing `buckets` from n to n+1 moves only ~1/(n+1) of all keys, and only
 * into the new bucket. Integer arithmetic replaces the paper's floating point:
 *   key = key * 2862933555777941757 + 1 (mod 2^64)
 *   j   = floor((b + 1) * 2^31 / ((key >> 33) + 1))
 */
export function jumpHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0xffffffff) {
    throw new RangeError(`buckets must be an integer in 1..2^32-1, got ${buckets}`);
  }
  let k = key & MASK_64;
  let b = -1n;
  let j = 0n;
  const n = BigInt(buckets);
  while (j < n) {
    b = j;
    k = (k * JUMP_MULTIPLIER + 1n) & MASK_64;
    j = ((b + 1n) * (1n << 31n)) / ((k >> 33n) + 1n);
  }
  return Number(b);
}

/** The network partition (0..partitionCount-1) that carries `(streamId, streamPartition)`. */
export function networkPartitionOf(streamId: string, streamPartition: number, partitionCount: number): number {
  return jumpHash(streamPartitionKey(streamId, streamPartition), partitionCount);
}
