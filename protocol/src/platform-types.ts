// The shapes both platform modules (_nodejs/, _browser/) implement.

export interface AesGcm {
  /** AES-256-GCM with a 16-byte tag; returns ciphertext ‖ tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array;
  /** Returns the plaintext, or null when the tag does not verify. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null;
}

export interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean, output?: Uint8Array): Uint8Array;
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  privateKeyVerify(privateKey: Uint8Array): boolean;
  publicKeyVerify(publicKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  ecdh(publicKey: Uint8Array, privateKey: Uint8Array): Uint8Array;
}

/** The keccak package's native sponge (its JS API wraps it in a stream per hash, 2-3x slower). */
export interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Uint8Array): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Uint8Array;
}

export interface NativeCrypto {
  secp: NativeSecp256k1;
  /** keccak-256 through the native sponge. */
  keccak256(data: Uint8Array): Uint8Array;
}
