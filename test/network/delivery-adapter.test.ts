// ProductDeliveryAdapter: the market's delivery oracle, fed by the coordinator's agreed event counts.
import { expect } from "chai";
import { ethers } from "hardhat";
import { EPOCH, commitment, deployCoordinator, rebalanceAll, register, toPhase } from "./fixtures";
import type { NetworkCoordinator, ProductDeliveryAdapter, ProductResourcesMock, StreamRegistry } from "../../typechain-types";

async function agree(coordinator: NetworkCoordinator, epoch: bigint, partition: number, count: bigint) {
  const assignees = await coordinator.assigneesOf(partition);
  const signers = await Promise.all(assignees.map((a) => ethers.getSigner(a)));
  const checksum = ethers.id("checksum");
  await toPhase(coordinator, epoch, "commit");
  for (const s of signers) {
    await coordinator.connect(s).commitReport(epoch, partition, commitment(epoch, partition, count, checksum, ethers.ZeroHash, s.address));
  }
  await toPhase(coordinator, epoch, "reveal");
  for (const s of signers) await coordinator.connect(s).revealReport(epoch, partition, count, checksum, ethers.ZeroHash);
  await toPhase(coordinator, epoch, "final");
  await coordinator.finalizeRound(epoch, partition);
}

describe("ProductDeliveryAdapter", () => {
  async function setup() {
    const { token, coordinator, admin } = await deployCoordinator();
    const signers = await ethers.getSigners();
    for (const s of signers.slice(1, 4)) await register(token, coordinator, s);
    await rebalanceAll(coordinator);
    const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
    const market = (await ethers.deployContract("ProductResourcesMock")) as unknown as ProductResourcesMock;
    const adapter = (await ethers.deployContract("ProductDeliveryAdapter", [
      await market.getAddress(),
      await coordinator.getAddress(),
      await registry.getAddress(),
    ])) as unknown as ProductDeliveryAdapter;
    const seller = signers[5];
    await registry.connect(seller).createStream("/a", 1, "{}");
    await registry.connect(seller).createStream("/b", 1, "{}");
    await registry.connect(seller).createDataset("/d", ethers.id("file"), "ipfs://x", "{}");
    const id = (path: string) => registry.resourceId(seller.address, path);
    return { coordinator, market, adapter, a: await id("/a"), b: await id("/b"), d: await id("/d") };
  }

  it("a product of datasets only is released by time alone", async () => {
    const { market, adapter, d } = await setup();
    await market.setResources(ethers.id("P"), [d]);
    expect(await adapter.deliveredUntil(ethers.id("P"))).to.equal(2n ** 64n - 1n);
  });

  it("a stream product has delivered until the end of its partition's latest agreed epoch with events", async () => {
    const { coordinator, market, adapter, a, d } = await setup();
    const product = ethers.id("P");
    await market.setResources(product, [a, d]);
    expect(await adapter.deliveredUntil(product)).to.equal(0);
    const partition = Number(await coordinator.networkPartitionOf(a, 0));
    await agree(coordinator, 0n, partition, 12n);
    expect(await adapter.deliveredUntil(product)).to.equal((await coordinator.genesis()) + EPOCH);
  });

  it("a product of several streams has delivered until the earliest of them", async () => {
    const { coordinator, market, adapter, a, b } = await setup();
    const product = ethers.id("P");
    await market.setResources(product, [a, b]);
    const pa = Number(await coordinator.networkPartitionOf(a, 0));
    const pb = Number(await coordinator.networkPartitionOf(b, 0));
    await agree(coordinator, 0n, pa, 3n);
    if (pa === pb) {
      // Both streams ride on one network partition: one proof covers both.
      expect(await adapter.deliveredUntil(product)).to.equal((await coordinator.genesis()) + EPOCH);
    } else {
      expect(await adapter.deliveredUntil(product)).to.equal(0);
      await agree(coordinator, 1n, pb, 3n);
      expect(await adapter.deliveredUntil(product)).to.equal((await coordinator.genesis()) + EPOCH);
    }
  });
});
