// Broker configuration: defaults, a JSON file, then environment variables (BROKER_*), in that
// order. Every field is checked; a bad value stops the start with a message naming the field.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { DEFAULT_PAYMENTS_CONFIG, PAYMENTS_ENV, paymentTermsOf, type PaymentsConfig } from "./payments/config";

export interface StaticStream {
  creator: string;
  path: string;
  partitions?: number;
  metadata?: Record<string, unknown>;
}

export interface BrokerConfig {
  /** Interface to bind. Default 127.0.0.1. */
  host: string;
  wsPort: number;
  httpPort: number;
  dataDir: string;
  /** EIP-4361 domain sign-in messages must name. */
  domain: string;
  chainId: number;
  maxContentBytes: number;
  maxClockSkewMs: number;
  sendBudgetBytes: number;
  /**
   * "ordered" (default): live subscribers get an event once it is verified and accepted into its
   * publisher's chain; "durable": only after its fdatasync. Publishers are acknowledged after the
   * fdatasync either way (docs/protocol.md §6.3).
   */
  liveDelivery: "ordered" | "durable";
  /** Worker threads verifying signatures; 0 verifies in the event loop. Default: 1 on 2+ cores. */
  verifyThreads: number;
  storage: {
    segmentBytes: number;
    maxResendEvents: number;
    /** Under load, the least time between two group commits' starts (ms); 0 syncs as soon as possible. */
    commitDelayMs: number;
    retentionIntervalMs: number;
    retention: { maxAgeMs?: number; maxBytesPerPartition?: number };
  };
  access: {
    /** Fail closed when the chain / consent ledger were not synced for this long (ms). */
    maxStalenessMs: number;
    /** Static permissions (used when no contract-backed gate is wired in). */
    static: { publicStreams: string[]; publishers: Record<string, string[]>; subscribers: Record<string, string[]> };
  };
  /** Streams known without a registry (static index). */
  streams: StaticStream[];
  /**
   * Without a coordinator: the epoch definition and P (routing with the coordinator's function over
   * P partitions). With one, both are read from the contract and these must agree or stay default.
   */
  network: { epochLengthMs: number; genesisMs: number; partitionCount?: number };
  /** The contracts (docs/broker.md, "Chain"). */
  chain: {
    /** "auto": use a node and deployment record if found, else run static; "on": require them; "off". */
    mode: "auto" | "on" | "off";
    rpcUrl: string;
    /** The deployment record (deployments/<chainId>.json); "" searches ./deployments and the repository's. */
    deployment: string;
    /** Poll interval of the chain's logs (ms): under one block time, so a cut comes within a block. */
    pollMs: number;
    /** The broker operator's key (0x hex), registered on the coordinator: enables commit-reveal reports and reward claims. */
    operatorKey: string;
    /** The operator's address, when only the assignment is followed (no key): "" derives it from operatorKey. */
    operatorAddress: string;
    /** Deliver durable events to EventSubscriptions' contract subscribers with the operator's key, and claim the bounties. */
    contractSubscribers: boolean;
  };
  /**
   * Replication within each network partition (docs/network.md §13). Needs chain.operatorKey (the
   * key peers check against the coordinator); without a coordinator, `peers` lists the others.
   */
  replication: {
    /** Replicas that must hold an event before its publisher is acknowledged: "majority" (default), "all", or a number (capped at R). */
    acks: "majority" | "all" | number;
    /** How long a publish waits for its replicas' acknowledgements (ms). */
    ackTimeoutMs: number;
    /** How long a resend waits for a partition's catch-up before answering with a gap notice (ms). */
    catchUpWaitMs: number;
    /** Events per catch-up page. */
    pageEvents: number;
    /** Without a coordinator: the other replicas of every partition, { address, ws }. */
    peers: { address: string; ws: string }[];
  };
  /** The consent ledger: "in-process" (embedded, default), "fabric" (CONSENT_LEDGER_* environment), "off". */
  consent: { mode: "in-process" | "fabric" | "off"; probeMs: number };
  /** Per-event fees through payment channels (docs/network.md §14); free by default. */
  payments: PaymentsConfig;
  log: { level: string };
}

export const DEFAULT_CONFIG: BrokerConfig = {
  host: "127.0.0.1",
  wsPort: 7170,
  httpPort: 7171,
  dataDir: "./broker-data",
  domain: "localhost",
  chainId: 31337,
  maxContentBytes: 1024 * 1024,
  maxClockSkewMs: 30_000,
  sendBudgetBytes: 8 * 1024 * 1024,
  liveDelivery: "ordered",
  verifyThreads: cpus().length >= 2 ? 1 : 0,
  storage: { segmentBytes: 64 * 1024 * 1024, maxResendEvents: 100_000, commitDelayMs: 2, retentionIntervalMs: 60_000, retention: { maxAgeMs: 7 * 24 * 3600 * 1000 } },
  access: { maxStalenessMs: 30_000, static: { publicStreams: [], publishers: {}, subscribers: {} } },
  streams: [],
  network: { epochLengthMs: 60_000, genesisMs: 0, partitionCount: 1 },
  chain: { mode: "auto", rpcUrl: "http://127.0.0.1:8545", deployment: "", pollMs: 250, operatorKey: "", operatorAddress: "", contractSubscribers: false },
  replication: { acks: "majority", ackTimeoutMs: 5000, catchUpWaitMs: 10_000, pageEvents: 2000, peers: [] },
  consent: { mode: "in-process", probeMs: 1000 },
  payments: DEFAULT_PAYMENTS_CONFIG,
  log: { level: "info" },
};

