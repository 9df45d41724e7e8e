// The deployment's verification table, in the browser: the checks of `datamarket deployment verify`
// and `npx hardhat verify-deployment` (tasks/verify.ts) that an auditor can run from a page against
// the deployment record the portal publishes (deployment.json beside config.json):
//   - the chain id, and the portal's config naming the record's contracts;
//   - each contract's runtime code against @datamarket/contracts' build (code fingerprints made at
//     build time: immutables masked, linked library addresses checked against the record);
//   - the roles: who holds each role (from RoleGranted / RoleRevoked, confirmed by hasRole) against
//     who must (governance or the deployer, the minter, the market, the arbiter, the KYC providers);
//   - the links between contracts (the market's token, registry and karma, …) and the recorded parameters.
import {
  dataLicenseMarketAbi,
  dataTokenAbi,
  eventSubscriptionsAbi,
  karmaAbi,
  networkCoordinatorAbi,
  parseDeploymentRecord,
  paymentChannelsAbi,
  productDeliveryAdapterAbi,
  streamNamesAbi,
  streamRegistryAbi,
  type DeploymentRecord,
} from "@datamarket/contracts";
import { getAddress, id, Interface, isAddress, keccak256, type InterfaceAbi } from "ethers";
import { fingerprints, version } from "virtual:code-fingerprints";
import type { App } from "../app";
import { describeError } from "../errors";

export interface Check {
  area: "chain" | "code" | "role" | "link" | "parameter";
  contract: string;
  item: string;
  expected: string;
  actual: string;
  ok: boolean;
}

const ROLE_NAMES = ["DEFAULT_ADMIN_ROLE", "MINTER_ROLE", "KEY_REGISTRAR_ROLE", "REPORTER_ROLE", "ARBITER_ROLE", "KYC_PROVIDER_ROLE", "PARAMETER_ROLE"];
/** The EIP-1967 storage slots a proxy uses (tasks/verify.ts). */
const EIP1967_SLOTS = {
  implementation: "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc",
  admin: "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103",
  beacon: "0xa3f0ad74e5423aebfd80d3ef4346578335a9a72aeaee59ff6cb3582b35133d50",
} as const;
const roleHash = (name: string) => (name === "DEFAULT_ADMIN_ROLE" ? "0x" + "00".repeat(32) : id(name));
const roleName = (hash: string) => ROLE_NAMES.find((n) => roleHash(n) === hash) ?? hash;
const set = (values: string[]) => (values.length ? [...values].sort().join(", ") : "(none)");

/** The record published beside the config, or undefined when the server publishes none (404). */
export async function loadRecord(): Promise<DeploymentRecord | undefined> {
  const response = await fetch("./deployment.json", { cache: "no-store" });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`deployment.json: HTTP ${response.status}`);
  return parseDeploymentRecord(await response.json(), "deployment.json");
}

