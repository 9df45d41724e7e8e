// HPKE (RFC 9180) with the suite DAP makes mandatory: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM, base mode. Input shares are sealed to each aggregator's key, aggregate shares to the
// collector's one-time key.
//
// The HPKE logic (DHKEM, key schedule, nonces) is the `hpke` package's (panva/hpke). Its algorithms are
// pluggable; we take X25519 and AES-128-GCM from its WebCrypto ones (native, one call each) and the
// suite's HKDF-SHA256 from `@panva/hpke-noble` (the same project's @noble/hashes HKDF, synchronous).
// Every aggregator opens one ciphertext per report, and with an all-WebCrypto suite most of that time
// was the JavaScript side of about twenty asynchronous calls (docs/analytics.md §8): the key schedule's
// five HMAC-sized derivations are cheaper in place. Interoperability: test/hpke.test.ts checks RFC 9180
// Appendix A.1.1 and round trips with hpke-js (@hpke/core), an independent implementation.
import { createPrivateKey, createPublicKey } from "node:crypto";
import { AEAD_AES_128_GCM as AES_128_GCM, CipherSuite, KEM_DHKEM_X25519_HKDF_SHA256 as X25519, type CryptoKey, type KeyPair } from "hpke";
import { KDF_HKDF_SHA256 as HKDF_SHA256 } from "@panva/hpke-noble";
import { fromBase64Url, toBase64Url } from "./encoding";

export const KEM_X25519_HKDF_SHA256 = 0x0020;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;

/** An aggregator's (or collector's) public HPKE configuration, as in DAP's HpkeConfig. */
export interface HpkeConfig {
  /** 0..255, names the key in ciphertexts (so a key can be rotated). */
  id: number;
  kemId: number;
  kdfId: number;
  aeadId: number;
  /** X25519 public key, base64url. */
  publicKey: string;
}

export interface HpkeKeyPair {
  config: HpkeConfig;
  /** X25519 private key, base64url (secret). */
  privateKey: string;
}

/** An HPKE ciphertext: the config id it was sealed to, the encapsulated key and the AEAD payload. */
export interface HpkeCiphertext {
  configId: number;
  /** base64url */
  enc: string;
  /** base64url */
  payload: string;
}

/** The cipher suite the functions below use (exported for the interoperability tests). */
export const HPKE_SUITE = new CipherSuite(X25519, HKDF_SHA256, AES_128_GCM);
const suite = HPKE_SUITE;
const publicKeys = new Map<string, Promise<CryptoKey>>();
const keyPairs = new Map<string, Promise<KeyPair<CryptoKey>>>();

function cached<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = map.get(key);
  if (!value) {
    value = load();
    map.set(key, value);
    value.catch(() => map.delete(key));
    if (map.size > 64) map.delete(map.keys().next().value as string);
  }
  return value;
}

function checkSuite(config: HpkeConfig): void {
  if (config.kemId !== KEM_X25519_HKDF_SHA256 || config.kdfId !== KDF_HKDF_SHA256 || config.aeadId !== AEAD_AES_128_GCM) {
    throw new Error(`unsupported HPKE suite (kem ${config.kemId}, kdf ${config.kdfId}, aead ${config.aeadId}); expected X25519/HKDF-SHA256/AES-128-GCM`);
  }
  if (!Number.isInteger(config.id) || config.id < 0 || config.id > 255) throw new Error(`HPKE config id must be 0..255, got ${config.id}`);
}

/** PKCS#8 prefix of an X25519 private key (RFC 8410): the raw 32 bytes follow. */
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

/** The X25519 public key (raw, base64url) of a raw private key. */
function publicKeyOf(privateKey: Uint8Array): string {
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: "der", type: "pkcs8" });
  return createPublicKey(key).export({ format: "jwk" }).x as string;
}

/**
 * The recipient's key pair, deserialized once. Decapsulation needs the recipient's public key (RFC 9180
 * §4.1: it is part of the KEM context); handing it over with the private key spares a scalar
 * multiplication per ciphertext, so it is checked against the private key here, once.
 */
function keyPairOf(pair: HpkeKeyPair): Promise<KeyPair<CryptoKey>> {
  return cached(keyPairs, `${pair.privateKey}.${pair.config.publicKey}`, async () => {
    const privateBytes = fromBase64Url(pair.privateKey);
    if (privateBytes.length !== 32) throw new Error(`an X25519 private key is 32 bytes, got ${privateBytes.length}`);
    if (publicKeyOf(privateBytes) !== pair.config.publicKey)
      throw new Error(`HPKE config ${pair.config.id}: the public key does not belong to the private key`);
    return {
      privateKey: await suite.DeserializePrivateKey(privateBytes, false),
      publicKey: await suite.DeserializePublicKey(fromBase64Url(pair.config.publicKey)),
    };
  });
}

export async function generateHpkeKeyPair(id = 1): Promise<HpkeKeyPair> {
  const pair = await suite.GenerateKeyPair(true);
  const publicKey = await suite.SerializePublicKey(pair.publicKey);
  const privateKey = await suite.SerializePrivateKey(pair.privateKey);
  return {
    config: { id, kemId: KEM_X25519_HKDF_SHA256, kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM, publicKey: toBase64Url(publicKey) },
    privateKey: toBase64Url(privateKey),
  };
}

export async function seal(config: HpkeConfig, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<HpkeCiphertext> {
  checkSuite(config);
  const recipientPublicKey = await cached(publicKeys, config.publicKey, () => suite.DeserializePublicKey(fromBase64Url(config.publicKey)));
  const { encapsulatedSecret, ciphertext } = await suite.Seal(recipientPublicKey, plaintext, { info, aad });
  return { configId: config.id, enc: toBase64Url(encapsulatedSecret), payload: toBase64Url(ciphertext) };
}

/** Opens a ciphertext sealed to `pair`; throws when the config id, key, info or AAD do not match. */
export async function open(pair: HpkeKeyPair, ciphertext: HpkeCiphertext, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (ciphertext.configId !== pair.config.id) throw new Error(`sealed to HPKE config ${ciphertext.configId}, this key is config ${pair.config.id}`);
  const recipient = await keyPairOf(pair);
  return suite.Open(recipient, fromBase64Url(ciphertext.enc), fromBase64Url(ciphertext.payload), { info, aad });
}
