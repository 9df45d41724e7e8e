// Loads and checks a deploy/parameters/<network>.json file: the per-network values of every Ignition
// module (Ignition's own format: { "<ModuleId>": { "<parameter>": value } }, big integers as "123n").
// The deploy task, the Protocol module (its lists) and verify-deployment all read it through here, so
// the values deployed and the values verified are the same file.
import fs from "node:fs";
import path from "node:path";
import { getAddress, isAddress } from "ethers";

export const PARAMETERS_DIR = path.join(__dirname, "parameters");

export interface CoordinatorParameters {
  minStake: bigint;
  withdrawalDelay: bigint;
  commitWindow: bigint;
  revealWindow: bigint;
  coherenceBps: bigint;
  rewardPerRound: bigint;
  rebalanceReward: bigint;
  partitionsPerBroker: bigint;
  maxPartitions: bigint;
  initialReputation: bigint;
  minReputation: bigint;
  reputationGain: bigint;
  reputationLoss: bigint;
  slashBps: bigint;
  whistleblowerBps: bigint;
}

/** The checked parameters of one network (addresses checksummed, integers as bigint). */
export interface ProtocolParameters {
  Foundation: { tokenCap: bigint; minter: string };
  Network: {
    replication: bigint;
    epochLength: bigint;
    initialPartitions: bigint;
    parameters: CoordinatorParameters;
    /** PaymentChannels' challenge period, seconds (3,600..2,592,000). */
    channelChallengePeriod: bigint;
  };
  Market: { karmaHalfLife: bigint; flagPenaltyBps: bigint };
  Protocol: {
    governance: string;
    attestors: string[];
    attestorThreshold: bigint;
    arbiter: string;
    kycProviders: string[];
    feeBps: bigint;
    feeRecipient: string;
    /** "adapter": the deployed ProductDeliveryAdapter; otherwise an address (0x0: release by time). */
    deliveryOracle: "adapter" | string;
  };
  Names: {
    /** "local": deploy a development ENS (registry + public resolver); otherwise the chain's ENS registry. */
    ens: "local" | string;
    /** The chain's ENS NameWrapper (0x0: none). */
    nameWrapper: string;
  };
}

export const COORDINATOR_PARAMETER_NAMES: (keyof CoordinatorParameters)[] = [
  "minStake",
  "withdrawalDelay",
  "commitWindow",
  "revealWindow",
  "coherenceBps",
  "rewardPerRound",
  "rebalanceReward",
  "partitionsPerBroker",
  "maxPartitions",
  "initialReputation",
  "minReputation",
  "reputationGain",
  "reputationLoss",
  "slashBps",
  "whistleblowerBps",
];

/** The file of a network: deploy/parameters/<network>.json. */
export function parametersPath(networkName: string): string {
  return path.join(PARAMETERS_DIR, `${networkName}.json`);
}

function reviveBigints(_key: string, value: unknown): unknown {
  return typeof value === "string" && /^\d+n$/.test(value) ? BigInt(value.slice(0, -1)) : value;
}

class ParameterError extends Error {
  constructor(file: string, where: string, problem: string) {
    super(`${file}: ${where} ${problem}`);
    this.name = "ParameterError";
  }
}

/** Read the raw JSON exactly as Ignition will (big integers revived), for `ignition.deploy({ parameters })`. */
export function readRawParameters(file: string): Record<string, Record<string, unknown>> {
  if (!fs.existsSync(file)) throw new ParameterError(file, "file", "does not exist");
  return JSON.parse(fs.readFileSync(file, "utf8"), reviveBigints) as Record<string, Record<string, unknown>>;
}

