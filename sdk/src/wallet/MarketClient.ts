// The data-license market from the user's wallet, through the ABIs of IDataLicenseMarket and
// DATAToken (./abi.ts): list a product, and buy a licence with an EIP-2612 permit in one
// transaction, with the consent attestation and its k attestor signatures collected from the
// consent bridges by @datamarket/consent-attestation (one HTTP route, one EIP-712 definition,
// shared with the bridges that sign).

import { getBytes, isHexString, Signature, type ContractTransactionReceipt, type Signer } from "ethers";
import { BridgeClientError, ClientErrorCode, collectAttestation, type CollectedAttestation, type ConsentAttestation } from "@datamarket/consent-attestation";
import type { ContractTransactionResponse } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { marketAt, tokenAt, type BoundContract } from "./contracts";
import { sendWithNonce } from "./transactions";

/** IDataLicenseMarket.ProductParams, as createProduct takes it (docs/market.md). */
export type ProductParams = Record<string, unknown>;

/** Where to reach the consent bridges (one per attestor organisation) and how long to wait for each. */
export interface ConsentBridges {
  /** Bridge base URLs, e.g. http://127.0.0.1:8701; the client asks `GET {url}/v1/attestations/{grantId}`. */
  urls: string[];
  /** Per-bridge request timeout, milliseconds (default 5,000). */
  timeoutMs?: number;
  /** Injectable fetch (default: the global fetch). */
  fetch?: typeof fetch;
}

const ZERO32 = "0x" + "00".repeat(32);
/** The attestation a product without a consent gate is bought with (the market ignores it). */
const NO_ATTESTATION: ConsentAttestation = { grantId: ZERO32, buyer: "0x" + "00".repeat(20), productId: ZERO32, purpose: ZERO32, expiresAt: 0 };

export interface BuyArgs {
  productId: string;
  /** Seconds of licence. */
  duration: number;
  /** The consent grant to buy under (products with a consent gate); its attestation comes from the bridges. */
  grantId?: string;
  /** 33-byte compressed key to register for the buyer in the same transaction (or empty). */
  encryptionKey?: Uint8Array;
  /** Highest accepted price, DATA wei per second. Default: the current price. */
  maxPricePerSecond?: bigint;
  /** Permit deadline, unix seconds. Default: now + 1 h. */
  deadline?: bigint;
}

export interface BuyResult {
  /** DATA wei paid. */
  cost: bigint;
  receipt: ContractTransactionReceipt;
  /** For a purchase under a grant: the attestation bought with, its k signers, and the bridges that did not contribute. */
  consent?: CollectedAttestation;
}

export class MarketClient {
  /** IDataLicenseMarket (ethers Contract over the SDK's ABI, ./abi.ts), decoding the token's and registry's custom errors too. */
  readonly market: BoundContract;
  private readonly bridges?: ConsentBridges;

  /**
   * @param bridges the consent bridges to collect attestations from (needed to buy under a grant):
   *   their base URLs, or the URLs with a timeout and a fetch implementation.
   */
  constructor(
    readonly marketAddress: string,
    readonly tokenAddress: string,
    private readonly signer: Signer,
    bridges?: ConsentBridges | string[],
  ) {
    this.market = marketAt(marketAddress, signer);
    this.bridges = Array.isArray(bridges) ? { urls: bridges } : bridges;
  }

  /** Sends `method(...args)` with an SDK-assigned nonce (./transactions.ts) and waits for its receipt. */
  private async wait(method: string, ...args: unknown[]): Promise<ContractTransactionReceipt> {
    const tx = await sendWithNonce(this.signer, (overrides) => this.market.getFunction(method)(...args, overrides) as Promise<ContractTransactionResponse>);
    const receipt = await tx.wait();
    if (!receipt) throw new SdkError(SdkErrorCodes.TRANSACTION_FAILED, `${method} was dropped before it was mined`, { hash: tx.hash });
    return receipt;
  }

  /** Lists a product over registry resources the signer owns; returns its id (productIdOf(seller, salt)). */
  async listProduct(salt: string, params: ProductParams): Promise<{ productId: string; receipt: ContractTransactionReceipt }> {
    const receipt = await this.wait("createProduct", salt, params);
    return { productId: String(await this.market.productIdOf(await this.signer.getAddress(), salt)), receipt };
  }

