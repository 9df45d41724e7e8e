// The deployment record: what `npm run deploy -- --network X` writes to deployments/<chainId>.json
// and what integrators read (the SDK's loadDeployment, the CLI's `deployment show|verify`).
// The format is specified by deployment.schema.json (JSON Schema 2020-12) beside this package's
// package.json; parseDeploymentRecord checks a value against it with the same rules, without a
// schema library, so it also runs in a browser.

/** The `format` of every record this version writes and reads. */
export const DEPLOYMENT_FORMAT = "datamarket-deployment/1" as const;

/** The contracts of a record, by the name integrators use. */
export const DEPLOYED_CONTRACT_NAMES = [
  "DATAToken",
  "StreamRegistry",
  "NetworkCoordinator",
  "EventSubscriptions",
  "Karma",
  "DataLicenseMarket",
  "PartitionAssignment",
  "CoordinatorParameters",
  "ProductCatalog",
  "AttestorSet",
  "LicenseTermination",
  "ProductDeliveryAdapter",
  "PaymentChannels",
  "StreamNames",
] as const;
export type DeployedContractName = (typeof DEPLOYED_CONTRACT_NAMES)[number];

/** The development ENS a record holds only when its parameters deployed one (`Names.ens: "local"`). */
export const LOCAL_ENS_CONTRACT_NAMES = ["ENSRegistry", "PublicResolver"] as const;
export type LocalEnsContractName = (typeof LOCAL_ENS_CONTRACT_NAMES)[number];

export type Address = `0x${string}`;
export type Hash = `0x${string}`;
/** An unsigned integer written as a decimal string ("1000000000000000000"): JSON numbers lose precision past 2^53. */
export type DecimalString = string;

export interface DeployedContract {
  /** Fully qualified Solidity name, `contracts/market/DataLicenseMarket.sol:DataLicenseMarket`. */
  contract: string;
  /** EIP-55 checksummed address. */
  address: Address;
  /** Block of the creation transaction: start indexing events there. */
  deployBlock: number;
  /** Hash of the creation transaction; null where the deployer did not record it (the in-process network). */
  deployTransaction: Hash | null;
  /** The ABI file written with the record, relative to the record's directory (`<chainId>/<Contract>.abi.json`). */
  abi: string;
}

/** The checked parameters the protocol was deployed with (deploy/parameters/<network>.json), integers as decimal strings. */
export interface DeploymentParameters {
  Foundation: { tokenCap: DecimalString; minter: Address };
  Network: {
    replication: DecimalString;
    epochLength: DecimalString;
    initialPartitions: DecimalString;
    parameters: Record<string, DecimalString>;
  };
  Market: { karmaHalfLife: DecimalString; flagPenaltyBps: DecimalString };
  Protocol: {
    governance: Address;
    attestors: Address[];
    attestorThreshold: DecimalString;
    arbiter: Address;
    kycProviders: Address[];
    feeBps: DecimalString;
    feeRecipient: Address;
    /** "adapter": the deployed ProductDeliveryAdapter; otherwise an address (0x0: release by time). */
    deliveryOracle: "adapter" | Address;
  };
  /** ENS for stream names: the registry's address, or "local" (a development ENS deployed with the protocol). */
  Names: { ens: "local" | Address; nameWrapper: Address };
}

export interface DeploymentRecord {
  format: typeof DEPLOYMENT_FORMAT;
  chainId: number;
  /** The Hardhat network name it was deployed with (informative). */
  network: string;
  deployer: Address;
  governance: Address;
  /** True when every admin role was handed to `governance` and the deployer renounced them. */
  governanceHandedOver: boolean;
  /** Ignition's deployment id (its journal under deploy/deployments/), null on the in-process network. */
  ignitionDeploymentId: string | null;
  /** The parameters file, relative to the repository root. */
  parametersFile: string;
  parameters: DeploymentParameters;
  contracts: Record<DeployedContractName, DeployedContract> & Partial<Record<LocalEnsContractName, DeployedContract>>;
}

