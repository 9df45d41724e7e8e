// The network coordinator's findings of the external audit (issue 13), each replayed as the auditor
// described it; the attack now reverts with its custom error, or the accounting is now exact.
//   L-2 a leaving broker past its delay, still on a round's roster, withdrew before it could be slashed
//   L-3 in a tied round, whoever revealed first counted as the leader and kept its reputation
//   L-4 join/leave churn created rebalance moves paid from the reward pool
// (L-5 and L-6, on EventSubscriptions, are in subscriptions.test.ts.)
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DATA, EPOCH, Outcome, commitAll, deployCoordinator, rebalanceAll, register, revealAll, roster, roundSetup, signReport, toPhase } from "./fixtures";
import type { NetworkCoordinator } from "../../typechain-types";

const CHECKSUM = ethers.id("the events of the epoch");
const OTHER = ethers.id("something else");
const DELAY = 7n * 86400n;

/** The start of the epoch containing `t`. */
async function epochStartOf(coordinator: NetworkCoordinator, t: bigint): Promise<bigint> {
  const genesis = await coordinator.genesis();
  return t - ((t - genesis) % EPOCH);
}

describe("NetworkCoordinator: audit findings (issue 13)", () => {
  describe("L-2: a leaving broker withdraws only a delay after the last round it can be on the roster of", () => {
    it("replays the attack: on a roster, drained past its delay, it cannot withdraw before it is slashed", async () => {
      const { coordinator, brokers } = await roundSetup({}, 4);
      const leaver = brokers[0];
      const whistleblower = (await ethers.getSigners())[8];
      const leaverAddress = await leaver.getAddress();
      await coordinator.connect(leaver).requestLeave();
      const requestedAt = (await coordinator.brokerState(leaverAddress)).withdrawableAt;
      // Nobody drains it during its delay: it stays assigned, and goes on being put on rosters.
      await time.increase(DELAY + 1n);
      const partition = Number((await coordinator.partitionsOf(leaverAddress))[0]);
      const epoch = await coordinator.currentEpoch();
      const who = await roster(coordinator, partition, brokers);
      expect(await Promise.all(who.map((s) => s.getAddress()))).to.include(leaverAddress);
      const reports = who.map(() => ({ count: 7n, checksum: CHECKSUM }));
      await commitAll(coordinator, epoch, partition, who, reports);
      // It signs a conflicting report of this round for someone, then is drained at once.
      const a = await signReport(coordinator, leaver, epoch, partition, { count: 7n, checksum: CHECKSUM });
      const b = await signReport(coordinator, leaver, epoch, partition, { count: 8n, checksum: OTHER });
      await rebalanceAll(coordinator);
      expect((await coordinator.brokerState(leaverAddress)).load).to.equal(0);
      const now = BigInt(await time.latest());
      expect(now).to.be.greaterThan(requestedAt);

      // Its delay runs from the end of that round: end(epoch) + commitWindow + revealWindow.
      const params = await coordinator.parameters();
      const genesis = await coordinator.genesis();
      const roundEnd = genesis + (epoch + 1n) * EPOCH + params.commitWindow + params.revealWindow;
      expect(await epochStartOf(coordinator, now)).to.equal(genesis + (epoch + 1n) * EPOCH);
      const withdrawableAt = roundEnd + DELAY;
      expect((await coordinator.brokerState(leaverAddress)).withdrawableAt).to.equal(withdrawableAt);
      await time.setNextBlockTimestamp(now + 1n);
      await expect(coordinator.connect(leaver).withdrawStake())
        .to.be.revertedWithCustomError(coordinator, "WithdrawalDelayNotElapsed")
        .withArgs(leaverAddress, withdrawableAt, now + 1n);

      // So the proof still lands, and the stake it withdraws at last is the slashed one.
      await expect(coordinator.connect(whistleblower).slashConflictingReports(leaverAddress, epoch, partition, a, b))
        .to.emit(coordinator, "BrokerSlashed")
        .withArgs(leaverAddress, epoch, partition, DATA(500), await whistleblower.getAddress(), DATA(50));
      await time.setNextBlockTimestamp(withdrawableAt);
      await expect(coordinator.connect(leaver).withdrawStake()).to.emit(coordinator, "StakeWithdrawn").withArgs(leaverAddress, DATA(500));
    });

    it("keeps the plain delay for a broker never assigned, or drained before any epoch ended", async () => {
      const { token, coordinator } = await deployCoordinator();
      const [, never, early, partner, partner2] = await ethers.getSigners();
      await register(token, coordinator, never);
      await coordinator.connect(never).requestLeave();
      const neverAt = (await coordinator.brokerState(never.address)).withdrawableAt;
      for (const s of [early, partner, partner2]) await register(token, coordinator, s);
      await rebalanceAll(coordinator);
      const leave = await (await coordinator.connect(early).requestLeave()).wait();
      await rebalanceAll(coordinator);
      expect(await coordinator.currentEpoch()).to.equal(0n);
      const earlyAt = (await coordinator.brokerState(early.address)).withdrawableAt;
      expect(earlyAt, "the plain delay from the request to leave").to.equal(BigInt((await leave!.getBlock()).timestamp) + DELAY);
      await time.increaseTo(earlyAt);
      for (const [s, at] of [
        [never, neverAt],
        [early, earlyAt],
      ] as const) {
        expect((await coordinator.brokerState(s.address)).withdrawableAt).to.equal(at);
        await expect(coordinator.connect(s).withdrawStake()).to.emit(coordinator, "StakeWithdrawn");
      }
    });
  });

  describe("L-3: a tied round without agreement judges none of the tied", () => {
    it("replays the attack: a griefer revealing first keeps its reputation, and so does the honest broker", async () => {
      for (const griefFirst of [true, false]) {
        const { coordinator, brokers } = await roundSetup();
        const who = await roster(coordinator, 0, brokers);
        const [griefer, honest, silent] = who;
        const reveals = griefFirst ? [griefer, honest] : [honest, griefer];
        const reportOf = (s: (typeof who)[number]) => (s === griefer ? { count: 99n, checksum: OTHER } : { count: 100n, checksum: CHECKSUM });
        await commitAll(coordinator, 0n, 0, reveals, reveals.map(reportOf));
        await revealAll(coordinator, 0n, 0, reveals, reveals.map(reportOf));
        expect((await coordinator.roundState(0n, 0)).leaderVotes).to.equal(1);
        await toPhase(coordinator, 0n, "final");
        const tx = coordinator.finalizeRound(0n, 0);
        await expect(tx).to.emit(coordinator, "RoundFinalized").withArgs(0n, 0, Outcome.NoAgreement, 0, ethers.ZeroHash, 0, 0);
        // Only the silent roster member is judged (silent brokers are judged as before).
        await expect(tx)
          .to.emit(coordinator, "ReputationChanged")
          .withArgs(await silent.getAddress(), 4000);
        const receipt = await (await tx).wait();
        const changed = receipt!.logs.map((l) => coordinator.interface.parseLog(l)).filter((e) => e?.name === "ReputationChanged");
        expect(changed.length).to.equal(1);
        for (const s of [griefer, honest]) expect((await coordinator.brokerState(await s.getAddress())).reputation).to.equal(5000);
      }
    });

    it("in a 2-2-1 round judges the lone deviating revealer, not the tied ones; a broken tie judges the minority", async () => {
      const { coordinator, brokers } = await roundSetup({}, 5, 5);
      const who = await roster(coordinator, 0, brokers);
      const A = { count: 1n, checksum: CHECKSUM };
      const B = { count: 2n, checksum: OTHER };
      const C = { count: 3n, checksum: CHECKSUM };
      const reports = [A, B, A, B, C];
      await commitAll(coordinator, 0n, 0, who, reports);
      await revealAll(coordinator, 0n, 0, who, reports);
      await toPhase(coordinator, 0n, "final");
      await coordinator.finalizeRound(0n, 0);
      const reputations = await Promise.all(who.map(async (s) => (await coordinator.brokerState(await s.getAddress())).reputation));
      expect(reputations).to.deep.equal([5000n, 5000n, 5000n, 5000n, 4000n]);

      // Next round: A, B, then A again breaks the tie; B's revealer is judged, as before the fix.
      const next = await coordinator.currentEpoch();
      const three = who.slice(0, 3);
      await commitAll(coordinator, next, 0, three, [A, B, A]);
      await revealAll(coordinator, next, 0, three, [A, B, A]);
      await toPhase(coordinator, next, "final");
      await coordinator.finalizeRound(next, 0);
      expect((await coordinator.brokerState(await who[1].getAddress())).reputation).to.equal(4000n);
      expect((await coordinator.brokerState(await who[0].getAddress())).reputation).to.equal(5000n);
    });
  });

  describe("L-4: join/leave churn earns no rebalance reward; P never shrinks", () => {
    it("replays the churn cycle: only fills of slots the network never had are paid, once", async () => {
      const { coordinator, token, brokers } = await roundSetup({ partitionsPerBroker: 2 });
      expect(await coordinator.partitionCountTarget()).to.equal(6n);
      const signers = await ethers.getSigners();
      const cycle = async (churner: (typeof signers)[number]) => {
        const before = await coordinator.claimable(churner.address);
        await register(token, coordinator, churner);
        let moves = await rebalanceAll(coordinator, churner);
        await coordinator.connect(churner).requestLeave();
        moves += await rebalanceAll(coordinator, churner);
        await time.increaseTo((await coordinator.brokerState(churner.address)).withdrawableAt);
        const stake = (await coordinator.brokerState(churner.address)).stake;
        await expect(coordinator.connect(churner).withdrawStake()).to.emit(coordinator, "StakeWithdrawn").withArgs(churner.address, stake);
        return { moves, earned: (await coordinator.claimable(churner.address)) - before };
      };
      // The first cycle grows P from 6 to 8: the 2 new partitions x R = 3 fills are new to the
      // network and paid once; every other move of the cycle (balancing, draining, refilling) is not.
      const first = await cycle(signers[10]);
      expect(await coordinator.partitionCountTarget()).to.equal(8n);
      expect(first.moves).to.be.greaterThan(6);
      expect(first.earned).to.equal(DATA(6));
      // Every later cycle, by the same address or another, earns nothing: the stake comes back whole
      // and the pool pays no move.
      for (const churner of [signers[10], signers[11]]) {
        const pool = await coordinator.rewardPool();
        const again = await cycle(churner);
        expect(again.moves).to.be.greaterThan(0);
        expect(again.earned).to.equal(0n);
        expect(await coordinator.rewardPool()).to.equal(pool);
      }
      // P stays 8 though the network is back to 3 brokers (P never shrinks, docs/network.md §3).
      expect(await coordinator.activeBrokerCount()).to.equal(BigInt(brokers.length));
      expect(await coordinator.partitionCountTarget()).to.equal(8n);
    });

    it("pays the fills of a network's first assignments, none of the refills after a broker left, and the growth beyond", async () => {
      const { token, coordinator, admin } = await deployCoordinator({}, 3, 2);
      const [, a, b, c, d] = await ethers.getSigners();
      await token.mint(admin.address, DATA(100));
      await token.approve(await coordinator.getAddress(), DATA(100));
      await coordinator.fundRewards(DATA(100));
      await register(token, coordinator, a);
      await register(token, coordinator, b);
      // P = 4 (2 brokers x 2), R = 3 but 2 brokers: 8 assignments, all new.
      await expect(coordinator.rebalance(50)).to.emit(coordinator, "Rebalanced").withArgs(admin.address, 8, DATA(8));
      await coordinator.connect(b).requestLeave();
      // b's 4 partitions are drained with no free broker to take them: unpaid.
      await expect(coordinator.rebalance(50)).to.emit(coordinator, "Rebalanced").withArgs(admin.address, 4, 0);
      // c takes b's place: P stays 4, and refilling b's old slots is unpaid.
      await register(token, coordinator, c);
      await expect(coordinator.rebalance(50)).to.emit(coordinator, "Rebalanced").withArgs(admin.address, 4, 0);
      // d makes 3 brokers: P grows to 6 and every partition gets a third broker: 4 + 2 x 3 = 10
      // assignments the network never had, paid (a balancing move, if any, would not be).
      await register(token, coordinator, d);
      expect(await coordinator.partitionCountTarget()).to.equal(6n);
      const moves = await coordinator.rebalance.staticCall(50);
      expect(moves).to.be.at.least(10n);
      await expect(coordinator.rebalance(50)).to.emit(coordinator, "Rebalanced").withArgs(admin.address, moves, DATA(10));
      const assignments = (await Promise.all([0, 1, 2, 3, 4, 5].map((p) => coordinator.assigneesOf(p)))).flat().length;
      expect(assignments).to.equal(18);
    });
  });
});
