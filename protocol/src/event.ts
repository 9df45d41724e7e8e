// The event: its canonical (signed) bytes and its binary frame. Byte layout: docs/protocol.md.
// The canonical bytes equal Solidity's abi.encodePacked of the same fields, so a contract can
// rebuild and hash them; the frame is the canonical bytes followed by the signature.
// Decoding returns views into the frame it was given (a Node Buffer gives Buffer views).

import { concatBytes, hexOf, hexToBytes, readSafeUint64BE, readUint32BE, utf8ToBytes, writeUint32BE, writeUint64BE } from "./bytes";
import { ethSignedMessageHash, keccak256, recoverAddress, signDigest } from "./crypto";
import { ErrorCodes, ProtocolError } from "./errors";
import { allocBytes, writeHex } from "./platform";

export const PROTOCOL_VERSION = 1;

/** Content types (uint8). */
export const ContentType = { BINARY: 0, JSON: 1, TEXT: 2 } as const;
/** Encryption types (uint8). */
export const EncryptionType = { NONE: 0, AES_256_GCM: 1 } as const;
/** Signature types (uint8). */
export const SignatureType = { EIP191_SECP256K1: 1 } as const;

export const SIGNATURE_LENGTH = 65;
/** Bytes of the canonical encoding before the content. */
export const CANONICAL_HEADER_LENGTH = 143;
/** Bytes of a frame besides the content: header + signature type + signature. */
export const FRAME_OVERHEAD = CANONICAL_HEADER_LENGTH + 1 + SIGNATURE_LENGTH;
export const ZERO_HASH = "0x" + "00".repeat(32);

/** Byte offsets of the canonical encoding's fields. */
export const EventOffsets = {
  version: 0,
  streamId: 1,
  streamPartition: 33,
  timestamp: 37,
  sequenceNumber: 45,
  previousEventHash: 53,
  publisher: 85,
  contentType: 105,
  encryptionType: 106,
  groupKeyId: 107,
  contentLength: 139,
  content: 143,
} as const;
const OFF = EventOffsets;

/** The fields of an event that the publisher signs. */
export interface EventFields {
  /** 0x-prefixed lowercase 32-byte hex (the registry's resource id). */
  streamId: string;
  /** uint32. */
  streamPartition: number;
  /** Unix milliseconds, 0 .. 2^53-1 (uint64 on the wire). */
  timestamp: number;
  /** Per (streamId, streamPartition, publisher) strictly increasing, 0 .. 2^53-1 (uint64 on the wire). */
  sequenceNumber: number;
  /** keccak256 of the canonical bytes of the publisher's previous event in this stream partition; zero starts a chain. */
  previousEventHash: string;
  /** 0x-prefixed lowercase 20-byte address. */
  publisher: string;
  contentType: number;
  encryptionType: number;
  /** 0x-prefixed 32-byte hex; zero iff encryptionType is NONE. */
  groupKeyId: string;
  content: Uint8Array;
}

/**
 * A decoded, signed event with the byte views a broker stores and forwards without re-encoding.
 * `B` is the byte type of the frame it was decoded from (Uint8Array, or Buffer in Node).
 */
export interface SignedEvent<B extends Uint8Array = Uint8Array> extends EventFields {
  content: B;
  signatureType: number;
  signature: B;
  /** The canonical bytes (what was signed). */
  canonical: B;
  /** The whole frame (canonical ‖ signatureType ‖ signature). */
  frame: B;
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const HEX20 = /^0x[0-9a-f]{40}$/;

function malformed(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCodes.MALFORMED_FRAME, message, details);
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw malformed(`${name} must be an integer in 0..${max}`, { field: name, value });
  }
}

function validateFields(f: EventFields): void {
  if (typeof f.streamId !== "string" || !HEX32.test(f.streamId)) throw malformed("streamId must be 0x + 64 lowercase hex", { field: "streamId" });
  checkUint("streamPartition", f.streamPartition, 0xffffffff);
  checkUint("timestamp", f.timestamp, Number.MAX_SAFE_INTEGER);
  checkUint("sequenceNumber", f.sequenceNumber, Number.MAX_SAFE_INTEGER);
  if (typeof f.previousEventHash !== "string" || !HEX32.test(f.previousEventHash))
    throw malformed("previousEventHash must be 0x + 64 lowercase hex", { field: "previousEventHash" });
  if (typeof f.publisher !== "string" || !HEX20.test(f.publisher)) throw malformed("publisher must be 0x + 40 lowercase hex", { field: "publisher" });
  validateKinds(f.contentType, f.encryptionType, f.groupKeyId === ZERO_HASH);
  if (typeof f.groupKeyId !== "string" || !HEX32.test(f.groupKeyId)) throw malformed("groupKeyId must be 0x + 64 lowercase hex", { field: "groupKeyId" });
  if (!(f.content instanceof Uint8Array)) throw malformed("content must be bytes", { field: "content" });
  if (f.content.length > 0xffffffff) throw malformed("content longer than 2^32-1 bytes", { field: "content" });
}

