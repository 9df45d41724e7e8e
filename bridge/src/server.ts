// The bridge's HTTP API (fastify): a buyer fetches this attestor's signature of a grant's attestation,
// or of its revocation; operators poll /health. Read-only: nothing a caller sends is ever signed.
import Fastify, { FastifyError, FastifyInstance } from "fastify";
import { DataMarketError } from "@datamarket/protocol";
import { HttpErrorCode } from "./errors";
import type { ConsentAttestation, ConsentRevocation } from "./eip712";
import type { Logger } from "./log";
import type { BridgeStore } from "./store";

/** GET /v1/attestations/:grantId */
export interface AttestationResponse {
  attestation: ConsentAttestation;
  /** the DPV purpose term whose keccak256 is attestation.purpose */
  purposeName: string;
  /** this attestor's 65-byte signature (r ‖ s ‖ v) of the EIP-712 digest */
  signature: string;
  /** this attestor's address (lowercase) */
  attestor: string;
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
  /** the Fabric block and transaction of the GrantIssued event */
  fabric: { blockNumber: string; transactionId: string };
}

/** GET /v1/revocations/:grantId */
export interface RevocationResponse {
  revocation: ConsentRevocation;
  cause: string;
  signature: string;
  attestor: string;
  domain: AttestationResponse["domain"];
  fabric: { blockNumber: string; transactionId: string };
  /** the on-chain relay, if this bridge relays */
  relay: { status: "sent" | "relayed" | "failed"; transactionHash: string | null } | null;
}

export interface HealthResponse {
  status: "ok" | "degraded";
  attestor: string;
  chainId: string;
  market: string;
  ledger: { connected: boolean; checkpoint: { blockNumber: string; transactionIds: number } | null; batchesProcessed: number; lastError: string | null };
  signed: { attestations: number; revocations: number; refusals: number };
  relayer: { enabled: boolean; confirmations: number | null; pending: number; relayed: number; failed: number };
}

export interface ServerContext {
  store: BridgeStore;
  attestor: string;
  chainId: bigint;
  market: string;
  log: Logger;
  health(): Pick<HealthResponse, "ledger" | "relayer">;
}

const GRANT_ID_PARAMS = {
  type: "object",
  required: ["grantId"],
  properties: { grantId: { type: "string", pattern: "^0x[0-9a-f]{64}$" } },
} as const;

const ERROR_SCHEMA = {
  type: "object",
  required: ["statusCode", "code", "message"],
  properties: { statusCode: { type: "integer" }, code: { type: "string" }, message: { type: "string" } },
} as const;

const DOMAIN_SCHEMA = {
  type: "object",
  required: ["name", "version", "chainId", "verifyingContract"],
  properties: { name: { type: "string" }, version: { type: "string" }, chainId: { type: "string" }, verifyingContract: { type: "string" } },
} as const;

const FABRIC_SCHEMA = {
  type: "object",
  required: ["blockNumber", "transactionId"],
  properties: { blockNumber: { type: "string" }, transactionId: { type: "string" } },
} as const;

const ATTESTATION_RESPONSE_SCHEMA = {
  type: "object",
  required: ["attestation", "purposeName", "signature", "attestor", "domain", "fabric"],
  properties: {
    attestation: {
      type: "object",
      required: ["grantId", "buyer", "productId", "purpose", "expiresAt"],
      properties: {
        grantId: { type: "string" },
        buyer: { type: "string" },
        productId: { type: "string" },
        purpose: { type: "string" },
        expiresAt: { type: "integer" },
      },
    },
    purposeName: { type: "string" },
    signature: { type: "string" },
    attestor: { type: "string" },
    domain: DOMAIN_SCHEMA,
    fabric: FABRIC_SCHEMA,
  },
} as const;

const REVOCATION_RESPONSE_SCHEMA = {
  type: "object",
  required: ["revocation", "cause", "signature", "attestor", "domain", "fabric", "relay"],
  properties: {
    revocation: { type: "object", required: ["grantId", "revokedAt"], properties: { grantId: { type: "string" }, revokedAt: { type: "integer" } } },
    cause: { type: "string" },
    signature: { type: "string" },
    attestor: { type: "string" },
    domain: DOMAIN_SCHEMA,
    fabric: FABRIC_SCHEMA,
    relay: {
      type: ["object", "null"],
      properties: { status: { type: "string" }, transactionHash: { type: ["string", "null"] } },
    },
  },
} as const;

const HEALTH_RESPONSE_SCHEMA = {
  type: "object",
  required: ["status", "attestor", "chainId", "market", "ledger", "signed", "relayer"],
  properties: {
    status: { type: "string", enum: ["ok", "degraded"] },
    attestor: { type: "string" },
    chainId: { type: "string" },
    market: { type: "string" },
    ledger: {
      type: "object",
      properties: {
        connected: { type: "boolean" },
        checkpoint: { type: ["object", "null"], properties: { blockNumber: { type: "string" }, transactionIds: { type: "integer" } } },
        batchesProcessed: { type: "integer" },
        lastError: { type: ["string", "null"] },
      },
    },
    signed: { type: "object", properties: { attestations: { type: "integer" }, revocations: { type: "integer" }, refusals: { type: "integer" } } },
    relayer: {
      type: "object",
      properties: {
        enabled: { type: "boolean" },
        confirmations: { type: ["integer", "null"] },
        pending: { type: "integer" },
        relayed: { type: "integer" },
        failed: { type: "integer" },
      },
    },
  },
} as const;

