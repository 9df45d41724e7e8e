// The broker on a deployed NetworkCoordinator (Hardhat's in-process network): routing matches the
// coordinator's function and test-vectors/partitioning.json; the assignment follows the
// coordinator's events; three brokers commit, reveal and finalize an epoch with the same
// (count, checksum), and claim their rewards.

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import type { Signer } from "ethers";
import { CoordinatorAssignment } from "../src/network/CoordinatorAssignment";
import { ContractCoordinatorReporter } from "../src/network/ContractCoordinatorReporter";
import { EpochTracker } from "../src/network/EpochTracker";
import { EpochReporter } from "../src/network/EpochReporter";
import { eventHash } from "../src/wire";
import { networkPartitionOf } from "@datamarket/protocol";
import { networkPartitionOf as memoisedNetworkPartitionOf, routeMemoSize, ROUTE_MEMO_ENTRIES } from "../src/network/routing";
import type { DATAToken, NetworkCoordinator } from "../../typechain-types";
import { COMMIT_WINDOW, DATA, EPOCH_SECONDS, REVEAL_WINDOW, deployCoordinator, registerBroker } from "./chain-fixture";
import { ALICE_KEY, BOB_KEY, TestPublisher, tempDir } from "./helpers";
import { streamIdOf } from "../src/wire";
import { addressOfPrivateKey } from "../src/wire";

const MAX_CLOCK_SKEW_MS = 30_000;

interface Vector {
  streamId: string;
  streamPartition: number;
  networkPartitions: { partitionCount: number; networkPartition: number }[];
}
const VECTORS = (JSON.parse(readFileSync(join(__dirname, "../../test-vectors/partitioning.json"), "utf8")) as { vectors: Vector[] }).vectors;

const register = registerBroker;

async function setChainTime(timestamp: number): Promise<void> {
  const latest = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
  if (timestamp > latest) await hre.network.provider.send("evm_setNextBlockTimestamp", [timestamp]);
  await hre.network.provider.send("evm_mine", []);
}

