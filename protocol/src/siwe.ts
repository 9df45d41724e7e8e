// EIP-4361 (Sign-In with Ethereum) messages: strict parsing and verification of the fields the
// broker relies on (domain, address, URI, version, chain id, nonce, issued-at, expiry, not-before)
// and of the EIP-191 signature. EOA signatures only (no EIP-1271 contract wallets). Both ends use it: the client builds
// the message, the broker parses and verifies it.

import { hexOf, hexToBytes, utf8ToBytes } from "./bytes";
import { keccak256, personalMessageHash, recoverAddress } from "./crypto";
import { ErrorCodes, ProtocolError } from "./errors";

export interface SiweFields {
  domain: string;
  /** EIP-55 checksummed in the message; lowercase here. */
  address: string;
  statement?: string;
  uri: string;
  version: "1";
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

const HEADER = " wants you to sign in with your Ethereum account:";

function fail(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ErrorCodes.AUTHENTICATION_FAILED, message, details);
}

/** EIP-55 checksum of a lowercase 0x address. */
export function toChecksumAddress(address: string): string {
  const lower = address.toLowerCase().slice(2);
  const hash = hexOf(keccak256(utf8ToBytes(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/** Builds the message text exactly as EIP-4361 lays it out. */
export function buildSiweMessage(f: Omit<SiweFields, "version"> & { version?: "1" }): string {
  const lines = [`${f.domain}${HEADER}`, toChecksumAddress(f.address), ""];
  if (f.statement !== undefined) lines.push(f.statement, "");
  else lines.push("");
  lines.push(`URI: ${f.uri}`, `Version: 1`, `Chain ID: ${f.chainId}`, `Nonce: ${f.nonce}`, `Issued At: ${f.issuedAt}`);
  if (f.expirationTime) lines.push(`Expiration Time: ${f.expirationTime}`);
  if (f.notBefore) lines.push(`Not Before: ${f.notBefore}`);
  if (f.requestId !== undefined) lines.push(`Request ID: ${f.requestId}`);
  if (f.resources?.length) lines.push("Resources:", ...f.resources.map((r) => `- ${r}`));
  return lines.join("\n");
}

const FIELD_ORDER = ["URI", "Version", "Chain ID", "Nonce", "Issued At", "Expiration Time", "Not Before", "Request ID"] as const;

export function parseSiweMessage(message: string): SiweFields {
  if (typeof message !== "string" || message.length > 4096) throw fail("the sign-in message must be a string of at most 4096 characters");
  const lines = message.split("\n");
  if (!lines[0]?.endsWith(HEADER)) throw fail("not an EIP-4361 message: bad first line");
  const domain = lines[0].slice(0, -HEADER.length);
  const address = lines[1] ?? "";
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw fail("bad address line");
  if (address !== toChecksumAddress(address)) throw fail("the address must be EIP-55 checksummed", { address });
  if (lines[2] !== "") throw fail("expected an empty line after the address");
  let i = 3;
  let statement: string | undefined;
  if (lines[i] !== "" && !lines[i]?.startsWith("URI: ")) {
    statement = lines[i];
    i++;
  }
  if (lines[i] !== "") throw fail("expected an empty line before the fields");
  i++;
  const values: Partial<Record<(typeof FIELD_ORDER)[number], string>> = {};
  let order = 0;
  for (; i < lines.length && lines[i] !== "Resources:"; i++) {
    const line = lines[i];
    const idx = FIELD_ORDER.findIndex((k, j) => j >= order && line.startsWith(`${k}: `));
    if (idx < 0) throw fail(`unexpected or out-of-order line: ${JSON.stringify(line.slice(0, 60))}`);
    values[FIELD_ORDER[idx]] = line.slice(FIELD_ORDER[idx].length + 2);
    order = idx + 1;
  }
  let resources: string[] | undefined;
  if (lines[i] === "Resources:") {
    resources = [];
    for (i++; i < lines.length; i++) {
      if (!lines[i].startsWith("- ")) throw fail("bad resource line");
      resources.push(lines[i].slice(2));
    }
  }
  for (const required of ["URI", "Version", "Chain ID", "Nonce", "Issued At"] as const) {
    if (values[required] === undefined) throw fail(`missing field ${required}`);
  }
  if (values.Version !== "1") throw fail(`unsupported version ${values.Version}`);
  if (!/^[1-9][0-9]*$/.test(values["Chain ID"]!)) throw fail("bad Chain ID");
  if (!/^[A-Za-z0-9]{8,}$/.test(values.Nonce!)) throw fail("the nonce must be at least 8 alphanumeric characters");
  for (const t of ["Issued At", "Expiration Time", "Not Before"] as const) {
    if (values[t] !== undefined && Number.isNaN(Date.parse(values[t]!))) throw fail(`bad timestamp in ${t}`);
  }
  return {
    domain,
    address: address.toLowerCase(),
    statement,
    uri: values.URI!,
    version: "1",
    chainId: Number(values["Chain ID"]),
    nonce: values.Nonce!,
    issuedAt: values["Issued At"]!,
    expirationTime: values["Expiration Time"],
    notBefore: values["Not Before"],
    requestId: values["Request ID"],
    resources,
  };
}

/**
 * The longest session a sign-in may ask for (ms): an Expiration Time further ahead of the broker's
 * clock is refused. Bounds how long a leaked HTTP bearer token works, and keeps the WebSocket session
 * timer within what setTimeout can hold (2^31 - 1 ms).
 */
export const MAX_SESSION_MS = 24 * 3600 * 1000;

export interface SiweExpectations {
  domain: string;
  chainId: number;
  nonce: string;
  now?: number;
  /** Sessions without an Expiration Time end after this long (ms). */
  defaultSessionMs: number;
  /** The latest Expiration Time accepted, as ms after now. Default MAX_SESSION_MS. */
  maxSessionMs?: number;
}

/** Verifies message and signature; returns the authenticated address and when the session ends (ms). */
export function verifySiwe(message: string, signatureHex: string, expect: SiweExpectations): { address: string; expiresAt: number } {
  const f = parseSiweMessage(message);
  const now = expect.now ?? Date.now();
  if (f.domain !== expect.domain)
    throw fail(`the message is for domain ${f.domain}, this broker is ${expect.domain}`, { domain: f.domain, expected: expect.domain });
  if (f.chainId !== expect.chainId)
    throw fail(`the message is for chain ${f.chainId}, this broker is on ${expect.chainId}`, { chainId: f.chainId, expected: expect.chainId });
  if (f.nonce !== expect.nonce) throw fail("the nonce is not the one this broker issued for the session", { nonce: f.nonce });
  if (f.expirationTime && Date.parse(f.expirationTime) <= now) throw fail("the sign-in message has expired", { expirationTime: f.expirationTime });
  const maxSessionMs = expect.maxSessionMs ?? MAX_SESSION_MS;
  if (f.expirationTime && Date.parse(f.expirationTime) - now > maxSessionMs) {
    throw fail(`the Expiration Time is more than ${maxSessionMs} ms ahead: a session lasts at most that long`, {
      expirationTime: f.expirationTime,
      maxSessionMs,
    });
  }
  if (f.notBefore && Date.parse(f.notBefore) > now) throw fail("the sign-in message is not valid yet", { notBefore: f.notBefore });
  if (typeof signatureHex !== "string" || !/^0x[0-9a-fA-F]{130}$/.test(signatureHex)) throw fail("the signature must be 0x + 65 bytes hex");
  const recovered = recoverAddress(personalMessageHash(utf8ToBytes(message)), hexToBytes(signatureHex));
  if (!recovered || "0x" + hexOf(recovered) !== f.address) {
    throw fail("the signature does not recover to the message's address", { address: f.address, recovered: recovered ? "0x" + hexOf(recovered) : null });
  }
  const expiresAt = f.expirationTime ? Date.parse(f.expirationTime) : now + expect.defaultSessionMs;
  return { address: f.address, expiresAt };
}