/** A refusal of the HTTP API: answered `{ statusCode, code, message }` (the message without the code prefix). */
export class HttpError extends DataMarketError<HttpErrorCode> {
  override name = "HttpError";

  constructor(
    readonly statusCode: number,
    code: HttpErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, { details: { statusCode, ...details }, docsPath: "market.md" });
  }
}

/** Builds the fastify app (not listening; `listen` is the caller's). */
export function buildServer(context: ServerContext): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1024, connectionTimeout: 10_000, requestTimeout: 10_000 });
  const domain = { name: "DataLicenseMarket", version: "1", chainId: context.chainId.toString(), verifyingContract: context.market };

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).send({ statusCode: error.statusCode, code: error.code, message: error.shortMessage });
    }
    if ((error as FastifyError).validation) {
      const grantId = (request.params as { grantId?: string } | undefined)?.grantId;
      return reply.status(400).send({
        statusCode: 400,
        code: HttpErrorCode.INVALID_GRANT_ID,
        message: `grant id must be 0x followed by 64 lowercase hex digits, got "${String(grantId).slice(0, 80)}"`,
      });
    }
    context.log.error({ url: request.url, err: error }, "http request failed");
    return reply.status(500).send({ statusCode: 500, code: HttpErrorCode.INTERNAL, message: "internal error" });
  });
  // Attestations and revocations are public (signed for anyone to relay): a buyer's web page on any
  // origin may read them (CORS), as the portal does while it waits for k signatures.
  app.addHook("onSend", async (_request, reply) => {
    reply.header("access-control-allow-origin", "*");
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      statusCode: 404,
      code: HttpErrorCode.NOT_FOUND,
      message: `no route ${request.method} ${request.url.slice(0, 100)}`,
    }),
  );

  app.get<{ Params: { grantId: string } }>(
    "/v1/attestations/:grantId",
    {
      schema: { params: GRANT_ID_PARAMS, response: { 200: ATTESTATION_RESPONSE_SCHEMA, "4xx": ERROR_SCHEMA } },
    },
    async (request): Promise<AttestationResponse> => {
      const { grantId } = request.params;
      const record = context.store.attestations.get(grantId);
      if (!record) {
        const refusal = context.store.refusals.get(grantId);
        if (refusal) {
          throw new HttpError(409, HttpErrorCode.ATTESTATION_REFUSED, `grant ${grantId} was not signed: ${refusal.code}`, { grantId });
        }
        throw new HttpError(404, HttpErrorCode.UNKNOWN_GRANT, `no GrantIssued for ${grantId} has reached this bridge`, { grantId });
      }
      return {
        attestation: record.attestation,
        purposeName: record.purposeName,
        signature: record.signature,
        attestor: context.attestor,
        domain,
        fabric: { blockNumber: record.blockNumber, transactionId: record.transactionId },
      };
    },
  );

  app.get<{ Params: { grantId: string } }>(
    "/v1/revocations/:grantId",
    {
      schema: { params: GRANT_ID_PARAMS, response: { 200: REVOCATION_RESPONSE_SCHEMA, "4xx": ERROR_SCHEMA } },
    },
    async (request): Promise<RevocationResponse> => {
      const { grantId } = request.params;
      const record = context.store.revocations.get(grantId);
      if (!record) {
        if (context.store.attestations.has(grantId) || context.store.refusals.has(grantId)) {
          throw new HttpError(404, HttpErrorCode.NOT_REVOKED, `grant ${grantId} has not been invalidated on the consent ledger`, { grantId });
        }
        throw new HttpError(404, HttpErrorCode.UNKNOWN_GRANT, `no event for ${grantId} has reached this bridge`, { grantId });
      }
      const relay = context.store.relays.get(grantId);
      return {
        revocation: record.revocation,
        cause: record.cause,
        signature: record.signature,
        attestor: context.attestor,
        domain,
        fabric: { blockNumber: record.blockNumber, transactionId: record.transactionId },
        relay: relay ? { status: relay.status, transactionHash: relay.transactionHash ?? null } : null,
      };
    },
  );

  // 503 while the ledger stream is down, so a load balancer or monitor can act on the status alone
  app.get(
    "/health",
    { schema: { response: { "2xx": HEALTH_RESPONSE_SCHEMA, 503: HEALTH_RESPONSE_SCHEMA } } },
    async (_request, reply): Promise<HealthResponse> => {
      const { ledger, relayer } = context.health();
      reply.status(ledger.connected ? 200 : 503);
      return {
        status: ledger.connected ? "ok" : "degraded",
        attestor: context.attestor,
        chainId: context.chainId.toString(),
        market: context.market,
        ledger,
        signed: { attestations: context.store.attestations.size, revocations: context.store.revocations.size, refusals: context.store.refusals.size },
        relayer,
      };
    },
  );

  return app;
}
