// The auditors' check of a live deployment against the build and the parameters file: runtime
// bytecode (immutables masked, linked libraries substituted), every role holder (rebuilt from the
// RoleGranted/RoleRevoked logs, so an extra holder is caught), every parameter, and the EIP-1967
// proxy slots (the protocol uses no proxies: they must be empty).
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, Interface, zeroPadValue, type Log } from "ethers";
import { ROLES } from "../deploy/modules/Protocol";
import { COORDINATOR_PARAMETER_NAMES, loadParameters, type ProtocolParameters } from "../deploy/parameters";
import { CONTRACTS, LOCAL_ENS_CONTRACTS, exportPath, readExport, type ContractName, type DeploymentExport, type LocalEnsName } from "./deployment";

export type Area = "chain" | "bytecode" | "role" | "parameter" | "proxy";

export interface Check {
  area: Area;
  contract: string;
  item: string;
  expected: string;
  actual: string;
  ok: boolean;
}

const ROLE_NAMES = new Map<string, string>(Object.entries(ROLES).map(([name, hash]) => [hash, name]));
const roleName = (hash: string): string => ROLE_NAMES.get(hash) ?? hash;

// EIP-1967: bytes32(uint256(keccak256("eip1967.proxy.<name>")) - 1).
export const EIP1967_SLOTS = {
  implementation: "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc",
  admin: "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103",
  beacon: "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50",
} as const;

const ACCESS_CONTROL_EVENTS = new Interface([
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
]);

/** Who must hold which role, from the parameters and the deployment's own addresses. */
export function expectedRoles(parameters: ProtocolParameters, record: DeploymentExport): Partial<Record<ContractName, Record<string, string[]>>> {
  const g = record.governanceHandedOver ? parameters.Protocol.governance : record.deployer;
  const market = record.contracts.DataLicenseMarket.address;
  return {
    DATAToken: { DEFAULT_ADMIN_ROLE: [g], MINTER_ROLE: [parameters.Foundation.minter] },
    StreamRegistry: { DEFAULT_ADMIN_ROLE: [g], KEY_REGISTRAR_ROLE: [market] },
    Karma: { DEFAULT_ADMIN_ROLE: [g], REPORTER_ROLE: [market] },
    DataLicenseMarket: {
      DEFAULT_ADMIN_ROLE: [g],
      ARBITER_ROLE: [parameters.Protocol.arbiter],
      KYC_PROVIDER_ROLE: parameters.Protocol.kycProviders,
    },
    NetworkCoordinator: { DEFAULT_ADMIN_ROLE: [g], PARAMETER_ROLE: [g] },
  };
}

async function getLogsChunked(hre: HardhatRuntimeEnvironment, address: string, fromBlock: number, toBlock: number, chunk: number): Promise<Log[]> {
  const logs: Log[] = [];
  for (let start = fromBlock; start <= toBlock; start += chunk) {
    const end = Math.min(toBlock, start + chunk - 1);
    logs.push(...(await hre.ethers.provider.getLogs({ address, fromBlock: start, toBlock: end })));
  }
  return logs;
}

/** The runtime code the build predicts at `address`, with immutables zeroed; and the mask to apply on chain. */
async function expectedRuntime(
  hre: HardhatRuntimeEnvironment,
  fqn: string,
  address: string,
  libraries: Map<string, string>,
): Promise<{ code: string; immutableRanges: { start: number; length: number }[] }> {
  const buildInfo = await hre.artifacts.getBuildInfo(fqn);
  if (!buildInfo) throw new Error(`no build-info for ${fqn}: run npx hardhat compile`);
  const [source, name] = fqn.split(":");
  const evm = buildInfo.output.contracts[source][name].evm;
  let code = evm.deployedBytecode.object.toLowerCase();
  for (const [librarySource, byName] of Object.entries(evm.deployedBytecode.linkReferences ?? {})) {
    for (const [libraryName, places] of Object.entries(byName)) {
      const libraryAddress = libraries.get(`${librarySource}:${libraryName}`);
      const substitute = (libraryAddress ?? "0x" + "00".repeat(20)).slice(2).toLowerCase();
      for (const { start, length } of places) {
        code = code.slice(0, start * 2) + substitute + code.slice((start + length) * 2);
      }
    }
  }
  // A library's runtime code starts with PUSH20 <its own address> (the call guard), written at deployment.
  if (code.startsWith("73" + "00".repeat(20))) code = "73" + address.slice(2).toLowerCase() + code.slice(42);
  const immutableRanges = Object.values(evm.deployedBytecode.immutableReferences ?? {}).flat();
  return { code, immutableRanges };
}

