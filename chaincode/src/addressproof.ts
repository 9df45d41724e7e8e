// Proof that the buyer's Ethereum address belongs to the caller: either a certificate attribute
// issued by the caller's organisation, or an EIP-191 personal_sign signature by that address over a
// message that binds the caller's Fabric identity and the request, verified here with @noble/curves.
import { secp256k1 } from "@noble/curves/secp256k1";
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils";

/** What the buyer signs: it names the chain of trust (MSP + certificate id) and the request. */
export interface AddressProofMessage {
  mspId: string;
  clientId: string;
  address: string;
  target: string;
  purpose: string;
}

/** The exact text signed with personal_sign (EIP-191 version 0x45), one field per line. */
export function addressProofText(message: AddressProofMessage): string {
  return [
    "DataMarket consent ledger: I control this address and request access.",
    `address: ${message.address}`,
    `msp: ${message.mspId}`,
    `identity: ${message.clientId}`,
    `target: ${message.target}`,
    `purpose: ${message.purpose}`,
  ].join("\n");
}

/** EIP-191 digest: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ text). */
export function personalSignDigest(text: string): Uint8Array {
  const body = utf8ToBytes(text);
  const prefix = utf8ToBytes(`\x19Ethereum Signed Message:\n${body.length}`);
  return keccak_256(concatBytes(prefix, body));
}

/** Lowercase 0x address of an uncompressed or compressed secp256k1 public key. */
export function addressOfPublicKey(publicKey: Uint8Array): string {
  const uncompressed = secp256k1.ProjectivePoint.fromHex(publicKey).toRawBytes(false);
  return "0x" + bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
}

/**
 * Recovers the signer of a 65-byte r‖s‖v signature (v = 27/28 or 0/1) over `text`.
 * Returns null when the signature is malformed or does not recover (never throws on bad input).
 */
export function recoverPersonalSignAddress(text: string, signatureHex: string): string | null {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signatureHex)) {
    return null;
  }
  const raw = hexToBytes(signatureHex.slice(2));
  const v = raw[64];
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) {
    return null;
  }
  try {
    const signature = secp256k1.Signature.fromCompact(raw.subarray(0, 64)).addRecoveryBit(recovery);
    if (signature.hasHighS()) {
      return null; // EIP-2: reject malleable signatures
    }
    const publicKey = signature.recoverPublicKey(personalSignDigest(text));
    return addressOfPublicKey(publicKey.toRawBytes(false));
  } catch {
    return null;
  }
}
