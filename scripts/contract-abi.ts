// The protocol's deployed contracts as third parties call them: every external function's Solidity
// signature and selector, and the combined error ABI (the errors of every contract and linked
// library, deduplicated by selector). A call through one contract can revert with another's error
// (the token's ERC20InsufficientAllowance inside a market purchase, the registry's NotAuthorized
// inside a license write), so decoding with the called contract's ABI alone is not enough.
// Read from the compiled artifacts (`npm run compile`); docs/contracts.md §5 is generated from here.
import fs from "node:fs";
import path from "node:path";
import { ErrorFragment, FunctionFragment, Interface, type InterfaceAbi, type JsonFragment } from "ethers";

/** Every contract a deployment creates (tasks/deployment.ts CONTRACTS), by its source under contracts/. */
export const PROTOCOL_CONTRACTS = {
  DATAToken: "token/DATAToken.sol",
  StreamRegistry: "streams/StreamRegistry.sol",
  NetworkCoordinator: "network/NetworkCoordinator.sol",
  EventSubscriptions: "network/EventSubscriptions.sol",
  Karma: "reputation/Karma.sol",
  DataLicenseMarket: "market/DataLicenseMarket.sol",
  ProductDeliveryAdapter: "network/ProductDeliveryAdapter.sol",
  PaymentChannels: "network/PaymentChannels.sol",
  StreamNames: "streams/StreamNames.sol",
  PartitionAssignment: "network/PartitionAssignment.sol",
  CoordinatorParameters: "network/CoordinatorParameters.sol",
  ProductCatalog: "market/ProductCatalog.sol",
  AttestorSet: "market/AttestorSet.sol",
  LicenseTermination: "market/LicenseTermination.sol",
} as const;

export type ProtocolContract = keyof typeof PROTOCOL_CONTRACTS;

/** The libraries: their code runs inside the contract that links them (DELEGATECALL), never called by users. */
export const LINKED_LIBRARIES: readonly ProtocolContract[] = [
  "PartitionAssignment",
  "CoordinatorParameters",
  "ProductCatalog",
  "AttestorSet",
  "LicenseTermination",
];

export const DEFAULT_ARTIFACTS_DIR = path.join(__dirname, "..", "artifacts");

/** The ABI of one protocol contract from the compiled artifacts. */
export function contractAbi(name: ProtocolContract, artifactsDir = DEFAULT_ARTIFACTS_DIR): JsonFragment[] {
  const file = path.join(artifactsDir, "contracts", PROTOCOL_CONTRACTS[name], `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`no artifact ${file}: run npm run compile`);
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { abi: JsonFragment[] }).abi;
}

export interface FunctionEntry {
  /** The canonical Solidity signature the selector is the keccak256 of, e.g. createStream(string,uint16,string). */
  signature: string;
  selector: string;
  stateMutability: string;
  /** The canonical types of the return values, e.g. ["bool"]. */
  returns: string[];
}

/** Every external (and public) function of a contract, sorted by signature. */
export function functionsOf(name: ProtocolContract, artifactsDir = DEFAULT_ARTIFACTS_DIR): FunctionEntry[] {
  const entries: FunctionEntry[] = [];
  new Interface(contractAbi(name, artifactsDir)).forEachFunction((f: FunctionFragment) => {
    entries.push({
      signature: f.format("sighash"),
      selector: f.selector,
      stateMutability: f.stateMutability,
      returns: f.outputs.map((o) => o.format("sighash")),
    });
  });
  return entries.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
}

export interface ErrorEntry {
  /** Human-readable declaration, a valid ethers ABI entry: "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)". */
  declaration: string;
  signature: string;
  selector: string;
  /** The contracts and libraries whose ABI declares it. */
  declaredBy: ProtocolContract[];
}

/**
 * The errors of every protocol contract and library, one per selector, sorted by signature. Throws if
 * two different errors ever share a selector (then no ABI could decode both).
 */
export function protocolErrors(artifactsDir = DEFAULT_ARTIFACTS_DIR): ErrorEntry[] {
  const bySelector = new Map<string, ErrorEntry>();
  for (const name of Object.keys(PROTOCOL_CONTRACTS) as ProtocolContract[]) {
    new Interface(contractAbi(name, artifactsDir)).forEachError((e: ErrorFragment) => {
      const signature = e.format("sighash");
      const known = bySelector.get(e.selector);
      if (known && known.signature !== signature) throw new Error(`${known.signature} and ${signature} share the selector ${e.selector}`);
      if (known) known.declaredBy.push(name);
      else bySelector.set(e.selector, { declaration: e.format("full"), signature, selector: e.selector, declaredBy: [name] });
    });
  }
  return [...bySelector.values()].sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
}

/** The combined error ABI: `new Interface(combinedErrorAbi()).parseError(revertData)` names any protocol error. */
export function combinedErrorAbi(artifactsDir = DEFAULT_ARTIFACTS_DIR): InterfaceAbi {
  return protocolErrors(artifactsDir).map((e) => e.declaration);
}
