// The HTTP JSON API (fastify; the OpenAPI document at /openapi.json is generated from these
// route schemas): stream discovery from the registry index, publish, history, sign-in for
// history, /health and Prometheus /metrics. Errors: { code, message, details } with an HTTP status.

import { randomBytes } from "node:crypto";
import Fastify, { FastifyBaseLogger, FastifyInstance, FastifyRequest } from "fastify";
import swagger from "@fastify/swagger";
import type { Logger } from "pino";
import { BrokerError, ErrorCode, ErrorCodes, isWireError } from "../errors";
import { cryptoBackend, verifySiwe } from "@datamarket/protocol";
import { decodeFrame, eventHash } from "../wire";
import type { ResendQuery } from "../storage/EventStore";
import type { BrokerNode } from "./BrokerNode";
import type { StreamIndex } from "../streams/StreamIndex";
import type { PartitionAssignmentSource } from "../network/PartitionAssignment";
import { proveAtSignIn, type CredentialGate } from "../access/CredentialGate";

export const HTTP_STATUS: Record<ErrorCode, number> = {
  MALFORMED_FRAME: 400,
  UNSUPPORTED_VERSION: 400,
  PAYLOAD_TOO_LARGE: 413,
  INVALID_SIGNATURE: 400,
  UNKNOWN_STREAM: 404,
  INVALID_PARTITION: 400,
  DUPLICATE_SEQUENCE: 409,
  OUT_OF_ORDER_SEQUENCE: 409,
  PREVIOUS_EVENT_MISMATCH: 409,
  TIMESTAMP_OUT_OF_RANGE: 400,
  PUBLISH_NOT_ALLOWED: 403,
  SUBSCRIBE_NOT_ALLOWED: 403,
  ACCESS_GATE_UNAVAILABLE: 503,
  NOT_AUTHENTICATED: 401,
  AUTHENTICATION_FAILED: 401,
  BAD_REQUEST: 400,
  PARTITION_NOT_SERVED: 421,
  SEND_BUDGET_EXCEEDED: 429,
  ACCESS_REVOKED: 403,
  STORAGE_FAILURE: 503,
  SHUTTING_DOWN: 503,
  NOT_ENOUGH_REPLICAS: 503,
  NOT_A_REPLICA: 403,
  PAYMENT_REQUIRED: 402,
  INVALID_VOUCHER: 400,
};

export interface HttpServerOptions {
  host: string;
  port: number;
  domain: string;
  chainId: number;
  logger?: Logger;
  /** Session length when the sign-in message has no Expiration Time (ms). Default 1 h. */
  defaultSessionMs?: number;
  wsUrl?: string;
  /** More of `/health` (what the broker follows: the chain, the consent ledger). */
  health?: () => Record<string, unknown>;
  /** Takes credential presentations at sign-in (streams with a credential policy need one). */
  credentials?: CredentialGate;
}

/** Most outstanding sign-in nonces and sessions kept (memory bound). */
const MAX_OUTSTANDING = 100_000;

const errorSchema = {
  type: "object",
  properties: { code: { type: "string", enum: Object.keys(ErrorCodes) }, message: { type: "string" }, details: { type: "object", additionalProperties: true } },
  required: ["code", "message"],
} as const;
const streamIdParam = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } as const;
const streamSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    creator: { type: "string" },
    path: { type: "string" },
    partitions: { type: "integer" },
    metadata: { type: "object", additionalProperties: true },
  },
} as const;
const eventSchema = {
  type: "object",
  properties: {
    frame: { type: "string", description: "the frame, base64 (docs/protocol.md §1.2)" },
    eventHash: { type: "string" },
    publisher: { type: "string" },
    timestamp: { type: "integer" },
    sequenceNumber: { type: "integer" },
    previousEventHash: { type: "string" },
    contentType: { type: "integer" },
    encryptionType: { type: "integer" },
    groupKeyId: { type: "string" },
    content: { type: "string", description: "base64" },
  },
} as const;

