// The per-epoch checksum of a network partition that brokers report to the coordinator
// (docs/protocol.md, "Epoch checksum"). Order-independent so that brokers that received the
// same events in different orders agree; incremental so that it costs O(1) per event.

import { keccak256 } from "./crypto";

const MOD = 1n << 256n;

/** Running accumulator: count and sum of uint256(eventHash) mod 2^256. */
export class EpochAccumulator {
  count = 0;
  sum = 0n;

  add(eventHash: Uint8Array): void {
    this.count++;
    this.sum = (this.sum + BigInt("0x" + Buffer.from(eventHash).toString("hex"))) % MOD;
  }

  /** The value brokers report: keccak256(abi.encodePacked(uint64 epoch, uint32 networkPartition, uint64 count, bytes32 sum)). */
  checksum(epoch: number, networkPartition: number): string {
    return epochChecksum(epoch, networkPartition, this.count, this.sum);
  }
}

export function epochChecksum(epoch: number, networkPartition: number, count: number, sum: bigint): string {
  const buf = Buffer.alloc(8 + 4 + 8 + 32);
  buf.writeBigUInt64BE(BigInt(epoch), 0);
  buf.writeUInt32BE(networkPartition, 8);
  buf.writeBigUInt64BE(BigInt(count), 12);
  buf.write(sum.toString(16).padStart(64, "0"), 20, 32, "hex");
  return "0x" + keccak256(buf).toString("hex");
}

/** The epoch of an event timestamp for a coordinator epoch length (ms) and genesis (ms). */
export function epochOf(timestampMs: number, epochLengthMs: number, genesisMs = 0): number {
  return Math.floor((timestampMs - genesisMs) / epochLengthMs);
}
