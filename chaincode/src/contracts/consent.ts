// ConsentContract: dynamic consent (request, give, refuse, update, withdraw, revoke, renew) on
// ISO/IEC TS 27560-shaped records with DPV values, their history, and erasure of private details.
import { Info, Returns, Transaction } from "fabric-contract-api";
import { canonicalJson, sha256Hex } from "../canonical";
import { ConsentContext, Role } from "../context";
import { ErrorCode, fail } from "../errors";
import { KeyType, SUBJECT_DETAILS_COLLECTION, key } from "../keys";
import { applyCoverage, summarize } from "../membership";
import { ConsentRecord, SubjectRecord } from "../model";
import {
  ConsentLedgerContract,
  INDEX_MARKER,
  effectiveStatus,
  pageJson,
  readJson,
  readRange,
  requireActForSubject,
  requireReadSubject,
  requireSubject,
  restrictToOrgs,
  writeJson,
} from "../store";
import { BYTES32, Json, SUBJECT_ID, controllerName, pageArguments, parseJsonObject, requireList, requireSeconds, requireString } from "../validation";
import { BUYER_TYPES, ConsentStatus, DATA_CATEGORIES, LEGAL_BASES, isAllowedJurisdictionEntry, isKnownPurpose } from "../vocabulary";

/** The terms of a consent: everything a subject agrees to, validated. */
type ConsentTerms = Pick<
  ConsentRecord,
  | "subjectId"
  | "controller"
  | "resources"
  | "purposes"
  | "dataCategories"
  | "buyerTypes"
  | "jurisdictions"
  | "legalBasis"
  | "validFrom"
  | "validUntil"
  | "noticeHash"
>;

/** Largest private-details document (bytes) accepted in the transient map. */
const MAX_DETAILS_BYTES = 16 * 1024;

function parseTerms(input: Json, now: number): ConsentTerms {
  const subjectId = requireString(input, "subjectId", SUBJECT_ID);
  const controller = controllerName(input);
  const resources = requireList(input, "resources", (entry) => BYTES32.test(entry));
  const purposes = requireList(input, "purposes", isKnownPurpose, ErrorCode.UNKNOWN_PURPOSE);
  const categories = requireList(input, "dataCategories", (entry) => Object.prototype.hasOwnProperty.call(DATA_CATEGORIES, entry));
  const buyerTypes = requireList(input, "buyerTypes", (entry) => BUYER_TYPES.includes(entry));
  const jurisdictions = requireList(input, "jurisdictions", isAllowedJurisdictionEntry);
  const legalBasis = requireString(input, "legalBasis");
  if (!Object.prototype.hasOwnProperty.call(LEGAL_BASES, legalBasis)) {
    fail(ErrorCode.INVALID_ARGUMENT, `legalBasis "${legalBasis.slice(0, 40)}" is not one of ${Object.keys(LEGAL_BASES).join(", ")}`);
  }
  const validFrom = input.validFrom === undefined ? now : requireSeconds(input, "validFrom");
  const validUntil = requireSeconds(input, "validUntil");
  if (validUntil <= validFrom || validUntil <= now) {
    fail(ErrorCode.INVALID_ARGUMENT, `validUntil ${validUntil} must be after validFrom ${validFrom} and after now ${now}`);
  }
  const noticeHash = requireString(input, "noticeHash", BYTES32);
  return {
    subjectId,
    controller,
    resources,
    purposes,
    buyerTypes,
    jurisdictions,
    legalBasis,
    validFrom,
    validUntil,
    noticeHash,
    dataCategories: categories.map((category) => ({ category, specialCategory: DATA_CATEGORIES[category] })),
  };
}

@Info({ title: "ConsentContract", description: "Dynamic consent records after ISO/IEC TS 27560 with W3C DPV values" })
export class ConsentContract extends ConsentLedgerContract {
  constructor() {
    super("consent");
  }