  /** The EIP-712 domain of the market (for attestations). */
  async marketDomain() {
    const { chainId } = await this.signer.provider!.getNetwork();
    return { name: "DataLicenseMarket", version: "1", chainId, verifyingContract: this.marketAddress };
  }

  /**
   * The attestation of `grantId` with k signatures of distinct registered attestors, collected from
   * the bridges (each signature recovered against the market's domain before it counts), and
   * checked to be for this buyer and product and not expired at the latest block.
   */
  async collectConsent(grantId: string, productId: string): Promise<CollectedAttestation> {
    if (!this.bridges)
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "a grantId needs consent bridges to fetch its attestation (MarketClient's fourth argument)");
    if (!isHexString(grantId, 32)) throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `grantId must be 32 bytes of 0x-hex, got "${grantId}"`, { grantId });
    const owner = (await this.signer.getAddress()).toLowerCase();
    const [attestors, threshold, { chainId }] = await Promise.all([
      this.market.attestors(),
      this.market.attestorThreshold(),
      this.signer.provider!.getNetwork(),
    ]);
    let collected: CollectedAttestation;
    try {
      collected = await collectAttestation(grantId.toLowerCase(), {
        urls: this.bridges.urls,
        threshold: Number(threshold),
        domain: { chainId, market: this.marketAddress.toLowerCase() },
        attestors: [...attestors],
        timeoutMs: this.bridges.timeoutMs,
        fetch: this.bridges.fetch,
      });
    } catch (error) {
      if (!(error instanceof BridgeClientError)) throw error;
      const code = error.code === ClientErrorCode.INSUFFICIENT_SIGNATURES ? SdkErrorCodes.NOT_LICENSED : SdkErrorCodes.INVALID_ARGUMENT;
      throw new SdkError(code, error.shortMessage, { grantId, threshold: Number(threshold), failures: error.failures }, { cause: error });
    }
    const attestation = collected.value;
    if (attestation.buyer !== owner || attestation.productId !== productId.toLowerCase()) {
      throw new SdkError(
        SdkErrorCodes.NOT_LICENSED,
        `the attestation of grant ${grantId} is for buyer ${attestation.buyer} and product ${attestation.productId}, not ${owner} and ${productId.toLowerCase()}`,
        { grantId, buyer: attestation.buyer, productId: attestation.productId },
      );
    }
    const latest = await this.signer.provider!.getBlock("latest");
    if (latest && attestation.expiresAt <= latest.timestamp) {
      throw new SdkError(
        SdkErrorCodes.NOT_LICENSED,
        `the attestation of grant ${grantId} expired at ${attestation.expiresAt} (latest block: ${latest.timestamp})`,
        { grantId, expiresAt: attestation.expiresAt, blockTimestamp: latest.timestamp },
      );
    }
    return collected;
  }

  /**
   * Buys (or extends) a licence in one transaction: EIP-2612 permit of the DATA token for exactly
   * the quoted cost, and, for a consent-gated product, the attestation with k attestor signatures
   * collected from the consent bridges (collectConsent).
   */
  async buyWithPermit(args: BuyArgs): Promise<BuyResult> {
    const owner = await this.signer.getAddress();
    const cost = (await this.market.quote(args.productId, args.duration)) as bigint;
    const product = await this.market.getProduct(args.productId);
    const consent = args.grantId ? await this.collectConsent(args.grantId, args.productId) : undefined;
    const token = tokenAt(this.tokenAddress, this.signer);
    const [domain, nonce] = await Promise.all([token.eip712Domain(), token.nonces(owner)]);
    const deadline = args.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600);
    const permitSignature = Signature.from(
      await this.signer.signTypedData(
        { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner, spender: this.marketAddress, value: cost, nonce, deadline },
      ),
    );
    const receipt = await this.wait(
      "buyWithPermit",
      {
        productId: args.productId,
        duration: args.duration,
        attestation: consent?.value ?? NO_ATTESTATION,
        signatures: consent?.signatures ?? "0x",
        encryptionKey: args.encryptionKey ? getBytes(args.encryptionKey) : "0x",
      },
      args.maxPricePerSecond ?? product.pricePerSecond,
      { value: cost, deadline, v: permitSignature.v, r: permitSignature.r, s: permitSignature.s },
    );
    return { cost, receipt, ...(consent ? { consent } : {}) };
  }

  hasValidLicense(account: string, resourceId: string): Promise<boolean> {
    return this.market.hasValidLicense(account, resourceId) as Promise<boolean>;
  }
}