/** A value that is not a valid record; `path` is the JSON path of the first wrong field. */
export class DeploymentRecordError extends Error {
  readonly code = "INVALID_DEPLOYMENT" as const;
  constructor(
    readonly source: string,
    readonly path: string,
    problem: string,
  ) {
    super(`${source}: ${path} ${problem}`);
    this.name = "DeploymentRecordError";
  }
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Checks that `value` (parsed JSON) is a record of this format and returns it typed. Big integers
 * must be decimal strings (an older record's "123n" strings are refused, naming the field), addresses
 * 0x-prefixed 20-byte hex, blocks and the chain id non-negative safe integers.
 *
 * @param source names the record in errors (a file path, a URL)
 * @throws DeploymentRecordError naming the first field that is wrong
 */
export function parseDeploymentRecord(value: unknown, source = "deployment record"): DeploymentRecord {
  const fail = (path: string, problem: string): never => {
    throw new DeploymentRecordError(source, path, problem);
  };
  const show = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));
  const object = (v: unknown, path: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(path, `must be an object, got ${show(v)}`);
    return v as Record<string, unknown>;
  };
  const string = (v: unknown, path: string): string => (typeof v === "string" && v.length > 0 ? v : fail(path, `must be a non-empty string, got ${show(v)}`));
  const address = (v: unknown, path: string): Address =>
    typeof v === "string" && ADDRESS.test(v) ? (v as Address) : fail(path, `must be a 0x-prefixed 20-byte hex address, got ${show(v)}`);
  const decimal = (v: unknown, path: string): string => {
    if (typeof v === "string" && DECIMAL.test(v)) return v;
    const hint = typeof v === "string" && /^\d+n$/.test(v) ? ' (the "123n" form of an older deploy task: deploy again, or drop the n)' : "";
    return fail(path, `must be an unsigned integer as a decimal string, got ${show(v)}${hint}`);
  };
  const int = (v: unknown, path: string, min: number): number =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min ? v : fail(path, `must be an integer >= ${min}, got ${show(v)}`);

  const root = object(value, "$");
  if (root.format !== DEPLOYMENT_FORMAT) {
    fail(
      "$.format",
      `must be "${DEPLOYMENT_FORMAT}", got ${show(root.format)}${root.format === undefined ? " (a record of an older deploy task: deploy again)" : ""}`,
    );
  }
  int(root.chainId, "$.chainId", 1);
  string(root.network, "$.network");
  address(root.deployer, "$.deployer");
  address(root.governance, "$.governance");
  if (typeof root.governanceHandedOver !== "boolean") fail("$.governanceHandedOver", `must be a boolean, got ${show(root.governanceHandedOver)}`);
  if (root.ignitionDeploymentId !== null) string(root.ignitionDeploymentId, "$.ignitionDeploymentId");
  string(root.parametersFile, "$.parametersFile");

  const p = object(root.parameters, "$.parameters");
  const foundation = object(p.Foundation, "$.parameters.Foundation");
  decimal(foundation.tokenCap, "$.parameters.Foundation.tokenCap");
  address(foundation.minter, "$.parameters.Foundation.minter");
  const network = object(p.Network, "$.parameters.Network");
  for (const key of ["replication", "epochLength", "initialPartitions"]) decimal(network[key], `$.parameters.Network.${key}`);
  for (const [key, v] of Object.entries(object(network.parameters, "$.parameters.Network.parameters"))) decimal(v, `$.parameters.Network.parameters.${key}`);
  const market = object(p.Market, "$.parameters.Market");
  for (const key of ["karmaHalfLife", "flagPenaltyBps"]) decimal(market[key], `$.parameters.Market.${key}`);
  const protocol = object(p.Protocol, "$.parameters.Protocol");
  for (const key of ["governance", "arbiter", "feeRecipient"]) address(protocol[key], `$.parameters.Protocol.${key}`);
  for (const key of ["attestors", "kycProviders"]) {
    const list = protocol[key];
    if (!Array.isArray(list)) fail(`$.parameters.Protocol.${key}`, `must be an array of addresses, got ${show(list)}`);
    (list as unknown[]).forEach((v, i) => address(v, `$.parameters.Protocol.${key}[${i}]`));
  }
  for (const key of ["attestorThreshold", "feeBps"]) decimal(protocol[key], `$.parameters.Protocol.${key}`);
  if (protocol.deliveryOracle !== "adapter") address(protocol.deliveryOracle, "$.parameters.Protocol.deliveryOracle");
  const names = object(p.Names, "$.parameters.Names");
  if (names.ens !== "local") address(names.ens, "$.parameters.Names.ens");
  address(names.nameWrapper, "$.parameters.Names.nameWrapper");

  const contracts = object(root.contracts, "$.contracts");
  for (const name of DEPLOYED_CONTRACT_NAMES) {
    if (!(name in contracts)) fail(`$.contracts.${name}`, "is missing");
  }
  for (const [name, entry] of Object.entries(contracts)) {
    const c = object(entry, `$.contracts.${name}`);
    string(c.contract, `$.contracts.${name}.contract`);
    address(c.address, `$.contracts.${name}.address`);
    int(c.deployBlock, `$.contracts.${name}.deployBlock`, 0);
    if (c.deployTransaction !== null && !(typeof c.deployTransaction === "string" && HASH.test(c.deployTransaction))) {
      fail(`$.contracts.${name}.deployTransaction`, `must be a 32-byte 0x hash or null, got ${show(c.deployTransaction)}`);
    }
    string(c.abi, `$.contracts.${name}.abi`);
  }
  return value as DeploymentRecord;
}

/** The lowest deploy block of a record: where an indexer of every contract starts. */
export function firstDeployBlock(record: DeploymentRecord): number {
  return Math.min(...Object.values(record.contracts).map((c) => c.deployBlock));
}
