// The market's findings of the external audit (issue 13), each replayed as the auditor described it:
// the attack now reverts with its custom error, or the accounting is now exact.
//   H-1 anyone could replace any address's encryption key (ERC-1363 transferFromAndCall, zero price)
//   L-1 an extension after a fee change re-fixed the fee of escrow already sold
//   I-1 the attested purpose was not tied to the product
//   I-3 DATA sent by plain transfer was stuck: a governance sweep of exactly the surplus
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signPermit } from "../helpers/foundation";
import { marketFixture, order, attest, encodeOrder, DAY, PRICE, BASE_PARAMS, MarketFixture } from "./helpers";

const MAX = ethers.MaxUint256;
const VICTIM_KEY = "0x02" + "11".repeat(32);
const ATTACKER_KEY = "0x03" + "ee".repeat(32);

/** The victim registered its own key (as a buyer does in its purchase). */
async function victimWithKey(f: MarketFixture) {
  await f.registry.connect(f.buyer).registerEncryptionKey(VICTIM_KEY);
  return f.buyer;
}

describe("DataLicenseMarket: audit findings (issue 13)", () => {
  describe("H-1: an encryption key is registered only on its owner's authorisation", () => {
    it("replays the attack: a zero-value transferFromAndCall for the victim reverts EncryptionKeyNotAuthorized", async () => {
      const f = await loadFixture(marketFixture);
      const victim = await victimWithKey(f);
      const attacker = f.other;
      const market = await f.market.getAddress();
      // No allowance from the victim: OpenZeppelin's ERC-20 accepts a zero-value transferFrom anyway.
      expect(await f.token.allowance(victim.address, attacker.address)).to.equal(0n);
      const data = encodeOrder(order(f.productId, 3_600n, { encryptionKey: ATTACKER_KEY }));
      await expect(f.token.connect(attacker)["transferFromAndCall(address,address,uint256,bytes)"](victim.address, market, 0, data))
        .to.be.revertedWithCustomError(f.market, "EncryptionKeyNotAuthorized")
        .withArgs(attacker.address, victim.address);
      expect(await f.registry.encryptionKeyOf(victim.address)).to.equal(VICTIM_KEY);
    });

    it("refuses the zero price the attack needed: no product is free, at listing or later", async () => {
      const f = await loadFixture(marketFixture);
      const attacker = f.other;
      await f.registry.connect(attacker).createStream("/free", 1, "{}");
      const stream = await f.registry.resourceId(attacker.address, "/free");
      await f.registry.connect(attacker).setSubscribeDelegate(stream, await f.market.getAddress(), true);
      const salt = ethers.id("free");
      const productId = await f.market.productIdOf(attacker.address, salt);
      await expect(f.market.connect(attacker).createProduct(salt, { ...BASE_PARAMS, pricePerSecond: 0, beneficiary: attacker.address, resources: [stream] }))
        .to.be.revertedWithCustomError(f.market, "ZeroPrice")
        .withArgs(productId);
      await expect(f.market.connect(f.seller).setPrice(f.productId, 0)).to.be.revertedWithCustomError(f.market, "ZeroPrice").withArgs(f.productId);
      // The smallest price is 1 wei per second.
      await expect(f.market.connect(f.seller).setPrice(f.productId, 1)).to.emit(f.market, "ProductPriceUpdated").withArgs(f.productId, PRICE, 1);
    });

    it("variant: another seller's product, without a key, buys nothing for the victim (the value must be the cost)", async () => {
      const f = await loadFixture(marketFixture);
      const victim = await victimWithKey(f);
      const cost = 3_600n * PRICE;
      const data = encodeOrder(order(f.productId, 3_600n));
      await expect(f.token.connect(f.other)["transferFromAndCall(address,address,uint256,bytes)"](victim.address, await f.market.getAddress(), 0, data))
        .to.be.revertedWithCustomError(f.market, "PaymentMismatch")
        .withArgs(0, cost);
      expect((await f.market.getLicense(f.productId, victim.address)).status).to.equal(0n);
    });

    it("variant: an operator holding the victim's allowance may buy for it, never set its key", async () => {
      const f = await loadFixture(marketFixture);
      const victim = await victimWithKey(f);
      const operator = f.other;
      const market = await f.market.getAddress();
      const cost = DAY * PRICE;
      await f.token.connect(victim).approve(operator.address, 2n * cost);
      const withKey = encodeOrder(order(f.productId, DAY, { encryptionKey: ATTACKER_KEY }));
      await expect(f.token.connect(operator)["transferFromAndCall(address,address,uint256,bytes)"](victim.address, market, cost, withKey))
        .to.be.revertedWithCustomError(f.market, "EncryptionKeyNotAuthorized")
        .withArgs(operator.address, victim.address);
      // The allowance is the victim's authorisation to spend its DATA: the license is the victim's.
      const plain = encodeOrder(order(f.productId, DAY));
      const tx = f.token.connect(operator)["transferFromAndCall(address,address,uint256,bytes)"](victim.address, market, cost, plain);
      await expect(tx).to.emit(f.market, "LicensePurchased");
      await expect(tx).to.changeTokenBalances(f.token, [victim, operator, f.market], [-cost, 0, cost]);
      await expect(tx).to.not.emit(f.registry, "EncryptionKeyRegistered");
      expect(await f.market.hasValidLicense(victim.address, f.streamId)).to.equal(true);
      expect(await f.market.hasValidLicense(operator.address, f.streamId)).to.equal(false);
      expect(await f.registry.encryptionKeyOf(victim.address)).to.equal(VICTIM_KEY);
    });

    it("still registers the payer's own key on transferAndCall (operator == from), buy and buyWithPermit", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      const key = "0x02" + "44".repeat(32);
      const data = encodeOrder(order(f.productId, DAY, { encryptionKey: key }));
      await expect(f.token.connect(f.buyer)["transferAndCall(address,uint256,bytes)"](market, DAY * PRICE, data))
        .to.emit(f.registry, "EncryptionKeyRegistered")
        .withArgs(f.buyer.address, key, market);
      const other = "0x03" + "55".repeat(32);
      await expect(f.market.connect(f.other).buy(order(f.productId, DAY, { encryptionKey: other }), MAX))
        .to.emit(f.registry, "EncryptionKeyRegistered")
        .withArgs(f.other.address, other, market);
      const [, , , , , , , , , permitter] = await ethers.getSigners();
      await f.token.mint(permitter.address, DAY * PRICE);
      const permit = await signPermit(f.token, permitter, market, DAY * PRICE, 2n ** 40n);
      const third = "0x02" + "66".repeat(32);
      await expect(
        f.market.connect(permitter).buyWithPermit(order(f.productId, DAY, { encryptionKey: third }), PRICE, {
          value: DAY * PRICE,
          deadline: 2n ** 40n,
          v: permit.v,
          r: permit.r,
          s: permit.s,
        }),
      )
        .to.emit(f.registry, "EncryptionKeyRegistered")
        .withArgs(permitter.address, third, market);
    });
  });

  describe("L-1: a fee change never touches escrow already sold", () => {
    it("replays the audit: a one-hour extension after a fee change moves nothing of a 100-day escrow to the protocol", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.buyer).buy(order(f.productId, 100n * DAY), MAX);
      const sold = await f.market.getLicense(f.productId, f.buyer.address);
      expect(sold.feeBps).to.equal(0n);
      await f.market.setProtocolFee(1_000, f.feeRecipient.address);
      await time.increase(DAY);
      const tx = f.market.connect(f.buyer).extend(f.productId, 3_600, MAX);
      await expect(tx).to.not.emit(f.market, "EscrowReleased");
      const license = await f.market.getLicense(f.productId, f.buyer.address);
      expect(license.feeBps).to.equal(0n);
      expect(license.rate).to.equal(sold.rate);
      expect(license.releasedUntil).to.equal(sold.releasedUntil);
      expect(license.end).to.equal(sold.end + 3_600n);
      // Everything the buyer paid reaches the seller, exactly: the license was sold at fee 0.
      await time.increaseTo(license.end);
      await f.market.release(f.productId, f.buyer.address);
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal((100n * DAY + 3_600n) * PRICE);
      expect(await f.market.accruedFees()).to.equal(0n);
    });

    it("keeps the license's fee through a price change, and applies the new fee to a license started after it", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.setProtocolFee(500, f.feeRecipient.address);
      await f.market.connect(f.buyer).buy(order(f.productId, 10n * DAY), MAX);
      await f.market.setProtocolFee(100, f.feeRecipient.address);
      await time.increase(DAY);
      await f.market.connect(f.seller).setPrice(f.productId, 2n * PRICE);
      // A new price blends the rate (releasing what is earned) but keeps the license's fee.
      await expect(f.market.connect(f.buyer).extend(f.productId, Number(DAY), MAX)).to.emit(f.market, "EscrowReleased");
      expect((await f.market.getLicense(f.productId, f.buyer.address)).feeBps).to.equal(500n);
      // After it ran out, a purchase starts a new license at the fee of the day.
      await time.increase(20n * DAY);
      await f.market.connect(f.buyer).buy(order(f.productId, DAY), MAX);
      expect((await f.market.getLicense(f.productId, f.buyer.address)).feeBps).to.equal(100n);
    });
  });

  describe("I-1: a consent-gated product is sold only for the purposes its seller declared", () => {
    it("refuses an attestation for a purpose the product does not declare", async () => {
      const f = await loadFixture(marketFixture);
      const marketing = ethers.id("Marketing");
      expect(await f.market.isPurposeAllowed(f.consentProductId, marketing)).to.equal(false);
      const a = await attest(f, f.buyer.address, f.consentProductId, { purpose: marketing });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "PurposeNotAllowed")
        .withArgs(f.consentProductId, marketing);
    });

    it("sells nothing under consent before the seller declares a purpose, then sells for the declared ones", async () => {
      const f = await loadFixture(marketFixture);
      const salt = ethers.id("undeclared");
      await f.market.connect(f.seller).createProduct(salt, {
        ...BASE_PARAMS,
        beneficiary: f.beneficiary.address,
        requiresConsent: true,
        resources: [f.datasetId],
      });
      const productId = await f.market.productIdOf(f.seller.address, salt);
      const research = ethers.id("ScientificResearch");
      const a = await attest(f, f.buyer.address, productId, { purpose: research });
      await expect(f.market.connect(f.buyer).buy(order(productId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "PurposeNotAllowed")
        .withArgs(productId, research);
      const commercial = ethers.id("CommercialResearch");
      const tx = f.market.connect(f.seller).setPurposes(productId, [research, commercial], true);
      await expect(tx).to.emit(f.market, "ProductPurposeSet").withArgs(productId, research, true);
      await expect(tx).to.emit(f.market, "ProductPurposeSet").withArgs(productId, commercial, true);
      expect(await f.market.isPurposeAllowed(productId, commercial)).to.equal(true);
      await expect(f.market.connect(f.buyer).buy(order(productId, DAY, a), MAX)).to.emit(f.market, "LicensePurchased");
    });

    it("applies a withdrawn purpose to new grants only: a license sold under it extends under its grant", async () => {
      const f = await loadFixture(marketFixture);
      const research = ethers.id("ScientificResearch");
      const a = await attest(f, f.buyer.address, f.consentProductId);
      await f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX);
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, [research], false))
        .to.emit(f.market, "ProductPurposeSet")
        .withArgs(f.consentProductId, research, false);
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX)).to.emit(f.market, "LicensePurchased");
      const b = await attest(f, f.other.address, f.consentProductId);
      await expect(f.market.connect(f.other).buy(order(f.consentProductId, DAY, b), MAX))
        .to.be.revertedWithCustomError(f.market, "PurposeNotAllowed")
        .withArgs(f.consentProductId, research);
    });

    it("lets only the seller declare purposes, 1 to 16 non-zero ones, on a product not deleted", async () => {
      const f = await loadFixture(marketFixture);
      const p = ethers.id("AcademicResearch");
      await expect(f.market.connect(f.other).setPurposes(f.consentProductId, [p], true))
        .to.be.revertedWithCustomError(f.market, "NotSeller")
        .withArgs(f.consentProductId, f.other.address, f.seller.address);
      await expect(f.market.connect(f.seller).setPurposes(ethers.id("nope"), [p], true)).to.be.revertedWithCustomError(f.market, "UnknownProduct");
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, [], true))
        .to.be.revertedWithCustomError(f.market, "InvalidPurposes")
        .withArgs(0);
      const seventeen = Array.from({ length: 17 }, (_, i) => ethers.id(`purpose ${i}`));
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, seventeen, true))
        .to.be.revertedWithCustomError(f.market, "InvalidPurposes")
        .withArgs(17);
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, [p, ethers.ZeroHash], true))
        .to.be.revertedWithCustomError(f.market, "InvalidPurposes")
        .withArgs(2);
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, seventeen.slice(0, 16), true)).to.emit(f.market, "ProductPurposeSet");
      await f.market.connect(f.seller).deleteProduct(f.consentProductId);
      await expect(f.market.connect(f.seller).setPurposes(f.consentProductId, [p], true))
        .to.be.revertedWithCustomError(f.market, "ProductNotOnSale")
        .withArgs(f.consentProductId, 3);
    });
  });

  describe("I-3: governance sweeps exactly the surplus over what the market owes", () => {
    it("pays out DATA sent by plain transfer, never a wei of escrow, income, refunds or fees", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      await f.market.setProtocolFee(300, f.feeRecipient.address);
      await f.market.connect(f.buyer).buy(order(f.productId, 10n * DAY), MAX);
      await time.increase(DAY);
      await f.market.release(f.productId, f.buyer.address);
      const owed = await f.market.totalOwed();
      expect(owed).to.equal(10n * DAY * PRICE);
      expect(await f.token.balanceOf(market)).to.equal(owed);
      await expect(f.market.sweepSurplus(f.admin.address)).to.be.revertedWithCustomError(f.market, "NothingToSweep");

      const stray = 12_345n;
      await f.token.connect(f.other).transfer(market, stray);
      expect(await f.market.totalOwed()).to.equal(owed);
      await expect(f.market.connect(f.other).sweepSurplus(f.other.address))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.other.address, ethers.ZeroHash);
      await expect(f.market.sweepSurplus(ethers.ZeroAddress)).to.be.revertedWithCustomError(f.market, "ZeroRecipient");
      expect(await f.market.sweepSurplus.staticCall(f.admin.address)).to.equal(stray);
      const tx = f.market.sweepSurplus(f.admin.address);
      await expect(tx).to.emit(f.market, "SurplusSwept").withArgs(f.admin.address, stray);
      await expect(tx).to.changeTokenBalances(f.token, [f.market, f.admin], [-stray, stray]);
      expect(await f.token.balanceOf(market)).to.equal(owed);
      await expect(f.market.sweepSurplus(f.admin.address)).to.be.revertedWithCustomError(f.market, "NothingToSweep");

      // What is owed is still paid in full afterwards.
      await time.increase(20n * DAY);
      await f.market.release(f.productId, f.buyer.address);
      await f.market.connect(f.beneficiary).withdraw();
      await f.market.withdrawFees();
      expect(await f.market.totalOwed()).to.equal(0n);
      expect(await f.token.balanceOf(market)).to.equal(0n);
    });

    it("refuses at deployment a token whose cap its 128-bit count of what is owed could not hold", async () => {
      const [admin] = await ethers.getSigners();
      const registry = await ethers.deployContract("StreamRegistry", [admin.address]);
      const karma = await ethers.deployContract("Karma", [admin.address, 86_400, 0]);
      const libraries: Record<string, string> = {};
      for (const name of ["ProductCatalog", "AttestorSet", "LicenseTermination"]) {
        libraries[name] = await (await ethers.deployContract(name)).getAddress();
      }
      const factory = await ethers.getContractFactory("DataLicenseMarket", { libraries });
      for (const cap of [2n ** 128n - 1n, 2n ** 128n]) {
        const token = await ethers.deployContract("DATAToken", [admin.address, admin.address, cap]);
        const deploy = factory.deploy(admin.address, await token.getAddress(), await registry.getAddress(), await karma.getAddress());
        if (cap < 2n ** 128n) await expect(deploy).to.not.be.reverted;
        else await expect(deploy).to.be.revertedWithCustomError(factory, "TokenCapTooLarge").withArgs(cap);
      }
    });

    it("counts every payment path, a refund and the blend's remainder in totalOwed", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      await f.market.connect(f.seller).setPrice(f.productId, 1_000n);
      await f.market.connect(f.buyer).buy(order(f.productId, 36_000n), MAX);
      await f.token.connect(f.other)["transferAndCall(address,uint256,bytes)"](market, 3_600_000n, encodeOrder(order(f.productId, 3_600n)));
      await time.increase(3_599);
      await f.market.connect(f.seller).setPrice(f.productId, 3_333n);
      await f.market.connect(f.buyer).extend(f.productId, 7_200, MAX);
      expect(await f.market.claimableOf(f.buyer.address)).to.be.greaterThan(0n); // the blend's remainder
      expect(await f.market.totalOwed()).to.equal(await f.token.balanceOf(market));
      await f.market.connect(f.buyer).withdraw();
      expect(await f.market.totalOwed()).to.equal(await f.token.balanceOf(market));
    });
  });
});
