// secp256k1 for ECIES: key creation and ECDH. Hot path (rekeying for many recipients): the native
// libsecp256k1 binding from its bundled prebuild; fallback: pure-JS @noble/curves 1.x.
// SDK_CRYPTO=noble forces the fallback (the tests cross-check both).

import { createHash } from "node:crypto";
import { secp256k1 as noble } from "@noble/curves/secp256k1";
import { SdkError, SdkErrorCodes } from "../errors";
import { defaultRandom, type RandomSource } from "./random";

interface NativeSecp256k1 {
  privateKeyVerify(privateKey: Uint8Array): boolean;
  publicKeyVerify(publicKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyConvert(publicKey: Uint8Array, compressed?: boolean): Uint8Array;
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array;
}

function loadNative(): NativeSecp256k1 | string {
  if (process.env.SDK_CRYPTO === "noble") return "forced by SDK_CRYPTO=noble";
  try {
    // `bindings` throws when the compiled addon is missing (the main entry silently falls back to elliptic).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("secp256k1/bindings") as NativeSecp256k1;
  } catch (err) {
    return (err as Error).message;
  }
}

const native = loadNative();

/** Which implementation is in use, and why not the native one (if not). */
export const eciesBackend: { backend: "native" | "noble"; nativeLoadError?: string } =
  typeof native === "string" ? { backend: "noble", nativeLoadError: native } : { backend: "native" };

export const PRIVATE_KEY_LENGTH = 32;
export const COMPRESSED_PUBLIC_KEY_LENGTH = 33;

function invalidKey(message: string, details: Record<string, unknown> = {}): SdkError {
  return new SdkError(SdkErrorCodes.INVALID_KEY, message, details);
}

export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  if (privateKey.length !== PRIVATE_KEY_LENGTH) return false;
  return typeof native === "string" ? noble.utils.isValidPrivateKey(privateKey) : native.privateKeyVerify(privateKey);
}

/** Compressed (33-byte) public key of a private key: the form the stream registry stores. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  if (!isValidPrivateKey(privateKey)) throw invalidKey("not a valid secp256k1 private key (32 bytes, 1..n-1)");
  return typeof native === "string" ? noble.getPublicKey(privateKey, true) : native.publicKeyCreate(privateKey, true);
}

/** Checks a 33-byte compressed public key is a point on the curve; throws INVALID_KEY otherwise. */
export function assertCompressedPublicKey(publicKey: Uint8Array, what = "public key"): void {
  const ok =
    publicKey.length === COMPRESSED_PUBLIC_KEY_LENGTH &&
    (publicKey[0] === 2 || publicKey[0] === 3) &&
    (typeof native === "string" ? pointOk(publicKey) : native.publicKeyVerify(publicKey));
  if (!ok) throw invalidKey(`${what} is not a 33-byte compressed secp256k1 point`, { publicKey: Buffer.from(publicKey).toString("hex") });
}

function pointOk(publicKey: Uint8Array): boolean {
  try {
    noble.ProjectivePoint.fromHex(publicKey).assertValidity();
    return true;
  } catch {
    return false;
  }
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
  if (typeof native !== "string") {
    try {
      return native.ecdh(publicKey, privateKey);
    } catch (err) {
      throw invalidKey(`ECDH failed: ${(err as Error).message}`);
    }
  }
  let point: Uint8Array;
  try {
    point = noble.getSharedSecret(privateKey, publicKey, true);
  } catch (err) {
    throw invalidKey(`ECDH failed: ${(err as Error).message}`);
  }
  return createHash("sha256").update(point).digest();
}

/** Pure-JS ECDH regardless of backend (cross-checks). */
export function ecdhSecretNoble(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return createHash("sha256").update(noble.getSharedSecret(privateKey, publicKey, true)).digest();
}
