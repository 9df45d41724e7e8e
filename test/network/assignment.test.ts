// Partitions: the P growth rule, assignment to R brokers, and paid, useful-only rebalancing.
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DATA, EPOCH, defaultParameters, deployCoordinator, fund, register, rebalanceAll } from "./fixtures";
import type { NetworkCoordinator } from "../../typechain-types";

async function loads(coordinator: NetworkCoordinator, brokers: string[]): Promise<number[]> {
  return Promise.all(brokers.map(async (b) => Number((await coordinator.brokerState(b)).load)));
}

describe("NetworkCoordinator partitions and rebalancing", () => {
  it("grows P with the broker count (partitionsPerBroker each), from the next epoch on", async () => {
    const { token, coordinator } = await deployCoordinator();
    const s = await ethers.getSigners();
    expect(await coordinator.partitionCount()).to.equal(4);
    await register(token, coordinator, s[1]);
    await register(token, coordinator, s[2]); // 2 × 2 = 4: no growth yet
    expect(await coordinator.partitionCountTarget()).to.equal(4);
    const epoch = await coordinator.currentEpoch();
    await expect(register(token, coordinator, s[3]))
      .to.emit(coordinator, "PartitionCountIncreased")
      .withArgs(6, epoch + 1n);
    expect(await coordinator.partitionCountTarget()).to.equal(6);
    expect(await coordinator.partitionCount()).to.equal(4);
    expect(await coordinator.partitionCountAt(epoch + 1n)).to.equal(6);
    await time.increase(EPOCH);
    expect(await coordinator.partitionCount()).to.equal(6);
    // The new partitions can be assigned before they carry traffic.
    await rebalanceAll(coordinator);
    expect(await coordinator.assigneesOf(5)).to.have.length(3);
    await register(token, coordinator, s[4]);
    expect(await coordinator.partitionCountAt(epoch)).to.equal(6); // rolled forward: history since last growth
    expect(await coordinator.partitionCountTarget()).to.equal(8);
  });

  it("caps P at maxPartitions and grows at most partitionsPerBroker per registration", async () => {
    const { token, coordinator } = await deployCoordinator({ partitionsPerBroker: 16, maxPartitions: 20 }, 3, 1);
    const s = await ethers.getSigners();
    await register(token, coordinator, s[1]);
    expect(await coordinator.partitionCountTarget()).to.equal(16);
    await register(token, coordinator, s[2]);
    expect(await coordinator.partitionCountTarget()).to.equal(20);
    await register(token, coordinator, s[3]);
    expect(await coordinator.partitionCountTarget()).to.equal(20);
    await coordinator.setParameters({ ...defaultParameters(), partitionsPerBroker: 1, maxPartitions: 1000 });
    await register(token, coordinator, s[4]); // desired 4 × 1 = 4 <= 20: no change
    expect(await coordinator.partitionCountTarget()).to.equal(20);
    await coordinator.setParameters({ ...defaultParameters(), partitionsPerBroker: 16, maxPartitions: 1000 });
    await register(token, coordinator, s[5]); // desired 80, grows by 16 only
    expect(await coordinator.partitionCountTarget()).to.equal(36);
  });

  it("assigns each partition to min(R, brokers) distinct brokers", async () => {
    const { token, coordinator } = await deployCoordinator();
    const s = await ethers.getSigners();
    await register(token, coordinator, s[1]);
    expect(await coordinator.rebalanceNeeded()).to.equal(true);
    await rebalanceAll(coordinator);
    for (let p = 0; p < 4; p++) expect(await coordinator.assigneesOf(p)).to.deep.equal([s[1].address]);
    await register(token, coordinator, s[2]);
    await register(token, coordinator, s[3]);
    await register(token, coordinator, s[4]);
    await rebalanceAll(coordinator);
    const target = Number(await coordinator.partitionCountTarget());
    for (let p = 0; p < target; p++) {
      const assignees = await coordinator.assigneesOf(p);
      expect(assignees).to.have.length(3);
      expect(new Set(assignees).size).to.equal(3);
      for (const a of assignees) expect(await coordinator.isAssigned(p, a)).to.equal(true);
    }
    expect(await coordinator.rebalanceNeeded()).to.equal(false);
    // Loads differ by at most one: 8 partitions × 3 = 24 slots over 4 brokers.
    expect(
      await loads(
        coordinator,
        [s[1], s[2], s[3], s[4]].map((x) => x.address),
      ),
    ).to.deep.equal([6, 6, 6, 6]);
  });

  it("emits every assignment with the partition's new version, and partitionsOf lists them", async () => {
    const { token, coordinator } = await deployCoordinator({}, 1, 1);
    const [, alice] = await ethers.getSigners();
    await register(token, coordinator, alice);
    await expect(coordinator.rebalance(5)).to.emit(coordinator, "PartitionAssigned").withArgs(0, alice.address, 1);
    expect(await coordinator.assignmentVersion(0)).to.equal(1);
    // One broker, partitionsPerBroker 2: P grew from 1 to 2.
    expect([...(await coordinator.partitionsOf(alice.address))].sort()).to.deep.equal([0n, 1n]);
  });

  it("pays the rebalance reward per useful move, bounded by the pool, and nothing when there is no move", async () => {
    const { token, coordinator, admin } = await deployCoordinator();
    const [, alice, keeper] = await ethers.getSigners();
    await fund(token, coordinator, admin, DATA(2.5));
    await coordinator.fundRewards(DATA(2.5));
    await register(token, coordinator, alice);
    await expect(coordinator.connect(keeper).rebalance(2)).to.emit(coordinator, "Rebalanced").withArgs(keeper.address, 2, DATA(2));
    expect(await coordinator.claimable(keeper.address)).to.equal(DATA(2));
    // Two moves left, 0.5 DATA left in the pool: the reward is what the pool holds.
    await expect(coordinator.connect(keeper).rebalance(10)).to.emit(coordinator, "Rebalanced").withArgs(keeper.address, 2, DATA(0.5));
    expect(await coordinator.rewardPool()).to.equal(0);
    await fund(token, coordinator, admin, DATA(10));
    await coordinator.fundRewards(DATA(10));
    // Nothing left to do: no move, no event, no credit (cannot be farmed).
    expect(await coordinator.connect(keeper).rebalance.staticCall(10)).to.equal(0);
    await expect(coordinator.connect(keeper).rebalance(10)).not.to.emit(coordinator, "Rebalanced");
    expect(await coordinator.claimable(keeper.address)).to.equal(DATA(2.5));
    expect(await coordinator.rewardPool()).to.equal(DATA(10));
    // maxMoves 0 does nothing either.
    await register(token, coordinator, (await ethers.getSigners())[3]);
    await expect(coordinator.connect(keeper).rebalance(0)).not.to.emit(coordinator, "Rebalanced");
  });

  it("credits a zero reward when the pool is empty but still reports the moves", async () => {
    const { token, coordinator } = await deployCoordinator();
    const [, alice, keeper] = await ethers.getSigners();
    await register(token, coordinator, alice);
    await expect(coordinator.connect(keeper).rebalance(1)).to.emit(coordinator, "Rebalanced").withArgs(keeper.address, 1, 0);
    expect(await coordinator.claimable(keeper.address)).to.equal(0);
  });

  it("balances load: a new broker takes partitions from the loaded ones until loads differ by at most one", async () => {
    const { token, coordinator } = await deployCoordinator({ partitionsPerBroker: 1 }, 1, 4);
    const [, a, b] = await ethers.getSigners();
    await register(token, coordinator, a);
    expect(await rebalanceAll(coordinator)).to.equal(4);
    await register(token, coordinator, b);
    const tx = coordinator.rebalance(10);
    await expect(tx).to.emit(coordinator, "PartitionUnassigned");
    await expect(tx)
      .to.emit(coordinator, "Rebalanced")
      .withArgs((await ethers.getSigners())[0].address, 2, 0);
    expect(await loads(coordinator, [a.address, b.address])).to.deep.equal([2, 2]);
    expect(await coordinator.rebalanceNeeded()).to.equal(false);
  });

  it("drains a leaving broker, replacing it where another broker is free", async () => {
    const { token, coordinator } = await deployCoordinator({}, 2, 4);
    const [, a, b, c] = await ethers.getSigners();
    await register(token, coordinator, a);
    await register(token, coordinator, b);
    await register(token, coordinator, c); // P target 6
    await rebalanceAll(coordinator);
    await coordinator.connect(a).requestLeave();
    expect(await coordinator.rebalanceNeeded()).to.equal(true);
    await rebalanceAll(coordinator);
    expect(await coordinator.partitionsOf(a.address)).to.deep.equal([]);
    for (let p = 0; p < 6; p++) {
      const assignees = await coordinator.assigneesOf(p);
      expect([...assignees].sort()).to.deep.equal([b.address, c.address].sort());
    }
  });

  it("drains without replacement when every active broker already serves the partition", async () => {
    const { token, coordinator } = await deployCoordinator({}, 3, 4);
    const [, a, b] = await ethers.getSigners();
    await register(token, coordinator, a);
    await register(token, coordinator, b);
    await rebalanceAll(coordinator);
    await coordinator.connect(b).requestLeave();
    const tx = await coordinator.rebalance(1);
    await expect(tx).to.emit(coordinator, "PartitionUnassigned");
    await expect(tx).not.to.emit(coordinator, "PartitionAssigned");
    await rebalanceAll(coordinator);
    for (let p = 0; p < 4; p++) expect(await coordinator.assigneesOf(p)).to.deep.equal([a.address]);
    // The last broker leaves: partitions end up empty and nothing else can be done.
    await coordinator.connect(a).requestLeave();
    await rebalanceAll(coordinator);
    for (let p = 0; p < 4; p++) expect(await coordinator.assigneesOf(p)).to.deep.equal([]);
    expect(await coordinator.rebalanceNeeded()).to.equal(false);
  });
});

