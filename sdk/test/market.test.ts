// Buying a licence with permit in one transaction, the consent attestation's k signatures collected
// from real consent bridges (@datamarket/consent-bridge, on 127.0.0.1) that follow the in-process
// consent ledger, on the real market, token and registry on Hardhat's network.
import { expect } from "chai";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { id as keccakUtf8, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { BridgeStore, ConsentBridge, memoryLogger } from "@datamarket/consent-bridge";
import { generateKeyPair } from "@datamarket/protocol";
import { SdkErrorCodes, type SdkError } from "../src/errors";
import { MarketClient } from "../src/wallet/MarketClient";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import { waitFor } from "./helpers";

/** Test keys of two registered attestors, and of a bridge whose key the market does not know. */
const ATTESTOR_A = "0x" + "a1".repeat(32);
const ATTESTOR_B = "0x" + "b2".repeat(32);
const OUTSIDER = "0x" + "c3".repeat(32);
const PURPOSE = "ScientificResearch";

/** A product of `beneficiary` selling `stream` at 10^12 DATA wei a second, for 60 s to 30 days. */
function productParams(beneficiary: string, stream: string, requiresConsent: boolean) {
  return {
    beneficiary,
    pricePerSecond: 10n ** 12n,
    minSeconds: 60,
    maxSeconds: 30 * 24 * 3600,
    requiresConsent,
    requiresKyc: false,
    termsHash: keccak256(toUtf8Bytes("terms")),
    termsUri: "https://example.org/terms",
    resources: [stream],
  };
}

async function refusal(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  expect.fail("the purchase went through");
}

describe("market helpers (real consent bridges on the in-process consent ledger)", function () {
  this.timeout(60_000);
  const bridges: ConsentBridge[] = [];
  const stores: BridgeStore[] = [];
  after(async () => {
    for (const bridge of bridges) await bridge.stop();
  });

  let e: typeof hre.ethers;
  let marketAddress: string, tokenAddress: string, productId: string, streamId: string;
  let buyerLedger: ConsentLedgerClient;
  let buyer: Awaited<ReturnType<typeof hre.ethers.getSigners>>[number];
  let otherBuyer: typeof buyer;
  let token: Awaited<ReturnType<typeof deploy>>["token"];
  let registry: Awaited<ReturnType<typeof deploy>>["registry"];
  let seller: Awaited<ReturnType<typeof deploy>>["seller"];

  async function deploy() {
    const [admin, seller] = await e.getSigners();
    const token = await (await e.getContractFactory("DATAToken")).deploy(admin.address, admin.address, 10n ** 27n);
    const registry = await (await e.getContractFactory("StreamRegistry")).deploy(admin.address);
    const karma = await (await e.getContractFactory("Karma")).deploy(admin.address, 30 * 24 * 3600, 1000);
    const libs: Record<string, string> = {};
    for (const name of ["LicenseTermination", "ProductCatalog", "AttestorSet"])
      libs[name] = await (await (await e.getContractFactory(name)).deploy()).getAddress();
    const market = await (
      await e.getContractFactory("DataLicenseMarket", { libraries: libs })
    ).deploy(admin.address, await token.getAddress(), await registry.getAddress(), await karma.getAddress());
    const address = await market.getAddress();
    await karma.grantRole(await karma.REPORTER_ROLE(), address);
    await registry.grantRole(await registry.KEY_REGISTRAR_ROLE(), address);
    await market.addAttestor(new Wallet(ATTESTOR_A).address);
    await market.addAttestor(new Wallet(ATTESTOR_B).address);
    await market.setAttestorThreshold(2);
    return { token, registry, market, seller };
  }

  before(async () => {
    e = hre.ethers;
    [, , buyer, otherBuyer] = await e.getSigners();
    const chain = await deploy();
    ({ token, registry, seller } = chain);
    marketAddress = await chain.market.getAddress();
    tokenAddress = await token.getAddress();
    await token.mint(buyer.address, 10n ** 21n);
    await token.mint(otherBuyer.address, 10n ** 21n);

    const sellerRegistry = new StreamRegistryClient(await registry.getAddress(), chain.seller);
    ({ streamId } = await sellerRegistry.createStream("/health/heart-rate", 1));
    await sellerRegistry.setSubscribeDelegate(streamId, marketAddress);
    const sellerMarket = new MarketClient(marketAddress, tokenAddress, chain.seller);
    ({ productId } = await sellerMarket.listProduct(keccakUtf8("heart-rate-research"), productParams(chain.seller.address, streamId, true)));
    await (await sellerMarket.market.setPurposes(productId, [keccakUtf8(PURPOSE)], true)).wait();

    // The consent ledger: a consenting data subject of the stream, sold as the product, and a buyer
    // whose Fabric identity carries its Ethereum address.
    const ledger = await InProcessConsentLedger.create();
    const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    buyerLedger = ledger.client(
      await ledger.enroll("ResearchMSP", "lab", {
        "consent.role": "buyer",
        "consent.buyerType": "PublicResearch",
        "consent.jurisdiction": "NL",
        "consent.ethAddress": buyer.address.toLowerCase(),
      }),
    );
    const auditor = ledger.client(await ledger.enroll("AuditMSP", "consent-bridge", { "consent.role": "auditor" }));
    await custodian.registerResource(streamId, "stream", [productId]);
    await custodian.giveConsent({
      subjectId: "subj-0001",
      controller: "University Hospital",
      resources: [streamId],
      purposes: [PURPOSE],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
      noticeHash: "0x" + "cd".repeat(32),
    });
    await custodian.addResourceSubjects(streamId, ["subj-0001"]);

    // Three bridges following the ledger, signing for this market: A, the outsider, B.
    const domain = { chainId: (await e.provider.getNetwork()).chainId, market: marketAddress };
    for (const attestorKey of [ATTESTOR_A, OUTSIDER, ATTESTOR_B]) {
      const store = BridgeStore.inMemory();
      stores.push(store);
      bridges.push(
        await ConsentBridge.start({ events: auditor, attestorKey, domain, store, http: { host: "127.0.0.1", port: 0 }, retryDelayMs: 50, log: memoryLogger() }),
      );
    }
  });

  async function approvedGrant(): Promise<string> {
    const decision = await buyerLedger.requestAccess({ productId, purpose: PURPOSE, ethAddress: buyer.address.toLowerCase(), ttlSeconds: 7 * 86_400 });
    if (decision.decision !== "approved" || !decision.grant) throw new Error(`access denied: ${decision.reasons.join(", ")}`);
    const grantId = decision.grant.grantId;
    await waitFor(() => stores.every((store) => store.attestations.has(grantId)), "the three bridges to sign the grant", 10_000);
    return grantId;
  }

  it("buys a consent-gated licence with permit in one transaction, k attestor signatures collected from the bridges", async () => {
    const grantId = await approvedGrant();
    const buyerMarket = new MarketClient(
      marketAddress,
      tokenAddress,
      buyer,
      bridges.map((b) => b.url),
    );
    const encryption = generateKeyPair();
    const before = await token.balanceOf(buyer.address);
    const { cost, receipt, consent } = await buyerMarket.buyWithPermit({ productId, duration: 3600, grantId, encryptionKey: encryption.publicKey });
    expect(cost).to.equal(3600n * 10n ** 12n);
    expect(await token.balanceOf(buyer.address)).to.equal(before - cost);
    expect(receipt.status).to.equal(1);
    expect(await buyerMarket.hasValidLicense(buyer.address, streamId)).to.equal(true);
    expect(await registry.canSubscribe(streamId, buyer.address)).to.equal(true);
    expect(
      Buffer.from((await new StreamRegistryClient(await registry.getAddress(), buyer).encryptionKeyOf(buyer.address))!).equals(
        Buffer.from(encryption.publicKey),
      ),
    ).to.equal(true);
    // the outsider's bridge answered with a valid signature by a key the market does not register: dropped
    expect(consent!.signers).to.deep.equal([new Wallet(ATTESTOR_A).address, new Wallet(ATTESTOR_B).address].map((a) => a.toLowerCase()).sort());
    expect(consent!.failures.map((f) => [f.url, f.code])).to.deep.equal([[`${bridges[1].url}/v1/attestations/${grantId}`, "NOT_AN_ATTESTOR"]]);
    expect(consent!.value).to.include({ grantId, buyer: buyer.address.toLowerCase(), productId, purpose: keccakUtf8(PURPOSE) });
    const purchased = receipt.logs.map((log) => buyerMarket.market.interface.parseLog(log)).find((log) => log?.name === "LicensePurchased");
    expect(purchased?.args.grantId).to.equal(grantId);
  });

  it("asks each bridge once for an attestation, beside the chain reads that judge the answers", async () => {
    const grantId = await approvedGrant();
    const asked: string[] = [];
    const counting: typeof fetch = (url, init) => {
      asked.push(String(url));
      return fetch(url, init);
    };
    const market = new MarketClient(marketAddress, tokenAddress, buyer, { urls: bridges.map((b) => b.url), fetch: counting });
    const collected = await market.collectConsent(grantId, productId);
    expect(collected.signers).to.have.length(2);
    expect(asked.sort()).to.deep.equal(bridges.map((b) => `${b.url}/v1/attestations/${grantId}`).sort());
  });

  it("refuses, before any transaction, a grant no bridge has signed, naming each bridge's answer", async () => {
    const unknown = keccakUtf8("no such grant");
    const buyerMarket = new MarketClient(marketAddress, tokenAddress, buyer, { urls: bridges.map((b) => b.url), timeoutMs: 2_000 });
    const nonce = await e.provider.getTransactionCount(buyer.address);
    const error = await refusal(buyerMarket.buyWithPermit({ productId, duration: 3600, grantId: unknown }));
    expect(error.code).to.equal(SdkErrorCodes.NOT_LICENSED);
    expect((error.details.failures as Array<{ code: string }>).map((f) => f.code)).to.deep.equal(["UNKNOWN_GRANT", "UNKNOWN_GRANT", "UNKNOWN_GRANT"]);
    expect(error.details).to.include({ grantId: unknown, threshold: 2 });
    expect(await e.provider.getTransactionCount(buyer.address)).to.equal(nonce);
  });

  it("refuses an attestation made out to another buyer", async () => {
    const grantId = await approvedGrant();
    const otherMarket = new MarketClient(
      marketAddress,
      tokenAddress,
      otherBuyer,
      bridges.map((b) => b.url),
    );
    const error = await refusal(otherMarket.buyWithPermit({ productId, duration: 3600, grantId }));
    expect(error.code).to.equal(SdkErrorCodes.NOT_LICENSED);
    expect(error.details).to.include({ grantId, buyer: buyer.address.toLowerCase() });
    expect(await otherMarket.hasValidLicense(otherBuyer.address, streamId)).to.equal(false);
  });

  it("needs bridges and a well-formed grant id to buy under a grant", async () => {
    const noBridges = new MarketClient(marketAddress, tokenAddress, buyer);
    expect((await refusal(noBridges.buyWithPermit({ productId, duration: 3600, grantId: keccakUtf8("g") }))).code).to.equal(SdkErrorCodes.INVALID_ARGUMENT);
    const withBridges = new MarketClient(
      marketAddress,
      tokenAddress,
      buyer,
      bridges.map((b) => b.url),
    );
    const error = await refusal(withBridges.buyWithPermit({ productId, duration: 3600, grantId: "0x1234" }));
    expect(error.code).to.equal(SdkErrorCodes.INVALID_ARGUMENT);
    expect(error.details).to.include({ grantId: "0x1234" });
  });

  it("sends a wallet's purchases in flight together, with consecutive permit nonces, and they are mined in one block", async () => {
    // Two streams of the seller, each sold without a consent gate; a buyer of its own, with DATA.
    const sellerRegistry = new StreamRegistryClient(await registry.getAddress(), seller);
    const sellerMarket = new MarketClient(marketAddress, tokenAddress, seller);
    const products: string[] = [];
    const streams: string[] = [];
    for (const name of ["steps", "sleep"]) {
      const { streamId: stream } = await sellerRegistry.createStream(`/health/${name}`, 1);
      await sellerRegistry.setSubscribeDelegate(stream, marketAddress);
      const listed = await sellerMarket.listProduct(keccakUtf8(`in-flight-${name}`), productParams(seller.address, stream, false));
      products.push(listed.productId);
      streams.push(stream);
    }
    const wallet = (await e.getSigners())[7];
    await (await token.mint(wallet.address, 10n ** 21n)).wait();
    const nonceBefore = await token.nonces(wallet.address);
    // A chain with block times: the purchases wait in the pool until the block is mined.
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      // One MarketClient per purchase, as an app may make them: the wallet's permits are numbered anyway.
      const bought = Promise.all(products.map((p) => new MarketClient(marketAddress, tokenAddress, wallet).buyWithPermit({ productId: p, duration: 3600 })));
      bought.catch(() => undefined);
      const pending = async () =>
        ((await hre.network.provider.send("eth_getBlockByNumber", ["pending", false])) as { transactions: string[] }).transactions.length;
      for (const deadline = Date.now() + 20_000; (await pending()) < 2;) {
        if (Date.now() > deadline) throw new Error("the two purchases did not both reach the pool");
        await new Promise((r) => setTimeout(r, 20));
      }
      await hre.network.provider.send("evm_mine", []);
      const results = await bought;
      expect(results.map((r) => r.receipt.status)).to.deep.equal([1, 1]);
      expect(results[0].receipt.blockNumber, "in one block").to.equal(results[1].receipt.blockNumber);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    expect(await token.nonces(wallet.address)).to.equal(nonceBefore + 2n);
    for (const stream of streams) expect(await registry.canSubscribe(stream, wallet.address)).to.equal(true);
  });
});
