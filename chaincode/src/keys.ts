// Composite-key design. Every lookup is a point read or a range over one partial composite key, so no
// transaction ever scans the world state. A decision reads one resource's member range; a withdrawal reads
// and writes single keys only (docs/consent.md §5).
import { Context } from "fabric-contract-api";

/** Object types of the composite keys (the first component of each key). */
export const KeyType = {
  /** subject~subjectId -> SubjectRecord */
  Subject: "subject",
  /** consent~consentId -> ConsentRecord */
  Consent: "consent",
  /** subjectConsent~subjectId~consentId -> "" (a subject's consents, paginated) */
  SubjectConsent: "subjectConsent",
  /** coverage~subjectId~resourceId -> consentId (the subject's latest consent naming the resource) */
  Coverage: "coverage",
  /** resource~resourceId -> ResourceRecord */
  Resource: "resource",
  /** product~productId -> resourceId */
  Product: "product",
  /**
   * member~resourceId~subjectId -> MemberEntry: a data subject the resource holds, with its slot in the
   * access log and a summary of its covering consent for the resource (what a decision reads)
   */
  Member: "member",
  /** subjectResource~subjectId~resourceId -> {"slots": [...]}: the resources a subject is or was in */
  SubjectResource: "subjectResource",
  /** epoch~resourceId -> EpochRecord: the last change that voided the resource's grants (absent: none yet) */
  Epoch: "epoch",
  /** grant~grantId -> AccessGrant */
  Grant: "grant",
  /** grantByEpoch~resourceId~epoch~grantId -> expiresAt: the grants issued in one epoch of a resource */
  GrantByEpoch: "grantByEpoch",
  /** accessByResource~resourceId~timestamp~txId -> ResourceAccessLogEntry (one per decision on a resource) */
  AccessByResource: "accessByResource",
  /** accessByBuyer~buyerKey~timestamp~txId -> AccessLogEntry */
  AccessByBuyer: "accessByBuyer",
  /** credential~hash -> CredentialRecord: which credential (issuer, id, status-list entry) backs identities; written once */
  Credential: "credential",
  /** credentialHolder~hash~holderKey -> {mspId, recordedAt}: an identity whose attributes rest on the credential */
  CredentialHolder: "credentialHolder",
  /** credentialStatus~hash -> CredentialStatusRecord: the last status report (absent: valid as recorded) */
  CredentialStatus: "credentialStatus",
  /** credentialGrant~hash~epoch~grantId -> {resourceId, expiresAt}: the grants issued in one status epoch of a credential */
  CredentialGrant: "credentialGrant",
  /** accessRequest~txId -> {buyerKey, timestamp}: where a decision is in its buyer's log (GetAccessRequest) */
  AccessRequest: "accessRequest",
  /** walletBinding~address~party -> WalletBinding: a wallet bound to a ledger party by the party's own identity */
  WalletBinding: "walletBinding",
  /** walletNonce~address~nonce -> {txId, operation}: a signed operation's nonce, used once */
  WalletNonce: "walletNonce",
} as const;

export function key(ctx: Context, type: string, ...attributes: string[]): string {
  return ctx.stub.createCompositeKey(type, attributes);
}

/** Fixed-width decimal so that timestamps sort lexically in composite keys. */
export function sortableSeconds(seconds: number): string {
  return seconds.toString().padStart(12, "0");
}

/** Name of the private data collection that holds what could identify a person. */
export const SUBJECT_DETAILS_COLLECTION = "subjectDetails";
