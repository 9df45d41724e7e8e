// What a wallet signs for the consent ledger, so that the ledger itself checks the wallet's authority:
// the proof that binds a wallet to a ledger party (made by the party's own Fabric identity), and each
// operation a relay submits for the wallet. Both are personal_sign (EIP-191) texts, one field per line,
// with a first line no other text of the protocol starts with (domain separation) and the ledger they are
// for; an operation also names its binding (unique to one ledger), a single-use nonce and an expiry.
// Pure functions: the chaincode checks these texts and the portal builds them.

/** Longest time (seconds) between a signed binding proof or operation reaching the ledger and its expiry. */
export const MAX_SIGNED_LIFETIME_SECONDS = 600;
/** Longest sign-in session (seconds) the ledger accepts for relayed reads: Issued At to Expiration Time. */
export const MAX_SESSION_SECONDS = 3600;

/** Operations a relay may submit for a subject's wallet. */
export const SUBJECT_OPERATIONS = ["GiveConsent", "NarrowConsent", "WithdrawConsent", "RefuseConsent"] as const;
/** Operations a relay may submit for a buyer's wallet. */
export const BUYER_OPERATIONS = ["RequestAccess"] as const;
/** Operations a relay may submit for a custodian's wallet: the custodian's own resource registration. */
export const CUSTODIAN_OPERATIONS = ["RegisterResource", "AddResourceSubjects", "RemoveResourceSubjects"] as const;
/** Reads a relay may make for a wallet with a sign-in session. */
export const SESSION_READS = ["ListSubjectConsents", "ListAccessBySubject", "GetConsent", "GetConsentHistory", "GetGrant", "GetAccessRequest"] as const;

/** The kinds of ledger party a wallet may be bound to. */
export type PartyKind = "subject" | "buyer" | "custodian";

/** The ledger party a wallet is bound to: a data subject, or a buyer or custodian identity (by its key). */
export function partyName(kind: PartyKind, id: string): string {
  return `${kind}:${id}`;
}

export interface WalletBindingProof {
  /** the channel the binding is for */
  ledger: string;
  /** lowercase 0x address of the wallet */
  address: string;
  /** partyName(...) of the party */
  party: string;
  /** MSP and certificate id (x509::subject::issuer) of the Fabric identity that binds it */
  mspId: string;
  clientId: string;
  /** unix seconds */
  expires: number;
}

/** The exact text the wallet signs to be bound to a party. */
export function walletBindingText(p: WalletBindingProof): string {
  return [
    "DataMarket consent ledger: bind this wallet to my ledger identity.",
    `ledger: ${p.ledger}`,
    `address: ${p.address}`,
    `party: ${p.party}`,
    `msp: ${p.mspId}`,
    `identity: ${p.clientId}`,
    `expires: ${p.expires}`,
  ].join("\n");
}

export interface SignedOperation {
  /** the channel */
  ledger: string;
  /** the binding's id (0x sha-256 of the transaction that bound the wallet): a signature is good under one binding only */
  binding: string;
  address: string;
  party: string;
  /** one of SUBJECT_OPERATIONS / BUYER_OPERATIONS / CUSTODIAN_OPERATIONS */
  operation: string;
  /** canonical JSON of the operation's arguments (canonicalJson of chaincode/src/canonical.ts) */
  arguments: string;
  /** 32 lowercase hex characters, never used before by this wallet */
  nonce: string;
  /** unix seconds */
  expires: number;
}

/** An operation a bound wallet signed, as a relay submits it (SubmitSigned's argument). */
export interface SignedOperationRequest {
  address: string;
  party: string;
  operation: string;
  /** the operation's arguments; the text signs their canonical JSON */
  arguments: Record<string, unknown>;
  nonce: string;
  expires: number;
  signature: string;
}

/** The exact text the wallet signs for one operation a relay submits. */
export function signedOperationText(o: SignedOperation): string {
  return [
    "DataMarket consent ledger: I authorise this operation.",
    `ledger: ${o.ledger}`,
    `binding: ${o.binding}`,
    `address: ${o.address}`,
    `party: ${o.party}`,
    `operation: ${o.operation}`,
    `arguments: ${o.arguments}`,
    `nonce: ${o.nonce}`,
    `expires: ${o.expires}`,
  ].join("\n");
}

/** The URI a sign-in session for relayed reads names: this ledger (EIP-4361 `Resources`). */
export function ledgerResource(ledger: string): string {
  return `urn:datamarket:consent-ledger:${ledger}`;
}
