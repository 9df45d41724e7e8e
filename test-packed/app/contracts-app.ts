// An integrator's app against the installed @datamarket/contracts: compiled by the packed-packages
// test with `tsc` (strict, node16 resolution); it must type-check with zero errors, and the
// @ts-expect-error lines prove that the types come from the ABIs and are not `any`.
import { createPublicClient, decodeErrorResult, http, type ContractFunctionReturnType } from "viem";
import { JsonRpcProvider } from "ethers";
import {
  dataLicenseMarketAbi,
  iStreamRegistryAbi,
  parseDeploymentRecord,
  protocolErrorsAbi,
  withProtocolErrors,
  type DeploymentRecord,
} from "@datamarket/contracts";
import { DataLicenseMarket__factory, type IStreamRegistry } from "@datamarket/contracts/typechain";
import { dataLicenseMarketBytecode, dataLicenseMarketImmutableReferences } from "@datamarket/contracts/bytecode";

// viem infers a function's result from the `as const` ABI
type Quote = ContractFunctionReturnType<typeof dataLicenseMarketAbi, "view", "quote">;
export const quote: Quote = 1n;
// @ts-expect-error a quote is a bigint, not a string
export const wrongQuote: Quote = "1";

export async function read(record: DeploymentRecord): Promise<bigint> {
  const client = createPublicClient({ transport: http("http://127.0.0.1:8545") });
  const cost = await client.readContract({
    address: record.contracts.DataLicenseMarket.address,
    abi: dataLicenseMarketAbi,
    functionName: "quote",
    args: [`0x${"00".repeat(32)}`, 3600n],
  });
  await client.readContract({
    address: record.contracts.DataLicenseMarket.address,
    abi: dataLicenseMarketAbi,
    functionName: "quote",
    // @ts-expect-error quote takes (bytes32, uint256): a string duration does not type-check
    args: [`0x${"00".repeat(32)}`, "3600"],
  });
  const canPublish: boolean = await client.readContract({
    address: record.contracts.StreamRegistry.address,
    abi: iStreamRegistryAbi,
    functionName: "canPublish",
    args: [`0x${"00".repeat(32)}`, record.deployer],
  });
  return canPublish ? cost : 0n;
}

// a revert of a called contract decodes through the market, the error name a union of the ABI's errors
export function explain(data: `0x${string}`): string {
  const error = decodeErrorResult({ abi: withProtocolErrors(dataLicenseMarketAbi), data });
  if (error.errorName === "ERC20InsufficientAllowance") return `allowance ${error.args[1]} < ${error.args[2]}`;
  return error.errorName;
}
export const errorCount: number = protocolErrorsAbi.length;

// ethers through the typechain factories
export async function licensed(record: DeploymentRecord, registry: IStreamRegistry): Promise<boolean> {
  const market = DataLicenseMarket__factory.connect(record.contracts.DataLicenseMarket.address, new JsonRpcProvider("http://127.0.0.1:8545"));
  return (await market.hasValidLicense(record.deployer, `0x${"00".repeat(32)}`)) && (await registry.canSubscribe(`0x${"00".repeat(32)}`, record.deployer));
}

export const record: DeploymentRecord = parseDeploymentRecord(JSON.parse("{}"), "example");
export const codeBytes: number = (dataLicenseMarketBytecode.length - 2) / 2 + Object.keys(dataLicenseMarketImmutableReferences).length;
