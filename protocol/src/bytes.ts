// Bytes without Buffer (the browser has none): hex with and without 0x, UTF-8, concatenation,
// big-endian integers, and a checked reader/writer for the fixed layouts of docs/protocol.md.

import { ProtocolError, ProtocolErrorCodes } from "./errors";
import { allocBytes, hexDecode, hexSlice } from "./platform";

const HEX_DIGITS = /^[0-9a-fA-F]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** 0x-prefixed lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  return "0x" + hexSlice(bytes);
}

/** Lowercase hex (no 0x) of bytes[start, end). */
export function hexOf(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return hexSlice(bytes, start, end);
}

/**
 * Bytes of a 0x-prefixed hex string of exactly `length` bytes (any `length` when omitted);
 * INVALID_ARGUMENT naming `what` otherwise.
 */
export function hexToBytes(hex: string, length?: number, what = "value"): Uint8Array {
  if (
    typeof hex !== "string" ||
    !hex.startsWith("0x") ||
    hex.length % 2 !== 0 ||
    !HEX_DIGITS.test(hex.slice(2)) ||
    (length !== undefined && hex.length !== 2 + 2 * length)
  ) {
    const expected = length === undefined ? "an even number of hex digits" : `${2 * length} hex digits`;
    throw new ProtocolError(ProtocolErrorCodes.INVALID_ARGUMENT, `${what} must be 0x + ${expected}`, { [what]: hex });
  }
  return hexDecode(hex.slice(2));
}

export function utf8ToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesToUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = allocBytes(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function readUint16BE(b: Uint8Array, offset: number): number {
  return (b[offset] << 8) | b[offset + 1];
}

export function readUint32BE(b: Uint8Array, offset: number): number {
  return ((b[offset] << 24) | (b[offset + 1] << 16) | (b[offset + 2] << 8) | b[offset + 3]) >>> 0;
}

export function writeUint32BE(b: Uint8Array, value: number, offset: number): void {
  b[offset] = value >>> 24;
  b[offset + 1] = value >>> 16;
  b[offset + 2] = value >>> 8;
  b[offset + 3] = value;
}

/** Reads a uint64 that must be at most 2^53-1; returns null when it is larger. */
export function readSafeUint64BE(b: Uint8Array, offset: number): number | null {
  const hi = readUint32BE(b, offset);
  if (hi > 0x1fffff) return null;
  return hi * 0x100000000 + readUint32BE(b, offset + 4);
}

/** Writes a safe non-negative integer as uint64. */
export function writeUint64BE(b: Uint8Array, value: number, offset: number): void {
  writeUint32BE(b, Math.floor(value / 0x100000000), offset);
  writeUint32BE(b, value >>> 0, offset + 4);
}

/** 0x + 64 hex of a uint256. */
export function uint256ToHex(value: bigint): string {
  return "0x" + value.toString(16).padStart(64, "0");
}

/** Appends big-endian fields to a growing list of chunks. */
export class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  bytes(b: Uint8Array): this {
    this.chunks.push(b);
    return this;
  }
  u8(v: number): this {
    return this.bytes(Uint8Array.of(v));
  }
  u16(v: number): this {
    return this.bytes(Uint8Array.of(v >>> 8, v & 0xff));
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    writeUint32BE(b, v, 0);
    return this.bytes(b);
  }
  /** uint64 from a safe integer (ms timestamps). */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new ProtocolError(ProtocolErrorCodes.INVALID_ARGUMENT, `uint64 field must be a safe non-negative integer, got ${v}`);
    const b = new Uint8Array(8);
    writeUint64BE(b, v, 0);
    return this.bytes(b);
  }
  finish(): Uint8Array {
    return concatBytes(...this.chunks);
  }
}

/** Reads big-endian fields; every read past the end throws MALFORMED_MESSAGE naming the field. */
export class ByteReader {
  offset = 0;
  constructor(
    readonly buf: Uint8Array,
    private readonly what: string,
  ) {}
  bytes(n: number, field: string): Uint8Array {
    if (this.offset + n > this.buf.length) {
      throw new ProtocolError(
        ProtocolErrorCodes.MALFORMED_MESSAGE,
        `${this.what} ends inside ${field} (offset ${this.offset}, needs ${n} bytes, has ${this.buf.length - this.offset})`,
        { field, offset: this.offset },
      );
    }
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(field: string): number {
    return this.bytes(1, field)[0];
  }
  u16(field: string): number {
    return readUint16BE(this.bytes(2, field), 0);
  }
  u32(field: string): number {
    return readUint32BE(this.bytes(4, field), 0);
  }
  u64(field: string): number {
    const v = readSafeUint64BE(this.bytes(8, field), 0);
    if (v === null) throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `${field} exceeds 2^53-1`, { field });
    return v;
  }
  end(): void {
    if (this.offset !== this.buf.length) {
      throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `${this.what} has ${this.buf.length - this.offset} trailing bytes`, {
        length: this.buf.length,
        expected: this.offset,
      });
    }
  }
}