function mask(code: string, ranges: { start: number; length: number }[]): string {
  let masked = code;
  for (const { start, length } of ranges) {
    masked = masked.slice(0, start * 2) + "00".repeat(length) + masked.slice((start + length) * 2);
  }
  return masked;
}

function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return Math.floor(i / 2);
  return Math.floor(n / 2);
}

/** A read that failed (reverted, or no code): shown as the actual value of a failed row. */
class FailedRead {
  constructor(readonly reason: string) {}
  toString(): string {
    return `call failed: ${this.reason}`;
  }
}

async function read<T>(call: () => Promise<T>): Promise<T | FailedRead> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return new FailedRead(message.length > 60 ? message.slice(0, 57) + "..." : message);
  }
}

const asAddress = (value: unknown): unknown => (typeof value === "string" ? getAddress(value) : value);
const fmtSet = (values: string[]): string => (values.length ? [...values].sort().join(", ") : "(none)");

export interface VerifyOptions {
  record: DeploymentExport;
  parametersFile: string;
  /** Blocks per eth_getLogs request (public RPCs cap ranges). */
  logChunk?: number;
}

/** Run every check; never throws on a mismatch (each is a failed row), only on an unreachable node. */
export async function verifyDeployment(hre: HardhatRuntimeEnvironment, options: VerifyOptions): Promise<Check[]> {
  const { record } = options;
  const parameters = loadParameters(options.parametersFile);
  const provider = hre.ethers.provider;
  const checks: Check[] = [];
  const check = (area: Area, contract: string, item: string, expected: unknown, actual: unknown, ok?: boolean) => {
    const e = String(expected);
    const a = String(actual);
    checks.push({ area, contract, item, expected: e, actual: a, ok: !(actual instanceof FailedRead) && (ok ?? e === a) });
  };

  const chainId = (await provider.getNetwork()).chainId;
  check("chain", "-", "chain id", record.chainId, chainId);
  if (BigInt(record.chainId) !== chainId) return checks;

  // The protocol's contracts, and the development ENS when the parameters deploy one.
  const localEns = parameters.Names.ens === "local" ? (Object.keys(LOCAL_ENS_CONTRACTS) as LocalEnsName[]) : [];
  for (const name of localEns) {
    if (!record.contracts[name]) check("bytecode", name, "in the export", `${name} (Names.ens is "local")`, "absent", false);
  }
  const names = [...(Object.keys(CONTRACTS) as ContractName[]), ...localEns.filter((name) => record.contracts[name])];
  const address = (name: ContractName | LocalEnsName) => record.contracts[name]!.address;
  const libraries = new Map(names.map((name) => [record.contracts[name]!.contract, address(name)]));

  // Bytecode.
  for (const name of names) {
    const { contract: fqn } = record.contracts[name]!;
    const onChain = (await provider.getCode(address(name))).toLowerCase().slice(2);
    if (onChain.length === 0) {
      check("bytecode", name, "runtime code", "contract code", "no code at address", false);
      continue;
    }
    const { code, immutableRanges } = await expectedRuntime(hre, fqn, address(name), libraries);
    const expected = mask(code, immutableRanges);
    const actual = mask(onChain, immutableRanges);
    const ok = expected === actual;
    check(
      "bytecode",
      name,
      `runtime code (${immutableRanges.length} immutable refs masked)`,
      `${expected.length / 2} bytes of ${fqn}`,
      ok ? `${actual.length / 2} bytes, identical` : `${actual.length / 2} bytes, first difference at byte ${firstDifference(expected, actual)}`,
      ok,
    );
  }

  // Roles, rebuilt from the logs.
  const latest = await provider.getBlockNumber();
  const expectations = expectedRoles(parameters, record);
  for (const name of Object.keys(expectations) as ContractName[]) {
    const expectedByRole = expectations[name]!;
    const logs = await getLogsChunked(hre, address(name), record.contracts[name].deployBlock, latest, options.logChunk ?? 10_000);
    const holders = new Map<string, Set<string>>();
    const adminChanges: string[] = [];
    for (const log of logs) {
      const parsed = ACCESS_CONTROL_EVENTS.parseLog(log);
      if (!parsed) continue;
      if (parsed.name === "RoleAdminChanged") {
        adminChanges.push(roleName(parsed.args.role as string));
        continue;
      }
      const role = parsed.args.role as string;
      const set = holders.get(role) ?? new Set<string>();
      if (parsed.name === "RoleGranted") set.add(getAddress(parsed.args.account as string));
      else set.delete(getAddress(parsed.args.account as string));
      holders.set(role, set);
    }
    const contract = await hre.ethers.getContractAt(CONTRACTS[name], address(name));
    const roles = new Set<string>([...Object.keys(expectedByRole).map((r) => ROLES[r as keyof typeof ROLES]), ...holders.keys()]);
    for (const role of roles) {
      const expected = (expectedByRole[roleName(role)] ?? []).map((a) => getAddress(a));
      const actual = [...(holders.get(role) ?? [])];
      // The logs must agree with the state: every reconstructed holder really holds the role.
      const stateAgrees = (await Promise.all(actual.map((account) => read(() => contract.getFunction("hasRole")(role, account) as Promise<boolean>)))).every(
        (held) => held === true,
      );
      const sameSet = expected.length === actual.length && expected.every((a) => actual.includes(a));
      check("role", name, roleName(role), fmtSet(expected), fmtSet(actual) + (stateAgrees ? "" : " (hasRole disagrees)"), sameSet && stateAgrees);
      const admin = await read(() => contract.getFunction("getRoleAdmin")(role) as Promise<string>);
      if (admin !== ROLES.DEFAULT_ADMIN_ROLE) {
        check("role", name, `admin of ${roleName(role)}`, "DEFAULT_ADMIN_ROLE", typeof admin === "string" ? roleName(admin) : admin, false);
      }
    }
    check("role", name, "RoleAdminChanged events", "(none)", fmtSet(adminChanges));
  }

  // Parameters.
  const token = await hre.ethers.getContractAt("DATAToken", address("DATAToken"));
  check("parameter", "DATAToken", "cap", parameters.Foundation.tokenCap, await read(() => token.cap()));

  const karma = await hre.ethers.getContractAt("Karma", address("Karma"));
  check("parameter", "Karma", "HALF_LIFE", parameters.Market.karmaHalfLife, await read(() => karma.HALF_LIFE()));
  check("parameter", "Karma", "flagPenaltyBps", parameters.Market.flagPenaltyBps, await read(() => karma.flagPenaltyBps()));

  const market = await hre.ethers.getContractAt("DataLicenseMarket", address("DataLicenseMarket"));
  check("parameter", "DataLicenseMarket", "token", address("DATAToken"), await read(() => market.token()));
  check("parameter", "DataLicenseMarket", "registry", address("StreamRegistry"), await read(() => market.registry()));
  check("parameter", "DataLicenseMarket", "karma", address("Karma"), await read(() => market.karma()));
  const attestorsRead = await read(() => market.attestors());
  const attestors = attestorsRead instanceof FailedRead ? [] : attestorsRead.map((a) => getAddress(a));
  const expectedAttestors = parameters.Protocol.attestors;
  check(
    "parameter",
    "DataLicenseMarket",
    "attestors",
    fmtSet(expectedAttestors),
    attestorsRead instanceof FailedRead ? attestorsRead : fmtSet(attestors),
    attestors.length === expectedAttestors.length && expectedAttestors.every((a) => attestors.includes(a)),
  );
  check("parameter", "DataLicenseMarket", "attestorThreshold (k)", parameters.Protocol.attestorThreshold, await read(() => market.attestorThreshold()));
  const fee = await read(() => market.protocolFee());
  check("parameter", "DataLicenseMarket", "protocolFee.feeBps", parameters.Protocol.feeBps, fee instanceof FailedRead ? fee : fee[0]);
  check("parameter", "DataLicenseMarket", "protocolFee.recipient", parameters.Protocol.feeRecipient, fee instanceof FailedRead ? fee : getAddress(fee[1]));
  const expectedOracle = parameters.Protocol.deliveryOracle === "adapter" ? address("ProductDeliveryAdapter") : parameters.Protocol.deliveryOracle;
  check("parameter", "DataLicenseMarket", "deliveryOracle", expectedOracle, asAddress(await read(() => market.deliveryOracle())));

  const coordinator = await hre.ethers.getContractAt("NetworkCoordinator", address("NetworkCoordinator"));
  check("parameter", "NetworkCoordinator", "token", address("DATAToken"), await read(() => coordinator.token()));
  check("parameter", "NetworkCoordinator", "replication", parameters.Network.replication, await read(() => coordinator.replication()));
  check("parameter", "NetworkCoordinator", "epochLength", parameters.Network.epochLength, await read(() => coordinator.epochLength()));
  check(
    "parameter",
    "NetworkCoordinator",
    "partitionCountTarget (initialPartitions)",
    parameters.Network.initialPartitions,
    await read(() => coordinator.partitionCountTarget()),
  );
  const live = await read(() => coordinator.parameters());
  for (const field of COORDINATOR_PARAMETER_NAMES) {
    check("parameter", "NetworkCoordinator", `parameters.${field}`, parameters.Network.parameters[field], live instanceof FailedRead ? live : live[field]);
  }

  const subscriptions = await hre.ethers.getContractAt("EventSubscriptions", address("EventSubscriptions"));
  check("parameter", "EventSubscriptions", "token", address("DATAToken"), await read(() => subscriptions.token()));
  check("parameter", "EventSubscriptions", "registry", address("StreamRegistry"), await read(() => subscriptions.registry()));
  check("parameter", "EventSubscriptions", "coordinator", address("NetworkCoordinator"), await read(() => subscriptions.coordinator()));

  const adapter = await hre.ethers.getContractAt("ProductDeliveryAdapter", address("ProductDeliveryAdapter"));
  check("parameter", "ProductDeliveryAdapter", "market", address("DataLicenseMarket"), await read(() => adapter.market()));
  check("parameter", "ProductDeliveryAdapter", "coordinator", address("NetworkCoordinator"), await read(() => adapter.coordinator()));
  check("parameter", "ProductDeliveryAdapter", "registry", address("StreamRegistry"), await read(() => adapter.registry()));

  const channels = await hre.ethers.getContractAt("PaymentChannels", address("PaymentChannels"));
  check("parameter", "PaymentChannels", "token", address("DATAToken"), await read(() => channels.token()));
  check(
    "parameter",
    "PaymentChannels",
    "challengePeriod (channelChallengePeriod)",
    parameters.Network.channelChallengePeriod,
    await read(() => channels.challengePeriod()),
  );

  const streamNames = await hre.ethers.getContractAt("StreamNames", address("StreamNames"));
  const expectedEns = parameters.Names.ens === "local" ? (record.contracts.ENSRegistry?.address ?? "(ENSRegistry in the export)") : parameters.Names.ens;
  check(
    "parameter",
    "StreamNames",
    `ens${parameters.Names.ens === "local" ? " (the local ENSRegistry)" : ""}`,
    expectedEns,
    asAddress(await read(() => streamNames.ens())),
  );
  check("parameter", "StreamNames", "nameWrapper", parameters.Names.nameWrapper, asAddress(await read(() => streamNames.nameWrapper())));
  check("parameter", "StreamNames", "registry", address("StreamRegistry"), asAddress(await read(() => streamNames.registry())));
  const ensCode = await provider.getCode(String(expectedEns)).catch(() => "0x");
  check("parameter", "StreamNames", "ENS registry has code", "contract code", ensCode === "0x" ? "no code at address" : "contract code");

  // Proxies: none are used, so every EIP-1967 slot of every contract must be empty.
  const zero = zeroPadValue("0x", 32);
  for (const name of names) {
    const values = await Promise.all(Object.values(EIP1967_SLOTS).map((slot) => provider.getStorage(address(name), slot)));
    const set = Object.keys(EIP1967_SLOTS).filter((_, i) => values[i] !== zero);
    check("proxy", name, "EIP-1967 implementation/admin/beacon slots", "empty (not a proxy)", set.length ? `set: ${set.join(", ")}` : "empty (not a proxy)");
  }
  return checks;
}

