// The demo's deployment helpers, shared by its pilots: the node's well-known accounts, the protocol
// deployed with the Ignition modules and checked as an auditor checks it, the in-process consent ledger,
// three consent bridges (2 of 3 attestors; the first relays revocations) and, when a pilot streams live
// data, three brokers wired as `broker start` wires them and registered on the coordinator.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { Contract, HDNodeWallet, Mnemonic, NonceManager, Wallet, type ContractRunner, type JsonRpcProvider } from "ethers";
import {
  ChainFollower,
  ConsentGrantFollower,
  ContractAccessGate,
  ContractCoordinatorReporter,
  CoordinatorAssignment,
  DEFAULT_CONFIG,
  InMemoryStreamIndex,
  RegistryStreamFeeder,
  consentSourceOf,
  startBroker,
  type RunningBroker,
} from "@datamarket/broker";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { BridgeStore, ConsentBridge, memoryLogger } from "@datamarket/consent-bridge";
import type {} from "@nomicfoundation/hardhat-toolbox"; // types of hre.ethers / hre.ignition (the root config loads the plugins)
import type { Narrator } from "./narrator";
import type { Cleanup } from "./node";

const ROOT = path.resolve(__dirname, "..", "..");
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
export const UNIT = 10n ** 18n;
export const DAY = 86_400;

