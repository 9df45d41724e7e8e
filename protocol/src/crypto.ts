// keccak-256, SHA-256, HKDF and secp256k1 (signing, recovery, ECDH), from well-kept libraries only.
// Everywhere: pure-JS @noble. In Node, when they load: the native libsecp256k1 and keccak addons
// (the broker's verification hot path, the SDK's rekeying); DATAMARKET_CRYPTO=noble forces @noble.

import { secp256k1 as noble } from "@noble/curves/secp256k1";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 as nobleSha256 } from "@noble/hashes/sha256";
import { keccak_256 } from "@noble/hashes/sha3";
import { concatBytes, hexOf, utf8ToBytes } from "./bytes";
import { ProtocolError, ProtocolErrorCodes } from "./errors";
import { loadNativeCrypto, PLATFORM } from "./platform";

export type CryptoBackend = "native" | "noble";

// The native addons load on the first cryptographic call, not on import: a program that imports the
// package for its types or errors only (an analytics worker thread, say) never loads them.
let loaded: ReturnType<typeof loadNativeCrypto> | undefined;
const native = () => (loaded ??= loadNativeCrypto());
const nat = () => {
  const n = native();
  return "secp" in n ? n : null;
};

/** Which implementation is in use, and why the native one is not (if it is not). Reading it loads the native addons if they can load. */
export const cryptoBackend: { readonly backend: CryptoBackend; readonly platform: string; readonly nativeLoadError?: string } = {
  get backend(): CryptoBackend {
    return nat() ? "native" : "noble";
  },
  platform: PLATFORM,
  get nativeLoadError(): string | undefined {
    const n = native();
    return "error" in n ? n.error : undefined;
  },
};

