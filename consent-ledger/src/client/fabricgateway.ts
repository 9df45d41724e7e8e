// The consent client over a real Fabric network: @hyperledger/fabric-gateway 1.11 on gRPC, configured by
// peer endpoint, TLS CA, client identity (certificate + private key) and MSP id, with gRPC options and
// deadlines whose defaults fit the largest dataset a request handles (10,000 subjects).
import * as grpc from "@grpc/grpc-js";
import { Gateway, Network, connect, hash, signers } from "@hyperledger/fabric-gateway";
import { createPrivateKey } from "node:crypto";
import { ConsentLedgerClient, DEFAULT_CHAINCODE_NAME } from "./client";
import { GatewayLimits } from "./errors";
import { NetworkLike } from "./network";

/**
 * Deadlines (ms). A peer kills a chaincode after 30 s (core.yaml chaincode.executetimeout), so a longer
 * evaluate or endorse deadline buys nothing; a 10,000-subject request needs a few seconds of it. Submit
 * covers the orderer's acceptance; commitStatus the block (BatchTimeout) and its validation.
 */
export const DEFAULT_GATEWAY_TIMEOUTS = { evaluate: 30_000, endorse: 30_000, submit: 10_000, commitStatus: 60_000 } as const;

/**
 * gRPC channel options. grpc-js refuses messages over 4 MiB by default; the largest a consent request
 * produces (a 10,000-subject decision: about 0.2 MB of response, an envelope under 2 MB) fits 16 MiB with
 * room. Keepalive pings every 2 minutes keep a long event stream open through idle-closing middleboxes
 * (Fabric peers accept client pings every 60 s or more, core.yaml peer.keepalive.minInterval).
 */
export const DEFAULT_GRPC_OPTIONS: grpc.ClientOptions = {
  "grpc.max_receive_message_length": 16 * 1024 * 1024,
  "grpc.max_send_message_length": 16 * 1024 * 1024,
  "grpc.keepalive_time_ms": 120_000,
  "grpc.keepalive_timeout_ms": 20_000,
};

export interface FabricGatewayConfig {
  /** gateway peer endpoint, host:port (e.g. "peer0.hospital.example.com:7051") */
  endpoint: string;
  /** PEM of the CA that signed the peer's TLS certificate */
  tlsCaCertificate: string | Uint8Array;
  /** TLS server name override when the endpoint host differs from the certificate's (optional) */
  hostnameOverride?: string;
  mspId: string;
  /** PEM of the client's enrollment certificate */
  certificate: string | Uint8Array;
  /** PEM (PKCS#8 or SEC1) of the client's private key */
  privateKey: string | Uint8Array;
  channelName: string;
  chaincodeName?: string;
  /** deadlines in milliseconds, each over DEFAULT_GATEWAY_TIMEOUTS (evaluate 30 s, endorse 30 s, submit 10 s, commit status 60 s) */
  timeouts?: { evaluate?: number; endorse?: number; submit?: number; commitStatus?: number };
  /** gRPC client options, over DEFAULT_GRPC_OPTIONS (16 MiB messages each way, keepalive 2 min) */
  grpcOptions?: grpc.ClientOptions;
}

export interface FabricGatewayConnection {
  client: ConsentLedgerClient;
  gateway: Gateway;
  network: Network;
  close(): void;
}

const toBuffer = (value: string | Uint8Array): Buffer => (typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value));

/** Validates a configuration and names the first bad field (no network access). */
export function validateFabricGatewayConfig(config: FabricGatewayConfig): void {
  if (!/^[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(config.endpoint)) {
    throw new Error(`endpoint must be host:port, got "${config.endpoint}"`);
  }
  if (!config.mspId) {
    throw new Error("mspId must not be empty");
  }
  if (!config.channelName) {
    throw new Error("channelName must not be empty");
  }
  for (const field of ["tlsCaCertificate", "certificate"] as const) {
    if (!toBuffer(config[field]).toString("utf8").includes("-----BEGIN CERTIFICATE-----")) {
      throw new Error(`${field} must be a PEM certificate`);
    }
  }
  try {
    createPrivateKey(toBuffer(config.privateKey));
  } catch (error) {
    throw new Error(`privateKey is not a PEM private key (${(error as Error).message})`);
  }
}

/** The gRPC options a configuration asks for: the defaults, its own, and the TLS name override. */
export function grpcOptionsOf(config: FabricGatewayConfig): grpc.ClientOptions {
  return {
    ...DEFAULT_GRPC_OPTIONS,
    ...config.grpcOptions,
    ...(config.hostnameOverride ? { "grpc.ssl_target_name_override": config.hostnameOverride } : {}),
  };
}

export function newGrpcClient(config: FabricGatewayConfig): grpc.Client {
  const credentials = grpc.credentials.createSsl(toBuffer(config.tlsCaCertificate));
  return new grpc.Client(config.endpoint, credentials, grpcOptionsOf(config));
}

/**
 * Connects to a Fabric gateway peer. gRPC connects lazily: a bad endpoint surfaces on the first call
 * as ENDORSEMENT_FAILED (the gateway's "UNAVAILABLE"); a message over the gRPC size limits as
 * MESSAGE_TOO_LARGE and a call past its deadline as DEADLINE_EXCEEDED, each naming the limit.
 */
export function connectFabricGateway(config: FabricGatewayConfig): FabricGatewayConnection {
  validateFabricGatewayConfig(config);
  const grpcClient = newGrpcClient(config);
  const timeouts = { ...DEFAULT_GATEWAY_TIMEOUTS, ...config.timeouts };
  const deadline = (millis: number) => () => ({ deadline: Date.now() + millis });
  const gateway = connect({
    client: grpcClient,
    identity: { mspId: config.mspId, credentials: toBuffer(config.certificate) },
    signer: signers.newPrivateKeySigner(createPrivateKey(toBuffer(config.privateKey))),
    hash: hash.sha256,
    evaluateOptions: deadline(timeouts.evaluate),
    endorseOptions: deadline(timeouts.endorse),
    submitOptions: deadline(timeouts.submit),
    commitStatusOptions: deadline(timeouts.commitStatus),
  });
  const network = gateway.getNetwork(config.channelName);
  // fabric-gateway's Network satisfies NetworkLike structurally; this line is the compile-time check.
  const networkLike: NetworkLike = network;
  const options = grpcOptionsOf(config);
  const limits: GatewayLimits = {
    maxReceiveBytes: Number(options["grpc.max_receive_message_length"]),
    maxSendBytes: Number(options["grpc.max_send_message_length"]),
    timeouts,
  };
  return {
    client: new ConsentLedgerClient(networkLike, config.chaincodeName ?? DEFAULT_CHAINCODE_NAME, limits),
    gateway,
    network,
    close(): void {
      gateway.close();
      grpcClient.close();
    },
  };
}
