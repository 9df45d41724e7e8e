// Commit, reveal and finalize cost the same with 10 or 200 registered brokers: each is O(1) or O(R).
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import type { Signer } from "ethers";
import { DATA, commitment, deployCoordinator, extraSigners, fund, rebalanceAll, register, toPhase } from "./fixtures";

async function roundGas(brokerCount: number) {
  const { token, coordinator, admin } = await deployCoordinator();
  const signers = await extraSigners(brokerCount);
  for (const s of signers) await register(token, coordinator, s);
  await rebalanceAll(coordinator);
  await fund(token, coordinator, admin, DATA(1000));
  await coordinator.fundRewards(DATA(1000));
  const roster = await coordinator.assigneesOf(0);
  const who = await Promise.all(
    roster.map(async (a) => {
      for (const s of signers) if ((await s.getAddress()) === a) return s;
      throw new Error("not found");
    }),
  );
  const epoch = await coordinator.currentEpoch();
  const checksum = ethers.id("checksum");
  const salt = ethers.id("salt");
  await toPhase(coordinator, epoch, "commit");
  const commits: bigint[] = [];
  for (const w of who as Signer[]) {
    const c = commitment(epoch, 0, 42n, checksum, salt, await w.getAddress());
    commits.push((await (await coordinator.connect(w).commitReport(epoch, 0, c)).wait())!.gasUsed);
  }
  await toPhase(coordinator, epoch, "reveal");
  const reveals: bigint[] = [];
  for (const w of who as Signer[]) {
    reveals.push((await (await coordinator.connect(w).revealReport(epoch, 0, 42n, checksum, salt)).wait())!.gasUsed);
  }
  await toPhase(coordinator, epoch, "final");
  const finalize = (await (await coordinator.finalizeRound(epoch, 0)).wait())!.gasUsed;
  return { commits, reveals, finalize, partitions: await coordinator.partitionCountTarget() };
}

describe("NetworkCoordinator gas does not grow with the broker count", () => {
  it("commit, reveal and finalize cost the same with 10 and 200 brokers", async function () {
    // A gas measurement, not a behaviour check: under solidity-coverage the bytecode is instrumented
    // (and the 200-broker setup takes minutes), so it runs in the plain test run only.
    if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    this.timeout(600_000);
    const small = await roundGas(10);
    const large = await roundGas(200);
    console.log(
      `      10 brokers (P=${small.partitions}): commit ${small.commits.join("/")} reveal ${small.reveals.join("/")} finalize ${small.finalize}\n` +
        `      200 brokers (P=${large.partitions}): commit ${large.commits.join("/")} reveal ${large.reveals.join("/")} finalize ${large.finalize}`,
    );
    expect(large.partitions).to.be.greaterThan(small.partitions * 10n);
    const close = (a: bigint, b: bigint) => expect(Number(a > b ? a - b : b - a)).to.be.at.most(Number(b) / 100);
    for (let i = 0; i < 3; i++) {
      close(large.commits[i], small.commits[i]);
      close(large.reveals[i], small.reveals[i]);
    }
    close(large.finalize, small.finalize);
  });
});
