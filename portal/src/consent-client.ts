// The browser's client of the consent API. Reads ride on a sign-in (EIP-4361) the wallet signs once per
// session; each ledger-changing operation is signed by the wallet over the ledger's own text just before
// it is sent (src/signed-request.ts), and the ledger checks it. A refusal comes back as an error in words.
import type { Wallet } from "./wallet";

/** The API's error body: a stable code and a sentence that says what was wrong. */
export interface ApiError {
  error: string;
  message: string;
}

/** A ledger party a wallet is bound to. */
export interface BindingSummary {
  bindingId: string;
  /** "subject:<id>", "buyer:<identity key>" or "custodian:<identity key>" */
  party: string;
  kind: "subject" | "buyer" | "custodian";
  subjectId: string | null;
}

/** A stream or dataset as the consent ledger registers it (chaincode ResourceRecord). */
export interface ResourceRecord {
  resourceId: string;
  kind: "stream" | "dataset";
  controllerMsp: string;
  productIds: string[];
  subjectCount: number;
  createdAt: number;
}

/** GET /v1/me: the signed-in wallet, the ledger, and the parties the wallet is bound to. */
export interface Me {
  address: string;
  /** the consent ledger's channel, which signed operations name */
  ledger: string;
  bindings: BindingSummary[];
  /** the subjects among the bindings, sorted */
  subjects: string[];
}

/** POST /v1/auth/session: the session's bearer token, its end (unix seconds) and /v1/me. */
export interface SessionAnswer extends Me {
  token: string;
  expiresAt: number;
}

/** The terms of a new consent (GiveConsent): the ledger validates each against its vocabulary. */
export interface ConsentTerms {
  subjectId: string;
  controller: string;
  resources: string[];
  purposes: string[];
  dataCategories: string[];
  buyerTypes: string[];
  jurisdictions: string[];
  legalBasis: "A6-1-a" | "A9-2-a";
  validUntil: number;
  noticeHash: string;
}

/** What a narrowing keeps: each list only drops entries, validUntil only comes earlier; omitted fields stay. */
export interface Narrowing {
  resources?: string[];
  purposes?: string[];
  dataCategories?: string[];
  buyerTypes?: string[];
  jurisdictions?: string[];
  validUntil?: number;
}

export interface DataCategory {
  category: string;
  specialCategory: boolean;
}
export interface ConsentRecord {
  consentId: string;
  version: number;
  subjectId: string;
  controller: string;
  resources: string[];
  purposes: string[];
  dataCategories: DataCategory[];
  buyerTypes: string[];
  jurisdictions: string[];
  legalBasis: string;
  validFrom: number;
  validUntil: number;
  status: string;
  updatedAt: number;
}
export interface AccessLogEntry {
  txId: string;
  timestamp: number;
  buyerMsp?: string;
  buyerKey: string;
  resourceId: string;
  productId?: string;
  purpose: string;
  decision: string;
  reasons: string[];
  grantId: string;
}
export interface Page<T> {
  records: T[];
  bookmark: string;
}

/** The body of POST /v1/access-requests: what the buyer asks for and why. The grant names the signing wallet. */
export interface AccessRequestBody {
  /** the market product (bytes32) whose resource is requested; or name the resource itself */
  productId?: string;
  /** the resource (stream or dataset id, bytes32); with productId, it must be the one the product licenses */
  resourceId?: string;
  /** the DPV purpose name, e.g. "ScientificResearch" */
  purpose: string;
  /** the grant's lifetime asked for, seconds (1..2592000; default 3600); the consents' ends bound it */
  ttlSeconds?: number;
}

