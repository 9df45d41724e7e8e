// Deterministic encodings: every endorsing peer must produce the same bytes for the same proposal.
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** JSON with object keys sorted (recursively) and no whitespace; `undefined` members are dropped. */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sortKeys);
    }
    if (value !== null && typeof value === 'object') {
        const sorted: Record<string, unknown> = {};
        for (const key of Object.keys(value as Record<string, unknown>).sort()) {
            const member = (value as Record<string, unknown>)[key];
            if (member !== undefined) {
                sorted[key] = sortKeys(member);
            }
        }
        return sorted;
    }
    return value;
}

/** Canonical JSON as UTF-8 bytes, ready for putState. */
export function toBytes(value: unknown): Uint8Array {
    return utf8ToBytes(canonicalJson(value));
}

/** 0x-prefixed lowercase hex SHA-256 of the UTF-8 bytes of `text` (or of raw bytes). */
export function sha256Hex(data: string | Uint8Array): string {
    return '0x' + bytesToHex(sha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}