/** Read and check a parameters file; every missing or malformed value is named in the error. */
export function loadParameters(file: string): ProtocolParameters {
  const raw = readRawParameters(file);
  const section = (name: string): Record<string, unknown> => {
    const value = raw[name];
    if (typeof value !== "object" || value === null) throw new ParameterError(file, name, "section is missing");
    return value as Record<string, unknown>;
  };
  const int = (sectionName: string, obj: Record<string, unknown>, key: string): bigint => {
    const value = obj[key];
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    throw new ParameterError(file, `${sectionName}.${key}`, `must be a non-negative integer (or "123n"), got ${JSON.stringify(String(value))}`);
  };
  const address = (sectionName: string, obj: Record<string, unknown>, key: string): string => {
    const value = obj[key];
    if (typeof value !== "string" || !isAddress(value)) {
      throw new ParameterError(file, `${sectionName}.${key}`, `must be a 0x address, got ${JSON.stringify(value)}`);
    }
    return getAddress(value);
  };
  const addresses = (sectionName: string, obj: Record<string, unknown>, key: string): string[] => {
    const value = obj[key];
    if (!Array.isArray(value)) throw new ParameterError(file, `${sectionName}.${key}`, "must be an array of addresses");
    return value.map((_, i) => address(sectionName, value as unknown as Record<string, unknown>, String(i)));
  };

  const foundation = section("Foundation");
  const network = section("Network");
  const market = section("Market");
  const protocol = section("Protocol");
  const names = section("Names");
  const coordinator = network.parameters as Record<string, unknown> | undefined;
  if (typeof coordinator !== "object" || coordinator === null) {
    throw new ParameterError(file, "Network.parameters", "section is missing");
  }
  const coordinatorParameters = Object.fromEntries(
    COORDINATOR_PARAMETER_NAMES.map((name) => [name, int("Network.parameters", coordinator, name)]),
  ) as unknown as CoordinatorParameters;

  const result: ProtocolParameters = {
    Foundation: { tokenCap: int("Foundation", foundation, "tokenCap"), minter: address("Foundation", foundation, "minter") },
    Network: {
      replication: int("Network", network, "replication"),
      epochLength: int("Network", network, "epochLength"),
      initialPartitions: int("Network", network, "initialPartitions"),
      parameters: coordinatorParameters,
      channelChallengePeriod: int("Network", network, "channelChallengePeriod"),
    },
    Market: {
      karmaHalfLife: int("Market", market, "karmaHalfLife"),
      flagPenaltyBps: int("Market", market, "flagPenaltyBps"),
    },
    Protocol: {
      governance: address("Protocol", protocol, "governance"),
      attestors: addresses("Protocol", protocol, "attestors"),
      attestorThreshold: int("Protocol", protocol, "attestorThreshold"),
      arbiter: address("Protocol", protocol, "arbiter"),
      kycProviders: addresses("Protocol", protocol, "kycProviders"),
      feeBps: int("Protocol", protocol, "feeBps"),
      feeRecipient: address("Protocol", protocol, "feeRecipient"),
      deliveryOracle: protocol.deliveryOracle === "adapter" ? "adapter" : address("Protocol", protocol, "deliveryOracle"),
    },
    Names: {
      ens: names.ens === "local" ? "local" : address("Names", names, "ens"),
      nameWrapper: address("Names", names, "nameWrapper"),
    },
  };
  const challengePeriod = result.Network.channelChallengePeriod;
  if (challengePeriod < 3_600n || challengePeriod > 2_592_000n) {
    throw new ParameterError(file, "Network.channelChallengePeriod", `must be in [3600, 2592000] seconds (1 hour to 30 days), got ${challengePeriod}`);
  }
  const { attestors, attestorThreshold } = result.Protocol;
  if (new Set(attestors).size !== attestors.length) throw new ParameterError(file, "Protocol.attestors", "has duplicates");
  if (attestorThreshold < 1n || attestorThreshold > BigInt(attestors.length)) {
    throw new ParameterError(file, "Protocol.attestorThreshold", `must be in [1, ${attestors.length}] (the attestor count), got ${attestorThreshold}`);
  }
  if (new Set(result.Protocol.kycProviders).size !== result.Protocol.kycProviders.length) {
    throw new ParameterError(file, "Protocol.kycProviders", "has duplicates");
  }
  return result;
}
