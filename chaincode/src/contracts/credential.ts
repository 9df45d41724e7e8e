// CredentialContract: which verifiable credential backs an identity's attributes (docs/identity.md §7), and
// its status as the onboarding organisation's status monitor reports it. A report that ends a credential's
// valid status stops its holders' access requests and ends the grants issued to them, the way a consent
// withdrawal ends the grants that released its subject (credentials.ts: why neither conflicts with requests).
import { Info, Returns, Transaction } from "fabric-contract-api";
import { canonicalJson, sha256Hex } from "../canonical";
import { Caller, ConsentContext, Role } from "../context";
import {
  CREDENTIAL_STATUSES,
  CredentialHistory,
  CredentialStatusName,
  StoredCredential,
  StoredCredentialStatus,
  StoredHolder,
  invalidationCause,
  readCredentialStatus,
  requireCredentialRef,
} from "../credentials";
import { ErrorCode, fail } from "../errors";
import { KeyType, key } from "../keys";
import { CredentialHolder, CredentialRecord } from "../model";
import { ConsentLedgerContract, entryJson, pageJson, readJson, readRange, writeJson } from "../store";
import { BYTES32, Json, pageArguments, parseJsonObject, requireString } from "../validation";

/** Text fields of a credential reference: 1..512 characters, no control characters. */
const REFERENCE_TEXT = /^[^\u0000-\u001f\u007f]{1,512}$/;
/** Holders GetCredential lists. */
const MAX_HOLDERS_LISTED = 100;

/** {issuer, credentialId, vct, statusListUri, statusListIndex}: exactly what the reference hash covers. */
function parseReference(input: Json): Omit<StoredCredential, "hash" | "mspId" | "recordedAt"> {
  const statusListIndex = input.statusListIndex;
  if (typeof statusListIndex !== "number" || !Number.isSafeInteger(statusListIndex) || statusListIndex < 0) {
    fail(ErrorCode.INVALID_ARGUMENT, "statusListIndex must be a non-negative integer");
  }
  return {
    issuer: requireString(input, "issuer", REFERENCE_TEXT),
    credentialId: requireString(input, "credentialId", REFERENCE_TEXT),
    vct: requireString(input, "vct", REFERENCE_TEXT),
    statusListUri: requireString(input, "statusListUri", REFERENCE_TEXT),
    statusListIndex,
  };
}

@Info({ title: "CredentialContract", description: "The verifiable credentials behind identities and their reported status" })
export class CredentialContract extends ConsentLedgerContract {
  constructor() {
    super("credential");
  }

  /**
   * Records the credential that backs the caller's attributes: the reference the onboarding service
   * returned, whose SHA-256 must be the caller's consent.credentialRef. The first identity to record a
   * credential fixes the organisation whose status checker reports on it; identities of another
   * organisation cannot record it. Idempotent. Its holders may request access only once recorded.
   * @param referenceJson `{"issuer", "credentialId", "vct", "statusListUri", "statusListIndex", "hash"?}`
   * @returns CredentialRecord as JSON (without holders)
   */
  @Transaction()
  @Returns("string")
  async RecordCredential(ctx: ConsentContext, referenceJson: string): Promise<string> {
    const caller = ctx.caller();
    const hash = requireCredentialRef(caller);
    const input = parseJsonObject(referenceJson, "reference");
    const reference = parseReference(input);
    const computed = sha256Hex(canonicalJson(reference));
    if (input.hash !== undefined && input.hash !== computed) {
      fail(ErrorCode.INVALID_ARGUMENT, `hash ${String(input.hash).slice(0, 80)} is not the reference's hash ${computed}`);
    }
    if (computed !== hash) {
      fail(ErrorCode.FORBIDDEN, `the reference hashes to ${computed}; the caller's certificate names ${hash}`);
    }
    const now = ctx.now();
    const credentialKey = key(ctx, KeyType.Credential, hash);
    let stored = await readJson<StoredCredential>(ctx, credentialKey);
    if (!stored) {
      stored = { hash, ...reference, mspId: caller.mspId, recordedAt: now };
      await writeJson(ctx, credentialKey, stored);
    } else if (stored.mspId !== caller.mspId) {
      fail(ErrorCode.FORBIDDEN, `credential ${hash} backs identities of ${stored.mspId}, not of ${caller.mspId}`);
    }
    const holderKey = key(ctx, KeyType.CredentialHolder, hash, caller.key);
    if (!(await readJson<StoredHolder>(ctx, holderKey))) {
      const holder: StoredHolder = { mspId: caller.mspId, recordedAt: now };
      await writeJson(ctx, holderKey, holder);
      ctx.emit({
        type: "CredentialRecorded",
        hash,
        holderKey: caller.key,
        mspId: caller.mspId,
        issuer: stored.issuer,
        credentialId: stored.credentialId,
        vct: stored.vct,
      });
    }
    return canonicalJson(this.record(stored, await readCredentialStatus(ctx, hash), []));
  }

