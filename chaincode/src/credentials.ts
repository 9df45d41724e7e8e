// The credentials behind identities' attributes, and their status as the onboarding organisation's
// status monitor reports it. The same rule as a consent withdrawal (membership.ts) keeps a revocation
// from ever conflicting with access requests:
//
// - a request by an identity onboarded from a credential reads two single keys: its own holder entry
//   credentialHolder~H~<its key> (written once, by its own RecordCredential) and credentialStatus~H (written
//   only by status reports); it writes keys of its own, among them credentialGrant~H~<epoch>~<grantId>;
// - a status report reads credential~H (written once) and credentialStatus~H, and writes credentialStatus~H
//   only: no request writes a key it reads, so no number of concurrent requests can invalidate it;
// - a request endorsed before a report committed reads credentialStatus~H at its old version: if it commits
//   after the report it fails validation (MVCC), if before, its grant carries the old status epoch and is
//   indexed under it. A report that ends a valid status closes that epoch: nothing can be added under it
//   afterwards, so the grants that died at the report are exactly the range credentialGrant~H~<epoch>.
import { Caller, ConsentContext } from "./context";
import { ErrorCode, fail } from "./errors";
import { KeyType, key } from "./keys";
import { GENESIS_EPOCH } from "./membership";
import { readHistory, readJson } from "./store";
import { BYTES32 } from "./validation";
import { DenialReason } from "./vocabulary";

/** Statuses a report may give (the status monitor's names: docs/identity.md §9). */
export const CredentialStatusName = {
  Valid: "valid",
  Revoked: "revoked",
  Suspended: "suspended",
  /** the issuer has left the deployment's trust list */
  Untrusted: "untrusted",
} as const;
export type CredentialStatusName = (typeof CredentialStatusName)[keyof typeof CredentialStatusName];
export const CREDENTIAL_STATUSES: readonly string[] = Object.values(CredentialStatusName);

/** credential~H: the credential reference whose canonical-JSON SHA-256 is H (identity's CredentialReference). */
export interface StoredCredential {
  hash: string;
  issuer: string;
  credentialId: string;
  vct: string;
  statusListUri: string;
  statusListIndex: number;
  /** the organisation whose identities rest on it (the first recorder's MSP); its status checker reports on it */
  mspId: string;
  /** unix seconds */
  recordedAt: number;
}

/** credentialStatus~H: the last report recorded. */
export interface StoredCredentialStatus {
  status: CredentialStatusName;
  /** when the monitor checked the status list, unix ms: a report checked earlier is refused */
  checkedAt: number;
  /** txId of the last report that changed the status: grants issued since carry it */
  epoch: string;
  /** unix seconds of that change (the report's transaction time) */
  changedAt: number;
}

/** The status of a credential no report has reached yet: valid (its presentation was verified at onboarding). */
export const UNREPORTED: StoredCredentialStatus = { status: CredentialStatusName.Valid, checkedAt: 0, epoch: GENESIS_EPOCH, changedAt: 0 };

/** Why a grant died when its credential left the valid status: the cause followers see. */
export function invalidationCause(status: string): string {
  return status === CredentialStatusName.Suspended
    ? "CredentialSuspended"
    : status === CredentialStatusName.Untrusted
      ? "CredentialUntrusted"
      : "CredentialRevoked";
}

/** The request-level reason a buyer whose credential has `status` is denied; null when valid. */
export function credentialDenialReason(status: string): string | null {
  switch (status) {
    case CredentialStatusName.Valid:
      return null;
    case CredentialStatusName.Suspended:
      return DenialReason.CREDENTIAL_SUSPENDED;
    case CredentialStatusName.Untrusted:
      return DenialReason.CREDENTIAL_UNTRUSTED;
    default:
      return DenialReason.CREDENTIAL_REVOKED;
  }
}

export async function readCredentialStatus(ctx: ConsentContext, hash: string): Promise<StoredCredentialStatus> {
  return (await readJson<StoredCredentialStatus>(ctx, key(ctx, KeyType.CredentialStatus, hash))) ?? UNREPORTED;
}

/** A change of a credential's status that ended one of its valid epochs. */
export interface CredentialVoiding {
  /** the valid epoch it closed */
  epoch: string;
  /** the report's transaction */
  txId: string;
  status: string;
  voidedAt: number;
}

/** The status reports of one credential in commit order (from GetHistoryForKey of credentialStatus~H). */
export class CredentialHistory {
  private constructor(private readonly reports: Array<StoredCredentialStatus & { txId: string }>) {}

  static async read(ctx: ConsentContext, hash: string): Promise<CredentialHistory> {
    return new CredentialHistory(await readHistory<StoredCredentialStatus>(ctx, key(ctx, KeyType.CredentialStatus, hash)));
  }

  /** The change that ended valid epoch `epoch`, if one has (the first report after it with another status). */
  voidingOf(epoch: string): CredentialVoiding | undefined {
    const opened = epoch === GENESIS_EPOCH ? -1 : this.reports.findIndex((report) => report.txId === epoch);
    if (opened < 0 && epoch !== GENESIS_EPOCH) {
      return undefined; // an epoch this peer's history does not hold yet
    }
    const closing = this.reports.slice(opened + 1).find((report) => report.status !== CredentialStatusName.Valid);
    return closing && { epoch, txId: closing.txId, status: closing.status, voidedAt: closing.changedAt };
  }

  /** What the report `txId` voided: the valid epoch it closed; undefined when it closed none. */
  voidedBy(txId: string): CredentialVoiding | undefined {
    const index = this.reports.findIndex((report) => report.txId === txId);
    if (index < 0) {
      return undefined;
    }
    const report = this.reports[index];
    const before = index === 0 ? UNREPORTED : this.reports[index - 1];
    if (report.epoch !== txId || report.status === CredentialStatusName.Valid || before.status !== CredentialStatusName.Valid) {
      return undefined;
    }
    return { epoch: before.epoch, txId, status: report.status, voidedAt: report.changedAt };
  }
}

/** The credential an identity was onboarded from, as a request reads it: its hash and status. */
export interface CallerCredential {
  hash: string;
  status: StoredCredentialStatus;
}

/**
 * The credential behind the caller's attributes, or null when its certificate names none. An identity that
 * names one must have recorded it (CREDENTIAL_NOT_RECORDED): until then nothing ties its attributes to a
 * status the ledger can follow. Two point reads, neither written by any request.
 */
export async function callerCredential(ctx: ConsentContext, caller: Caller): Promise<CallerCredential | null> {
  if (caller.credentialRef === null) {
    return null;
  }
  const hash = requireCredentialRef(caller);
  if (!(await readJson<StoredHolder>(ctx, key(ctx, KeyType.CredentialHolder, hash, caller.key)))) {
    fail(
      ErrorCode.CREDENTIAL_NOT_RECORDED,
      `the caller's certificate names credential ${hash} (consent.credentialRef), which this identity has not recorded: call credential:RecordCredential with its reference first`,
    );
  }
  return { hash, status: await readCredentialStatus(ctx, hash) };
}

/** The caller's consent.credentialRef, checked to be a 0x SHA-256. */
export function requireCredentialRef(caller: Caller): string {
  const hash = caller.credentialRef;
  if (hash === null || !BYTES32.test(hash)) {
    fail(ErrorCode.FORBIDDEN, `the caller's certificate carries no valid consent.credentialRef (got ${hash?.slice(0, 80) ?? "(none)"})`);
  }
  return hash;
}

/** credentialHolder~H~K: an identity (key K) whose attributes rest on credential H. */
export interface StoredHolder {
  mspId: string;
  /** unix seconds */
  recordedAt: number;
}
