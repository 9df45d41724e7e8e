// HPKE (RFC 9180) with the suite DAP makes mandatory: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-128-GCM, base mode, from @hpke/core (the hpke-js project that @divviup/dap itself uses; X25519,
// HKDF and AES-GCM come from the platform's WebCrypto). Input shares are sealed to each aggregator's
// key, aggregate shares to the collector's one-time key.
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
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

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
type Key = Awaited<ReturnType<typeof suite.kem.deserializePublicKey>>;
const publicKeys = new Map<string, Promise<Key>>();
const privateKeys = new Map<string, Promise<Key>>();

function cached(map: Map<string, Promise<Key>>, key: string, load: () => Promise<Key>): Promise<Key> {
  let value = map.get(key);
  if (!value) {
    value = load();
    map.set(key, value);
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

export async function generateHpkeKeyPair(id = 1): Promise<HpkeKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  const publicKey = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  const privateKey = new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey));
  return {
    config: { id, kemId: KEM_X25519_HKDF_SHA256, kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM, publicKey: toBase64Url(publicKey) },
    privateKey: toBase64Url(privateKey),
  };
}

export async function seal(config: HpkeConfig, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<HpkeCiphertext> {
  checkSuite(config);
  const recipientPublicKey = await cached(publicKeys, config.publicKey, () => suite.kem.deserializePublicKey(fromBase64Url(config.publicKey)));
  const sealed = await suite.seal({ recipientPublicKey, info }, plaintext, aad);
  return { configId: config.id, enc: toBase64Url(new Uint8Array(sealed.enc)), payload: toBase64Url(new Uint8Array(sealed.ct)) };
}

/** Opens a ciphertext sealed to `pair`; throws when the config id, key, info or AAD do not match. */
export async function open(pair: HpkeKeyPair, ciphertext: HpkeCiphertext, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (ciphertext.configId !== pair.config.id) throw new Error(`sealed to HPKE config ${ciphertext.configId}, this key is config ${pair.config.id}`);
  const recipientKey = await cached(privateKeys, pair.privateKey, () => suite.kem.deserializePrivateKey(fromBase64Url(pair.privateKey)));
  const plaintext = await suite.open({ recipientKey, enc: fromBase64Url(ciphertext.enc), info }, fromBase64Url(ciphertext.payload), aad);
  return new Uint8Array(plaintext);
}