  /**
   * A status check's result for a recorded credential, from the status checker of the organisation whose
   * identities rest on it. Refused (STALE_REPORT) when checked before the last report recorded. A change
   * from valid to revoked, suspended or untrusted ends every open grant issued on the credential (event
   * GrantsInvalidated with credentialRef; ListCredentialInvalidatedGrants names them) and
   * stops new ones; back to valid (from suspended or untrusted), new grants may be issued again. A
   * revocation is permanent (INVALID_TRANSITION for any other status after it).
   * @param reportJson `{"hash": 0x.., "status": "valid"|"revoked"|"suspended"|"untrusted", "checkedAt": unix ms}`
   * @returns CredentialRecord as JSON (without holders)
   */
  @Transaction()
  @Returns("string")
  async ReportCredentialStatus(ctx: ConsentContext, reportJson: string): Promise<string> {
    const caller = ctx.requireRole(Role.StatusChecker);
    const input = parseJsonObject(reportJson, "report");
    const hash = requireString(input, "hash", BYTES32);
    const status = requireString(input, "status");
    if (!CREDENTIAL_STATUSES.includes(status)) {
      fail(ErrorCode.INVALID_ARGUMENT, `status "${status.slice(0, 40)}" is not one of ${CREDENTIAL_STATUSES.join(", ")}`);
    }
    const checkedAt = input.checkedAt;
    // a report from the future would make every later report look stale
    const latest = ctx.timestampMillis() + ctx.clock.maxSkewSeconds * 1000;
    if (typeof checkedAt !== "number" || !Number.isSafeInteger(checkedAt) || checkedAt < 0 || checkedAt > latest) {
      fail(ErrorCode.INVALID_ARGUMENT, `checkedAt must be unix ms, at most the transaction time plus the clock skew (${latest})`);
    }
    const stored = await this.requireCredential(ctx, hash);
    if (stored.mspId !== caller.mspId) {
      fail(ErrorCode.FORBIDDEN, `credential ${hash} backs identities of ${stored.mspId}: its status checker reports on it, not ${caller.mspId}'s`);
    }
    const current = await readCredentialStatus(ctx, hash);
    if (checkedAt < current.checkedAt || (checkedAt === current.checkedAt && status !== current.status)) {
      fail(
        ErrorCode.STALE_REPORT,
        `credential ${hash} was checked at ${checkedAt}; the last report recorded was checked at ${current.checkedAt} (${current.status})`,
      );
    }
    if (checkedAt === current.checkedAt) {
      return canonicalJson(this.record(stored, current, [])); // the same report delivered again
    }
    if (current.status === CredentialStatusName.Revoked && status !== CredentialStatusName.Revoked) {
      // as in the issuer's status list: a revoked credential never backs anything again (a new one is issued)
      fail(ErrorCode.INVALID_TRANSITION, `credential ${hash} is revoked, which is permanent; a ${status} report cannot change it`);
    }
    const now = ctx.now();
    const changed = status !== current.status;
    const next: StoredCredentialStatus = changed
      ? { status: status as CredentialStatusName, checkedAt, epoch: ctx.stub.getTxID(), changedAt: now }
      : { ...current, checkedAt };
    await writeJson(ctx, key(ctx, KeyType.CredentialStatus, hash), next);
    if (changed) {
      ctx.emit({
        type: "CredentialStatusChanged",
        hash,
        previous: current.status,
        status,
        checkedAt,
        issuer: stored.issuer,
        credentialId: stored.credentialId,
      });
      if (current.status === CredentialStatusName.Valid) {
        ctx.emit({ type: "GrantsInvalidated", credentialRef: hash, cause: invalidationCause(status), invalidatedAt: now });
      }
    }
    return canonicalJson(this.record(stored, next, []));
  }

