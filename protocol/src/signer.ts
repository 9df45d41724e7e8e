// What signs the protocol's messages: anything with an EIP-191 `signMessage` (an ethers Signer, a
// wallet behind EIP-1193, or PrivateKeySigner below). Signatures are normalised to r ‖ s ‖ v with
// v ∈ {27, 28} and checked to be low-s, the form every verifier of the protocol accepts.

import { hexToBytes, toHex } from "./bytes";
import { addressOfPrivateKey, isLowS, personalMessageHash, signDigest } from "./crypto";
import { ProtocolError, ProtocolErrorCodes } from "./errors";

export interface MessageSigner {
  /** EIP-191 personal-message signature of `message` (bytes signed as bytes, a string as UTF-8), 0x + 65 bytes. */
  signMessage(message: string | Uint8Array): Promise<string>;
}

/** A 0x-hex 65-byte signature as bytes with v ∈ {27, 28}; INVALID_SIGNATURE for any other shape or a high s. */
export function normalizeSignature(signatureHex: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(signatureHex, 65, "signature");
  } catch (err) {
    throw new ProtocolError(
      ProtocolErrorCodes.INVALID_SIGNATURE,
      "the signer returned a signature that is not 65 bytes of hex",
      { signature: signatureHex },
      { cause: err },
    );
  }
  const v = bytes[64];
  if (v === 0 || v === 1) bytes[64] = v + 27;
  else if (v !== 27 && v !== 28) throw new ProtocolError(ProtocolErrorCodes.INVALID_SIGNATURE, `signature v must be 0, 1, 27 or 28, got ${v}`);
  if (!isLowS(bytes)) throw new ProtocolError(ProtocolErrorCodes.INVALID_SIGNATURE, "the signer returned a high-s (malleable) signature");
  return bytes;
}

/** Signs with a raw 32-byte private key (tests, vectors, services with a key of their own). */
export class PrivateKeySigner implements MessageSigner {
  readonly address: string;
  private readonly privateKey: Uint8Array;
  constructor(privateKey: Uint8Array | string) {
    this.privateKey = typeof privateKey === "string" ? hexToBytes(privateKey, 32, "privateKey") : privateKey;
    this.address = addressOfPrivateKey(this.privateKey);
  }
  async getAddress(): Promise<string> {
    return this.address;
  }
  async signMessage(message: string | Uint8Array): Promise<string> {
    const bytes = typeof message === "string" ? new TextEncoder().encode(message) : message;
    return toHex(signDigest(personalMessageHash(bytes), this.privateKey));
  }
}