export interface Party {
  name: string;
  wallet: Wallet;
  signer: NonceManager;
  address: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const fmt = (wei: bigint) => `${(Number(wei) / 1e18).toLocaleString("en-US", { maximumFractionDigits: 4 })} DATA`;

/** The Hardhat node's accounts (the well-known test mnemonic): by index, and every one by address. */
export function hardhatAccounts(provider: JsonRpcProvider): { party: (name: string, index: number) => Party; byAddress: Map<string, Wallet> } {
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0");
  const byIndex = (i: number) => new Wallet(root.deriveChild(i).privateKey, provider);
  const byAddress = new Map<string, Wallet>();
  for (let i = 0; i < 20; i++) {
    const wallet = byIndex(i);
    byAddress.set(wallet.address.toLowerCase(), wallet);
  }
  return {
    party: (name, index) => {
      const wallet = byIndex(index);
      return { name, wallet, signer: new NonceManager(wallet), address: wallet.address.toLowerCase() };
    },
    byAddress,
  };
}

export interface NetworkOptions {
  say: Narrator;
  provider: JsonRpcProvider;
  rpcUrl: string;
  cleanup: Cleanup;
  deployer: Party;
  /** sends the relayed revocations (bridge 1's relayer) */
  relayer: Party;
  /** the consent ledger's organisations: custodians (members of the private collection), then the others; AuditMSP is added */
  custodianMspIds: string[];
  otherMspIds: string[];
  /** DATA minted to each, in whole tokens */
  mint: Array<{ party: Party; tokens: bigint }>;
  /** operators of the brokers to start and register (none: no brokers) */
  brokerOperators: Party[];
  /** the demo's scratch directories are named after it */
  name: string;
}

export interface DemoBroker {
  running: RunningBroker;
  index: InMemoryStreamIndex;
  gate: ContractAccessGate;
  consent: ConsentGrantFollower;
  assignment: CoordinatorAssignment;
  reporter: ContractCoordinatorReporter;
  operator: Party;
}

/** Contract addresses of the deployment record, by contract name. */
export type Addresses = Record<"DATAToken" | "StreamRegistry" | "DataLicenseMarket" | "NetworkCoordinator" | "ProductDeliveryAdapter" | string, string>;

export interface DemoNetwork {
  hre: import("hardhat/types").HardhatRuntimeEnvironment;
  chainId: bigint;
  a: Addresses;
  token: Contract;
  market: Contract;
  registry: Contract;
  coordinator: Contract;
  adapter: Contract;
  ledger: InProcessConsentLedger;
  /** the bridges' read identity (AuditMSP) */
  auditor: ConsentLedgerClient;
  bridges: ConsentBridge[];
  bridgeUrls: string[];
  bridgeLogs: ReturnType<typeof memoryLogger>[];
  bridgeStores: BridgeStore[];
  brokers: DemoBroker[];
  genesis: number;
  epochLength: number;
  domain: { chainId: bigint; market: string };
  /** the deployment record (datamarket-deployment/1) Ignition wrote: addresses and deployment blocks */
  record: import("../../tasks/deployment").DeploymentExport;
}

/**
 * Ignition on the demo's local node: on a node with block times (anvil's interval mining) Ignition waits
 * for 5 confirmations of every batch and polls every second, which would make the deployment take
 * minutes. The demo's node is a fresh development chain (31337) with no reorgs but the ones a test makes,
 * where the brokers' followers use 0 confirmations too: one confirmation, polled every 200 ms. A
 * block-per-transaction node (Hardhat's) already gets 1 from Ignition.
 */
export function devChainIgnition(hre: import("hardhat/types").HardhatRuntimeEnvironment): void {
  hre.config.ignition.requiredConfirmations = 1;
  hre.config.ignition.blockPollingInterval = 200;
}

/**
 * Deploys the protocol with Ignition (deploy/parameters/localhost.json) to the node at `rpcUrl`, checks it
 * with verify-deployment, mints DATA, funds the coordinator's rewards, and starts the consent ledger, three
 * bridges and the brokers. Every check is one of the narrator's expectations; everything started is stopped
 * by `cleanup`.
 */
export async function startNetwork(o: NetworkOptions): Promise<DemoNetwork> {
  const { say, provider, cleanup, deployer } = o;
  const chainId = (await provider.getNetwork()).chainId;
  const { byAddress } = hardhatAccounts(provider);
  process.env.HARDHAT_NETWORK = "localhost";
  process.env.LOCALHOST_RPC_URL = o.rpcUrl;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as import("hardhat/types").HardhatRuntimeEnvironment;
  const scratch = mkdtempSync(path.join(tmpdir(), `${o.name}-demo-`));
  cleanup.push(() => rmSync(scratch, { recursive: true, force: true }));
  // Ignition's journal and the deployment export go to a scratch directory: every run is a fresh chain.
  hre.config.paths.ignition = path.join(scratch, "ignition");
  devChainIgnition(hre);
  const { deployProtocol } = await import("../../tasks/deployment");
  const parametersFile = path.join(ROOT, "deploy", "parameters", "localhost.json");
  const record = await deployProtocol(hre, { parametersFile, exportDir: scratch });
  const a = Object.fromEntries(Object.entries(record.contracts).map(([k, v]) => [k, v.address])) as Addresses;
  say.say(`Ignition deployed ${Object.keys(a).length} contracts on chain ${chainId}; market ${a.DataLicenseMarket}, coordinator ${a.NetworkCoordinator}`);
  // what an auditor runs: bytecode against the build, every role and parameter against the file
  const { verifyDeployment } = await import("../../tasks/verify");
  const checks = await verifyDeployment(hre, { record, parametersFile });
  const failed = checks.filter((c) => !c.ok);
  say.expect(
    failed.length === 0,
    `verify-deployment: all ${checks.length} checks pass (bytecode, roles, parameters)`,
    failed.map((c) => `${c.contract} ${c.item}: expected ${c.expected}, got ${c.actual}`).join("; "),
  );
  const artifact = (name: string) => hre.artifacts.readArtifactSync(name).abi;
  const at = (name: string, address: string, runner: ContractRunner) => new Contract(address, artifact(name), runner);
  const token = at("DATAToken", a.DATAToken, deployer.signer);
  const market = at("DataLicenseMarket", a.DataLicenseMarket, provider);
  const registry = at("StreamRegistry", a.StreamRegistry, provider);
  const coordinator = at("NetworkCoordinator", a.NetworkCoordinator, provider);
  const adapter = at("ProductDeliveryAdapter", a.ProductDeliveryAdapter, provider);

  const attestors: string[] = (await market.attestors()).map((x: string) => x.toLowerCase());
  const threshold = Number(await market.attestorThreshold());
  say.expect(
    attestors.length === 3 && threshold === 2,
    "the market trusts 3 attestors, 2 of which must sign",
    `${attestors.length} attestors, k = ${threshold}`,
  );
  const attestorKeys = attestors.map((x) => byAddress.get(x));
  say.expect(attestorKeys.every(Boolean), "every attestor of deploy/parameters/localhost.json is a node account the demo can sign with");

  for (const { party, tokens } of o.mint) await (await token.mint(party.address, tokens * UNIT)).wait();
  const rewardFund = 500n * UNIT;
  await (await token.mint(deployer.address, rewardFund)).wait();
  await (await token.approve(a.NetworkCoordinator, rewardFund)).wait();
  await (await coordinator.connect(deployer.signer).getFunction("fundRewards")(rewardFund)).wait();

  // The consent ledger (in process) and its organisations; the bridges read it as AuditMSP.
  const ledger = await InProcessConsentLedger.create({ custodianMspIds: o.custodianMspIds, otherMspIds: [...o.otherMspIds, "AuditMSP"] });
  const auditor = ledger.client(await ledger.enroll("AuditMSP", "consent-bridge", { "consent.role": "auditor" }));

  // Three consent bridges, one per attestor organisation; the first relays revocations.
  const bridgeLogs = attestorKeys.map(() => memoryLogger());
  const bridgeStores = attestorKeys.map(() => BridgeStore.inMemory());
  const bridges: ConsentBridge[] = [];
  // bridges 2 and 3 first: bridge 1's relayer gathers their signatures. Their clock is the ledger's: the
  // pilots let time pass by moving the ledger's clock (and the chain's), and a bridge refuses to sign a
  // grant issued further than its skew bound from its own clock.
  for (const i of [1, 2, 0]) {
    const bridge = await ConsentBridge.start({
      events: auditor,
      attestorKey: attestorKeys[i]!.privateKey,
      domain: { chainId, market: a.DataLicenseMarket.toLowerCase() },
      now: () => ledger.clock.now(),
      store: bridgeStores[i],
      http: { host: "127.0.0.1", port: 0 },
      retryDelayMs: 100,
      log: bridgeLogs[i],
      ...(i === 0 ? { relayer: { signer: o.relayer.wallet, peers: [bridges[1].url, bridges[2].url], retryDelayMs: 200, maxAttempts: 10 } } : {}),
    });
    bridges[i] = bridge;
    cleanup.push(() => bridge.stop());
  }
  say.say(`consent bridges on ${bridges.map((b) => b.url).join(", ")}`);

  const genesis = Number(await coordinator.genesis());
  const epochLength = Number(await coordinator.epochLength());
  const brokers = await startBrokers(o, {
    a,
    chainId,
    token,
    coordinator,
    ledger,
    fromBlock: Math.min(...Object.values(record.contracts).map((c) => c.deployBlock)),
  });
  if (brokers.length > 0) {
    for (let i = 0; i < 32 && (await coordinator.rebalanceNeeded()); i++) {
      await (await coordinator.connect(deployer.signer).getFunction("rebalance")(64)).wait();
    }
    say.expect(!(await coordinator.rebalanceNeeded()), "the coordinator's assignment is balanced after rebalancing");
    say.say(
      `brokers on ${brokers.map((b) => `ws://127.0.0.1:${b.running.wsPort}`).join(", ")}; ${await coordinator.partitionCount()} network partitions, R = ${await coordinator.replication()}, epochs of ${epochLength} s`,
    );
  }
  // The node gives every block a timestamp at least one second after the previous one, so a burst of
  // deployment transactions puts the chain's clock ahead of the wall clock that the brokers and the
  // ledger use. Events must carry timestamps inside the coordinator's epochs (from genesis on).
  const drift = (await provider.getBlock("latest"))!.timestamp * 1000 - Date.now();
  say.say(`the chain's clock is ${(drift / 1000).toFixed(1)} s ahead of the wall clock; genesis ${genesis}`);
  if (genesis * 1000 > Date.now()) {
    say.say(`waiting ${((genesis * 1000 - Date.now()) / 1000).toFixed(1)} s for the wall clock to reach the coordinator's genesis`);
    await sleep(genesis * 1000 - Date.now() + 200);
  }
  return {
    hre,
    chainId,
    a,
    token,
    market,
    registry,
    coordinator,
    adapter,
    ledger,
    auditor,
    bridges,
    bridgeUrls: bridges.map((b) => b.url),
    bridgeLogs,
    bridgeStores,
    brokers,
    genesis,
    epochLength,
    domain: { chainId, market: a.DataLicenseMarket.toLowerCase() },
    record,
  };
}

/**
 * Brokers wired as `broker start` wires them (broker/src/chain/ChainBackend.ts), on the broker package's
 * own contract-backed pieces: one ChainFollower shared by the access gate (registry + market), the stream
 * index and the coordinator assignment; the gate's consent half follows the ledger's chaincode events
 * (GrantIssued, GrantsInvalidated) with an AuditMSP identity of its own. Each stakes and registers.
 */
async function startBrokers(
  o: NetworkOptions,
  n: { a: Addresses; chainId: bigint; token: Contract; coordinator: Contract; ledger: InProcessConsentLedger; fromBlock: number },
): Promise<DemoBroker[]> {
  const brokers: DemoBroker[] = [];
  for (const operator of o.brokerOperators) {
    const dataDir = mkdtempSync(path.join(tmpdir(), `${o.name}-broker-`));
    o.cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const consent = new ConsentGrantFollower(
      consentSourceOf(n.ledger.client(await n.ledger.enroll("AuditMSP", `broker-${operator.address.slice(2, 10)}`, { "consent.role": "auditor" }))),
      { now: () => n.ledger.clock.now() },
    );
    await consent.start();
    o.cleanup.push(() => consent.stop());
    const follower = new ChainFollower(o.provider, { fromBlock: n.fromBlock, pollMs: DEFAULT_CONFIG.chain.pollMs });
    const gate = new ContractAccessGate({ provider: o.provider, registry: n.a.StreamRegistry, market: n.a.DataLicenseMarket, consent, follower });
    const index = new InMemoryStreamIndex();
    const feeder = new RegistryStreamFeeder(index, { provider: o.provider, registry: n.a.StreamRegistry, follower });
    const assignment = new CoordinatorAssignment({ provider: o.provider, coordinator: n.a.NetworkCoordinator, broker: operator.address, follower });
    await assignment.start();
    await follower.start();
    o.cleanup.push(() => {
      follower.stop();
      gate.stop();
      feeder.stop();
      assignment.stop();
    });
    const reporter = new ContractCoordinatorReporter({
      operator: operator.signer,
      coordinator: n.a.NetworkCoordinator,
      stateFile: path.join(dataDir, "coordinator-reports.json"),
    });
    const running = await startBroker(
      // The operator key signs the broker in to its peers: the partition's events are replicated
      // between the three brokers (docs/network.md §13).
      {
        ...structuredClone(DEFAULT_CONFIG),
        host: "127.0.0.1",
        wsPort: 0,
        httpPort: 0,
        dataDir,
        chainId: Number(n.chainId),
        verifyThreads: 0,
        network: { ...DEFAULT_CONFIG.network, ...assignment.epochDefinition() },
        chain: { ...DEFAULT_CONFIG.chain, operatorKey: operator.wallet.privateKey },
      },
      { gate, streams: index, assignment, reporter, logger: pino({ level: "silent" }) },
    );
    o.cleanup.push(() => running.close());
    const stake = 1_000n * UNIT;
    await (await n.token.connect(operator.signer).getFunction("approve")(n.a.NetworkCoordinator, stake)).wait();
    await (
      await n.coordinator.connect(operator.signer).getFunction("registerBroker")(
        stake,
        `ws://127.0.0.1:${running.wsPort}`,
        `http://127.0.0.1:${running.httpPort}`,
        operator.wallet.signingKey.compressedPublicKey,
      )
    ).wait();
    brokers.push({ running, index, gate, consent, assignment, reporter, operator });
  }
  return brokers;
}
