// Consent attestations and revocations of the data-license market: k-of-n EIP-712 signatures of the
// registered attestors, single-use grants, revocations relayed by anyone, and the attestor set.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { marketFixture, order, attest, now, signRevocation, signAttestation, deployMarketContracts, DAY, PRICE, MarketFixture } from "./helpers";

const MAX = ethers.MaxUint256;

async function buyWithConsent(f: MarketFixture, duration = 10n * DAY, options: Parameters<typeof attest>[3] = {}) {
  const a = await attest(f, f.buyer.address, f.consentProductId, options);
  await f.market.connect(f.buyer).buy(order(f.consentProductId, duration, a), MAX);
  return a;
}

describe("DataLicenseMarket: consent", () => {
  describe("attestations in the purchase", () => {
    it("accepts 2 of 3 attestor signatures, in any order, and records the grant on the license", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[2], f.attestors[0]] });
      const tx = await f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX);
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      expect(license.end).to.equal((await now()) + DAY);
      await expect(tx)
        .to.emit(f.market, "LicensePurchased")
        .withArgs(f.consentProductId, f.buyer.address, a.attestation.grantId, DAY * PRICE, license.end);
      expect(license.grantExpiry).to.equal(a.attestation.expiresAt);
      expect(license.grantTag).to.equal(BigInt(a.attestation.grantId) & 0xffffn);
      expect((await f.registry.getPermission(f.datasetId, f.buyer.address)).subscribeExpiry).to.equal(license.end);
      expect(await f.registry.canSubscribe(f.datasetId, f.buyer.address)).to.equal(true);
    });

    it("accepts more signatures than needed and counts a repeated attestor once", async () => {
      const f = await loadFixture(marketFixture);
      const { attestation } = await attest(f, f.buyer.address, f.consentProductId);
      const signatures = await signAttestation(f.market, [f.attestors[1], f.attestors[1], f.attestors[2]], attestation);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, { attestation, signatures }), MAX)).to.emit(f.market, "LicensePurchased");
    });

    it("refuses an attestation for another buyer", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.other.address, f.consentProductId);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "AttestationBuyerMismatch")
        .withArgs(a.attestation.grantId, f.other.address, f.buyer.address);
    });

    it("refuses an attestation for another product", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.productId);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "AttestationProductMismatch")
        .withArgs(a.attestation.grantId, f.productId, f.consentProductId);
    });

    it("refuses a purchase whose consent attestation has expired", async () => {
      const f = await loadFixture(marketFixture);
      const expiresAt = (await now()) + DAY;
      const a = await attest(f, f.buyer.address, f.consentProductId, { expiresAt });
      await time.setNextBlockTimestamp(expiresAt);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, 3_600n, a), MAX))
        .to.be.revertedWithCustomError(f.market, "AttestationExpired")
        .withArgs(a.attestation.grantId, expiresAt, expiresAt);
    });

    it("refuses a license that would outlive the grant", async () => {
      const f = await loadFixture(marketFixture);
      const expiresAt = (await now()) + DAY;
      const a = await attest(f, f.buyer.address, f.consentProductId, { expiresAt });
      await time.setNextBlockTimestamp((await now()) + 10n);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "LicenseOutlivesConsent")
        .withArgs((await now()) + 10n + DAY, expiresAt);
    });

    it("refuses a reused grant (single use)", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantAlreadyUsed")
        .withArgs(a.attestation.grantId);
      // Even after the license expired.
      await time.increase(2n * DAY);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantAlreadyUsed")
        .withArgs(a.attestation.grantId);
    });

    it("refuses a grant that does not expire after the license's grant floor", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY);
      const older = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: a.attestation.expiresAt - 1n });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, older), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantNotNewer")
        .withArgs(older.attestation.grantId, a.attestation.expiresAt - 1n, a.attestation.expiresAt);
      const same = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: a.attestation.expiresAt });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, same), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantNotNewer")
        .withArgs(same.attestation.grantId, a.attestation.expiresAt, a.attestation.expiresAt);
    });

    it("moves a running license to a newer grant", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY, { expiresAt: (await now()) + 2n * DAY });
      const newer = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: a.attestation.expiresAt + 30n * DAY });
      await f.market.connect(f.buyer).buy(order(f.consentProductId, 10n * DAY, newer), MAX);
      expect((await f.market.getLicense(f.consentProductId, f.buyer.address)).grantExpiry).to.equal(newer.attestation.expiresAt);
    });

    it("refuses a grant expiry beyond uint40", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: 2n ** 40n });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "SafeCastOverflowedUintDowncast")
        .withArgs(40, 2n ** 40n);
    });

    describe("refuses signatures", () => {
      it("from too few distinct attestors", async () => {
        const f = await loadFixture(marketFixture);
        const one = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[0]] });
        await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, one), MAX))
          .to.be.revertedWithCustomError(f.market, "InsufficientAttestorSignatures")
          .withArgs(1, 2);
        const twice = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[0], f.attestors[0]] });
        await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, twice), MAX))
          .to.be.revertedWithCustomError(f.market, "InsufficientAttestorSignatures")
          .withArgs(1, 2);
      });

      it("of an address that is not an attestor", async () => {
        const f = await loadFixture(marketFixture);
        const stranger = ethers.Wallet.createRandom();
        const a = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[0], stranger] });
        await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
          .to.be.revertedWithCustomError(f.market, "NotAnAttestor")
          .withArgs(1, stranger.address);
      });

      it("over other data (a signature of another attestation recovers to a stranger)", async () => {
        const f = await loadFixture(marketFixture);
        const a = await attest(f, f.buyer.address, f.consentProductId);
        const changed = { ...a.attestation, expiresAt: a.attestation.expiresAt + 1n };
        const tx = f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, { attestation: changed, signatures: a.signatures }), MAX);
        await expect(tx).to.be.revertedWithCustomError(f.market, "NotAnAttestor");
      });

      it("that do not recover", async () => {
        const f = await loadFixture(marketFixture);
        const a = await attest(f, f.buyer.address, f.consentProductId);
        const broken = a.signatures.slice(0, 2 + 128) + "1f" + a.signatures.slice(2 + 130);
        await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, { ...a, signatures: broken }), MAX))
          .to.be.revertedWithCustomError(f.market, "InvalidSignature")
          .withArgs(0);
      });

      it("of a malformed length", async () => {
        const f = await loadFixture(marketFixture);
        const a = await attest(f, f.buyer.address, f.consentProductId);
        for (const signatures of ["0x", a.signatures.slice(0, -2), "0x" + "11".repeat(65 * 17)]) {
          await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, { ...a, signatures }), MAX))
            .to.be.revertedWithCustomError(f.market, "MalformedSignatures")
            .withArgs((signatures.length - 2) / 2);
        }
      });

      it("while no attestor threshold is configured", async () => {
        const [admin, seller, buyer] = await ethers.getSigners();
        const { registry, market, token } = await deployMarketContracts(admin);
        await registry.connect(seller).createStream("/s", 1, "{}");
        const id = await registry.resourceId(seller.address, "/s");
        await registry.connect(seller).setSubscribeDelegate(id, await market.getAddress(), true);
        await market.connect(seller).createProduct(ethers.id("c"), {
          beneficiary: seller.address,
          pricePerSecond: 1,
          minSeconds: 1,
          maxSeconds: 1000,
          requiresConsent: true,
          requiresKyc: false,
          termsHash: ethers.ZeroHash,
          termsUri: "",
          resources: [id],
        });
        const productId = await market.productIdOf(seller.address, ethers.id("c"));
        const purpose = ethers.id("ScientificResearch");
        await market.connect(seller).setPurposes(productId, [purpose], true);
        const attestation = { grantId: ethers.id("g"), buyer: buyer.address, productId, purpose, expiresAt: (await now()) + DAY };
        const signatures = await signAttestation(market, [ethers.Wallet.createRandom()], attestation);
        expect(await token.balanceOf(buyer.address)).to.equal(0n);
        await expect(market.connect(buyer).buy({ productId, duration: 10n, attestation, signatures, encryptionKey: "0x" }, MAX))
          .to.be.revertedWithCustomError(market, "InsufficientAttestorSignatures")
          .withArgs(0, 0);
      });
    });
  });

  describe("revocations", () => {
    async function revoke(f: MarketFixture, a: Awaited<ReturnType<typeof attest>>, revokedAt: bigint, signers = f.attestors.slice(1, 3)) {
      const revocation = { grantId: a.attestation.grantId, revokedAt };
      const signatures = await signRevocation(f.market, signers, revocation);
      return f.market.connect(f.other).revokeConsent(revocation, signatures, a.attestation, a.signatures);
    }

    it("suspends the license at once, refunds the unearned part and removes the subscribe permission", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      await time.increase(2n * DAY);
      const revokedAt = (await now()) - DAY; // withdrawn on the ledger a day before the relay
      const tx = revoke(f, a, revokedAt);
      await expect(tx).to.emit(f.market, "ConsentRevoked").withArgs(a.attestation.grantId, f.consentProductId, f.buyer.address, revokedAt, true);
      await expect(tx)
        .to.emit(f.market, "EscrowReleased")
        .withArgs(f.consentProductId, f.buyer.address, f.beneficiary.address, PRICE * (revokedAt - license.releasedUntil), 0, revokedAt);
      await expect(tx)
        .to.emit(f.market, "Refunded")
        .withArgs(f.consentProductId, f.buyer.address, PRICE * (license.end - revokedAt));
      await expect(tx).to.emit(f.registry, "PermissionUpdated");
      const t = await now();
      const ended = await f.market.getLicense(f.consentProductId, f.buyer.address);
      expect(ended.status).to.equal(3n);
      expect(ended.end).to.equal(t);
      expect(await f.market.escrowOf(f.consentProductId, f.buyer.address)).to.equal(0n);
      expect(await f.market.claimableOf(f.buyer.address)).to.equal(PRICE * (license.end - revokedAt));
      expect(await f.market.hasValidLicense(f.buyer.address, f.datasetId)).to.equal(false);
      expect((await f.registry.getPermission(f.datasetId, f.buyer.address)).subscribeExpiry).to.equal(0n);
      expect(await f.registry.canSubscribe(f.datasetId, f.buyer.address)).to.equal(false);
      // The grant can never be used again, and an extension needs a new grant.
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantAlreadyUsed")
        .withArgs(a.attestation.grantId);
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX)).to.be.revertedWithCustomError(f.market, "ConsentRequired");
      // A fresh consent starts a new license.
      const fresh = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: a.attestation.expiresAt + 1n });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, fresh), MAX)).to.emit(f.market, "LicensePurchased");
    });

    it("cuts off at the last release when consent was withdrawn before it", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      const start = (await f.market.getLicense(f.consentProductId, f.buyer.address)).releasedUntil;
      await time.increase(DAY);
      await f.market.release(f.consentProductId, f.buyer.address);
      const released = (await f.market.getLicense(f.consentProductId, f.buyer.address)).releasedUntil;
      await expect(revoke(f, a, start)).to.not.emit(f.market, "EscrowReleased");
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      expect(await f.market.claimableOf(f.buyer.address)).to.equal(PRICE * (start + 10n * DAY - released));
      expect(license.status).to.equal(3n);
    });

    it("refunds the unearned time of a license that ran out before the relay (no access left to remove)", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY);
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      await time.increase(3n * DAY);
      const revokedAt = license.end - 3_600n;
      const tx = revoke(f, a, revokedAt);
      await expect(tx).to.not.emit(f.registry, "PermissionUpdated");
      await expect(tx)
        .to.emit(f.market, "Refunded")
        .withArgs(f.consentProductId, f.buyer.address, 3_600n * PRICE);
      const second = await now();
      await expect(revoke(f, a, second))
        .to.emit(f.market, "ConsentRevoked")
        .withArgs(a.attestation.grantId, f.consentProductId, f.buyer.address, second, false);
    });

    it("caps the cut-off at the license end when consent was withdrawn after it", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY);
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      await time.increase(3n * DAY);
      await expect(revoke(f, a, await now())).to.not.emit(f.market, "Refunded");
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(PRICE * (license.end - license.releasedUntil));
    });

    it("blocks a grant never used on Ethereum", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId);
      const at = await now();
      await expect(revoke(f, a, at))
        .to.emit(f.market, "ConsentRevoked")
        .withArgs(a.attestation.grantId, f.consentProductId, f.buyer.address, at, false);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "GrantAlreadyUsed")
        .withArgs(a.attestation.grantId);
    });

    it("leaves a license running under a newer grant when an older grant is revoked", async () => {
      const f = await loadFixture(marketFixture);
      const old = await buyWithConsent(f, DAY, { expiresAt: (await now()) + 5n * DAY });
      const newer = await attest(f, f.buyer.address, f.consentProductId, { expiresAt: old.attestation.expiresAt + 10n * DAY });
      await f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, newer), MAX);
      const at = await now();
      await expect(revoke(f, old, at))
        .to.emit(f.market, "ConsentRevoked")
        .withArgs(old.attestation.grantId, f.consentProductId, f.buyer.address, at, false);
      expect((await f.market.getLicense(f.consentProductId, f.buyer.address)).status).to.equal(1n);
    });

    it("cuts a disputed license at the withdrawal and leaves the frozen escrow to the arbiter", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      const license = await f.market.getLicense(f.consentProductId, f.buyer.address);
      await time.increase(DAY);
      await f.market.connect(f.buyer).flagBadData(f.consentProductId, ethers.id("bad"));
      const flaggedAt = await now();
      await time.increase(DAY);
      const revokedAt = flaggedAt + 3_600n;
      const tx = revoke(f, a, revokedAt);
      await expect(tx).to.emit(f.market, "ConsentRevoked").withArgs(a.attestation.grantId, f.consentProductId, f.buyer.address, revokedAt, true);
      await expect(tx)
        .to.emit(f.market, "Refunded")
        .withArgs(f.consentProductId, f.buyer.address, PRICE * (license.end - revokedAt));
      await expect(tx).to.not.emit(f.market, "EscrowReleased");
      const cut = await f.market.getLicense(f.consentProductId, f.buyer.address);
      expect(cut.status).to.equal(4n);
      expect(cut.end).to.equal(revokedAt);
      expect(await f.market.escrowOf(f.consentProductId, f.buyer.address)).to.equal(PRICE * 3_600n);
      expect(await f.market.hasValidLicense(f.buyer.address, f.datasetId)).to.equal(false);
      for (const call of [
        () => f.market.release(f.consentProductId, f.buyer.address),
        () => f.market.connect(f.buyer).flagBadData(f.consentProductId, ethers.id("again")),
        () => f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(f.market, "LicenseDisputed").withArgs(f.consentProductId, f.buyer.address);
      }
      await expect(revoke(f, a, revokedAt))
        .to.emit(f.market, "ConsentRevoked")
        .withArgs(a.attestation.grantId, f.consentProductId, f.buyer.address, revokedAt, false);
    });

    it("cuts a disputed license that ran out during the dispute (no access left to remove)", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, DAY);
      await f.market.connect(f.buyer).flagBadData(f.consentProductId, ethers.id("bad"));
      const flaggedAt = await now();
      await time.increase(2n * DAY);
      const tx = revoke(f, a, flaggedAt + 60n);
      await expect(tx).to.emit(f.market, "ConsentRevoked");
      await expect(tx).to.not.emit(f.registry, "PermissionUpdated");
      expect((await f.market.getLicense(f.consentProductId, f.buyer.address)).status).to.equal(4n);
      expect(await f.market.escrowOf(f.consentProductId, f.buyer.address)).to.equal(PRICE * 60n);
    });

    it("an upheld flag refunds the frozen escrow of a license cut by a revocation", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      await f.market.connect(f.buyer).flagBadData(f.consentProductId, ethers.id("bad"));
      const flaggedAt = await now();
      await time.increase(DAY);
      await revoke(f, a, flaggedAt + 100n);
      await expect(f.market.connect(f.arbiter).resolveDispute(f.consentProductId, f.buyer.address, true))
        .to.emit(f.market, "DisputeResolved")
        .withArgs(f.consentProductId, f.buyer.address, f.arbiter.address, true, PRICE * 100n);
      expect((await f.market.getLicense(f.consentProductId, f.buyer.address)).status).to.equal(3n);
      expect(await f.market.escrowOf(f.consentProductId, f.buyer.address)).to.equal(0n);
    });

    it("a rejected flag releases the frozen escrow of a license cut by a revocation and ends it", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      await f.market.connect(f.buyer).flagBadData(f.consentProductId, ethers.id("bad"));
      const flaggedAt = await now();
      const income = await f.market.claimableOf(f.beneficiary.address);
      await time.increase(DAY);
      await revoke(f, a, flaggedAt + 100n);
      await expect(f.market.connect(f.arbiter).resolveDispute(f.consentProductId, f.buyer.address, false))
        .to.emit(f.market, "EscrowReleased")
        .withArgs(f.consentProductId, f.buyer.address, f.beneficiary.address, PRICE * 100n, 0, flaggedAt + 100n);
      expect(await f.market.claimableOf(f.beneficiary.address)).to.equal(income + PRICE * 100n);
      expect((await f.market.getLicense(f.consentProductId, f.buyer.address)).status).to.equal(3n);
      await expect(f.market.connect(f.buyer).extend(f.consentProductId, Number(DAY), MAX)).to.be.revertedWithCustomError(f.market, "ConsentRequired");
    });

    it("ends the license even when the registry refuses to remove the permission", async () => {
      const f = await loadFixture(marketFixture);
      const a = await buyWithConsent(f, 10n * DAY);
      await f.registry.connect(f.seller).setSubscribeDelegate(f.datasetId, await f.market.getAddress(), false);
      const tx = revoke(f, a, await now());
      await expect(tx).to.emit(f.market, "AccessRemovalFailed");
      await expect(tx).to.emit(f.market, "ConsentRevoked");
      expect(await f.market.hasValidLicense(f.buyer.address, f.datasetId)).to.equal(false);
    });

    it("refuses a revocation dated in the future", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId);
      const at = (await now()) + 100n;
      const revokedAt = at + 1_000n;
      const revocation = { grantId: a.attestation.grantId, revokedAt };
      const signatures = await signRevocation(f.market, f.attestors.slice(0, 2), revocation);
      await time.setNextBlockTimestamp(at);
      await expect(f.market.revokeConsent(revocation, signatures, a.attestation, a.signatures))
        .to.be.revertedWithCustomError(f.market, "RevocationInFuture")
        .withArgs(revokedAt, at);
    });

    it("refuses a revocation with the attestation of another grant", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId);
      const b = await attest(f, f.buyer.address, f.consentProductId);
      const revocation = { grantId: a.attestation.grantId, revokedAt: await now() };
      const signatures = await signRevocation(f.market, f.attestors.slice(0, 2), revocation);
      await expect(f.market.revokeConsent(revocation, signatures, b.attestation, b.signatures))
        .to.be.revertedWithCustomError(f.market, "GrantMismatch")
        .withArgs(a.attestation.grantId);
    });

    it("refuses a revocation or an attestation signed by too few attestors", async () => {
      const f = await loadFixture(marketFixture);
      const a = await attest(f, f.buyer.address, f.consentProductId);
      await expect(revoke(f, a, await now(), [f.attestors[0]]))
        .to.be.revertedWithCustomError(f.market, "InsufficientAttestorSignatures")
        .withArgs(1, 2);
      const weak = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[2]] });
      await expect(revoke(f, weak, await now()))
        .to.be.revertedWithCustomError(f.market, "InsufficientAttestorSignatures")
        .withArgs(1, 2);
    });
  });

  describe("attestor set (governance)", () => {
    it("adds, removes (swap and pop) and sets the threshold, with events", async () => {
      const f = await loadFixture(marketFixture);
      const [a0, a1, a2] = f.attestors.map((w) => w.address);
      expect(await f.market.attestors()).to.deep.equal([a0, a1, a2]);
      expect(await f.market.attestorThreshold()).to.equal(2n);
      const extra = ethers.Wallet.createRandom().address;
      await expect(f.market.addAttestor(extra)).to.emit(f.market, "AttestorAdded").withArgs(extra);
      await expect(f.market.setAttestorThreshold(3)).to.emit(f.market, "AttestorThresholdSet").withArgs(3);
      await expect(f.market.removeAttestor(a0)).to.emit(f.market, "AttestorRemoved").withArgs(a0);
      expect(await f.market.attestors()).to.deep.equal([extra, a1, a2]);
      // The moved attestor still signs.
      const a = await attest(f, f.buyer.address, f.consentProductId, { signers: [f.attestors[1], f.attestors[2]] });
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX))
        .to.be.revertedWithCustomError(f.market, "InsufficientAttestorSignatures")
        .withArgs(2, 3);
      await f.market.setAttestorThreshold(2);
      await expect(f.market.connect(f.buyer).buy(order(f.consentProductId, DAY, a), MAX)).to.emit(f.market, "LicensePurchased");
      const removed = await attest(f, f.other.address, f.consentProductId, { signers: [f.attestors[0], f.attestors[1]] });
      await expect(f.market.connect(f.other).buy(order(f.consentProductId, DAY, removed), MAX))
        .to.be.revertedWithCustomError(f.market, "NotAnAttestor")
        .withArgs(0, a0);
    });

    it("refuses a zero or duplicate attestor, and more than MAX_ATTESTORS", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.addAttestor(ethers.ZeroAddress)).to.be.revertedWithCustomError(f.market, "InvalidAttestor").withArgs(ethers.ZeroAddress);
      await expect(f.market.addAttestor(f.attestors[0].address)).to.be.revertedWithCustomError(f.market, "InvalidAttestor").withArgs(f.attestors[0].address);
      for (let i = 3; i < 16; i++) await f.market.addAttestor(ethers.Wallet.createRandom().address);
      expect(await f.market.MAX_ATTESTORS()).to.equal(16n);
      await expect(f.market.addAttestor(ethers.Wallet.createRandom().address)).to.be.revertedWithCustomError(f.market, "TooManyAttestors").withArgs(16);
    });

    it("refuses removing an unknown attestor or going below the threshold", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.removeAttestor(f.other.address)).to.be.revertedWithCustomError(f.market, "UnknownAttestor").withArgs(f.other.address);
      await f.market.removeAttestor(f.attestors[0].address);
      await expect(f.market.removeAttestor(f.attestors[1].address)).to.be.revertedWithCustomError(f.market, "InvalidThreshold").withArgs(2, 1);
    });

    it("refuses a threshold of 0 or above the attestor count", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.setAttestorThreshold(0)).to.be.revertedWithCustomError(f.market, "InvalidThreshold").withArgs(0, 3);
      await expect(f.market.setAttestorThreshold(4)).to.be.revertedWithCustomError(f.market, "InvalidThreshold").withArgs(4, 3);
    });

    it("is governance only", async () => {
      const f = await loadFixture(marketFixture);
      const role = await f.market.DEFAULT_ADMIN_ROLE();
      for (const call of [
        () => f.market.connect(f.other).addAttestor(f.other.address),
        () => f.market.connect(f.other).removeAttestor(f.attestors[0].address),
        () => f.market.connect(f.other).setAttestorThreshold(1),
        () => f.market.connect(f.other).setProtocolFee(1, f.other.address),
        () => f.market.connect(f.other).setDeliveryOracle(f.other.address),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(f.market, "AccessControlUnauthorizedAccount").withArgs(f.other.address, role);
      }
    });
  });
});
