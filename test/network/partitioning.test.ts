// The stream-partition -> network-partition hash: TypeScript and Solidity against the shared vectors.
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import vectorsFile from "../../test-vectors/partitioning.json";
import { jumpHash, networkPartitionOf, streamPartitionKey } from "@datamarket/protocol";
import { deployCoordinator } from "./fixtures";
import { propertyRuns } from "../helpers/runs";

describe("network partitioning hash", () => {
  it("TypeScript gives every vector's key and network partition", () => {
    for (const v of vectorsFile.vectors) {
      expect("0x" + streamPartitionKey(v.streamId, v.streamPartition).toString(16).padStart(16, "0")).to.equal(v.key);
      for (const n of v.networkPartitions) {
        expect(networkPartitionOf(v.streamId, v.streamPartition, n.partitionCount)).to.equal(n.networkPartition);
      }
    }
  });

  it("Solidity gives every vector's network partition", async () => {
    const { coordinator } = await deployCoordinator();
    for (const v of vectorsFile.vectors) {
      for (const n of v.networkPartitions) {
        expect(await coordinator.networkPartitionFor(v.streamId, v.streamPartition, n.partitionCount)).to.equal(n.networkPartition);
      }
    }
  });

  it("Solidity and TypeScript agree on random stream partitions and counts", async () => {
    const { coordinator } = await deployCoordinator();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 100_000 }),
        async (id, streamPartition, count) => {
          const streamId = ethers.hexlify(id);
          expect(await coordinator.networkPartitionFor(streamId, streamPartition, count)).to.equal(networkPartitionOf(streamId, streamPartition, count));
        },
      ),
      { numRuns: propertyRuns(60) },
    );
  });

  it("growing the count from n to n+1 only moves keys into the new partition, about 1/(n+1) of them", () => {
    for (const n of [1, 5, 31, 100]) {
      let moved = 0;
      const keys = 4000;
      for (let i = 0; i < keys; i++) {
        const key = BigInt(ethers.keccak256(ethers.toBeHex(i, 32)).slice(0, 18));
        const before = jumpHash(key, n);
        const after = jumpHash(key, n + 1);
        if (before !== after) {
          expect(after).to.equal(n);
          moved++;
        }
      }
      const expected = keys / (n + 1);
      expect(moved).to.be.within(expected * 0.7 - 5, expected * 1.3 + 5);
    }
  });

  it("networkPartitionOf uses the current epoch's partition count", async () => {
    const { coordinator } = await deployCoordinator();
    const v = vectorsFile.vectors[0];
    const count = Number(await coordinator.partitionCount());
    expect(await coordinator.networkPartitionOf(v.streamId, v.streamPartition)).to.equal(networkPartitionOf(v.streamId, v.streamPartition, count));
  });

  it("refuses a zero partition count and out-of-range inputs", async () => {
    const { coordinator } = await deployCoordinator();
    await expect(coordinator.networkPartitionFor(ethers.ZeroHash, 0, 0))
      .to.be.revertedWithCustomError(coordinator, "UnknownPartition")
      .withArgs(0, 0);
    expect(() => jumpHash(1n, 0)).to.throw(RangeError);
    expect(() => streamPartitionKey("0x12", 0)).to.throw(RangeError);
    expect(() => streamPartitionKey(ethers.ZeroHash, 65536)).to.throw(RangeError);
  });
});
