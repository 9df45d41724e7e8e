// The consent API: HTTP in front of the consent ledger for the portal, which cannot speak Fabric's gRPC.
// It holds one Fabric identity, a relay (role relay), which by itself may do nothing on the ledger, not
// even read. Everything it does, it does on a wallet's signature that the ledger itself checks
// (chaincode WalletContract): an operation (give, narrow, withdraw or refuse consent; a buyer's access
// request; a custodian's registration of a resource and its subjects) the wallet signed with a nonce and an expiry, or, for reads, an EIP-4361 sign-in the wallet
// signed once. A stolen API server can refuse or delay service; it can replay nothing and forge nothing.
// Routes: docs/portal.md §Consent API. Trust model: docs/threat-model.md.
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { verifyMessage } from "ethers";
import {
  ConsentClientError,
  MAX_SESSION_SECONDS,
  ledgerResource,
  parseSiweMessage,
  type AccessDecision,
  type AccessGrant,
  type AccessLogEntry,
  type ConsentLedgerClient,
  type SignedOperationInput,
  type WalletBindingView,
  type WalletSession,
} from "@datamarket/consent-ledger";
import type { AccessRequestResult, AccessRequestStatus, ApiError, GrantSummary, Me, SessionAnswer } from "../src/consent-client";

export interface ConsentApiOptions {
  /** the relay's client: the API's only ledger identity (role relay) */
  relay: ConsentLedgerClient;
  /** the consent ledger's channel: what wallets' signatures and sign-ins name */
  ledger: string;
  /** the portal's origin, for CORS (one origin; "*" only for tests) */
  allowOrigin: string;
  /** wall clock in ms (tests move it) */
  now?: () => number;
}

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long a sign-in nonce the API issued stays usable, seconds. */
export const NONCE_LIFETIME_SECONDS = 300;
/** Bounds on what the API keeps in memory: issued nonces and open sessions. */
const MAX_NONCES = 10_000;
const MAX_SESSIONS = 10_000;

/** Status of each ledger error code, for the API's answer; the ledger's own message is kept. */
const LEDGER_STATUS: Record<string, number> = {
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  WALLET_NOT_BOUND: 403,
  BAD_WALLET_SIGNATURE: 401,
  SIGNATURE_EXPIRED: 401,
  NONCE_USED: 409,
  INVALID_TRANSITION: 409,
  INVALID_ARGUMENT: 409,
  UNKNOWN_PURPOSE: 409,
  EMPTY_LIST: 409,
  BAD_JSON: 400,
  ALREADY_EXISTS: 409,
  TIMESTAMP_SKEW: 503,
};

function ledgerRefusal(error: unknown): ApiRefusal {
  if (error instanceof ApiRefusal) return error;
  if (error instanceof ConsentClientError) return new ApiRefusal(LEDGER_STATUS[error.code] ?? 502, error.code, error.message);
  return new ApiRefusal(500, "INTERNAL", (error as Error).message ?? String(error));
}

interface OpenSession {
  session: WalletSession;
  address: string;
  /** unix seconds */
  expiresAt: number;
}

const SUBJECT = "^[A-Za-z0-9._:-]{1,128}$";
const TX_ID = "^[0-9a-f]{64}$";

