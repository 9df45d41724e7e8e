// Choosing a stream partition from a partition key (e.g. a device id), so that all events of one
// key stay in one partition and so in order. Client-side rule; the broker only checks the range.

import { keccak256, readUint32BE, utf8ToBytes } from "@datamarket/protocol";
import { SdkError, SdkErrorCodes } from "../errors";

/** partition = uint32(first 4 bytes of keccak256(utf8(partitionKey))) mod partitions. */
export function partitionOf(partitionKey: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 0xffff) {
    throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `partitions must be 1..65535, got ${partitions}`);
  }
  return readUint32BE(keccak256(utf8ToBytes(partitionKey)), 0) % partitions;
}
