// The consent ledger a daemon follows, as one configuration block: the bridge (docs/market.md §10.2)
// and the broker (docs/broker.md) take the same block, so that both daemons of an organisation are
// pointed at the ledger the same way (the same settings, the same environment variables after their
// prefix), and both turn it into a gateway connection with fabricGatewayConfigOf.
import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import type { FabricGatewayConfig } from "../client/fabricgateway";
import { oneOf, settings } from "./daemon";

const KIND_DESCRIPTION = "`in-process`: an empty ledger in this process (local development and demos only); `fabric-gateway`: a Fabric 2.5 gateway peer";

const FabricConnectionSchema = Type.Object(
  {
    endpoint: settings.nonEmpty("host:port of the gateway peer", "the gateway peer, `host:port`", { pattern: "^[^\\s:/]+:[0-9]{1,5}$" }),
    hostnameOverride: Type.Optional(settings.nonEmpty("a TLS server name", "TLS server name, when it differs from the endpoint's host")),
    tlsCaCertificateFile: settings.nonEmpty("a file path", "PEM of the peer's TLS CA (relative to the config file)", { filePath: "read" }),
    mspId: settings.nonEmpty(
      "an MSP id",
      "MSP id of the client identity: one with `consent.role=auditor` (the follower reads events and, with `access:ListInvalidatedGrants`, the grants a withdrawal ended)",
    ),
    certificateFile: settings.nonEmpty("a file path", "PEM enrollment certificate of the client identity", { filePath: "read" }),
    privateKeyFile: settings.nonEmpty("a file path", "PEM private key of the client identity (a Fabric identity file, not an Ethereum key)", {
      filePath: "read",
    }),
    channelName: settings.nonEmpty("a channel name", "channel of the consent chaincode", { default: "consent" }),
    chaincodeName: settings.nonEmpty("a chaincode name", "name of the consent chaincode", { default: "consent" }),
  },
  { additionalProperties: false, requiredWith: "fabric-gateway", description: "required when `kind` is `fabric-gateway`" },
);

/**
 * The block with the kinds a daemon accepts: the bridge takes `in-process` and `fabric-gateway`; the
 * broker also `off` (no consent ledger: consent-gated licences admit no one).
 */
export function consentLedgerSchema<K extends string = never>(extra: { kind: K; description: string }[] = []) {
  const kinds = ["in-process", "fabric-gateway", ...extra.map((e) => e.kind)] as ("in-process" | "fabric-gateway" | K)[];
  return Type.Object(
    {
      kind: oneOf(kinds, { default: "in-process", description: [KIND_DESCRIPTION, ...extra.map((e) => `\`${e.kind}\`: ${e.description}`)].join("; ") }),
      startBlock: settings.blockNumber("first ledger block to read when there is no checkpoint"),
      fabric: Type.Optional(FabricConnectionSchema),
    },
    { additionalProperties: false, default: {} },
  );
}

/** The bridge's block (and the part every daemon shares). */
export const ConsentLedgerSchema = consentLedgerSchema();
export type ConsentLedgerSettings = Static<typeof ConsentLedgerSchema>;
export type FabricConnectionSettings = Static<typeof FabricConnectionSchema>;

/** The problem of a block whose kind is `fabric-gateway` and that has no connection, if it is one. */
export function fabricConnectionProblem(block: { kind: string; fabric?: FabricConnectionSettings }, field = "consentLedger") {
  if (block.kind !== "fabric-gateway" || block.fabric) return [];
  return [
    { field: `${field}.fabric`, message: `required when ${field}.kind is "fabric-gateway": the gateway peer, TLS CA, MSP id, certificate and key files` },
  ];
}

/** The gateway connection of a validated block (its files read now). */
export function fabricGatewayConfigOf(fabric: FabricConnectionSettings): FabricGatewayConfig {
  return {
    endpoint: fabric.endpoint,
    tlsCaCertificate: readFileSync(fabric.tlsCaCertificateFile),
    certificate: readFileSync(fabric.certificateFile),
    privateKey: readFileSync(fabric.privateKeyFile),
    hostnameOverride: fabric.hostnameOverride,
    mspId: fabric.mspId,
    channelName: fabric.channelName,
    chaincodeName: fabric.chaincodeName,
  };
}
