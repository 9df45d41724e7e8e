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

export class ConsentApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly wallet: Wallet,
  ) {}

  private async call<T>(method: "GET" | "POST", path: string, subjectId: string): Promise<T> {
    const address = this.wallet.address;
    if (!address) throw new Error("connect a wallet first");
    const nonce = newNonce();
    const expires = Math.floor(Date.now() / 1000) + Math.min(120, MAX_REQUEST_LIFETIME_SECONDS);
    const text = signedRequestText({ api: new URL(this.baseUrl).origin, method, path, subjectId, address, nonce, expires, bodyHash: await bodyHash("") });
    const signature = await this.wallet.signText(text);
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers: {
        [SIGNED_HEADERS.address]: address,
        [SIGNED_HEADERS.nonce]: nonce,
        [SIGNED_HEADERS.expires]: String(expires),
        [SIGNED_HEADERS.signature]: signature,
      },
    });
    const body = (await response.json().catch(() => ({ error: "BAD_RESPONSE", message: `HTTP ${response.status} without a JSON body` }))) as T | ApiError;
    if (!response.ok) {
      const e = body as ApiError;
      throw new Error(`the consent API refused (${e.error}): ${e.message}`);
    }
    return body as T;
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
}
