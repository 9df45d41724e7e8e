// Bad-data flags and the arbiter's decisions in the data-license market.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { marketFixture, order, now, DAY, PRICE, FLAG_PENALTY_BPS, MarketFixture } from "./helpers";

const MAX = ethers.MaxUint256;
const EVIDENCE = ethers.id("gaps in the heart-rate stream");

async function buy(f: MarketFixture, duration = 10n * DAY) {
  await f.market.connect(f.buyer).buy(order(f.productId, duration), MAX);
  return f.market.getLicense(f.productId, f.buyer.address);
}

describe("DataLicenseMarket: flags and disputes", () => {
  it("lets a licensed buyer flag: releases what is earned, then freezes release and counts the flag", async () => {
    const f = await loadFixture(marketFixture);
    const license = await buy(f);
    await time.increase(DAY);
    const tx = f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE);
    await expect(tx).to.emit(f.market, "BadDataFlagged").withArgs(f.productId, f.buyer.address, f.seller.address, EVIDENCE);
    await expect(tx).to.emit(f.market, "EscrowReleased");
    await expect(tx)
      .to.emit(f.karma, "FlagRaised")
      .withArgs(f.seller.address, await f.market.getAddress(), 1);
    const flagged = await f.market.getLicense(f.productId, f.buyer.address);
    expect(flagged.status).to.equal(2n);
    expect(flagged.releasedUntil).to.equal(await now());
    expect(flagged.end).to.equal(license.end);
    await time.increase(DAY);
    expect(await f.market.releasable(f.productId, f.buyer.address)).to.equal(0n);
    await expect(f.market.release(f.productId, f.buyer.address))
      .to.be.revertedWithCustomError(f.market, "LicenseDisputed")
      .withArgs(f.productId, f.buyer.address);
    await expect(f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE))
      .to.be.revertedWithCustomError(f.market, "LicenseDisputed")
      .withArgs(f.productId, f.buyer.address);
    await expect(f.market.connect(f.buyer).extend(f.productId, Number(DAY), MAX))
      .to.be.revertedWithCustomError(f.market, "LicenseDisputed")
      .withArgs(f.productId, f.buyer.address);
    expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(true);
  });

  it("refuses a flag without a license valid now", async () => {
    const f = await loadFixture(marketFixture);
    await expect(f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE))
      .to.be.revertedWithCustomError(f.market, "NoValidLicense")
      .withArgs(f.productId, f.buyer.address);
    await buy(f, DAY);
    await time.increase(DAY);
    await expect(f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE))
      .to.be.revertedWithCustomError(f.market, "NoValidLicense")
      .withArgs(f.productId, f.buyer.address);
  });

  it("flags in the same second as the purchase without releasing anything", async () => {
    const f = await loadFixture(marketFixture);
    await ethers.provider.send("evm_setAutomine", [false]);
    try {
      await f.market.connect(f.buyer).buy(order(f.productId, DAY), MAX);
      const flag = await f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE);
      await ethers.provider.send("evm_mine", []);
      await expect(flag).to.not.emit(f.market, "EscrowReleased");
    } finally {
      await ethers.provider.send("evm_setAutomine", [true]);
    }
  });

  it("upheld: refunds the escrow since the flag, ends the license, removes access and cuts the seller's karma", async () => {
    const f = await loadFixture(marketFixture);
    const license = await buy(f);
    await time.increase(DAY);
    await f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE);
    const flagged = await f.market.getLicense(f.productId, f.buyer.address);
    const karmaBefore = await f.karma.karmaOf(f.seller.address);
    await time.increase(DAY);
    const refund = PRICE * (license.end - flagged.releasedUntil);
    const tx = f.market.connect(f.arbiter).resolveDispute(f.productId, f.buyer.address, true);
    await expect(tx).to.emit(f.market, "DisputeResolved").withArgs(f.productId, f.buyer.address, f.arbiter.address, true, refund);
    await expect(tx).to.emit(f.market, "Refunded").withArgs(f.productId, f.buyer.address, refund);
    await expect(tx).to.emit(f.karma, "FlagUpheld");
    expect(await f.market.claimableOf(f.buyer.address)).to.equal(refund);
    expect((await f.market.getLicense(f.productId, f.buyer.address)).status).to.equal(3n);
    expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(false);
    expect((await f.registry.getPermission(f.streamId, f.buyer.address)).subscribeExpiry).to.equal(0n);
    const decayed = await f.karma.karmaOf(f.seller.address);
    expect(decayed).to.be.lessThan(karmaBefore);
    expect(decayed).to.be.closeTo((((karmaBefore * 10n ** 9n) / 10n ** 9n) * (10_000n - FLAG_PENALTY_BPS)) / 10_000n, karmaBefore / 20n);
    const [raised, upheld] = await f.karma.flagsOf(f.seller.address);
    expect([raised, upheld]).to.deep.equal([1n, 1n]);
  });

  it("rejected: the license goes on and release catches up", async () => {
    const f = await loadFixture(marketFixture);
    await buy(f);
    await time.increase(DAY);
    await f.market.connect(f.buyer).flagBadData(f.productId, EVIDENCE);
    const flaggedAt = await now();
    await time.increase(DAY);
    await expect(f.market.connect(f.arbiter).resolveDispute(f.productId, f.buyer.address, false))
      .to.emit(f.market, "DisputeResolved")
      .withArgs(f.productId, f.buyer.address, f.arbiter.address, false, 0);
    expect((await f.market.getLicense(f.productId, f.buyer.address)).status).to.equal(1n);
    await f.market.release(f.productId, f.buyer.address);
    expect((await f.market.getLicense(f.productId, f.buyer.address)).releasedUntil).to.be.greaterThan(flaggedAt + DAY);
  });

  it("refuses a decision on a license not under dispute, or by a non-arbiter", async () => {
    const f = await loadFixture(marketFixture);
    await buy(f);
    await expect(f.market.connect(f.arbiter).resolveDispute(f.productId, f.buyer.address, true))
      .to.be.revertedWithCustomError(f.market, "NotDisputed")
      .withArgs(f.productId, f.buyer.address);
    await expect(f.market.connect(f.other).resolveDispute(f.productId, f.buyer.address, true))
      .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
      .withArgs(f.other.address, await f.market.ARBITER_ROLE());
  });
});
