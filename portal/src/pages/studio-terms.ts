// A product's access criteria as the seller declares them: the purposes go on chain (`setPurposes`,
// enforced by the market: an attestation for another purpose is refused), and the whole set (purposes,
// buyer types, jurisdictions, data categories) goes into the product's terms document, which the
// ProductCreated event publishes (`termsUri`, a data: URI) and commits to (`termsHash`, its sha-256).
// The consent ledger decides each request against every data subject's own consent, which names the
// buyer types, jurisdictions and data categories that subject allows (docs/consent.md §4); the
// declared criteria tell buyers and custodians what the seller sells for (docs/portal.md).
import { sha256, toUtf8Bytes } from "ethers";

export const TERMS_FORMAT = "datamarket-product-terms/1";

export interface AccessCriteria {
  purposes: string[];
  buyerTypes: string[];
  jurisdictions: string[];
  dataCategories: string[];
}

export interface ProductTerms {
  format: typeof TERMS_FORMAT;
  accessCriteria: AccessCriteria;
  /** the terms of use in words */
  text: string;
}

/** The terms document's data: URI and its sha-256 (the product's termsUri and termsHash). */
export function encodeTerms(terms: ProductTerms): { termsUri: string; termsHash: string } {
  const json = JSON.stringify(terms);
  const bytes = toUtf8Bytes(json);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return { termsUri: `data:application/json;base64,${btoa(binary)}`, termsHash: sha256(bytes) };
}

/** The terms a product's termsUri carries, if it is a data: URI of this format (other terms live elsewhere: undefined). */
export function decodeTerms(termsUri: string): ProductTerms | undefined {
  const prefix = "data:application/json;base64,";
  if (!termsUri.startsWith(prefix)) return undefined;
  try {
    const binary = atob(termsUri.slice(prefix.length));
    const parsed = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as ProductTerms;
    return parsed.format === TERMS_FORMAT && typeof parsed.accessCriteria === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}
