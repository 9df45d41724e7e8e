// Group keys: the AES-256-GCM keys that encrypt a stream's event contents (and a dataset's records).
// A group-key id commits to the key and its resource, so a receiver checks any key it is given.

import { createHash } from "node:crypto";
import { SdkError, SdkErrorCodes } from "../errors";
import { AES_KEY_LENGTH, GCM_NONCE_LENGTH, GCM_TAG_LENGTH, aesGcmOpen, aesGcmSeal } from "./aead";
import { hexToBytes, toHex } from "./bytes";
import { defaultRandom, type RandomSource } from "./random";

const GROUP_KEY_ID_DOMAIN = Buffer.from("datamarket/group-key-id/v1", "utf8");

/** groupKeyId = SHA-256(utf8("datamarket/group-key-id/v1") ‖ resourceId (32) ‖ key (32)), 0x-hex. */
export function groupKeyIdOf(resourceId: string, key: Uint8Array): string {
  if (key.length !== AES_KEY_LENGTH) throw new SdkError(SdkErrorCodes.INVALID_KEY, `group key must be 32 bytes, got ${key.length}`);
  return toHex(createHash("sha256").update(GROUP_KEY_ID_DOMAIN).update(hexToBytes(resourceId, 32, "resourceId")).update(key).digest());
}

/** An AES-256 group key bound to one resource (stream or dataset). */
export class GroupKey {
  readonly id: string;
  constructor(
    /** 0x-hex resource id (stream or dataset). */
    readonly resourceId: string,
    readonly key: Buffer,
  ) {
    this.id = groupKeyIdOf(resourceId, key);
  }

  static generate(resourceId: string, random: RandomSource = defaultRandom): GroupKey {
    return new GroupKey(resourceId.toLowerCase(), Buffer.from(random(AES_KEY_LENGTH)));
  }

  /** Rebuilds a received key and checks it is the one `expectedId` names. */
  static fromReceived(resourceId: string, key: Uint8Array, expectedId: string): GroupKey {
    const gk = new GroupKey(resourceId.toLowerCase(), Buffer.from(key));
    if (gk.id !== expectedId.toLowerCase()) {
      throw new SdkError(SdkErrorCodes.GROUP_KEY_ID_MISMATCH, "the received key does not hash to its group-key id", { expected: expectedId, actual: gk.id });
    }
    return gk;
  }

  /** AAD of event contents: resourceId (32) ‖ groupKeyId (32). */
  private aad(): Buffer {
    return Buffer.concat([hexToBytes(this.resourceId, 32, "resourceId"), hexToBytes(this.id, 32, "groupKeyId")]);
  }

  /** Encrypted content = nonce (12) ‖ AES-256-GCM ciphertext ‖ tag (16); AAD = resourceId ‖ groupKeyId. */
  encrypt(plaintext: Uint8Array, random: RandomSource = defaultRandom): Buffer {
    const nonce = random(GCM_NONCE_LENGTH);
    return Buffer.concat([nonce, aesGcmSeal(this.key, nonce, plaintext, this.aad())]);
  }

  decrypt(content: Uint8Array): Buffer {
    if (content.length < GCM_NONCE_LENGTH + GCM_TAG_LENGTH) {
      throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `encrypted content of ${content.length} bytes is shorter than nonce + tag (28)`);
    }
    const buf = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    return aesGcmOpen(this.key, buf.subarray(0, GCM_NONCE_LENGTH), buf.subarray(GCM_NONCE_LENGTH), this.aad());
  }
}
