// Transaction context shared by the contracts: the caller's identity as the certificate states it,
// the transaction clock, and the buffer of events that becomes the one chaincode event of the tx.
import { Context } from "fabric-contract-api";
import { canonicalJson, sha256Hex } from "./canonical";
import { ClockPolicy } from "./clock";
import { ErrorCode, fail } from "./errors";

/** The name of the single combined chaincode event every state-changing transaction emits. */
export const EVENT_NAME = "ConsentLedgerEvents";

/** Certificate attributes (fabric-ca `--id.attrs name=value:ecert`) the chaincode reads. */
export const Attr = {
  role: "consent.role",
  subject: "consent.subject",
  buyerType: "consent.buyerType",
  jurisdiction: "consent.jurisdiction",
  ethAddress: "consent.ethAddress",
  /** 0x sha256 of the credential reference that backs the identity's attributes (docs/identity.md §7) */
  credentialRef: "consent.credentialRef",
} as const;

/** Roles a certificate may carry in `consent.role`. */
export const Role = {
  Custodian: "custodian",
  Subject: "subject",
  Buyer: "buyer",
  Auditor: "auditor",
  /** the onboarding organisation's status monitor: reports the status of the credentials behind its identities */
  StatusChecker: "statuschecker",
  /** submits what wallets signed (WalletContract); by itself it may do nothing else, not even read */
  Relay: "relay",
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface Caller {
  mspId: string;
  /** x509::subject DN::issuer DN, unique within the MSP */
  clientId: string;
  role: string | null;
  /** pseudonymous subject id when role = subject */
  subjectId: string | null;
  buyerType: string | null;
  jurisdiction: string | null;
  /** lowercase 0x address when the organisation put one in the certificate */
  ethAddress: string | null;
  /** the hash of the credential reference behind the identity's attributes, when onboarded from a credential */
  credentialRef: string | null;
  /** stable, non-identifying key of this identity: sha256(mspId ‖ "\n" ‖ clientId) */
  key: string;
  /** the wallet binding whose signature this transaction acts on (WalletContract), or null: the certificate's own caller */
  wallet: string | null;
}

export interface LedgerEvent {
  type: string;
  [field: string]: unknown;
}

export class ConsentContext extends Context {
  /** Events raised by this transaction, emitted together in afterTransaction. */
  readonly events: LedgerEvent[] = [];
  /** Resources on which this transaction voids grants: the cause and the member slots (see membership.ts). */
  readonly voided = new Map<string, { cause: string; slots: number[] }>();
  /** What the GrantsInvalidated event says caused the voiding: `{consentId}` or `{subjectIds}`. */
  voidedBy: { consentId?: string; subjectIds?: string[] } = {};
  /** The endorsing peer's clock and the skew it allows (set by the contract). */
  clock!: ClockPolicy;
  private cachedCaller: Caller | undefined;

  emit(event: LedgerEvent): void {
    this.events.push(event);
  }

  /** The transaction timestamp in unix seconds: the clock of every rule, bounded by the peer's clock. */
  now(): number {
    const ts = this.stub.getTxTimestamp();
    return Number(ts.seconds.toString());
  }

  /** The transaction timestamp in milliseconds. */
  timestampMillis(): number {
    const ts = this.stub.getTxTimestamp();
    return Number(ts.seconds.toString()) * 1000 + Math.floor(ts.nanos / 1_000_000);
  }

  caller(): Caller {
    if (!this.cachedCaller) {
      const identity = this.clientIdentity;
      const attr = (name: string): string | null => {
        const value = identity.getAttributeValue(name);
        return value === null || value === undefined || value === "" ? null : String(value);
      };
      const mspId = identity.getMSPID();
      const clientId = identity.getID();
      const ethAddress = attr(Attr.ethAddress);
      this.cachedCaller = {
        mspId,
        clientId,
        role: attr(Attr.role),
        subjectId: attr(Attr.subject),
        buyerType: attr(Attr.buyerType),
        jurisdiction: attr(Attr.jurisdiction),
        ethAddress: ethAddress === null ? null : ethAddress.toLowerCase(),
        credentialRef: attr(Attr.credentialRef),
        key: sha256Hex(`${mspId}\n${clientId}`),
        wallet: null,
      };
    }
    return this.cachedCaller;
  }

  /**
   * From now on, this transaction acts as the ledger party a wallet is bound to. Only WalletContract calls
   * it, after the ledger itself checked the wallet's signature, binding, nonce and expiry.
   */
  actAs(party: Caller): void {
    this.cachedCaller = party;
  }

  requireRole(...roles: Role[]): Caller {
    const caller = this.caller();
    if (caller.role === null || !(roles as string[]).includes(caller.role)) {
      fail(ErrorCode.FORBIDDEN, `caller ${caller.mspId} has role ${caller.role ?? "(none)"}, needs one of ${roles.join(", ")}`);
    }
    return caller;
  }

  /** Serialises the buffered events as the payload of the one chaincode event. */
  eventPayload(): string {
    return canonicalJson({ events: this.events, timestamp: this.now(), txId: this.stub.getTxID() });
  }
}
