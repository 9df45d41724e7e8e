// Records the chaincode stores, decorated so that fabric-contract-api generates the contract metadata.
// The consent record follows ISO/IEC TS 27560 (consent record information structure) with W3C DPV values.
import { Object as DataType, Property } from "fabric-contract-api";

@DataType()
export class DataCategory {
  /** DPV personal-data category local name, e.g. "HealthRecord" */
  @Property("category", "string") category!: string;
  /** GDPR Art. 9 special category, decided by the chaincode's vocabulary */
  @Property("specialCategory", "boolean") specialCategory!: boolean;
}

@DataType()
export class SubjectRecord {
  /** Pseudonymous id; never a name or other personal data */
  @Property("subjectId", "string") subjectId!: string;
  /** MSP id of the organisation that holds the subject's data and acts for the subject */
  @Property("custodianMsp", "string") custodianMsp!: string;
  /** sha256 (0x-hex) of the private details in the subjectDetails collection, or "" */
  @Property("detailsHash", "string") detailsHash!: string;
  /** unix seconds */
  @Property("createdAt", "number") createdAt!: number;
}

@DataType()
export class ConsentRecord {
  @Property("schema", "string") schema!: string;
  /** sha256(utf8(txId)) of the transaction that created the record, 0x-hex */
  @Property("consentId", "string") consentId!: string;
  /** Starts at 1; every update or renewal increments it */
  @Property("version", "number") version!: number;
  @Property("subjectId", "string") subjectId!: string;
  /** The data controller that processes under this consent (organisation name) */
  @Property("controller", "string") controller!: string;
  @Property("custodianMsp", "string") custodianMsp!: string;
  /** Resource ids (stream / dataset, bytes32 0x-hex) the consent covers */
  @Property("resources", "string[]") resources!: string[];
  /** DPV purpose names; a purpose also covers its descendants */
  @Property("purposes", "string[]") purposes!: string[];
  @Property("dataCategories", "DataCategory[]") dataCategories!: DataCategory[];
  @Property("buyerTypes", "string[]") buyerTypes!: string[];
  /** EU / EEA / ADEQUACY groups or ISO 3166-1 alpha-2 codes */
  @Property("jurisdictions", "string[]") jurisdictions!: string[];
  /** "A6-1-a" consent or "A9-2-a" explicit consent */
  @Property("legalBasis", "string") legalBasis!: string;
  /** unix seconds, inclusive */
  @Property("validFrom", "number") validFrom!: number;
  /** unix seconds: the consent is invalid from this second on */
  @Property("validUntil", "number") validUntil!: number;
  /** sha256 (0x-hex) of the notice / policy text the subject saw */
  @Property("noticeHash", "string") noticeHash!: string;
  /** DPV consent status */
  @Property("status", "string") status!: string;
  @Property("createdAt", "number") createdAt!: number;
  @Property("updatedAt", "number") updatedAt!: number;
  /** txId of the last transaction that changed the record */
  @Property("lastTxId", "string") lastTxId!: string;
}

@DataType()
export class ResourceRecord {
  /** bytes32 0x-hex resource id from the StreamRegistry */
  @Property("resourceId", "string") resourceId!: string;
  /** "stream" or "dataset" */
  @Property("kind", "string") kind!: string;
  @Property("controllerMsp", "string") controllerMsp!: string;
  /** DataLicenseMarket product ids that license this resource */
  @Property("productIds", "string[]") productIds!: string[];
  @Property("subjectCount", "number") subjectCount!: number;
  /** slots handed out so far: the next member's position in the access-log bitmaps (slots are never reused) */
  @Property("nextSlot", "number") nextSlot!: number;
  @Property("createdAt", "number") createdAt!: number;
}

