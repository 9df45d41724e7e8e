// The consent API's signed request, shared by the browser (which builds and signs it) and the server
// (which rebuilds the same text and recovers the signer). The wallet signs, with personal_sign
// (EIP-191), the exact request: the API's origin, method, path, the subject it acts for, the signer's address, a
// single-use nonce, an expiry, and the sha-256 of the body. Nothing in the request is left unsigned.

/** Headers that carry the signature; the rest of the signed text is rebuilt from the request itself. */
export const SIGNED_HEADERS = {
  address: "x-dm-address",
  nonce: "x-dm-nonce",
  expires: "x-dm-expires",
  signature: "x-dm-signature",
} as const;

/** Longest lifetime of a signed request, seconds: the server refuses an expiry further ahead. */
export const MAX_REQUEST_LIFETIME_SECONDS = 300;

export interface SignedRequestFields {
  /** origin of the consent API the request is for (scheme://host:port): a signature is good at one API only */
  api: string;
  method: string;
  /** path and query, exactly as sent (e.g. /v1/subjects/kraken-p-002/consents) */
  path: string;
  /** the data subject the request acts for; "" for a request that names none (a buyer's) */
  subjectId: string;
  /** lowercase 0x address of the signer */
  address: string;
  /** 32 lowercase hex characters, never reused */
  nonce: string;
  /** unix seconds */
  expires: number;
  /** 0x sha-256 hex of the body bytes ("" hashes to e3b0…) */
  bodyHash: string;
}

/** The exact text signed with personal_sign, one field per line. */
export function signedRequestText(f: SignedRequestFields): string {
  return [
    "DataMarket consent API: I make this request.",
    `api: ${f.api}`,
    `method: ${f.method.toUpperCase()}`,
    `path: ${f.path}`,
    `subject: ${f.subjectId}`,
    `address: ${f.address.toLowerCase()}`,
    `nonce: ${f.nonce}`,
    `expires: ${f.expires}`,
    `body-sha256: ${f.bodyHash}`,
  ].join("\n");
}

/** 0x sha-256 of the UTF-8 body, with WebCrypto (browser and Node 20 alike). */
export async function bodyHash(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
  return "0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** 16 random bytes as 32 hex characters. */
export function newNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The API's error body: a stable code and a sentence that says what was wrong. */
export interface ApiError {
  error: string;
  message: string;
}
