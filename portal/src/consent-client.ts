// The browser's client of the consent API: each request is signed by the wallet over its exact text
// (src/signed-request.ts) just before it is sent, and a refusal comes back as an error in words.
import type { Wallet } from "./wallet";
import { MAX_REQUEST_LIFETIME_SECONDS, SIGNED_HEADERS, bodyHash, newNonce, signedRequestText, type ApiError } from "./signed-request";

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
  constructor(
    private readonly baseUrl: string,
    private readonly wallet: Wallet,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, subjectId: string, body = ""): Promise<T> {
    const address = this.wallet.address;
    if (!address) throw new Error("connect a wallet first");
    const nonce = newNonce();
    const expires = Math.floor(Date.now() / 1000) + Math.min(120, MAX_REQUEST_LIFETIME_SECONDS);
    const text = signedRequestText({ api: new URL(this.baseUrl).origin, method, path, subjectId, address, nonce, expires, bodyHash: await bodyHash(body) });
    const signature = await this.wallet.signText(text);
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        [SIGNED_HEADERS.address]: address,
        [SIGNED_HEADERS.nonce]: nonce,
        [SIGNED_HEADERS.expires]: String(expires),
        [SIGNED_HEADERS.signature]: signature,
        ...(body === "" ? {} : { "content-type": "application/json" }),
      },
      body: body === "" ? undefined : body,
    });
    const answer = (await response.json().catch(() => ({ error: "BAD_RESPONSE", message: `HTTP ${response.status} without a JSON body` }))) as T | ApiError;
    if (!response.ok) {
      const e = answer as ApiError;
      throw new Error(`the consent API refused (${e.error}): ${e.message}`);
    }
    return answer as T;
  }

  me(): Promise<{ address: string; subjects: string[] }> {
    return this.call("GET", "/v1/me", "");
  }

  consents(subjectId: string): Promise<Page<ConsentRecord>> {
    return this.call("GET", `/v1/subjects/${encodeURIComponent(subjectId)}/consents`, subjectId);
  }

  accessLog(subjectId: string): Promise<Page<AccessLogEntry>> {
    return this.call("GET", `/v1/subjects/${encodeURIComponent(subjectId)}/access`, subjectId);
  }

  withdraw(subjectId: string, consentId: string): Promise<ConsentRecord> {
    return this.call("POST", `/v1/subjects/${encodeURIComponent(subjectId)}/consents/${consentId}/withdraw`, subjectId);
  }

  /**
   * A buyer's access request, signed by the buyer's wallet and decided on the consent ledger: the
   * decision with its reasons, the released subjects and those left out, and the grant on approval.
   */
  requestAccess(request: AccessRequestBody): Promise<AccessRequestResult> {
    return this.call("POST", "/v1/access-requests", "", JSON.stringify(request));
  }

  /** A past access request of this wallet, with its grant's status now (e.g. "Invalidated" after a withdrawal). */
  accessRequest(requestId: string): Promise<AccessRequestStatus> {
    return this.call("GET", `/v1/access-requests/${requestId}`, "");
  }
}
