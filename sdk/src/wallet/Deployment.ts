// Loading the integrators' record of a deployment (deployments/<chainId>.json, written by
// `npm run deploy -- --network X`, docs/deployment.md §4) into typed contract instances of the
// registry, market, token and coordinator, checked against the chain they are used on.

import { readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, type ContractRunner } from "ethers";
import type { DATAToken, IDataLicenseMarket, INetworkCoordinator, IStreamRegistry } from "../../../typechain-types";
import { DATAToken__factory, IDataLicenseMarket__factory, INetworkCoordinator__factory, IStreamRegistry__factory } from "../../../typechain-types";
import { SdkError, SdkErrorCodes } from "../errors";

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
  /** The file it was read from. */
  file: string;
  chainId: bigint;
  /** EIP-55 addresses of the four contracts below. */
  addresses: { registry: string; market: string; token: string; coordinator: string };
  registry: IStreamRegistry;
  market: IDataLicenseMarket;
  token: DATAToken;
  coordinator: INetworkCoordinator;
}

export interface LoadDeploymentOptions {
  /** Where `<chainId>.json` is looked up when a chain id is given. Default: `deployments/` under the working directory. */
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
 * @param source a chain id (reads `<dir>/<chainId>.json`) or the path of a record file
 * @throws SdkError INVALID_DEPLOYMENT when the file is missing or malformed, names another chain than
 *   the one asked for, or, when `runner` has a provider, the provider is on another chain or one of
 *   the four addresses holds no code there (a restarted local chain, a stale record)
 */
export async function loadDeployment(source: number | bigint | string, runner?: ContractRunner | null, options: LoadDeploymentOptions = {}): Promise<Deployment> {
  const file = typeof source === "string" ? path.resolve(source) : path.resolve(options.dir ?? "deployments", `${source}.json`);
  let record: DeploymentRecord;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw invalid(file, missing ? "no deployment record (run npm run deploy -- --network <name>)" : `not a JSON deployment record (${(error as Error).message})`);
  }
  if (typeof record !== "object" || record === null || !Number.isSafeInteger(record.chainId) || record.chainId < 1) {
    throw invalid(file, `chainId must be a positive integer, got ${JSON.stringify((record as { chainId?: unknown } | null)?.chainId)}`);
  }
  const chainId = BigInt(record.chainId);
  if (typeof source !== "string" && BigInt(source) !== chainId) {
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
        throw invalid(file, `no code at ${name} ${address[name]} on chain ${chainId} (a restarted local chain, or a stale record)`, { contract: name, address: address[name] });
      }
    }
  }
  const connectTo = runner ?? null;
  return {
    record,
    file,
    chainId,
    addresses: { registry: address.StreamRegistry, market: address.DataLicenseMarket, token: address.DATAToken, coordinator: address.NetworkCoordinator },
    registry: IStreamRegistry__factory.connect(address.StreamRegistry, connectTo),
    market: IDataLicenseMarket__factory.connect(address.DataLicenseMarket, connectTo),
    token: DATAToken__factory.connect(address.DATAToken, connectTo),
    coordinator: INetworkCoordinator__factory.connect(address.NetworkCoordinator, connectTo),
  };
}
