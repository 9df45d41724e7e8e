// Property tests: random sequences of joins, leaves, withdrawals, rebalancing, funding, rounds and
// claims, checking after every step that
// - no broker holds two assignments to one partition, and the assignment views agree with each other;
// - rewards credited never exceed what was put in the pool (funding + slashed stake);
// - rebalancing never earned more than rebalanceReward per assignment the network ever had at most
//   (joins and leaves, repeated, earn nothing: audit L-4);
// - the coordinator's DATA balance equals stakes + pool + unclaimed credits;
// and at the end, after rebalancing until no move, every partition has min(R, active brokers) assignees.
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { DATA, Status, commitment, deployCoordinator, fund, rebalanceAll, register, toPhase } from "./fixtures";
import type { DATAToken, NetworkCoordinator } from "../../typechain-types";
import { propertyRuns } from "../helpers/runs";

type Op =
  | { kind: "join"; who: number }
  | { kind: "leave"; who: number }
  | { kind: "withdraw"; who: number }
  | { kind: "rebalance"; moves: number }
  | { kind: "fund"; amount: number }
  | { kind: "round"; partition: number; pattern: number[] }
  | { kind: "claim"; who: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("join" as const), who: fc.nat(7) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("leave" as const), who: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("withdraw" as const), who: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("rebalance" as const), moves: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fund" as const), amount: fc.integer({ min: 1, max: 200 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("round" as const),
      partition: fc.nat(15),
      pattern: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("claim" as const), who: fc.nat(7) }) },
);

async function checkAssignment(coordinator: NetworkCoordinator, brokers: string[]): Promise<number> {
  const target = Number(await coordinator.partitionCountTarget());
  const replication = Number(await coordinator.replication());
  let slots = 0;
  for (let p = 0; p < target; p++) {
    const assignees = await coordinator.assigneesOf(p);
    expect(new Set(assignees).size, `partition ${p} has a broker twice`).to.equal(assignees.length);
    expect(assignees.length).to.be.at.most(replication);
    slots += assignees.length;
  }
  let loads = 0;
  for (const b of brokers) {
    const held = await coordinator.partitionsOf(b);
    expect(new Set(held.map(Number)).size).to.equal(held.length);
    for (const p of held) expect(await coordinator.isAssigned(p, b)).to.equal(true);
    loads += held.length;
  }
  expect(loads).to.equal(slots);
  return slots;
}

async function checkMoney(coordinator: NetworkCoordinator, token: DATAToken, fundedIn: bigint, claimedOut: bigint) {
  const [staked, claimableTotal] = await coordinator.accountedBalances();
  const pool = await coordinator.rewardPool();
  expect(await token.balanceOf(await coordinator.getAddress())).to.equal(staked + pool + claimableTotal);
  // Everything credited (claimable now or claimed already) came out of the pool's inflows.
  expect(claimableTotal + claimedOut).to.be.at.most(fundedIn);
  expect(claimableTotal + claimedOut + pool).to.equal(fundedIn);
}