/** Builds the API (not listening). */
export function buildConsentApi(o: ConsentApiOptions): FastifyInstance {
  const now = () => Math.floor((o.now ?? Date.now)() / 1000);
  const nonces = new Map<string, number>();
  const sessions = new Map<string, OpenSession>();
  const forget = () => {
    const t = now();
    for (const [n, until] of nonces) if (until <= t) nonces.delete(n);
    for (const [token, s] of sessions) if (s.expiresAt <= t) sessions.delete(token);
  };
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addHook("onSend", async (_req, reply) => {
    reply.header("access-control-allow-origin", o.allowOrigin).header("vary", "origin").header("cache-control", "no-store");
  });
  app.options("/*", async (_req, reply) => {
    reply
      .header("access-control-allow-methods", "GET, POST")
      .header("access-control-allow-headers", "content-type, authorization")
      .header("access-control-max-age", "600")
      .code(204)
      .send();
  });
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const refusal =
      error instanceof ApiRefusal
        ? error
        : error.validation
          ? new ApiRefusal(400, "BAD_REQUEST", error.message)
          : new ApiRefusal(
              error.statusCode && error.statusCode < 500 ? error.statusCode : 500,
              error.statusCode && error.statusCode < 500 ? "BAD_REQUEST" : "INTERNAL",
              error.message,
            );
    const body: ApiError = { error: refusal.code, message: refusal.message };
    void reply.code(refusal.status).send(body);
  });
  const onLedger = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw ledgerRefusal(error);
    }
  };

  /** The open session the bearer token names; refused when absent or expired. */
  const sessionOf = (req: FastifyRequest): OpenSession => {
    const header = req.headers.authorization ?? "";
    const token = /^Bearer ([0-9a-f]{64})$/.exec(header)?.[1];
    if (!token) throw new ApiRefusal(401, "NOT_SIGNED_IN", "sign in with your wallet first (POST /v1/auth/session): the request carries no session");
    const s = sessions.get(token);
    if (!s || s.expiresAt <= now()) {
      sessions.delete(token);
      throw new ApiRefusal(401, "NOT_SIGNED_IN", "the session has expired or is unknown: sign in with your wallet again");
    }
    return s;
  };
  const bindingsOf = async (address: string): Promise<WalletBindingView[]> => (await onLedger(() => o.relay.listWalletBindings(address))).records;

  app.get("/v1/health", async () => ({ ok: true }));

  /** A fresh sign-in nonce and what the EIP-4361 message must name. */
  app.post("/v1/auth/nonce", async () => {
    forget();
    if (nonces.size >= MAX_NONCES) throw new ApiRefusal(503, "BUSY", "too many sign-ins are pending; try again in a few minutes");
    const nonce = randomBytes(12).toString("hex");
    nonces.set(nonce, now() + NONCE_LIFETIME_SECONDS);
    return { nonce, ledger: o.ledger, resource: ledgerResource(o.ledger), maxSessionSeconds: MAX_SESSION_SECONDS };
  });

  /**
   * Opens a session for reads from a signed EIP-4361 message: its nonce one this API issued (used once),
   * this ledger among its Resources, a signature of its address, at most MAX_SESSION_SECONDS long.
   */
  app.post<{ Body: WalletSession }>(
    "/v1/auth/session",
    {
      schema: {
        body: {
          type: "object",
          required: ["message", "signature"],
          additionalProperties: false,
          properties: { message: { type: "string", maxLength: 4096 }, signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" } },
        },
      },
    },
    async (req) => {
      forget();
      let m;
      try {
        m = parseSiweMessage(req.body.message);
      } catch (error) {
        throw new ApiRefusal(400, "BAD_SIGN_IN", `the sign-in is not an EIP-4361 message: ${(error as Error).message}`);
      }
      // the sign-in is for the portal this API serves: a wallet shows the domain and checks it against the page asking
      if (o.allowOrigin !== "*" && m.domain !== new URL(o.allowOrigin).host)
        throw new ApiRefusal(400, "BAD_SIGN_IN", `the sign-in is for ${m.domain}, not for the portal at ${new URL(o.allowOrigin).host}`);
      if (!nonces.has(m.nonce)) throw new ApiRefusal(401, "BAD_SIGN_IN", `nonce ${m.nonce} was not issued by this API or was already used: ask for a new one`);
      nonces.delete(m.nonce);
      if (!(m.resources ?? []).includes(ledgerResource(o.ledger)))
        throw new ApiRefusal(400, "BAD_SIGN_IN", `the sign-in must name ${ledgerResource(o.ledger)} among its Resources`);
      if (m.expirationTime === undefined) throw new ApiRefusal(400, "BAD_SIGN_IN", "the sign-in has no Expiration Time");
      const expiresAt = Math.floor(Date.parse(m.expirationTime) / 1000);
      const issuedAt = Math.floor(Date.parse(m.issuedAt) / 1000);
      if (expiresAt <= now()) throw new ApiRefusal(401, "BAD_SIGN_IN", `the sign-in expired at ${m.expirationTime}`);
      if (expiresAt - issuedAt > MAX_SESSION_SECONDS) throw new ApiRefusal(400, "BAD_SIGN_IN", `a session lasts at most ${MAX_SESSION_SECONDS} s`);
      const address = m.address.toLowerCase();
      let signer = "";
      try {
        signer = verifyMessage(req.body.message, req.body.signature).toLowerCase();
      } catch {
        // a malformed signature recovers to no address
      }
      if (signer !== address) throw new ApiRefusal(401, "BAD_SIGN_IN", `the sign-in's signature recovers to ${signer || "(no address)"}, not ${address}`);
      if (sessions.size >= MAX_SESSIONS) throw new ApiRefusal(503, "BUSY", "too many open sessions; try again in a few minutes");
      const token = randomBytes(32).toString("hex");
      sessions.set(token, { session: { message: req.body.message, signature: req.body.signature }, address, expiresAt });
      const answer: SessionAnswer = { token, expiresAt, ...(await me(address)) };
      return answer;
    },
  );

  const me = async (address: string): Promise<Me> => {
    const bindings = await bindingsOf(address);
    return {
      address,
      ledger: o.ledger,
      bindings: bindings.map((b) => ({ bindingId: b.bindingId, party: b.party, kind: b.kind, subjectId: b.subjectId })),
      subjects: bindings.flatMap((b) => (b.subjectId ? [b.subjectId] : [])).sort(),
    };
  };

  /** The signed-in wallet and the ledger parties it is bound to. */
  app.get("/v1/me", async (req) => me(sessionOf(req).address));

  const subjectParams = { type: "object", required: ["subjectId"], properties: { subjectId: { type: "string", pattern: SUBJECT } } } as const;
  const subjectRead = (query: string) => async (req: FastifyRequest<{ Params: { subjectId: string }; Querystring: { bookmark?: string } }>) => {
    const s = sessionOf(req);
    return onLedger(() => o.relay.readWithSession(s.session, `subject:${req.params.subjectId}`, query, { pageSize: 100, bookmark: req.query.bookmark ?? "" }));
  };
  app.get<{ Params: { subjectId: string }; Querystring: { bookmark?: string } }>(
    "/v1/subjects/:subjectId/consents",
    { schema: { params: subjectParams } },
    subjectRead("ListSubjectConsents"),
  );
  app.get<{ Params: { subjectId: string }; Querystring: { bookmark?: string } }>(
    "/v1/subjects/:subjectId/access",
    { schema: { params: subjectParams } },
    subjectRead("ListAccessBySubject"),
  );

  const operationSchema = {
    type: "object",
    required: ["address", "party", "operation", "arguments", "nonce", "expires", "signature"],
    additionalProperties: false,
    properties: {
      address: { type: "string", pattern: "^0x[0-9a-f]{40}$" },
      party: { type: "string", maxLength: 200 },
      operation: { type: "string", maxLength: 40 },
      arguments: { type: "object" },
      nonce: { type: "string", pattern: "^[0-9a-f]{32}$" },
      expires: { type: "integer", minimum: 0 },
      signature: { type: "string", pattern: "^0x[0-9a-fA-F]{130}$" },
    },
  } as const;

  /**
   * An operation a bound wallet signed, relayed to the ledger, which checks it: a subject's consent operation
   * (the answer is the consent record) or a custodian's resource registration (the resource record).
   */
  app.post<{ Body: SignedOperationInput }>("/v1/operations", { schema: { body: operationSchema } }, async (req) => {
    if (req.body.operation === "RequestAccess") throw new ApiRefusal(400, "BAD_REQUEST", "send an access request to POST /v1/access-requests");
    return onLedger(() => o.relay.submitSigned(req.body));
  });

  /** A buyer's access request its wallet signed (operation RequestAccess), decided on the ledger. */
  app.post<{ Body: SignedOperationInput }>("/v1/access-requests", { schema: { body: operationSchema } }, async (req) => {
    if (req.body.operation !== "RequestAccess") throw new ApiRefusal(400, "BAD_REQUEST", `operation ${req.body.operation} is not an access request`);
    return accessRequestResult(await onLedger(() => o.relay.submitSigned<AccessDecision>(req.body)));
  });

  /** One of the signed-in buyer's requests, with its grant's status now. */
  app.get<{ Params: { requestId: string }; Querystring: { party?: string } }>(
    "/v1/access-requests/:requestId",
    { schema: { params: { type: "object", required: ["requestId"], properties: { requestId: { type: "string", pattern: TX_ID } } } } },
    async (req) => {
      const s = sessionOf(req);
      const buyers = (await bindingsOf(s.address)).filter((b) => b.kind === "buyer");
      if (buyers.length === 0) throw new ApiRefusal(403, "WALLET_NOT_BOUND", `wallet ${s.address} is bound to no buyer on the consent ledger`);
      const party = req.query.party ?? buyers[0].party;
      return onLedger(async () => {
        const entry = await o.relay.readWithSession<AccessLogEntry>(s.session, party, "GetAccessRequest", { requestId: req.params.requestId });
        const grant = entry.grantId ? grantSummary(await o.relay.readWithSession<AccessGrant>(s.session, party, "GetGrant", { grantId: entry.grantId })) : null;
        const status: AccessRequestStatus = {
          requestId: entry.txId,
          decision: entry.decision,
          reasons: entry.reasons,
          productId: entry.productId ?? "",
          resourceId: entry.resourceId,
          purpose: entry.purpose,
          subjectsTotal: entry.subjectsTotal ?? 0,
          subjectsReleased: entry.subjectsApproved ?? 0,
          decidedAt: entry.timestamp,
          grant,
        };
        return status;
      });
    },
  );
  return app;
}

