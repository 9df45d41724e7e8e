// The portal's runtime configuration: the static build reads ./config.json next to index.html, so one
// build serves any deployment (the server that hosts the files writes the file; docs/portal.md).
export interface PortalConfig {
  chainId: number;
  /** JSON-RPC endpoint the browser reads the chain from (CORS-enabled) */
  rpcUrl: string;
  /** the consent API (portal/server/consent-api.ts) */
  consentApiUrl: string;
  /** the first block of the deployment: the indexer starts there */
  fromBlock: number;
  contracts: { DATAToken: string; StreamRegistry: string; DataLicenseMarket: string; NetworkCoordinator: string };
  /** the consent bridges' base URLs (CORS-enabled), one per attestor: a buyer collects k attestations there */
  bridgeUrls?: string[];
  /** the sellers' dataset release services, by dataset id (lowercase 0x): GET {url}/v1/releases/{datasetId}/{buyer} */
  releaseUrls?: Record<string, string>;
  /** publishers' key-request endpoints (POST {url}/key-requests, the SDK's serveKeyRequests), by lowercase publisher address */
  keyRequestUrls?: Record<string, string>;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const isUrl = (u: unknown) => typeof u === "string" && /^https?:\/\//.test(u);

/** Checks a parsed config.json; the error names the field that is wrong. */
export function parseConfig(value: unknown): PortalConfig {
  const c = value as PortalConfig;
  const fail = (what: string) => {
    throw new Error(`config.json: ${what}`);
  };
  if (typeof c !== "object" || c === null) fail("is not a JSON object");
  if (!Number.isSafeInteger(c.chainId) || c.chainId <= 0) fail("chainId must be a positive integer");
  if (!Number.isSafeInteger(c.fromBlock) || c.fromBlock < 0) fail("fromBlock must be a block number");
  for (const key of ["rpcUrl", "consentApiUrl"] as const) {
    if (!isUrl(c[key])) fail(`${key} must be an http(s) URL`);
  }
  for (const name of ["DATAToken", "StreamRegistry", "DataLicenseMarket", "NetworkCoordinator"] as const) {
    if (!ADDRESS.test(c.contracts?.[name] ?? "")) fail(`contracts.${name} must be a 0x address`);
  }
  // the buyer's services: optional (a deployment without them serves Discover, Audit and My consents)
  const urls = (x: unknown) => (Array.isArray(x) ? x : typeof x === "object" && x !== null ? Object.values(x) : [null]).every(isUrl);
  if (c.bridgeUrls !== undefined && (!Array.isArray(c.bridgeUrls) || !urls(c.bridgeUrls))) fail("bridgeUrls must be a list of http(s) URLs");
  if (c.releaseUrls !== undefined && (Array.isArray(c.releaseUrls) || !urls(c.releaseUrls))) fail("releaseUrls must map dataset ids to http(s) URLs");
  if (c.keyRequestUrls !== undefined && (Array.isArray(c.keyRequestUrls) || !urls(c.keyRequestUrls)))
    fail("keyRequestUrls must map publisher addresses to http(s) URLs");
  return c;
}

export async function loadConfig(): Promise<PortalConfig> {
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status} (the server must publish the deployment's config next to index.html)`);
  return parseConfig(await response.json());
}
