// The coordinator reporter on anvil (a separate node with real block hashes and reorgs), at a
// confirmation depth of 2 through the broker's ChainFollower: a commitment or reveal a reorg removes is
// sent again while its phase is open; a round whose finalization a reorg removes is finalized again
// and is not counted done until 2 deep; a reward is claimed only once what credits it is 2 deep, so
// no claim pays for a round a reorg removes.

import { expect } from "chai";
import { Wallet, id as keccakUtf8 } from "ethers";
import { ChainFollower } from "../src/chain/ChainFollower";
import { ContractCoordinatorReporter } from "../src/network/ContractCoordinatorReporter";
import { COMMIT_WINDOW, DATA, EPOCH_SECONDS, REVEAL_WINDOW, deployCoordinator, registerBroker } from "./chain-fixture";
import { startAnvil, type Anvil } from "./anvil";
import type { DATAToken, NetworkCoordinator } from "../../typechain-types";

const ETH = 10n ** 18n;
const AGREED = 1n;
const OPEN = 0n;

describe("coordinator reporter on anvil: confirmations and reorgs", function () {
  this.timeout(180_000);
  let anvil: Anvil;
  let d: { coordinator: NetworkCoordinator; token: DATAToken; address: string };
  let operator: Wallet;
  let follower: ChainFollower;
  let genesis: number;

  before(async () => {
    anvil = await startAnvil();
    const deployBlock = (await anvil.provider.getBlockNumber()) + 1;
    d = await deployCoordinator(1, {}, anvil.admin);
    operator = Wallet.createRandom().connect(anvil.provider) as unknown as Wallet;
    await (await anvil.admin.sendTransaction({ to: operator.address, value: 10n * ETH })).wait();
    await registerBroker(d, operator, 0);
    while ((await d.coordinator.rebalance.staticCall(50)) > 0n) await (await d.coordinator.rebalance(50)).wait();
    await (await d.token.mint(anvil.admin.address, DATA(1000))).wait();
    await (await d.token.approve(d.address, DATA(1000))).wait();
    await (await d.coordinator.fundRewards(DATA(1000))).wait();
    expect(await d.coordinator.isAssigned(0, operator.address)).to.equal(true);
    genesis = Number(await d.coordinator.genesis());
    follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, confirmations: 2, pollMs: 60_000 });
    await follower.start();
  });
  after(async () => {
    follower?.stop();
    await anvil?.stop();
  });

  /** Mines a block at `timestamp` (or the next second, if the chain is past it). */
  async function setTime(timestamp: number): Promise<void> {
    const latest = (await anvil.provider.getBlock("latest"))!.timestamp;
    if (timestamp > latest) await anvil.send("evm_setNextBlockTimestamp", [timestamp]);
    await anvil.mine();
  }
  const round = () => d.coordinator.roundState(0, 0);

  it("commits and reveals again what a reorg removed, finalizes again a removed finalization, and claims only rewards 2 deep", async () => {
    const reporter = new ContractCoordinatorReporter({ operator, coordinator: d.address, follower });
    const end0 = genesis + EPOCH_SECONDS;
    const report = { epoch: 0, networkPartition: 0, count: 5, checksum: keccakUtf8("epoch 0") };

    // Commit phase: a reorg removes the commitment; the next tick commits it again (same salt).
    await setTime(end0 + 10);
    const beforeCommit = await anvil.snapshot();
    await reporter.report(report);
    expect((await round()).commits).to.equal(1n);
    const salt = reporter.outstanding[0].salt;
    await anvil.revert(beforeCommit);
    expect((await round()).commits, "the reorg removed the commitment").to.equal(0n);
    await reporter.tick();
    expect((await round()).commits, "committed again").to.equal(1n);
    expect(reporter.outstanding).to.have.length(1);
    expect(reporter.outstanding[0].salt).to.equal(salt);

    // Reveal phase: a reorg removes the reveal; the next tick reveals again.
    await setTime(end0 + COMMIT_WINDOW + 1);
    const beforeReveal = await anvil.snapshot();
    await reporter.tick();
    expect((await round()).reveals).to.equal(1n);
    await anvil.revert(beforeReveal);
    expect((await round()).reveals).to.equal(0n);
    await reporter.tick();
    expect((await round()).reveals, "revealed again").to.equal(1n);
    expect(reporter.outstanding[0].state).to.equal("revealed");

    // After the reveal phase: the reporter finalizes, but the round is not done and its reward not
    // claimed while the finalization is less than 2 deep.
    await setTime(end0 + COMMIT_WINDOW + REVEAL_WINDOW + 1);
    await follower.poll();
    const beforeFinalize = await anvil.snapshot();
    await reporter.tick();
    expect((await round()).outcome).to.equal(AGREED);
    expect(await d.coordinator.claimable(operator.address)).to.equal(DATA(90));
    expect(reporter.outstanding, "not done: the finalization is 0 deep").to.have.length(1);
    expect(reporter.claimed, "no claim on a finalization 0 deep").to.equal(0n);
    await anvil.mine();
    await follower.poll();
    await reporter.tick();
    expect(reporter.claimed, "nor 1 deep").to.equal(0n);

    // A reorg removes the finalization (and the reward with it): nothing was claimed on it.
    await anvil.revert(beforeFinalize);
    await follower.poll();
    expect((await round()).outcome).to.equal(OPEN);
    expect(await d.coordinator.claimable(operator.address)).to.equal(0n);
    expect(await d.token.balanceOf(operator.address), "no reward paid for the removed round").to.equal(0n);
    await reporter.tick();
    expect((await round()).outcome, "finalized again").to.equal(AGREED);
    expect(reporter.claimed).to.equal(0n);

    // 2 deep: the round is done and its reward claimed, once.
    await anvil.mine(2);
    await follower.poll();
    await reporter.tick();
    expect(reporter.outstanding).to.have.length(0);
    expect(reporter.claimed).to.equal(DATA(90));
    expect(await d.token.balanceOf(operator.address)).to.equal(DATA(90));
    await reporter.tick();
    expect(reporter.claimed).to.equal(DATA(90));
  });

  it("drops a report whose commitment a reorg removed after the commit phase: no reveal is sent", async () => {
    const reporter = new ContractCoordinatorReporter({ operator, coordinator: d.address, follower });
    const end1 = genesis + 2 * EPOCH_SECONDS;
    await setTime(end1 + 10);
    const beforeCommit = await anvil.snapshot();
    await reporter.report({ epoch: 1, networkPartition: 0, count: 3, checksum: keccakUtf8("epoch 1") });
    expect((await d.coordinator.roundState(1, 0)).commits).to.equal(1n);
    await anvil.revert(beforeCommit);
    await setTime(end1 + COMMIT_WINDOW + 1);
    const nonce = await anvil.provider.getTransactionCount(operator.address);
    await reporter.tick();
    expect(reporter.outstanding, "dropped").to.have.length(0);
    expect(await anvil.provider.getTransactionCount(operator.address), "no transaction sent").to.equal(nonce);
    expect((await d.coordinator.roundState(1, 0)).reveals).to.equal(0n);
  });
});