/** An access grant as the API shows it; status is as of the read: "Open", "Invalidated" or "Expired". */
export interface GrantSummary {
  grantId: string;
  /** the buyer's wallet, which the market's attestation names */
  buyer: string;
  productId: string;
  resourceId: string;
  purpose: string;
  /** keccak256 of the purpose name: the bytes32 the market checks */
  purposeId: string;
  issuedAt: number;
  /** unix seconds: the grant and its attestation are invalid from this second on */
  expiresAt: number;
  subjectCount: number;
  /** EIP-712 struct hash of the ConsentAttestation the attestors sign */
  attestationStructHash: string;
  status: string;
  /** when a change (a withdrawal, say) voided it; 0 while open */
  invalidatedAt: number;
  /** what voided it (e.g. "ConsentWithdrawn"); "" while open */
  invalidatedBy: string;
}

/** The ledger's decision on an access request, as POST /v1/access-requests answers it. */
export interface AccessRequestResult {
  /** the ledger transaction that decided it: GET /v1/access-requests/:requestId */
  requestId: string;
  decision: "approved" | "denied";
  /** why the request was denied (DenialReason names, sorted); [] when approved */
  reasons: string[];
  productId: string;
  resourceId: string;
  purpose: string;
  /** the data subjects the resource holds */
  subjectsTotal: number;
  /** the subjects whose records are released under the grant (pseudonymous ids, sorted) */
  releasedSubjects: string[];
  /** the subjects left out, counted by reason (the ledger does not tell a buyer who refused) */
  leftOut: Array<{ reason: string; count: number }>;
  /** the grant written on approval; null when denied */
  grantId: string | null;
  grant: GrantSummary | null;
  decidedAt: number;
}

/** A past decision as GET /v1/access-requests/:requestId answers it, with its grant's status now. */
export interface AccessRequestStatus {
  requestId: string;
  decision: "approved" | "denied";
  reasons: string[];
  productId: string;
  resourceId: string;
  purpose: string;
  subjectsTotal: number;
  subjectsReleased: number;
  decidedAt: number;
  grant: GrantSummary | null;
}

export class ConsentApiClient {
  private session: SessionAnswer | null = null;