export async function buildHttpServer(
  node: BrokerNode,
  streams: StreamIndex,
  assignment: PartitionAssignmentSource,
  opts: HttpServerOptions,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger | undefined,
    bodyLimit: Math.ceil((2 * (node.maxContentBytes + 300) * 4) / 3) + 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true } },
  });
  const nonces = new Map<string, number>();
  const sessions = new Map<string, { address: string; expiresAt: number }>();
  const sessionMs = opts.defaultSessionMs ?? 3_600_000;

  await app.register(swagger, {
    openapi: {
      info: { title: "Broker HTTP API", version: "1.0.0", description: "Reference broker of the data-marketplace protocol. Event layout: docs/protocol.md." },
      components: { securitySchemes: { session: { type: "http", scheme: "bearer", description: "token from POST /auth/session (EIP-4361)" } } },
    },
  });

  app.setErrorHandler((err: unknown, _req, reply) => {
    if (isWireError(err)) return reply.status(HTTP_STATUS[err.code]).send(err.toJSON());
    const e = err as { validation?: unknown; code?: string; message?: string; statusCode?: number };
    if (e.validation) return reply.status(400).send({ code: ErrorCodes.BAD_REQUEST, message: e.message, details: { validation: e.validation } });
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") return reply.status(413).send({ code: ErrorCodes.PAYLOAD_TOO_LARGE, message: e.message, details: {} });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: ErrorCodes.BAD_REQUEST, message: e.message, details: {} });
    app.log.error({ err }, "internal error");
    return reply.status(500).send({ code: "INTERNAL", message: "internal error", details: {} });
  });

  const authAddress = (req: FastifyRequest): string => {
    const h = req.headers.authorization;
    const token = h?.startsWith("Bearer ") ? h.slice(7) : undefined;
    const s = token ? sessions.get(token) : undefined;
    if (!s || Date.now() >= s.expiresAt) throw new BrokerError(ErrorCodes.NOT_AUTHENTICATED, "send Authorization: Bearer <token from POST /auth/session>");
    return s.address;
  };

  // Probes and scrapers call these every few seconds: their requests are logged at warn and above
  // only (a failure), not at info.
  app.get(
    "/health",
    {
      logLevel: "warn",
      schema: {
        summary: "Liveness and the state of storage and the access gate",
        response: { 200: { type: "object", additionalProperties: true }, 503: { type: "object", additionalProperties: true } },
      },
    },
    async (_req, reply) => {
      const gate = node.gateFreshness();
      const replication = node.options.replicator ? { ...node.options.replicator.status(), stats: node.options.replicator.stats } : undefined;
      const body = {
        status: gate.stale ? "degraded" : "ok",
        accessGate: gate.stale ? "stale" : "ok",
        gate,
        ...opts.health?.(),
        assignment: assignment.mode ?? "static",
        crypto: cryptoBackend.backend,
        subscriptions: node.subscriptionCount(),
        storage: node.store.stats,
        replication,
      };
      return reply.status(gate.stale ? 503 : 200).send(body);
    },
  );

  app.get(
    "/network/partitions/:partition/epochs/:epoch",
    {
      schema: {
        summary: "This broker's count and checksum of a network partition's epoch (docs/protocol.md §4), as it would report them",
        params: {
          type: "object",
          properties: { partition: { type: "integer", minimum: 0 }, epoch: { type: "integer", minimum: 0 } },
          required: ["partition", "epoch"],
        },
        response: {
          200: {
            type: "object",
            properties: { epoch: { type: "integer" }, networkPartition: { type: "integer" }, count: { type: "integer" }, checksum: { type: "string" } },
          },
        },
      },
    },
    async (req) => {
      const { partition, epoch } = req.params as { partition: number; epoch: number };
      if (!node.options.epochs) throw new BrokerError(ErrorCodes.BAD_REQUEST, "this broker keeps no epoch checksums");
      return node.options.epochs.report(epoch, partition);
    },
  );

  app.get("/metrics", { logLevel: "warn", schema: { summary: "Prometheus metrics", produces: ["text/plain"] } }, async (_req, reply) => {
    reply.header("content-type", node.metrics.registry.contentType);
    return node.metrics.registry.metrics();
  });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get(
    "/auth/nonce",
    {
      schema: {
        summary: "A single-use nonce for an EIP-4361 sign-in message (valid 5 minutes)",
        response: { 200: { type: "object", properties: { nonce: { type: "string" }, domain: { type: "string" }, chainId: { type: "integer" } } } },
      },
    },
    async () => {
      const nonce = randomBytes(16).toString("hex");
      const now = Date.now();
      for (const [n, exp] of nonces) if (exp < now) nonces.delete(n);
      // Bounded: past the cap the oldest outstanding nonce is forgotten (its sign-in then fails).
      if (nonces.size >= MAX_OUTSTANDING) nonces.delete(nonces.keys().next().value!);
      nonces.set(nonce, now + 300_000);
      return { nonce, domain: opts.domain, chainId: opts.chainId };
    },
  );

  app.post(
    "/auth/session",
    {
      schema: {
        summary: "Exchange a signed EIP-4361 message for a bearer token",
        body: {
          type: "object",
          required: ["message", "signature"],
          properties: {
            message: { type: "string", maxLength: 4096 },
            signature: { type: "string" },
            presentation: {
              type: "string",
              maxLength: 65536,
              description: "an SD-JWT VC presentation on the same nonce, for streams with a credential policy (docs/protocol.md §6.1)",
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              token: { type: "string" },
              address: { type: "string" },
              expiresAt: { type: "integer" },
              credential: { type: "object", additionalProperties: true },
            },
          },
          400: errorSchema,
          401: errorSchema,
        },
      },
    },
    async (req) => {
      const body = req.body as { message: string; signature: string; presentation?: string };
      const nonce = /\nNonce: ([A-Za-z0-9]+)/.exec(body.message)?.[1] ?? "";
      const valid = nonces.get(nonce);
      if (!valid || valid < Date.now())
        throw new BrokerError(ErrorCodes.AUTHENTICATION_FAILED, "unknown or expired nonce; get one from GET /auth/nonce", { nonce });
      const { address, expiresAt } = verifySiwe(body.message, body.signature, {
        domain: opts.domain,
        chainId: opts.chainId,
        nonce,
        defaultSessionMs: sessionMs,
      });
      nonces.delete(nonce);
      const credential = body.presentation === undefined ? undefined : await proveAtSignIn(opts.credentials, address, nonce, body.presentation, expiresAt);
      const token = randomBytes(24).toString("base64url");
      const now = Date.now();
      for (const [t, sess] of sessions) if (sess.expiresAt <= now) sessions.delete(t);
      if (sessions.size >= MAX_OUTSTANDING) sessions.delete(sessions.keys().next().value!);
      sessions.set(token, { address, expiresAt });
      return { token, address, expiresAt, ...(credential ? { credential } : {}) };
    },
  );

  app.get(
    "/streams",
    {
      schema: {
        summary: "Find streams in the registry index",
        querystring: {
          type: "object",
          properties: {
            text: { type: "string", maxLength: 128 },
            creator: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
            limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            offset: { type: "integer", minimum: 0, default: 0 },
          },
          additionalProperties: false,
        },
        response: { 200: { type: "object", properties: { total: { type: "integer" }, streams: { type: "array", items: streamSchema } } }, 400: errorSchema },
      },
    },
    async (req) => streams.find(req.query as { text?: string; creator?: string; limit: number; offset: number }),
  );

  app.get(
    "/streams/:streamId",
    {
      schema: {
        summary: "One stream, with the network partition and serving brokers of each stream partition",
        params: { type: "object", properties: { streamId: streamIdParam }, required: ["streamId"] },
        response: {
          200: {
            type: "object",
            properties: {
              ...streamSchema.properties,
              assignment: {
                type: "string",
                enum: ["coordinator", "single-node", "static"],
                description: "how this broker serves partitions: assigned by the coordinator, every partition as a single node, or a fixed assignment",
              },
              routing: { type: "array", items: { type: "object", additionalProperties: true } },
            },
          },
          404: errorSchema,
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const s = await node.stream((req.params as { streamId: string }).streamId.toLowerCase());
      const routing = [];
      for (let p = 0; p < Math.min(s.partitions, 256); p++) {
        const np = assignment.networkPartitionOf(s.id, p);
        routing.push({ streamPartition: p, networkPartition: np, servedHere: assignment.serves(np), brokers: assignment.brokersOf(np) });
      }
      return { ...s, assignment: assignment.mode ?? "static", routing };
    },
  );

  const partitionParams = {
    type: "object",
    properties: { streamId: streamIdParam, partition: { type: "integer", minimum: 0, maximum: 4294967295 } },
    required: ["streamId", "partition"],
  } as const;

  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.post(
    "/streams/:streamId/partitions/:partition/events",
    {
      schema: {
        summary: "Publish a signed frame (JSON { frame: base64 } or a raw application/octet-stream body); 201 once durable",
        params: partitionParams,
        body: { type: "object", properties: { frame: { type: "string", contentEncoding: "base64" } }, required: ["frame"] },
        response: {
          201: { type: "object", properties: { eventHash: { type: "string" } } },
          400: errorSchema,
          403: errorSchema,
          404: errorSchema,
          409: errorSchema,
          413: errorSchema,
          421: errorSchema,
          503: errorSchema,
        },
      },
      preValidation: async (req) => {
        if (Buffer.isBuffer(req.body)) req.body = { frame: (req.body as Buffer).toString("base64") };
      },
    },
    async (req, reply) => {
      const { streamId, partition } = req.params as { streamId: string; partition: number };
      const b64 = (req.body as { frame: string }).frame;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new BrokerError(ErrorCodes.BAD_REQUEST, "frame must be base64", { field: "frame" });
      const frame = Buffer.from(b64, "base64");
      // The URL must name the stream partition the signed frame is for.
      const decoded = decodeFrame(frame, node.maxContentBytes);
      if (decoded.streamId !== streamId.toLowerCase() || decoded.streamPartition !== partition) {
        throw new BrokerError(ErrorCodes.BAD_REQUEST, "the frame is for another stream partition than the URL", {
          url: { streamId, partition },
          frame: { streamId: decoded.streamId, streamPartition: decoded.streamPartition },
        });
      }
      const hash = await node.publish(frame);
      return reply.status(201).send({ eventHash: "0x" + hash.toString("hex") });
    },
  );

  const cursorSchema = {
    type: ["object", "null"],
    description:
      "a truncated from/range answer: the cursor of its last event in resend order; continue with afterTimestamp, afterSequenceNumber, afterPublisher",
    properties: { timestamp: { type: "integer" }, sequenceNumber: { type: "integer" }, publisher: { type: "string" } },
  } as const;

  app.get(
    "/streams/:streamId/partitions/:partition/events",
    {
      schema: {
        summary: "History: the last N events, or those from a timestamp, or in a range, of every publisher or one; paged with a cursor (needs a session)",
        security: [{ session: [] }],
        params: partitionParams,
        querystring: {
          type: "object",
          properties: {
            last: { type: "integer", minimum: 1 },
            from: { type: "integer", minimum: 0 },
            to: { type: "integer", minimum: 0 },
            publisher: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
            afterTimestamp: { type: "integer", minimum: 0 },
            afterSequenceNumber: { type: "integer", minimum: 0 },
            afterPublisher: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: "object", properties: { truncated: { type: "boolean" }, next: cursorSchema, events: { type: "array", items: eventSchema } } },
          400: errorSchema,
          401: errorSchema,
          403: errorSchema,
          404: errorSchema,
          421: errorSchema,
        },
      },
    },
    async (req) => {
      const address = authAddress(req);
      const { streamId, partition } = req.params as { streamId: string; partition: number };
      const q = req.query as {
        last?: number;
        from?: number;
        to?: number;
        publisher?: string;
        afterTimestamp?: number;
        afterSequenceNumber?: number;
        afterPublisher?: string;
      };
      const publisher = q.publisher?.toLowerCase();
      const hasCursor = q.afterTimestamp !== undefined || q.afterSequenceNumber !== undefined || q.afterPublisher !== undefined;
      if (hasCursor && (q.afterTimestamp === undefined || q.afterSequenceNumber === undefined)) {
        throw new BrokerError(ErrorCodes.BAD_REQUEST, "a cursor is afterTimestamp and afterSequenceNumber (and optionally afterPublisher)", {
          field: "afterSequenceNumber",
        });
      }
      const after = hasCursor
        ? { timestamp: q.afterTimestamp!, sequenceNumber: q.afterSequenceNumber!, ...(q.afterPublisher ? { publisher: q.afterPublisher.toLowerCase() } : {}) }
        : undefined;
      let query: ResendQuery;
      if (q.last !== undefined) {
        if (q.from !== undefined || q.to !== undefined)
          throw new BrokerError(ErrorCodes.BAD_REQUEST, "give either last, or from (and optionally to)", { field: "last" });
        if (after) throw new BrokerError(ErrorCodes.BAD_REQUEST, "last takes no cursor: page with from (docs/protocol.md §6.4)", { field: "afterTimestamp" });
        query = { type: "last", count: q.last, publisher };
      } else if (q.from !== undefined) {
        query =
          q.to !== undefined
            ? { type: "range", fromTimestamp: q.from, toTimestamp: q.to, publisher, after }
            : { type: "from", fromTimestamp: q.from, publisher, after };
        if (query.type === "range" && query.toTimestamp < query.fromTimestamp)
          throw new BrokerError(ErrorCodes.BAD_REQUEST, "to is before from", { field: "to" });
      } else {
        throw new BrokerError(ErrorCodes.BAD_REQUEST, "give last=N, or from=<ms> (and optionally to=<ms>)", { field: "query" });
      }
      const result = await node.resend(address, streamId.toLowerCase(), partition, query);
      return {
        truncated: result.truncated,
        next: result.next,
        events: result.frames.map((frame) => {
          const e = decodeFrame(frame);
          return {
            frame: frame.toString("base64"),
            eventHash: "0x" + eventHash(e.canonical).toString("hex"),
            publisher: e.publisher,
            timestamp: e.timestamp,
            sequenceNumber: e.sequenceNumber,
            previousEventHash: e.previousEventHash,
            contentType: e.contentType,
            encryptionType: e.encryptionType,
            groupKeyId: e.groupKeyId,
            content: Buffer.from(e.content).toString("base64"),
          };
        }),
      };
    },
  );

  return app;
}
