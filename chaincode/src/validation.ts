// Parsing of untrusted transaction arguments. Every failure is a typed error naming the field; no
// state is touched before the input has been validated in full.
import { ErrorCode, fail } from "./errors";

/** Largest argument (bytes of UTF-8) any transaction accepts. */
export const MAX_ARGUMENT_BYTES = 256 * 1024;
/** Largest number of entries in a consent's lists. */
export const MAX_LIST_ENTRIES = 64;
/** Largest page a paginated query returns. */
export const MAX_PAGE_SIZE = 500;

export const BYTES32 = /^0x[0-9a-f]{64}$/;
export const ADDRESS = /^0x[0-9a-f]{40}$/;
/** Pseudonymous subject ids: no spaces, no "@", so that e-mail addresses and names are refused. */
export const SUBJECT_ID = /^[A-Za-z0-9._:-]{3,64}$/;
const CONTROLLER = /^[A-Za-z0-9 .,&()_-]{1,96}$/;

export type Json = Record<string, unknown>;

export function parseJsonObject(argument: string, what: string): Json {
  if (Buffer.byteLength(argument, "utf8") > MAX_ARGUMENT_BYTES) {
    fail(ErrorCode.ARGUMENT_TOO_LARGE, `${what} is ${Buffer.byteLength(argument, "utf8")} bytes, the limit is ${MAX_ARGUMENT_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(argument);
  } catch (error) {
    fail(ErrorCode.BAD_JSON, `${what} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    fail(ErrorCode.BAD_JSON, `${what} must be a JSON object`);
  }
  return parsed as Json;
}

export function requireString(input: Json, field: string, pattern?: RegExp): string {
  const value = input[field];
  if (typeof value !== "string") {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} must be a string`);
  }
  if (pattern && !pattern.test(value)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} "${value.slice(0, 80)}" does not match ${pattern}`);
  }
  return value;
}

export function optionalString(input: Json, field: string, pattern?: RegExp): string | null {
  return input[field] === undefined || input[field] === null ? null : requireString(input, field, pattern);
}

export function requireSeconds(input: Json, field: string): number {
  const value = input[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} must be a non-negative integer of unix seconds`);
  }
  return value;
}

/** A non-empty list of distinct strings each accepted by `accept`; returned sorted. */
export function requireList(
  input: Json,
  field: string,
  accept: (entry: string) => boolean,
  unknownCode: ErrorCode = ErrorCode.INVALID_ARGUMENT,
  maxEntries: number = MAX_LIST_ENTRIES,
): string[] {
  const value = input[field];
  if (!Array.isArray(value)) {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} must be an array of strings`);
  }
  if (value.length === 0) {
    fail(ErrorCode.EMPTY_LIST, `${field} must not be empty`);
  }
  if (value.length > maxEntries) {
    fail(ErrorCode.INVALID_ARGUMENT, `${field} has ${value.length} entries, the limit is ${maxEntries}`);
  }
  const seen = new Set<string>();
  for (const entry of value) {
    if (typeof entry !== "string") {
      fail(ErrorCode.INVALID_ARGUMENT, `${field} must contain only strings`);
    }
    if (!accept(entry)) {
      fail(unknownCode, `${field} entry "${entry.slice(0, 80)}" is not supported`);
    }
    if (seen.has(entry)) {
      fail(ErrorCode.INVALID_ARGUMENT, `${field} lists "${entry}" twice`);
    }
    seen.add(entry);
  }
  return [...seen].sort();
}

export function controllerName(input: Json): string {
  return requireString(input, "controller", CONTROLLER);
}

/** Parses the pageSize / bookmark pair of a paginated query. */
export function pageArguments(pageSize: string, bookmark: string): { pageSize: number; bookmark: string } {
  const size = Number(pageSize);
  if (!/^[0-9]+$/.test(pageSize) || size < 1 || size > MAX_PAGE_SIZE) {
    fail(ErrorCode.INVALID_ARGUMENT, `pageSize must be an integer in 1..${MAX_PAGE_SIZE}, got "${pageSize.slice(0, 20)}"`);
  }
  if (bookmark.length > 1024) {
    fail(ErrorCode.INVALID_ARGUMENT, "bookmark is longer than 1024 characters");
  }
  return { pageSize: size, bookmark };
}
