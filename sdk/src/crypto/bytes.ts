// Byte helpers for the fixed layouts: 0x-hex <-> bytes with length checks, big-endian integers.

import { SdkError, SdkErrorCodes } from "../errors";

export function hexToBytes(hex: string, length: number, what: string): Buffer {
  if (typeof hex !== "string" || !/^0x[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 + 2 * length) {
    throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `${what} must be 0x + ${2 * length} hex digits`, { [what]: hex });
  }
  return Buffer.from(hex.slice(2), "hex");
}

export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Appends big-endian fields to a growing list of chunks. */
export class ByteWriter {
  private readonly chunks: Buffer[] = [];
  bytes(b: Uint8Array): this {
    this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }
  u8(v: number): this {
    return this.bytes(Buffer.from([v]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.bytes(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return this.bytes(b);
  }
  /** uint64 from a safe integer (ms timestamps). */
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `uint64 field must be a safe non-negative integer, got ${v}`);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    return this.bytes(b);
  }
  finish(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Reads big-endian fields; every read past the end throws MALFORMED_MESSAGE naming the field. */
export class ByteReader {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    private readonly what: string,
  ) {}
  bytes(n: number, field: string): Buffer {
    if (this.offset + n > this.buf.length) {
      throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `${this.what} ends inside ${field} (offset ${this.offset}, needs ${n} bytes, has ${this.buf.length - this.offset})`, { field, offset: this.offset });
    }
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(field: string): number {
    return this.bytes(1, field)[0];
  }
  u16(field: string): number {
    return this.bytes(2, field).readUInt16BE();
  }
  u32(field: string): number {
    return this.bytes(4, field).readUInt32BE();
  }
  u64(field: string): number {
    const v = this.bytes(8, field).readBigUInt64BE();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `${field} exceeds 2^53-1`, { field });
    return Number(v);
  }
  end(): void {
    if (this.offset !== this.buf.length) {
      throw new SdkError(SdkErrorCodes.MALFORMED_MESSAGE, `${this.what} has ${this.buf.length - this.offset} trailing bytes`, { length: this.buf.length, expected: this.offset });
    }
  }
}