/** The runtime code at `address` matches the package's build: the fingerprint's hash after zeroing the same bytes, and every linked address is the record's. */
async function checkCode(app: App, name: string, fqn: string, address: string, libraries: Map<string, string>): Promise<Check[]> {
  const out: Check[] = [];
  const add = (c: Check) => out.push(c);
  const print = fingerprints[fqn];
  if (!print) {
    add({
      area: "code",
      contract: name,
      item: "runtime code",
      expected: `${fqn} in @datamarket/contracts ${version}`,
      actual: "not in this version of the package",
      ok: false,
    });
    return out;
  }
  let code = (await app.chain.request<string>("eth_getCode", [address, "latest"])).toLowerCase().slice(2);
  if (code === "") {
    add({ area: "code", contract: name, item: "runtime code", expected: "contract code", actual: "no code at the address", ok: false });
    return out;
  }
  const bytesAt = (start: number, length: number) => code.slice(start * 2, (start + length) * 2);
  const zero = (start: number, length: number) => {
    code = code.slice(0, start * 2) + "00".repeat(length) + code.slice((start + length) * 2);
  };
  const wrongLinks = print.links.filter(([start, length, library]) => `0x${bytesAt(start, length)}` !== (libraries.get(library) ?? "").toLowerCase());
  const guardOk = !print.library || `0x${bytesAt(1, 20)}` === address.toLowerCase();
  for (const [start, length] of [...print.links, ...print.immutables]) zero(start, length);
  if (print.library) zero(1, 20);
  const same = code.length / 2 === print.bytes && keccak256("0x" + code) === print.hash;
  add({
    area: "code",
    contract: name,
    item: `runtime code = @datamarket/contracts ${version} (${print.immutables.length} immutables masked)`,
    expected: `${print.bytes} bytes of ${fqn.split(":")[1]}`,
    actual: same ? `${code.length / 2} bytes, identical` : `${code.length / 2} bytes, different`,
    ok: same,
  });
  if (print.links.length)
    add({
      area: "code",
      contract: name,
      item: "linked libraries",
      expected: set([...new Set(print.links.map(([, , l]) => l.split(":")[1]))]),
      actual: wrongLinks.length ? `not the record's: ${set(wrongLinks.map(([, , l]) => l.split(":")[1]))}` : "the record's addresses",
      ok: wrongLinks.length === 0,
    });
  if (!guardOk) add({ area: "code", contract: name, item: "library call guard", expected: address, actual: `0x${bytesAt(1, 20)}`, ok: false });
  return out;
}

