// The onboarding verifier service (fastify), shaped as an OpenID4VP 1.0 relying party with
// response_mode direct_post:
//   POST /onboarding/requests   {"profile"}            -> 201 the authorization request: client_id,
//        nonce, state, response_uri, dcql_query (one SD-JWT VC query with the claims the profile needs)
//   POST /onboarding/responses  {"state", "vp_token"}  -> 200 the enrolment (JSON or form-urlencoded,
//        vp_token = {"<query id>": ["<presentation>"]})
//   GET  /health
// and createStatusListService: an issuer's status lists over HTTP.
// Refusals answer { code, message, details } with httpStatusOf(code). Pending requests are bounded and
// expire; each nonce is single use. Enrolments are tracked by the status monitor when one is given.
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { IdentityError, httpStatusOf } from "./errors";
import { planEnrolment, type Enrolment, type LedgerEnroller, type OnboardingProfile } from "./enrolment";
import type { CredentialIssuer } from "./issuer";
import { STATUS_LIST_MEDIA_TYPE } from "./status-list";
import type { CredentialStatusMonitor } from "./status-monitor";
import type { PresentationVerifier } from "./verifier";

/** The id of the single credential query of an onboarding request. */
export const CREDENTIAL_QUERY_ID = "credential";

export interface VerifierServiceOptions {
  verifier: PresentationVerifier;
  profiles: Record<string, OnboardingProfile>;
  enroller: LedgerEnroller;
  /** tracks every enrolment's credential for the periodic status check */
  monitor?: CredentialStatusMonitor;
  /** public URL of POST /onboarding/responses, sent as response_uri */
  responseUri: string;
  /** lifetime of a request (and its nonce), seconds (default 300) */
  requestTtlSeconds?: number;
  /** most requests pending at once (default 10,000) */
  maxPendingRequests?: number;
  /** ms clock (default Date.now) */
  clock?: () => number;
  /** fastify logger option (default false) */
  logger?: FastifyServerOptions["logger"];
  /** called after each enrolment (e.g. to record the credential reference on the ledger) */
  onEnrolled?: (enrolment: Enrolment) => void | Promise<void>;
}

interface PendingRequest {
  profile: OnboardingProfile;
  nonce: string;
  /** ms */
  expiresAt: number;
}

/** The DCQL query (OpenID4VP 1.0 §6) for a profile: one SD-JWT VC of the accepted types, with the claims it needs. */
export function dcqlQueryFor(profile: OnboardingProfile): Record<string, unknown> {
  return {
    credentials: [
      {
        id: CREDENTIAL_QUERY_ID,
        format: "dc+sd-jwt",
        meta: { vct_values: [...profile.credentialTypes] },
        claims: [...profile.requiredClaims, ...profile.optionalClaims].map((name) => ({ id: name, path: [name] })),
        // preferred first: everything the profile can use, then what it needs
        claim_sets: profile.optionalClaims.length
          ? [[...profile.requiredClaims, ...profile.optionalClaims], [...profile.requiredClaims]]
          : [[...profile.requiredClaims]],
      },
    ],
  };
}

function badRequest(message: string): IdentityError {
  return new IdentityError("BAD_REQUEST", message);
}

/** The presentation inside a vp_token: an object (or its JSON) with one presentation under the query id. */
function presentationOf(vpToken: unknown): string {
  let token = vpToken;
  if (typeof token === "string") {
    try {
      token = JSON.parse(token);
    } catch {
      throw badRequest("vp_token must be a JSON object");
    }
  }
  const entries = (token as Record<string, unknown> | null)?.[CREDENTIAL_QUERY_ID];
  if (!Array.isArray(entries) || entries.length !== 1 || typeof entries[0] !== "string") {
    throw badRequest(`vp_token must be {"${CREDENTIAL_QUERY_ID}": ["<presentation>"]}`);
  }
  return entries[0];
}

