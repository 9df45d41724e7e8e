// The browser's side of the platform seam (see ../_nodejs/platform.ts): no Node built-ins, no
// native addons. Hex through a lookup table, AES-256-GCM through @noble/ciphers (synchronous, so
// the same API as Node's OpenSSL path; WebCrypto's is asynchronous only).

import { gcm } from "@noble/ciphers/aes";
import type { AesGcm, NativeCrypto } from "../platform-types";

export const PLATFORM = "browser" as const;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `length` bytes for the caller to fill entirely. */
export function allocBytes(length: number): Uint8Array {
  return new Uint8Array(length);
}

export function hexSlice(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = "";
  for (let i = start; i < end; i++) out += HEX[bytes[i]];
  return out;
}

export function writeHex(target: Uint8Array, offset: number, hex: string): void {
  for (let i = 0; i < hex.length >>> 1; i++) target[offset + i] = parseInt(hex.substr(i * 2, 2), 16);
}

export function hexDecode(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export const aesGcm: AesGcm = {
  seal(key, nonce, plaintext, aad) {
    return gcm(key, nonce, aad).encrypt(plaintext);
  },
  open(key, nonce, sealed, aad) {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      return null;
    }
  },
};

export function loadNativeCrypto(): NativeCrypto | { error: string } {
  return { error: "no native addons in a browser" };
}
