// Epochs: commit-reveal of (eventCount, checksum), finalization at the coherence threshold, rewards,
// reputation, slashing of conflicting signed reports, and the delivery views the market reads.
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import {
  DATA,
  EPOCH,
  Outcome,
  Status,
  commitAll,
  commitment,
  deployCoordinator,
  fund,
  rebalanceAll,
  register,
  revealAll,
  roster,
  roundSetup as setup,
  salt,
  signReport,
  toPhase,
} from "./fixtures";
import type { DATAToken, NetworkCoordinator } from "../../typechain-types";

const CHECKSUM = ethers.keccak256(ethers.toUtf8Bytes("rolling checksum of epoch 0"));
const OTHER = ethers.keccak256(ethers.toUtf8Bytes("a different checksum"));
describe("NetworkCoordinator epochs and rewards", () => {
  it("finalizes an agreed report, credits each agreeing broker its share and raises its reputation", async () => {
    const { coordinator, token, brokers } = await setup();
    const who = await roster(coordinator, 0, brokers);
    const reports = who.map(() => ({ count: 1234n, checksum: CHECKSUM }));
    const epoch = 0n;
    await toPhase(coordinator, epoch, "commit");
    const c0 = commitment(epoch, 0, 1234n, CHECKSUM, salt(0), await who[0].getAddress());
    await expect(coordinator.connect(who[0]).commitReport(epoch, 0, c0))
      .to.emit(coordinator, "ReportCommitted")
      .withArgs(epoch, 0, await who[0].getAddress(), c0);
    // commitAll numbers salts from 0 for who[1..]; revealAll below uses the same numbering.
    await commitAll(coordinator, epoch, 0, who.slice(1), reports.slice(1));
    expect((await coordinator.roundState(epoch, 0)).slice(0, 3)).to.deep.equal([BigInt(Outcome.Open), 3n, 3n]);

    await toPhase(coordinator, epoch, "reveal");
    await expect(coordinator.connect(who[0]).revealReport(epoch, 0, 1234n, CHECKSUM, salt(0)))
      .to.emit(coordinator, "ReportRevealed")
      .withArgs(epoch, 0, await who[0].getAddress(), 1234n, CHECKSUM);
    await revealAll(coordinator, epoch, 0, who.slice(1), reports.slice(1));

    await toPhase(coordinator, epoch, "final");
    const tx = coordinator.finalizeRound(epoch, 0);
    await expect(tx).to.emit(coordinator, "RoundFinalized").withArgs(epoch, 0, Outcome.Agreed, 1234n, CHECKSUM, 3, DATA(30));
    await expect(tx)
      .to.emit(coordinator, "ReputationChanged")
      .withArgs(await who[0].getAddress(), 5100);
    for (const w of who) {
      expect(await coordinator.claimable(await w.getAddress())).to.equal(DATA(30));
      expect((await coordinator.brokerState(await w.getAddress())).reputation).to.equal(5100);
    }
    expect(await coordinator.rewardPool()).to.equal(DATA(10_000 - 90));
    expect(await coordinator.finalizedEventCount(epoch, 0)).to.deep.equal([true, 1234n]);
    expect(await coordinator.finalizedEventCount(epoch, 1)).to.deep.equal([false, 0n]);
    expect(await coordinator.lastFinalized(0)).to.deep.equal([0n, 1234n, 1234n]);
    expect(await coordinator.roundState(epoch, 0)).to.deep.equal([BigInt(Outcome.Agreed), 3n, 3n, 3n, 3n]);

    const addr = await who[1].getAddress();
    const [, , , , , , , , , recipient] = await ethers.getSigners();
    await expect(coordinator.connect(who[1]).claimRewards(recipient.address)).to.emit(coordinator, "RewardClaimed").withArgs(addr, recipient.address, DATA(30));
    expect(await token.balanceOf(recipient.address)).to.equal(DATA(30));
    await expect(coordinator.connect(who[1]).claimRewards(recipient.address)).to.be.revertedWithCustomError(coordinator, "NothingToClaim").withArgs(addr);
    await expect(coordinator.connect(who[1]).claimRewards(ethers.ZeroAddress)).to.be.revertedWithCustomError(coordinator, "ZeroRecipient");
    await expect(coordinator.finalizeRound(epoch, 0)).to.be.revertedWithCustomError(coordinator, "RoundAlreadyFinalized").withArgs(epoch, 0);
  });

  it("keeps the delivery history: the latest epoch and the running total", async () => {
    const { coordinator, brokers } = await setup();
    const who = await roster(coordinator, 2, brokers);
    for (const [epoch, count] of [
      [0n, 10n],
      [1n, 7n],
    ] as const) {
      const reports = who.map(() => ({ count, checksum: CHECKSUM }));
      await commitAll(coordinator, epoch, 2, who, reports);
      await revealAll(coordinator, epoch, 2, who, reports);
      await toPhase(coordinator, epoch, "final");
      await coordinator.finalizeRound(epoch, 2);
    }
    expect(await coordinator.lastFinalized(2)).to.deep.equal([1n, 7n, 17n]);
    expect(await coordinator.finalizedEventCount(1n, 2)).to.deep.equal([true, 7n]);
  });

  it("does not let an older epoch finalized late overwrite the latest one", async () => {
    const { coordinator, brokers } = await setup();
    const who = await roster(coordinator, 1, brokers);
    const r0 = who.map(() => ({ count: 5n, checksum: CHECKSUM }));
    const r1 = who.map(() => ({ count: 9n, checksum: CHECKSUM }));
    await commitAll(coordinator, 0n, 1, who, r0);
    await revealAll(coordinator, 0n, 1, who, r0);
    await commitAll(coordinator, 1n, 1, who, r1);
    await revealAll(coordinator, 1n, 1, who, r1);
    await toPhase(coordinator, 1n, "final");
    await coordinator.finalizeRound(1n, 1);
    await coordinator.finalizeRound(0n, 1);
    expect(await coordinator.lastFinalized(1)).to.deep.equal([1n, 9n, 14n]);
    // The older epoch finalized late does not move the delivery record back either.
    expect(await coordinator.partitionDeliveredUntil(1)).to.equal((await coordinator.genesis()) + 2n * EPOCH);
  });

  it("does not finalize below the coherence threshold; the deviating broker loses reputation", async () => {
    const { coordinator, brokers } = await setup();
    const who = await roster(coordinator, 0, brokers);
    const reports = [
      { count: 100n, checksum: CHECKSUM },
      { count: 100n, checksum: CHECKSUM },
      { count: 99n, checksum: OTHER },
    ];
    await commitAll(coordinator, 0n, 0, who, reports);
    await revealAll(coordinator, 0n, 0, who, reports);
    await toPhase(coordinator, 0n, "final");
    const tx = coordinator.finalizeRound(0n, 0);
    await expect(tx).to.emit(coordinator, "RoundFinalized").withArgs(0n, 0, Outcome.NoAgreement, 0, ethers.ZeroHash, 0, 0);
    await expect(tx)
      .to.emit(coordinator, "ReputationChanged")
      .withArgs(await who[2].getAddress(), 4000);
    expect((await coordinator.brokerState(await who[0].getAddress())).reputation).to.equal(5000);
    expect(await coordinator.claimable(await who[0].getAddress())).to.equal(0);
    expect(await coordinator.finalizedEventCount(0n, 0)).to.deep.equal([false, 0n]);
    expect(await coordinator.lastFinalized(0)).to.deep.equal([0n, 0n, 0n]);
  });

  it("finalizes 2 of 3 at a 60 % threshold: agreeing brokers share the reward, the deviating one loses", async () => {
    const { coordinator, brokers } = await setup({ coherenceBps: 6000 });
    const who = await roster(coordinator, 0, brokers);
    const reports = [
      { count: 99n, checksum: OTHER },
      { count: 100n, checksum: CHECKSUM },
      { count: 100n, checksum: CHECKSUM },
    ];
    await commitAll(coordinator, 0n, 0, who, reports);
    await revealAll(coordinator, 0n, 0, who, reports);
    await toPhase(coordinator, 0n, "final");
    await expect(coordinator.finalizeRound(0n, 0)).to.emit(coordinator, "RoundFinalized").withArgs(0n, 0, Outcome.Agreed, 100n, CHECKSUM, 2, DATA(45));
    expect((await coordinator.brokerState(await who[0].getAddress())).reputation).to.equal(4000);
    expect((await coordinator.brokerState(await who[1].getAddress())).reputation).to.equal(5100);
    expect(await coordinator.claimable(await who[1].getAddress())).to.equal(DATA(45));
  });

  it("penalizes silent roster members, but judges nobody in a round nobody committed to", async () => {
    const { coordinator, brokers } = await setup({ coherenceBps: 6000 });
    const who = await roster(coordinator, 0, brokers);
    const reports = who.map(() => ({ count: 1n, checksum: CHECKSUM }));
    await commitAll(coordinator, 0n, 0, who.slice(0, 2), reports);
    await revealAll(coordinator, 0n, 0, who.slice(0, 2), reports);
    await toPhase(coordinator, 0n, "final");
    await coordinator.finalizeRound(0n, 0);
    expect((await coordinator.brokerState(await who[2].getAddress())).reputation).to.equal(4000);

    // Nobody committed for partition 3: finalizing (by anyone, at any later time) punishes no one.
    await time.increase(10 * Number(EPOCH));
    const tx = coordinator.finalizeRound(0n, 3);
    await expect(tx).to.emit(coordinator, "RoundFinalized").withArgs(0n, 3, Outcome.NoAgreement, 0, ethers.ZeroHash, 0, 0);
    await expect(tx).not.to.emit(coordinator, "ReputationChanged");
    expect((await coordinator.roundState(0n, 3))[1]).to.equal(0);
  });

  it("suspends a broker whose reputation falls below the minimum and drains it", async () => {
    const { coordinator, brokers } = await setup({ reputationLoss: 3500, coherenceBps: 6000 }, 4);
    const victim = brokers[0];
    const addr = await victim.getAddress();
    const partitions = await coordinator.partitionsOf(addr);
    const early = partitions.find((p) => p < 4n); // epoch 0 has P = 4 (growth applies from epoch 1)
    expect(early !== undefined, "the victim serves a partition of epoch 0").to.equal(true);
    const others = (await roster(coordinator, Number(early), brokers)).filter((b) => b !== victim);
    const reports = others.map(() => ({ count: 4n, checksum: CHECKSUM }));
    await commitAll(coordinator, 0n, Number(early), others, reports);
    await revealAll(coordinator, 0n, Number(early), others, reports);
    await toPhase(coordinator, 0n, "final");
    await expect(coordinator.finalizeRound(0n, Number(early))) // silent: 5000 -> 1500 < 2000
      .to.emit(coordinator, "BrokerSuspended")
      .withArgs(addr, 1500, DATA(1000));
    const state = await coordinator.brokerState(addr);
    expect(state.status).to.equal(Status.Suspended);
    expect(state.reputation).to.equal(1500);
    expect(await coordinator.activeBrokerCount()).to.equal(3);
    await rebalanceAll(coordinator);
    expect(await coordinator.partitionsOf(addr)).to.deep.equal([]);
    for (let p = 0; p < Number(await coordinator.partitionCountTarget()); p++) {
      expect(await coordinator.assigneesOf(p)).to.have.length(3);
      expect(await coordinator.isAssigned(p, addr)).to.equal(false);
    }
    // A suspended broker can still top up and leave, but not register again.
    await fund((await ethers.getContractAt("DATAToken", await coordinator.token())) as unknown as DATAToken, coordinator, victim, 1n);
    await coordinator.connect(victim).addStake(1n);
    await expect(coordinator.connect(victim).requestLeave()).to.emit(coordinator, "LeaveRequested");
  });

  it("reputation is clamped to [0, 10000]", async () => {
    const { coordinator, brokers } = await setup({
      reputationGain: 10000,
      reputationLoss: 10000,
      minReputation: 0,
      coherenceBps: 6000,
    });
    const who = await roster(coordinator, 0, brokers);
    const reports = who.map(() => ({ count: 1n, checksum: CHECKSUM }));
    // Two agree, the third is silent.
    await commitAll(coordinator, 0n, 0, who.slice(0, 2), reports);
    await revealAll(coordinator, 0n, 0, who.slice(0, 2), reports);
    await toPhase(coordinator, 0n, "final");
    await coordinator.finalizeRound(0n, 0);
    expect((await coordinator.brokerState(await who[0].getAddress())).reputation).to.equal(10000);
    expect((await coordinator.brokerState(await who[2].getAddress())).reputation).to.equal(0);
    // minReputation 0: a broker at 0 stays active.
    expect((await coordinator.brokerState(await who[2].getAddress())).status).to.equal(Status.Active);
    // Again in epoch 1: the silent one stays at 0 and the agreeing ones at 10000, no change emitted.
    await commitAll(coordinator, 1n, 0, who.slice(0, 2), reports);
    await revealAll(coordinator, 1n, 0, who.slice(0, 2), reports);
    await toPhase(coordinator, 1n, "final");
    await expect(coordinator.finalizeRound(1n, 0)).not.to.emit(coordinator, "ReputationChanged");
  });

  it("never credits more than the pool: the reward is what is left", async () => {
    const ctx = await deployCoordinator();
    const signers = (await ethers.getSigners()).slice(1, 4);
    for (const s of signers) await register(ctx.token, ctx.coordinator, s);
    await rebalanceAll(ctx.coordinator);
    await fund(ctx.token, ctx.coordinator, ctx.admin, DATA(50));
    await ctx.coordinator.fundRewards(DATA(50));
    const who = await roster(ctx.coordinator, 0, signers);
    const reports = who.map(() => ({ count: 1n, checksum: CHECKSUM }));
    await commitAll(ctx.coordinator, 0n, 0, who, reports);
    await revealAll(ctx.coordinator, 0n, 0, who, reports);
    await toPhase(ctx.coordinator, 0n, "final");
    const each = DATA(50) / 3n;
    await expect(ctx.coordinator.finalizeRound(0n, 0)).to.emit(ctx.coordinator, "RoundFinalized").withArgs(0n, 0, Outcome.Agreed, 1n, CHECKSUM, 3, each);
    expect(await ctx.coordinator.rewardPool()).to.equal(DATA(50) - each * 3n);
  });

  it("agreeing with an empty pool credits nothing but still raises reputation", async () => {
    const ctx = await deployCoordinator();
    const signers = (await ethers.getSigners()).slice(1, 2);
    await register(ctx.token, ctx.coordinator, signers[0]);
    await rebalanceAll(ctx.coordinator);
    const reports = [{ count: 3n, checksum: CHECKSUM }];
    await commitAll(ctx.coordinator, 0n, 0, signers, reports);
    await revealAll(ctx.coordinator, 0n, 0, signers, reports);
    await toPhase(ctx.coordinator, 0n, "final");
    await expect(ctx.coordinator.finalizeRound(0n, 0)).not.to.emit(ctx.coordinator, "RewardCredited");
    expect((await ctx.coordinator.brokerState(signers[0].address)).reputation).to.equal(5100);
  });

  describe("phases and rosters", () => {
    it("refuses a commit before the epoch ended or after the commit window", async () => {
      const { coordinator, brokers } = await setup();
      const who = await roster(coordinator, 0, brokers);
      const genesis = await coordinator.genesis();
      const c = commitment(0n, 0, 1n, CHECKSUM, salt(0), await who[0].getAddress());
      await time.setNextBlockTimestamp(genesis + EPOCH - 1n);
      await expect(coordinator.connect(who[0]).commitReport(0n, 0, c))
        .to.be.revertedWithCustomError(coordinator, "OutsidePhase")
        .withArgs(0n, genesis + EPOCH, genesis + EPOCH + 600n, genesis + EPOCH - 1n);
      await time.setNextBlockTimestamp(genesis + EPOCH + 600n);
      await expect(coordinator.connect(who[0]).commitReport(0n, 0, c))
        .to.be.revertedWithCustomError(coordinator, "OutsidePhase")
        .withArgs(0n, genesis + EPOCH, genesis + EPOCH + 600n, genesis + EPOCH + 600n);
    });

    it("refuses an empty commitment, an unknown partition, a stranger, an outsider of the roster and a second commit", async () => {
      const { coordinator, brokers } = await setup({}, 4);
      const who = await roster(coordinator, 0, brokers);
      const outsider = brokers.find((b) => !who.includes(b))!;
      await toPhase(coordinator, 0n, "commit");
      await expect(coordinator.connect(who[0]).commitReport(0n, 0, ethers.ZeroHash)).to.be.revertedWithCustomError(coordinator, "EmptyCommitment");
      const p = await coordinator.partitionCountAt(0n);
      await expect(coordinator.connect(who[0]).commitReport(0n, Number(p), CHECKSUM))
        .to.be.revertedWithCustomError(coordinator, "UnknownPartition")
        .withArgs(p, p);
      await expect(coordinator.connect(outsider).commitReport(0n, 0, CHECKSUM))
        .to.be.revertedWithCustomError(coordinator, "NotAssigned")
        .withArgs(0, await outsider.getAddress());
      await coordinator.connect(who[0]).commitReport(0n, 0, CHECKSUM);
      await expect(coordinator.connect(outsider).commitReport(0n, 0, CHECKSUM))
        .to.be.revertedWithCustomError(coordinator, "NotInRoster")
        .withArgs(0n, 0, await outsider.getAddress());
      await expect(coordinator.connect(who[0]).commitReport(0n, 0, CHECKSUM))
        .to.be.revertedWithCustomError(coordinator, "AlreadyCommitted")
        .withArgs(0n, 0, await who[0].getAddress());
    });

    it("keeps the roster of the first commit when rebalancing moves the partition mid-round", async () => {
      const { token, coordinator, brokers } = await setup({ partitionsPerBroker: 1 }, 3, 3, 4);
      const who = await roster(coordinator, 0, brokers);
      const reports = who.map(() => ({ count: 8n, checksum: CHECKSUM }));
      await commitAll(coordinator, 0n, 0, who.slice(0, 1), reports);
      // A member leaves and is drained; a newcomer takes its place in partition 0.
      const [, , , , , newcomer] = await ethers.getSigners();
      await register(token, coordinator, newcomer);
      await coordinator.connect(who[2]).requestLeave();
      await rebalanceAll(coordinator);
      expect(await coordinator.isAssigned(0, await who[2].getAddress())).to.equal(false);
      await expect(coordinator.connect(newcomer).commitReport(0n, 0, CHECKSUM))
        .to.be.revertedWithCustomError(coordinator, "NotInRoster")
        .withArgs(0n, 0, newcomer.address);
      // The drained member still serves this round's report.
      const c2 = commitment(0n, 0, 8n, CHECKSUM, salt(2), await who[2].getAddress());
      await coordinator.connect(who[2]).commitReport(0n, 0, c2);
      await coordinator.connect(who[1]).commitReport(0n, 0, commitment(0n, 0, 8n, CHECKSUM, salt(1), await who[1].getAddress()));
      await revealAll(coordinator, 0n, 0, who, reports);
      await toPhase(coordinator, 0n, "final");
      await expect(coordinator.finalizeRound(0n, 0)).to.emit(coordinator, "RoundFinalized").withArgs(0n, 0, Outcome.Agreed, 8n, CHECKSUM, 3, DATA(30));
      expect(await coordinator.claimable(newcomer.address)).to.equal(0);
    });

    it("refuses a reveal outside its phase, without commitment, not matching, or repeated", async () => {
      const { coordinator, brokers } = await setup();
      const who = await roster(coordinator, 0, brokers);
      const reports = who.map(() => ({ count: 5n, checksum: CHECKSUM }));
      await commitAll(coordinator, 0n, 0, who.slice(0, 2), reports);
      const genesis = await coordinator.genesis();
      const revealStart = genesis + EPOCH + 600n;
      await time.setNextBlockTimestamp(revealStart - 1n);
      await expect(coordinator.connect(who[0]).revealReport(0n, 0, 5n, CHECKSUM, salt(0)))
        .to.be.revertedWithCustomError(coordinator, "OutsidePhase")
        .withArgs(0n, revealStart, revealStart + 600n, revealStart - 1n);
      await toPhase(coordinator, 0n, "reveal");
      await expect(coordinator.connect(who[2]).revealReport(0n, 0, 5n, CHECKSUM, salt(2)))
        .to.be.revertedWithCustomError(coordinator, "NoCommitment")
        .withArgs(0n, 0, await who[2].getAddress());
      const stored = commitment(0n, 0, 5n, CHECKSUM, salt(0), await who[0].getAddress());
      const computed = commitment(0n, 0, 6n, CHECKSUM, salt(0), await who[0].getAddress());
      await expect(coordinator.connect(who[0]).revealReport(0n, 0, 6n, CHECKSUM, salt(0)))
        .to.be.revertedWithCustomError(coordinator, "CommitmentMismatch")
        .withArgs(stored, computed);
      await coordinator.connect(who[0]).revealReport(0n, 0, 5n, CHECKSUM, salt(0));
      await expect(coordinator.connect(who[0]).revealReport(0n, 0, 5n, CHECKSUM, salt(0)))
        .to.be.revertedWithCustomError(coordinator, "AlreadyRevealed")
        .withArgs(0n, 0, await who[0].getAddress());
      // A copied commitment is useless: it binds the committer's address.
      await time.setNextBlockTimestamp(revealStart + 600n);
      await expect(coordinator.connect(who[1]).revealReport(0n, 0, 5n, CHECKSUM, salt(1)))
        .to.be.revertedWithCustomError(coordinator, "OutsidePhase")
        .withArgs(0n, revealStart, revealStart + 600n, revealStart + 600n);
    });

    it("refuses to finalize before the reveal phase ended or for an unknown partition", async () => {
      const { coordinator } = await setup();
      const genesis = await coordinator.genesis();
      const revealEnd = genesis + EPOCH + 1200n;
      await time.setNextBlockTimestamp(revealEnd - 1n);
      await expect(coordinator.finalizeRound(0n, 0))
        .to.be.revertedWithCustomError(coordinator, "OutsidePhase")
        .withArgs(0n, revealEnd, ethers.MaxUint256, revealEnd - 1n);
      await expect(coordinator.finalizeRound(0n, 99)).to.be.revertedWithCustomError(coordinator, "UnknownPartition").withArgs(99, 4);
    });

    it("skips a roster member that withdrew before finalization", async () => {
      const { coordinator, brokers } = await setup({}, 4);
      const who = await roster(coordinator, 0, brokers);
      await commitAll(coordinator, 0n, 0, who.slice(0, 1), [{ count: 1n, checksum: CHECKSUM }]);
      await coordinator.connect(who[1]).requestLeave();
      await rebalanceAll(coordinator);
      await time.increase(8 * 86400);
      await coordinator.connect(who[1]).withdrawStake();
      const tx = await coordinator.finalizeRound(0n, 0);
      await expect(tx)
        .to.emit(coordinator, "ReputationChanged")
        .withArgs(await who[2].getAddress(), 4000);
      const receipt = await tx.wait();
      const changed = receipt!.logs
        .map((log) => coordinator.interface.parseLog(log))
        .filter((e) => e?.name === "ReputationChanged")
        .map((e) => e!.args[0]);
      expect(changed).to.not.include(await who[1].getAddress());
      expect(changed).to.include(await who[0].getAddress());
      expect((await coordinator.brokerState(await who[1].getAddress())).reputation).to.equal(0);
    });
  });

  describe("slashing", () => {
    it("slashes a broker that signed two different reports for one round", async () => {
      const { coordinator, brokers } = await setup();
      const [, , , , , , whistleblower] = await ethers.getSigners();
      const cheat = brokers[0];
      const addr = await cheat.getAddress();
      const a = await signReport(coordinator, cheat, 3n, 1, { count: 10n, checksum: CHECKSUM });
      const b = await signReport(coordinator, cheat, 3n, 1, { count: 10n, checksum: OTHER });
      const pool = await coordinator.rewardPool();
      const tx = coordinator.connect(whistleblower).slashConflictingReports(addr, 3n, 1, a, b);
      await expect(tx).to.emit(coordinator, "BrokerSlashed").withArgs(addr, 3n, 1, DATA(500), whistleblower.address, DATA(50));
      await expect(tx).to.emit(coordinator, "BrokerSuspended").withArgs(addr, 0, DATA(500));
      await expect(tx).to.emit(coordinator, "ReputationChanged").withArgs(addr, 0);
      const state = await coordinator.brokerState(addr);
      expect(state.stake).to.equal(DATA(500));
      expect(state.status).to.equal(Status.Suspended);
      expect(await coordinator.claimable(whistleblower.address)).to.equal(DATA(50));
      expect(await coordinator.rewardPool()).to.equal(pool + DATA(450));
      expect(await coordinator.accountedBalances()).to.deep.equal([DATA(2500), DATA(50)]);
      await expect(coordinator.slashConflictingReports(addr, 3n, 1, a, b))
        .to.be.revertedWithCustomError(coordinator, "AlreadySlashed")
        .withArgs(addr, 3n, 1);
      // Another round, while suspended: still slashable, no second suspension.
      const c = await signReport(coordinator, cheat, 4n, 1, { count: 1n, checksum: CHECKSUM });
      const d = await signReport(coordinator, cheat, 4n, 1, { count: 2n, checksum: CHECKSUM });
      const tx2 = coordinator.slashConflictingReports(addr, 4n, 1, c, d);
      await expect(tx2).to.emit(coordinator, "BrokerSlashed");
      await expect(tx2).not.to.emit(coordinator, "BrokerSuspended");
      await expect(tx2).not.to.emit(coordinator, "ReputationChanged");
    });

    it("slashes a leaving broker during its withdrawal delay without a whistleblower share when set to 0", async () => {
      const { coordinator, brokers } = await setup({ whistleblowerBps: 0 });
      const cheat = brokers[1];
      const addr = await cheat.getAddress();
      await coordinator.connect(cheat).requestLeave();
      const a = await signReport(coordinator, cheat, 0n, 0, { count: 1n, checksum: CHECKSUM });
      const b = await signReport(coordinator, cheat, 0n, 0, { count: 2n, checksum: CHECKSUM });
      await expect(coordinator.slashConflictingReports(addr, 0n, 0, a, b)).not.to.emit(coordinator, "RewardCredited");
      const state = await coordinator.brokerState(addr);
      expect(state.stake).to.equal(DATA(500));
      expect(state.status).to.equal(Status.Leaving);
    });

    it("refuses reports that do not conflict, are not signed by the broker, or come from a non-broker", async () => {
      const { coordinator, brokers } = await setup();
      const cheat = brokers[0];
      const addr = await cheat.getAddress();
      const a = await signReport(coordinator, cheat, 1n, 1, { count: 10n, checksum: CHECKSUM });
      const same = await signReport(coordinator, cheat, 1n, 1, { count: 10n, checksum: CHECKSUM });
      await expect(coordinator.slashConflictingReports(addr, 1n, 1, a, same))
        .to.be.revertedWithCustomError(coordinator, "NotConflicting")
        .withArgs(addr);
      const byOther = await signReport(coordinator, brokers[1], 1n, 1, { count: 11n, checksum: CHECKSUM });
      await expect(coordinator.slashConflictingReports(addr, 1n, 1, a, byOther))
        .to.be.revertedWithCustomError(coordinator, "NotConflicting")
        .withArgs(addr);
      await expect(coordinator.slashConflictingReports(addr, 1n, 1, byOther, a))
        .to.be.revertedWithCustomError(coordinator, "NotConflicting")
        .withArgs(addr);
      const garbage = { eventCount: 12n, checksum: CHECKSUM, signature: "0x1234" };
      await expect(coordinator.slashConflictingReports(addr, 1n, 1, a, garbage))
        .to.be.revertedWithCustomError(coordinator, "NotConflicting")
        .withArgs(addr);
      // Signed for another round: the digests differ, so the signatures do not recover to the broker.
      const otherRound = await signReport(coordinator, cheat, 2n, 1, { count: 11n, checksum: CHECKSUM });
      await expect(coordinator.slashConflictingReports(addr, 1n, 1, a, otherRound))
        .to.be.revertedWithCustomError(coordinator, "NotConflicting")
        .withArgs(addr);
      const stranger = ethers.Wallet.createRandom();
      const s1 = await signReport(coordinator, stranger, 1n, 1, { count: 1n, checksum: CHECKSUM });
      const s2 = await signReport(coordinator, stranger, 1n, 1, { count: 2n, checksum: CHECKSUM });
      await expect(coordinator.slashConflictingReports(stranger.address, 1n, 1, s1, s2))
        .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
        .withArgs(stranger.address, Status.None);
    });
  });

  it("refuses to fund the pool with nothing", async () => {
    const { coordinator } = await deployCoordinator();
    await expect(coordinator.fundRewards(0)).to.be.revertedWithCustomError(coordinator, "ZeroAmount");
  });

  it("funding emits the new pool", async () => {
    const { coordinator, token, admin } = await deployCoordinator();
    await fund(token, coordinator, admin, DATA(3));
    await expect(coordinator.fundRewards(DATA(3)))
      .to.emit(coordinator, "RewardPoolFunded")
      .withArgs(admin.address, DATA(3), DATA(3));
  });
});

