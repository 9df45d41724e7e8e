// @datamarket/consent-attestation: the consent attestation and revocation of the DataLicenseMarket
// (EIP-712 types, digests, packing), and the client that collects k attestor signatures from n
// consent bridges. For buyers, the SDK and the bridge itself; ethers only, no server, browser-safe.
export { collectAttestation, collectRevocation, type CollectOptions, type Collected, type CollectedAttestation, type CollectedRevocation } from "./collect";
export * from "./eip712";
export { BridgeClientError, ClientErrorCode, HttpErrorCode, type BridgeFailure } from "./errors";