function validateKinds(contentType: number, encryptionType: number, groupKeyIsZero: boolean): void {
  if (contentType !== ContentType.BINARY && contentType !== ContentType.JSON && contentType !== ContentType.TEXT) {
    throw malformed(`unknown contentType ${contentType}`, { field: "contentType", value: contentType });
  }
  if (encryptionType === EncryptionType.NONE) {
    if (!groupKeyIsZero) throw malformed("groupKeyId must be zero when encryptionType is NONE", { field: "groupKeyId" });
  } else if (encryptionType === EncryptionType.AES_256_GCM) {
    if (groupKeyIsZero) throw malformed("groupKeyId must be non-zero when the content is encrypted", { field: "groupKeyId" });
  } else {
    throw malformed(`unknown encryptionType ${encryptionType}`, { field: "encryptionType", value: encryptionType });
  }
}

function readUint64(buf: Uint8Array, offset: number, field: string): number {
  const v = readSafeUint64BE(buf, offset);
  if (v === null) throw malformed(`${field} exceeds 2^53-1`, { field });
  return v;
}

/** Canonical bytes = abi.encodePacked(uint8 version, bytes32 streamId, uint32 streamPartition, uint64 timestamp,
 *  uint64 sequenceNumber, bytes32 previousEventHash, address publisher, uint8 contentType, uint8 encryptionType,
 *  bytes32 groupKeyId, uint32 contentLength, bytes content). */
export function encodeCanonical(f: EventFields): Uint8Array {
  validateFields(f);
  const buf = allocBytes(CANONICAL_HEADER_LENGTH + f.content.length); // every byte is written below
  // The hex fields were checked by validateFields.
  buf[OFF.version] = PROTOCOL_VERSION;
  writeHex(buf, OFF.streamId, f.streamId.slice(2));
  writeUint32BE(buf, f.streamPartition, OFF.streamPartition);
  writeUint64BE(buf, f.timestamp, OFF.timestamp);
  writeUint64BE(buf, f.sequenceNumber, OFF.sequenceNumber);
  writeHex(buf, OFF.previousEventHash, f.previousEventHash.slice(2));
  writeHex(buf, OFF.publisher, f.publisher.slice(2));
  buf[OFF.contentType] = f.contentType;
  buf[OFF.encryptionType] = f.encryptionType;
  writeHex(buf, OFF.groupKeyId, f.groupKeyId.slice(2));
  writeUint32BE(buf, f.content.length, OFF.contentLength);
  buf.set(f.content, OFF.content);
  return buf;
}

/** eventHash = keccak256(canonical bytes). Identifies the event; chained by previousEventHash. */
export function eventHash(canonical: Uint8Array): Uint8Array {
  return keccak256(canonical);
}

/** The digest that is signed: EIP-191 personal-message hash of eventHash. */
export function signingDigest(canonical: Uint8Array): Uint8Array {
  return ethSignedMessageHash(eventHash(canonical));
}

/** Signs the fields with a private key and returns the frame and its views. */
export function signEvent(f: EventFields, privateKey: Uint8Array): SignedEvent {
  const canonical = encodeCanonical(f);
  return assembleEvent(f, signDigest(signingDigest(canonical), privateKey), canonical);
}

/**
 * The frame of fields signed elsewhere (a wallet's 65-byte r‖s‖v over signingDigest): canonical ‖
 * signatureType ‖ signature. `canonical`, when given, must be encodeCanonical(f).
 */
export function assembleEvent(f: EventFields, signature: Uint8Array, canonical: Uint8Array = encodeCanonical(f)): SignedEvent {
  const frame = concatBytes(canonical, Uint8Array.of(SignatureType.EIP191_SECP256K1), signature);
  return {
    ...f,
    content: frame.subarray(OFF.content, canonical.length),
    signatureType: SignatureType.EIP191_SECP256K1,
    signature: frame.subarray(canonical.length + 1),
    canonical: frame.subarray(0, canonical.length),
    frame,
  };
}

/**
 * Decodes a frame. Checks the layout and every field's domain; does NOT verify the signature
 * (see verifyEvent), so that a broker can reject malformed frames before paying for recovery.
 * The returned byte fields are views into `frame`, of its own type.
 */
