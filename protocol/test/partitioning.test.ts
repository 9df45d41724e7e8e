// test-vectors/partitioning.json (shared with the Solidity tests of PartitionHash.sol) checked
// against the moved routing code and against ethers' independent keccak of the key preimage.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { keccak256, solidityPacked } from "ethers";
import { networkPartitionOf, streamPartitionKey } from "../src/partitioning";

const V = JSON.parse(readFileSync(join(__dirname, "..", "..", "test-vectors", "partitioning.json"), "utf8"));

describe("partitioning test vectors (test-vectors/partitioning.json)", () => {
  it("reproduces every key and network partition", () => {
    expect(V.vectors.length).to.be.greaterThan(0);
    for (const v of V.vectors) {
      expect("0x" + streamPartitionKey(v.streamId, v.streamPartition).toString(16).padStart(16, "0")).to.equal(v.key);
      expect(keccak256(solidityPacked(["bytes32", "uint16"], [v.streamId, v.streamPartition])).slice(0, 18)).to.equal(v.key);
      for (const n of v.networkPartitions) expect(networkPartitionOf(v.streamId, v.streamPartition, n.partitionCount)).to.equal(n.networkPartition);
    }
  });

  it("refuses a stream id that is not 32 bytes and a partition above uint16", () => {
    expect(() => streamPartitionKey("0x12", 0)).to.throw(RangeError);
    expect(() => streamPartitionKey("0x" + "00".repeat(32), 65536)).to.throw(RangeError);
  });
});
