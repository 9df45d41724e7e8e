// Sign-In with Ethereum (EIP-4361) for the portal: the message a wallet signs once to open a short
// session (the consent API's reads; the broker's sign-in can use the same). The builder and parser are
// the consent chaincode's (chaincode/src/siwe.ts), which checks the same message on the ledger: one
// implementation, tested against the EIP's example.
import { buildSiweMessage, toChecksumAddress } from "@datamarket/consent-ledger/wallet";

export {
  SiweParseError,
  buildSiweMessage,
  parseSiweMessage,
  toChecksumAddress,
  validateSiweMessage,
  type SiweMessage,
} from "@datamarket/consent-ledger/wallet";

export interface SignInRequest {
  /** the site asking, as the browser shows it: location.host */
  domain: string;
  /** the page or service the session is for: location.origin + "/" */
  uri: string;
  /** the signing wallet (any case; written EIP-55) */
  address: string;
  chainId: number;
  /** the nonce the relying party issued */
  nonce: string;
  /** one line the wallet shows */
  statement?: string;
  /** e.g. the consent ledger's URN (the consent API requires it) */
  resources?: string[];
  /** session length, seconds */
  lifetimeSeconds: number;
  /** unix ms; default Date.now() */
  now?: number;
}

/** The EIP-4361 text of a sign-in, issued now and expiring `lifetimeSeconds` later (whole seconds, UTC). */
export function signInMessage(r: SignInRequest): string {
  const issued = Math.floor((r.now ?? Date.now()) / 1000);
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
  return buildSiweMessage({
    domain: r.domain,
    address: toChecksumAddress(r.address),
    statement: r.statement,
    uri: r.uri,
    version: "1",
    chainId: r.chainId,
    nonce: r.nonce,
    issuedAt: iso(issued),
    expirationTime: iso(issued + r.lifetimeSeconds),
    resources: r.resources,
  });
}
