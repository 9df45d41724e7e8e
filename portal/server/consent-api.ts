// The consent API: HTTP in front of the consent ledger for the portal's Consent page (docs/portal.md).
// It acts for a data subject only on a request that the subject's wallet signed (personal_sign over
// the exact request: src/signed-request.ts) and only under the ledger identity whose certificate binds
// that wallet (the `consent.ethAddress` attribute the custodian's CA wrote, the chaincode's
// certificate address proof). Every refusal names what was wrong. Trust model: docs/threat-model.md.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { verifyMessage } from "ethers";
import { ConsentClientError, type AccessDecision, type AccessGrant, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { MAX_REQUEST_LIFETIME_SECONDS, SIGNED_HEADERS, bodyHash, signedRequestText, type ApiError } from "../src/signed-request";
import type { AccessRequestBody, AccessRequestResult, AccessRequestStatus, GrantSummary } from "../src/consent-client";

/** A subject's ledger identity as the API holds it: the client acting as that identity and the wallet its certificate names. */
export interface SubjectIdentity {
  subjectId: string;
  /** lowercase 0x address from the certificate's consent.ethAddress attribute */
  address: string;
  client: ConsentLedgerClient;
}

/** What an enrolled identity exposes (EnrolledIdentity of @datamarket/consent-ledger's fabric layer). */
export interface IdentityCertificate {
  attributes: Record<string, string>;
}

/**
 * The binding of a subject identity to a wallet, read from its certificate: role subject, the subject's
 * pseudonymous id and the wallet address the custodian's CA put there. Anything else is refused.
 */
export function subjectIdentity(certificate: IdentityCertificate, client: ConsentLedgerClient): SubjectIdentity {
  const a = certificate.attributes;
  if (a["consent.role"] !== "subject") throw new Error(`identity has role ${a["consent.role"] ?? "(none)"}, not subject`);
  const subjectId = a["consent.subject"];
  if (!subjectId) throw new Error("identity has no consent.subject attribute");
  const address = (a["consent.ethAddress"] ?? "").toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(address)) throw new Error(`identity of ${subjectId} binds no wallet (consent.ethAddress "${address}")`);
  return { subjectId, address, client };
}

/** A buyer's ledger identity as the API holds it: the client acting as that identity and the wallet its certificate names. */
export interface BuyerIdentity {
  /** lowercase 0x address from the certificate's consent.ethAddress attribute: the address its grants name */
  address: string;
  client: ConsentLedgerClient;
}

/** The binding of a buyer identity to a wallet, read from its certificate (role buyer, consent.ethAddress). */
export function buyerIdentity(certificate: IdentityCertificate, client: ConsentLedgerClient): BuyerIdentity {
  const a = certificate.attributes;
  if (a["consent.role"] !== "buyer") throw new Error(`identity has role ${a["consent.role"] ?? "(none)"}, not buyer`);
  const address = (a["consent.ethAddress"] ?? "").toLowerCase();
  if (!/^0x[0-9a-f]{40}$/.test(address)) throw new Error(`buyer identity binds no wallet (consent.ethAddress "${address}")`);
  return { address, client };
}

export interface ConsentApiOptions {
  identities: SubjectIdentity[];
  /** buyers' identities, by the wallet their certificate names */
  buyers?: BuyerIdentity[];
  /** the portal's origin, for CORS (one origin; "*" only for tests) */
  allowOrigin: string;
  /** wall clock in ms (tests move it) */
  now?: () => number;
  /** this API's origin as clients reach it (scheme://host:port), part of every signed text; startConsentApi sets it to the bound address */
  origin: () => string;
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

/** The request's signature checked, in this order: complete, not expired, signer recovered, bound identity, nonce unused. */
export class SignedRequestVerifier {
  private readonly bySubject = new Map<string, SubjectIdentity>();
  /** nonce -> expiry (s): kept until the request it came with expires, then no longer needed */
  private readonly used = new Map<string, number>();

  constructor(
    identities: SubjectIdentity[],
    private readonly now: () => number,
    private readonly origin: () => string,
  ) {
    for (const identity of identities) this.bySubject.set(identity.subjectId, identity);
  }