@DataType()
export class AccessGrant {
  /** sha256(utf8(txId)), 0x-hex bytes32: single use on Ethereum */
  @Property("grantId", "string") grantId!: string;
  @Property("txId", "string") txId!: string;
  /** single-use nonce: the proposal binding sha256(nonce ‖ creator ‖ epoch), 0x-hex */
  @Property("nonce", "string") nonce!: string;
  /** buyer's Ethereum address, lowercase 0x-hex, proven to belong to the caller */
  @Property("buyer", "string") buyer!: string;
  /** how the address was proven: "certificate", "signature", or "wallet" (the bound wallet signed the request: WalletContract) */
  @Property("addressProof", "string") addressProof!: string;
  @Property("buyerMsp", "string") buyerMsp!: string;
  @Property("buyerKey", "string") buyerKey!: string;
  @Property("buyerType", "string") buyerType!: string;
  @Property("jurisdiction", "string") jurisdiction!: string;
  @Property("resourceId", "string") resourceId!: string;
  @Property("productId", "string") productId!: string;
  @Property("purpose", "string") purpose!: string;
  /** keccak256(utf8(purpose)), the bytes32 used on Ethereum */
  @Property("purposeId", "string") purposeId!: string;
  @Property("issuedAt", "number") issuedAt!: number;
  /** unix seconds; the grant and its attestation are invalid from this second on */
  @Property("expiresAt", "number") expiresAt!: number;
  @Property("subjectCount", "number") subjectCount!: number;
  /** sha256 of the newline-joined sorted released subject ids, 0x-hex */
  @Property("subjectsDigest", "string") subjectsDigest!: string;
  /** EIP-712 struct hash of the ConsentAttestation, 0x-hex */
  @Property("attestationStructHash", "string") attestationStructHash!: string;
  /** the resource's epoch when the grant was issued (txId of the last voiding change, or "genesis") */
  @Property("epoch", "string") epoch!: string;
  /** the member slots whose subjects the grant released, as a bitmap (base64; bit i = byte i >> 3, mask 1 << (i & 7)) */
  @Property("releasedSlots", "string") releasedSlots!: string;
  /** hash of the credential reference behind the buyer's attributes (its consent.credentialRef), or "" */
  @Property("credentialRef", "string") credentialRef!: string;
  /** the credential's status epoch when the grant was issued (txId of its last status change, or "genesis"), or "" */
  @Property("credentialEpoch", "string") credentialEpoch!: string;
  /** "Open" as stored; reads report "Invalidated" from the first change that voided one of its released subjects, or that ended its credential's valid status, "Expired" once expiresAt has passed */
  @Property("status", "string") status!: string;
  @Property("invalidatedAt", "number") invalidatedAt!: number;
  @Property("invalidatedBy", "string") invalidatedBy!: string;
}

@DataType()
export class AccessDecision {
  /** "approved" or "denied" */
  @Property("decision", "string") decision!: string;
  /** distinct denial reasons, sorted; empty when approved */
  @Property("reasons", "string[]") reasons!: string[];
  @Property("resourceId", "string") resourceId!: string;
  @Property("productId", "string") productId!: string;
  @Property("purpose", "string") purpose!: string;
  @Property("subjectsTotal", "number") subjectsTotal!: number;
  /** the subjects whose records may be released, sorted */
  @Property("approvedSubjects", "string[]") approvedSubjects!: string[];
  /** count of denied subjects by reason (a map; not expressible in contract metadata, so undecorated) */
  deniedByReason!: Record<string, number>;
  /** the grant written on approval, or null */
  @Property("grant", "AccessGrant") grant!: AccessGrant | null;
  @Property("decidedAt", "number") decidedAt!: number;
  @Property("txId", "string") txId!: string;
}

@DataType()
export class CredentialHolder {
  /** sha256(mspId ‖ "\n" ‖ x509 id) of an identity whose attributes rest on the credential */
  @Property("holderKey", "string") holderKey!: string;
  @Property("mspId", "string") mspId!: string;
  /** unix seconds */
  @Property("recordedAt", "number") recordedAt!: number;
}

@DataType()
export class CredentialRecord {
  /** 0x sha256 of the canonical JSON of {issuer, credentialId, vct, statusListUri, statusListIndex} */
  @Property("hash", "string") hash!: string;
  /** the issuer's identifier (the credential's iss) */
  @Property("issuer", "string") issuer!: string;
  /** the credential's id (jti) */
  @Property("credentialId", "string") credentialId!: string;
  /** the credential type (vct) */
  @Property("vct", "string") vct!: string;
  @Property("statusListUri", "string") statusListUri!: string;
  @Property("statusListIndex", "number") statusListIndex!: number;
  /** the organisation whose identities rest on it; its status checker reports on it */
  @Property("mspId", "string") mspId!: string;
  /** unix seconds */
  @Property("recordedAt", "number") recordedAt!: number;
  /** "valid", "revoked", "suspended" or "untrusted" */
  @Property("status", "string") status!: string;
  /** when the status monitor last checked it, unix ms (0: no report yet) */
  @Property("checkedAt", "number") checkedAt!: number;
  /** unix seconds of the last status change (0: none) */
  @Property("statusChangedAt", "number") statusChangedAt!: number;
  /** the status epoch: txId of the last status change, or "genesis" */
  @Property("epoch", "string") epoch!: string;
  /** the identities that recorded it (at most 100; holdersTruncated when there are more) */
  @Property("holders", "CredentialHolder[]") holders!: CredentialHolder[];
  @Property("holdersTruncated", "boolean") holdersTruncated!: boolean;
}
