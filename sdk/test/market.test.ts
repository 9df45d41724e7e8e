// Buying a licence with permit in one transaction, the consent attestation's k signatures fetched
// from two consent bridges over HTTP (stand-ins serving signed attestations on 127.0.0.1), on the
// real market, token and registry on Hardhat's network.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { id as keccakUtf8, keccak256, toUtf8Bytes, type Signer } from "ethers";
import { generateKeyPair } from "../src/crypto/secp256k1";
import { SdkErrorCodes } from "../src/errors";
import { CONSENT_ATTESTATION_TYPES, ConsentBridgeClient, MarketClient, type ConsentAttestation } from "../src/wallet/MarketClient";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";

function bridge(attestor: Signer, domain: () => Promise<object>, grants: Map<string, ConsentAttestation>): Promise<{ server: Server; url: string; hits: number[] }> {
  const hits: number[] = [];
  const server = createServer(async (req, res) => {
    hits.push(Date.now());
    const grantId = (req.url ?? "").split("/").pop()!;
    const a = grants.get(grantId);
    if (!a) {
      res.writeHead(404).end();
      return;
    }
    const signature = await attestor.signTypedData(await domain(), CONSENT_ATTESTATION_TYPES, a);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ attestation: { ...a, expiresAt: a.expiresAt.toString() }, signature, attestor: await attestor.getAddress() }));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits })));
}

describe("market helpers", function () {
  this.timeout(60_000);
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  it("buys a consent-gated licence with permit in one transaction, attestations fetched from the bridges", async () => {
    const [admin, seller, buyer, attestorA, attestorB, outsider] = await hre.ethers.getSigners();
    const e = hre.ethers;
    const token = await (await e.getContractFactory("DATAToken")).deploy(admin.address, admin.address, 10n ** 27n);
    const registry = await (await e.getContractFactory("StreamRegistry")).deploy(admin.address);
    const karma = await (await e.getContractFactory("Karma")).deploy(admin.address, 30 * 24 * 3600, 1000);
    const libs: Record<string, string> = {};
    for (const name of ["LicenseTermination", "ProductCatalog", "AttestorSet"]) libs[name] = await (await (await e.getContractFactory(name)).deploy()).getAddress();
    const market = await (await e.getContractFactory("DataLicenseMarket", { libraries: libs })).deploy(admin.address, await token.getAddress(), await registry.getAddress(), await karma.getAddress());
    const marketAddress = await market.getAddress();
    await karma.grantRole(await karma.REPORTER_ROLE(), marketAddress);
    await registry.grantRole(await registry.KEY_REGISTRAR_ROLE(), marketAddress);
    await market.addAttestor(attestorA.address);
    await market.addAttestor(attestorB.address);
    await market.setAttestorThreshold(2);
    await token.mint(buyer.address, 10n ** 21n);

    const sellerRegistry = new StreamRegistryClient(await registry.getAddress(), seller);
    const { streamId } = await sellerRegistry.createStream("/health/heart-rate", 1);
    await sellerRegistry.setSubscribeDelegate(streamId, marketAddress);
    const sellerMarket = new MarketClient(marketAddress, await token.getAddress(), seller);
    const { productId } = await sellerMarket.listProduct(keccakUtf8("heart-rate-research"), {
      beneficiary: seller.address, pricePerSecond: 10n ** 12n, minSeconds: 60, maxSeconds: 30 * 24 * 3600,
      requiresConsent: true, requiresKyc: false, termsHash: keccak256(toUtf8Bytes("terms")), termsUri: "https://example.org/terms", resources: [streamId],
    });

    const grantId = keccakUtf8("fabric-tx-1");
    const now = (await e.provider.getBlock("latest"))!.timestamp;
    const grants = new Map<string, ConsentAttestation>([[grantId, { grantId, buyer: buyer.address.toLowerCase(), productId, purpose: keccakUtf8("ScientificResearch"), expiresAt: BigInt(now + 7 * 24 * 3600) }]]);
    const buyerMarket0 = new MarketClient(marketAddress, await token.getAddress(), buyer);
    const domain = () => buyerMarket0.marketDomain();
    const bridges = await Promise.all([bridge(attestorA, domain, grants), bridge(outsider, domain, grants), bridge(attestorB, domain, grants)]);
    servers.push(...bridges.map((b) => b.server));

    const buyerMarket = new MarketClient(marketAddress, await token.getAddress(), buyer, new ConsentBridgeClient(bridges.map((b) => b.url)));
    const encryption = generateKeyPair();
    const before = await token.balanceOf(buyer.address);
    const { cost, receipt } = await buyerMarket.buyWithPermit({ productId, duration: 3600, grantId, encryptionKey: encryption.publicKey });
    expect(cost).to.equal(3600n * 10n ** 12n);
    expect(await token.balanceOf(buyer.address)).to.equal(before - cost);
    expect(receipt.status).to.equal(1);
    expect(await buyerMarket.hasValidLicense(buyer.address, streamId)).to.equal(true);
    expect(await registry.canSubscribe(streamId, buyer.address)).to.equal(true);
    expect(Buffer.from((await sellerRegistry.encryptionKeyOf(buyer.address))!).equals(Buffer.from(encryption.publicKey))).to.equal(true);
    expect(bridges.map((b) => b.hits.length)).to.deep.equal([1, 1, 1]); // the outsider's signature was fetched and discarded

    // A grant no bridge has approved: refused before any transaction, naming what is missing.
    try {
      await buyerMarket.buyWithPermit({ productId, duration: 3600, grantId: keccakUtf8("unknown") });
      expect.fail("bought without attestation");
    } catch (err) {
      expect(err).to.have.property("code", SdkErrorCodes.NOT_LICENSED);
      expect((err as { details: { failures: string[] } }).details.failures).to.have.length(3);
    }
  });
});