  subjectsOf(address: string): string[] {
    return [...this.bySubject.values()]
      .filter((i) => i.address === address)
      .map((i) => i.subjectId)
      .sort();
  }

  /** Returns the signer's address and, when the request names a subject, its identity. */
  async verify(r: {
    method: string;
    path: string;
    subjectId: string;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }): Promise<{ address: string; identity?: SubjectIdentity }> {
    const header = (name: string) => {
      const value = r.headers[name];
      if (typeof value !== "string" || value === "")
        throw new ApiRefusal(401, "UNSIGNED", `the request has no ${name} header: sign it with the subject's wallet`);
      return value;
    };
    const address = header(SIGNED_HEADERS.address).toLowerCase();
    const nonce = header(SIGNED_HEADERS.nonce);
    const expiresText = header(SIGNED_HEADERS.expires);
    const signature = header(SIGNED_HEADERS.signature);
    if (!/^0x[0-9a-f]{40}$/.test(address)) throw new ApiRefusal(400, "BAD_REQUEST", `${SIGNED_HEADERS.address} "${address.slice(0, 50)}" is not a 0x address`);
    if (!/^[0-9a-f]{32}$/.test(nonce)) throw new ApiRefusal(400, "BAD_REQUEST", `${SIGNED_HEADERS.nonce} must be 32 lowercase hex characters`);
    if (!/^[0-9]{1,12}$/.test(expiresText)) throw new ApiRefusal(400, "BAD_REQUEST", `${SIGNED_HEADERS.expires} must be unix seconds`);
    const expires = Number(expiresText);
    const now = Math.floor(this.now() / 1000);
    if (expires <= now) throw new ApiRefusal(401, "EXPIRED", `the request expired at ${expires}, it is now ${now}: sign it again`);
    if (expires > now + MAX_REQUEST_LIFETIME_SECONDS)
      throw new ApiRefusal(401, "EXPIRY_TOO_FAR", `the request expires at ${expires}, more than ${MAX_REQUEST_LIFETIME_SECONDS} s from now (${now})`);
    const text = signedRequestText({
      api: this.origin(),
      method: r.method,
      path: r.path,
      subjectId: r.subjectId,
      address,
      nonce,
      expires,
      bodyHash: await bodyHash(r.body),
    });
    let signer: string;
    try {
      signer = verifyMessage(text, signature).toLowerCase();
    } catch {
      throw new ApiRefusal(401, "BAD_SIGNATURE", `${SIGNED_HEADERS.signature} is not a valid 65-byte personal_sign signature`);
    }
    if (signer !== address) throw new ApiRefusal(401, "WRONG_SIGNER", `the signature over this request recovers to ${signer}, not ${address}`);
    let identity: SubjectIdentity | undefined;
    if (r.subjectId !== "") {
      identity = this.bySubject.get(r.subjectId);
      // an unknown subject and another person's subject get the same answer: the API does not say which pseudonyms exist
      if (identity === undefined || identity.address !== address) {
        throw new ApiRefusal(403, "FOREIGN_IDENTITY", `subject ${r.subjectId} is not bound to ${address} on the consent ledger`);
      }
    }
    for (const [n, until] of this.used) if (until < now) this.used.delete(n);
    if (this.used.has(nonce)) throw new ApiRefusal(401, "REPLAYED", `nonce ${nonce} was already used: a signed request is accepted once`);
    this.used.set(nonce, expires);
    return { address, identity };
  }
}

/** Ledger errors in words, with a status: the chaincode's own message names what was wrong. */
function ledgerRefusal(error: unknown): ApiRefusal {
  if (error instanceof ApiRefusal) return error;
  if (error instanceof ConsentClientError) {
    const status =
      error.code === "NOT_FOUND"
        ? 404
        : error.code === "FORBIDDEN"
          ? 403
          : error.code === "INVALID_TRANSITION" || error.code === "INVALID_ARGUMENT"
            ? 409
            : 502;
    return new ApiRefusal(status, error.code, error.message);
  }
  return new ApiRefusal(500, "INTERNAL", (error as Error).message ?? String(error));
}

const SUBJECT = "^[A-Za-z0-9._:-]{1,128}$";
const BYTES32 = "^0x[0-9a-fA-F]{64}$";

/** Builds the API (not listening). Routes: docs/portal.md §Consent API. */
export function buildConsentApi(o: ConsentApiOptions): FastifyInstance {
  const verifier = new SignedRequestVerifier(o.identities, o.now ?? Date.now, o.origin);
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  // keep the body as sent: its hash is part of what the wallet signed
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addHook("onSend", async (_req, reply) => {
    reply.header("access-control-allow-origin", o.allowOrigin).header("vary", "origin").header("cache-control", "no-store");
  });
  app.options("/*", async (_req, reply) => {
    reply
      .header("access-control-allow-methods", "GET, POST")
      .header("access-control-allow-headers", ["content-type", ...Object.values(SIGNED_HEADERS)].join(", "))
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
          : new ApiRefusal(error.statusCode && error.statusCode < 500 ? error.statusCode : 500, "INTERNAL", error.message);
    const body: ApiError = { error: refusal.code, message: refusal.message };
    void reply.code(refusal.status).send(body);
  });

  const signed = async (req: FastifyRequest, subjectId: string) =>
    verifier.verify({ method: req.method, path: req.url, subjectId, headers: req.headers, body: typeof req.body === "string" ? req.body : "" });
  const onLedger = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw ledgerRefusal(error);
    }
  };
  const subjectParams = { type: "object", required: ["subjectId"], properties: { subjectId: { type: "string", pattern: SUBJECT } } } as const;

  app.get("/v1/health", async () => ({ ok: true }));

  /** The subjects bound to the signing wallet (signed with subject ""). */
  app.get("/v1/me", async (req) => {
    const { address } = await signed(req, "");
    return { address, subjects: verifier.subjectsOf(address) };
  });

  app.get<{ Params: { subjectId: string }; Querystring: { bookmark?: string } }>(
    "/v1/subjects/:subjectId/consents",
    { schema: { params: subjectParams } },
    async (req) => {
      const { identity } = await signed(req, req.params.subjectId);
      return onLedger(() => identity!.client.listSubjectConsents(identity!.subjectId, 100, req.query.bookmark ?? ""));
    },
  );

  app.get<{ Params: { subjectId: string }; Querystring: { bookmark?: string } }>(
    "/v1/subjects/:subjectId/access",
    { schema: { params: subjectParams } },
    async (req) => {
      const { identity } = await signed(req, req.params.subjectId);
      return onLedger(() => identity!.client.listAccessBySubject(identity!.subjectId, 100, req.query.bookmark ?? ""));
    },
  );

  app.post<{ Params: { subjectId: string; consentId: string } }>(
    "/v1/subjects/:subjectId/consents/:consentId/withdraw",
    {
      schema: {
        params: {
          type: "object",
          required: ["subjectId", "consentId"],
          properties: { subjectId: { type: "string", pattern: SUBJECT }, consentId: { type: "string", pattern: BYTES32 } },
        },
      },
    },
    async (req) => {
      const { identity } = await signed(req, req.params.subjectId);
      const consentId = req.params.consentId.toLowerCase();
      return onLedger(async () => {
        const record = await identity!.client.getConsent(consentId);
        if (record.subjectId !== identity!.subjectId)
          throw new ApiRefusal(403, "FOREIGN_IDENTITY", `consent ${consentId} is not a consent of subject ${identity!.subjectId}`);
        return identity!.client.withdrawConsent(consentId);
      });
    },
  );

  const buyers = new Map((o.buyers ?? []).map((b) => [b.address, b]));
  const buyerOf = (address: string): BuyerIdentity => {
    const buyer = buyers.get(address);
    if (!buyer) throw new ApiRefusal(403, "FOREIGN_IDENTITY", `wallet ${address} is bound to no buyer on the consent ledger`);
    return buyer;
  };

  /** A buyer's access request, decided on the ledger (signed with subject ""). */
  app.post("/v1/access-requests", async (req) => {
    const { address } = await signed(req, "");
    const body = parseAccessRequestBody(typeof req.body === "string" ? req.body : "");
    const buyer = buyerOf(address);
    const decision = await onLedger(() =>
      buyer.client.requestAccess({
        productId: body.productId,
        resourceId: body.resourceId,
        purpose: body.purpose,
        ttlSeconds: body.ttlSeconds,
        ethAddress: address,
      }),
    );
    return accessRequestResult(decision);
  });

  /** The decision of one of the signer's requests, with its grant's status as of now. */
  app.get<{ Params: { requestId: string } }>(
    "/v1/access-requests/:requestId",
    { schema: { params: { type: "object", required: ["requestId"], properties: { requestId: { type: "string", pattern: TX_ID } } } } },
    async (req) => {
      const { address } = await signed(req, "");
      const buyer = buyerOf(address);
      return onLedger(async () => {
        let bookmark = "";
        for (let pages = 0; pages < MAX_LOG_PAGES; pages++) {
          const page = await buyer.client.listAccessByBuyer("", 100, bookmark);
          const entry = page.records.find((r) => r.txId === req.params.requestId);
          if (entry) {
            const grant = entry.grantId ? grantSummary(await buyer.client.getGrant(entry.grantId)) : null;
            const status: AccessRequestStatus = {
              requestId: entry.txId,
              decision: entry.decision as "approved" | "denied",
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
          }
          if (page.bookmark === "") break;
          bookmark = page.bookmark;
        }
        throw new ApiRefusal(404, "NOT_FOUND", `no access request ${req.params.requestId} of wallet ${address} on the consent ledger`);
      });
    },
  );
  return app;
}

