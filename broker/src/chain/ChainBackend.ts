// Wires a broker to the deployed contracts and the consent ledger from its configuration: finds
// the node and the deployment record (zero configuration: a local Hardhat node on 127.0.0.1:8545
// and deployments/31337.json written by `npm run deploy -- --network localhost`), follows the
// chain with one ChainFollower shared by the access gate, the stream index and the coordinator
// assignment, and connects the consent ledger its `consentLedger` block names (the bridge's block):
// a Fabric gateway peer, an empty in-process ledger (development only, said at start), or none.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { JsonRpcProvider, Network, Wallet, type Provider } from "ethers";
import type { Logger } from "pino";
// Types only: the consent ledger (and its chaincode) is loaded when a broker starts on it, so that
// importing the broker package does not load Fabric.
import type { ConsentLedgerClient, InProcessConsentLedger } from "@datamarket/consent-ledger";
import { confirmationDepth, fabricGatewayConfigOf } from "@datamarket/consent-ledger/config";
import type { BrokerConfig } from "../config";
import { ConfigError } from "../config";
import { ChainFollower } from "./ChainFollower";
import { FileCheckpointStore } from "./Checkpoint";
import { ContractAccessGate } from "../access/ContractAccessGate";
import { ConsentGrantFollower, consentSourceOf } from "../access/ConsentGrantFollower";
import { InMemoryStreamIndex } from "../streams/StreamIndex";
import { RegistryStreamFeeder } from "../streams/RegistryStreamFeeder";
import { CoordinatorAssignment } from "../network/CoordinatorAssignment";
import { ContractCoordinatorReporter } from "../network/ContractCoordinatorReporter";
import { ContractSubscriberDelivery } from "../network/ContractSubscriberDelivery";
import { SingleNodeAssignment, StaticPartitionAssignment } from "../network/PartitionAssignment";
import { networkPartitionOf } from "../network/routing";
import type { BrokerDeps } from "../Broker";

/** The part of deployments/<chainId>.json the broker reads (docs/deployment.md §4). */
export interface DeploymentRecord {
  chainId: number;
  contracts: Record<string, { address: string; deployBlock: number }>;
}

/** What `/health` says of the chain a configured broker follows, or why it follows none. */
export interface ChainStatus {
  mode: BrokerConfig["chain"]["mode"];
  /** Whether the broker follows the contracts. */
  connected: boolean;
  rpcUrl: string;
  chainId?: number;
  deployment?: string;
  /** chain.mode "auto" without a node or a deployment record: why the broker runs on its static settings. */
  reason?: string;
  /** The consent ledger the gate follows. */
  consentLedger?: BrokerConfig["consentLedger"]["kind"];
}

/** chain.mode "auto" found no node or no deployment record: the broker runs on its static settings. */
export interface NoChain {
  connected: false;
  status: ChainStatus;
}

export interface ChainBackend {
  connected: true;
  status: ChainStatus;
  deps: Required<Pick<BrokerDeps, "gate" | "streams" | "assignment">> & Pick<BrokerDeps, "reporter">;
  provider: Provider;
  deployment: DeploymentRecord;
  follower: ChainFollower;
  gate: ContractAccessGate;
  feeder: RegistryStreamFeeder;
  assignment?: CoordinatorAssignment;
  reporter?: ContractCoordinatorReporter;
  /** Delivery to smart-contract subscribers (chain.contractSubscribers); attached by startConfiguredBroker. */
  contractDelivery?: ContractSubscriberDelivery;
  consent?: ConsentGrantFollower;
  /** The embedded consent ledger, when the broker runs one (for tools in the same process). */
  consentLedger?: InProcessConsentLedger;
  /** The coordinator's epoch definition when one is wired (the broker's must equal it). */
  epochs?: { genesisMs: number; epochLengthMs: number };
  close(): void;
}