/** A cell that lists addresses ("0xA…, 0xB…") is printed one whole address a line; other cells as they are. */
function cellLines(cell: string): string[] {
  const parts = cell.split(", ");
  return parts.length > 1 && parts.every((part) => /^0x[0-9a-fA-F]{40}$/.test(part)) ? parts : [cell];
}

/**
 * The pass/fail table, one row per check. Nothing is clipped: addresses are always whole (a list of
 * holders takes one line per address), and the failures are repeated, expected above actual, below it.
 */
export function formatTable(checks: Check[]): string {
  const header = ["result", "area", "contract", "check", "expected", "actual"];
  const rows = checks.map((c) => [c.ok ? "PASS" : "FAIL", c.area, c.contract, c.item, c.expected, c.actual].map(cellLines));
  const all = [header.map((cell) => [cell]), ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => Math.max(...r[i].map((line) => line.length)))));
  const lines = (r: string[][]) => {
    const height = Math.max(...r.map((cell) => cell.length));
    return Array.from({ length: height }, (_, k) =>
      r
        .map((cell, i) => (cell[k] ?? "").padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    );
  };
  const failed = checks.filter((c) => !c.ok);
  const details = failed.map((c) => `FAIL ${c.contract} ${c.item}\n  expected: ${c.expected}\n  actual:   ${c.actual}`);
  return [
    ...lines(all[0]),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...all.slice(1).flatMap(lines),
    "",
    ...(details.length ? [...details, ""] : []),
    `${checks.length - failed.length} passed, ${failed.length} failed`,
  ].join("\n");
}

