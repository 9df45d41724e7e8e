// The credential reference: which credential backs a ledger identity's claims. The onboarding service
// produces one per enrolment; the enrolled certificate carries its hash (attribute consent.credentialRef),
// and the chaincode is to record the reference itself (docs/identity.md §7). The hash is the consent
// chaincode's own canonical JSON + SHA-256, so the chaincode recomputes exactly these bytes.
import { canonicalJson, sha256Hex } from "@datamarket/consent-chaincode/src";

export interface CredentialReference {
  /** the issuer's identifier (`iss`) */
  issuer: string;
  /** the credential's id (`jti`) */
  credentialId: string;
  /** its type (`vct`) */
  vct: string;
  /** its status list (`status.status_list.uri`) */
  statusListUri: string;
  /** its index in that list (`status.status_list.idx`) */
  statusListIndex: number;
  /** 0x sha256 of the canonical JSON of the five fields above */
  hash: string;
}

export function credentialReference(fields: Omit<CredentialReference, "hash">): CredentialReference {
  const { issuer, credentialId, vct, statusListUri, statusListIndex } = fields;
  const hash = sha256Hex(canonicalJson({ issuer, credentialId, vct, statusListUri, statusListIndex }));
  return { issuer, credentialId, vct, statusListUri, statusListIndex, hash };
}