export function grantSummary(g: AccessGrant): GrantSummary {
  return {
    grantId: g.grantId,
    buyer: g.buyer,
    productId: g.productId,
    resourceId: g.resourceId,
    purpose: g.purpose,
    purposeId: g.purposeId,
    issuedAt: g.issuedAt,
    expiresAt: g.expiresAt,
    subjectCount: g.subjectCount,
    attestationStructHash: g.attestationStructHash,
    status: g.status,
    invalidatedAt: g.invalidatedAt,
    invalidatedBy: g.invalidatedBy,
  };
}

/** The ledger's decision as the API answers it: released subjects by id, left-out subjects counted by reason. */
export function accessRequestResult(d: AccessDecision): AccessRequestResult {
  return {
    requestId: d.txId,
    decision: d.decision as "approved" | "denied",
    reasons: d.reasons,
    productId: d.productId,
    resourceId: d.resourceId,
    purpose: d.purpose,
    subjectsTotal: d.subjectsTotal,
    releasedSubjects: d.approvedSubjects,
    leftOut: Object.entries(d.deniedByReason)
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => a.reason.localeCompare(b.reason)),
    grantId: d.grant?.grantId ?? null,
    grant: d.grant ? grantSummary(d.grant) : null,
    decidedAt: d.decidedAt,
  };
}

/** Starts the API on 127.0.0.1 (port 0 unless given); returns its URL and a stop function. */
export async function startConsentApi(o: ConsentApiOptions & { port?: number }): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  const app = buildConsentApi(o);
  const url = await app.listen({ host: "127.0.0.1", port: o.port ?? 0 });
  return { url, app, close: () => app.close() };
}
