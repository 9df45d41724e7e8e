// Public API of the broker package.
export * from "./errors";
// The wire format, from @datamarket/protocol (re-exported for the broker's existing users; new code imports the protocol package).
export {
  ContentType,
  EncryptionType,
  SignatureType,
  PROTOCOL_VERSION,
  FRAME_OVERHEAD,
  ZERO_HASH,
  encodeCanonical,
  streamIdOf,
  EpochAccumulator,
  epochChecksum,
  epochOf,
  cryptoBackend,
  recoverAddress,
} from "@datamarket/protocol";
export type { GapNotice, ResendCursor, ResendQuery } from "@datamarket/protocol";
export { decodeFrame, verifyEvent, eventHash, keccak256, signEvent } from "./wire";
export type { EventFields, SignedEvent } from "./wire";
export * from "./access/AccessGate";
export { InMemoryAccessGate } from "./access/InMemoryAccessGate";
export { AccessPolicy } from "./access/AccessPolicy";
export type { GateFreshness, SourceFreshness } from "./access/AccessPolicy";
export type { SubscribeCheck, SubscribeGrant } from "./access/AccessPolicy";
export { CredentialGate, proveAtSignIn } from "./access/CredentialGate";
export type { CredentialGateOptions, CredentialSignInReply, ProvenCredential } from "./access/CredentialGate";
export { ContractAccessGate } from "./access/ContractAccessGate";
export type { ContractAccessGateOptions } from "./access/ContractAccessGate";
export { ConsentGrantFollower, consentSourceOf } from "./access/ConsentGrantFollower";
export type { ConsentSource, ConsentChange, FollowedGrant } from "./access/ConsentGrantFollower";
export { ChainFollower } from "./chain/ChainFollower";
export { ViewReader, type ReadAt } from "./chain/ViewReader";
export type { ChainLog, ChainFollowerOptions } from "./chain/ChainFollower";
export { chainProvider, connectChainBackend, deploymentCandidates, readDeployment } from "./chain/ChainBackend";
export type { ChainBackend, ChainStatus, DeploymentRecord, NoChain } from "./chain/ChainBackend";
export { RegistryStreamFeeder, parseMetadata } from "./streams/RegistryStreamFeeder";
export { CoordinatorAssignment } from "./network/CoordinatorAssignment";
export type { CoordinatorAssignmentOptions, CoordinatorEpochs } from "./network/CoordinatorAssignment";
export { ContractCoordinatorReporter } from "./network/ContractCoordinatorReporter";
export { ContractSubscriberDelivery } from "./network/ContractSubscriberDelivery";
export type { ContractSubscriberDeliveryOptions } from "./network/ContractSubscriberDelivery";
export type { ContractCoordinatorReporterOptions } from "./network/ContractCoordinatorReporter";
export * from "./streams/StreamIndex";
export * from "./network/PartitionAssignment";
export { EpochTracker } from "./network/EpochTracker";
export type { EpochReport } from "./network/EpochTracker";
export { EpochReporter } from "./network/EpochReporter";
export type { CoordinatorReporter } from "./network/EpochReporter";
export { VerifierPool } from "./verifier/VerifierPool";
export { EventStore } from "./storage/EventStore";
export type { ResendResult, RetentionPolicy, Hole, AdmitMode, Admitted } from "./storage/EventStore";
export { BrokerNode } from "./node/BrokerNode";
export { Replicator } from "./replication/Replicator";
export type { AcksPolicy, ReplicatorOptions } from "./replication/Replicator";
export { WsServer, BinaryKind } from "./node/WsServer";
export { buildHttpServer, HTTP_STATUS } from "./node/HttpServer";
export { BrokerClient, BrokerRequestError, closeGracefully } from "./client/BrokerClient";
export { buildSiweMessage, parseSiweMessage, verifySiwe } from "@datamarket/protocol";
export { BROKER_CONFIG, BrokerConfigSchema, ConfigError, DEFAULT_CONFIG, loadConfig, parseConfig } from "./config";
export type { BrokerConfig, ConfigProblem } from "./config";
export { credentialGateFrom, startBroker, startConfiguredBroker } from "./Broker";
export type { BrokerDeps, RunningBroker } from "./Broker";
export * from "./payments";
export { StreamNameResolver, normalizeStreamName, registerNameRoutes } from "./streams/StreamNames";
export type { ResolvedName } from "./streams/StreamNames";
