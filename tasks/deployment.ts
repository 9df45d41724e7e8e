// Deploys the protocol with Ignition from a parameters file and exports the integrators' record
// deployments/<chainId>.json in the format of @datamarket/contracts (its deployment.schema.json:
// name -> address, deploy block and transaction, ABI file under deployments/<chainId>/; the checked
// parameters, integers as decimal strings).
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress } from "ethers";
import type { DeploymentParameters } from "@nomicfoundation/ignition-core";
import { buildProtocolModule } from "../deploy/modules/Protocol";
import { buildGovernanceModule } from "../deploy/modules/Governance";
import { loadParameters, readRawParameters, type ProtocolParameters } from "../deploy/parameters";
import type { DeployedContract, DeploymentRecord, DeploymentParameters as RecordParameters } from "@datamarket/contracts";

/** Contracts of the export: the name integrators use -> the Solidity contract it is. */
export const CONTRACTS = {
  DATAToken: "DATAToken",
  StreamRegistry: "StreamRegistry",
  NetworkCoordinator: "NetworkCoordinator",
  EventSubscriptions: "EventSubscriptions",
  Karma: "Karma",
  DataLicenseMarket: "DataLicenseMarket",
  PartitionAssignment: "PartitionAssignment",
  CoordinatorParameters: "CoordinatorParameters",
  ProductCatalog: "ProductCatalog",
  AttestorSet: "AttestorSet",
  LicenseTermination: "LicenseTermination",
  ProductDeliveryAdapter: "ProductDeliveryAdapter",
  PaymentChannels: "PaymentChannels",
  StreamNames: "StreamNames",
} as const;
export type ContractName = keyof typeof CONTRACTS;

/** The development ENS that `Names.ens: "local"` deploys (and only then exports). */
export const LOCAL_ENS_CONTRACTS = { ENSRegistry: "ENSRegistry", PublicResolver: "PublicResolver" } as const;
export type LocalEnsName = keyof typeof LOCAL_ENS_CONTRACTS;

/** The Protocol module's result key of each exported contract. */
const RESULT_KEYS: Record<ContractName, string> = {
  DATAToken: "token",
  StreamRegistry: "registry",
  NetworkCoordinator: "coordinator",
  EventSubscriptions: "eventSubscriptions",
  Karma: "karma",
  DataLicenseMarket: "market",
  PartitionAssignment: "partitionAssignment",
  CoordinatorParameters: "coordinatorParameters",
  ProductCatalog: "productCatalog",
  AttestorSet: "attestorSet",
  LicenseTermination: "licenseTermination",
  ProductDeliveryAdapter: "deliveryAdapter",
  PaymentChannels: "paymentChannels",
  StreamNames: "streamNames",
};
const LOCAL_ENS_RESULT_KEYS: Record<LocalEnsName, string> = { ENSRegistry: "ensRegistry", PublicResolver: "publicResolver" };

/** The record's format: @datamarket/contracts' DEPLOYMENT_FORMAT (a type-only import keeps the task free of the built package). */
const DEPLOYMENT_FORMAT: DeploymentRecord["format"] = "datamarket-deployment/1";
export type ExportedContract = DeployedContract;
/** The export: @datamarket/contracts' `DeploymentRecord` (one definition, the package's). */
export type DeploymentExport = DeploymentRecord;

export const EXPORT_DIR = path.join(__dirname, "..", "deployments");

export function exportPath(chainId: bigint | number, dir = EXPORT_DIR): string {
  return path.join(dir, `${chainId}.json`);
}

/** The checked parameters as the record holds them: big integers as decimal strings, addresses checksummed. */
function recordParameters(parameters: ProtocolParameters): RecordParameters {
  return JSON.parse(JSON.stringify(parameters, (_k, v: unknown) => (typeof v === "bigint" ? v.toString(10) : v))) as RecordParameters;
}

interface Creation {
  block: number;
  transaction: string;
}

