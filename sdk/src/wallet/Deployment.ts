// Loading the integrators' record of a deployment (deployments/<chainId>.json, written by
// `npm run deploy -- --network X`, docs/deployment.md §4) into contract instances of the registry,
// market, token and coordinator, checked against the chain they are used on. In Node the record
// can be read from a file; everywhere it can be passed as an object.

import { getAddress, type ContractRunner } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { readTextFile } from "../platform";
import { coordinatorAt, marketAt, streamRegistryAt, tokenAt, type BoundContract, type CoordinatorContract } from "./contracts";

/** The contracts of the record the SDK needs, by their export name. */
const REQUIRED = ["StreamRegistry", "DataLicenseMarket", "DATAToken", "NetworkCoordinator"] as const;

/**
 * The part of the record the SDK reads. The full format is tasks/deployment.ts's `DeploymentExport`
 * (not imported: it lives with the Hardhat tasks and their plugins' types); sdk/test/deployment.test.ts
 * checks at compile time that a `DeploymentExport` is a `DeploymentRecord`.
 */
export interface DeploymentRecord {
  chainId: number;
  network: string;
  /** Export name (DATAToken, StreamRegistry, NetworkCoordinator, DataLicenseMarket, ...) -> contract. */
  contracts: Record<string, DeployedContract>;
}

export interface DeployedContract {
  /** EIP-55 address. */
  address: string;
  /** ABI file, relative to the record's directory. */
  abi: string;
  /** Block of the creation transaction: start event indexing there. */
  deployBlock: number;
}

export interface Deployment {
  /** The record as written by deploy-protocol (every exported contract with its deploy block; the file also holds the parameters). */
  record: DeploymentRecord;
  /** The file it was read from ("(object)" when the record was passed in). */
  file: string;
  chainId: bigint;
  /** EIP-55 addresses of the four contracts below. */
  addresses: { registry: string; market: string; token: string; coordinator: string };
  /** IStreamRegistry, IDataLicenseMarket, DATAToken, INetworkCoordinator: ethers Contracts over the SDK's ABIs (src/wallet/abi.ts). */
  registry: BoundContract;
  market: BoundContract;
  token: BoundContract;
  coordinator: CoordinatorContract;
}

export interface LoadDeploymentOptions {
  /** Where `<chainId>.json` is looked up when a chain id is given. Default: `deployments/` under the working directory (Node only). */
  dir?: string;
}

function invalid(file: string, message: string, details: Record<string, unknown> = {}): SdkError {
  return new SdkError(SdkErrorCodes.INVALID_DEPLOYMENT, `${file}: ${message}`, { file, ...details });
}

/**
 * Reads a deployment record and connects typed instances of StreamRegistry, DataLicenseMarket,
 * DATAToken and NetworkCoordinator to `runner` (a signer to send transactions, a provider to read;
 * none: connect them later with `.connect(runner)`).
 *
 * @param source a chain id (reads `<dir>/<chainId>.json`), the path of a record file (both Node
 *   only), or the record itself (parsed JSON: browsers, bundled records)
 * @throws SdkError INVALID_DEPLOYMENT when the file is missing or malformed, names another chain than
 *   the one asked for, or, when `runner` has a provider, the provider is on another chain or one of
 *   the four addresses holds no code there (a restarted local chain, a stale record)
 */
export async function loadDeployment(
  source: number | bigint | string | DeploymentRecord,
  runner?: ContractRunner | null,
  options: LoadDeploymentOptions = {},
): Promise<Deployment> {
  let file = "(object)";
  let record: DeploymentRecord;
  if (typeof source === "object") {
    record = source;
  } else {
    const wanted = typeof source === "string" ? source : `${source}.json`;
    try {
      const read = typeof source === "string" ? readTextFile(wanted) : readTextFile(wanted, options.dir ?? "deployments");
      file = read.path;
      record = JSON.parse(read.text) as DeploymentRecord;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message =
        code === "ENOENT"
          ? "no deployment record (run npm run deploy -- --network <name>)"
          : code === "NOT_SUPPORTED"
            ? (error as Error).message
            : `not a JSON deployment record (${(error as Error).message})`;
      throw new SdkError(
        code === "NOT_SUPPORTED" ? SdkErrorCodes.NOT_SUPPORTED : SdkErrorCodes.INVALID_DEPLOYMENT,
        `${file === "(object)" ? wanted : file}: ${message}`,
        { file: file === "(object)" ? wanted : file },
        { cause: error },
      );
    }
  }
  if (typeof record !== "object" || record === null || !Number.isSafeInteger(record.chainId) || record.chainId < 1) {
    throw invalid(file, `chainId must be a positive integer, got ${JSON.stringify((record as { chainId?: unknown } | null)?.chainId)}`);
  }
  const chainId = BigInt(record.chainId);
  if ((typeof source === "number" || typeof source === "bigint") && BigInt(source) !== chainId) {
    throw invalid(file, `records chain ${chainId}, not chain ${source}`, { chainId, expected: BigInt(source) });
  }
  const address = {} as Record<(typeof REQUIRED)[number], string>;
  for (const name of REQUIRED) {
    const entry = record.contracts?.[name];
    try {
      address[name] = getAddress(String(entry?.address));
    } catch {
      throw invalid(file, `contracts.${name}.address must be an EIP-55 address, got ${JSON.stringify(entry?.address)}`, { contract: name });
    }
  }

  const provider = runner?.provider ?? null;
  if (provider) {
    const actual = (await provider.getNetwork()).chainId;
    if (actual !== chainId) throw invalid(file, `records chain ${chainId}, but the provider is on chain ${actual}`, { chainId, providerChainId: actual });
    for (const name of REQUIRED) {
      if ((await provider.getCode(address[name])) === "0x") {
        throw invalid(file, `no code at ${name} ${address[name]} on chain ${chainId} (a restarted local chain, or a stale record)`, {
          contract: name,
          address: address[name],
        });
      }
    }
  }
  const connectTo = runner ?? null;
  return {
    record,
    file,
    chainId,
    addresses: { registry: address.StreamRegistry, market: address.DataLicenseMarket, token: address.DATAToken, coordinator: address.NetworkCoordinator },
    registry: streamRegistryAt(address.StreamRegistry, connectTo),
    market: marketAt(address.DataLicenseMarket, connectTo),
    token: tokenAt(address.DATAToken, connectTo),
    coordinator: coordinatorAt(address.NetworkCoordinator, connectTo),
  };
}