  /**
   * Asks a subject for consent: records the proposed terms as ConsentRequested. Custodian only.
   * @param termsJson ConsentTerms as JSON
   */
  @Transaction()
  @Returns("string")
  async RequestConsent(ctx: ConsentContext, termsJson: string): Promise<string> {
    const caller = ctx.requireRole(Role.Custodian);
    const terms = parseTerms(parseJsonObject(termsJson, "terms"), ctx.now());
    const subject = await this.subjectForWrite(ctx, terms.subjectId, caller.mspId);
    requireActForSubject(ctx, subject);
    const record = await this.create(ctx, subject, terms, ConsentStatus.Requested);
    return canonicalJson(record);
  }

  /**
   * Records consent as ConsentGiven: either new terms, or `{"consentId": ...}` of a pending request.
   * The subject's custodian (or the subject) only. Optional transient "subjectDetails" (JSON object)
   * goes to the subjectDetails private data collection; only its hash reaches the channel ledger.
   */
  @Transaction()
  @Returns("string")
  async GiveConsent(ctx: ConsentContext, termsJson: string): Promise<string> {
    const input = parseJsonObject(termsJson, "terms");
    const details = this.transientDetails(ctx);
    if (typeof input.consentId === "string" && Object.keys(input).length === 1) {
      const record = await this.requireRecord(ctx, input.consentId);
      const subject = await requireSubject(ctx, record.subjectId);
      requireActForSubject(ctx, subject);
      this.requireStatus(record, [ConsentStatus.Requested], "give");
      if (ctx.now() >= record.validUntil) {
        fail(ErrorCode.INVALID_TRANSITION, `consent ${record.consentId} request lapsed at ${record.validUntil}`);
      }
      await this.storeDetails(ctx, subject, details);
      await this.setStatus(ctx, record, ConsentStatus.Given);
      await this.cover(ctx, subject, record, "ConsentSuperseded");
      return canonicalJson(record);
    }
    const caller = ctx.caller();
    const terms = parseTerms(input, ctx.now());
    const subject = await this.subjectForWrite(ctx, terms.subjectId, caller.mspId);
    requireActForSubject(ctx, subject);
    await this.storeDetails(ctx, subject, details);
    const record = await this.create(ctx, subject, terms, ConsentStatus.Given);
    await this.cover(ctx, subject, record, "ConsentSuperseded");
    return canonicalJson(record);
  }

  /** The subject declines a pending request: ConsentRequested -> ConsentRefused. */
  @Transaction()
  @Returns("string")
  async RefuseConsent(ctx: ConsentContext, consentId: string): Promise<string> {
    const { record } = await this.recordForSubjectAction(ctx, consentId);
    this.requireStatus(record, [ConsentStatus.Requested], "refuse");
    await this.setStatus(ctx, record, ConsentStatus.Refused);
    return canonicalJson(record);
  }

  /**
   * Replaces the terms of a given consent (version + 1). Grants on the resources it covered are voided,
   * since the new terms may no longer allow them.
   * @param updateJson `{"consentId": ..., ...ConsentTerms}` (subjectId must not change)
   */
  @Transaction()
  @Returns("string")
  async UpdateConsent(ctx: ConsentContext, updateJson: string): Promise<string> {
    const input = parseJsonObject(updateJson, "update");
    const consentId = requireString(input, "consentId", BYTES32);
    const { record, subject } = await this.recordForSubjectAction(ctx, consentId);
    const terms = parseTerms(input, ctx.now());
    if (terms.subjectId !== record.subjectId) {
      fail(ErrorCode.INVALID_ARGUMENT, `subjectId ${terms.subjectId} differs from the consent's subject ${record.subjectId}`);
    }
    this.requireStatus(record, [ConsentStatus.Given, ConsentStatus.RenewedGiven], "update");
    ctx.voidedBy = { consentId };
    for (const resourceId of record.resources) {
      if (!terms.resources.includes(resourceId) && (await this.covers(ctx, record, resourceId))) {
        await ctx.stub.deleteState(key(ctx, KeyType.Coverage, record.subjectId, resourceId));
        await applyCoverage(ctx, resourceId, record.subjectId, subject.custodianMsp, null, "ConsentUpdated");
      }
    }
    Object.assign(record, terms);
    record.version += 1;
    await this.setStatus(ctx, record, record.status);
    await this.cover(ctx, subject, record, "ConsentUpdated");
    return canonicalJson(record);
  }

