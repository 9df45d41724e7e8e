// Escrow of the data-license market: release as time elapses (pull), withdrawals, the protocol fee,
// the delivery-oracle hook, and karma credited for DATA actually exchanged.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { marketFixture, order, now, DAY, PRICE, MarketFixture } from "./helpers";

const MAX = ethers.MaxUint256;

async function buy(f: MarketFixture, duration = 10n * DAY, who = f.buyer) {
  await f.market.connect(who).buy(order(f.productId, duration), MAX);
  return f.market.getLicense(f.productId, who.address);
}

describe("DataLicenseMarket: escrow", () => {
  it("releases what the elapsed time earned to the beneficiary, anyone calling, and credits karma", async () => {
    const f = await loadFixture(marketFixture);
    const license = await buy(f);
    await time.increase(DAY);
    expect(await f.market.releasable(f.productId, f.buyer.address)).to.equal(PRICE * DAY);
    expect(await f.market.connect(f.other).release.staticCall(f.productId, f.buyer.address)).to.equal(PRICE * DAY);
    const tx = await f.market.connect(f.other).release(f.productId, f.buyer.address);
    const amount = PRICE * ((await now()) - license.releasedUntil);
    await expect(tx)
      .to.emit(f.market, "EscrowReleased")
      .withArgs(f.productId, f.buyer.address, f.beneficiary.address, amount, 0, license.releasedUntil + amount / PRICE);
    await expect(tx)
      .to.emit(f.karma, "KarmaAdded")
      .withArgs(f.seller.address, await f.market.getAddress(), amount, amount);
    await expect(tx)
      .to.emit(f.karma, "KarmaAdded")
      .withArgs(f.buyer.address, await f.market.getAddress(), amount, amount);
    expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(amount);
    expect(await f.market.escrowOf(f.productId, f.buyer.address)).to.equal(10n * DAY * PRICE - amount);
    expect(await f.karma.karmaOf(f.seller.address)).to.equal(amount);
  });

  it("releases no more than the license end, then nothing", async () => {
    const f = await loadFixture(marketFixture);
    await buy(f, DAY);
    await time.increase(5n * DAY);
    await f.market.release(f.productId, f.buyer.address);
    expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(DAY * PRICE);
    expect(await f.market.releasable(f.productId, f.buyer.address)).to.equal(0n);
    await expect(f.market.release(f.productId, f.buyer.address))
      .to.be.revertedWithCustomError(f.market, "NothingToRelease")
      .withArgs(f.productId, f.buyer.address);
    await expect(f.market.release(f.productId, f.other.address))
      .to.be.revertedWithCustomError(f.market, "NothingToRelease")
      .withArgs(f.productId, f.other.address);
  });

  it("withdraws what an account is owed, once", async () => {
    const f = await loadFixture(marketFixture);
    await buy(f, DAY);
    await time.increase(2n * DAY);
    await f.market.release(f.productId, f.buyer.address);
    const owed = DAY * PRICE;
    expect(await f.market.connect(f.beneficiary).withdraw.staticCall()).to.equal(owed);
    const tx = f.market.connect(f.beneficiary).withdraw();
    await expect(tx).to.changeTokenBalances(f.token, [f.beneficiary, f.market], [owed, -owed]);
    await expect(tx).to.emit(f.market, "Withdrawn").withArgs(f.beneficiary.address, owed);
    await expect(f.market.connect(f.beneficiary).withdraw()).to.be.revertedWithCustomError(f.market, "NothingToWithdraw").withArgs(f.beneficiary.address);
  });

  describe("protocol fee", () => {
    it("is off by default and capped", async () => {
      const f = await loadFixture(marketFixture);
      const [bps, recipient] = await f.market.protocolFee();
      expect(bps).to.equal(0n);
      expect(recipient).to.equal(ethers.ZeroAddress);
      expect(await f.market.MAX_FEE_BPS()).to.equal(1_000n);
      await expect(f.market.setProtocolFee(1_001, f.feeRecipient.address)).to.be.revertedWithCustomError(f.market, "FeeTooHigh").withArgs(1_001, 1_000);
      await expect(f.market.setProtocolFee(1, ethers.ZeroAddress)).to.be.revertedWithCustomError(f.market, "ZeroFeeRecipient");
      await expect(f.market.setProtocolFee(1_000, f.feeRecipient.address)).to.emit(f.market, "ProtocolFeeSet").withArgs(1_000, f.feeRecipient.address);
    });

    it("takes its share of each release at the rate fixed when the escrow was paid, paid to the recipient", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.setProtocolFee(250, f.feeRecipient.address);
      await buy(f, DAY);
      await f.market.setProtocolFee(1_000, f.feeRecipient.address); // not retroactive
      await time.increase(2n * DAY);
      const gross = DAY * PRICE;
      const fee = (gross * 250n) / 10_000n;
      await expect(f.market.release(f.productId, f.buyer.address))
        .to.emit(f.market, "EscrowReleased")
        .withArgs(f.productId, f.buyer.address, f.beneficiary.address, gross, fee, (await f.market.getLicense(f.productId, f.buyer.address)).end);
      expect(await f.market.accruedFees()).to.equal(fee);
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(gross - fee);
      const tx = f.market.connect(f.other).withdrawFees();
      await expect(tx).to.changeTokenBalances(f.token, [f.feeRecipient, f.market], [fee, -fee]);
      await expect(tx).to.emit(f.market, "FeesWithdrawn").withArgs(f.feeRecipient.address, fee);
      await expect(f.market.withdrawFees()).to.be.revertedWithCustomError(f.market, "NothingToWithdraw").withArgs(f.feeRecipient.address);
    });

    it("cannot be paid out without a recipient", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.withdrawFees()).to.be.revertedWithCustomError(f.market, "ZeroFeeRecipient");
    });
  });

  describe("delivery oracle hook", () => {
    it("caps release at the proven delivery time when set; address(0) releases by time alone", async () => {
      const f = await loadFixture(marketFixture);
      const oracle = await ethers.deployContract("DeliveryOracleMock");
      await expect(f.market.setDeliveryOracle(await oracle.getAddress()))
        .to.emit(f.market, "DeliveryOracleSet")
        .withArgs(await oracle.getAddress());
      expect(await f.market.deliveryOracle()).to.equal(await oracle.getAddress());
      const license = await buy(f);
      await time.increase(3n * DAY);
      // Nothing proven yet (delivered until 0): nothing to release.
      await expect(f.market.release(f.productId, f.buyer.address)).to.be.revertedWithCustomError(f.market, "NothingToRelease");
      await oracle.setDeliveredUntil(f.productId, license.releasedUntil + DAY);
      expect(await f.market.releasable(f.productId, f.buyer.address)).to.equal(DAY * PRICE);
      await f.market.release(f.productId, f.buyer.address);
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(DAY * PRICE);
      // Delivery proven beyond now: release up to now.
      await oracle.setDeliveredUntil(f.productId, license.end + DAY);
      await f.market.release(f.productId, f.buyer.address);
      expect((await f.market.getLicense(f.productId, f.buyer.address)).releasedUntil).to.equal(await now());
      // An extension at a new price while delivery lags: nothing to release first, the blend starts at
      // the last release.
      await oracle.setDeliveredUntil(f.productId, 0);
      await f.market.connect(f.seller).setPrice(f.productId, PRICE * 2n);
      const before = await f.market.getLicense(f.productId, f.buyer.address);
      await expect(f.market.connect(f.buyer).extend(f.productId, Number(DAY), MAX)).to.not.emit(f.market, "EscrowReleased");
      expect((await f.market.getLicense(f.productId, f.buyer.address)).releasedUntil).to.equal(before.releasedUntil);
      await f.market.setDeliveryOracle(ethers.ZeroAddress);
      await time.increase(DAY);
      await f.market.release(f.productId, f.buyer.address);
      expect((await f.market.getLicense(f.productId, f.buyer.address)).releasedUntil).to.equal(await now());
    });
  });

  it("holds the escrow, and blocks nothing else, while the delivery oracle fails", async () => {
    const f = await loadFixture(marketFixture);
    const oracle = await ethers.deployContract("DeliveryOracleMock");
    await f.market.setDeliveryOracle(await oracle.getAddress());
    await buy(f);
    await oracle.setFailing(true);
    await time.increase(DAY);
    expect(await f.market.releasable(f.productId, f.buyer.address)).to.equal(0n);
    await expect(f.market.release(f.productId, f.buyer.address)).to.be.revertedWithCustomError(f.market, "NothingToRelease");
    await f.market.connect(f.seller).setPrice(f.productId, PRICE * 3n);
    await expect(f.market.connect(f.buyer).extend(f.productId, Number(DAY), MAX)).to.emit(f.market, "LicensePurchased");
    await expect(f.market.connect(f.buyer).flagBadData(f.productId, ethers.id("bad"))).to.emit(f.market, "BadDataFlagged");
  });

  describe("karma reports", () => {
    it("never block money: a failing karma report is an event", async () => {
      const f = await loadFixture(marketFixture);
      await f.karma.revokeRole(await f.karma.REPORTER_ROLE(), await f.market.getAddress());
      await buy(f);
      await time.increase(DAY);
      await expect(f.market.release(f.productId, f.buyer.address)).to.emit(f.market, "KarmaReportFailed").and.to.emit(f.market, "EscrowReleased");
      await expect(f.market.connect(f.buyer).flagBadData(f.productId, ethers.id("bad")))
        .to.emit(f.market, "KarmaReportFailed")
        .and.to.emit(f.market, "BadDataFlagged");
      await expect(f.market.connect(f.arbiter).resolveDispute(f.productId, f.buyer.address, true))
        .to.emit(f.market, "KarmaReportFailed")
        .and.to.emit(f.market, "DisputeResolved");
    });
  });

  it("exposes its wiring and EIP-712 domain", async () => {
    const f = await loadFixture(marketFixture);
    expect(await f.market.token()).to.equal(await f.token.getAddress());
    expect(await f.market.registry()).to.equal(await f.registry.getAddress());
    expect(await f.market.karma()).to.equal(await f.karma.getAddress());
    const { chainId } = await ethers.provider.getNetwork();
    expect(await f.market.DOMAIN_SEPARATOR()).to.equal(
      ethers.TypedDataEncoder.hashDomain({ name: "DataLicenseMarket", version: "1", chainId, verifyingContract: await f.market.getAddress() }),
    );
  });
});
