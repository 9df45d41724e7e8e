// Typed reads and writes of the world state, the base contract every contract extends (the clock check
// before every transaction, the one event after it), and the subject access rules several contracts need.
import { Contract } from "fabric-contract-api";
import { KeyEndorsementPolicy } from "fabric-shim";
import { canonicalJson, toBytes } from "./canonical";
import { ChaincodeHost, PROCESS_HOST, clockPolicy, requireTimestampWithinSkew } from "./clock";
import { Caller, ConsentContext, EVENT_NAME, Role } from "./context";
import { ErrorCode, fail } from "./errors";
import { KeyType, key } from "./keys";
import { SubjectRecord } from "./model";
import { ConsentStatus, VALID_STATUSES } from "./vocabulary";

export async function readJson<T>(ctx: ConsentContext, stateKey: string): Promise<T | null> {
  const bytes = await ctx.stub.getState(stateKey);
  if (!bytes || bytes.length === 0) {
    return null;
  }
  return JSON.parse(Buffer.from(bytes).toString("utf8")) as T;
}

export async function writeJson(ctx: ConsentContext, stateKey: string, value: unknown): Promise<void> {
  await ctx.stub.putState(stateKey, toBytes(value));
}

/** Marker value of index keys (Fabric treats an empty value as a delete, so store one byte). */
export const INDEX_MARKER = new Uint8Array([0]);

/**
 * State-based endorsement: a key owned by organisations must be endorsed by the peers of each of them,
 * whatever the chaincode-level policy says.
 */
export async function restrictToOrgs(ctx: ConsentContext, stateKey: string, mspIds: string[]): Promise<void> {
  const policy = new KeyEndorsementPolicy();
  policy.addOrgs("MEMBER", ...new Set(mspIds));
  await ctx.stub.setStateValidationParameter(stateKey, policy.getPolicy());
}

export async function requireSubject(ctx: ConsentContext, subjectId: string): Promise<SubjectRecord> {
  const subject = await readJson<SubjectRecord>(ctx, key(ctx, KeyType.Subject, subjectId));
  if (!subject) {
    fail(ErrorCode.NOT_FOUND, `subject ${subjectId} is not registered`);
  }
  return subject;
}

/** The subject's custodian (role custodian in the custodian MSP) or the subject's own identity. */
export function mayActForSubject(caller: Caller, subject: SubjectRecord): boolean {
  if (caller.mspId !== subject.custodianMsp) {
    return false;
  }
  return caller.role === Role.Custodian || (caller.role === Role.Subject && caller.subjectId === subject.subjectId);
}

export function requireActForSubject(ctx: ConsentContext, subject: SubjectRecord): Caller {
  const caller = ctx.caller();
  if (!mayActForSubject(caller, subject)) {
    fail(
      ErrorCode.FORBIDDEN,
      `caller ${caller.mspId} (role ${caller.role ?? "(none)"}) may not act for subject ${subject.subjectId} of custodian ${subject.custodianMsp}`,
    );
  }
  return caller;
}

/** Who may read a subject's consents and access log: those who may act for it, and auditors. */
export function requireReadSubject(ctx: ConsentContext, subject: SubjectRecord): Caller {
  const caller = ctx.caller();
  if (caller.role !== Role.Auditor && !mayActForSubject(caller, subject)) {
    fail(ErrorCode.FORBIDDEN, `caller ${caller.mspId} (role ${caller.role ?? "(none)"}) may not read subject ${subject.subjectId}`);
  }
  return caller;
}

export function isValidStatus(status: string): boolean {
  return VALID_STATUSES.includes(status);
}

/** Status as of `now`: a given consent past its validUntil reads as ConsentExpired. */
export function effectiveStatus(status: string, validUntil: number, now: number): string {
  return isValidStatus(status) && now >= validUntil ? ConsentStatus.Expired : status;
}

