// The consent ledger's chaincode event: one per transaction, named ConsentLedgerEvents, whose payload
// lists everything the transaction did. Consumers (the consent bridge) follow grants and withdrawals here.
import { EVENT_NAME } from "@datamarket/consent-chaincode/src/context";
import { ChaincodeEventLike } from "./network";

export { EVENT_NAME };

export interface SubjectRegistered {
  type: "SubjectRegistered";
  subjectId: string;
  custodianMsp: string;
}
export interface ConsentChanged {
  type: "ConsentChanged";
  consentId: string;
  subjectId: string;
  status: string;
  version: number;
}
export interface GrantIssued {
  type: "GrantIssued";
  grantId: string;
  buyer: string;
  productId: string;
  resourceId: string;
  purpose: string;
  purposeId: string;
  /** the transaction timestamp, unix seconds */
  issuedAt: number;
  expiresAt: number;
  attestationStructHash: string;
  subjectCount: number;
}
/**
 * A change that voided grants: a consent change on `resourceIds`, or a status report that ended the valid
 * status of credential `credentialRef`. The chaincode's event names the resources or the credential;
 * `grantIds` (the grants that died, unexpired at `invalidatedAt`) is read from the ledger by
 * ConsentLedgerClient.events() (access:ListInvalidatedGrants, credential:ListCredentialInvalidatedGrants)
 * and is [] in an event decoded alone.
 */
export interface GrantsInvalidated {
  type: "GrantsInvalidated";
  /** the consent whose change voided the grants (absent for SubjectRemoved and credential reports) */
  consentId?: string;
  /** the subjects removed (SubjectRemoved only) */
  subjectIds?: string[];
  /** the resources whose grants were voided (consent changes; absent in events of chaincode before epochs, which listed grantIds) */
  resourceIds?: string[];
  /** the credential whose valid status ended (CredentialRevoked, CredentialSuspended, CredentialUntrusted) */
  credentialRef?: string;
  grantIds: string[];
  /** ConsentWithdrawn, ConsentRevoked, ConsentUpdated, ConsentSuperseded, SubjectRemoved, CredentialRevoked, CredentialSuspended or CredentialUntrusted */
  cause: string;
  invalidatedAt: number;
}
export interface AccessDenied {
  type: "AccessDenied";
  buyerKey: string;
  resourceId: string;
  productId: string;
  purpose: string;
  reasons: string[];
}
export interface ResourceRegistered {
  type: "ResourceRegistered";
  resourceId: string;
  kind: string;
  productIds: string[];
  controllerMsp: string;
}
export interface ResourceSubjectsAdded {
  type: "ResourceSubjectsAdded";
  resourceId: string;
  added: number;
  subjectCount: number;
}
export interface ResourceSubjectsRemoved {
  type: "ResourceSubjectsRemoved";
  resourceId: string;
  removed: number;
  subjectCount: number;
}
export interface SubjectDetailsErased {
  type: "SubjectDetailsErased";
  subjectId: string;
}
export interface CredentialRecorded {
  type: "CredentialRecorded";
  hash: string;
  holderKey: string;
  mspId: string;
  issuer: string;
  credentialId: string;
  vct: string;
}
export interface CredentialStatusChanged {
  type: "CredentialStatusChanged";
  hash: string;
  previous: string;
  status: string;
  /** unix ms */
  checkedAt: number;
  issuer: string;
  credentialId: string;
}

/** A wallet was bound to a ledger party by the party's own identity (WalletContract.BindWallet). */
export interface WalletBound {
  type: "WalletBound";
  address: string;
  /** "subject:<id>" or "buyer:<identity key>" */
  party: string;
  bindingId: string;
}
/** A binding ended (UnbindWallet): operations signed under it are refused from then on. */
export interface WalletUnbound {
  type: "WalletUnbound";
  address: string;
  party: string;
  bindingId: string;
}
/** A relay submitted an operation the wallet signed; the operation's own events follow in the same batch. */
export interface SignedOperation {
  type: "SignedOperation";
  address: string;
  party: string;
  bindingId: string;
  operation: string;
  nonce: string;
}

export type ConsentLedgerEvent =
  | SubjectRegistered
  | ConsentChanged
  | GrantIssued
  | GrantsInvalidated
  | AccessDenied
  | ResourceRegistered
  | ResourceSubjectsAdded
  | ResourceSubjectsRemoved
  | SubjectDetailsErased
  | CredentialRecorded
  | CredentialStatusChanged
  | WalletBound
  | WalletUnbound
  | SignedOperation;

/** One committed transaction's events, with where it sits on the ledger. */
export interface ConsentLedgerEventBatch {
  blockNumber: bigint;
  transactionId: string;
  /** transaction timestamp, unix seconds */
  timestamp: number;
  events: ConsentLedgerEvent[];
}

/** Decodes a chaincode event of the consent chaincode; null for any other event name. */
export function decodeConsentEvent(event: ChaincodeEventLike): ConsentLedgerEventBatch | null {
  if (event.eventName !== EVENT_NAME) {
    return null;
  }
  const body = JSON.parse(Buffer.from(event.payload).toString("utf8")) as { events: ConsentLedgerEvent[]; timestamp: number; txId: string };
  for (const decoded of body.events) {
    if (decoded.type === "GrantsInvalidated") {
      decoded.grantIds = decoded.grantIds ?? [];
    }
  }
  return { blockNumber: event.blockNumber, transactionId: body.txId, timestamp: body.timestamp, events: body.events };
}