export async function verifyDeployment(app: App, record: DeploymentRecord): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const eq = (area: Check["area"], contract: string, item: string, expected: unknown, actual: unknown) =>
    add({ area, contract, item, expected: String(expected), actual: String(actual), ok: String(expected) === String(actual) });
  const at = (name: keyof DeploymentRecord["contracts"]) => getAddress(record.contracts[name]!.address);

  const chainId = Number(await app.chain.request<string>("eth_chainId", []));
  eq("chain", "-", "chain id", record.chainId, chainId);
  for (const name of ["DATAToken", "StreamRegistry", "DataLicenseMarket", "NetworkCoordinator"] as const)
    eq("chain", name, "the portal's config names it", at(name), getAddress(app.config.contracts[name]));

  const libraries = new Map(Object.values(record.contracts).map((c) => [c.contract, c.address.toLowerCase()]));
  const codeChecks = await Promise.all(
    Object.entries(record.contracts).map(async ([name, entry]): Promise<Check[]> => {
      if (name !== "ENSRegistry" && name !== "PublicResolver") return checkCode(app, name, entry.contract, entry.address, libraries);
      const code = await app.chain.request<string>("eth_getCode", [entry.address, "latest"]);
      const actual = code === "0x" ? "no code at the address" : `${(code.length - 2) / 2} bytes`;
      return [
        { area: "code", contract: name, item: "runtime code (development ENS, not in the package)", expected: "contract code", actual, ok: code !== "0x" },
      ];
    }),
  );
  checks.push(...codeChecks.flat());

  // Roles: from the events since each contract's deployment, confirmed by hasRole.
  const p = record.parameters;
  const g = record.governanceHandedOver ? p.Protocol.governance : record.deployer;
  const market = at("DataLicenseMarket");
  const expected: [keyof DeploymentRecord["contracts"], InterfaceAbi, Record<string, string[]>][] = [
    ["DATAToken", dataTokenAbi, { DEFAULT_ADMIN_ROLE: [g], MINTER_ROLE: [p.Foundation.minter] }],
    ["StreamRegistry", streamRegistryAbi, { DEFAULT_ADMIN_ROLE: [g], KEY_REGISTRAR_ROLE: [market] }],
    ["Karma", karmaAbi, { DEFAULT_ADMIN_ROLE: [g], REPORTER_ROLE: [market] }],
    ["DataLicenseMarket", dataLicenseMarketAbi, { DEFAULT_ADMIN_ROLE: [g], ARBITER_ROLE: [p.Protocol.arbiter], KYC_PROVIDER_ROLE: p.Protocol.kycProviders }],
    ["NetworkCoordinator", networkCoordinatorAbi, { DEFAULT_ADMIN_ROLE: [g], PARAMETER_ROLE: [g] }],
  ];
  const latest = await app.chain.blockNumber();
  const roleChecks = await Promise.all(
    expected.map(async ([name, abi, byRole]): Promise<Check[]> => {
      const out: Check[] = [];
      const iface = new Interface(abi);
      const contract = app.chain.contract(at(name), abi);
      const logs = await app.chain.request<{ topics: string[]; data: string; address: string; blockNumber: string }[]>("eth_getLogs", [
        {
          address: at(name),
          fromBlock: `0x${record.contracts[name]!.deployBlock.toString(16)}`,
          toBlock: `0x${latest.toString(16)}`,
          topics: [[iface.getEvent("RoleGranted")!.topicHash, iface.getEvent("RoleRevoked")!.topicHash, iface.getEvent("RoleAdminChanged")!.topicHash]],
        },
      ]);
      const holders = new Map<string, Set<string>>();
      const adminChanges: string[] = [];
      for (const log of logs) {
        const event = iface.parseLog(log)!;
        if (event.name === "RoleAdminChanged") {
          adminChanges.push(roleName(event.args.role));
          continue;
        }
        const holding = holders.get(event.args.role) ?? new Set<string>();
        if (event.name === "RoleGranted") holding.add(getAddress(event.args.account));
        else holding.delete(getAddress(event.args.account));
        holders.set(event.args.role, holding);
      }
      const roles = [...new Set([...Object.keys(byRole).map(roleHash), ...holders.keys()])];
      const confirmed = await Promise.all(
        roles.map(async (role) => (await Promise.all([...(holders.get(role) ?? [])].map((a) => contract.view<boolean>("hasRole", role, a)))).every(Boolean)),
      );
      roles.forEach((role, i) => {
        const want = (byRole[roleName(role)] ?? []).map((a) => getAddress(a));
        const have = [...(holders.get(role) ?? [])];
        out.push({
          area: "role",
          contract: name,
          item: roleName(role),
          expected: set(want),
          actual: set(have) + (confirmed[i] ? "" : " (hasRole disagrees)"),
          ok: confirmed[i] && want.length === have.length && want.every((a) => have.includes(a)),
        });
      });
      out.push({ area: "role", contract: name, item: "RoleAdminChanged events", expected: "(none)", actual: set(adminChanges), ok: adminChanges.length === 0 });
      return out;
    }),
  );
  checks.push(...roleChecks.flat());

  // Links between contracts and the recorded parameters.
  const read = async (name: keyof DeploymentRecord["contracts"], abi: InterfaceAbi, view: string): Promise<string> => {
    try {
      const value = await app.chain.contract(at(name), abi).view<unknown>(view);
      return typeof value === "string" && value.startsWith("0x") && value.length === 42 ? getAddress(value) : String(value);
    } catch (error) {
      return `call failed: ${describeError(error)}`;
    }
  };
  const links: [keyof DeploymentRecord["contracts"], InterfaceAbi, string, string][] = [
    ["DataLicenseMarket", dataLicenseMarketAbi, "token", at("DATAToken")],
    ["DataLicenseMarket", dataLicenseMarketAbi, "registry", at("StreamRegistry")],
    ["DataLicenseMarket", dataLicenseMarketAbi, "karma", at("Karma")],
    [
      "DataLicenseMarket",
      dataLicenseMarketAbi,
      "deliveryOracle",
      p.Protocol.deliveryOracle === "adapter" ? at("ProductDeliveryAdapter") : getAddress(p.Protocol.deliveryOracle),
    ],
    ["NetworkCoordinator", networkCoordinatorAbi, "token", at("DATAToken")],
    ["EventSubscriptions", eventSubscriptionsAbi, "token", at("DATAToken")],
    ["EventSubscriptions", eventSubscriptionsAbi, "registry", at("StreamRegistry")],
    ["EventSubscriptions", eventSubscriptionsAbi, "coordinator", at("NetworkCoordinator")],
    ["ProductDeliveryAdapter", productDeliveryAdapterAbi, "market", at("DataLicenseMarket")],
    ["ProductDeliveryAdapter", productDeliveryAdapterAbi, "coordinator", at("NetworkCoordinator")],
    ["ProductDeliveryAdapter", productDeliveryAdapterAbi, "registry", at("StreamRegistry")],
    ["PaymentChannels", paymentChannelsAbi, "token", at("DATAToken")],
    ["StreamNames", streamNamesAbi, "registry", at("StreamRegistry")],
  ];
  const values = await Promise.all(links.map(([name, abi, view]) => read(name, abi, view)));
  links.forEach(([name, , view, want], i) => eq("link", name, view, want, values[i]));
  const params: [keyof DeploymentRecord["contracts"], InterfaceAbi, string, string][] = [
    ["DATAToken", dataTokenAbi, "cap", p.Foundation.tokenCap],
    ["Karma", karmaAbi, "HALF_LIFE", p.Market.karmaHalfLife],
    ["Karma", karmaAbi, "flagPenaltyBps", p.Market.flagPenaltyBps],
    ["DataLicenseMarket", dataLicenseMarketAbi, "attestorThreshold", p.Protocol.attestorThreshold],
    ["NetworkCoordinator", networkCoordinatorAbi, "replication", p.Network.replication],
    ["NetworkCoordinator", networkCoordinatorAbi, "epochLength", p.Network.epochLength],
  ];
  const paramValues = await Promise.all(params.map(([name, abi, view]) => read(name, abi, view)));
  params.forEach(([name, , view, want], i) => eq("parameter", name, view, want, paramValues[i]));
  const coordinator = app.chain.contract(at("NetworkCoordinator"), networkCoordinatorAbi);
  const [target, live] = await Promise.all([coordinator.view<bigint>("partitionCountTarget"), coordinator.view<Record<string, bigint>>("parameters")]);
  eq("parameter", "NetworkCoordinator", "partitionCountTarget (initialPartitions)", p.Network.initialPartitions, target);
  for (const [field, want] of Object.entries(p.Network.parameters)) eq("parameter", "NetworkCoordinator", `parameters.${field}`, want, live[field]);
  const ens = p.Names.ens === "local" ? (record.contracts.ENSRegistry?.address ?? "the record's ENSRegistry") : p.Names.ens;
  eq("link", "StreamNames", "ens", isAddress(ens) ? getAddress(ens) : ens, await read("StreamNames", streamNamesAbi, "ens"));
  eq("link", "StreamNames", "nameWrapper", getAddress(p.Names.nameWrapper), await read("StreamNames", streamNamesAbi, "nameWrapper"));
  // none of the contracts is a proxy: the EIP-1967 implementation, admin and beacon slots are empty
  const proxySlots = await Promise.all(
    Object.entries(record.contracts).map(async ([name, entry]) => {
      const values = await Promise.all(
        Object.values(EIP1967_SLOTS).map((slot) => app.chain.request<string>("eth_getStorageAt", [entry.address, slot, "latest"])),
      );
      const set = Object.keys(EIP1967_SLOTS).filter((_, i) => BigInt(values[i]) !== 0n);
      return {
        area: "code",
        contract: name,
        item: "EIP-1967 implementation, admin, beacon slots",
        expected: "empty (not a proxy)",
        actual: set.length ? `set: ${set.join(", ")}` : "empty (not a proxy)",
        ok: set.length === 0,
      } as Check;
    }),
  );
  checks.push(...proxySlots);
  const marketReader = app.chain.contract(market, dataLicenseMarketAbi);
  const [attestors, fee] = await Promise.all([marketReader.view<string[]>("attestors"), marketReader.view<[bigint, string]>("protocolFee")]);
  eq("parameter", "DataLicenseMarket", "attestors", set(p.Protocol.attestors.map((a) => getAddress(a))), set([...attestors].map((a) => getAddress(a))));
  eq("parameter", "DataLicenseMarket", "protocolFee.feeBps", p.Protocol.feeBps, fee[0]);
  eq("parameter", "DataLicenseMarket", "protocolFee.recipient", getAddress(p.Protocol.feeRecipient), getAddress(fee[1]));
  return checks;
}