describe("NetworkCoordinator delivery records", () => {
  it("records until when a partition delivered, ignores agreed empty epochs, and saturates the total", async () => {
    const { coordinator, brokers } = await setup();
    const who = await roster(coordinator, 1, brokers);
    const genesis = await coordinator.genesis();
    const max = 2n ** 64n - 1n;
    for (const [epoch, count] of [
      [0n, max],
      [1n, 0n],
      [2n, 5n],
    ] as const) {
      const reports = who.map(() => ({ count, checksum: CHECKSUM }));
      await commitAll(coordinator, epoch, 1, who, reports);
      await revealAll(coordinator, epoch, 1, who, reports);
    }
    expect(await coordinator.partitionDeliveredUntil(1)).to.equal(0);
    await toPhase(coordinator, 2n, "final");
    await coordinator.finalizeRound(0n, 1);
    expect(await coordinator.partitionDeliveredUntil(1)).to.equal(genesis + EPOCH);
    await coordinator.finalizeRound(1n, 1); // agreed, but no events: not proof of delivery
    expect(await coordinator.lastFinalized(1)).to.deep.equal([1n, 0n, max]);
    expect(await coordinator.partitionDeliveredUntil(1)).to.equal(genesis + EPOCH);
    await coordinator.finalizeRound(2n, 1);
    expect(await coordinator.lastFinalized(1)).to.deep.equal([2n, 5n, max]);
    expect(await coordinator.partitionDeliveredUntil(1)).to.equal(genesis + 3n * EPOCH);
  });
});
