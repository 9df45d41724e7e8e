// Composition of a broker process: storage, access gate, stream index, partition assignment,
// core node, WebSocket and HTTP servers, retention timer, graceful shutdown.
// The contract-backed gate / index / assignment are passed in as `deps`; without them the
// broker uses the static ones from its configuration.

import pino, { Logger } from "pino";
import type { FastifyInstance } from "fastify";
import { BrokerConfig } from "./config";
import { AccessGate } from "./access/AccessGate";
import { InMemoryAccessGate } from "./access/InMemoryAccessGate";
import { AccessPolicy } from "./access/AccessPolicy";
import { CredentialGate, identity } from "./access/CredentialGate";
import { InMemoryStreamIndex, StreamIndex } from "./streams/StreamIndex";
import { PartitionAssignmentSource, StaticPartitionAssignment } from "./network/PartitionAssignment";
import { EpochTracker } from "./network/EpochTracker";
import { CoordinatorReporter, EpochReporter } from "./network/EpochReporter";
import { EventStore } from "./storage/EventStore";
import { BrokerNode } from "./node/BrokerNode";
import { BrokerMetrics } from "./node/metrics";
import { WsServer } from "./node/WsServer";
import { buildHttpServer } from "./node/HttpServer";
import { addressOfPrivateKey, cryptoBackend, streamIdOf } from "@datamarket/protocol";
import { decodeFrame, keccak256 } from "./wire";
import { VerifierPool } from "./verifier/VerifierPool";
import { networkPartitionOf } from "./network/routing";
import { ConfigError, DEFAULT_CONFIG } from "./config";
import { connectChainBackend, type ChainBackend, type ChainStatus } from "./chain/ChainBackend";
import { Replicator } from "./replication/Replicator";
import { registerPaymentRoutes, type Payments } from "./payments";
import { connectPayments } from "./payments/connect";
import { registerNameRoutes, StreamNameResolver } from "./streams/StreamNames";

export interface BrokerDeps {
  /** Submits epoch reports to the coordinator (commit-reveal); without it, nothing is reported. */
  reporter?: CoordinatorReporter;
  gate?: AccessGate;
  streams?: StreamIndex;
  assignment?: PartitionAssignmentSource;
  /** Credential sign-in; default: from access.credentials (none when it sets no policy). */
  credentials?: CredentialGate;
  /** Per-event fees (config `payments`, docs/network.md §14); startConfiguredBroker wires them to the chain. */
  payments?: Payments;
  /** ENS names of streams (`GET /names/{name}`); startConfiguredBroker wires the deployment's StreamNames. */
  names?: StreamNameResolver;
  logger?: Logger;
  /** What `/health` says of the chain (startConfiguredBroker): followed, or why not. */
  chainStatus?: ChainStatus;
}

export interface RunningBroker {
  node: BrokerNode;
  /** Replication within the partitions (when chain.operatorKey is set). */
  replicator?: Replicator;
  ws: WsServer;
  http: FastifyInstance;
  wsPort: number;
  httpPort: number;
  epochs: EpochTracker;
  logger: Logger;
  /** The contracts and consent ledger it follows (startConfiguredBroker), if any. */
  chain?: ChainBackend;
  close(): Promise<void>;
}

export function staticGateFrom(config: BrokerConfig): InMemoryAccessGate {
  const gate = new InMemoryAccessGate();
  for (const id of config.access.static.publicStreams) gate.makePublic(id);
  for (const [id, addrs] of Object.entries(config.access.static.publishers)) for (const a of addrs) gate.grantPublish(id, a);
  for (const [id, addrs] of Object.entries(config.access.static.subscribers)) for (const a of addrs) gate.grantSubscribe(id, a);
  return gate;
}

/** The credential gate of access.credentials, or undefined when no stream has a policy. */
export function credentialGateFrom(config: BrokerConfig): CredentialGate | undefined {
  const c = config.access.credentials;
  if (!c || Object.keys(c.policies).length === 0) return undefined;
  const { MemoryNonceStore, PresentationVerifier, StatusListResolver, TrustList, httpStatusListFetcher } = identity();
  const statusLists = new StatusListResolver({
    fetcher: httpStatusListFetcher({ allowHttp: c.allowHttpStatusLists }),
    maxAgeSeconds: c.statusListMaxAgeSeconds,
  });
  const verifier = new PresentationVerifier({ trustList: new TrustList(c.trustList), audience: c.audience, statusLists, nonces: new MemoryNonceStore() });
  return new CredentialGate({ verifier, policies: c.policies });
}

