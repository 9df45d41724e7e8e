// AES-256-GCM from node:crypto (OpenSSL): 12-byte nonce, 16-byte tag, sealed = ciphertext ‖ tag.

import { createCipheriv, createDecipheriv } from "node:crypto";
import { SdkError, SdkErrorCodes } from "../errors";

export const AES_KEY_LENGTH = 32;
export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

/** Encrypts; returns ciphertext ‖ tag (plaintext length + 16 bytes). */
export function aesGcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  checkLengths(key, nonce);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
  if (aad) cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([body, final, cipher.getAuthTag()]);
}

/** Decrypts ciphertext ‖ tag; throws DECRYPTION_FAILED if the tag does not verify. */
export function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer {
  checkLengths(key, nonce);
  if (sealed.length < GCM_TAG_LENGTH) {
    throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `sealed data of ${sealed.length} bytes is shorter than the 16-byte tag`);
  }
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: GCM_TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_LENGTH));
  if (aad) decipher.setAAD(aad);
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - GCM_TAG_LENGTH)), decipher.final()]);
  } catch {
    throw new SdkError(SdkErrorCodes.DECRYPTION_FAILED, "AES-GCM authentication failed (wrong key or tampered data)");
  }
}

function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AES_KEY_LENGTH) throw new SdkError(SdkErrorCodes.INVALID_KEY, `AES-256 key must be 32 bytes, got ${key.length}`);
  if (nonce.length !== GCM_NONCE_LENGTH) throw new SdkError(SdkErrorCodes.INVALID_KEY, `GCM nonce must be 12 bytes, got ${nonce.length}`);
}
