// Gas scenario of the data-license market and karma: every market operation, including the two bars
// of issue 4 (permit + buy of a one-stream product with a 2-of-3 attestation <= 190,000; extension
// within the grant's validity with the allowance given <= 90,000).
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { gasOf, signPermit } from "../test/helpers/foundation";
import {
  BASE_PARAMS,
  DAY,
  UNIT,
  ATTESTOR_KEYS,
  deployMarketContracts,
  signAttestation,
  signRevocation,
  encodeOrder,
  NO_ATTESTATION,
} from "../test/market/helpers";

export default async function (record: (operation: string, gasUsed: bigint) => void): Promise<void> {
  const [admin, seller, buyer, buyer2, buyer3, arbiter, kyc, beneficiary, feeRecipient] = await ethers.getSigners();
  const { token, registry, karma, market } = await deployMarketContracts(admin);
  const marketAddress = await market.getAddress();
  const attestors = ATTESTOR_KEYS.map((k) => new ethers.Wallet(k));

  record("DataLicenseMarket::addAttestor", await gasOf(market.addAttestor(attestors[0].address)));
  for (const a of attestors.slice(1)) await market.addAttestor(a.address);
  record("DataLicenseMarket::setAttestorThreshold", await gasOf(market.setAttestorThreshold(2)));
  await market.addAttestor(admin.address);
  record("DataLicenseMarket::removeAttestor", await gasOf(market.removeAttestor(admin.address)));
  await market.grantRole(await market.ARBITER_ROLE(), arbiter.address);
  await market.grantRole(await market.KYC_PROVIDER_ROLE(), kyc.address);
  record("DataLicenseMarket::setKyc", await gasOf(market.connect(kyc).setKyc(buyer.address, 2n ** 40n)));

  await registry.connect(seller).createStream("/health/heart-rate", 1, "{}");
  const stream = await registry.resourceId(seller.address, "/health/heart-rate");
  await registry.connect(seller).setSubscribeDelegate(stream, marketAddress, true);
  const params = { ...BASE_PARAMS, beneficiary: beneficiary.address, requiresConsent: true, resources: [stream] };
  record("DataLicenseMarket::createProduct(1-resource)", await gasOf(market.connect(seller).createProduct(ethers.id("p"), params)));
  const productId = await market.productIdOf(seller.address, ethers.id("p"));
  record("DataLicenseMarket::setPurposes(1-purpose)", await gasOf(market.connect(seller).setPurposes(productId, [ethers.id("ScientificResearch")], true)));
  record("DataLicenseMarket::setPrice", await gasOf(market.connect(seller).setPrice(productId, BASE_PARAMS.pricePerSecond)));
  record("DataLicenseMarket::setBeneficiary", await gasOf(market.connect(seller).setBeneficiary(productId, beneficiary.address)));
  record("DataLicenseMarket::setPaused(true)", await gasOf(market.connect(seller).setPaused(productId, true)));
  await market.connect(seller).setPaused(productId, false);

  for (const b of [buyer, buyer2, buyer3]) await token.mint(b.address, 1_000_000n * UNIT);
  // The market already holds other buyers' escrow, as in operation.
  await token.connect(buyer2).approve(marketAddress, ethers.MaxUint256);

  let grants = 0;
  // Fixed times in calldata (grant expiry, permit deadline, revocation time) keep the figures
  // reproducible from run to run.
  const GRANT_EXPIRY = 2_000_000_000n + BigInt(grants);
  const attest = async (who: string) => {
    const attestation = {
      grantId: ethers.id(`fabric tx ${++grants}`),
      buyer: who,
      productId,
      purpose: ethers.id("ScientificResearch"),
      expiresAt: GRANT_EXPIRY + BigInt(grants),
    };
    return { attestation, signatures: await signAttestation(market, attestors.slice(0, 2), attestation) };
  };
  const duration = 30n * DAY;
  const cost = duration * BASE_PARAMS.pricePerSecond;

  {
    const a = await attest(buyer2.address);
    record(
      "DataLicenseMarket::buy(approve,1-stream,2-of-3-attestation)",
      await gasOf(market.connect(buyer2).buy({ productId, duration, ...a, encryptionKey: "0x" }, ethers.MaxUint256)),
    );
  }
  let buyerGrant: Awaited<ReturnType<typeof attest>> | undefined;
  {
    const a = await attest(buyer.address);
    buyerGrant = a;
    // As a wallet sends it: the exact price as limit, a permit of the exact cost.
    const deadline = 2_000_000_000n;
    const permit = await signPermit(token, buyer, marketAddress, cost, deadline);
    record(
      "DataLicenseMarket::buyWithPermit(1-stream,2-of-3-attestation)[bar<=190000]",
      await gasOf(
        market.connect(buyer).buyWithPermit({ productId, duration, ...a, encryptionKey: "0x" }, BASE_PARAMS.pricePerSecond, {
          value: cost,
          deadline,
          v: permit.v,
          r: permit.r,
          s: permit.s,
        }),
      ),
    );
  }
  {
    const a = await attest(buyer3.address);
    const key = "0x02" + "11".repeat(32);
    record(
      "DataLicenseMarket::transferAndCall-buy(1-stream,2-of-3-attestation,encryption-key)",
      await gasOf(
        token.connect(buyer3)["transferAndCall(address,uint256,bytes)"](marketAddress, cost, encodeOrder({ productId, duration, ...a, encryptionKey: key })),
      ),
    );
  }
  await token.connect(buyer).approve(marketAddress, ethers.MaxUint256);
  await time.increase(DAY);
  record(
    "DataLicenseMarket::extend(same-price,allowance-given)[bar<=90000]",
    await gasOf(market.connect(buyer).extend(productId, Number(DAY), BASE_PARAMS.pricePerSecond)),
  );
  record(
    "DataLicenseMarket::transferAndCall-extend(same-price)",
    await gasOf(
      token
        .connect(buyer3)
        ["transferAndCall(address,uint256,bytes)"](
          marketAddress,
          DAY * BASE_PARAMS.pricePerSecond,
          encodeOrder({ productId, duration: DAY, attestation: NO_ATTESTATION, signatures: "0x", encryptionKey: "0x" }),
        ),
    ),
  );
  await market.connect(seller).setPrice(productId, BASE_PARAMS.pricePerSecond * 2n);
  record("DataLicenseMarket::extend(new-price:release+blend)", await gasOf(market.connect(buyer2).extend(productId, Number(DAY), ethers.MaxUint256)));
  await time.increase(DAY);
  record("DataLicenseMarket::release", await gasOf(market.release(productId, buyer.address)));
  record("DataLicenseMarket::withdraw(seller-income)", await gasOf(market.connect(beneficiary).withdraw()));
  record("DataLicenseMarket::flagBadData", await gasOf(market.connect(buyer2).flagBadData(productId, ethers.id("evidence"))));
  record(
    "DataLicenseMarket::resolveDispute(upheld:refund,end,remove-access)",
    await gasOf(market.connect(arbiter).resolveDispute(productId, buyer2.address, true)),
  );
  await market.connect(buyer3).flagBadData(productId, ethers.id("evidence"));
  record("DataLicenseMarket::resolveDispute(rejected)", await gasOf(market.connect(arbiter).resolveDispute(productId, buyer3.address, false)));
  {
    // Revoke the buyer's current grant: ends the license, refunds, removes access.
    const { attestation, signatures: attestationSignatures } = buyerGrant!;
    const revocation = { grantId: attestation.grantId, revokedAt: 1_700_000_000n };
    const signatures = await signRevocation(market, attestors.slice(1, 3), revocation);
    record(
      "DataLicenseMarket::revokeConsent(running-license,1-stream)",
      await gasOf(market.revokeConsent(revocation, signatures, attestation, attestationSignatures)),
    );
  }
  {
    const unused = await attest(feeRecipient.address);
    const revocation = { grantId: unused.attestation.grantId, revokedAt: 1_700_000_000n };
    const signatures = await signRevocation(market, attestors.slice(0, 2), revocation);
    record(
      "DataLicenseMarket::revokeConsent(grant-never-used)",
      await gasOf(market.revokeConsent(revocation, signatures, unused.attestation, unused.signatures)),
    );
  }
  record("DataLicenseMarket::withdraw(buyer-refund)", await gasOf(market.connect(buyer).withdraw()));
  await market.setProtocolFee(100, feeRecipient.address);
  record("DataLicenseMarket::setProtocolFee", await gasOf(market.setProtocolFee(200, feeRecipient.address)));
  await time.increase(DAY);
  await market.release(productId, buyer3.address);
  {
    const a = await attest(buyer.address);
    await market.connect(buyer).buy({ productId, duration, ...a, encryptionKey: "0x" }, ethers.MaxUint256);
    await time.increase(DAY);
    record("DataLicenseMarket::release(with-fee)", await gasOf(market.release(productId, buyer.address)));
  }
  record("DataLicenseMarket::withdrawFees", await gasOf(market.withdrawFees()));
  await token.connect(buyer).transfer(marketAddress, UNIT);
  record("DataLicenseMarket::sweepSurplus", await gasOf(market.sweepSurplus(admin.address)));
  record("DataLicenseMarket::restoreAccess(nothing-to-raise)", await gasOf(market.restoreAccess(productId, buyer.address)));
  record("DataLicenseMarket::setDeliveryOracle", await gasOf(market.setDeliveryOracle(ethers.ZeroAddress)));
  record("DataLicenseMarket::deleteProduct", await gasOf(market.connect(seller).deleteProduct(productId)));

  await karma.grantRole(await karma.REPORTER_ROLE(), admin.address);
  record("Karma::addKarma(new-account)", await gasOf(karma.addKarma(feeRecipient.address, UNIT)));
  await time.increase(DAY);
  record("Karma::addKarma(existing,decayed)", await gasOf(karma.addKarma(feeRecipient.address, UNIT)));
  record("Karma::addExchangeKarma(existing,existing)", await gasOf(karma.addExchangeKarma(feeRecipient.address, buyer.address, UNIT)));
  record("Karma::recordFlagRaised", await gasOf(karma.recordFlagRaised(feeRecipient.address)));
  record("Karma::recordFlagUpheld", await gasOf(karma.recordFlagUpheld(feeRecipient.address)));
  record("Karma::setFlagPenaltyBps", await gasOf(karma.setFlagPenaltyBps(2_000)));
}