export function staticIndexFrom(config: BrokerConfig): InMemoryStreamIndex {
  const index = new InMemoryStreamIndex();
  for (const s of config.streams) {
    index.apply({
      type: "created",
      stream: { id: streamIdOf(s.creator.toLowerCase(), s.path), creator: s.creator, path: s.path, partitions: s.partitions ?? 1, metadata: s.metadata ?? {} },
    });
  }
  return index;
}

/**
 * The broker's own logger: JSON lines on stdout, written synchronously. pino's default destination
 * writes asynchronously, and a process that exits (or is killed) while a write is in flight prints the
 * lines logged after it first, or loses it: an operator reading a broker's last lines must see them in
 * the order they happened. The broker logs events of its lifetime and requests, not every message, so
 * the synchronous write costs nothing measurable.
 */
export function brokerLogger(config: BrokerConfig): Logger {
  return pino({ level: config.log.level, base: { service: "broker" } }, pino.destination({ dest: 1, sync: true }));
}

export async function startBroker(config: BrokerConfig, deps: BrokerDeps = {}): Promise<RunningBroker> {
  const logger = deps.logger ?? brokerLogger(config);
  const gate = deps.gate ?? staticGateFrom(config);
  const streams = deps.streams ?? staticIndexFrom(config);
  // Without a coordinator this broker serves every network partition of a single-node network of
  // P = network.partitionCount partitions, routed with the coordinator's function.
  const P = config.network.partitionCount ?? 1;
  const peers = config.replication.peers;
  // Without a coordinator, configured peers make a static replicated network: every broker serves
  // every partition, the peers are the other replicas.
  const assignment =
    deps.assignment ??
    (peers.length > 0
      ? new StaticPartitionAssignment(
          (streamId, sp) => networkPartitionOf(streamId, sp, P),
          new Set(Array.from({ length: P }, (_, i) => i)),
          new Map(Array.from({ length: P }, (_, i) => [i, peers.map((p) => ({ address: p.address.toLowerCase(), ws: p.ws, http: "" }))])),
        )
      : new StaticPartitionAssignment((streamId, sp) => networkPartitionOf(streamId, sp, P), "all"));
  const epochs = new EpochTracker(config.network.epochLengthMs, config.network.genesisMs);
  const { maxAgeMs, maxBytesPerPartition } = config.storage.retention;
  const store = new EventStore({
    dataDir: config.dataDir,
    segmentBytes: config.storage.segmentBytes,
    maxResendEvents: config.storage.maxResendEvents,
    commitDelayMs: config.storage.commitDelayMs,
    retention: { maxAgeMs: maxAgeMs || undefined, maxBytesPerPartition: maxBytesPerPartition || undefined }, // 0: no limit
  });
  const recoverFrom = Date.now() - 16 * config.network.epochLengthMs;
  store.open((streamId, streamPartition, frame, timestamp) => {
    // Rebuild the recent epochs' checksums from the log.
    if (timestamp >= recoverFrom) epochs.add(assignment.networkPartitionOf(streamId, streamPartition), timestamp, keccak256(decodeFrame(frame).canonical));
  });
  logger.info({ dataDir: config.dataDir, recovered: store.stats.recovered, truncatedBytes: store.stats.truncatedBytes }, "storage recovered");
  const metrics = new BrokerMetrics(true);
  const operatorKey = config.chain.operatorKey ? Buffer.from(config.chain.operatorKey.slice(2), "hex") : undefined;
  const replicator = operatorKey
    ? new Replicator({
        self: addressOfPrivateKey(operatorKey),
        operatorKey,
        assignment,
        dataDir: config.dataDir,
        acks: config.replication.acks,
        ackTimeoutMs: config.replication.ackTimeoutMs,
        catchUpWaitMs: config.replication.catchUpWaitMs,
        pageEvents: config.replication.pageEvents,
        lookbackMs: config.maxClockSkewMs + 5000,
        logger,
      })
    : undefined;
  const access = new AccessPolicy(gate, config.access.maxStalenessMs);
  const credentials = deps.credentials ?? credentialGateFrom(config);
  if (credentials) access.addSubscribeCheck(credentials);
  const node = new BrokerNode({
    replicator,
    store,
    streams,
    access,
    assignment,
    epochs,
    metrics,
    logger,
    maxContentBytes: config.maxContentBytes,
    maxClockSkewMs: config.maxClockSkewMs,
    liveDelivery: config.liveDelivery,
    verifier: config.verifyThreads > 0 && cryptoBackend.backend === "native" ? new VerifierPool(config.verifyThreads) : undefined,
    payments: deps.payments,
  });
  replicator?.start(node);
  const ws = new WsServer(node, {
    host: config.host,
    port: config.wsPort,
    domain: config.domain,
    chainId: config.chainId,
    sendBudgetBytes: config.sendBudgetBytes,
    logger,
    credentials,
  });
  const wsPort = await ws.listen();
  const chainStatus = deps.chainStatus;
  const http = await buildHttpServer(node, streams, assignment, {
    host: config.host,
    port: config.httpPort,
    domain: config.domain,
    chainId: config.chainId,
    logger,
    health: chainStatus && (() => ({ chain: chainStatus })),
    credentials,
  });
  if (deps.payments) registerPaymentRoutes(http, deps.payments);
  if (deps.names) registerNameRoutes(http, deps.names);
  await deps.payments?.start();
  await http.listen({ host: config.host, port: config.httpPort });
  const httpPort = (http.server.address() as { port: number }).port;
  const retention = setInterval(() => {
    const dropped = store.applyRetention();
    if (dropped > 0) logger.info({ dropped }, "retention dropped events");
  }, config.storage.retentionIntervalMs);
  retention.unref();
  const epochReporter = deps.reporter
    ? new EpochReporter(
        epochs,
        assignment,
        deps.reporter,
        config.maxClockSkewMs,
        Array.from({ length: P }, (_, i) => i),
        logger,
      )
    : undefined;
  epochReporter?.start(Math.max(1000, Math.floor(config.network.epochLengthMs / 4)));
  logger.info({ wsPort, httpPort, host: config.host }, "broker listening");
  let closing: Promise<void> | undefined;
  return {
    node,
    ws,
    http,
    wsPort,
    httpPort,
    epochs,
    logger,
    replicator,
    close: () =>
      (closing ??= (async () => {
        clearInterval(retention);
        epochReporter?.stop();
        await ws.close();
        await http.close();
        await node.close();
        await deps.payments?.close();
        logger.info("broker stopped");
      })()),
  };
}

