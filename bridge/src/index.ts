// Public API of @datamarket/consent-bridge: the service, its configuration, and the client helper that
// collects k-of-n attestor signatures and packs them as the DataLicenseMarket expects.
export { ConsentBridge, DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, type ConsentBridgeOptions, type RelayerSettings } from "./bridge";
export { Attestor, RefusalCode, type BatchOutcome } from "./attestor";
export { collectAttestation, collectRevocation, type CollectOptions, type Collected, type CollectedAttestation, type CollectedRevocation } from "./collect";
export {
  BridgeConfigSchema,
  ConsentLedgerSchema,
  checkConfigFiles,
  describeConfig,
  envName,
  loadConfig,
  parseConfig,
  settingsOf,
  type BridgeConfig,
  type ConsentLedgerConfig,
} from "./config";
export { configTable } from "./config/table";
export { checkMarket } from "./market-check";
export * from "./eip712";
export { BridgeClientError, BridgeConfigError, ClientErrorCode, HttpErrorCode, type BridgeFailure, type ConfigProblem } from "./errors";
export { LedgerFollower, type ConsentEventSource } from "./follower";
export { LOG_LEVELS, bridgeLogger, memoryLogger, type Logger, type LogLevel } from "./log";
export { RevocationRelayer, marketInterface } from "./relayer";
export type { AttestationResponse, HealthResponse, RevocationResponse } from "./server";
export { startFromConfig } from "./start";
export { BridgeStore, StoreError, type Checkpoint } from "./store";
