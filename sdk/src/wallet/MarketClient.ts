// The data-license market from the user's wallet, typed from the typechain bindings of
// IDataLicenseMarket and DATAToken: list a product, and buy a licence with an EIP-2612 permit in
// one transaction, with the consent attestation and its k attestor signatures fetched from the
// consent bridges over HTTP (ConsentBridgeClient).

import { getBytes, Signature, TypedDataEncoder, verifyTypedData, type ContractTransactionReceipt, type Signer } from "ethers";
import type { IDataLicenseMarket } from "../../../typechain-types";
import { DATAToken__factory, IDataLicenseMarket__factory } from "../../../typechain-types";
import { SdkError, SdkErrorCodes } from "../errors";

/** The EIP-712 consent attestation (INTERFACES.md). */
export interface ConsentAttestation {
  grantId: string;
  buyer: string;
  productId: string;
  /** keccak256(utf8(DPV purpose term)). */
  purpose: string;
  /** Unix seconds; invalid from this second on. */
  expiresAt: bigint;
}

export const CONSENT_ATTESTATION_TYPES = {
  ConsentAttestation: [
    { name: "grantId", type: "bytes32" },
    { name: "buyer", type: "address" },
    { name: "productId", type: "bytes32" },
    { name: "purpose", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
  ],
};

const ZERO32 = "0x" + "00".repeat(32);
const ZERO_ATTESTATION: ConsentAttestation = { grantId: ZERO32, buyer: "0x" + "00".repeat(20), productId: ZERO32, purpose: ZERO32, expiresAt: 0n };

/**
 * Fetches a grant's attestation from the consent bridges (one per attestor organisation) and
 * collects k signatures of distinct attestors, each verified locally before it is used.
 *
 * HTTP contract expected of a bridge (to be confirmed by the bridge's docs):
 *   GET {bridgeUrl}/attestations/{grantId}
 *   200 { "attestation": { grantId, buyer, productId, purpose, expiresAt (decimal string or number) },
 *         "signature": "0x" + 65-byte r‖s‖v hex, "attestor": "0x" address }
 *   404 while the bridge has not seen (or not approved) the grant.
 */
export class ConsentBridgeClient {
  constructor(
    readonly bridgeUrls: string[],
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async collect(
    grantId: string,
    domain: { name: string; version: string; chainId: bigint | number; verifyingContract: string },
    attestors: string[],
    threshold: number,
  ): Promise<{ attestation: ConsentAttestation; signatures: string }> {
    const allowed = new Set(attestors.map((a) => a.toLowerCase()));
    const signatures: string[] = [];
    const signers = new Set<string>();
    let attestation: ConsentAttestation | undefined;
    const failures: string[] = [];
    for (const url of this.bridgeUrls) {
      if (signers.size >= threshold) break;
      let body: { attestation: Record<string, string | number>; signature: string };
      try {
        const res = await this.fetchImpl(`${url.replace(/\/$/, "")}/attestations/${grantId}`);
        if (!res.ok) {
          failures.push(`${url}: HTTP ${res.status}`);
          continue;
        }
        body = (await res.json()) as typeof body;
      } catch (err) {
        failures.push(`${url}: ${(err as Error).message}`);
        continue;
      }
      const a: ConsentAttestation = {
        grantId: String(body.attestation.grantId).toLowerCase(),
        buyer: String(body.attestation.buyer).toLowerCase(),
        productId: String(body.attestation.productId).toLowerCase(),
        purpose: String(body.attestation.purpose).toLowerCase(),
        expiresAt: BigInt(body.attestation.expiresAt),
      };
      if (a.grantId !== grantId.toLowerCase()) {
        failures.push(`${url}: answered for grant ${a.grantId}`);
        continue;
      }
      if (attestation && TypedDataEncoder.hashStruct("ConsentAttestation", CONSENT_ATTESTATION_TYPES, a) !== TypedDataEncoder.hashStruct("ConsentAttestation", CONSENT_ATTESTATION_TYPES, attestation)) {
        failures.push(`${url}: attestation differs from the other bridges'`);
        continue;
      }
      let signer: string;
      try {
        signer = verifyTypedData(domain, CONSENT_ATTESTATION_TYPES, a, body.signature).toLowerCase();
      } catch {
        failures.push(`${url}: malformed signature`);
        continue;
      }
      if (!allowed.has(signer)) {
        failures.push(`${url}: signed by ${signer}, not a registered attestor`);
        continue;
      }
      attestation ??= a;
      if (!signers.has(signer)) {
        signers.add(signer);
        signatures.push(Signature.from(body.signature).serialized);
      }
    }
    if (!attestation || signers.size < threshold) {
      throw new SdkError(SdkErrorCodes.NOT_LICENSED, `only ${signers.size} of the ${threshold} attestor signatures needed for grant ${grantId}`, { grantId, failures });
    }
    return { attestation, signatures: "0x" + signatures.map((s) => s.slice(2)).join("") };
  }
}

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

export class MarketClient {
  readonly market: IDataLicenseMarket;

  constructor(
    readonly marketAddress: string,
    readonly tokenAddress: string,
    private readonly signer: Signer,
    private readonly bridges?: ConsentBridgeClient,
  ) {
    this.market = IDataLicenseMarket__factory.connect(marketAddress, signer);
  }

  private async wait(tx: Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>): Promise<ContractTransactionReceipt> {
    const receipt = await (await tx).wait();
    if (!receipt) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "transaction dropped");
    return receipt;
  }

  /** Lists a product over registry resources the signer owns; returns its id (productIdOf(seller, salt)). */
  async listProduct(salt: string, params: IDataLicenseMarket.ProductParamsStruct): Promise<{ productId: string; receipt: ContractTransactionReceipt }> {
    const receipt = await this.wait(this.market.createProduct(salt, params));
    return { productId: await this.market.productIdOf(await this.signer.getAddress(), salt), receipt };
  }

  /** The EIP-712 domain of the market (for attestations). */
  async marketDomain() {
    const { chainId } = await this.signer.provider!.getNetwork();
    return { name: "DataLicenseMarket", version: "1", chainId, verifyingContract: this.marketAddress };
  }

  /**
   * Buys (or extends) a licence in one transaction: EIP-2612 permit of the DATA token for exactly
   * the quoted cost, and, for a consent-gated product, the attestation with k attestor signatures
   * collected from the consent bridges.
   */
  async buyWithPermit(args: BuyArgs): Promise<{ cost: bigint; receipt: ContractTransactionReceipt }> {
    const owner = await this.signer.getAddress();
    const cost = await this.market.quote(args.productId, args.duration);
    const product = await this.market.getProduct(args.productId);
    let attestation = ZERO_ATTESTATION;
    let signatures = "0x";
    if (args.grantId) {
      if (!this.bridges) throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "a grantId needs consent bridges to fetch its attestation");
      const [attestors, threshold] = await Promise.all([this.market.attestors(), this.market.attestorThreshold()]);
      ({ attestation, signatures } = await this.bridges.collect(args.grantId, await this.marketDomain(), [...attestors], Number(threshold)));
      if (attestation.buyer !== owner.toLowerCase() || attestation.productId !== args.productId.toLowerCase()) {
        throw new SdkError(SdkErrorCodes.NOT_LICENSED, "the attestation is for another buyer or product", { buyer: attestation.buyer, productId: attestation.productId });
      }
    }
    const token = DATAToken__factory.connect(this.tokenAddress, this.signer);
    const [domain, nonce] = await Promise.all([token.eip712Domain(), token.nonces(owner)]);
    const deadline = args.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600);
    const permitSignature = Signature.from(
      await this.signer.signTypedData(
        { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
        { Permit: [{ name: "owner", type: "address" }, { name: "spender", type: "address" }, { name: "value", type: "uint256" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
        { owner, spender: this.marketAddress, value: cost, nonce, deadline },
      ),
    );
    const receipt = await this.wait(
      this.market.buyWithPermit(
        { productId: args.productId, duration: args.duration, attestation, signatures, encryptionKey: args.encryptionKey ? getBytes(args.encryptionKey) : "0x" },
        args.maxPricePerSecond ?? product.pricePerSecond,
        { value: cost, deadline, v: permitSignature.v, r: permitSignature.r, s: permitSignature.s },
      ),
    );
    return { cost, receipt };
  }

  hasValidLicense(account: string, resourceId: string): Promise<boolean> {
    return this.market.hasValidLicense(account, resourceId);
  }
}