/** Every contract of the consent ledger shares the context, the clock check and the one-event-per-transaction rule. */
export abstract class ConsentLedgerContract extends Contract {
  // underscored: fabric-contract-api leaves such members out of the generated metadata
  private _clock = clockPolicy(PROCESS_HOST);

  /**
   * Called by a host that runs the chaincode in its own process (the in-process peer) with the clock and
   * environment the chaincode would have on the peer's machine. A chaincode on a peer never needs it.
   */
  configureHost(host: ChaincodeHost): void {
    this._clock = clockPolicy(host);
  }

  createContext(): ConsentContext {
    const ctx = new ConsentContext();
    ctx.clock = this._clock;
    return ctx;
  }

  /** Refuses a proposal whose timestamp the endorsing peer's clock does not confirm (clock.ts). */
  async beforeTransaction(ctx: ConsentContext): Promise<void> {
    requireTimestampWithinSkew(ctx.clock, ctx.timestampMillis());
  }

  async afterTransaction(ctx: ConsentContext, _result: unknown): Promise<void> {
    if (ctx.voided.size > 0) {
      const resourceIds = [...ctx.voided.keys()].sort();
      ctx.emit({ type: "GrantsInvalidated", ...ctx.voidedBy, resourceIds, cause: ctx.voided.get(resourceIds[0])?.cause, invalidatedAt: ctx.now() });
    }
    if (ctx.events.length > 0) {
      ctx.stub.setEvent(EVENT_NAME, Buffer.from(ctx.eventPayload(), "utf8"));
    }
  }
}

/** A page of a paginated query, as every List* transaction returns it. */
export interface Page<T> {
  records: T[];
  /** pass back to get the next page; "" when there is none */
  bookmark: string;
  fetchedRecordsCount: number;
}

/** An entry of a composite-key range: its attributes and its value. */
export interface RangeEntry {
  attributes: string[];
  value: Uint8Array;
}

/**
 * Reads a range over one partial composite key, in key order; `map` turns each entry into a record or null
 * (skipped). With `page`, one page of it (a query only: Fabric refuses writes after a paginated read).
 */
export async function readRange<T>(
  ctx: ConsentContext,
  type: string,
  attributes: string[],
  map: (entry: RangeEntry) => T | null | Promise<T | null>,
  page?: { pageSize: number; bookmark: string },
): Promise<Page<T>> {
  let iterator;
  let metadata: { bookmark: string; fetchedRecordsCount: number } | undefined;
  if (page) {
    ({ iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, attributes, page.pageSize, page.bookmark));
  } else {
    iterator = await ctx.stub.getStateByPartialCompositeKey(type, attributes);
  }
  const records: T[] = [];
  let fetched = 0;
  try {
    for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
      fetched += 1;
      const record = await map({ attributes: ctx.stub.splitCompositeKey(entry.value.key).attributes, value: entry.value.value });
      if (record !== null) {
        records.push(record);
      }
    }
  } finally {
    await iterator.close();
  }
  // an empty page comes without metadata: an empty QueryResponseMetadata serialises to no bytes at all
  return { records, bookmark: metadata?.bookmark ?? "", fetchedRecordsCount: metadata?.fetchedRecordsCount ?? fetched };
}

/** Every committed value of a key, oldest first, with the transaction that wrote it (GetHistoryForKey). */
export async function readHistory<T>(ctx: ConsentContext, stateKey: string): Promise<Array<T & { txId: string }>> {
  const values: Array<T & { txId: string }> = [];
  const iterator = await ctx.stub.getHistoryForKey(stateKey);
  try {
    for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
      values.unshift({ ...(JSON.parse(Buffer.from(entry.value.value).toString("utf8")) as T), txId: entry.value.txId });
    }
  } finally {
    await iterator.close();
  }
  return values;
}

/** The JSON value of a range entry. */
export function entryJson<T>(entry: RangeEntry): T {
  return JSON.parse(Buffer.from(entry.value).toString("utf8")) as T;
}

export function pageJson<T>(page: Page<T>): string {
  return canonicalJson(page);
}