export function decodeFrame<B extends Uint8Array>(frame: B, maxContentLength = 0xffffffff): SignedEvent<B> {
  if (!(frame instanceof Uint8Array)) throw malformed("frame must be bytes");
  if (frame.length < 1) throw malformed("empty frame", { length: 0 });
  const version = frame[OFF.version];
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(ErrorCodes.UNSUPPORTED_VERSION, `protocol version ${version} is not supported (expected ${PROTOCOL_VERSION})`, { version });
  }
  if (frame.length < FRAME_OVERHEAD) throw malformed(`frame of ${frame.length} bytes is shorter than the minimum ${FRAME_OVERHEAD}`, { length: frame.length });
  const contentLength = readUint32BE(frame, OFF.contentLength);
  if (contentLength > maxContentLength) {
    throw new ProtocolError(ErrorCodes.PAYLOAD_TOO_LARGE, `content of ${contentLength} bytes exceeds the limit of ${maxContentLength}`, {
      contentLength,
      maxContentLength,
    });
  }
  const expected = FRAME_OVERHEAD + contentLength;
  if (frame.length !== expected) {
    throw malformed(`frame length ${frame.length} does not match contentLength ${contentLength} (expected ${expected} bytes)`, {
      length: frame.length,
      expected,
    });
  }
  const canonicalEnd = CANONICAL_HEADER_LENGTH + contentLength;
  const signatureType = frame[canonicalEnd];
  if (signatureType !== SignatureType.EIP191_SECP256K1)
    throw malformed(`unknown signatureType ${signatureType}`, { field: "signatureType", value: signatureType });
  const contentType = frame[OFF.contentType];
  const encryptionType = frame[OFF.encryptionType];
  const groupKeyId = hexOf(frame, OFF.groupKeyId, OFF.groupKeyId + 32);
  validateKinds(contentType, encryptionType, groupKeyId === ZERO_HASH.slice(2));
  const v = frame[canonicalEnd + SIGNATURE_LENGTH];
  if (v !== 27 && v !== 28) throw malformed(`signature v must be 27 or 28, got ${v}`, { field: "signature" });
  return {
    streamId: "0x" + hexOf(frame, OFF.streamId, OFF.streamId + 32),
    streamPartition: readUint32BE(frame, OFF.streamPartition),
    timestamp: readUint64(frame, OFF.timestamp, "timestamp"),
    sequenceNumber: readUint64(frame, OFF.sequenceNumber, "sequenceNumber"),
    previousEventHash: "0x" + hexOf(frame, OFF.previousEventHash, OFF.previousEventHash + 32),
    publisher: "0x" + hexOf(frame, OFF.publisher, OFF.publisher + 20),
    contentType,
    encryptionType,
    groupKeyId: "0x" + groupKeyId,
    content: frame.subarray(OFF.content, canonicalEnd) as B,
    signatureType,
    signature: frame.subarray(canonicalEnd + 1, canonicalEnd + 1 + SIGNATURE_LENGTH) as B,
    canonical: frame.subarray(0, canonicalEnd) as B,
    frame,
  };
}

/** The signed timestamp of a frame (uint64 at offset 37) without decoding the rest. */
export function frameTimestamp(frame: Uint8Array): number {
  return readUint64(frame, OFF.timestamp, "timestamp");
}

function sameBytes(a: Uint8Array, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[i] !== b[bStart + i]) return false;
  return true;
}

/** Verifies the signature of a decoded event; returns its eventHash, or throws INVALID_SIGNATURE. */
export function verifyEvent(event: SignedEvent<Uint8Array>): Uint8Array {
  const hash = eventHash(event.canonical);
  const recovered = recoverAddress(ethSignedMessageHash(hash), event.signature);
  if (recovered === null || !sameBytes(recovered, event.canonical, OFF.publisher, 20)) {
    throw new ProtocolError(ErrorCodes.INVALID_SIGNATURE, "signature does not recover to the publisher", {
      publisher: event.publisher,
      recovered: recovered === null ? null : "0x" + hexOf(recovered),
    });
  }
  return hash;
}

/** Resource id of the registry: keccak256(abi.encodePacked(creator, path)). */
export function streamIdOf(creator: string, path: string): string {
  if (typeof creator !== "string" || !HEX20.test(creator.toLowerCase())) throw malformed("creator must be a 20-byte hex address");
  return "0x" + hexOf(keccak256(concatBytes(hexToBytes(creator.toLowerCase()), utf8ToBytes(path))));
}
