// The product catalogue of the data-license market: listing, price, beneficiary, pause, delete.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { marketFixture, BASE_PARAMS, PRICE } from "./helpers";

describe("DataLicenseMarket: products", () => {
  it("lists a product with its terms and gates, emitting every field", async () => {
    const f = await loadFixture(marketFixture);
    const salt = ethers.id("new");
    const productId = await f.market.productIdOf(f.seller.address, salt);
    expect(productId).to.equal(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [f.seller.address, salt])));
    const params = { ...BASE_PARAMS, beneficiary: f.beneficiary.address, requiresKyc: true, resources: [f.streamId, f.datasetId] };
    await expect(f.market.connect(f.seller).createProduct(salt, params))
      .to.emit(f.market, "ProductCreated")
      .withArgs(
        productId,
        f.seller.address,
        f.beneficiary.address,
        PRICE,
        BASE_PARAMS.minSeconds,
        BASE_PARAMS.maxSeconds,
        false,
        true,
        BASE_PARAMS.termsHash,
        BASE_PARAMS.termsUri,
        [f.streamId, f.datasetId],
      );
    const product = await f.market.getProduct(productId);
    expect(product.seller).to.equal(f.seller.address);
    expect(product.pricePerSecond).to.equal(PRICE);
    expect(product.beneficiary).to.equal(f.beneficiary.address);
    expect(product.minSeconds).to.equal(BASE_PARAMS.minSeconds);
    expect(product.maxSeconds).to.equal(BASE_PARAMS.maxSeconds);
    expect(product.requiresConsent).to.equal(false);
    expect(product.requiresKyc).to.equal(true);
    expect(product.state).to.equal(1n);
    expect(product.resourceCount).to.equal(2n);
    expect(product.termsHash).to.equal(BASE_PARAMS.termsHash);
    expect(await f.market.productResources(productId)).to.deep.equal([f.streamId, f.datasetId]);
  });

  it("reads an unknown product as state None with no resources", async () => {
    const f = await loadFixture(marketFixture);
    expect((await f.market.getProduct(ethers.id("nothing"))).state).to.equal(0n);
    expect(await f.market.productResources(ethers.id("nothing"))).to.deep.equal([]);
  });

  describe("refuses a listing", () => {
    it("whose id exists (ids are never reused, even after deletion)", async () => {
      const f = await loadFixture(marketFixture);
      await f.market.connect(f.seller).deleteProduct(f.productId);
      await expect(f.market.connect(f.seller).createProduct(ethers.id("plain"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [f.streamId] }))
        .to.be.revertedWithCustomError(f.market, "ProductExists")
        .withArgs(f.productId);
    });

    it("with no resource or more than MAX_RESOURCES", async () => {
      const f = await loadFixture(marketFixture);
      const base = { ...BASE_PARAMS, beneficiary: f.seller.address };
      await expect(f.market.connect(f.seller).createProduct(ethers.id("x"), { ...base, resources: [] }))
        .to.be.revertedWithCustomError(f.market, "InvalidResourceCount")
        .withArgs(0);
      const many = Array.from({ length: 17 }, (_, i) => ethers.id(`r${i}`));
      await expect(f.market.connect(f.seller).createProduct(ethers.id("x"), { ...base, resources: many }))
        .to.be.revertedWithCustomError(f.market, "InvalidResourceCount")
        .withArgs(17);
      expect(await f.market.MAX_RESOURCES()).to.equal(16n);
    });

    it("without beneficiary", async () => {
      const f = await loadFixture(marketFixture);
      await expect(
        f.market.connect(f.seller).createProduct(ethers.id("x"), { ...BASE_PARAMS, beneficiary: ethers.ZeroAddress, resources: [f.streamId] }),
      ).to.be.revertedWithCustomError(f.market, "ZeroBeneficiary");
    });

    it("with a zero minimum or a minimum above the maximum", async () => {
      const f = await loadFixture(marketFixture);
      const base = { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [f.streamId] };
      await expect(f.market.connect(f.seller).createProduct(ethers.id("x"), { ...base, minSeconds: 0 }))
        .to.be.revertedWithCustomError(f.market, "InvalidLicenseBounds")
        .withArgs(0, BASE_PARAMS.maxSeconds);
      await expect(f.market.connect(f.seller).createProduct(ethers.id("x"), { ...base, minSeconds: 10, maxSeconds: 9 }))
        .to.be.revertedWithCustomError(f.market, "InvalidLicenseBounds")
        .withArgs(10, 9);
    });

    it("with a resource twice", async () => {
      const f = await loadFixture(marketFixture);
      await expect(
        f.market.connect(f.seller).createProduct(ethers.id("x"), {
          ...BASE_PARAMS,
          beneficiary: f.seller.address,
          resources: [f.streamId, f.datasetId, f.streamId],
        }),
      )
        .to.be.revertedWithCustomError(f.market, "DuplicateResource")
        .withArgs(f.streamId);
    });

    it("of a resource the caller does not own (or that does not exist)", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.other).createProduct(ethers.id("x"), { ...BASE_PARAMS, beneficiary: f.other.address, resources: [f.streamId] }))
        .to.be.revertedWithCustomError(f.market, "NotResourceOwner")
        .withArgs(f.streamId, f.other.address, f.seller.address);
      const missing = ethers.id("missing");
      await expect(f.market.connect(f.other).createProduct(ethers.id("x"), { ...BASE_PARAMS, beneficiary: f.other.address, resources: [missing] }))
        .to.be.revertedWithCustomError(f.market, "NotResourceOwner")
        .withArgs(missing, f.other.address, ethers.ZeroAddress);
    });

    it("of a resource whose owner has not delegated subscribe grants to the market", async () => {
      const f = await loadFixture(marketFixture);
      await f.registry.connect(f.seller).createStream("/other", 1, "{}");
      const id = await f.registry.resourceId(f.seller.address, "/other");
      await expect(f.market.connect(f.seller).createProduct(ethers.id("x"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [id] }))
        .to.be.revertedWithCustomError(f.market, "MarketNotDelegate")
        .withArgs(id);
    });
  });

  it("accepts a resource on which the market holds the full grant permission", async () => {
    const f = await loadFixture(marketFixture);
    await f.registry.connect(f.seller).createStream("/granted", 1, "{}");
    const id = await f.registry.resourceId(f.seller.address, "/granted");
    await f.registry.connect(f.seller).setPermission(id, await f.market.getAddress(), {
      publishExpiry: 0,
      subscribeExpiry: 0,
      canGrant: true,
      canEdit: false,
      canDelete: false,
      canGrantSubscribe: false,
    });
    await expect(f.market.connect(f.seller).createProduct(ethers.id("g"), { ...BASE_PARAMS, beneficiary: f.seller.address, resources: [id] })).to.emit(
      f.market,
      "ProductCreated",
    );
  });

  describe("seller management", () => {
    it("updates the price of future sales", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.seller).setPrice(f.productId, 7n)).to.emit(f.market, "ProductPriceUpdated").withArgs(f.productId, PRICE, 7n);
      expect((await f.market.getProduct(f.productId)).pricePerSecond).to.equal(7n);
      expect(await f.market.quote(f.productId, 100n)).to.equal(700n);
    });

    it("changes the beneficiary, never to address(0)", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.seller).setBeneficiary(f.productId, f.other.address))
        .to.emit(f.market, "ProductBeneficiaryUpdated")
        .withArgs(f.productId, f.other.address);
      expect((await f.market.getProduct(f.productId)).beneficiary).to.equal(f.other.address);
      await expect(f.market.connect(f.seller).setBeneficiary(f.productId, ethers.ZeroAddress)).to.be.revertedWithCustomError(f.market, "ZeroBeneficiary");
    });

    it("pauses and resumes sales, then deletes for good", async () => {
      const f = await loadFixture(marketFixture);
      await expect(f.market.connect(f.seller).setPaused(f.productId, true)).to.emit(f.market, "ProductStateChanged").withArgs(f.productId, 2);
      await expect(f.market.connect(f.seller).setPaused(f.productId, false)).to.emit(f.market, "ProductStateChanged").withArgs(f.productId, 1);
      await expect(f.market.connect(f.seller).deleteProduct(f.productId)).to.emit(f.market, "ProductStateChanged").withArgs(f.productId, 3);
      for (const call of [
        () => f.market.connect(f.seller).setPaused(f.productId, false),
        () => f.market.connect(f.seller).setPrice(f.productId, 1n),
        () => f.market.connect(f.seller).deleteProduct(f.productId),
      ]) {
        await expect(call()).to.be.revertedWithCustomError(f.market, "ProductNotOnSale").withArgs(f.productId, 3);
      }
      // A deleted product's beneficiary can still change: its licenses keep releasing.
      await expect(f.market.connect(f.seller).setBeneficiary(f.productId, f.other.address)).to.emit(f.market, "ProductBeneficiaryUpdated");
    });

    it("refuses management by anyone but the seller, and of an unknown product", async () => {
      const f = await loadFixture(marketFixture);
      const unknown = ethers.id("unknown");
      for (const [name, args] of [
        ["setPrice", [1n]],
        ["setBeneficiary", [f.other.address]],
        ["setPaused", [true]],
        ["deleteProduct", []],
      ] as const) {
        await expect((f.market.connect(f.other) as any)[name](f.productId, ...args))
          .to.be.revertedWithCustomError(f.market, "NotSeller")
          .withArgs(f.productId, f.other.address, f.seller.address);
        await expect((f.market.connect(f.seller) as any)[name](unknown, ...args))
          .to.be.revertedWithCustomError(f.market, "UnknownProduct")
          .withArgs(unknown);
      }
      await expect(f.market.quote(unknown, 1n)).to.be.revertedWithCustomError(f.market, "UnknownProduct").withArgs(unknown);
    });
  });
});
