// keccak-256 and secp256k1 recovery/signing. Hot path: the native libsecp256k1 and keccak
// bindings (loaded from their bundled prebuilds); fallback: pure-JS @noble (1.x, CommonJS).
// Set BROKER_CRYPTO=noble to force the fallback (tests run both).

import { keccak_256 } from "@noble/hashes/sha3";
import { secp256k1 as nobleSecp } from "@noble/curves/secp256k1";
import { dirname } from "node:path";

export type CryptoBackend = "native" | "noble";

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
}
/** The keccak package's native sponge (its JS API wraps it in a stream per hash, 2-3x slower). */
interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Buffer;
}

function loadNative(): { secp: NativeSecp256k1; keccakState: NativeKeccakState } | { error: string } {
  try {
    // Require the compiled addons themselves: they throw when missing, unlike the packages'
    // main entries, which silently fall back to slow JS.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const secp = require("secp256k1/bindings") as NativeSecp256k1;
    const keccakDir = dirname(require.resolve("keccak/package.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require(require.resolve("node-gyp-build", { paths: [keccakDir] })) as (dir: string) => unknown;
    const KeccakState = nodeGypBuild(keccakDir);
    if (typeof KeccakState !== "function") throw new Error("the keccak native addon did not load");
    return { secp, keccakState: new (KeccakState as new () => NativeKeccakState)() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const native = process.env.BROKER_CRYPTO === "noble" ? { error: "forced by BROKER_CRYPTO=noble" } : loadNative();

/** Which implementation is in use, and why the native one is not (if it is not). */
export const cryptoBackend: { backend: CryptoBackend; nativeLoadError?: string } =
  "secp" in native ? { backend: "native" } : { backend: "noble", nativeLoadError: native.error };

/** secp256k1 group order n and n/2, for the low-s rule. */
const HALF_N = BigInt("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

export function keccak256(data: Uint8Array): Buffer {
  if ("secp" in native) {
    // One sponge reused: JavaScript is single-threaded and each call runs to completion.
    const st = native.keccakState;
    st.initialize(1088, 512); // Keccak-256: rate 1088 bits, capacity 512
    st.absorb(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    st.absorbLastFewBits(0x01); // original Keccak padding (not SHA-3's 0x06)
    return st.squeeze(32);
  }
  return Buffer.from(keccak_256(data));
}

/** Pure-JS keccak-256 regardless of backend (for cross-checks and the raw-rate benchmark). */
export function keccak256Noble(data: Uint8Array): Buffer {
  return Buffer.from(keccak_256(data));
}

const ETH_MESSAGE_PREFIX_32 = Buffer.from("\x19Ethereum Signed Message:\n32", "utf8");

/** EIP-191 personal-message digest of a 32-byte hash: keccak256("\x19Ethereum Signed Message:\n32" ‖ hash). */
export function ethSignedMessageHash(hash32: Uint8Array): Buffer {
  return keccak256(Buffer.concat([ETH_MESSAGE_PREFIX_32, hash32]));
}

/** EIP-191 digest of an arbitrary message (used by EIP-4361 sign-in). */
export function personalMessageHash(message: Uint8Array): Buffer {
  const prefix = Buffer.from(`\x19Ethereum Signed Message:\n${message.length}`, "utf8");
  return keccak256(Buffer.concat([prefix, message]));
}

/** Ethereum address (20 bytes) of an uncompressed public key (65 bytes, 0x04 prefix). */
export function addressOfPublicKey(uncompressed: Uint8Array): Buffer {
  return keccak256(uncompressed.subarray(1)).subarray(12);
}

/** True when s (bytes 32..64 of r‖s‖v) is at most n/2 (EIP-2 / OpenZeppelin ECDSA rule). */
export function isLowS(signature: Uint8Array): boolean {
  const s = BigInt("0x" + Buffer.from(signature.subarray(32, 64)).toString("hex"));
  return s > 0n && s <= HALF_N;
}

/**
 * Recovers the signer address from a 65-byte r‖s‖v signature (v = 27 or 28) over a 32-byte digest.
 * Returns null for a malformed, malleable (high-s) or unrecoverable signature.
 */
export function recoverAddress(digest32: Uint8Array, signature: Uint8Array): Buffer | null {
  if (signature.length !== 65) return null;
  const v = signature[64];
  if (v !== 27 && v !== 28) return null;
  if (!isLowS(signature)) return null;
  const recid = v - 27;
  try {
    if ("secp" in native) {
      const pub = native.secp.ecdsaRecover(signature.subarray(0, 64), recid, digest32, false);
      return addressOfPublicKey(pub);
    }
    return recoverAddressNoble(digest32, signature);
  } catch {
    return null;
  }
}

/** Pure-JS recovery regardless of backend (for cross-checks and the raw-rate benchmark). */
export function recoverAddressNoble(digest32: Uint8Array, signature: Uint8Array): Buffer {
  const sig = nobleSecp.Signature.fromCompact(signature.subarray(0, 64)).addRecoveryBit(signature[64] - 27);
  const pub = sig.recoverPublicKey(digest32).toRawBytes(false);
  return Buffer.from(keccak_256(pub.subarray(1))).subarray(12);
}

/** Deterministic (RFC 6979), low-s signature r‖s‖v with v = 27 + recid. */
export function signDigest(digest32: Uint8Array, privateKey: Uint8Array): Buffer {
  if ("secp" in native) {
    const { signature, recid } = native.secp.ecdsaSign(digest32, privateKey);
    return Buffer.concat([signature, Buffer.from([27 + recid])]);
  }
  const sig = nobleSecp.sign(digest32, privateKey, { lowS: true });
  return Buffer.concat([Buffer.from(sig.toCompactRawBytes()), Buffer.from([27 + (sig.recovery ?? 0)])]);
}

/** Lowercase 0x address of a private key. */
export function addressOfPrivateKey(privateKey: Uint8Array): string {
  const pub = nobleSecp.getPublicKey(privateKey, false);
  return "0x" + addressOfPublicKey(pub).toString("hex");
}