  constructor(
    private readonly baseUrl: string,
    private readonly wallet: Wallet,
    /** the deployment's chain id, named in the sign-in */
    private readonly chainId = 0,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, body?: unknown, token?: string): Promise<T> {
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json().catch(() => ({ error: "BAD_RESPONSE", message: `HTTP ${response.status} without a JSON body` }))) as T | ApiError;
    if (!response.ok) {
      const e = answer as ApiError;
      if (e.error === "NOT_SIGNED_IN") this.session = null;
      // the ledger's messages start with their code: say it once
      const detail = e.message.startsWith(`${e.error}: `) ? e.message.slice(e.error.length + 2) : e.message;
      throw new Error(`the consent API refused (${e.error}): ${detail}`);
    }
    return answer as T;
  }

  /** Signs in (EIP-4361) with the connected wallet: one signature opens a session for reads. */
  async signIn(lifetimeSeconds = 900): Promise<Me> {
    const address = this.wallet.address;
    if (!address) throw new Error("connect a wallet first");
    // loaded on first use: pages that never sign in (Discover, Audit) do not ship the EIP-4361 code
    const { signInMessage } = await import("./siwe");
    const issued = await this.call<{ nonce: string; resource: string; maxSessionSeconds: number }>("POST", "/v1/auth/nonce", {});
    const message = signInMessage({
      domain: location.host,
      uri: `${location.origin}/`,
      address,
      chainId: this.chainId,
      nonce: issued.nonce,
      statement: "Sign in to read my consents, my access log and my access requests on the consent ledger.",
      resources: [issued.resource],
      lifetimeSeconds: Math.min(lifetimeSeconds, issued.maxSessionSeconds),
    });
    const signature = await this.wallet.signText(message);
    this.session = await this.call<SessionAnswer>("POST", "/v1/auth/session", { message, signature });
    return this.session;
  }

  /** The open session of the connected wallet, signing in when there is none (or it is about to end). */
  private async signedIn(): Promise<SessionAnswer> {
    const s = this.session;
    if (!s || s.address !== this.wallet.address || s.expiresAt - 30 <= Date.now() / 1000) await this.signIn();
    return this.session!;
  }

  private async read<T>(path: string): Promise<T> {
    return this.call<T>("GET", path, undefined, (await this.signedIn()).token);
  }

  me(): Promise<Me> {
    return this.read("/v1/me");
  }

  consents(subjectId: string): Promise<Page<ConsentRecord>> {
    return this.read(`/v1/subjects/${encodeURIComponent(subjectId)}/consents`);
  }

  accessLog(subjectId: string): Promise<Page<AccessLogEntry>> {
    return this.read(`/v1/subjects/${encodeURIComponent(subjectId)}/access`);
  }

  /** Has the wallet sign `operation` for the party it is bound to and sends it; the ledger checks it. */
  private async operate<T>(path: string, kind: BindingSummary["kind"], subjectId: string | null, operation: string, args: Record<string, unknown>): Promise<T> {
    const s = await this.signedIn();
    const binding = s.bindings.find((b) => b.kind === kind && (subjectId === null || b.subjectId === subjectId));
    if (!binding)
      throw new Error(
        kind === "subject"
          ? `this wallet is not bound to subject ${subjectId} on the consent ledger`
          : `this wallet is bound to no ${kind} identity on the consent ledger`,
      );
    const { signOperation } = await import("./signed-request");
    const body = await signOperation((text) => this.wallet.signText(text), {
      ledger: s.ledger,
      bindingId: binding.bindingId,
      address: s.address,
      party: binding.party,
      operation,
      args,
    });
    return this.call<T>("POST", path, body);
  }

  withdraw(subjectId: string, consentId: string): Promise<ConsentRecord> {
    return this.operate("/v1/operations", "subject", subjectId, "WithdrawConsent", { consentId });
  }

  /** Narrows a consent: drops purposes, kinds of recipients, places, data or resources, or ends it earlier. */
  narrow(subjectId: string, consentId: string, narrowing: Narrowing): Promise<ConsentRecord> {
    return this.operate("/v1/operations", "subject", subjectId, "NarrowConsent", { consentId, ...narrowing });
  }

  /** Gives consent: new terms, or `{consentId}` of a request the custodian made. */
  give(subjectId: string, terms: ConsentTerms | { consentId: string }): Promise<ConsentRecord> {
    return this.operate("/v1/operations", "subject", subjectId, "GiveConsent", { ...terms });
  }

  /** Declines a consent request the custodian made. */
  refuse(subjectId: string, consentId: string): Promise<ConsentRecord> {
    return this.operate("/v1/operations", "subject", subjectId, "RefuseConsent", { consentId });
  }

  /**
   * A buyer's access request, signed by the buyer's wallet and decided on the consent ledger: the
   * decision with its reasons, the released subjects and those left out, and the grant on approval.
   */
  requestAccess(request: AccessRequestBody): Promise<AccessRequestResult> {
    return this.operate("/v1/access-requests", "buyer", null, "RequestAccess", { ...request });
  }

  /** Whether the connected wallet is bound to a custodian identity (signs in if needed). */
  async isCustodian(): Promise<boolean> {
    return (await this.signedIn()).bindings.some((b) => b.kind === "custodian");
  }

  /**
   * Registers a stream or dataset on the consent ledger with the products that license it, signed by a
   * wallet bound to a custodian identity: the ledger runs it as that custodian's own RegisterResource.
   */
  registerResource(resourceId: string, kind: "stream" | "dataset", productIds: string[]): Promise<ResourceRecord> {
    return this.operate("/v1/operations", "custodian", null, "RegisterResource", { resourceId, kind, productIds });
  }

  /** Adds data subjects (at most 1000 a call) to a resource the custodian controls, signed by its wallet. */
  addResourceSubjects(resourceId: string, subjectIds: string[]): Promise<ResourceRecord> {
    return this.operate("/v1/operations", "custodian", null, "AddResourceSubjects", { resourceId, subjectIds });
  }

  /** A past access request of this wallet, with its grant's status now (e.g. "Invalidated" after a withdrawal). */
  accessRequest(requestId: string): Promise<AccessRequestStatus> {
    return this.read(`/v1/access-requests/${requestId}`);
  }
}