  /**
   * The credential record with its status and the identities that recorded it. Auditors, the status
   * checkers of its organisation, and its holders.
   */
  @Transaction(false)
  @Returns("string")
  async GetCredential(ctx: ConsentContext, hash: string): Promise<string> {
    if (!BYTES32.test(hash)) {
      fail(ErrorCode.INVALID_ARGUMENT, `hash "${hash.slice(0, 80)}" must be 0x-prefixed lowercase 64-hex`);
    }
    const stored = await this.requireCredential(ctx, hash);
    const caller = ctx.caller();
    if (caller.role !== Role.Auditor && caller.credentialRef !== hash && !this.isStatusCheckerOf(caller, stored)) {
      fail(ErrorCode.FORBIDDEN, `credential ${hash} may be read by its holders, ${stored.mspId}'s status checkers and auditors`);
    }
    const holders = await readRange(
      ctx,
      KeyType.CredentialHolder,
      [hash],
      (entry): CredentialHolder => ({ holderKey: entry.attributes[1], ...entryJson<StoredHolder>(entry) }),
      { pageSize: MAX_HOLDERS_LISTED, bookmark: "" },
    );
    const record = this.record(stored, await readCredentialStatus(ctx, hash), holders.records);
    record.holdersTruncated = holders.bookmark !== "";
    return canonicalJson(record);
  }

  /**
   * The grants the status report `voidingTxId` ended: those issued on the credential while it was valid,
   * before the report, and unexpired at its time. What a follower of a GrantsInvalidated event with
   * credentialRef reads. Auditors and the status checkers of the credential's organisation.
   */
  @Transaction(false)
  @Returns("string")
  async ListCredentialInvalidatedGrants(ctx: ConsentContext, hash: string, voidingTxId: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    const caller = ctx.requireRole(Role.Auditor, Role.StatusChecker);
    if (!BYTES32.test(hash)) {
      fail(ErrorCode.INVALID_ARGUMENT, `hash "${hash.slice(0, 80)}" must be 0x-prefixed lowercase 64-hex`);
    }
    const stored = await this.requireCredential(ctx, hash);
    if (caller.role === Role.StatusChecker && !this.isStatusCheckerOf(caller, stored)) {
      fail(ErrorCode.FORBIDDEN, `credential ${hash} backs identities of ${stored.mspId}, not of ${caller.mspId}`);
    }
    const voiding = (await CredentialHistory.read(ctx, hash)).voidedBy(voidingTxId);
    if (!voiding) {
      fail(ErrorCode.NOT_FOUND, `transaction ${voidingTxId.slice(0, 80)} ended no valid status of credential ${hash} (on this peer's ledger)`);
    }
    return pageJson(
      await readRange(
        ctx,
        KeyType.CredentialGrant,
        [hash, voiding.epoch],
        (entry) => (entryJson<{ expiresAt: number }>(entry).expiresAt > voiding.voidedAt ? entry.attributes[2] : null),
        page,
      ),
    );
  }

  private async requireCredential(ctx: ConsentContext, hash: string): Promise<StoredCredential> {
    const stored = await readJson<StoredCredential>(ctx, key(ctx, KeyType.Credential, hash));
    if (!stored) {
      fail(ErrorCode.NOT_FOUND, `credential ${hash} has not been recorded`);
    }
    return stored;
  }

  private isStatusCheckerOf(caller: Caller, stored: StoredCredential): boolean {
    return caller.role === Role.StatusChecker && caller.mspId === stored.mspId;
  }

  private record(stored: StoredCredential, status: StoredCredentialStatus, holders: CredentialHolder[]): CredentialRecord {
    return {
      ...stored,
      status: status.status,
      checkedAt: status.checkedAt,
      statusChangedAt: status.changedAt,
      epoch: status.epoch,
      holders,
      holdersTruncated: false,
    };
  }
}
