// Sign-In with Ethereum (EIP-4361): the message a wallet signs once to open a short session. One
// implementation serves the chaincode (which checks a session before a relayed read), the consent API
// (which issues the nonce) and the portal (which builds the message): build and parse are exact
// inverses over the EIP's ABNF, and a parsed message is built again to the same text.
import { keccak_256 } from "@noble/hashes/sha3";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils";

/** The fields of an EIP-4361 message. Times are RFC 3339 strings, exactly as they appear in the text. */
export interface SiweMessage {
  /** optional URI scheme of the domain ("https"); absent: none written */
  scheme?: string;
  /** RFC 3986 authority (host[:port]) that asks for the sign-in */
  domain: string;
  /** EIP-55 checksummed 0x address */
  address: string;
  /** one line of human-readable text, no line feed; absent: none written */
  statement?: string;
  /** RFC 3986 URI of the resource the session is for */
  uri: string;
  /** "1" */
  version: string;
  /** EIP-155 chain id */
  chainId: number;
  /** at least 8 alphanumeric characters, chosen by the server */
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
}

/** Thrown when a text is not an EIP-4361 message; the message names the first line that is wrong. */
export class SiweParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SiweParseError";
  }
}

const HEADER = " wants you to sign in with your Ethereum account:";
// RFC 3339 date-time (full-date "T" full-time), with optional fractional seconds and Z or an offset
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const NONCE = /^[A-Za-z0-9]{8,}$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
// RFC 3986 authority: [userinfo@]host[:port], no "/" "?" "#" or whitespace
const AUTHORITY = /^[^\s/?#]+$/;
// an RFC 3986 URI: a scheme and then no whitespace
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/;
// EIP-4361 statement: reserved / unreserved / " " (RFC 3986 characters), no line feed
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]*$/;

/** EIP-55 mixed-case checksum of a 20-byte address. */
export function toChecksumAddress(address: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new SiweParseError(`"${address.slice(0, 50)}" is not a 20-byte 0x address`);
  const lower = address.slice(2).toLowerCase();
  const hash = bytesToHex(keccak_256(utf8ToBytes(lower)));
  let out = "0x";
  for (let i = 0; i < 40; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new SiweParseError(message);
}

/** Checks every field against the EIP's grammar; throws SiweParseError naming the first bad one. */
export function validateSiweMessage(m: SiweMessage): void {
  check(m.scheme === undefined || SCHEME.test(m.scheme), `scheme "${m.scheme}" is not a URI scheme`);
  check(AUTHORITY.test(m.domain), `domain "${m.domain.slice(0, 80)}" is not an RFC 3986 authority`);
  check(toChecksumAddress(m.address) === m.address, `address ${m.address.slice(0, 50)} is not in EIP-55 checksum case`);
  check(m.statement === undefined || STATEMENT.test(m.statement), "the statement holds a character EIP-4361 does not allow (a line feed, say)");
  check(URI.test(m.uri), `URI "${m.uri.slice(0, 80)}" is not an RFC 3986 URI`);
  check(m.version === "1", `version "${m.version}" is not 1`);
  check(Number.isSafeInteger(m.chainId) && m.chainId >= 0, `chain id ${m.chainId} is not a whole number`);
  check(NONCE.test(m.nonce), "the nonce must be at least 8 letters or digits");
  for (const [name, value] of [
    ["Issued At", m.issuedAt],
    ["Expiration Time", m.expirationTime],
    ["Not Before", m.notBefore],
  ] as const) {
    check(
      value === undefined || (DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))),
      `${name} "${String(value).slice(0, 40)}" is not an RFC 3339 date-time`,
    );
  }
  check(m.requestId === undefined || !/[\n\r]/.test(m.requestId), "the request id holds a line feed");
  for (const resource of m.resources ?? []) check(URI.test(resource), `resource "${resource.slice(0, 80)}" is not an RFC 3986 URI`);
}

/** The exact text of an EIP-4361 message (what the wallet signs with personal_sign). */
export function buildSiweMessage(m: SiweMessage): string {
  validateSiweMessage(m);
  const lines = [`${m.scheme ? `${m.scheme}://` : ""}${m.domain}${HEADER}`, m.address, ""];
  if (m.statement !== undefined) lines.push(m.statement);
  lines.push("", `URI: ${m.uri}`, `Version: ${m.version}`, `Chain ID: ${m.chainId}`, `Nonce: ${m.nonce}`, `Issued At: ${m.issuedAt}`);
  if (m.expirationTime !== undefined) lines.push(`Expiration Time: ${m.expirationTime}`);
  if (m.notBefore !== undefined) lines.push(`Not Before: ${m.notBefore}`);
  if (m.requestId !== undefined) lines.push(`Request ID: ${m.requestId}`);
  if (m.resources !== undefined) lines.push("Resources:", ...m.resources.map((r) => `- ${r}`));
  return lines.join("\n");
}

/** Parses an EIP-4361 message; throws SiweParseError naming what is wrong. build(parse(t)) === t. */
export function parseSiweMessage(text: string): SiweMessage {
  const lines = text.split("\n");
  let i = 0;
  const next = (what: string): string => {
    check(i < lines.length, `the message ends before its ${what}`);
    return lines[i++];
  };
  const first = next("header");
  check(first.endsWith(HEADER), `line 1 must end with "${HEADER.trim()}"`);
  const origin = first.slice(0, -HEADER.length);
  const schemeEnd = origin.indexOf("://");
  const m: Partial<SiweMessage> = {};
  if (schemeEnd >= 0) {
    m.scheme = origin.slice(0, schemeEnd);
    m.domain = origin.slice(schemeEnd + 3);
  } else {
    m.domain = origin;
  }
  m.address = next("address");
  check(next("blank line") === "", "line 3 must be empty");
  const line = next("statement or blank line");
  if (line !== "") {
    m.statement = line;
    check(next("blank line") === "", "the statement must be followed by an empty line");
  }
  const field = (prefix: string, optional: boolean): string | undefined => {
    if (i < lines.length && lines[i].startsWith(prefix)) return lines[i++].slice(prefix.length);
    check(optional, `line ${i + 1} must start with "${prefix}"`);
    return undefined;
  };
  m.uri = field("URI: ", false);
  m.version = field("Version: ", false);
  const chainId = field("Chain ID: ", false) as string;
  check(/^(0|[1-9][0-9]*)$/.test(chainId), `chain id "${chainId.slice(0, 20)}" is not a whole number`);
  m.chainId = Number(chainId);
  m.nonce = field("Nonce: ", false);
  m.issuedAt = field("Issued At: ", false);
  m.expirationTime = field("Expiration Time: ", true);
  m.notBefore = field("Not Before: ", true);
  m.requestId = field("Request ID: ", true);
  if (i < lines.length && lines[i] === "Resources:") {
    i++;
    m.resources = [];
    while (i < lines.length && lines[i].startsWith("- ")) m.resources.push(lines[i++].slice(2));
  }
  check(i === lines.length, `line ${i + 1} is not part of an EIP-4361 message`);
  for (const name of ["expirationTime", "notBefore", "requestId", "statement", "resources", "scheme"] as const) {
    if (m[name] === undefined) delete m[name];
  }
  const message = m as SiweMessage;
  validateSiweMessage(message);
  return message;
}