/** The machine-readable report of `verify-deployment --json` (docs/deployment.md §5). */
export interface VerifyReport {
  ok: boolean;
  chainId: number;
  export: string;
  parametersFile: string;
  passed: number;
  failed: number;
  checks: Check[];
}

export interface VerifyTaskArguments {
  export?: string;
  parameters?: string;
  logChunk: number;
  json?: boolean;
}

/**
 * The `verify-deployment` task. Prints the table (or, with `json`, the report as JSON on stdout) and
 * returns the checks. Exit status, through process.exitCode so that Hardhat prints no stack trace:
 * 0 every check passed, 1 a check failed (the table says which), 2 the checks could not run (export or
 * parameters file unreadable, node unreachable), with one line on stderr.
 */
export async function verifyDeploymentTask(hre: HardhatRuntimeEnvironment, args: VerifyTaskArguments): Promise<Check[]> {
  let report: VerifyReport;
  try {
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const exportFile = path.resolve(args.export ?? exportPath(chainId));
    const record = readExport(exportFile);
    const parametersFile = path.resolve(hre.config.paths.root, args.parameters ?? record.parametersFile);
    const checks = await verifyDeployment(hre, { record, parametersFile, logChunk: args.logChunk });
    const failed = checks.filter((c) => !c.ok).length;
    report = { ok: failed === 0, chainId: Number(chainId), export: exportFile, parametersFile, passed: checks.length - failed, failed, checks };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`verify-deployment: could not run the checks: ${message.split("\n")[0]}\n`);
    if (hre.hardhatArguments.showStackTraces) console.error(error);
    process.exitCode = 2;
    return [];
  }
  console.log(args.json ? JSON.stringify(report, null, 2) : formatTable(report.checks));
  if (!report.ok) process.exitCode = 1;
  return report.checks;
}