/**
 * Starts a broker as `broker start` does: on the contracts and the consent ledger when a node and a
 * deployment record are found (chain.mode "auto"/"on"), else on the static configuration. With a
 * coordinator, the epoch definition is the contract's: a configured one that differs is refused.
 */
export async function startConfiguredBroker(config: BrokerConfig, logger?: Logger): Promise<RunningBroker> {
  const log = logger ?? brokerLogger(config);
  const chain = await connectChainBackend(config, log);
  if (!chain.connected) {
    connectPayments(config, undefined, log); // refuses prices without a chain
    return startBroker(config, { logger: log, chainStatus: chain.status });
  }
  let effective = config;
  if (chain.assignment) {
    const { genesisMs, epochLengthMs } = chain.assignment.epochDefinition();
    const configured = config.network;
    const isDefault = configured.epochLengthMs === DEFAULT_CONFIG.network.epochLengthMs && configured.genesisMs === DEFAULT_CONFIG.network.genesisMs;
    const partitionCount = chain.assignment.partitionCount();
    const problem =
      !isDefault && (configured.epochLengthMs !== epochLengthMs || configured.genesisMs !== genesisMs)
        ? ConfigError.of(
            "network",
            `epochLengthMs ${configured.epochLengthMs} / genesisMs ${configured.genesisMs} differ from the coordinator's ${epochLengthMs} / ${genesisMs}`,
          )
        : configured.partitionCount !== undefined && configured.partitionCount !== partitionCount
          ? ConfigError.of(
              "network.partitionCount",
              `${configured.partitionCount} differs from the coordinator's ${partitionCount} (with a coordinator, P is the contract's: remove the setting)`,
            )
          : undefined;
    if (problem) {
      chain.close();
      throw problem;
    }
    effective = { ...config, network: { ...config.network, genesisMs, epochLengthMs } };
  }
  try {
    const payments = connectPayments(effective, chain, log);
    const namesAddress = chain.deployment.contracts.StreamNames?.address;
    const names = namesAddress ? new StreamNameResolver(namesAddress, chain.provider) : undefined;
    const running = await startBroker(effective, { ...chain.deps, payments, names, logger: log, chainStatus: chain.status });
    const unhook = chain.contractDelivery?.attach(running.node);
    const bounties = chain.contractDelivery
      ? setInterval(() => void chain.contractDelivery!.claim().catch((err) => log.warn({ err }, "bounty claim failed")), 60_000)
      : undefined;
    bounties?.unref();
    const close = async () => {
      clearInterval(bounties);
      unhook?.();
      await running.close();
    };
    let closing: Promise<void> | undefined;
    return { ...running, chain, close: () => (closing ??= close().finally(() => chain.close())) };
  } catch (err) {
    chain.close();
    throw err;
  }
}
