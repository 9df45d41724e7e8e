// Multi-recipient ECIES on secp256k1 (library primitives only: libsecp256k1 or @noble/curves ECDH,
// HKDF-SHA-256, AES-256-GCM). One ephemeral key per message, one HKDF-derived key-encryption key
// per recipient; the layout is in docs/protocol.md "Key exchange".

import { concatBytes, utf8ToBytes } from "../bytes";
import { assertCompressedPublicKey, defaultRandom, ecdhSecret, generateKeyPair, hkdfSha256, publicKeyOf, type RandomSource } from "../crypto";
import { ProtocolError, ProtocolErrorCodes } from "../errors";
import { aesGcmOpen, aesGcmSeal, GCM_NONCE_LENGTH } from "./groupKey";

const KEK_INFO = utf8ToBytes("datamarket/ecies-kek/v1");

/**
 * KEK = HKDF-SHA-256(ikm = Z, salt = ephemeralPublicKey (33) ‖ recipientPublicKey (33),
 *                    info = utf8("datamarket/ecies-kek/v1"), length = 32)
 * where Z = SHA-256(compressed ECDH point). Salting with both public keys binds each KEK to its
 * recipient, which makes reusing one ephemeral key for many recipients safe.
 */
export function deriveKek(sharedSecret: Uint8Array, ephemeralPublicKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  return hkdfSha256(sharedSecret, concatBytes(ephemeralPublicKey, recipientPublicKey), KEK_INFO, 32);
}

export interface EciesRecipient {
  /** 0x lowercase address (names the entry, goes into its AAD). */
  address: string;
  /** 33-byte compressed secp256k1 key registered in the stream registry. */
  publicKey: Uint8Array;
}

export interface WrappedEntry {
  address: string;
  nonce: Uint8Array;
  /** AES-256-GCM(KEK, nonce, payload, aad = aadPrefix ‖ address) = ciphertext ‖ tag. */
  sealed: Uint8Array;
}

export interface WrappedForRecipients {
  ephemeralPublicKey: Uint8Array;
  entries: WrappedEntry[];
}

/**
 * Encrypts `payload` for every recipient under one fresh ephemeral key;
 * `aadFor(ephemeralPublicKey, address)` gives each entry's associated data.
 */
export function wrapForRecipients(
  payload: Uint8Array,
  recipients: readonly EciesRecipient[],
  aadFor: (ephemeralPublicKey: Uint8Array, address: string) => Uint8Array,
  random: RandomSource = defaultRandom,
): WrappedForRecipients {
  const ephemeral = generateKeyPair(random);
  const entries: WrappedEntry[] = new Array(recipients.length);
  for (let i = 0; i < recipients.length; i++) {
    const r = recipients[i];
    // Shape check only: ECDH itself parses the point and refuses one that is not on the curve.
    if (r.publicKey.length !== 33 || (r.publicKey[0] !== 2 && r.publicKey[0] !== 3)) assertCompressedPublicKey(r.publicKey, `encryption key of ${r.address}`);
    const kek = deriveKek(ecdhSecret(ephemeral.privateKey, r.publicKey), ephemeral.publicKey, r.publicKey);
    const nonce = random(GCM_NONCE_LENGTH);
    entries[i] = { address: r.address, nonce, sealed: aesGcmSeal(kek, nonce, payload, aadFor(ephemeral.publicKey, r.address)) };
  }
  return { ephemeralPublicKey: ephemeral.publicKey, entries };
}

/** Decrypts one entry with the recipient's private key; DECRYPTION_FAILED if it was not for this key. */
export function unwrapEntry(privateKey: Uint8Array, ephemeralPublicKey: Uint8Array, entry: WrappedEntry, aad: Uint8Array): Uint8Array {
  assertCompressedPublicKey(ephemeralPublicKey, "ephemeral public key");
  const recipientPublicKey = publicKeyOf(privateKey);
  const kek = deriveKek(ecdhSecret(privateKey, ephemeralPublicKey), ephemeralPublicKey, recipientPublicKey);
  try {
    return aesGcmOpen(kek, entry.nonce, entry.sealed, aad);
  } catch (err) {
    if (err instanceof ProtocolError && err.code === ProtocolErrorCodes.DECRYPTION_FAILED) {
      throw new ProtocolError(
        ProtocolErrorCodes.DECRYPTION_FAILED,
        `the key entry for ${entry.address} does not open with this private key`,
        { address: entry.address },
        { cause: err },
      );
    }
    throw err;
  }
}
