// What a wallet signs for the consent ledger, without any Fabric code (safe in a browser): the EIP-4361
// sign-in builder and parser, the wallet-binding proof and signed-operation texts, and the canonical JSON
// their arguments are written in, and the vocabulary of consent terms (what a consent form offers). The chaincode checks these same texts (its src/siwe.ts, walletauth.ts).
export { canonicalJson } from "@datamarket/consent-chaincode/src/canonical";
export {
  SiweParseError,
  buildSiweMessage,
  parseSiweMessage,
  toChecksumAddress,
  validateSiweMessage,
  type SiweMessage,
} from "@datamarket/consent-chaincode/src/siwe";
export {
  BUYER_OPERATIONS,
  CUSTODIAN_OPERATIONS,
  MAX_SESSION_SECONDS,
  MAX_SIGNED_LIFETIME_SECONDS,
  SESSION_READS,
  SUBJECT_OPERATIONS,
  ledgerResource,
  partyName,
  signedOperationText,
  walletBindingText,
  type PartyKind,
  type SignedOperation,
  type SignedOperationRequest,
  type WalletBindingProof,
} from "@datamarket/consent-chaincode/src/walletauth";
export { BUYER_TYPES, DATA_CATEGORIES, JURISDICTION_GROUPS, LEGAL_BASES, PURPOSE_PARENTS } from "@datamarket/consent-chaincode/src/vocabulary";
