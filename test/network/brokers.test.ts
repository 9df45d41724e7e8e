// Broker life cycle: register with stake, update, add stake, leave with a withdrawal delay, withdraw.
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DATA, EPOCH, HTTP, PUBKEY, Status, WS, deployCoordinator, fund, register, rebalanceAll } from "./fixtures";

describe("NetworkCoordinator brokers", () => {
  async function setup() {
    const ctx = await deployCoordinator();
    const signers = await ethers.getSigners();
    return { ...ctx, alice: signers[1], bob: signers[2], carol: signers[3], dave: signers[4] };
  }

  it("registers a broker with its stake, endpoints and key, at the initial reputation", async () => {
    const { token, coordinator, alice } = await setup();
    await fund(token, coordinator, alice, DATA(1500));
    await expect(coordinator.connect(alice).registerBroker(DATA(1500), WS, HTTP, PUBKEY))
      .to.emit(coordinator, "BrokerRegistered")
      .withArgs(alice.address, DATA(1500), WS, HTTP, PUBKEY);
    const state = await coordinator.brokerState(alice.address);
    expect(state.stake).to.equal(DATA(1500));
    expect(state.status).to.equal(Status.Active);
    expect(state.reputation).to.equal(5000);
    expect(state.load).to.equal(0);
    expect(await coordinator.brokerEndpoints(alice.address)).to.deep.equal([WS, HTTP, PUBKEY]);
    expect(await coordinator.activeBrokerCount()).to.equal(1);
    expect(await token.balanceOf(await coordinator.getAddress())).to.equal(DATA(1500));
    expect(await coordinator.accountedBalances()).to.deep.equal([DATA(1500), 0n]);
  });

  it("refuses a stake below the governance minimum", async () => {
    const { token, coordinator, alice } = await setup();
    await fund(token, coordinator, alice, DATA(999));
    await expect(coordinator.connect(alice).registerBroker(DATA(999), WS, HTTP, PUBKEY))
      .to.be.revertedWithCustomError(coordinator, "StakeTooLow")
      .withArgs(DATA(999), DATA(1000));
  });

  it("refuses a second registration of the same broker", async () => {
    const { token, coordinator, alice } = await setup();
    await register(token, coordinator, alice);
    await fund(token, coordinator, alice, DATA(1000));
    await expect(coordinator.connect(alice).registerBroker(DATA(1000), WS, HTTP, PUBKEY))
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(alice.address, Status.Active);
  });

  for (const [label, ws, http, scheme, bad] of [
    ["an http WebSocket URL", "http://x", HTTP, "ws", "http://x"],
    ["a bare scheme", "ws://", HTTP, "ws", "ws://"],
    ["an empty WebSocket URL", "", HTTP, "ws", ""],
    ["an over-long URL", "wss://" + "a".repeat(251), HTTP, "ws", "wss://" + "a".repeat(251)],
    ["a WebSocket HTTP URL", WS, "ws://x", "http", "ws://x"],
  ] as const) {
    it(`refuses ${label}`, async () => {
      const { token, coordinator, alice } = await setup();
      await fund(token, coordinator, alice, DATA(1000));
      await expect(coordinator.connect(alice).registerBroker(DATA(1000), ws, http, PUBKEY))
        .to.be.revertedWithCustomError(coordinator, "InvalidEndpoint")
        .withArgs(bad, scheme);
    });
  }

  it("accepts plain ws:// and http:// endpoints of exactly 256 bytes", async () => {
    const { token, coordinator, alice } = await setup();
    await fund(token, coordinator, alice, DATA(1000));
    const ws = "ws://" + "a".repeat(251);
    await expect(coordinator.connect(alice).registerBroker(DATA(1000), ws, "http://b", PUBKEY)).to.emit(coordinator, "BrokerRegistered");
  });

  for (const [label, key] of [
    ["an uncompressed key", "0x04" + "11".repeat(64)],
    ["a 33-byte key with a wrong prefix", "0x05" + "11".repeat(32)],
    ["an empty key", "0x"],
  ]) {
    it(`refuses ${label}`, async () => {
      const { token, coordinator, alice } = await setup();
      await fund(token, coordinator, alice, DATA(1000));
      await expect(coordinator.connect(alice).registerBroker(DATA(1000), WS, HTTP, key))
        .to.be.revertedWithCustomError(coordinator, "InvalidPublicKey")
        .withArgs(key);
    });
  }

  it("lets a broker replace its endpoints and key, and refuses it to a stranger", async () => {
    const { token, coordinator, alice, bob } = await setup();
    await register(token, coordinator, alice);
    const key = "0x03" + "22".repeat(32);
    await expect(coordinator.connect(alice).updateBroker("ws://n", "http://n", key))
      .to.emit(coordinator, "BrokerUpdated")
      .withArgs(alice.address, "ws://n", "http://n", key);
    expect(await coordinator.brokerEndpoints(alice.address)).to.deep.equal(["ws://n", "http://n", key]);
    await expect(coordinator.connect(bob).updateBroker("ws://n", "http://n", key))
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(bob.address, Status.None);
  });

  it("adds stake to a registered broker, refuses zero and strangers", async () => {
    const { token, coordinator, alice, bob } = await setup();
    await register(token, coordinator, alice);
    await fund(token, coordinator, alice, DATA(5));
    await expect(coordinator.connect(alice).addStake(DATA(5)))
      .to.emit(coordinator, "StakeAdded")
      .withArgs(alice.address, DATA(5), DATA(1005));
    await expect(coordinator.connect(alice).addStake(0)).to.be.revertedWithCustomError(coordinator, "ZeroAmount");
    await expect(coordinator.connect(bob).addStake(1)).to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus").withArgs(bob.address, Status.None);
  });

  it("leaves with a withdrawal delay, drains its partitions, then withdraws the stake", async () => {
    const { token, coordinator, alice, bob } = await setup();
    await register(token, coordinator, alice);
    await register(token, coordinator, bob);
    await rebalanceAll(coordinator);
    expect((await coordinator.brokerState(alice.address)).load).to.be.greaterThan(0);

    const leaveAt = BigInt(await time.latest()) + 10n;
    await time.setNextBlockTimestamp(leaveAt);
    const withdrawableAt = leaveAt + 7n * 86400n;
    await expect(coordinator.connect(alice).requestLeave()).to.emit(coordinator, "LeaveRequested").withArgs(alice.address, withdrawableAt);
    expect(await coordinator.activeBrokerCount()).to.equal(1);
    const state = await coordinator.brokerState(alice.address);
    expect(state.status).to.equal(Status.Leaving);
    expect(state.withdrawableAt).to.equal(withdrawableAt);

    await expect(coordinator.connect(alice).requestLeave())
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(alice.address, Status.Leaving);
    await expect(coordinator.connect(alice).addStake(1))
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(alice.address, Status.Leaving);
    await time.increaseTo(withdrawableAt);
    const load = (await coordinator.brokerState(alice.address)).load;
    await expect(coordinator.connect(alice).withdrawStake()).to.be.revertedWithCustomError(coordinator, "BrokerStillAssigned").withArgs(alice.address, load);
    await rebalanceAll(coordinator);
    expect(await coordinator.partitionsOf(alice.address)).to.deep.equal([]);
    // Drained now: it may be on the rosters of the last ended epoch's rounds, so the delay runs again
    // from their end (start of the current epoch + commit and reveal windows; audit L-2).
    const drainedAt = BigInt(await time.latest());
    const genesis = await coordinator.genesis();
    const epochStart = drainedAt - ((drainedAt - genesis) % EPOCH);
    const effective = epochStart + 600n + 600n + 7n * 86400n;
    expect(effective).to.be.greaterThan(withdrawableAt);
    expect((await coordinator.brokerState(alice.address)).withdrawableAt).to.equal(effective);
    await time.setNextBlockTimestamp(effective - 1n);
    await expect(coordinator.connect(alice).withdrawStake())
      .to.be.revertedWithCustomError(coordinator, "WithdrawalDelayNotElapsed")
      .withArgs(alice.address, effective, effective - 1n);
    const before = await token.balanceOf(alice.address);
    await expect(coordinator.connect(alice).withdrawStake()).to.emit(coordinator, "StakeWithdrawn").withArgs(alice.address, DATA(1000));
    expect(await token.balanceOf(alice.address)).to.equal(before + DATA(1000));
    expect((await coordinator.brokerState(alice.address)).status).to.equal(Status.None);
    expect(await coordinator.brokerEndpoints(alice.address)).to.deep.equal(["", "", "0x"]);
    await expect(coordinator.connect(alice).withdrawStake())
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(alice.address, Status.None);
    // It may come back as a new broker.
    await expect(register(token, coordinator, alice)).to.emit(coordinator, "BrokerRegistered");
  });

  it("refuses to leave for a broker that is not registered", async () => {
    const { coordinator, alice } = await setup();
    await expect(coordinator.connect(alice).requestLeave())
      .to.be.revertedWithCustomError(coordinator, "WrongBrokerStatus")
      .withArgs(alice.address, Status.None);
  });

  it("withdraws nothing but still deletes the record of a broker slashed to zero", async () => {
    const { token, coordinator, alice } = await deployCoordinator({ slashBps: 10000 }).then(async (ctx) => ({
      ...ctx,
      alice: (await ethers.getSigners())[1],
    }));
    await register(token, coordinator, alice);
    const { chainId } = await ethers.provider.getNetwork();
    const domain = { name: "NetworkCoordinator", version: "1", chainId, verifyingContract: await coordinator.getAddress() };
    const types = {
      BrokerReport: [
        { name: "epoch", type: "uint64" },
        { name: "partition", type: "uint32" },
        { name: "eventCount", type: "uint64" },
        { name: "checksum", type: "bytes32" },
      ],
    };
    const sign = async (eventCount: number) => ({
      eventCount,
      checksum: ethers.ZeroHash,
      signature: await alice.signTypedData(domain, types, { epoch: 0, partition: 0, eventCount, checksum: ethers.ZeroHash }),
    });
    await coordinator.slashConflictingReports(alice.address, 0, 0, await sign(1), await sign(2));
    expect((await coordinator.brokerState(alice.address)).stake).to.equal(0);
    await coordinator.connect(alice).requestLeave();
    await time.increase(7 * 86400);
    const before = await token.balanceOf(alice.address);
    await expect(coordinator.connect(alice).withdrawStake()).to.emit(coordinator, "StakeWithdrawn").withArgs(alice.address, 0);
    expect(await token.balanceOf(alice.address)).to.equal(before);
    expect((await coordinator.brokerState(alice.address)).status).to.equal(Status.None);
  });
});
