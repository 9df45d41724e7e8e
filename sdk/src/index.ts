// Public API of the SDK (docs/sdk.md).
export { DataClient, Subscription } from "./client/DataClient";
export type { DataClientOptions, PublishOptions, PublishResult, ReceivedMessage, SubscribeOptions } from "./client/DataClient";
export { WsTransport } from "./client/transport";
export type { BrokerTransport, ResendQuery, WsTransportOptions } from "./client/transport";
export type { KeyRequestChannel, StreamAccess } from "./client/access";
export { partitionOf } from "./client/partition";
export { BrokerLocator } from "./client/BrokerLocator";
export type { BrokerEndpoint, CoordinatorView } from "./client/BrokerLocator";
export { serveKeyRequests, HttpKeyRequestChannel } from "./client/keyRequestHttp";
export { SdkError, SdkErrorCodes } from "./errors";
export type { SdkErrorCode } from "./errors";
export { GroupKey, groupKeyIdOf } from "./crypto/groupKey";
export { generateKeyPair, publicKeyOf, eciesBackend } from "./crypto/secp256k1";
export { defaultRandom, fixedRandom } from "./crypto/random";
export type { RandomSource } from "./crypto/random";
export { GroupKeyManager, buildRequest } from "./keyexchange/GroupKeyManager";
export type { AccessOracle } from "./keyexchange/GroupKeyManager";
export { GroupKeyStore } from "./keyexchange/GroupKeyStore";
export { decodeKeyExchangeMessage, KxErrorCode, KxType } from "./keyexchange/messages";
export { encryptDataset, createRelease, openRelease, decodeManifest, subjectLabel } from "./dataset/Dataset";
export type { ConsentDecision, DatasetRecord, DatasetRelease, EncryptedDataset } from "./dataset/Dataset";
export { StreamRegistryClient, NEVER } from "./wallet/StreamRegistryClient";
export type { PermissionInput } from "./wallet/StreamRegistryClient";
export { MarketClient } from "./wallet/MarketClient";
export type { BuyArgs, BuyResult, ConsentBridges } from "./wallet/MarketClient";
// The consent bridge's light client and EIP-712 definitions, re-exported (one definition, the bridge's).
export { ATTESTATION_TYPES, collectAttestation, BridgeClientError } from "@datamarket/consent-bridge/src/client";
export type { BridgeFailure, CollectedAttestation, ConsentAttestation } from "@datamarket/consent-bridge/src/client";
