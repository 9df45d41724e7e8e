// The light entry point for buyers, the SDK and the demo: collect k-of-n attestor signatures from
// bridges and pack them for the market. Depends on ethers only (no Fabric, no server).
export { collectAttestation, collectRevocation, type CollectOptions, type Collected, type CollectedAttestation, type CollectedRevocation } from "./collect";
export * from "./eip712";
export { BridgeClientError, ClientErrorCode, HttpErrorCode, type BridgeFailure } from "./errors";
export type { AttestationResponse, HealthResponse, RevocationResponse } from "./server";
