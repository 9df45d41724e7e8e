// Property: the three payment paths (approve + buy, permit + buy, ERC-1363 transferAndCall) go through
// one pricing function and give the same license, the same escrow and the same registry write for the
// same payment — for new licenses, same-price extensions and new-price (blended) extensions, with and
// without the consent gate. (Streamr's MarketplaceV4 got its transfer-and-call path wrong.)
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import { signPermit } from "../helpers/foundation";
import { marketFixture, order, attest, encodeOrder, now, DAY, MarketFixture, Order, UNIT } from "./helpers";
import { propertyRuns } from "../helpers/runs";

type Path = "approve" | "permit" | "transferAndCall";
const PATHS: Path[] = ["approve", "permit", "transferAndCall"];

async function snapshot(): Promise<string> {
  return network.provider.send("evm_snapshot", []);
}
async function revert(id: string): Promise<void> {
  await network.provider.send("evm_revert", [id]);
}

async function pay(f: MarketFixture, path: Path, o: Order, cost: bigint, at: bigint) {
  const market = await f.market.getAddress();
  if (path === "approve") {
    await f.token.connect(f.buyer).approve(market, cost);
    await time.setNextBlockTimestamp(at);
    return f.market.connect(f.buyer).buy(o, ethers.MaxUint256);
  }
  await f.token.connect(f.buyer).approve(market, 0);
  if (path === "permit") {
    const deadline = at + 3_600n;
    const p = await signPermit(f.token, f.buyer, market, cost, deadline);
    await time.setNextBlockTimestamp(at);
    return f.market.connect(f.buyer).buyWithPermit(o, ethers.MaxUint256, { value: cost, deadline, v: p.v, r: p.r, s: p.s });
  }
  await time.setNextBlockTimestamp(at);
  return f.token.connect(f.buyer)["transferAndCall(address,uint256,bytes)"](market, cost, encodeOrder(o));
}

async function outcome(f: MarketFixture, productId: string, resourceId: string) {
  const license = await f.market.getLicense(productId, f.buyer.address);
  return {
    license: [license.rate, license.releasedUntil, license.end, license.grantExpiry, license.feeBps, license.status, license.grantTag].map(String),
    escrow: String(await f.market.escrowOf(productId, f.buyer.address)),
    buyerBalance: String(await f.token.balanceOf(f.buyer.address)),
    marketBalance: String(await f.token.balanceOf(await f.market.getAddress())),
    buyerClaimable: String(await f.market.claimableOf(f.buyer.address)),
    beneficiaryClaimable: String(await f.market.claimableOf(f.beneficiary.address)),
    subscribeExpiry: String((await f.registry.getPermission(resourceId, f.buyer.address)).subscribeExpiry),
    licensedUntil: String(await f.market.licensedUntil(resourceId, f.buyer.address)),
    allowance: String(await f.token.allowance(f.buyer.address, await f.market.getAddress())),
  };
}

describe("DataLicenseMarket: the three payment paths", () => {
  it("give the same license for the same payment (randomized: price, length, extension, new price, consent)", async () => {
    const f = await loadFixture(marketFixture);
    await f.token.mint(f.buyer.address, 100_000_000n * UNIT);
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n, max: 10n ** 17n }),
        fc.bigInt({ min: 3_600n, max: 120n * DAY }),
        fc.option(fc.tuple(fc.bigInt({ min: 3_600n, max: 120n * DAY }), fc.bigInt({ min: 1n, max: 10n ** 17n }), fc.bigInt({ min: 1n, max: 60n * DAY }))),
        fc.boolean(),
        async (price, duration, first, consent) => {
          runs++;
          const base = await snapshot();
          try {
            const productId = consent ? f.consentProductId : f.productId;
            const resourceId = consent ? f.datasetId : f.streamId;
            let o = order(productId, duration);
            if (first) {
              // An earlier license (bought by approve), time passes, maybe a new price: then each path extends.
              const [firstDuration, firstPrice, elapsed] = first;
              await f.market.connect(f.seller).setPrice(productId, firstPrice);
              const a = consent ? await attest(f, f.buyer.address, productId, { expiresAt: (await now()) + 400n * DAY }) : {};
              await f.market.connect(f.buyer).buy(order(productId, firstDuration, a), ethers.MaxUint256);
              await time.increase(elapsed);
            } else if (consent) {
              o = order(productId, duration, await attest(f, f.buyer.address, productId, { expiresAt: (await now()) + 400n * DAY }));
            }
            await f.market.connect(f.seller).setPrice(productId, price);
            const cost = await f.market.quote(productId, duration);
            expect(cost).to.equal(price * duration);
            const at = (await now()) + 1_000n;
            const results = [];
            for (const path of PATHS) {
              const snap = await snapshot();
              const tx = await pay(f, path, o, cost, at);
              await expect(tx).to.emit(f.market, "LicensePurchased");
              results.push(await outcome(f, productId, resourceId));
              await revert(snap);
            }
            expect(results[1]).to.deep.equal(results[0]);
            expect(results[2]).to.deep.equal(results[0]);
          } finally {
            await revert(base);
          }
        },
      ),
      { numRuns: propertyRuns(30) },
    );
    expect(runs).to.equal(propertyRuns(30));
  });
});
