// What a decision reads, and how a change of consent reaches it without ever conflicting with a request.
//
// member~R~S holds, for each data subject S of resource R, a summary of S's covering consent for R. A
// request reads R's whole member range (one range query: on Fabric a Merkle summary in the read/write set,
// whatever the size of R). Every consent transaction that changes what a decision about S in R would be
// rewrites member~R~S, so a request endorsed before that change commits fails validation (a phantom read of
// its member range). The change itself reads only single keys no request writes (the consent, the subject,
// coverage~S~R, member~R~S), so no number of concurrent requests can invalidate it.
//
// Grants issued before such a change die with it if they released that subject: each grant records the
// epoch of its resource (the txId of the last voiding change on R, "genesis" before any) and the member
// slots it released; a voiding change blind-writes a new epoch~R naming the slots it affects. A grant is
// void from the first change after its epoch that names one of its slots (read from the history of
// epoch~R, which orders the changes). Blind writes do not conflict, so concurrent withdrawals on one
// dataset do not invalidate one another either.
import { ConsentContext } from "./context";
import { KeyType, key } from "./keys";
import { ConsentRecord } from "./model";
import { readJson, restrictToOrgs, writeJson } from "./store";
import { ConsentStatus } from "./vocabulary";

/** The epoch of a resource before any change has voided its grants. */
export const GENESIS_EPOCH = "genesis";

/** The decision-relevant terms of a consent (what denialReasons reads). */
export interface ConsentSummary {
  consentId: string;
  version: number;
  status: string;
  validFrom: number;
  validUntil: number;
  purposes: string[];
  buyerTypes: string[];
  jurisdictions: string[];
  legalBasis: string;
  /** true when a data category is a GDPR Art. 9 special category */
  specialCategory: boolean;
}

/** member~R~S: a data subject of a resource. */
export interface MemberEntry {
  /** the subject's position in the resource's access-log bitmaps; never reused */
  slot: number;
  /** the resource's controller (whose peers endorse every change of the entry, with the custodian's) */
  controllerMsp: string;
  /** the subject's covering consent for the resource, or null when it has none */
  consent: ConsentSummary | null;
}

/** epoch~R: the last change that voided grants on the resource. */
export interface EpochRecord {
  /** txId of that change: the epoch grants issued since carry */
  epoch: string;
  /** ConsentWithdrawn, ConsentRevoked, ConsentUpdated, ConsentSuperseded or SubjectRemoved */
  cause: string;
  /** unix seconds */
  voidedAt: number;
  /** the member slots whose subjects it concerns: it voids the grants that released one of them */
  slots: number[];
}

export function summarize(record: ConsentRecord): ConsentSummary {
  return {
    consentId: record.consentId,
    version: record.version,
    status: record.status,
    validFrom: record.validFrom,
    validUntil: record.validUntil,
    purposes: record.purposes,
    buyerTypes: record.buyerTypes,
    jurisdictions: record.jurisdictions,
    legalBasis: record.legalBasis,
    specialCategory: record.dataCategories.some((category) => category.specialCategory),
  };
}

/** A consent a grant may have been built on (given, and not withdrawn, revoked or refused). */
export function mayHaveGrants(summary: ConsentSummary | null): boolean {
  return summary !== null && (summary.status === ConsentStatus.Given || summary.status === ConsentStatus.RenewedGiven);
}

export function readMember(ctx: ConsentContext, resourceId: string, subjectId: string): Promise<MemberEntry | null> {
  return readJson<MemberEntry>(ctx, key(ctx, KeyType.Member, resourceId, subjectId));
}

/**
 * Writes a member entry. Its key-level policy needs the peers of the resource's controller and of the
 * subject's custodian: the entry says which subject is in the data and what that subject consented to.
 */
export async function writeMember(ctx: ConsentContext, resourceId: string, subjectId: string, entry: MemberEntry, custodianMsp: string | null): Promise<void> {
  const memberKey = key(ctx, KeyType.Member, resourceId, subjectId);
  await writeJson(ctx, memberKey, entry);
  await restrictToOrgs(ctx, memberKey, custodianMsp === null ? [entry.controllerMsp] : [entry.controllerMsp, custodianMsp]);
}

export async function currentEpoch(ctx: ConsentContext, resourceId: string): Promise<string> {
  return (await readJson<EpochRecord>(ctx, key(ctx, KeyType.Epoch, resourceId)))?.epoch ?? GENESIS_EPOCH;
}

/**
 * Voids the grants issued on the resource so far that released the member in `slot`: a blind write of a
 * new epoch (no read, so concurrent voids never conflict), naming every slot this transaction voids on the
 * resource. The transaction's GrantsInvalidated event (emitted after its other events) names the resources.
 */
export async function voidGrants(ctx: ConsentContext, resourceId: string, cause: string, slot: number): Promise<void> {
  const voided = ctx.voided.get(resourceId) ?? { cause, slots: [] };
  if (!voided.slots.includes(slot)) {
    voided.slots.push(slot);
  }
  ctx.voided.set(resourceId, voided);
  const record: EpochRecord = { epoch: ctx.stub.getTxID(), cause: voided.cause, voidedAt: ctx.now(), slots: [...voided.slots].sort((a, b) => a - b) };
  await writeJson(ctx, key(ctx, KeyType.Epoch, resourceId), record);
}

/**
 * Sets what a decision about `subjectId` in `resourceId` reads to `consent`, if the subject is a member of
 * the resource. When the member's previous consent may have had grants built on it and `voidCause` is
 * given, those grants are voided.
 */
export async function applyCoverage(
  ctx: ConsentContext,
  resourceId: string,
  subjectId: string,
  custodianMsp: string,
  consent: ConsentSummary | null,
  voidCause: string | null,
): Promise<void> {
  const member = await readMember(ctx, resourceId, subjectId);
  if (!member) {
    return;
  }
  const hadGrants = mayHaveGrants(member.consent);
  member.consent = consent;
  await writeMember(ctx, resourceId, subjectId, member, custodianMsp);
  if (hadGrants && voidCause !== null) {
    await voidGrants(ctx, resourceId, voidCause, member.slot);
  }
}
