// The EIP-712 consent attestation and revocation of the DataLicenseMarket (docs/INTERFACES.md §3, docs/market.md
// section 5.3): domain, types, digests, signing and the packing of k signatures the market expects.
// Shared by the consent bridge (which signs) and buyers (who collect and check); ethers only.
import { SigningKey, TypedDataEncoder, concat, getAddress, getBytes, hexlify, id, isHexString, keccak256 } from "ethers";
import { recoverAddress, signDigest as signDigestBytes } from "@datamarket/protocol";

export const DOMAIN_NAME = "DataLicenseMarket";
export const DOMAIN_VERSION = "1";

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

/** The market's EIP-712 domain: chain id and market address are what bind a signature to one market. */
export interface MarketDomain {
  chainId: bigint;
  /** market address, lowercase 0x-hex */
  market: string;
}

/** ConsentAttestation fields, in the off-chain form (0x-hex lowercase, unix seconds as a number). */
export interface ConsentAttestation {
  grantId: string;
  buyer: string;
  productId: string;
  /** keccak256(utf8(DPV purpose term)) */
  purpose: string;
  /** unix seconds; invalid from this second on */
  expiresAt: number;
}

export interface ConsentRevocation {
  grantId: string;
  /** unix seconds at which consent was withdrawn on the consent ledger */
  revokedAt: number;
}

/** Largest number of signatures the market reads from one `bytes signatures` (MalformedSignatures above). */
export const MAX_SIGNATURES = 16;
export const SIGNATURE_LENGTH = 65;

const UINT64_MAX = (1n << 64n) - 1n;

function typedDomain(domain: MarketDomain) {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.market };
}

export function isBytes32(value: unknown): value is string {
  return typeof value === "string" && /^0x[0-9a-f]{64}$/.test(value);
}

export function isAddress(value: unknown): value is string {
  return typeof value === "string" && /^0x[0-9a-fA-F]{40}$/.test(value);
}

export function isUint64Seconds(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && BigInt(value) <= UINT64_MAX;
}

/** keccak256(utf8(DPV term name)), as the market stores a purpose. */
export function purposeHash(purposeName: string): string {
  return id(purposeName);
}

// One encoder per type set and one separator per domain, built once: ethers' static helpers build a new
// encoder (type strings and their hashes) at every call, which was most of a bridge's time per grant
// with 100 concurrent buyers. The encoding is still ethers' own.
const ATTESTATION_ENCODER = TypedDataEncoder.from(ATTESTATION_TYPES);
const REVOCATION_ENCODER = TypedDataEncoder.from(REVOCATION_TYPES);
const domainSeparators = new Map<string, string>();

function domainSeparator(domain: MarketDomain): string {
  const key = `${domain.chainId}:${domain.market.toLowerCase()}`;
  let separator = domainSeparators.get(key);
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(typedDomain(domain));
    if (domainSeparators.size > 64) domainSeparators.clear(); // a process talks to a few markets
    domainSeparators.set(key, separator);
  }
  return separator;
}

/** EIP-712 struct hash of an attestation (ethers' encoder: an implementation independent of the chaincode's). */
export function attestationStructHash(attestation: ConsentAttestation): string {
  return ATTESTATION_ENCODER.hashStruct("ConsentAttestation", attestation);
}

export function revocationStructHash(revocation: ConsentRevocation): string {
  return REVOCATION_ENCODER.hashStruct("ConsentRevocation", revocation);
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash): what the market recovers signers from. */
export function attestationDigest(domain: MarketDomain, attestation: ConsentAttestation): string {
  return keccak256(concat(["0x1901", domainSeparator(domain), attestationStructHash(attestation)]));
}

export function revocationDigest(domain: MarketDomain, revocation: ConsentRevocation): string {
  return keccak256(concat(["0x1901", domainSeparator(domain), revocationStructHash(revocation)]));
}

/**
 * 65 bytes r ‖ s ‖ v, low s, v in {27, 28}, 0x-hex: the form the market accepts. Deterministic (RFC 6979),
 * so the same as ethers' `SigningKey.sign`; through the protocol's signer (native libsecp256k1 in Node).
 */
export function signDigest(key: SigningKey, digest: string): string {
  return hexlify(signDigestBytes(getBytes(digest), getBytes(key.privateKey)));
}

/** The signer of a 65-byte signature of `digest` (lowercase), or null if it does not recover. */
export function recoverSigner(digest: string, signature: string): string | null {
  if (!isHexString(signature, SIGNATURE_LENGTH)) {
    return null;
  }
  try {
    // the market refuses high-s signatures and v other than 27/28: check the raw bytes before parsing
    const s = BigInt("0x" + signature.slice(66, 130));
    const v = Number.parseInt(signature.slice(130, 132), 16);
    if (s > SECP256K1_HALF_ORDER || (v !== 27 && v !== 28)) {
      return null;
    }
    // the protocol's recovery: native libsecp256k1 in Node (a buyer checks k signatures a purchase, the
    // relayer and the bridges more: ethers' pure-JS recovery was the bridges' hot path under load)
    const signer = recoverAddress(getBytes(digest), getBytes(signature));
    return signer ? hexlify(signer) : null;
  } catch {
    return null;
  }
}

const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * Packs signatures as the market's `bytes signatures`: 1..16 concatenated 65-byte (r, s, v), in any
 * order; we sort them by signer address so that every party packs the same set to the same bytes.
 */
export function packSignatures(entries: Array<{ signer: string; signature: string }>): string {
  if (entries.length === 0 || entries.length > MAX_SIGNATURES) {
    throw new RangeError(`the market accepts 1..${MAX_SIGNATURES} signatures, got ${entries.length}`);
  }
  const sorted = [...entries].sort((a, b) => (getAddress(a.signer).toLowerCase() < getAddress(b.signer).toLowerCase() ? -1 : 1));
  for (const { signature } of sorted) {
    if (!isHexString(signature, SIGNATURE_LENGTH)) {
      throw new TypeError(`a signature must be 65 bytes of 0x-hex, got ${String(signature).slice(0, 20)}...`);
    }
  }
  return concat(sorted.map((entry) => entry.signature)).toLowerCase();
}