describe("NetworkCoordinator load-range bookkeeping (bounded scans)", () => {
  it("tightens a stale lower load bound over calls, paying nothing for calls that move nothing", async () => {
    const { token, coordinator, admin } = await deployCoordinator({ partitionsPerBroker: 1 }, 1, 140);
    const [, a, b, c, keeper] = await ethers.getSigners();
    await fund(token, coordinator, admin, DATA(1000));
    await coordinator.fundRewards(DATA(1000));
    await register(token, coordinator, a);
    await register(token, coordinator, b);
    await rebalanceAll(coordinator);
    expect(await loads(coordinator, [a.address, b.address])).to.deep.equal([70, 70]);
    // C joins (the lower bound drops to 0) and leaves before holding anything: loads 1..69 are empty,
    // more than one call's scan limit of 64.
    await register(token, coordinator, c);
    await coordinator.connect(c).requestLeave();
    expect(await coordinator.rebalanceNeeded()).to.equal(false);
    for (let call = 0; call < 2; call++) {
      expect(await coordinator.connect(keeper).rebalance.staticCall(5)).to.equal(0);
      await expect(coordinator.connect(keeper).rebalance(5)).not.to.emit(coordinator, "Rebalanced");
    }
    expect(await coordinator.claimable(keeper.address)).to.equal(0);
  });

  it("tightens a stale upper load bound left by a drained heavy broker", async () => {
    const { token, coordinator } = await deployCoordinator({ partitionsPerBroker: 1 }, 1, 140);
    const [, a, b, c] = await ethers.getSigners();
    await register(token, coordinator, a);
    await rebalanceAll(coordinator);
    await register(token, coordinator, b);
    await register(token, coordinator, c);
    await coordinator.connect(a).requestLeave();
    // Drain A's 140 partitions onto B and C (replacements), not balancing moves.
    await rebalanceAll(coordinator);
    const [lb, lc] = await loads(coordinator, [b.address, c.address]);
    expect(lb + lc).to.equal(140);
    expect(Math.abs(lb - lc)).to.be.at.most(1);
    expect(await coordinator.rebalanceNeeded()).to.equal(false);
    expect(await coordinator.partitionsOf(a.address)).to.deep.equal([]);
  });
});
