// Typed errors of the consent chaincode. Fabric only carries the message string back to the client,
// so every message starts with a stable machine-readable code: "<CODE>: <explanation>".

/** Error codes a client can act on. The text after the code is for humans and may change. */
export const ErrorCode = {
  /** An argument is not valid JSON, or not a JSON object. */
  BAD_JSON: "BAD_JSON",
  /** An argument is larger than the chaincode accepts. */
  ARGUMENT_TOO_LARGE: "ARGUMENT_TOO_LARGE",
  /** A field is missing, has the wrong type or is outside its allowed set. */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  /** A purpose name is not in the supported DPV subset. */
  UNKNOWN_PURPOSE: "UNKNOWN_PURPOSE",
  /** A list that must not be empty is empty. */
  EMPTY_LIST: "EMPTY_LIST",
  /** The caller's certificate does not carry the role this transaction needs. */
  FORBIDDEN: "FORBIDDEN",
  /** No such consent, subject, resource or grant. */
  NOT_FOUND: "NOT_FOUND",
  /** The object already exists. */
  ALREADY_EXISTS: "ALREADY_EXISTS",
  /** The consent status does not allow this transition. */
  INVALID_TRANSITION: "INVALID_TRANSITION",
  /** The buyer's Ethereum address is not proven to belong to the caller. */
  ADDRESS_NOT_PROVEN: "ADDRESS_NOT_PROVEN",
  /** A dataset would exceed the largest size one access request handles. */
  DATASET_TOO_LARGE: "DATASET_TOO_LARGE",
  /** The proposal timestamp is further from the endorsing peer's clock than the allowed skew. */
  TIMESTAMP_SKEW: "TIMESTAMP_SKEW",
  /** The caller's certificate names a credential (consent.credentialRef) this identity has not recorded. */
  CREDENTIAL_NOT_RECORDED: "CREDENTIAL_NOT_RECORDED",
  /** A credential status report checked before the last one recorded for the credential. */
  STALE_REPORT: "STALE_REPORT",
  /** The wallet is not bound to the ledger party a signed operation or session names. */
  WALLET_NOT_BOUND: "WALLET_NOT_BOUND",
  /** A wallet signature (binding proof, signed operation, sign-in session) is malformed or recovers to another address. */
  BAD_WALLET_SIGNATURE: "BAD_WALLET_SIGNATURE",
  /** A signed binding proof, operation or session has expired (or is not valid yet) at the transaction time. */
  SIGNATURE_EXPIRED: "SIGNATURE_EXPIRED",
  /** The nonce of a signed operation was already used by this wallet: an operation is accepted once. */
  NONCE_USED: "NONCE_USED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error type the chaincode throws on purpose; its message is "<code>: <detail>". */
export class ConsentLedgerError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = "ConsentLedgerError";
    this.code = code;
  }
}

export function fail(code: ErrorCode, detail: string): never {
  throw new ConsentLedgerError(code, detail);
}