/** Blocks and transactions of contract creations recorded in Ignition's journal (absent on the in-process network). */
function journalDeployBlocks(journalFile: string): Map<string, Creation> {
  const blocks = new Map<string, Creation>();
  if (!fs.existsSync(journalFile)) return blocks;
  for (const line of fs.readFileSync(journalFile, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as { type?: string; hash?: string; receipt?: { contractAddress?: string; blockNumber?: number } };
    if (entry.type === "TRANSACTION_CONFIRM" && entry.receipt?.contractAddress && entry.hash) {
      blocks.set(getAddress(entry.receipt.contractAddress), { block: entry.receipt.blockNumber ?? 0, transaction: entry.hash });
    }
  }
  return blocks;
}

/** The first block at which `address` has code (binary search; needs a node that keeps history). */
async function firstBlockWithCode(hre: HardhatRuntimeEnvironment, address: string): Promise<number> {
  let low = 0;
  let high = await hre.ethers.provider.getBlockNumber();
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const code = await hre.ethers.provider.getCode(address, middle);
    if (code === "0x") low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * A local chain (id 31337: `npx hardhat node`) restarts empty, but Ignition's journal of the previous
 * run stays in deploy/deployments/chain-31337 and would make Ignition resume a deployment whose
 * contracts no longer exist. Such a journal is removed (it is a local, git-ignored record). On any
 * other chain a journal whose contracts have no code is an error for a human to look at, never deleted.
 */
async function discardStaleLocalJournal(hre: HardhatRuntimeEnvironment, chainId: bigint): Promise<void> {
  const dir = path.join(hre.config.paths.ignition, "deployments", `chain-${chainId}`);
  const blocks = journalDeployBlocks(path.join(dir, "journal.jsonl"));
  const [first] = blocks.keys();
  if (first === undefined || (await hre.ethers.provider.getCode(first)) !== "0x") return;
  if (chainId !== 31337n) {
    throw new Error(`${dir} records ${first}, which has no code on chain ${chainId}: wrong RPC, or a stale record to archive by hand`);
  }
  console.log(`Removing ${path.relative(hre.config.paths.root, dir)}: the local chain was restarted and its contracts are gone`);
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface DeployOptions {
  parametersFile: string;
  /** Where to write <chainId>.json and abi/ (default deployments/). */
  exportDir?: string;
  displayUi?: boolean;
}

/** Deploy (or resume) the protocol described by a parameters file and write its export. */
export async function deployProtocol(hre: HardhatRuntimeEnvironment, options: DeployOptions): Promise<DeploymentExport> {
  const parameters: ProtocolParameters = loadParameters(options.parametersFile);
  const raw = readRawParameters(options.parametersFile);
  const [deployerSigner] = await hre.ethers.getSigners();
  if (!deployerSigner) throw new Error(`network ${hre.network.name} has no account: set DEPLOYER_PRIVATE_KEY`);
  const deployer = getAddress(deployerSigner.address);
  const governance = parameters.Protocol.governance;
  const handOver = governance !== deployer;
  const { attestors, kycProviders, deliveryOracle } = parameters.Protocol;
  const lists = { attestors, kycProviders, deliveryOracle, ens: parameters.Names.ens };
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  if (hre.network.name !== "hardhat") await discardStaleLocalJournal(hre, chainId);
  const ignitionModule = handOver ? buildGovernanceModule(lists) : buildProtocolModule(lists);
  const ignitionParameters = { ...raw, Governance: { governance } } as DeploymentParameters;

  const protocolResult = (await hre.ignition.deploy(ignitionModule, {
    parameters: ignitionParameters,
    displayUi: options.displayUi ?? false,
  })) as Record<string, { getAddress(): Promise<string> }>;

  const isInProcess = hre.network.name === "hardhat";
  const deploymentId = isInProcess ? null : `chain-${chainId}`;
  const journal = deploymentId ? path.join(hre.config.paths.ignition, "deployments", deploymentId, "journal.jsonl") : "";
  const journalBlocks = deploymentId ? journalDeployBlocks(journal) : new Map<string, Creation>();

  const exportDir = options.exportDir ?? EXPORT_DIR;
  const abiDir = path.join(exportDir, String(chainId));
  fs.mkdirSync(abiDir, { recursive: true });
  const contracts = {} as DeploymentExport["contracts"];
  const exported: [ContractName | LocalEnsName, string, string][] = [
    ...(Object.keys(CONTRACTS) as ContractName[]).map((name): [ContractName, string, string] => [name, CONTRACTS[name], RESULT_KEYS[name]]),
    ...(parameters.Names.ens === "local"
      ? (Object.keys(LOCAL_ENS_CONTRACTS) as LocalEnsName[]).map((name): [LocalEnsName, string, string] => [
          name,
          LOCAL_ENS_CONTRACTS[name],
          LOCAL_ENS_RESULT_KEYS[name],
        ])
      : []),
  ];
  for (const [name, contractName, resultKey] of exported) {
    const address = getAddress(await protocolResult[resultKey].getAddress());
    const artifact = await hre.artifacts.readArtifact(contractName);
    const abiFile = path.join(abiDir, `${contractName}.abi.json`);
    fs.writeFileSync(abiFile, JSON.stringify(artifact.abi, null, 2) + "\n");
    const creation = journalBlocks.get(address);
    contracts[name] = {
      contract: `${artifact.sourceName}:${artifact.contractName}`,
      address: address as DeployedContract["address"],
      deployBlock: creation?.block ?? (await firstBlockWithCode(hre, address)),
      deployTransaction: (creation?.transaction ?? null) as DeployedContract["deployTransaction"],
      abi: path.relative(exportDir, abiFile),
    };
  }
  const record: DeploymentExport = {
    format: DEPLOYMENT_FORMAT,
    chainId: Number(chainId),
    network: hre.network.name,
    deployer: deployer as DeploymentRecord["deployer"],
    governance: governance as DeploymentRecord["governance"],
    governanceHandedOver: handOver,
    ignitionDeploymentId: deploymentId,
    parametersFile: path.relative(hre.config.paths.root, options.parametersFile),
    parameters: recordParameters(parameters),
    contracts,
  };
  fs.writeFileSync(exportPath(chainId, exportDir), JSON.stringify(record, null, 2) + "\n");
  return record;
}

export function readExport(file: string): DeploymentExport {
  if (!fs.existsSync(file)) throw new Error(`${file}: no deployment export (run npm run deploy -- --network <name>)`);
  const record = JSON.parse(fs.readFileSync(file, "utf8")) as DeploymentExport;
  if (record.format !== DEPLOYMENT_FORMAT) {
    throw new Error(`${file}: format ${JSON.stringify(record.format)} is not ${DEPLOYMENT_FORMAT} (a record of an older deploy task: deploy again)`);
  }
  return record;
}
