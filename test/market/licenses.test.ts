// Licenses of the data-license market: buying and extending through the three payment paths, the
// registry's subscribe permission, the O(1) licence view, the gates (price limit, length, KYC, sale
// state, consent) and the escrow blend of an extension at a new price.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { signPermit } from "../helpers/foundation";
import { marketFixture, order, attest, encodeOrder, now, DAY, PRICE, BASE_PARAMS, MarketFixture } from "./helpers";

const MAX = ethers.MaxUint256;

async function buyPlain(f: MarketFixture, duration = 10n * DAY, who = f.buyer) {
  return f.market.connect(who).buy(order(f.productId, duration), MAX);
}

describe("DataLicenseMarket: licenses", () => {
  describe("buy (approve + buy)", () => {
    it("takes exactly the price, escrows it, writes the real end time into the registry and the O(1) index", async () => {
      const f = await loadFixture(marketFixture);
      const duration = 10n * DAY;
      const cost = duration * PRICE;
      expect(await f.market.quote(f.productId, duration)).to.equal(cost);
      expect(await f.market.connect(f.buyer).buy.staticCall(order(f.productId, duration), PRICE)).to.equal(cost);
      const tx = f.market.connect(f.buyer).buy(order(f.productId, duration), PRICE);
      await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.market], [-cost, cost]);
      const start = await now();
      const end = start + duration;
      await expect(tx).to.emit(f.market, "LicensePurchased").withArgs(f.productId, f.buyer.address, ethers.ZeroHash, cost, end);
      const license = await f.market.getLicense(f.productId, f.buyer.address);
      expect(license.rate).to.equal(PRICE);
      expect(license.releasedUntil).to.equal(start);
      expect(license.end).to.equal(end);
      expect(license.grantExpiry).to.equal(2n ** 40n - 1n);
      expect(license.status).to.equal(1n);
      expect(await f.market.escrowOf(f.productId, f.buyer.address)).to.equal(cost);
      expect((await f.registry.getPermission(f.streamId, f.buyer.address)).subscribeExpiry).to.equal(end);
      expect(await f.registry.canSubscribe(f.streamId, f.buyer.address)).to.equal(true);
      expect(await f.market.licensedUntil(f.streamId, f.buyer.address)).to.equal(end);
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(true);
      expect(await f.market.hasValidLicense(f.other.address, f.streamId)).to.equal(false);
      expect(await f.market.hasValidLicense(f.buyer.address, f.datasetId)).to.equal(false);
      await time.increaseTo(end - 1n);
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(true);
      await time.increaseTo(end);
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(false);
      expect(await f.registry.canSubscribe(f.streamId, f.buyer.address)).to.equal(false);
    });

    it("stores every field of a license in its one slot (the market packs it in a single write)", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.setProtocolFee(777, f.feeRecipient.address);
      const grantId = "0x" + "ab".repeat(30) + "cdef";
      const expiresAt = (await now()) + 300n * DAY;
      const a = await attest(f, f.buyer.address, f.consentProductId, { grantId, expiresAt });
      await f.market.connect(f.seller).setPrice(f.consentProductId, 2n ** 77n - 1n);
      await f.token.mint(f.buyer.address, (2n ** 77n - 1n) * 3_600n);
      await f.market.connect(f.buyer).buy(order(f.consentProductId, 3_600n, a), MAX);
      const start = await now();
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      expect(license.rate).to.equal(2n ** 77n - 1n);
      expect(license.releasedUntil).to.equal(start);
      expect(license.end).to.equal(start + 3_600n);
      expect(license.grantExpiry).to.equal(expiresAt);
      expect(license.feeBps).to.equal(777n);
      expect(license.status).to.equal(1n);
      expect(license.grantTag).to.equal(0xcdefn);
    });

    it("registers the buyer's encryption key in the registry", async () => {
      const f = await loadFixture(marketFixture);
      const key = "0x03" + "ab".repeat(32);
      await expect(f.market.connect(f.buyer).buy(order(f.productId, DAY, { encryptionKey: key }), MAX))
        .to.emit(f.registry, "EncryptionKeyRegistered")
        .withArgs(f.buyer.address, key, await f.market.getAddress());
      expect(await f.registry.encryptionKeyOf(f.buyer.address)).to.equal(key);
    });

    it("ignores (and does not report) an attestation given for a product without consent gate", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.productId);
      const tx = await f.market.connect(f.buyer).buy(order(f.productId, DAY, a), MAX);
      await expect(tx)
        .to.emit(f.market, "LicensePurchased")
        .withArgs(f.productId, f.buyer.address, ethers.ZeroHash, DAY * PRICE, (await f.market.getLicense(f.productId, f.buyer.address)).end);
      expect((await f.market.getLicense(f.productId, f.buyer.address)).grantTag).to.equal(0n);
    });

    it("extends a running license from its end, at the same rate without touching past escrow", async () => {
      const f = await loadFixture(marketFixture);
      await buyPlain(f, 10n * DAY);
      const first = await f.market.getLicense(f.productId, f.buyer.address);
      await time.increase(DAY);
      const tx = f.market.connect(f.buyer).extend(f.productId, Number(5n * DAY), PRICE);
      await expect(tx)
        .to.emit(f.market, "LicensePurchased")
        .withArgs(f.productId, f.buyer.address, ethers.ZeroHash, 5n * DAY * PRICE, first.end + 5n * DAY);
      await expect(tx).to.not.emit(f.market, "EscrowReleased");
      const license = await f.market.getLicense(f.productId, f.buyer.address);
      expect(license.releasedUntil).to.equal(first.releasedUntil);
      expect(license.end).to.equal(first.end + 5n * DAY);
      expect(await f.market.escrowOf(f.productId, f.buyer.address)).to.equal(15n * DAY * PRICE);
      expect((await f.registry.getPermission(f.streamId, f.buyer.address)).subscribeExpiry).to.equal(license.end);
    });

    it("restarts an expired license from now, releasing what the old one still held", async () => {
      const f = await loadFixture(marketFixture);
      await buyPlain(f, DAY);
      await time.increase(3n * DAY);
      const tx = buyPlain(f, 2n * DAY);
      await expect(tx).to.emit(f.market, "EscrowReleased");
      const start = await now();
      const license = await f.market.getLicense(f.productId, f.buyer.address);
      expect(license.releasedUntil).to.equal(start);
      expect(license.end).to.equal(start + 2n * DAY);
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(DAY * PRICE);
      expect(await f.market.escrowOf(f.productId, f.buyer.address)).to.equal(2n * DAY * PRICE);
    });

    it("blends an extension at a new price over the remaining time and refunds the division's remainder", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).setPrice(f.productId, 1_000n);
      await buyPlain(f, 3_600n * 10n);
      await time.increase(3_600n - 1n);
      await f.market.connect(f.seller).setPrice(f.productId, 3_333n);
      const before = await f.market.getLicense(f.productId, f.buyer.address);
      await f.market.connect(f.buyer).extend(f.productId, 7_200, MAX);
      const t = await now();
      // Earned up to now is released at the old rate.
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(1_000n * (t - before.releasedUntil));
      const remainingOld = 1_000n * (before.end - t);
      const total = remainingOld + 3_333n * 7_200n;
      const span = before.end + 7_200n - t;
      const license = await f.market.getLicense(f.productId, f.buyer.address);
      expect(license.rate).to.equal(total / span);
      expect(license.releasedUntil).to.equal(t);
      expect(await f.market.claimableOf(f.buyer.address)).to.equal(total % span);
      expect((await f.market.escrowOf(f.productId, f.buyer.address)) + (total % span)).to.equal(total);
    });

    it("keeps a longer permission from another product when a shorter license is bought", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).createProduct(ethers.id("second"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [f.streamId] });
      const second = await f.market.productIdOf(f.seller.address, ethers.id("second"));
      await f.market.connect(f.buyer).buy(order(second, 20n * DAY), MAX);
      const longEnd = (await f.market.getLicense(second, f.buyer.address)).end;
      await expect(buyPlain(f, DAY)).to.not.emit(f.registry, "PermissionUpdated");
      expect(await f.market.licensedUntil(f.streamId, f.buyer.address)).to.equal(longEnd);
      expect((await f.registry.getPermission(f.streamId, f.buyer.address)).subscribeExpiry).to.equal(longEnd);
    });
  });

  describe("refuses a purchase", () => {
    it("of an unknown, paused or deleted product", async () => {
      const f = await loadFixture(marketFixture);
      const unknown = ethers.id("unknown");
      await expect(f.market.connect(f.buyer).buy(order(unknown, DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "UnknownProduct")
        .withArgs(unknown);
      await f.market.connect(f.seller).setPaused(f.productId, true);
      await expect(buyPlain(f)).to.be.revertedWithCustomError(f.market, "ProductNotOnSale").withArgs(f.productId, 2);
      await f.market.connect(f.seller).deleteProduct(f.productId);
      await expect(buyPlain(f)).to.be.revertedWithCustomError(f.market, "ProductNotOnSale").withArgs(f.productId, 3);
    });

    it("above the buyer's price limit (a price raised in front of it)", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).setPrice(f.productId, PRICE + 1n);
      await expect(f.market.connect(f.buyer).buy(order(f.productId, DAY), PRICE))
        .to.be.revertedWithCustomError(f.market, "PriceAboveLimit")
        .withArgs(PRICE + 1n, PRICE);
    });

    it("shorter than the product's minimum", async () => {
      const f = await loadFixture(marketFixture);
      await expect(buyPlain(f, 3_599n)).to.be.revertedWithCustomError(f.market, "LicenseTooShort").withArgs(3_599, 3_600);
    });

    it("leaving more than the product's maximum to run, also by extension", async () => {
      const f = await loadFixture(marketFixture);
      const max = BASE_PARAMS.maxSeconds;
      await expect(buyPlain(f, max + 1n))
        .to.be.revertedWithCustomError(f.market, "LicenseTooLong")
        .withArgs(max + 1n, max);
      await buyPlain(f, max - DAY);
      const end = (await f.market.getLicense(f.productId, f.buyer.address)).end;
      const at = (await now()) + 10n;
      await time.setNextBlockTimestamp(at);
      await expect(f.market.connect(f.buyer).extend(f.productId, Number(2n * DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "LicenseTooLong")
        .withArgs(end + 2n * DAY - at, max);
    });

    it("by a buyer without valid KYC when the product requires it", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).createProduct(ethers.id("kyc"), {
        ...BASE_PARAMS,
        beneficiary: f.seller.address,
        requiresKyc: true,
        resources: [f.streamId],
      });
      const kycProduct = await f.market.productIdOf(f.seller.address, ethers.id("kyc"));
      await expect(f.market.connect(f.buyer).buy(order(kycProduct, DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "KycRequired")
        .withArgs(f.buyer.address, 0);
      const validUntil = (await now()) + DAY;
      await expect(f.market.connect(f.kycProvider).setKyc(f.buyer.address, validUntil))
        .to.emit(f.market, "KycSet")
        .withArgs(f.buyer.address, f.kycProvider.address, validUntil);
      expect(await f.market.kycValidUntil(f.buyer.address)).to.equal(validUntil);
      await expect(f.market.connect(f.buyer).buy(order(kycProduct, DAY), MAX)).to.emit(f.market, "LicensePurchased");
      await time.increaseTo(validUntil);
      await expect(f.market.connect(f.buyer).extend(kycProduct, Number(DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "KycRequired")
        .withArgs(f.buyer.address, validUntil);
    });

    it("of KYC marks by anyone but a KYC provider", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.buyer).setKyc(f.buyer.address, 1n))
        .to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount")
        .withArgs(f.buyer.address, await f.market.KYC_PROVIDER_ROLE());
    });

    it("whose allowance is short", async () => {
      const f = await loadFixture(marketFixture);
      await f.token.connect(f.buyer).approve(await f.market.getAddress(), 1n);
      await expect(buyPlain(f))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(await f.market.getAddress(), 1n, 10n * DAY * PRICE);
    });
  });

  describe("buyWithPermit", () => {
    it("buys with an EIP-2612 permit in one transaction", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      await f.token.connect(f.buyer).approve(market, 0);
      const cost = DAY * PRICE;
      const deadline = (await now()) + 3_600n;
      const p = await signPermit(f.token, f.buyer, market, cost, deadline);
      const tx = f.market.connect(f.buyer).buyWithPermit(order(f.productId, DAY), PRICE, { value: cost, deadline, v: p.v, r: p.r, s: p.s });
      await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.market], [-cost, cost]);
      await expect(tx).to.emit(f.market, "LicensePurchased");
      expect(await f.token.allowance(f.buyer.address, market)).to.equal(0n);
    });

    it("goes on when the permit was front-run (allowance already set)", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      await f.token.connect(f.buyer).approve(market, 0);
      const cost = DAY * PRICE;
      const deadline = (await now()) + 3_600n;
      const p = await signPermit(f.token, f.buyer, market, cost, deadline);
      await f.token.connect(f.other).permit(f.buyer.address, market, cost, deadline, p.v, p.r, p.s);
      await expect(f.market.connect(f.buyer).buyWithPermit(order(f.productId, DAY), PRICE, { value: cost, deadline, v: p.v, r: p.r, s: p.s })).to.emit(
        f.market,
        "LicensePurchased",
      );
    });

    it("fails with the token's error when the permit is bad and no allowance exists", async () => {
      const f = await loadFixture(marketFixture);
      const market = await f.market.getAddress();
      await f.token.connect(f.buyer).approve(market, 0);
      await expect(
        f.market.connect(f.buyer).buyWithPermit(order(f.productId, DAY), PRICE, {
          value: DAY * PRICE,
          deadline: 0,
          v: 27,
          r: ethers.ZeroHash,
          s: ethers.ZeroHash,
        }),
      )
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(market, 0, DAY * PRICE);
    });
  });

  describe("transferAndCall (ERC-1363)", () => {
    it("buys for the payer in one transaction", async () => {
      const f = await loadFixture(marketFixture);
      const cost = DAY * PRICE;
      const tx = f.token.connect(f.buyer)["transferAndCall(address,uint256,bytes)"](await f.market.getAddress(), cost, encodeOrder(order(f.productId, DAY)));
      await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.market], [-cost, cost]);
      await expect(tx)
        .to.emit(f.market, "LicensePurchased")
        .withArgs(f.productId, f.buyer.address, ethers.ZeroHash, cost, (await now()) + DAY);
    });

    it("refuses a payment that is not exactly the cost (the tokens stay with the payer)", async () => {
      const f = await loadFixture(marketFixture);
      const cost = DAY * PRICE;
      for (const paid of [cost - 1n, cost + 1n]) {
        await expect(
          f.token.connect(f.buyer)["transferAndCall(address,uint256,bytes)"](await f.market.getAddress(), paid, encodeOrder(order(f.productId, DAY))),
        )
          .to.be.revertedWithCustomError(f.market, "PaymentMismatch")
          .withArgs(paid, cost);
      }
    });

    it("refuses a callback that does not come from the DATA token", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.buyer).onTransferReceived(f.buyer.address, f.buyer.address, DAY * PRICE, encodeOrder(order(f.productId, DAY))))
        .to.be.revertedWithCustomError(f.market, "OnlyDataToken")
        .withArgs(f.buyer.address);
    });
  });

  describe("consent-gated products", () => {
    it("extends under the license's current grant without a new attestation, never past the grant", async () => {
      const f = await loadFixture(marketFixture);
      const expiresAt = (await now()) + 30n * DAY;
      const a = await attest(f, f.buyer.address, f.consentProductId, { expiresAt });
      await f.market.connect(f.buyer).buy(order(f.consentProductId, 10n * DAY, a), MAX);
      await f.market.connect(f.buyer).extend(f.consentProductId, Number(10n * DAY), MAX);
      const end = (await f.market.getLicense(f.consentProductId, f.buyer.address)).end;
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(20n * DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "LicenseOutlivesConsent")
        .withArgs(end + 20n * DAY, expiresAt);
      await time.increaseTo(expiresAt);
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "ConsentRequired")
        .withArgs(f.consentProductId, f.buyer.address, expiresAt);
    });

    it("refuses a purchase without attestation when no license runs under a grant", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX))
        .to.be.revertedWithCustomError(f.market, "ConsentRequired")
        .withArgs(f.consentProductId, f.buyer.address, 0);
    });
  });

  describe("restoreAccess", () => {
    it("rewrites a valid license's end after an overlapping longer license was ended", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).createProduct(ethers.id("second"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [f.streamId] });
      const second = await f.market.productIdOf(f.seller.address, ethers.id("second"));
      await buyPlain(f, 5n * DAY);
      const shortEnd = (await f.market.getLicense(f.productId, f.buyer.address)).end;
      await f.market.connect(f.buyer).buy(order(second, 20n * DAY), MAX);
      await f.market.connect(f.buyer).flagBadData(second, ethers.id("bad"));
      await f.market.connect(f.arbiter).resolveDispute(second, f.buyer.address, true);
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(false);
      await expect(f.market.connect(f.other).restoreAccess(f.productId, f.buyer.address)).to.emit(f.registry, "PermissionUpdated");
      expect(await f.market.licensedUntil(f.streamId, f.buyer.address)).to.equal(shortEnd);
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(true);
      // Nothing to raise: no registry write.
      await expect(f.market.restoreAccess(f.productId, f.buyer.address)).to.not.emit(f.registry, "PermissionUpdated");
    });

    it("leaves access alone when the ended license was not the longest", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).createProduct(ethers.id("second"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [f.streamId] });
      const second = await f.market.productIdOf(f.seller.address, ethers.id("second"));
      await f.market.connect(f.buyer).buy(order(second, 20n * DAY), MAX);
      await buyPlain(f, 5n * DAY);
      await f.market.connect(f.buyer).flagBadData(f.productId, ethers.id("bad"));
      await expect(f.market.connect(f.arbiter).resolveDispute(f.productId, f.buyer.address, true)).to.not.emit(f.registry, "PermissionUpdated");
      expect(await f.market.hasValidLicense(f.buyer.address, f.streamId)).to.equal(true);
    });

    it("refuses without a valid license", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.restoreAccess(f.productId, f.buyer.address))
        .to.be.revertedWithCustomError(f.market, "NoValidLicense")
        .withArgs(f.productId, f.buyer.address);
      await buyPlain(f, DAY);
      await f.market.connect(f.buyer).flagBadData(f.productId, ethers.id("bad"));
      await f.market.restoreAccess(f.productId, f.buyer.address); // a disputed license is still valid
      await time.increase(2n * DAY);
      await expect(f.market.restoreAccess(f.productId, f.buyer.address))
        .to.be.revertedWithCustomError(f.market, "NoValidLicense")
        .withArgs(f.productId, f.buyer.address);
    });
  });
});