export class ConfigError extends Error {
  constructor(field: string, message: string) {
    super(`config ${field}: ${message}`);
    this.name = "ConfigError";
  }
}

function merge<T>(base: T, over: unknown, path = ""): T {
  if (over === undefined) return base;
  if (typeof base !== "object" || base === null || Array.isArray(base)) return over as T;
  if (typeof over !== "object" || over === null || Array.isArray(over)) throw new ConfigError(path || "(root)", "must be an object");
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in out)) throw new ConfigError(path + k, "unknown field");
    const b = out[k];
    // Maps keyed by stream id and optional retention limits take the value as given.
    out[k] = (typeof b === "object" && b !== null && !Array.isArray(b) && !["publishers", "subscribers", "retention"].includes(k)) ? merge(b, v, `${path}${k}.`) : v;
  }
  return out as T;
}

const ENV: [string, (c: BrokerConfig, v: string) => void][] = [
  ["BROKER_HOST", (c, v) => (c.host = v)],
  ["BROKER_WS_PORT", (c, v) => (c.wsPort = Number(v))],
  ["BROKER_HTTP_PORT", (c, v) => (c.httpPort = Number(v))],
  ["BROKER_DATA_DIR", (c, v) => (c.dataDir = v)],
  ["BROKER_DOMAIN", (c, v) => (c.domain = v)],
  ["BROKER_CHAIN_ID", (c, v) => (c.chainId = Number(v))],
  ["BROKER_MAX_CONTENT_BYTES", (c, v) => (c.maxContentBytes = Number(v))],
  ["BROKER_SEND_BUDGET_BYTES", (c, v) => (c.sendBudgetBytes = Number(v))],
  ["BROKER_LIVE_DELIVERY", (c, v) => (c.liveDelivery = v as BrokerConfig["liveDelivery"])],
  ["BROKER_VERIFY_THREADS", (c, v) => (c.verifyThreads = Number(v))],
  ["BROKER_LOG_LEVEL", (c, v) => (c.log.level = v)],
  ["BROKER_CHAIN", (c, v) => (c.chain.mode = v as BrokerConfig["chain"]["mode"])],
  ["BROKER_RPC_URL", (c, v) => (c.chain.rpcUrl = v)],
  ["BROKER_DEPLOYMENT", (c, v) => (c.chain.deployment = v)],
  ["BROKER_OPERATOR_KEY", (c, v) => (c.chain.operatorKey = v)],
  ["BROKER_CONSENT", (c, v) => (c.consent.mode = v as BrokerConfig["consent"]["mode"])],
  ["BROKER_REPLICATION_ACKS", (c, v) => (c.replication.acks = /^\d+$/.test(v) ? Number(v) : (v as "majority" | "all"))],
  ...PAYMENTS_ENV.map(([name, apply]): [string, (c: BrokerConfig, v: string) => void] => [name, (c, v) => apply(c.payments, v)]),
];

function check(cond: boolean, field: string, message: string): void {
  if (!cond) throw new ConfigError(field, message);
}

const port = (v: number) => Number.isInteger(v) && v >= 0 && v <= 65535;
const positive = (v: number) => Number.isSafeInteger(v) && v > 0;