/** Fabric transaction ids: 64 lowercase hex characters. */
const TX_ID = "^[0-9a-f]{64}$";
/** How many pages of a buyer's log GET /v1/access-requests/:id reads at most. */
const MAX_LOG_PAGES = 50;

/** The body of POST /v1/access-requests, checked: the ledger checks the values, this only their shape. */
export function parseAccessRequestBody(text: string): AccessRequestBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiRefusal(400, "BAD_REQUEST", 'the body is not JSON: send {"productId", "purpose"}');
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiRefusal(400, "BAD_REQUEST", "the body must be a JSON object");
  const b = body as Record<string, unknown>;
  for (const name of Object.keys(b)) {
    if (!["productId", "resourceId", "purpose", "ttlSeconds"].includes(name))
      throw new ApiRefusal(400, "BAD_REQUEST", `unknown field "${name.slice(0, 40)}" in the body`);
  }
  const id = (name: "productId" | "resourceId") => {
    const value = b[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !new RegExp(BYTES32).test(value)) throw new ApiRefusal(400, "BAD_REQUEST", `${name} must be a 0x bytes32`);
    return value.toLowerCase();
  };
  const productId = id("productId");
  const resourceId = id("resourceId");
  if (productId === undefined && resourceId === undefined) throw new ApiRefusal(400, "BAD_REQUEST", "the body names no productId or resourceId");
  if (typeof b.purpose !== "string" || b.purpose === "") throw new ApiRefusal(400, "BAD_REQUEST", "the body names no purpose");
  if (b.ttlSeconds !== undefined && (typeof b.ttlSeconds !== "number" || !Number.isSafeInteger(b.ttlSeconds)))
    throw new ApiRefusal(400, "BAD_REQUEST", "ttlSeconds must be a whole number of seconds");
  return { productId, resourceId, purpose: b.purpose, ttlSeconds: b.ttlSeconds as number | undefined };
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
export async function startConsentApi(
  o: Omit<ConsentApiOptions, "origin"> & { port?: number; origin?: string },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  let origin = o.origin ?? "";
  const app = buildConsentApi({ ...o, origin: () => origin });
  const address = await app.listen({ host: "127.0.0.1", port: o.port ?? 0 });
  // served behind a proxy, the origin clients see is the configured one; otherwise the bound address
  origin ||= new URL(address).origin;
  return { url: address, app, close: () => app.close() };
}
