// One entry point for the parts that use the consent ledger (bridge, broker, demo): the backend is a
// matter of configuration, in process by default or a real Fabric gateway peer.
import { readFileSync } from "node:fs";
import type { EnrolledIdentity } from "../fabric/identity";
import type { InProcessConsentLedger } from "../inprocess";
import { ConsentLedgerClient } from "./client";
import { FabricGatewayConfig, connectFabricGateway } from "./fabricgateway";

export type ConsentLedgerConfig =
  { kind: "in-process"; ledger: InProcessConsentLedger; identity: EnrolledIdentity } | ({ kind: "fabric-gateway" } & FabricGatewayConfig);

export interface ConsentLedgerConnection {
  client: ConsentLedgerClient;
  close(): void;
}

export function connectConsentLedger(config: ConsentLedgerConfig): ConsentLedgerConnection {
  if (config.kind === "in-process") {
    return { client: config.ledger.client(config.identity), close: () => undefined };
  }
  const { kind: _kind, ...gateway } = config;
  const connection = connectFabricGateway(gateway);
  return { client: connection.client, close: () => connection.close() };
}

/**
 * Reads a fabric-gateway configuration from the environment, or returns null when
 * CONSENT_LEDGER_ENDPOINT is unset (the caller then uses the in-process ledger):
 *   CONSENT_LEDGER_ENDPOINT   host:port of the gateway peer
 *   CONSENT_LEDGER_TLS_CA     path of the PEM of the peer's TLS CA
 *   CONSENT_LEDGER_MSP_ID     MSP id of the client identity
 *   CONSENT_LEDGER_CERT       path of the PEM enrollment certificate
 *   CONSENT_LEDGER_KEY        path of the PEM private key
 *   CONSENT_LEDGER_CHANNEL    channel name (default "consent")
 *   CONSENT_LEDGER_CHAINCODE  chaincode name (default "consent")
 *   CONSENT_LEDGER_TLS_HOSTNAME_OVERRIDE  optional TLS server name
 */
export function fabricGatewayConfigFromEnv(env: NodeJS.ProcessEnv = process.env): FabricGatewayConfig | null {
  if (!env.CONSENT_LEDGER_ENDPOINT) {
    return null;
  }
  const required = (name: string): string => {
    const value = env[name];
    if (!value) {
      throw new Error(`${name} must be set when CONSENT_LEDGER_ENDPOINT is`);
    }
    return value;
  };
  const file = (name: string): string => {
    const path = required(name);
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(`${name}: cannot read ${path} (${(error as Error).message})`);
    }
  };
  return {
    endpoint: env.CONSENT_LEDGER_ENDPOINT,
    tlsCaCertificate: file("CONSENT_LEDGER_TLS_CA"),
    hostnameOverride: env.CONSENT_LEDGER_TLS_HOSTNAME_OVERRIDE || undefined,
    mspId: required("CONSENT_LEDGER_MSP_ID"),
    certificate: file("CONSENT_LEDGER_CERT"),
    privateKey: file("CONSENT_LEDGER_KEY"),
    channelName: env.CONSENT_LEDGER_CHANNEL || "consent",
    chaincodeName: env.CONSENT_LEDGER_CHAINCODE || "consent",
  };
}
