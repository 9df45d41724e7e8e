// The contract bindings the SDK uses: ethers Contracts over the human-readable ABIs in ./abi.ts
// (generated from the compiled artifacts, checked by sdk/test/abi.test.ts). The market's binding
// also knows the custom errors of the token and the registry it calls, so a revert inside a call
// the market makes (ERC20InsufficientAllowance, InvalidEncryptionKey) decodes by name.
// When @datamarket/contracts is published, its typechain factories replace this file.

import { Contract, Interface, type ContractRunner } from "ethers";
import type { CoordinatorWithEndpoints } from "../client/BrokerLocator";
import { DATA_LICENSE_MARKET_ABI, DATA_TOKEN_ABI, NETWORK_COORDINATOR_ABI, STREAM_NAMES_ABI, STREAM_REGISTRY_ABI } from "./abi";

/** An ethers Contract (any method of its ABI by name) whose connect() keeps that shape. */
export type BoundContract = { connect(runner: ContractRunner | null): BoundContract } & Contract;
/** INetworkCoordinator, with the reads the broker locator makes typed. */
export type CoordinatorContract = { connect(runner: ContractRunner | null): CoordinatorContract } & Contract & CoordinatorWithEndpoints;

const errorsOf = (abi: readonly string[]) => abi.filter((f) => f.startsWith("error "));
const unique = (fragments: readonly string[]) => [...new Set(fragments)];

/** Every custom error the protocol's contracts the SDK binds can raise (registry, market, token, coordinator). */
export const PROTOCOL_ERRORS_ABI = unique([
  ...errorsOf(STREAM_REGISTRY_ABI),
  ...errorsOf(DATA_LICENSE_MARKET_ABI),
  ...errorsOf(DATA_TOKEN_ABI),
  ...errorsOf(NETWORK_COORDINATOR_ABI),
]);

function withAllErrors(abi: readonly string[]): string[] {
  const own = new Set(errorsOf(abi).map((e) => e.slice(6, e.indexOf("("))));
  return [...abi, ...PROTOCOL_ERRORS_ABI.filter((e) => !own.has(e.slice(6, e.indexOf("("))))];
}

export const streamRegistryInterface = new Interface(withAllErrors(STREAM_REGISTRY_ABI));
export const marketInterface = new Interface(withAllErrors(DATA_LICENSE_MARKET_ABI));
export const tokenInterface = new Interface(withAllErrors(DATA_TOKEN_ABI));
export const coordinatorInterface = new Interface(withAllErrors(NETWORK_COORDINATOR_ABI));
export const streamNamesInterface = new Interface(STREAM_NAMES_ABI);

/** IStreamRegistry at `address`. */
export const streamRegistryAt = (address: string, runner?: ContractRunner | null): BoundContract =>
  new Contract(address, streamRegistryInterface, runner ?? null) as BoundContract;
/** IDataLicenseMarket at `address`. */
export const marketAt = (address: string, runner?: ContractRunner | null): BoundContract =>
  new Contract(address, marketInterface, runner ?? null) as BoundContract;
/** DATAToken at `address`. */
export const tokenAt = (address: string, runner?: ContractRunner | null): BoundContract =>
  new Contract(address, tokenInterface, runner ?? null) as BoundContract;
/** INetworkCoordinator at `address`. */
export const coordinatorAt = (address: string, runner?: ContractRunner | null): CoordinatorContract =>
  new Contract(address, coordinatorInterface, runner ?? null) as unknown as CoordinatorContract;
/** IStreamNames at `address`. */
export const streamNamesAt = (address: string, runner?: ContractRunner | null): BoundContract =>
  new Contract(address, streamNamesInterface, runner ?? null) as BoundContract;
