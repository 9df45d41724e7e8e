// The EIP-712 struct hash of the market's ConsentAttestation (see docs/INTERFACES.md §3). The chaincode records
// it in every access grant; the consent bridge wraps it in the market's domain separator and signs.
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils";

export const CONSENT_ATTESTATION_TYPE = "ConsentAttestation(bytes32 grantId,address buyer,bytes32 productId,bytes32 purpose,uint64 expiresAt)";
export const CONSENT_REVOCATION_TYPE = "ConsentRevocation(bytes32 grantId,uint64 revokedAt)";

export const CONSENT_ATTESTATION_TYPEHASH = keccak_256(utf8ToBytes(CONSENT_ATTESTATION_TYPE));
export const CONSENT_REVOCATION_TYPEHASH = keccak_256(utf8ToBytes(CONSENT_REVOCATION_TYPE));

const BYTES32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;

const purposeIds = new Map<string, string>();

/** bytes32 of a DPV purpose on Ethereum: keccak256(utf8(term name)), 0x-hex (computed once per term). */
export function purposeId(term: string): string {
  let id = purposeIds.get(term);
  if (id === undefined) {
    id = "0x" + bytesToHex(keccak_256(utf8ToBytes(term)));
    if (purposeIds.size < 1024) {
      purposeIds.set(term, id);
    }
  }
  return id;
}

function word(hex: string, pattern: RegExp, what: string): Uint8Array {
  if (!pattern.test(hex)) {
    throw new Error(`${what} must match ${pattern}, got ${hex}`);
  }
  const raw = hexToBytes(hex.slice(2));
  const out = new Uint8Array(32);
  out.set(raw, 32 - raw.length);
  return out;
}

function uint64Word(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`uint64 value must be a non-negative safe integer, got ${value}`);
  }
  const out = new Uint8Array(32);
  new DataView(out.buffer).setBigUint64(24, BigInt(value));
  return out;
}

export interface ConsentAttestationFields {
  /** 0x-hex bytes32 */
  grantId: string;
  /** lowercase 0x-hex address */
  buyer: string;
  /** 0x-hex bytes32 */
  productId: string;
  /** DPV term name; hashed to bytes32 here */
  purpose: string;
  /** unix seconds */
  expiresAt: number;
}

/** keccak256(typeHash ‖ grantId ‖ buyer ‖ productId ‖ keccak256(purpose) ‖ expiresAt), 0x-hex. */
export function consentAttestationStructHash(fields: ConsentAttestationFields): string {
  const encoded = new Uint8Array(32 * 6);
  encoded.set(CONSENT_ATTESTATION_TYPEHASH, 0);
  encoded.set(word(fields.grantId, BYTES32, "grantId"), 32);
  encoded.set(word(fields.buyer, ADDRESS, "buyer"), 64);
  encoded.set(word(fields.productId, BYTES32, "productId"), 96);
  encoded.set(word(purposeId(fields.purpose), BYTES32, "purpose"), 128);
  encoded.set(uint64Word(fields.expiresAt), 160);
  return "0x" + bytesToHex(keccak_256(encoded));
}

/** keccak256(typeHash ‖ grantId ‖ revokedAt), 0x-hex: what the bridge signs when a grant is invalidated. */
export function consentRevocationStructHash(grantId: string, revokedAt: number): string {
  const encoded = new Uint8Array(32 * 3);
  encoded.set(CONSENT_REVOCATION_TYPEHASH, 0);
  encoded.set(word(grantId, BYTES32, "grantId"), 32);
  encoded.set(uint64Word(revokedAt), 64);
  return "0x" + bytesToHex(keccak_256(encoded));
}
