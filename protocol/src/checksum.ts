// The per-epoch checksum of a network partition that brokers report to the coordinator
// (docs/protocol.md, "Epoch checksum"). Order-independent so that brokers that received the
// same events in different orders agree; incremental so that it costs O(1) per event.

import { hexOf, hexToBytes, uint256ToHex, writeUint32BE, writeUint64BE } from "./bytes";
import { keccak256 } from "./crypto";

const MOD = 1n << 256n;

/** Running accumulator: count and sum of uint256(eventHash) mod 2^256. */
export class EpochAccumulator {
  count = 0;
  sum = 0n;

  add(eventHash: Uint8Array): void {
    this.count++;
    this.sum = (this.sum + BigInt("0x" + hexOf(eventHash))) % MOD;
  }

  /** The value brokers report: keccak256(abi.encodePacked(uint64 epoch, uint32 networkPartition, uint64 count, bytes32 sum)). */
  checksum(epoch: number, networkPartition: number): string {
    return epochChecksum(epoch, networkPartition, this.count, this.sum);
  }
}

export function epochChecksum(epoch: number, networkPartition: number, count: number, sum: bigint): string {
  const buf = new Uint8Array(8 + 4 + 8 + 32);
  writeUint64BE(buf, epoch, 0);
  writeUint32BE(buf, networkPartition, 8);
  writeUint64BE(buf, count, 12);
  buf.set(hexToBytes(uint256ToHex(sum)), 20);
  return "0x" + hexOf(keccak256(buf));
}

/** The epoch of an event timestamp for a coordinator epoch length (ms) and genesis (ms). */
export function epochOf(timestampMs: number, epochLengthMs: number, genesisMs = 0): number {
  return Math.floor((timestampMs - genesisMs) / epochLengthMs);
}