  /** The subject (or its custodian on its instruction) withdraws consent; grants built on it are voided. */
  @Transaction()
  @Returns("string")
  async WithdrawConsent(ctx: ConsentContext, consentId: string): Promise<string> {
    return this.end(ctx, consentId, ConsentStatus.Withdrawn, "withdraw");
  }

  /** The custodian revokes a consent (e.g. found invalid); grants built on it are voided. Custodian only. */
  @Transaction()
  @Returns("string")
  async RevokeConsent(ctx: ConsentContext, consentId: string): Promise<string> {
    ctx.requireRole(Role.Custodian);
    return this.end(ctx, consentId, ConsentStatus.Revoked, "revoke");
  }

  /**
   * Extends a given (or expired) consent to a new validUntil: RenewedConsentGiven, version + 1.
   * @param renewJson `{"consentId": ..., "validUntil": unix seconds}`
   */
  @Transaction()
  @Returns("string")
  async RenewConsent(ctx: ConsentContext, renewJson: string): Promise<string> {
    const input = parseJsonObject(renewJson, "renewal");
    const consentId = requireString(input, "consentId", BYTES32);
    const validUntil = requireSeconds(input, "validUntil");
    const { record, subject } = await this.recordForSubjectAction(ctx, consentId);
    this.requireStatus(record, [ConsentStatus.Given, ConsentStatus.RenewedGiven], "renew");
    if (validUntil <= ctx.now() || validUntil <= record.validFrom) {
      fail(ErrorCode.INVALID_ARGUMENT, `validUntil ${validUntil} must be after now ${ctx.now()} and validFrom ${record.validFrom}`);
    }
    record.validUntil = validUntil;
    record.version += 1;
    await this.setStatus(ctx, record, ConsentStatus.RenewedGiven);
    // a longer validity narrows no decision: the grants stand
    await this.applyToCoveredResources(ctx, subject, record, null);
    return canonicalJson(record);
  }

  /** The consent record with its status as of the transaction time (ConsentExpired once lapsed). */
  @Transaction(false)
  @Returns("string")
  async GetConsent(ctx: ConsentContext, consentId: string): Promise<string> {
    const record = await this.requireRecord(ctx, consentId);
    requireReadSubject(ctx, await requireSubject(ctx, record.subjectId));
    record.status = effectiveStatus(record.status, record.validUntil, ctx.now());
    return canonicalJson(record);
  }

