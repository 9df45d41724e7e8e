// Group keys: the AES-256-GCM keys that encrypt a stream's event contents (and a dataset's records).
// A group-key id commits to the key and its resource, so a receiver checks any key it is given.

import { concatBytes, hexToBytes, toHex, utf8ToBytes } from "../bytes";
import { defaultRandom, sha256, type RandomSource } from "../crypto";
import { ProtocolError, ProtocolErrorCodes } from "../errors";
import { aesGcm } from "../platform";

export const AES_KEY_LENGTH = 32;
export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== AES_KEY_LENGTH) throw new ProtocolError(ProtocolErrorCodes.INVALID_KEY, `AES-256 key must be 32 bytes, got ${key.length}`);
  if (nonce.length !== GCM_NONCE_LENGTH) throw new ProtocolError(ProtocolErrorCodes.INVALID_KEY, `GCM nonce must be 12 bytes, got ${nonce.length}`);
}

/** AES-256-GCM encryption; returns ciphertext ‖ tag (plaintext length + 16 bytes). */
export function aesGcmSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  checkLengths(key, nonce);
  return aesGcm.seal(key, nonce, plaintext, aad);
}

/** Decrypts ciphertext ‖ tag; throws DECRYPTION_FAILED if the tag does not verify. */
export function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  checkLengths(key, nonce);
  if (sealed.length < GCM_TAG_LENGTH) {
    throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `sealed data of ${sealed.length} bytes is shorter than the 16-byte tag`);
  }
  const plaintext = aesGcm.open(key, nonce, sealed, aad);
  if (plaintext === null) throw new ProtocolError(ProtocolErrorCodes.DECRYPTION_FAILED, "AES-GCM authentication failed (wrong key or tampered data)");
  return plaintext;
}

const GROUP_KEY_ID_DOMAIN = utf8ToBytes("datamarket/group-key-id/v1");

/** groupKeyId = SHA-256(utf8("datamarket/group-key-id/v1") ‖ resourceId (32) ‖ key (32)), 0x-hex. */
export function groupKeyIdOf(resourceId: string, key: Uint8Array): string {
  if (key.length !== AES_KEY_LENGTH) throw new ProtocolError(ProtocolErrorCodes.INVALID_KEY, `group key must be 32 bytes, got ${key.length}`);
  return toHex(sha256(GROUP_KEY_ID_DOMAIN, hexToBytes(resourceId, 32, "resourceId"), key));
}

/** An AES-256 group key bound to one resource (stream or dataset). */
export class GroupKey {
  readonly id: string;
  private readonly aad: Uint8Array;
  constructor(
    /** 0x-hex resource id (stream or dataset). */
    readonly resourceId: string,
    readonly key: Uint8Array,
  ) {
    this.id = groupKeyIdOf(resourceId, key);
    this.aad = concatBytes(hexToBytes(this.resourceId, 32, "resourceId"), hexToBytes(this.id, 32, "groupKeyId"));
  }

  static generate(resourceId: string, random: RandomSource = defaultRandom): GroupKey {
    return new GroupKey(resourceId.toLowerCase(), Uint8Array.from(random(AES_KEY_LENGTH)));
  }

  /** Rebuilds a received key and checks it is the one `expectedId` names. */
  static fromReceived(resourceId: string, key: Uint8Array, expectedId: string): GroupKey {
    const gk = new GroupKey(resourceId.toLowerCase(), Uint8Array.from(key));
    if (gk.id !== expectedId.toLowerCase()) {
      throw new ProtocolError(ProtocolErrorCodes.GROUP_KEY_ID_MISMATCH, "the received key does not hash to its group-key id", {
        expected: expectedId,
        actual: gk.id,
      });
    }
    return gk;
  }

  /** Encrypted content = nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16); AAD = resourceId (32) ‖ groupKeyId (32). */
  encrypt(plaintext: Uint8Array, random: RandomSource = defaultRandom): Uint8Array {
    const nonce = random(GCM_NONCE_LENGTH);
    return concatBytes(nonce, aesGcmSeal(this.key, nonce, plaintext, this.aad));
  }

  decrypt(content: Uint8Array): Uint8Array {
    if (content.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) {
      throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `encrypted content of ${content.length} bytes is shorter than nonce + tag (28)`);
    }
    return aesGcmOpen(this.key, content.subarray(0, GCM_NONCE_LENGTH), content.subarray(GCM_NONCE_LENGTH), this.aad);
  }
}