describe("coordinator-backed partitions and epoch reports", function () {
  this.timeout(120_000);

  it("routes every stream partition as the coordinator does and as test-vectors/partitioning.json says", async () => {
    for (const v of VECTORS)
      for (const np of v.networkPartitions) {
        expect(networkPartitionOf(v.streamId, v.streamPartition, np.partitionCount), `${v.streamId}/${v.streamPartition} over ${np.partitionCount}`).to.equal(
          np.networkPartition,
        );
      }
    const d = await deployCoordinator(7);
    const [, operator] = await hre.ethers.getSigners();
    const assignment = new CoordinatorAssignment({ provider: hre.ethers.provider, coordinator: d.address, broker: operator.address, pollMs: 50 });
    await assignment.start();
    try {
      for (const v of VECTORS) {
        const expected = v.networkPartitions.find((x) => x.partitionCount === 7)!.networkPartition;
        expect(assignment.networkPartitionOf(v.streamId, v.streamPartition)).to.equal(expected);
        expect(Number(await d.coordinator.networkPartitionOf(v.streamId, v.streamPartition))).to.equal(expected);
      }
    } finally {
      assignment.stop();
    }
  });

  it("routes through its memo exactly as the vectors say, also when P changes between calls, and keeps the memo bounded", () => {
    // Each vector is routed over every P it lists, in turn and then in reverse: a cached route
    // must follow a change of P, not return the previous P's answer.
    for (const order of [1, -1]) {
      for (const v of VECTORS) {
        const nps = order === 1 ? v.networkPartitions : [...v.networkPartitions].reverse();
        for (const np of nps) {
          expect(
            memoisedNetworkPartitionOf(v.streamId, v.streamPartition, np.partitionCount),
            `${v.streamId}/${v.streamPartition} over ${np.partitionCount}`,
          ).to.equal(np.networkPartition);
        }
      }
    }
    expect(() => memoisedNetworkPartitionOf("0x1234", 0, 4)).to.throw(RangeError);
    expect(() => memoisedNetworkPartitionOf(VECTORS[0].streamId, 70_000, 4)).to.throw(RangeError);
    for (let i = 0; i < ROUTE_MEMO_ENTRIES + 10; i++) memoisedNetworkPartitionOf(VECTORS[0].streamId, i % 65_536, 3);
    expect(routeMemoSize()).to.be.at.most(ROUTE_MEMO_ENTRIES);
    const v = VECTORS[0];
    expect(memoisedNetworkPartitionOf(v.streamId, v.streamPartition, v.networkPartitions[0].partitionCount)).to.equal(v.networkPartitions[0].networkPartition);
  });

  /**
   * Three brokers serving both partitions of a fresh coordinator (R = 3), each with the same ten signed
   * events of epoch 0 (in different orders) and its EpochReporter started before genesis.
   */
  async function threeBrokersInEpochZero() {
    const d = await deployCoordinator(2);
    const signers = await hre.ethers.getSigners();
    const operators = [signers[5], signers[6], signers[7]];
    const assignments = operators.map(
      (o) => new CoordinatorAssignment({ provider: hre.ethers.provider, coordinator: d.address, broker: o.address, pollMs: 50 }),
    );
    await Promise.all(assignments.map((a) => a.start()));
    for (const [i, o] of operators.entries()) await register(d, o, i);
    while ((await d.coordinator.rebalance.staticCall(50)) > 0n) await (await d.coordinator.rebalance(50)).wait();
    await (await d.token.mint(signers[0].address, DATA(1000))).wait();
    await (await d.token.approve(d.address, DATA(1000))).wait();
    await (await d.coordinator.fundRewards(DATA(1000))).wait();
    for (const a of assignments) await a.follower.poll();
    for (const a of assignments) expect(a.served()).to.include.members([0, 1]); // R = 3: each broker holds every partition

    // The broker's epoch definition is the coordinator's, read from the contract.
    const genesis = Number(await d.coordinator.genesis());
    expect(assignments[0].epochDefinition()).to.deep.equal({ genesisMs: genesis * 1000, epochLengthMs: EPOCH_SECONDS * 1000 });
    expect(assignments[0].partitionCountAt(0)).to.equal(2);

    // The same signed events reach the three brokers (in different orders), timestamped in epoch 0.
    const streams = [streamIdOf(addressOfPrivateKey(ALICE_KEY), "/a"), streamIdOf(addressOfPrivateKey(BOB_KEY), "/b")];
    const events = streams.flatMap((streamId) => {
      const pub = new TestPublisher(ALICE_KEY, streamId, 0);
      return Array.from({ length: 5 }, (_, i) => pub.next(`{"i":${i}}`, { timestamp: genesis * 1000 + 1000 * (i + 1) }));
    });
    const routed = events.map((e) => assignments[0].networkPartitionOf(e.streamId, e.streamPartition));
    expect(routed).to.deep.equal(events.map((e) => networkPartitionOf(e.streamId, e.streamPartition, 2)));
    const dirs = operators.map(() => tempDir());
    const reporters = operators.map(
      (o, i) => new ContractCoordinatorReporter({ operator: o, coordinator: d.address, stateFile: join(dirs[i].dir, "reports.json") }),
    );
    const epochReporters = assignments.map((a, i) => {
      const { genesisMs, epochLengthMs } = a.epochDefinition();
      const tracker = new EpochTracker(epochLengthMs, genesisMs);
      const order = i === 1 ? [...events].reverse() : events;
      for (const e of order) tracker.add(a.networkPartitionOf(e.streamId, e.streamPartition), e.timestamp, eventHash(e.canonical));
      // started before genesis, so epoch 0 is the first it reports
      return new EpochReporter(tracker, a, reporters[i], MAX_CLOCK_SKEW_MS, [0], undefined, genesisMs - 1);
    });
    const stop = () => {
      assignments.forEach((a) => a.stop());
      dirs.forEach((x) => x.remove());
    };
    return { d, end0: genesis + EPOCH_SECONDS, routed, reporters, epochReporters, stop };
  }

  /**
   * Plays epoch 0's round to its end, moving the chain's clock to each phase with `moveClock`, and
   * checks that it is Agreed by the three brokers and that each claimed its reward.
   */
  async function playsTheRound(moveClock: (timestamp: number) => Promise<void>): Promise<void> {
    const { d, end0, routed, reporters, epochReporters, stop } = await threeBrokersInEpochZero();
    try {
      await moveClock(end0 + MAX_CLOCK_SKEW_MS / 1000 + 1);
      for (const r of epochReporters) await r.tick((end0 + 31) * 1000);
      for (const p of [0, 1]) expect((await d.coordinator.roundState(0, p)).commits).to.equal(3n);
      expect(reporters[0].outstanding.map((r) => r.partition)).to.deep.equal([0, 1]);

      await moveClock(end0 + COMMIT_WINDOW);
      for (const r of reporters) await r.tick();
      for (const p of [0, 1]) expect((await d.coordinator.roundState(0, p)).reveals).to.equal(3n);

      await moveClock(end0 + COMMIT_WINDOW + REVEAL_WINDOW);
      for (const r of reporters) await r.tick();
      for (const p of [0, 1]) {
        const state = await d.coordinator.roundState(0, p);
        expect(state.outcome).to.equal(1n); // Agreed
        expect(state.leaderVotes).to.equal(3n);
        const [finalized, count] = await d.coordinator.finalizedEventCount(0, p);
        expect(finalized).to.equal(true);
        expect(Number(count)).to.equal(routed.filter((x) => x === p).length);
      }
      for (const r of reporters) {
        expect(r.outstanding).to.have.length(0);
        expect(r.claimed).to.equal(DATA(60)); // 2 rounds × 90 DATA shared by 3
      }
    } finally {
      stop();
    }
  }

  it("finalizes an epoch with three brokers committing and revealing the same count and checksum, and pays them", async () => {
    // a block is mined at the start of each phase
    await playsTheRound(setChainTime);
  });

  // A node that mines on demand (Hardhat, anvil, a quiet rollup) mines no block while nobody sends a
  // transaction: its latest block keeps the time of the last transaction, while the block it would
  // mine next carries the present time. The reporters must act on the latter, or no broker ever
  // reveals (and the round is never finalized) until somebody else happens to send a transaction.
  it("reveals and finalizes on a node that mines on demand, when no block marks the start of a phase", async () => {
    await playsTheRound(async (timestamp) => {
      await hre.network.provider.send("evm_setNextBlockTimestamp", [timestamp]);
      const latest = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
      expect(latest, "no block was mined at the phase's start").to.be.lessThan(timestamp);
    });
  });
});