  /** Every committed version of a consent record, oldest first, with txId and timestamp. */
  @Transaction(false)
  @Returns("string")
  async GetConsentHistory(ctx: ConsentContext, consentId: string): Promise<string> {
    const record = await this.requireRecord(ctx, consentId);
    requireReadSubject(ctx, await requireSubject(ctx, record.subjectId));
    const history: Array<{ txId: string; timestamp: number; isDelete: boolean; record: ConsentRecord | null }> = [];
    const iterator = await ctx.stub.getHistoryForKey(key(ctx, KeyType.Consent, consentId));
    try {
      for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
        const { txId, timestamp, isDelete, value } = entry.value;
        history.push({
          txId,
          timestamp: Number(timestamp.seconds.toString()),
          isDelete,
          record: isDelete ? null : (JSON.parse(Buffer.from(value).toString("utf8")) as ConsentRecord),
        });
      }
    } finally {
      await iterator.close();
    }
    return canonicalJson(history);
  }

  /** A page of a subject's consent records, in consentId order. */
  @Transaction(false)
  @Returns("string")
  async ListSubjectConsents(ctx: ConsentContext, subjectId: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    requireReadSubject(ctx, await requireSubject(ctx, subjectId));
    const result = await readRange(
      ctx,
      KeyType.SubjectConsent,
      [subjectId],
      async ({ attributes }) => {
        const record = await this.requireRecord(ctx, attributes[1]);
        record.status = effectiveStatus(record.status, record.validUntil, ctx.now());
        return record;
      },
      page,
    );
    return pageJson(result);
  }

  /** The subject record (custodian, hash of the private details). */
  @Transaction(false)
  @Returns("string")
  async GetSubject(ctx: ConsentContext, subjectId: string): Promise<string> {
    const subject = await requireSubject(ctx, subjectId);
    requireReadSubject(ctx, subject);
    return canonicalJson(subject);
  }

  /**
   * Right to erasure: purges the subject's private details from the collection (every peer, with
   * its history) and clears the hash on the channel. Custodian only.
   */
  @Transaction()
  @Returns("string")
  async EraseSubjectDetails(ctx: ConsentContext, subjectId: string): Promise<string> {
    ctx.requireRole(Role.Custodian);
    const subject = await requireSubject(ctx, subjectId);
    requireActForSubject(ctx, subject);
    if (subject.detailsHash === "") {
      fail(ErrorCode.NOT_FOUND, `subject ${subjectId} has no private details to erase`);
    }
    await ctx.stub.purgePrivateData(SUBJECT_DETAILS_COLLECTION, subjectId);
    subject.detailsHash = "";
    await writeJson(ctx, key(ctx, KeyType.Subject, subjectId), subject);
    ctx.emit({ type: "SubjectDetailsErased", subjectId });
    return canonicalJson(subject);
  }

  private async requireRecord(ctx: ConsentContext, consentId: string): Promise<ConsentRecord> {
    if (!BYTES32.test(consentId)) {
      fail(ErrorCode.INVALID_ARGUMENT, `consentId "${consentId.slice(0, 80)}" must be 0x-prefixed lowercase 64-hex`);
    }
    const record = await readJson<ConsentRecord>(ctx, key(ctx, KeyType.Consent, consentId));
    if (!record) {
      fail(ErrorCode.NOT_FOUND, `consent ${consentId} does not exist`);
    }
    return record;
  }

  private async recordForSubjectAction(ctx: ConsentContext, consentId: string): Promise<{ record: ConsentRecord; subject: SubjectRecord }> {
    const record = await this.requireRecord(ctx, consentId);
    const subject = await requireSubject(ctx, record.subjectId);
    requireActForSubject(ctx, subject);
    return { record, subject };
  }

  /** Withdrawal or revocation: a single-key write per covered resource, and the grants built on it voided. */
  private async end(ctx: ConsentContext, consentId: string, status: string, action: string): Promise<string> {
    const { record, subject } = await this.recordForSubjectAction(ctx, consentId);
    this.requireStatus(record, [ConsentStatus.Given, ConsentStatus.RenewedGiven], action);
    ctx.voidedBy = { consentId };
    await this.setStatus(ctx, record, status);
    await this.applyToCoveredResources(ctx, subject, record, status);
    return canonicalJson(record);
  }

  private requireStatus(record: ConsentRecord, allowed: string[], action: string): void {
    if (!allowed.includes(record.status)) {
      fail(ErrorCode.INVALID_TRANSITION, `cannot ${action} consent ${record.consentId} in status ${record.status}`);
    }
  }

  /** The subject record, created on first use by a custodian (which becomes its custodian). */
  private async subjectForWrite(ctx: ConsentContext, subjectId: string, mspId: string): Promise<SubjectRecord> {
    const subjectKey = key(ctx, KeyType.Subject, subjectId);
    const existing = await readJson<SubjectRecord>(ctx, subjectKey);
    if (existing) {
      return existing;
    }
    ctx.requireRole(Role.Custodian);
    const subject: SubjectRecord = { subjectId, custodianMsp: mspId, detailsHash: "", createdAt: ctx.now() };
    await writeJson(ctx, subjectKey, subject);
    await restrictToOrgs(ctx, subjectKey, [mspId]);
    ctx.emit({ type: "SubjectRegistered", subjectId, custodianMsp: mspId });
    return subject;
  }

  private transientDetails(ctx: ConsentContext): Uint8Array | null {
    const details = ctx.stub.getTransient().get("subjectDetails");
    if (!details || details.length === 0) {
      return null;
    }
    if (details.length > MAX_DETAILS_BYTES) {
      fail(ErrorCode.ARGUMENT_TOO_LARGE, `transient subjectDetails is ${details.length} bytes, the limit is ${MAX_DETAILS_BYTES}`);
    }
    const parsed = parseJsonObject(Buffer.from(details).toString("utf8"), "transient subjectDetails");
    return Buffer.from(canonicalJson(parsed), "utf8");
  }

  private async storeDetails(ctx: ConsentContext, subject: SubjectRecord, details: Uint8Array | null): Promise<void> {
    if (details === null) {
      return;
    }
    if (ctx.caller().role !== Role.Custodian) {
      fail(ErrorCode.FORBIDDEN, "only the custodian stores subject details");
    }
    await ctx.stub.putPrivateData(SUBJECT_DETAILS_COLLECTION, subject.subjectId, details);
    subject.detailsHash = sha256Hex(details);
    await writeJson(ctx, key(ctx, KeyType.Subject, subject.subjectId), subject);
  }

  private async create(ctx: ConsentContext, subject: SubjectRecord, terms: ConsentTerms, status: string): Promise<ConsentRecord> {
    const now = ctx.now();
    const record: ConsentRecord = {
      schema: "consent-record/1",
      consentId: sha256Hex(ctx.stub.getTxID()),
      version: 1,
      custodianMsp: subject.custodianMsp,
      ...terms,
      status,
      createdAt: now,
      updatedAt: now,
      lastTxId: ctx.stub.getTxID(),
    };
    const consentKey = key(ctx, KeyType.Consent, record.consentId);
    await writeJson(ctx, consentKey, record);
    await restrictToOrgs(ctx, consentKey, [record.custodianMsp]);
    await ctx.stub.putState(key(ctx, KeyType.SubjectConsent, record.subjectId, record.consentId), INDEX_MARKER);
    ctx.emit({ type: "ConsentChanged", consentId: record.consentId, subjectId: record.subjectId, status, version: 1 });
    return record;
  }

  private async setStatus(ctx: ConsentContext, record: ConsentRecord, status: string): Promise<void> {
    record.status = status;
    record.updatedAt = ctx.now();
    record.lastTxId = ctx.stub.getTxID();
    await writeJson(ctx, key(ctx, KeyType.Consent, record.consentId), record);
    ctx.emit({ type: "ConsentChanged", consentId: record.consentId, subjectId: record.subjectId, status, version: record.version });
  }

  /**
   * Makes this consent the covering one of its subject for each resource it names (coverage~S~R), and
   * what decisions on those resources read. A member whose previous consent may have had grants gets
   * them voided with `voidCause`.
   */
  private async cover(ctx: ConsentContext, subject: SubjectRecord, record: ConsentRecord, voidCause: string): Promise<void> {
    ctx.voidedBy = { consentId: record.consentId };
    const summary = summarize(record);
    for (const resourceId of record.resources) {
      await ctx.stub.putState(key(ctx, KeyType.Coverage, record.subjectId, resourceId), Buffer.from(record.consentId, "utf8"));
      await applyCoverage(ctx, resourceId, record.subjectId, subject.custodianMsp, summary, voidCause);
    }
  }

  /** Carries a change of this consent to the resources it still covers (not those a newer consent took over). */
  private async applyToCoveredResources(ctx: ConsentContext, subject: SubjectRecord, record: ConsentRecord, voidCause: string | null): Promise<void> {
    const summary = summarize(record);
    for (const resourceId of record.resources) {
      if (await this.covers(ctx, record, resourceId)) {
        await applyCoverage(ctx, resourceId, record.subjectId, subject.custodianMsp, summary, voidCause);
      }
    }
  }

  private async covers(ctx: ConsentContext, record: ConsentRecord, resourceId: string): Promise<boolean> {
    const current = await ctx.stub.getState(key(ctx, KeyType.Coverage, record.subjectId, resourceId));
    return current !== undefined && Buffer.from(current).toString("utf8") === record.consentId;
  }
}
