// Deterministic encodings: every endorsing peer must produce the same bytes for the same proposal.
import { sha256 } from "@noble/hashes/sha256";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils";

/**
 * JSON with object keys sorted (recursively, by UTF-16 code units as Array.prototype.sort does) and no
 * whitespace; `undefined` members are dropped (in arrays they become null, as JSON.stringify writes them).
 * Written out directly rather than by copying into sorted objects: it is on every transaction's path.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((member) => (member === undefined ? "null" : canonicalJson(member))).join(",")}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] !== undefined) {
      members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    }
  }
  return `{${members.join(",")}}`;
}

/** Canonical JSON as UTF-8 bytes, ready for putState. */
export function toBytes(value: unknown): Uint8Array {
  return utf8ToBytes(canonicalJson(value));
}

/** 0x-prefixed lowercase hex SHA-256 of the UTF-8 bytes of `text` (or of raw bytes). */
export function sha256Hex(data: string | Uint8Array): string {
  return "0x" + bytesToHex(sha256(typeof data === "string" ? utf8ToBytes(data) : data));
}