describe("NetworkCoordinator invariants (fast-check)", function () {
  // A liveness bound, not a speed bar: the work is fixed (numRuns of random sequences, each of tens of
  // transactions), but how long a seed's sequences take varies several-fold, and a busy machine
  // multiplies it; Hardhat's default of 120 s timed out under load (two CPU hogs and two suites).
  this.timeout(600_000);

  it("hold for any sequence of joins, leaves, rebalancing, rounds and claims", async () => {
    const { token, coordinator, admin } = await deployCoordinator({ coherenceBps: 6000, rebalanceReward: DATA(1) });
    const signers: Signer[] = (await ethers.getSigners()).slice(1, 9);
    const addresses = await Promise.all(signers.map((s) => s.getAddress()));
    const checksums = [ethers.id("a"), ethers.id("b"), ethers.id("c")];
    const snapshot = await takeSnapshot();

    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 18 }), async (ops) => {
        await snapshot.restore();
        let fundedIn = 0n; // pool inflows: funding and the pool's share of slashed stake (none here)
        let claimedOut = 0n;
        let maxSlots = 0; // the most assignments the network ever had
        for (const op of ops) {
          const status = async (i: number) => Number((await coordinator.brokerState(addresses[i])).status);
          if (op.kind === "join") {
            if ((await status(op.who)) === Status.None) await register(token, coordinator, signers[op.who]);
          } else if (op.kind === "leave") {
            const s = await status(op.who);
            if (s === Status.Active || s === Status.Suspended) await coordinator.connect(signers[op.who]).requestLeave();
          } else if (op.kind === "withdraw") {
            if ((await status(op.who)) === Status.Leaving) {
              await time.increase(7 * 86400);
              await rebalanceAll(coordinator);
              // Drained just now: the delay runs from the end of the last round it may be on (L-2).
              const at = (await coordinator.brokerState(addresses[op.who])).withdrawableAt;
              if (BigInt(await time.latest()) < at) await time.setNextBlockTimestamp(at);
              await coordinator.connect(signers[op.who]).withdrawStake();
            }
          } else if (op.kind === "rebalance") {
            const before = await coordinator.claimable(admin.address);
            const moves = await coordinator.rebalance.staticCall(op.moves);
            await coordinator.rebalance(op.moves);
            if (moves === 0n) expect(await coordinator.claimable(admin.address)).to.equal(before);
          } else if (op.kind === "fund") {
            await fund(token, coordinator, admin, DATA(op.amount));
            await coordinator.fundRewards(DATA(op.amount));
            fundedIn += DATA(op.amount);
          } else if (op.kind === "round") {
            const epoch = await coordinator.currentEpoch();
            const partition = op.partition % Number(await coordinator.partitionCountAt(epoch));
            const roster = await coordinator.assigneesOf(partition);
            await toPhase(coordinator, epoch, "commit");
            const reporters = roster.map((a) => signers[addresses.indexOf(a)]);
            for (let i = 0; i < reporters.length; i++) {
              const c = commitment(epoch, partition, 7n, checksums[op.pattern[i]], ethers.ZeroHash, roster[i]);
              await coordinator.connect(reporters[i]).commitReport(epoch, partition, c);
            }
            await toPhase(coordinator, epoch, "reveal");
            for (let i = 0; i < reporters.length; i++) {
              await coordinator.connect(reporters[i]).revealReport(epoch, partition, 7n, checksums[op.pattern[i]], ethers.ZeroHash);
            }
            await toPhase(coordinator, epoch, "final");
            await coordinator.finalizeRound(epoch, partition);
          } else {
            const amount = await coordinator.claimable(addresses[op.who]);
            if (amount > 0n) {
              await coordinator.connect(signers[op.who]).claimRewards(addresses[op.who]);
              claimedOut += amount;
            }
          }
          maxSlots = Math.max(maxSlots, await checkAssignment(coordinator, addresses));
          // The admin is the only rebalancing caller and is credited nothing else.
          const adminClaimable = await coordinator.claimable(admin.address);
          await checkMoney(coordinator, token, fundedIn, claimedOut);
          expect(adminClaimable).to.be.at.most(fundedIn);
          expect(adminClaimable).to.be.at.most(DATA(1) * BigInt(maxSlots));
        }
        await rebalanceAll(coordinator);
        expect(await coordinator.rebalanceNeeded()).to.equal(false);
        const active = Number(await coordinator.activeBrokerCount());
        const expected = Math.min(Number(await coordinator.replication()), active);
        const target = Number(await coordinator.partitionCountTarget());
        for (let p = 0; p < target; p++) {
          const assignees = await coordinator.assigneesOf(p);
          expect(assignees.length, `partition ${p}`).to.equal(expected);
          for (const a of assignees) expect(Number((await coordinator.brokerState(a)).status)).to.equal(Status.Active);
        }
        await checkAssignment(coordinator, addresses);
        await checkMoney(coordinator, token, fundedIn, claimedOut);
      }),
      { numRuns: propertyRuns(25) },
    );
  });

  it("after any sequence of joins and leaves, rebalancing until no move gives every partition min(R, brokers) assignees and balanced loads", async () => {
    for (const replication of [1, 2, 3]) {
      const { token, coordinator } = await deployCoordinator({}, replication, 3);
      const signers: Signer[] = (await ethers.getSigners()).slice(1, 13);
      const addresses = await Promise.all(signers.map((s) => s.getAddress()));
      const snapshot = await takeSnapshot();
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ join: fc.boolean(), who: fc.nat(11), rebalance: fc.nat(4) }), { minLength: 1, maxLength: 25 }), async (steps) => {
          await snapshot.restore();
          for (const step of steps) {
            const status = Number((await coordinator.brokerState(addresses[step.who])).status);
            if (step.join && status === Status.None) await register(token, coordinator, signers[step.who]);
            if (!step.join && status === Status.Active) await coordinator.connect(signers[step.who]).requestLeave();
            if (step.rebalance > 0) await coordinator.rebalance(step.rebalance);
          }
          await rebalanceAll(coordinator);
          const active = Number(await coordinator.activeBrokerCount());
          const target = Number(await coordinator.partitionCountTarget());
          for (let p = 0; p < target; p++) {
            expect((await coordinator.assigneesOf(p)).length).to.equal(Math.min(replication, active));
          }
          const activeLoads: number[] = [];
          for (const a of addresses) {
            const st = await coordinator.brokerState(a);
            if (Number(st.status) === Status.Active) activeLoads.push(Number(st.load));
            else expect(st.load).to.equal(0);
          }
          if (activeLoads.length > 0) {
            expect(Math.max(...activeLoads) - Math.min(...activeLoads)).to.be.at.most(1);
          }
        }),
        { numRuns: propertyRuns(20) },
      );
    }
  });
});
