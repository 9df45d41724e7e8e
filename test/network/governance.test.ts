// Governance: the PARAMETER_ROLE, bounds of every parameter, and the deployment bounds.
import { expect } from "chai";
import { ethers } from "hardhat";
import { DATA, EPOCH, coordinatorFactory, defaultParameters, deployCoordinator } from "./fixtures";

describe("NetworkCoordinator governance", () => {
  it("lets PARAMETER_ROLE replace the parameters, with an event carrying them", async () => {
    const { coordinator } = await deployCoordinator();
    const next = { ...defaultParameters(), minStake: DATA(5), coherenceBps: 6700 };
    await expect(coordinator.setParameters(next)).to.emit(coordinator, "ParametersUpdated");
    const stored = await coordinator.parameters();
    expect(stored.minStake).to.equal(DATA(5));
    expect(stored.coherenceBps).to.equal(6700);
  });

  it("refuses parameter changes from an account without PARAMETER_ROLE", async () => {
    const { coordinator } = await deployCoordinator();
    const [, stranger] = await ethers.getSigners();
    const role = await coordinator.PARAMETER_ROLE();
    await expect(coordinator.connect(stranger).setParameters(defaultParameters()))
      .to.be.revertedWithCustomError(coordinator, "AccessControlUnauthorizedAccount")
      .withArgs(stranger.address, role);
    // The admin can grant the role (to a timelock, say).
    await coordinator.grantRole(role, stranger.address);
    await expect(coordinator.connect(stranger).setParameters(defaultParameters())).to.emit(coordinator, "ParametersUpdated");
  });

  // [name, bad value, min, max] with the defaults otherwise (epoch 3600 s, commit window 600 s, P target 4).
  const cases: [string, bigint | number, bigint | number, bigint | number][] = [
    ["minStake", 0, 1, 10n ** 27n],
    ["minStake", 10n ** 27n + 1n, 1, 10n ** 27n],
    ["withdrawalDelay", 86399, 86400, 180 * 86400],
    ["withdrawalDelay", 180 * 86400 + 1, 86400, 180 * 86400],
    ["commitWindow", 59, 60, 3540],
    ["commitWindow", 3541, 60, 3540],
    ["revealWindow", 59, 60, 3000],
    ["revealWindow", 3001, 60, 3000],
    ["coherenceBps", 5000, 5001, 10000],
    ["coherenceBps", 10001, 5001, 10000],
    ["rewardPerRound", 10n ** 24n + 1n, 0, 10n ** 24n],
    ["rebalanceReward", 10n ** 21n + 1n, 0, 10n ** 21n],
    ["partitionsPerBroker", 0, 1, 16],
    ["partitionsPerBroker", 17, 1, 16],
    ["maxPartitions", 3, 4, 65536],
    ["maxPartitions", 65537, 4, 65536],
    ["initialReputation", 0, 1, 10000],
    ["initialReputation", 10001, 1, 10000],
    ["minReputation", 5000, 0, 4999],
    ["reputationGain", 10001, 0, 10000],
    ["reputationLoss", 10001, 0, 10000],
    ["slashBps", 10001, 0, 10000],
    ["whistleblowerBps", 10001, 0, 10000],
  ];
  for (const [name, value, min, max] of cases) {
    it(`refuses ${name} = ${value} (bounds ${min}..${max})`, async () => {
      const { coordinator } = await deployCoordinator();
      await expect(coordinator.setParameters({ ...defaultParameters(), [name]: value }))
        .to.be.revertedWithCustomError(coordinator, "InvalidParameter")
        .withArgs(name, value, min, max);
    });
  }

  it("accepts every parameter at its bounds", async () => {
    const { coordinator } = await deployCoordinator();
    const low = {
      minStake: 1,
      withdrawalDelay: 86400,
      commitWindow: 60,
      revealWindow: 60,
      coherenceBps: 5001,
      rewardPerRound: 0,
      rebalanceReward: 0,
      partitionsPerBroker: 1,
      maxPartitions: 4,
      initialReputation: 1,
      minReputation: 0,
      reputationGain: 0,
      reputationLoss: 0,
      slashBps: 0,
      whistleblowerBps: 0,
    };
    await expect(coordinator.setParameters(low)).to.emit(coordinator, "ParametersUpdated");
    const high = {
      minStake: 10n ** 27n,
      withdrawalDelay: 180 * 86400,
      commitWindow: 3540,
      revealWindow: 60,
      coherenceBps: 10000,
      rewardPerRound: 10n ** 24n,
      rebalanceReward: 10n ** 21n,
      partitionsPerBroker: 16,
      maxPartitions: 65536,
      initialReputation: 10000,
      minReputation: 9999,
      reputationGain: 10000,
      reputationLoss: 10000,
      slashBps: 10000,
      whistleblowerBps: 10000,
    };
    await expect(coordinator.setParameters(high)).to.emit(coordinator, "ParametersUpdated");
  });

  it("gives the deployer's admin both roles and exposes R, the epoch length and the token", async () => {
    const { coordinator, admin, token } = await deployCoordinator();
    expect(await coordinator.hasRole(await coordinator.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
    expect(await coordinator.hasRole(await coordinator.PARAMETER_ROLE(), admin.address)).to.equal(true);
    expect(await coordinator.replication()).to.equal(3);
    expect(await coordinator.epochLength()).to.equal(EPOCH);
    expect(await coordinator.token()).to.equal(await token.getAddress());
  });

  const deployCases: [string, number, bigint, number, bigint | number, bigint | number, bigint | number][] = [
    ["replication", 0, EPOCH, 4, 0, 1, 8],
    ["replication", 9, EPOCH, 4, 9, 1, 8],
    ["epochLength", 3, 599n, 4, 599, 600, 30 * 86400],
    ["epochLength", 3, 30n * 86400n + 1n, 4, 30 * 86400 + 1, 600, 30 * 86400],
    ["initialPartitions", 3, EPOCH, 0, 0, 1, 256],
    ["initialPartitions", 3, EPOCH, 257, 257, 1, 256],
  ];
  for (const [name, replication, epoch, partitions, value, min, max] of deployCases) {
    it(`refuses to deploy with ${name} = ${value}`, async () => {
      const factory = await coordinatorFactory();
      const [admin] = await ethers.getSigners();
      await expect(factory.deploy(admin.address, admin.address, replication, epoch, partitions, defaultParameters()))
        .to.be.revertedWithCustomError(factory, "InvalidParameter")
        .withArgs(name, value, min, max);
    });
  }
});
