// The data-license market as an aggregator reads it (ethers v6 + the typechain bindings of
// IDataLicenseMarket): the study product's termsHash, and whether a collector's licence of it is valid
// now (chain time) under the grant it names.
import { keccak256, toUtf8Bytes, type ContractRunner, type Provider } from "ethers";
import { IDataLicenseMarket__factory } from "@datamarket/contracts/typechain";
import type { IDataLicenseMarket } from "@datamarket/contracts/typechain";
import { AnalyticsError } from "../errors";

const LICENSE_ACTIVE = 1n;
const PRODUCT_NONE = 0n;
const STATUS_NAMES = ["None", "Active", "Disputed", "Ended", "RevokedInDispute"];

export class MarketView {
  readonly market: IDataLicenseMarket;

  constructor(
    readonly address: string,
    private readonly runner: ContractRunner & { provider?: Provider | null },
  ) {
    this.market = IDataLicenseMarket__factory.connect(address, runner);
  }

  private get provider(): Provider {
    const provider = (this.runner as { provider?: Provider | null }).provider ?? (this.runner as unknown as Provider);
    return provider;
  }

  async chainId(): Promise<bigint> {
    return (await this.provider.getNetwork()).chainId;
  }

  /** Unix seconds of the latest block: the clock licences are valid by. */
  async chainNow(): Promise<number> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new Error("the chain returned no latest block");
    return block.timestamp;
  }

  /**
   * Throws UNKNOWN_STUDY unless the product exists and its termsHash is the study's hash, and
   * INVALID_STUDY unless its seller declared the study's purpose for it (docs/market.md §5.1):
   * a grant for that purpose is then the only consent under which the study can be bought.
   */
  async checkProduct(productId: string, termsHash: string, purpose: string): Promise<void> {
    const product = await this.market.getProduct(productId);
    if (product.state === PRODUCT_NONE) throw new AnalyticsError("UNKNOWN_STUDY", `no product ${productId} on the market ${this.address}`, { productId });
    if (product.termsHash.toLowerCase() !== termsHash.toLowerCase()) {
      throw new AnalyticsError("UNKNOWN_STUDY", `product ${productId} has termsHash ${product.termsHash}, not the study descriptor's hash ${termsHash}`, {
        productId,
        termsHash: product.termsHash,
      });
    }
    if (!(await this.market.isPurposeAllowed(productId, keccak256(toUtf8Bytes(purpose))))) {
      throw new AnalyticsError(
        "INVALID_STUDY",
        `product ${productId} is not sold for the study's purpose ${purpose} (its seller has not declared it with setPurposes)`,
        { productId, purpose },
      );
    }
  }

  /**
   * Throws NOT_LICENSED unless `buyer` holds an active licence of the product, valid at chain time,
   * running under the grant (its expiry and tag are the licence's grant floor and tag).
   */
  async checkLicence(productId: string, buyer: string, grant: { grantId: string; expiresAt: number }): Promise<void> {
    const [licence, now] = await Promise.all([this.market.getLicense(productId, buyer), this.chainNow()]);
    const details = { productId, buyer, status: STATUS_NAMES[Number(licence.status)] ?? String(licence.status), end: Number(licence.end), chainNow: now };
    if (licence.status !== LICENSE_ACTIVE)
      throw new AnalyticsError("NOT_LICENSED", `${buyer} holds no active licence of the study product (status ${details.status})`, details);
    if (now >= Number(licence.end))
      throw new AnalyticsError("NOT_LICENSED", `${buyer}'s licence of the study product expired at ${licence.end} (chain time ${now})`, details);
    const tag = Number(BigInt(grant.grantId) & 0xffffn);
    if (Number(licence.grantExpiry) !== grant.expiresAt || Number(licence.grantTag) !== tag) {
      throw new AnalyticsError("NOT_LICENSED", `${buyer}'s licence runs under another consent grant than ${grant.grantId}`, {
        ...details,
        grantExpiry: Number(licence.grantExpiry),
        grantTag: Number(licence.grantTag),
      });
    }
  }
}
