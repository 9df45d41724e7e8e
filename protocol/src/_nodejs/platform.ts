// Node's side of the platform seam (the browser's twin is ../_browser/platform.ts; the browser build
// swaps one for the other, nothing else asks which platform it runs on): Buffer's native hex codec,
// OpenSSL's AES-256-GCM, and the native libsecp256k1 / keccak addons as an optional speed-up.
// DATAMARKET_CRYPTO=noble (or the older BROKER_CRYPTO / SDK_CRYPTO) forces the pure-JS @noble path.

import { createCipheriv, createDecipheriv } from "node:crypto";
import { dirname } from "node:path";
import type { AesGcm, NativeCrypto, NativeKeccakState, NativeSecp256k1 } from "../platform-types";

export const PLATFORM = "node" as const;

/**
 * `length` bytes for the caller to fill entirely: a Buffer from Node's pool for small sizes (an
 * ArrayBuffer per frame, digest and signature was measurable on the signing path), not zeroed.
 */
export function allocBytes(length: number): Uint8Array {
  return Buffer.allocUnsafe(length);
}

/** Lowercase hex of bytes[start, end) (no 0x): Buffer's native codec. */
export function hexSlice(bytes: Uint8Array, start = 0, end = bytes.length): string {
  // A Buffer (what the broker decodes) is encoded in place; any other view through a Buffer over its memory.
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString("hex", start, end);
}

/** Writes an even-length string of hex digits (no 0x; checked by the caller) into `target` at `offset`. */
export function writeHex(target: Uint8Array, offset: number, hex: string): void {
  (Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength)).write(hex, offset, hex.length >>> 1, "hex");
}

/** Bytes of an even-length string of hex digits (no 0x; the caller has checked the digits). */
export function hexDecode(hex: string): Uint8Array {
  const out = Buffer.from(hex, "hex");
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export const aesGcm: AesGcm = {
  seal(key, nonce, plaintext, aad) {
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
    if (aad) cipher.setAAD(aad);
    const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
  open(key, nonce, sealed, aad) {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    if (aad) decipher.setAAD(aad);
    try {
      const out = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch {
      return null;
    }
  },
};

/** Loads the native addons, or says why not. */
export function loadNativeCrypto(): NativeCrypto | { error: string } {
  const forced = process.env.DATAMARKET_CRYPTO ?? process.env.BROKER_CRYPTO ?? process.env.SDK_CRYPTO;
  if (forced === "noble") return { error: "forced by DATAMARKET_CRYPTO=noble" };
  try {
    // CommonJS (ts-node, the .js build) has `require`; the ES-module build defines one in its banner
    // (createRequire(import.meta.url), tsup.config.ts).
    if (typeof require !== "function") throw new Error("no require() to load native addons with");
    const req = require;
    // Require the compiled addons themselves: they throw when missing, unlike the packages' main
    // entries, which silently fall back to slow JS.
    const secp = req("secp256k1/bindings") as NativeSecp256k1;
    const keccakDir = dirname(req.resolve("keccak/package.json"));
    const nodeGypBuild = req(req.resolve("node-gyp-build", { paths: [keccakDir] })) as (dir: string) => unknown;
    const KeccakState = nodeGypBuild(keccakDir);
    if (typeof KeccakState !== "function") throw new Error("the keccak native addon did not load");
    // One sponge reused: JavaScript is single-threaded and each call runs to completion.
    const sponge = new (KeccakState as new () => NativeKeccakState)();
    const keccak256 = (data: Uint8Array): Uint8Array => {
      sponge.initialize(1088, 512); // Keccak-256: rate 1088 bits, capacity 512
      sponge.absorb(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      sponge.absorbLastFewBits(0x01); // original Keccak padding (not SHA-3's 0x06)
      return sponge.squeeze(32);
    };
    return { secp, keccak256 };
  } catch (err) {
    return { error: (err as Error).message };
  }
}