/** Where a deployment record is looked for when `chain.deployment` is empty. */
export function deploymentCandidates(chainId: number, cwd = process.cwd()): string[] {
  const out: string[] = [];
  let dir = resolve(cwd);
  for (;;) {
    out.push(join(dir, "deployments", `${chainId}.json`));
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  out.push(resolve(__dirname, "..", "..", "..", "deployments", `${chainId}.json`));
  return [...new Set(out)];
}

export function readDeployment(file: string): DeploymentRecord {
  let record: DeploymentRecord;
  try {
    record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
  } catch (err) {
    throw ConfigError.of("chain.deployment", `cannot read the deployment record ${file}: ${(err as Error).message}`);
  }
  if (!record.contracts?.StreamRegistry?.address) throw ConfigError.of("chain.deployment", `${file} names no StreamRegistry`);
  return record;
}

/** chain.confirmations, or its default: 0 on a development chain (the broker acts at the head), else 12. */
export function confirmationsOf(config: BrokerConfig): number {
  return confirmationDepth(config.chainId, config.chain.confirmations);
}

/**
 * Connects to the chain and the consent ledger. Returns NoChain in "auto" mode when no node answers
 * at chain.rpcUrl or no deployment record exists for its chain id (the broker then runs on its
 * static configuration, and says so in one line at warn and in `/health`); throws in "on" mode.
 */
/**
 * The broker's JSON-RPC provider. The network is the configured chain id, checked once against the
 * node's eth_chainId when the broker connects (connectChainBackend), not before every request: ethers
 * otherwise asks eth_chainId beside each call. Batches hold at most 25 requests: ethers serialises a
 * batch again for each request it adds (quadratic in its size), and at 100 that costs more CPU than
 * the requests themselves (demo/bench/rpc-batch.ts). No answer is reused (ethers' default keeps each
 * for 250 ms): after a reorg the follower reads a block range again at once, and must get the new
 * branch's logs, not the removed one's.
 */
export function chainProvider(rpcUrl: string, chainId: number): JsonRpcProvider {
  const network = Network.from(chainId);
  return new JsonRpcProvider(rpcUrl, network, { staticNetwork: network, polling: false, batchMaxCount: 25, cacheTimeout: -1 });
}

export async function connectChainBackend(config: BrokerConfig, logger: Logger): Promise<ChainBackend | NoChain> {
  const noChain = (reason: string): NoChain => {
    if (config.chain.mode !== "off") {
      logger.warn(
        { rpcUrl: config.chain.rpcUrl, reason },
        `chain.mode "auto": ${reason}: running WITHOUT the contracts, on the static settings only (access.static, streams; no licences, no consent ledger, no coordinator). Set chain.mode "on" to require the chain`,
      );
    }
    return { connected: false, status: { mode: config.chain.mode, connected: false, rpcUrl: config.chain.rpcUrl, reason } };
  };
  if (config.chain.mode === "off") return noChain('chain.mode is "off"');
  const required = config.chain.mode === "on";
  const provider = chainProvider(config.chain.rpcUrl, config.chainId);
  let chainId: number;
  try {
    chainId = Number(
      (await Promise.race([
        provider.send("eth_chainId", []),
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 2 s")), 2000).unref()),
      ])) as string,
    );
  } catch (err) {
    provider.destroy();
    if (required) throw ConfigError.of("chain.rpcUrl", `no Ethereum node answers at ${config.chain.rpcUrl}: ${(err as Error).message}`);
    return noChain(`no Ethereum node answers at ${config.chain.rpcUrl} (${(err as Error).message})`);
  }
  if (chainId !== config.chainId) {
    provider.destroy();
    throw ConfigError.of("chainId", `the node at ${config.chain.rpcUrl} is chain ${chainId}, the configuration says ${config.chainId}`);
  }
  const file = config.chain.deployment || deploymentCandidates(chainId).find((f) => existsSync(f));
  if (!file) {
    provider.destroy();
    if (required) throw ConfigError.of("chain.deployment", `no deployments/${chainId}.json found (run npm run deploy -- --network localhost)`);
    return noChain(
      `no deployments/${chainId}.json found for the node at ${config.chain.rpcUrl} (run npm run deploy -- --network localhost, or set chain.deployment)`,
    );
  }
  const deployment = readDeployment(file);
  const address = (name: string) => deployment.contracts[name]?.address;
  const fromBlock = Math.min(...Object.values(deployment.contracts).map((c) => c.deployBlock ?? 0));
  const checkpoint = new FileCheckpointStore(join(config.dataDir, "chain-checkpoint.json"), chainId);
  const follower = new ChainFollower(provider, { fromBlock, pollMs: config.chain.pollMs, confirmations: confirmationsOf(config), checkpoint });

  let consent: ConsentGrantFollower | undefined;
  let consentLedger: InProcessConsentLedger | undefined;
  let closeConsent = () => undefined as void;
  const ledger = config.consentLedger;
  if (ledger.kind !== "off") {
    let client: ConsentLedgerClient;
    let now: (() => number) | undefined;
    const { connectFabricGateway, InProcessConsentLedger } = await import("@datamarket/consent-ledger");
    if (ledger.kind === "fabric-gateway") {
      const connection = connectFabricGateway(fabricGatewayConfigOf(ledger.fabric!));
      client = connection.client;
      closeConsent = () => connection.close();
    } else {
      consentLedger = await InProcessConsentLedger.create();
      client = consentLedger.client(await consentLedger.enroll("AuditMSP", "broker", { "consent.role": "auditor" }));
      const inProcess = consentLedger;
      now = () => inProcess.clock.now();
      logger.warn(
        { consentLedger: "in-process", chainId },
        'consent ledger: an empty in-process ledger (development only): consent-gated licences admit no one unless grants are recorded in this process; a deployment sets consentLedger.kind "fabric-gateway"',
      );
    }
    // A checkpoint of a Fabric channel's grants, so a restart does not replay the ledger; none for the
    // in-process ledger, which starts empty with the process.
    const consentCheckpoint =
      ledger.kind === "fabric-gateway"
        ? new FileCheckpointStore(join(config.dataDir, "consent-checkpoint.json"), `fabric:${ledger.fabric!.channelName}/${ledger.fabric!.chaincodeName}`)
        : undefined;
    consent = new ConsentGrantFollower(consentSourceOf(client), { probeMs: config.access.consentProbeMs, now, checkpoint: consentCheckpoint, logger });
    await consent.start(BigInt(ledger.startBlock));
    if (consentCheckpoint?.loadError) logger.warn({ file: consentCheckpoint.file }, consentCheckpoint.loadError);
    logger.info(
      { from: consent.resumed?.from?.toString(), checkpoint: consent.resumed?.checkpoint, reason: consent.resumed?.reason },
      consent.resumed?.checkpoint ? "consent ledger: resumed from the checkpoint" : "consent ledger: replaying from the start block",
    );
  } else {
    logger.info({ consentLedger: "off" }, 'consent ledger: off (consentLedger.kind "off"): consent-gated licences admit no one');
  }

  const gate = new ContractAccessGate({ provider, registry: address("StreamRegistry")!, market: address("DataLicenseMarket"), consent, follower });
  const index = new InMemoryStreamIndex();
  const feeder = new RegistryStreamFeeder(index, { provider, registry: address("StreamRegistry")!, follower });

  let assignment: CoordinatorAssignment | undefined;
  let reporter: ContractCoordinatorReporter | undefined;
  const operatorKey = config.chain.operatorKey;
  const operatorAddress = config.chain.operatorAddress || (operatorKey ? new Wallet(operatorKey).address : "");
  if (address("NetworkCoordinator")) {
    // Without an operator address the broker is no assignee, but routes as the network does: with
    // the coordinator's function over the coordinator's P (a single node serving every partition).
    assignment = new CoordinatorAssignment({ provider, coordinator: address("NetworkCoordinator")!, broker: operatorAddress, follower });
    await assignment.start();
    if (operatorKey) {
      reporter = new ContractCoordinatorReporter({
        operator: new Wallet(operatorKey, provider),
        coordinator: address("NetworkCoordinator")!,
        stateFile: join(config.dataDir, "coordinator-reports.json"),
        follower,
        logger,
      });
    }
  }
  let contractDelivery: ContractSubscriberDelivery | undefined;
  if (config.chain.contractSubscribers) {
    if (!address("EventSubscriptions")) throw ConfigError.of("chain.contractSubscribers", `${file} names no EventSubscriptions`);
    contractDelivery = new ContractSubscriberDelivery({
      operator: new Wallet(operatorKey!, provider),
      subscriptions: address("EventSubscriptions")!,
      follower,
      logger,
    });
  }
  await follower.start();
  if (checkpoint.loadError) logger.warn({ file: checkpoint.file }, checkpoint.loadError);
  logger.info(
    { from: follower.resumed?.from, checkpoint: follower.resumed?.checkpoint, reason: follower.resumed?.reason, confirmations: follower.confirmations },
    follower.resumed?.checkpoint ? "chain: resumed from the checkpoint" : "chain: replayed from the deployment block",
  );
  const routing = assignment && operatorAddress ? "coordinator" : "single-node";
  logger.info(
    {
      rpcUrl: config.chain.rpcUrl,
      chainId,
      deployment: file,
      fromBlock,
      operator: operatorAddress || undefined,
      consentLedger: ledger.kind,
      assignment: routing,
    },
    "following the contracts",
  );
  if (assignment && !operatorAddress) {
    logger.info(
      { partitionCount: assignment.partitionCount() },
      "not a registered broker (no chain.operatorKey): a single node serving every network partition, routed with the coordinator's function and P",
    );
  }
  reporter?.start(Math.max(1000, config.chain.pollMs * 4));

  const P = config.network.partitionCount ?? 1;
  return {
    connected: true,
    status: { mode: config.chain.mode, connected: true, rpcUrl: config.chain.rpcUrl, chainId, deployment: file, consentLedger: ledger.kind },
    deps: {
      gate,
      streams: index,
      reporter,
      // Not a registered broker: it serves every network partition, routed as the coordinator routes
      // (or, with no coordinator deployed, over network.partitionCount).
      assignment: assignment
        ? operatorAddress
          ? assignment
          : new SingleNodeAssignment(assignment)
        : new StaticPartitionAssignment((s, sp) => networkPartitionOf(s, sp, P), "all"),
    },
    provider,
    deployment,
    follower,
    gate,
    feeder,
    assignment,
    reporter,
    contractDelivery,
    consent,
    consentLedger,
    epochs: assignment?.epochDefinition(),
    close: () => {
      reporter?.stop();
      follower.stop();
      gate.stop();
      consent?.stop();
      closeConsent();
      provider.destroy();
    },
  };
}