export function validateConfig(c: BrokerConfig): BrokerConfig {
  check(typeof c.host === "string" && c.host.length > 0, "host", "must be a host name or address");
  check(port(c.wsPort), "wsPort", "must be a port number 0..65535");
  check(port(c.httpPort), "httpPort", "must be a port number 0..65535");
  check(typeof c.dataDir === "string" && c.dataDir.length > 0, "dataDir", "must be a directory path");
  check(typeof c.domain === "string" && c.domain.length > 0, "domain", "must be the EIP-4361 domain");
  check(positive(c.chainId), "chainId", "must be a positive integer");
  check(positive(c.maxContentBytes) && c.maxContentBytes <= 64 * 1024 * 1024, "maxContentBytes", "must be 1..67108864");
  check(positive(c.maxClockSkewMs), "maxClockSkewMs", "must be a positive integer (ms)");
  check(positive(c.sendBudgetBytes) && c.sendBudgetBytes >= c.maxContentBytes + 300, "sendBudgetBytes", "must be positive and hold at least one maximal frame");
  check(["ordered", "durable"].includes(c.liveDelivery), "liveDelivery", 'must be "ordered" or "durable"');
  check(Number.isInteger(c.verifyThreads) && c.verifyThreads >= 0 && c.verifyThreads <= 64, "verifyThreads", "must be an integer 0..64");
  check(positive(c.storage.segmentBytes), "storage.segmentBytes", "must be a positive integer");
  check(positive(c.storage.maxResendEvents), "storage.maxResendEvents", "must be a positive integer");
  check(typeof c.storage.commitDelayMs === "number" && c.storage.commitDelayMs >= 0 && c.storage.commitDelayMs <= 1000, "storage.commitDelayMs", "must be a number of ms in 0..1000");
  check(positive(c.storage.retentionIntervalMs), "storage.retentionIntervalMs", "must be a positive integer (ms)");
  const r = c.storage.retention ?? {};
  check(r.maxAgeMs === undefined || positive(r.maxAgeMs), "storage.retention.maxAgeMs", "must be a positive integer (ms) or absent");
  check(r.maxBytesPerPartition === undefined || positive(r.maxBytesPerPartition), "storage.retention.maxBytesPerPartition", "must be a positive integer or absent");
  check(positive(c.access.maxStalenessMs), "access.maxStalenessMs", "must be a positive integer (ms)");
  check(Array.isArray(c.streams), "streams", "must be an array");
  c.streams.forEach((s, i) => {
    check(/^0x[0-9a-fA-F]{40}$/.test(s.creator), `streams[${i}].creator`, "must be a 0x address");
    check(/^\/[A-Za-z0-9._~/-]{1,127}$/.test(s.path), `streams[${i}].path`, "must start with / and use [A-Za-z0-9._~/-], 2..128 bytes");
    check(s.partitions === undefined || (Number.isInteger(s.partitions) && s.partitions >= 1), `streams[${i}].partitions`, "must be an integer >= 1");
  });
  check(positive(c.network.epochLengthMs), "network.epochLengthMs", "must be a positive integer (ms)");
  check(Number.isSafeInteger(c.network.genesisMs), "network.genesisMs", "must be an integer (unix ms)");
  const P = c.network.partitionCount;
  check(P === undefined || (Number.isInteger(P) && P >= 1 && P <= 65536), "network.partitionCount", "must be an integer 1..65536 (default 1)");
  check(["auto", "on", "off"].includes(c.chain.mode), "chain.mode", 'must be "auto", "on" or "off"');
  check(/^(https?|wss?):\/\/.+/.test(c.chain.rpcUrl), "chain.rpcUrl", "must be an http(s) or ws(s) URL");
  check(typeof c.chain.deployment === "string", "chain.deployment", "must be a file path or empty");
  check(positive(c.chain.pollMs), "chain.pollMs", "must be a positive integer (ms)");
  check(c.chain.operatorKey === "" || /^0x[0-9a-fA-F]{64}$/.test(c.chain.operatorKey), "chain.operatorKey", "must be empty or a 0x-prefixed 32-byte hex key");
  check(c.chain.operatorAddress === "" || /^0x[0-9a-fA-F]{40}$/.test(c.chain.operatorAddress), "chain.operatorAddress", "must be empty or a 0x address");
  check(typeof c.chain.contractSubscribers === "boolean", "chain.contractSubscribers", "must be true or false");
  check(!c.chain.contractSubscribers || c.chain.operatorKey !== "", "chain.contractSubscribers", "needs chain.operatorKey (it pays the gas and receives the bounties)");
  const rep = c.replication;
  check(rep.acks === "majority" || rep.acks === "all" || (Number.isInteger(rep.acks) && (rep.acks as number) >= 1 && (rep.acks as number) <= 8), "replication.acks", 'must be "majority", "all" or an integer 1..8');
  check(positive(rep.ackTimeoutMs), "replication.ackTimeoutMs", "must be a positive integer (ms)");
  check(Number.isSafeInteger(rep.catchUpWaitMs) && rep.catchUpWaitMs >= 0, "replication.catchUpWaitMs", "must be a non-negative integer (ms)");
  check(positive(rep.pageEvents) && rep.pageEvents <= 10_000, "replication.pageEvents", "must be an integer 1..10000");
  check(Array.isArray(rep.peers), "replication.peers", "must be an array");
  rep.peers.forEach((p, i) => {
    check(/^0x[0-9a-fA-F]{40}$/.test(p.address), `replication.peers[${i}].address`, "must be a 0x address");
    check(/^wss?:\/\/.+/.test(p.ws), `replication.peers[${i}].ws`, "must be a ws:// or wss:// URL");
  });
  check(rep.peers.length === 0 || c.chain.operatorKey !== "", "replication.peers", "needs chain.operatorKey (the key this broker signs in to its peers with)");
  check(["in-process", "fabric", "off"].includes(c.consent.mode), "consent.mode", 'must be "in-process", "fabric" or "off"');
  check(positive(c.consent.probeMs), "consent.probeMs", "must be a positive integer (ms)");
  paymentTermsOf(c.payments, (field, message) => {
    throw new ConfigError(field, message);
  });
  return c;
}

/** Defaults ← file (if given) ← environment. */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  let fromFile: unknown;
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ConfigError(file, `cannot read a JSON config: ${(err as Error).message}`);
    }
  }
  const c = merge(structuredClone(DEFAULT_CONFIG), fromFile);
  for (const [name, apply] of ENV) if (env[name] !== undefined && env[name] !== "") apply(c, env[name]!);
  return validateConfig(c);
}
