// Byte helpers shared by the wire format: base64url (RFC 4648 §5, no padding) and length-prefixed fields.
import { Buffer } from "node:buffer";

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/** Decodes base64url; throws on characters outside the alphabet (Buffer alone would skip them). */
export function fromBase64Url(text: string): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error(`not base64url: ${String(text).slice(0, 40)}`);
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** u32 big-endian length ‖ bytes, for each field: an unambiguous concatenation. */
export function lengthPrefixed(...fields: Uint8Array[]): Uint8Array {
  const out = Buffer.alloc(fields.reduce((n, f) => n + 4 + f.length, 0));
  let offset = 0;
  for (const field of fields) {
    out.writeUInt32BE(field.length, offset);
    out.set(field, offset + 4);
    offset += 4 + field.length;
  }
  return new Uint8Array(out);
}

const encoder = new TextEncoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);
