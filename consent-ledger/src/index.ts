// Public API of @datamarket/consent-ledger: the consent client (one interface, two backends), the
// in-process Fabric ledger it runs on by default, and the event format consumers follow.
import "./fabric/quiet-logs";

export {
  ConsentLedgerClient,
  DEFAULT_CHAINCODE_NAME,
  type AccessDecision,
  type AccessGrant,
  type AccessLogEntry,
  type AccessRequestInput,
  type ConsentRecord,
  type ConsentTermsInput,
  type CredentialRecord,
  type CredentialReferenceInput,
  type CredentialStatusReport,
  type HistoryEntry,
  type Page,
  type ResourceRecord,
  type SubjectRecord,
  type SignedOperationInput,
  type WalletBinding,
  type WalletBindingProofInput,
  type WalletBindingView,
  type WalletSession,
} from "./client/client";
export { ClientErrorCode, ConsentClientError, toClientError, type GatewayLimits } from "./client/errors";
export * from "./client/events";
export type { ChaincodeEventLike, CloseableEvents, ContractLike, NetworkLike, TransactionOptions } from "./client/network";
export {
  DEFAULT_GATEWAY_TIMEOUTS,
  DEFAULT_GRPC_OPTIONS,
  connectFabricGateway,
  grpcOptionsOf,
  validateFabricGatewayConfig,
  type FabricGatewayConfig,
  type FabricGatewayConnection,
} from "./client/fabricgateway";
export { InProcessConsentLedger, LedgerClock, type InProcessClientOptions, type InProcessConsentLedgerOptions } from "./inprocess";
export { connectConsentLedger, fabricGatewayConfigFromEnv, type ConsentLedgerConfig, type ConsentLedgerConnection } from "./client/connect";

export { bindWallet, bindingTextFor, partyOf } from "./wallets";

// the in-process Fabric peer, for tests and tools that need its lower layers
export * as fabric from "./fabric";

// vocabulary and hashing helpers shared with the chaincode
export {
  ADEQUACY_COUNTRIES,
  BUYER_TYPES,
  ConsentStatus,
  DATA_CATEGORIES,
  DenialReason,
  EEA_COUNTRIES,
  ErrorCode,
  LEGAL_BASES,
  PURPOSE_PARENTS,
  Role,
  Attr,
  addressProofText,
  consentAttestationStructHash,
  consentRevocationStructHash,
  personalSignDigest,
  purposeCovered,
  purposeId,
  CONSENT_ATTESTATION_TYPE,
  CONSENT_REVOCATION_TYPE,
  CREDENTIAL_STATUSES,
  CredentialStatusName,
  BUYER_OPERATIONS,
  CUSTODIAN_OPERATIONS,
  MAX_SESSION_SECONDS,
  MAX_SIGNED_LIFETIME_SECONDS,
  SESSION_READS,
  SUBJECT_OPERATIONS,
  buildSiweMessage,
  canonicalJson,
  ledgerResource,
  parseSiweMessage,
  partyName,
  signedOperationText,
  walletBindingText,
  type SiweMessage,
} from "@datamarket/consent-chaincode/src";
