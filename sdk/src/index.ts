// Public API of the SDK (docs/sdk.md). Runs in Node 20 and in browsers (the package's `browser`
// build swaps the src/_nodejs/ modules for src/_browser/ ones).
export { DataClient, Subscription } from "./client/DataClient";
export type { DataClientOptions, PublishOptions, PublishResult, ReceivedMessage, SubscribeOptions } from "./client/DataClient";
export { WsTransport, BrokerReplyError } from "./client/transport";
export type { BrokerTransport, ChainTip, GapNotice, ResendFrames, ResendQuery, WsTransportOptions } from "./client/transport";
export type { KeyRequestChannel, StreamAccess } from "./client/access";
export { partitionOf } from "./client/partition";
export { BrokerLocator, servingBrokers } from "./client/BrokerLocator";
export type { BrokerEndpoint, CoordinatorView, CoordinatorWithEndpoints } from "./client/BrokerLocator";
export { serveKeyRequests, HttpKeyRequestChannel, rekeyRequestText, signRekeyRequest, MAX_REKEY_LIFETIME_SECONDS } from "./client/keyRequestHttp";
export type { RekeyRequestFields, SignedRekeyRequest, RekeyResult, RekeyServiceOptions } from "./client/keyRequestHttp";
export { SdkError, SdkErrorCodes } from "./errors";
export type { SdkErrorCode } from "./errors";
// The error base class of every @datamarket package, and the protocol's codes.
export { DataMarketError, isDataMarketError, ProtocolError, ProtocolErrorCodes, ErrorCodes } from "@datamarket/protocol";
// Keys and the key exchange, from @datamarket/protocol (one implementation, shared with other clients).
export {
  GroupKey,
  groupKeyIdOf,
  generateKeyPair,
  publicKeyOf,
  cryptoBackend,
  cryptoBackend as eciesBackend,
  defaultRandom,
  fixedRandom,
  GroupKeyManager,
  buildRequest,
  GroupKeyStore,
  decodeKeyExchangeMessage,
  KxErrorCode,
  KxType,
  streamIdOf,
} from "@datamarket/protocol";
export type { AccessOracle, RandomSource, MessageSigner } from "@datamarket/protocol";
export { encryptDataset, createRelease, openRelease, decodeManifest, subjectLabel } from "./dataset/Dataset";
export type { ConsentDecision, DatasetRecord, DatasetRelease, EncryptedDataset } from "./dataset/Dataset";
export { StreamRegistryClient, NEVER } from "./wallet/StreamRegistryClient";
export type { PermissionInput } from "./wallet/StreamRegistryClient";
export { MarketClient } from "./wallet/MarketClient";
export type { BuyArgs, BuyResult, ConsentBridges, ProductParams } from "./wallet/MarketClient";
export { loadDeployment } from "./wallet/Deployment";
export { StreamNamesClient, normalizeStreamName, resolveStreamName } from "./wallet/StreamNames";
export { VoucherSigner, VOUCHER_TYPES } from "./client/payments";
export type { VoucherMessage, VoucherRequest, VoucherSignerOptions } from "./client/payments";
export type { DeployedContract, Deployment, DeploymentRecord, LoadDeploymentOptions } from "./wallet/Deployment";
export { sendWithNonce, isNonceError } from "./wallet/transactions";
export { streamRegistryAt, marketAt, tokenAt, coordinatorAt, PROTOCOL_ERRORS_ABI } from "./wallet/contracts";
export type { BoundContract, CoordinatorContract } from "./wallet/contracts";
export { DATA_LICENSE_MARKET_ABI, DATA_TOKEN_ABI, NETWORK_COORDINATOR_ABI, STREAM_REGISTRY_ABI } from "./wallet/abi";
// The consent attestation client, from @datamarket/consent-attestation (one definition, shared with the bridges).
export { ATTESTATION_TYPES, collectAttestation, BridgeClientError } from "@datamarket/consent-attestation";
export type { BridgeFailure, CollectedAttestation, ConsentAttestation } from "@datamarket/consent-attestation";