/** secp256k1 group order n / 2, for the low-s rule. */
const HALF_N = BigInt("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

export function keccak256(data: Uint8Array): Uint8Array {
  const n = nat();
  return n ? n.keccak256(data) : keccak_256(data);
}

/** Pure-JS keccak-256 regardless of backend (for cross-checks and the raw-rate benchmark). */
export function keccak256Noble(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HKDF-SHA-256 (RFC 5869). */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdf(nobleSha256, ikm, salt, info, length);
}

const ETH_MESSAGE_PREFIX_32 = utf8ToBytes("\x19Ethereum Signed Message:\n32");

/** EIP-191 personal-message digest of a 32-byte hash: keccak256("\x19Ethereum Signed Message:\n32" ‖ hash). */
export function ethSignedMessageHash(hash32: Uint8Array): Uint8Array {
  return keccak256(concatBytes(ETH_MESSAGE_PREFIX_32, hash32));
}

/** EIP-191 digest of an arbitrary message (used by EIP-4361 sign-in). */
export function personalMessageHash(message: Uint8Array): Uint8Array {
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${message.length}`), message));
}

/** Ethereum address (20 bytes) of an uncompressed public key (65 bytes, 0x04 prefix). */
export function addressOfPublicKey(uncompressed: Uint8Array): Uint8Array {
  return keccak256(uncompressed.subarray(1)).subarray(12);
}

/** True when s (bytes 32..64 of r‖s‖v) is at most n/2 (EIP-2 / OpenZeppelin ECDSA rule). */
export function isLowS(signature: Uint8Array): boolean {
  const s = BigInt("0x" + hexOf(signature, 32, 64));
  return s > 0n && s <= HALF_N;
}

/**
 * Recovers the signer address from a 65-byte r‖s‖v signature (v = 27 or 28) over a 32-byte digest.
 * Returns null for a malformed, malleable (high-s) or unrecoverable signature.
 */
export function recoverAddress(digest32: Uint8Array, signature: Uint8Array): Uint8Array | null {
  if (signature.length !== 65) return null;
  const v = signature[64];
  if (v !== 27 && v !== 28) return null;
  if (!isLowS(signature)) return null;
  try {
    const n = nat();
    if (n) return addressOfPublicKey(n.secp.ecdsaRecover(signature.subarray(0, 64), v - 27, digest32, false));
    return recoverAddressNoble(digest32, signature);
  } catch {
    return null;
  }
}

/** Pure-JS recovery regardless of backend (for cross-checks and the raw-rate benchmark). */
export function recoverAddressNoble(digest32: Uint8Array, signature: Uint8Array): Uint8Array {
  const sig = noble.Signature.fromCompact(signature.subarray(0, 64)).addRecoveryBit(signature[64] - 27);
  const pub = sig.recoverPublicKey(digest32).toRawBytes(false);
  return keccak_256(pub.subarray(1)).subarray(12);
}

/** Deterministic (RFC 6979), low-s signature r‖s‖v with v = 27 + recid. */
export function signDigest(digest32: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const n = nat();
  if (n) {
    const { signature, recid } = n.secp.ecdsaSign(digest32, privateKey);
    return concatBytes(signature, Uint8Array.of(27 + recid));
  }
  const sig = noble.sign(digest32, privateKey, { lowS: true });
  return concatBytes(sig.toCompactRawBytes(), Uint8Array.of(27 + (sig.recovery ?? 0)));
}

/** Lowercase 0x address of a private key. */
export function addressOfPrivateKey(privateKey: Uint8Array): string {
  return "0x" + hexOf(addressOfPublicKey(noble.getPublicKey(privateKey, false)));
}

// --- secp256k1 keys for ECIES ------------------------------------------------------------------

export const PRIVATE_KEY_LENGTH = 32;
export const COMPRESSED_PUBLIC_KEY_LENGTH = 33;

function invalidKey(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ProtocolErrorCodes.INVALID_KEY, message, details);
}

export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  if (privateKey.length !== PRIVATE_KEY_LENGTH) return false;
  const n = nat();
  return n ? n.secp.privateKeyVerify(privateKey) : noble.utils.isValidPrivateKey(privateKey);
}

/** Compressed (33-byte) public key of a private key: the form the stream registry stores. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (!isValidPrivateKey(privateKey)) throw invalidKey("not a valid secp256k1 private key (32 bytes, 1..n-1)");
  const n = nat();
  return n ? n.secp.publicKeyCreate(privateKey, true) : noble.getPublicKey(privateKey, true);
}

function pointOk(publicKey: Uint8Array): boolean {
  try {
    noble.ProjectivePoint.fromHex(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
}

/** Checks a 33-byte compressed public key is a point on the curve; throws INVALID_KEY otherwise. */
export function assertCompressedPublicKey(publicKey: Uint8Array, what = "public key"): void {
  const n = nat();
  const ok =
    publicKey.length === COMPRESSED_PUBLIC_KEY_LENGTH &&
    (publicKey[0] === 2 || publicKey[0] === 3) &&
    (n ? n.secp.publicKeyVerify(publicKey) : pointOk(publicKey));
  if (!ok) throw invalidKey(`${what} is not a 33-byte compressed secp256k1 point`, { publicKey: hexOf(publicKey) });
}

/** Returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** The platform's CSPRNG (WebCrypto getRandomValues: Node 20 and every browser). */
export const defaultRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
};

/**
 * A RandomSource that returns the given byte strings in order (each request must ask for exactly
 * the next one's length). For test vectors only: never use fixed randomness to encrypt real data.
 */
export function fixedRandom(values: Uint8Array[]): RandomSource {
  let next = 0;
  return (length) => {
    const value = values[next++];
    if (value === undefined) throw new Error(`fixedRandom: no value left for request #${next}`);
    if (value.length !== length) throw new Error(`fixedRandom: request #${next} wants ${length} bytes, the vector has ${value.length}`);
    return value;
  };
}

/** A fresh key pair from the random source (retries the ~2^-128 case of an out-of-range scalar). */
export function generateKeyPair(random: RandomSource = defaultRandom): { privateKey: Uint8Array; publicKey: Uint8Array } {
  for (;;) {
    const privateKey = random(PRIVATE_KEY_LENGTH);
    if (isValidPrivateKey(privateKey)) return { privateKey, publicKey: publicKeyOf(privateKey) };
  }
}

/**
 * ECDH shared secret Z = SHA-256(compressed shared point), 32 bytes. This is exactly
 * libsecp256k1's default `secp256k1_ecdh` output, so the native and the noble paths agree.
 */
export function ecdhSecret(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    const n = nat();
    return n ? n.secp.ecdh(publicKey, privateKey) : sha256(noble.getSharedSecret(privateKey, publicKey, true));
  } catch (err) {
    throw new ProtocolError(ProtocolErrorCodes.INVALID_KEY, `ECDH failed: ${(err as Error).message}`, {}, { cause: err });
  }
}

/** Pure-JS ECDH regardless of backend (cross-checks). */
export function ecdhSecretNoble(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return sha256(noble.getSharedSecret(privateKey, publicKey, true));
}