export function createVerifierService(options: VerifierServiceOptions): FastifyInstance {
  const clock = options.clock ?? Date.now;
  const ttlSeconds = options.requestTtlSeconds ?? 300;
  const maxPending = options.maxPendingRequests ?? 10_000;
  const pending = new Map<string, PendingRequest>();
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 128 * 1024 });

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof IdentityError) {
      request.log.info({ code: error.code }, "refused");
      return reply.status(httpStatusOf(error.code)).send(error.toJSON());
    }
    const statusCode = (error as { statusCode?: number }).statusCode;
    if (statusCode && statusCode < 500) return reply.status(statusCode).send({ code: "BAD_REQUEST", message: (error as Error).message, details: {} });
    request.log.error(error);
    return reply.status(500).send({ code: "INTERNAL", message: "internal error", details: {} });
  });

  // requests expire in insertion order (one lifetime for all): drop from the oldest until a live one
  const prune = () => {
    const now = clock();
    for (const [state, request] of pending) {
      if (request.expiresAt > now) break;
      pending.delete(state);
    }
  };

  app.get("/health", async () => ({ ok: true, pendingRequests: pending.size }));

  app.post("/onboarding/requests", async (request, reply) => {
    const name = (request.body as { profile?: unknown } | null)?.profile;
    const profile = typeof name === "string" && Object.prototype.hasOwnProperty.call(options.profiles, name) ? options.profiles[name] : undefined;
    if (!profile) throw badRequest(`profile must be one of ${Object.keys(options.profiles).join(", ")}`);
    prune();
    if (pending.size >= maxPending) throw new IdentityError("TOO_MANY_PENDING", `${maxPending} onboarding requests are pending`);
    const nonce = options.verifier.nonces.issue(ttlSeconds);
    const state = randomBytes(16).toString("hex");
    const expiresAt = clock() + ttlSeconds * 1000;
    pending.set(state, { profile, nonce, expiresAt });
    return reply.status(201).send({
      client_id: options.verifier.audience,
      response_type: "vp_token",
      response_mode: "direct_post",
      response_uri: options.responseUri,
      nonce,
      state,
      dcql_query: dcqlQueryFor(profile),
      expires_at: Math.floor(expiresAt / 1000),
    });
  });

  app.post("/onboarding/responses", async (request) => {
    const body = (request.body ?? {}) as { state?: unknown; vp_token?: unknown };
    if (typeof body.state !== "string") throw badRequest("state is required");
    const entry = pending.get(body.state);
    if (!entry || entry.expiresAt <= clock()) throw new IdentityError("UNKNOWN_REQUEST", "no pending onboarding request has this state (unknown or expired)");
    const presentation = presentationOf(body.vp_token);
    const { profile, nonce } = entry;
    // the verifier consumes the nonce: a second response to this state is a replay
    const verified = await options.verifier.verify(presentation, {
      credentialTypes: profile.credentialTypes,
      requiredClaims: profile.requiredClaims,
      optionalClaims: profile.optionalClaims,
      nonce,
    });
    const enrolment = await options.enroller.enrol(planEnrolment(profile, verified));
    options.monitor?.track({ credential: enrolment.credential, enrollmentId: enrolment.enrollmentId, mspId: enrolment.mspId });
    await options.onEnrolled?.(enrolment);
    request.log.info({ enrollmentId: enrolment.enrollmentId, mspId: enrolment.mspId, issuer: verified.issuer }, "enrolled");
    return { enrolment };
  });

  return app;
}

/**
 * An issuer's publication of its status lists: GET <path of a list's uri> answers the current signed
 * token as application/statuslist+jwt (the Token Status List's §8.1). `issuers` is read at each
 * request, so issuers may be added after the server listens (their URIs need its port).
 */
export function createStatusListService(
  issuers: readonly CredentialIssuer[],
  options: { logger?: FastifyServerOptions["logger"]; ttlSeconds?: number } = {},
): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false });
  app.get("/*", async (request, reply) => {
    const path = request.url.split("?")[0];
    const issuer = issuers.find((candidate) => new URL(candidate.statusList.uri).pathname === path);
    if (!issuer) return reply.status(404).send({ code: "NOT_FOUND", message: `no status list at ${path}`, details: {} });
    const token = await issuer.statusListToken({ ttlSeconds: options.ttlSeconds });
    return reply
      .header("content-type", STATUS_LIST_MEDIA_TYPE)
      .header("cache-control", `max-age=${options.ttlSeconds ?? 300}`)
      .send(token);
  });
  return app;
}
