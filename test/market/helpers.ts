// Shared helpers of the market tests and the market gas scenario: deploy the whole market (token,
// registry, karma, linked libraries), list products, sign consent attestations and revocations.
import { ethers } from "hardhat";
import type { Signer, BaseWallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { DATAToken, StreamRegistry, DataLicenseMarket, Karma } from "../../typechain-types";
import { deployFoundation } from "../helpers/foundation";

export const DAY = 86_400n;
export const UNIT = 10n ** 18n;
/** Karma half-life used in tests: 30 days. */
export const HALF_LIFE = 30n * DAY;
/** Upheld-flag karma penalty in tests: 25 %. */
export const FLAG_PENALTY_BPS = 2_500n;
/** Default price: 0.001 DATA per second. */
export const PRICE = 10n ** 15n;

/** Three fixed attestor keys (Fabric organisations' signing keys in production). */
export const ATTESTOR_KEYS = [
  "0x1000000000000000000000000000000000000000000000000000000000000001",
  "0x2000000000000000000000000000000000000000000000000000000000000002",
  "0x3000000000000000000000000000000000000000000000000000000000000003",
];

export const ATTESTATION_TYPES = {
  ConsentAttestation: [
    { name: "grantId", type: "bytes32" },
    { name: "buyer", type: "address" },
    { name: "productId", type: "bytes32" },
    { name: "purpose", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
  ],
};
export const REVOCATION_TYPES = {
  ConsentRevocation: [
    { name: "grantId", type: "bytes32" },
    { name: "revokedAt", type: "uint64" },
  ],
};

export interface Attestation {
  grantId: string;
  buyer: string;
  productId: string;
  purpose: string;
  expiresAt: bigint;
}

export const NO_ATTESTATION: Attestation = {
  grantId: ethers.ZeroHash,
  buyer: ethers.ZeroAddress,
  productId: ethers.ZeroHash,
  purpose: ethers.ZeroHash,
  expiresAt: 0n,
};

export interface Order {
  productId: string;
  duration: bigint;
  attestation: Attestation;
  signatures: string;
  encryptionKey: string;
}

export const ORDER_TYPE =
  "tuple(bytes32 productId,uint32 duration,tuple(bytes32 grantId,address buyer,bytes32 productId,bytes32 purpose,uint64 expiresAt) attestation,bytes signatures,bytes encryptionKey)";

/** The `data` of an ERC-1363 payment for an order. */
export function encodeOrder(order: Order): string {
  return ethers.AbiCoder.defaultAbiCoder().encode([ORDER_TYPE], [order]);
}

export async function marketDomain(market: DataLicenseMarket) {
  const { chainId } = await ethers.provider.getNetwork();
  return { name: "DataLicenseMarket", version: "1", chainId, verifyingContract: await market.getAddress() };
}

/** Concatenated 65-byte signatures of the attestation by the given attestors. */
export async function signAttestation(market: DataLicenseMarket, signers: BaseWallet[], attestation: Attestation): Promise<string> {
  const domain = await marketDomain(market);
  const signatures = await Promise.all(signers.map((s) => s.signTypedData(domain, ATTESTATION_TYPES, attestation)));
  return ethers.concat(signatures);
}

export async function signRevocation(market: DataLicenseMarket, signers: BaseWallet[], revocation: { grantId: string; revokedAt: bigint }): Promise<string> {
  const domain = await marketDomain(market);
  const signatures = await Promise.all(signers.map((s) => s.signTypedData(domain, REVOCATION_TYPES, revocation)));
  return ethers.concat(signatures);
}

export async function now(): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

export interface MarketFixture {
  token: DATAToken;
  registry: StreamRegistry;
  karma: Karma;
  market: DataLicenseMarket;
  admin: HardhatEthersSigner;
  seller: HardhatEthersSigner;
  buyer: HardhatEthersSigner;
  other: HardhatEthersSigner;
  arbiter: HardhatEthersSigner;
  kycProvider: HardhatEthersSigner;
  feeRecipient: HardhatEthersSigner;
  beneficiary: HardhatEthersSigner;
  attestors: BaseWallet[];
  streamId: string;
  datasetId: string;
  productId: string;
  consentProductId: string;
}

export async function deployMarketContracts(admin: Signer) {
  const { token, registry } = await deployFoundation(admin);
  const adminAddress = await admin.getAddress();
  const karma = (await ethers.deployContract("Karma", [adminAddress, HALF_LIFE, FLAG_PENALTY_BPS], admin)) as unknown as Karma;
  const libraries: Record<string, string> = {};
  for (const name of ["ProductCatalog", "AttestorSet", "LicenseTermination"]) {
    libraries[name] = await (await ethers.deployContract(name, admin)).getAddress();
  }
  const factory = await ethers.getContractFactory("DataLicenseMarket", { signer: admin, libraries });
  const market = (await factory.deploy(
    adminAddress,
    await token.getAddress(),
    await registry.getAddress(),
    await karma.getAddress(),
  )) as unknown as DataLicenseMarket;
  await market.waitForDeployment();
  const marketAddress = await market.getAddress();
  await karma.grantRole(await karma.REPORTER_ROLE(), marketAddress);
  await registry.grantRole(await registry.KEY_REGISTRAR_ROLE(), marketAddress);
  return { token, registry, karma, market, libraries };
}

export const BASE_PARAMS = {
  pricePerSecond: PRICE,
  minSeconds: 3_600n,
  maxSeconds: 365n * DAY,
  requiresConsent: false,
  requiresKyc: false,
  termsHash: ethers.id("terms v1"),
  termsUri: "ipfs://bafyterms",
};

/** Token, registry, karma, market; a stream and a dataset of the seller delegated to the market; a
 * plain product over the stream and a consent-gated product over the dataset; 2-of-3 attestors. */
export async function marketFixture(): Promise<MarketFixture> {
  const [admin, seller, buyer, other, arbiter, kycProvider, feeRecipient, beneficiary] = await ethers.getSigners();
  const { token, registry, karma, market } = await deployMarketContracts(admin);
  const marketAddress = await market.getAddress();
  const attestors = ATTESTOR_KEYS.map((k) => new ethers.Wallet(k));
  for (const a of attestors) await market.addAttestor(a.address);
  await market.setAttestorThreshold(2);
  await market.grantRole(await market.ARBITER_ROLE(), arbiter.address);
  await market.grantRole(await market.KYC_PROVIDER_ROLE(), kycProvider.address);

  await registry.connect(seller).createStream("/health/heart-rate", 1, "{}");
  const streamId = await registry.resourceId(seller.address, "/health/heart-rate");
  await registry.connect(seller).createDataset("/health/labs", ethers.id("labs file"), "ipfs://labs", "{}");
  const datasetId = await registry.resourceId(seller.address, "/health/labs");
  await registry.connect(seller).setSubscribeDelegate(streamId, marketAddress, true);
  await registry.connect(seller).setSubscribeDelegate(datasetId, marketAddress, true);

  const salt = ethers.id("plain");
  await market.connect(seller).createProduct(salt, { ...BASE_PARAMS, beneficiary: beneficiary.address, resources: [streamId] });
  const productId = await market.productIdOf(seller.address, salt);
  const consentSalt = ethers.id("consent");
  await market.connect(seller).createProduct(consentSalt, {
    ...BASE_PARAMS,
    beneficiary: beneficiary.address,
    requiresConsent: true,
    resources: [datasetId],
  });
  const consentProductId = await market.productIdOf(seller.address, consentSalt);
  await market.connect(seller).setPurposes(consentProductId, [ethers.id("ScientificResearch")], true);

  for (const s of [buyer, other]) {
    await token.mint(s.address, 1_000_000n * UNIT);
    await token.connect(s).approve(marketAddress, ethers.MaxUint256);
  }
  return {
    token,
    registry,
    karma,
    market,
    admin,
    seller,
    buyer,
    other,
    arbiter,
    kycProvider,
    feeRecipient,
    beneficiary,
    attestors,
    streamId,
    datasetId,
    productId,
    consentProductId,
  };
}

/** A consent attestation for `buyer` on `productId`, with its 2-of-3 signatures. */
export async function attest(
  f: MarketFixture,
  buyer: string,
  productId: string,
  options: { grantId?: string; expiresAt?: bigint; purpose?: string; signers?: BaseWallet[] } = {},
): Promise<{ attestation: Attestation; signatures: string }> {
  const attestation: Attestation = {
    grantId: options.grantId ?? ethers.hexlify(ethers.randomBytes(32)),
    buyer,
    productId,
    purpose: options.purpose ?? ethers.id("ScientificResearch"),
    expiresAt: options.expiresAt ?? (await now()) + 400n * DAY,
  };
  const signatures = await signAttestation(f.market, options.signers ?? f.attestors.slice(0, 2), attestation);
  return { attestation, signatures };
}

export function order(productId: string, duration: bigint, extra: Partial<Order> = {}): Order {
  return { productId, duration, attestation: NO_ATTESTATION, signatures: "0x", encryptionKey: "0x", ...extra };
}
