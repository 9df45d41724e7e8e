// Karma: reputation from DATA exchanged, halving every HALF_LIFE seconds (computed on read), cut by
// upheld bad-data flags. The decay is checked against an exact reference over many random cases.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import type { Karma } from "../../typechain-types";
import { propertyRuns } from "../helpers/runs";

const HALF_LIFE = 30n * 86_400n;

async function karmaFixture() {
  const [admin, reporter, alice, bob, other] = await ethers.getSigners();
  const karma = (await ethers.deployContract("Karma", [admin.address, HALF_LIFE, 2_500])) as unknown as Karma;
  await karma.grantRole(await karma.REPORTER_ROLE(), reporter.address);
  return { karma, admin, reporter, alice, bob, other };
}

/** value * 2^(-elapsed/halfLife) in double precision (relative error ~1e-16, far below the bound tested). */
function referenceDecay(value: bigint, elapsed: bigint, halfLife: bigint): number {
  return Number(value) * Math.pow(2, -Number(elapsed) / Number(halfLife));
}

describe("Karma", () => {
  it("is configured at deployment and refuses a zero half-life or a penalty above 100 %", async () => {
    const { karma, admin } = await loadFixture(karmaFixture);
    expect(await karma.HALF_LIFE()).to.equal(HALF_LIFE);
    expect(await karma.flagPenaltyBps()).to.equal(2_500n);
    const factory = await ethers.getContractFactory("Karma");
    await expect(factory.deploy(admin.address, 0, 0))
      .to.be.revertedWithCustomError(karma, "InvalidKarmaParameter")
      .withArgs(0);
    await expect(factory.deploy(admin.address, 1, 10_001))
      .to.be.revertedWithCustomError(karma, "InvalidKarmaParameter")
      .withArgs(10_001);
  });

  it("adds karma (reporters only), halving after one half-life", async () => {
    const { karma, reporter, alice, other } = await loadFixture(karmaFixture);
    await expect(karma.connect(reporter).addKarma(alice.address, 1_000n))
      .to.emit(karma, "KarmaAdded")
      .withArgs(alice.address, reporter.address, 1_000n, 1_000n);
    await time.increase(HALF_LIFE);
    expect(await karma.karmaOf(alice.address)).to.equal(500n);
    await time.increase(HALF_LIFE);
    expect(await karma.karmaOf(alice.address)).to.equal(250n);
    await expect(karma.connect(other).addKarma(alice.address, 1n))
      .to.be.revertedWithCustomError(karma, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, await karma.REPORTER_ROLE());
  });

  it("decays to zero after more than 255 half-lives, and reads the last update for an earlier time", async () => {
    const { karma, reporter, alice } = await loadFixture(karmaFixture);
    await karma.connect(reporter).addKarma(alice.address, 10n ** 30n);
    const t = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    expect(await karma.karmaAt(alice.address, t - 1000n)).to.equal(10n ** 30n);
    expect(await karma.karmaAt(alice.address, t + 256n * HALF_LIFE)).to.equal(0n);
    expect(await karma.decay(0n, 5n)).to.equal(0n);
    expect(await karma.decay(7n, 0n)).to.equal(7n);
  });

  it("computes the decay within 2e-10 relative error plus 2 wei of the exact formula (random cases)", async () => {
    const { karma } = await loadFixture(karmaFixture);
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 10n ** 12n, max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 40n * HALF_LIFE }), async (value, elapsed) => {
        const got = await karma.decay(value, elapsed);
        const want = referenceDecay(value, elapsed, HALF_LIFE);
        expect(Math.abs(Number(got) - want)).to.be.at.most(2e-10 * want + 2);
      }),
      { numRuns: propertyRuns(200) },
    );
  });

  it("adds the same exchange to seller and buyer, decaying the old value first", async () => {
    const { karma, reporter, alice, bob } = await loadFixture(karmaFixture);
    const first = await (await karma.connect(reporter).addExchangeKarma(alice.address, bob.address, 800n)).wait();
    // exactly one half-life later, however long the machine takes between the two transactions
    await time.setNextBlockTimestamp(BigInt((await first!.getBlock()).timestamp) + HALF_LIFE);
    await expect(karma.connect(reporter).addExchangeKarma(alice.address, bob.address, 100n))
      .to.emit(karma, "KarmaAdded")
      .withArgs(alice.address, reporter.address, 100n, 500n)
      .and.to.emit(karma, "KarmaAdded")
      .withArgs(bob.address, reporter.address, 100n, 500n);
  });

  it("counts raised flags and cuts karma by the penalty on an upheld flag", async () => {
    const { karma, reporter, alice } = await loadFixture(karmaFixture);
    await karma.connect(reporter).addKarma(alice.address, 10_000n);
    await expect(karma.connect(reporter).recordFlagRaised(alice.address)).to.emit(karma, "FlagRaised").withArgs(alice.address, reporter.address, 1);
    await time.setNextBlockTimestamp(BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1n);
    const before = await karma.karmaAt(alice.address, BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1n);
    await expect(karma.connect(reporter).recordFlagUpheld(alice.address))
      .to.emit(karma, "FlagUpheld")
      .withArgs(alice.address, reporter.address, before, (before * 7_500n) / 10_000n, 1);
    expect(await karma.flagsOf(alice.address)).to.deep.equal([1n, 1n]);
  });

  it("lets governance set the flag penalty, never above 100 %", async () => {
    const { karma, admin, other } = await loadFixture(karmaFixture);
    await expect(karma.connect(admin).setFlagPenaltyBps(10_000)).to.emit(karma, "FlagPenaltySet").withArgs(10_000);
    await expect(karma.connect(admin).setFlagPenaltyBps(10_001)).to.be.revertedWithCustomError(karma, "InvalidKarmaParameter").withArgs(10_001);
    await expect(karma.connect(other).setFlagPenaltyBps(1))
      .to.be.revertedWithCustomError(karma, "AccessControlUnauthorizedAccount")
      .withArgs(other.address, await karma.DEFAULT_ADMIN_ROLE());
  });

  it("refuses karma beyond uint192", async () => {
    const { karma, reporter, alice } = await loadFixture(karmaFixture);
    await expect(karma.connect(reporter).addKarma(alice.address, 2n ** 192n))
      .to.be.revertedWithCustomError(karma, "SafeCastOverflowedUintDowncast")
      .withArgs(192, 2n ** 192n);
  });
});
