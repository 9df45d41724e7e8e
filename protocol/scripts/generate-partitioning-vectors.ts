// Writes test-vectors/partitioning.json from src/partitioning.ts. The Solidity tests check
// contracts/network/PartitionHash.sol against the same file, so the two implementations agree.
// Run: npm run vectors:partitioning (in protocol/).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { keccak256, solidityPacked } from "ethers";
import { networkPartitionOf, streamPartitionKey } from "../src/partitioning";

const PARTITION_COUNTS = [1, 2, 3, 7, 10, 16, 100, 1000, 65536];

function streamId(creator: string, streamPath: string): string {
  return keccak256(solidityPacked(["address", "string"], [creator, streamPath]));
}

const streams = [
  { creator: "0x8ba1f109551bd432803012645ac136ddd64dba72", path: "/health/heart-rate", partitions: [0, 1, 2] },
  { creator: "0x8ba1f109551bd432803012645ac136ddd64dba72", path: "/weather/temperature", partitions: [0, 65535] },
  { creator: "0x0000000000000000000000000000000000000001", path: "/a", partitions: [0, 7] },
  { creator: "0xffffffffffffffffffffffffffffffffffffffff", path: "/prices/eth-usd", partitions: [0, 300] },
];

const vectors = streams.flatMap((s) =>
  s.partitions.map((streamPartition) => {
    const id = streamId(s.creator, s.path);
    return {
      stream: `${s.creator}${s.path}`,
      streamId: id,
      streamPartition,
      key: "0x" + streamPartitionKey(id, streamPartition).toString(16).padStart(16, "0"),
      networkPartitions: PARTITION_COUNTS.map((partitionCount) => ({
        partitionCount,
        networkPartition: networkPartitionOf(id, streamPartition, partitionCount),
      })),
    };
  }),
);

const file = {
  description:
    "Stream partition -> network partition (docs/network.md). key = first 8 bytes of " +
    "keccak256(streamId ‖ uint16 big-endian streamPartition); networkPartition = integer jump hash of key " +
    "into partitionCount buckets.",
  vectors,
};
const out = path.join(__dirname, "..", "..", "test-vectors", "partitioning.json");
writeFileSync(out, JSON.stringify(file, null, 2) + "\n");
console.log(`wrote ${vectors.length} vectors to ${out}`);
