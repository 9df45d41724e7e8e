// AccessContract: a buyer's access request decided against each data subject's consent, the access
// grant (with the EIP-712 struct hash the Ethereum market checks), and the access logs.
import { Info, Returns, Transaction } from "fabric-contract-api";
import { addressProofText, recoverPersonalSignAddress } from "../addressproof";
import { canonicalJson, sha256Hex } from "../canonical";
import { Caller, ConsentContext, Role } from "../context";
import { CallerCredential, CredentialHistory, callerCredential, credentialDenialReason, invalidationCause, readCredentialStatus } from "../credentials";
import { consentAttestationStructHash, purposeId } from "../eip712";
import { ErrorCode, fail } from "../errors";
import { KeyType, key, sortableSeconds } from "../keys";
import { ConsentSummary, EpochRecord, GENESIS_EPOCH, MemberEntry, currentEpoch } from "../membership";
import { AccessDecision, AccessGrant, ResourceRecord } from "../model";
import { ConsentLedgerContract, Page, entryJson, pageJson, readHistory, readJson, readRange, requireReadSubject, requireSubject, writeJson } from "../store";
import { ADDRESS, BYTES32, optionalString, pageArguments, parseJsonObject, requireSeconds, requireString } from "../validation";
import { BUYER_TYPES, ConsentStatus, DenialReason, EXPLICIT_CONSENT, isKnownPurpose, jurisdictionCovered, purposeCovered } from "../vocabulary";
import { MAX_SUBJECTS_PER_RESOURCE, requireResource } from "./resource";

/** Grant lifetime when the request names none (seconds). */
export const DEFAULT_GRANT_TTL = 3600;
/** Longest grant lifetime a request may ask for (seconds): 30 days. */
export const MAX_GRANT_TTL = 30 * 24 * 3600;

interface AccessRequest {
  resourceId: string | null;
  productId: string | null;
  purpose: string;
  ethAddress: string;
  ethSignature: string | null;
  ttlSeconds: number;
}

/**
 * One line of the access logs. The per-buyer log stores every field. A subject's log is read from the
 * logs of the resources it is in (one entry per decision, not one per subject): txId, timestamp, buyerKey,
 * resourceId, purpose, and this subject's decision, reasons and grantId ("" when its data was not released).
 */
export interface AccessLogEntry {
  txId: string;
  timestamp: number;
  buyerMsp?: string;
  buyerKey: string;
  resourceId: string;
  productId?: string;
  purpose: string;
  decision: "approved" | "denied";
  reasons: string[];
  grantId: string;
  subjectsTotal?: number;
  subjectsApproved?: number;
}

/**
 * accessByResource~R~T~tx: one decision on a resource. The outcome of each subject is a bit at its member
 * slot: in `approved`, or in the bitmap of each of its denial reasons (base64, bit i = byte i >> 3, mask
 * 1 << (i & 7)); so a decision over 10,000 subjects writes one small entry instead of 10,000.
 */
export interface ResourceAccessLogEntry {
  buyerKey: string;
  buyerMsp: string;
  productId: string;
  purpose: string;
  decision: "approved" | "denied";
  reasons: string[];
  grantId: string;
  subjectsTotal: number;
  subjectsApproved: number;
  /** bits in each bitmap: the resource's nextSlot at the decision */
  slotCount: number;
  approved: string;
  deniedBy: Record<string, string>;
}

/** A set of member slots as a bitmap. */
class SlotSet {
  readonly bits: Uint8Array;

  constructor(size: number) {
    this.bits = new Uint8Array(Math.ceil(size / 8));
  }

  add(slot: number): void {
    this.bits[slot >> 3] |= 1 << (slot & 7);
  }

  static has(base64: string, slot: number): boolean {
    const bits = Buffer.from(base64, "base64");
    return slot >> 3 < bits.length && (bits[slot >> 3] & (1 << (slot & 7))) !== 0;
  }

  toString(): string {
    return Buffer.from(this.bits).toString("base64");
  }
}

/** Where ListAccessBySubject resumes: the resource it was reading and the bookmark inside its log. */
interface SubjectLogBookmark {
  resourceId: string;
  bookmark: string;
}

function parseRequest(json: string): AccessRequest {
  const input = parseJsonObject(json, "request");
  const resourceId = optionalString(input, "resourceId", BYTES32);
  const productId = optionalString(input, "productId", BYTES32);
  if (resourceId === null && productId === null) {
    fail(ErrorCode.INVALID_ARGUMENT, "request must name a resourceId or a productId");
  }
  const purpose = requireString(input, "purpose");
  if (!isKnownPurpose(purpose)) {
    fail(ErrorCode.UNKNOWN_PURPOSE, `purpose "${purpose.slice(0, 80)}" is not in the supported DPV subset`);
  }
  const ethAddress = requireString(input, "ethAddress", ADDRESS);
  const ethSignature = optionalString(input, "ethSignature", /^0x[0-9a-fA-F]{130}$/);
  const ttlSeconds = input.ttlSeconds === undefined ? DEFAULT_GRANT_TTL : requireSeconds(input, "ttlSeconds");
  if (ttlSeconds < 1 || ttlSeconds > MAX_GRANT_TTL) {
    fail(ErrorCode.INVALID_ARGUMENT, `ttlSeconds ${ttlSeconds} must be in 1..${MAX_GRANT_TTL}`);
  }
  return { resourceId, productId, purpose, ethAddress, ethSignature, ttlSeconds };
}

/** Every reason `consent` does not allow this request at `now`; empty when it does. */
export function denialReasons(consent: ConsentSummary | null, purpose: string, buyerType: string, jurisdiction: string, now: number): string[] {
  if (!consent || consent.status === ConsentStatus.Requested || consent.status === ConsentStatus.Refused) {
    return [DenialReason.NO_CONSENT];
  }
  if (consent.status === ConsentStatus.Withdrawn) {
    return [DenialReason.WITHDRAWN];
  }
  if (consent.status === ConsentStatus.Revoked) {
    return [DenialReason.REVOKED];
  }
  const reasons: string[] = [];
  if (now < consent.validFrom) {
    reasons.push(DenialReason.NOT_YET_VALID);
  }
  if (now >= consent.validUntil) {
    reasons.push(DenialReason.EXPIRED);
  }
  if (!purposeCovered(consent.purposes, purpose)) {
    reasons.push(DenialReason.PURPOSE_NOT_COVERED);
  }
  if (!consent.buyerTypes.includes(buyerType)) {
    reasons.push(DenialReason.BUYER_TYPE_NOT_ALLOWED);
  }
  if (!jurisdictionCovered(consent.jurisdictions, jurisdiction)) {
    reasons.push(DenialReason.JURISDICTION_NOT_ALLOWED);
  }
  if (consent.specialCategory && consent.legalBasis !== EXPLICIT_CONSENT) {
    reasons.push(DenialReason.SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT);
  }
  return reasons;
}

@Info({ title: "AccessContract", description: "Access decisions, access grants and access logs" })
export class AccessContract extends ConsentLedgerContract {
  constructor() {
    super("access");
  }

  /**
   * Decides a buyer's request for a resource (or the resource a market product licenses) and a DPV
   * purpose. The buyer, its type and jurisdiction come from its certificate; its Ethereum address
   * must be in the certificate or proven by a personal_sign signature (see addressProofText).
   * Approval writes an AccessGrant covering the approved subjects; every decision is logged.
   * @param requestJson `{"resourceId"|"productId": bytes32, "purpose": DPV name, "ethAddress": 0x..,
   *                     "ethSignature"?: 0x r‖s‖v, "ttlSeconds"?: 1..2592000}`
   * @returns AccessDecision as JSON
   */
  @Transaction()
  @Returns("string")
  async RequestAccess(ctx: ConsentContext, requestJson: string): Promise<string> {
    const caller = ctx.requireRole(Role.Buyer);
    const request = parseRequest(requestJson);
    const buyerType = caller.buyerType;
    if (buyerType === null || !BUYER_TYPES.includes(buyerType)) {
      fail(ErrorCode.FORBIDDEN, `the caller's certificate carries no valid consent.buyerType (got ${buyerType ?? "(none)"})`);
    }
    const jurisdiction = caller.jurisdiction;
    if (jurisdiction === null || !/^[A-Z]{2}$/.test(jurisdiction)) {
      fail(ErrorCode.FORBIDDEN, `the caller's certificate carries no valid consent.jurisdiction (got ${jurisdiction ?? "(none)"})`);
    }
    const addressProof = this.proveAddress(caller, request);
    const credential = await callerCredential(ctx, caller);
    const credentialReason = credential && credentialDenialReason(credential.status.status);
    const now = ctx.now();
    const txId = ctx.stub.getTxID();
    const resource = await this.resolveResource(ctx, request);
    const resourceId = resource?.resourceId ?? request.resourceId ?? "";
    const productId = request.productId ?? resourceId;
    const decision: AccessDecision = {
      decision: "denied",
      reasons: [],
      resourceId,
      productId,
      purpose: request.purpose,
      subjectsTotal: 0,
      approvedSubjects: [],
      deniedByReason: {},
      grant: null,
      decidedAt: now,
      txId,
    };

    if (credentialReason) {
      // request-level, like an unknown resource: the buyer's attributes no longer stand
      decision.reasons = [credentialReason];
    } else if (!resource) {
      decision.reasons = [DenialReason.UNKNOWN_RESOURCE];
    } else {
      if (resource.subjectCount > MAX_SUBJECTS_PER_RESOURCE) {
        // fail before reading the members: the request would not fit the limits this chaincode is sized for
        fail(
          ErrorCode.DATASET_TOO_LARGE,
          `resource ${resource.resourceId} holds ${resource.subjectCount} subjects, over MAX_SUBJECTS_PER_RESOURCE of ${MAX_SUBJECTS_PER_RESOURCE}`,
        );
      }
      const epoch = await currentEpoch(ctx, resource.resourceId);
      const approved = new SlotSet(resource.nextSlot);
      const deniedBy = new Map<string, SlotSet>();
      let validUntil = Number.MAX_SAFE_INTEGER;
      const iterator = await ctx.stub.getStateByPartialCompositeKey(KeyType.Member, [resource.resourceId]);
      try {
        for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
          const subjectId = ctx.stub.splitCompositeKey(entry.value.key).attributes[1];
          const member = JSON.parse(Buffer.from(entry.value.value).toString("utf8")) as MemberEntry;
          const reasons = denialReasons(member.consent, request.purpose, buyerType, jurisdiction, now);
          decision.subjectsTotal += 1;
          if (reasons.length === 0) {
            approved.add(member.slot);
            decision.approvedSubjects.push(subjectId);
            validUntil = Math.min(validUntil, (member.consent as ConsentSummary).validUntil);
          }
          for (const reason of reasons) {
            decision.deniedByReason[reason] = (decision.deniedByReason[reason] ?? 0) + 1;
            let slots = deniedBy.get(reason);
            if (!slots) {
              slots = new SlotSet(resource.nextSlot);
              deniedBy.set(reason, slots);
            }
            slots.add(member.slot);
          }
        }
      } finally {
        await iterator.close();
      }
      if (decision.approvedSubjects.length > 0) {
        decision.decision = "approved";
        decision.grant = await this.issueGrant(
          ctx,
          caller,
          request,
          resource,
          productId,
          addressProof,
          { epoch, validUntil, released: approved.toString(), credential },
          decision.approvedSubjects,
        );
      } else {
        decision.reasons = decision.subjectsTotal === 0 ? [DenialReason.NO_CONSENT] : Object.keys(decision.deniedByReason).sort();
      }
      const resourceEntry: ResourceAccessLogEntry = {
        buyerKey: caller.key,
        buyerMsp: caller.mspId,
        productId,
        purpose: request.purpose,
        decision: decision.decision as "approved" | "denied",
        reasons: decision.reasons,
        grantId: decision.grant?.grantId ?? "",
        subjectsTotal: decision.subjectsTotal,
        subjectsApproved: decision.approvedSubjects.length,
        slotCount: resource.nextSlot,
        approved: approved.toString(),
        deniedBy: Object.fromEntries([...deniedBy].map(([reason, slots]) => [reason, slots.toString()])),
      };
      await writeJson(ctx, key(ctx, KeyType.AccessByResource, resource.resourceId, sortableSeconds(now), txId), resourceEntry);
    }
    const buyerEntry: AccessLogEntry = {
      txId,
      timestamp: now,
      buyerMsp: caller.mspId,
      buyerKey: caller.key,
      resourceId,
      productId,
      purpose: request.purpose,
      decision: decision.decision as "approved" | "denied",
      reasons: decision.reasons,
      grantId: decision.grant?.grantId ?? "",
      subjectsTotal: decision.subjectsTotal,
      subjectsApproved: decision.approvedSubjects.length,
    };
    await writeJson(ctx, key(ctx, KeyType.AccessByBuyer, caller.key, sortableSeconds(now), txId), buyerEntry);
    await writeJson(ctx, key(ctx, KeyType.AccessRequest, txId), { buyerKey: caller.key, timestamp: now });
    if (decision.decision === "denied") {
      ctx.emit({ type: "AccessDenied", buyerKey: caller.key, resourceId, productId, purpose: request.purpose, reasons: decision.reasons });
    }
    return canonicalJson(decision);
  }

  /**
   * The grant with its status as of now: "Invalidated" (with invalidatedAt and invalidatedBy) once a change
   * on its resource has voided it, "Expired" once expiresAt has passed. Its buyer and auditors.
   */
  @Transaction(false)
  @Returns("string")
  async GetGrant(ctx: ConsentContext, grantId: string): Promise<string> {
    if (!BYTES32.test(grantId)) {
      fail(ErrorCode.INVALID_ARGUMENT, `grantId "${grantId.slice(0, 80)}" must be 0x-prefixed lowercase 64-hex`);
    }
    const grant = await readJson<AccessGrant>(ctx, key(ctx, KeyType.Grant, grantId));
    if (!grant) {
      fail(ErrorCode.NOT_FOUND, `grant ${grantId} does not exist`);
    }
    const caller = ctx.caller();
    if (caller.role !== Role.Auditor && caller.key !== grant.buyerKey) {
      fail(ErrorCode.FORBIDDEN, `grant ${grantId} may be read by its buyer and auditors only`);
    }
    const endings: Array<{ voidedAt: number; cause: string }> = [];
    if (grant.status === "Open" && (await currentEpoch(ctx, grant.resourceId)) !== grant.epoch) {
      const voiding = (await this.epochHistory(ctx, grant.resourceId)).voidingOf(grant.epoch, grant.releasedSlots);
      if (voiding) {
        endings.push(voiding);
      }
    }
    // a grant issued on a credential also ends with the credential's valid status (credentials.ts)
    if (grant.status === "Open" && grant.credentialRef && (await readCredentialStatus(ctx, grant.credentialRef)).epoch !== grant.credentialEpoch) {
      const voiding = (await CredentialHistory.read(ctx, grant.credentialRef)).voidingOf(grant.credentialEpoch);
      if (voiding) {
        endings.push({ voidedAt: voiding.voidedAt, cause: invalidationCause(voiding.status) });
      }
    }
    // both clocks are transaction timestamps; the earlier change is the one reported
    const ending = endings.filter((candidate) => candidate.voidedAt < grant.expiresAt).sort((a, b) => a.voidedAt - b.voidedAt)[0];
    if (ending) {
      grant.status = "Invalidated";
      grant.invalidatedAt = ending.voidedAt;
      grant.invalidatedBy = ending.cause;
    }
    if (grant.status === "Open" && ctx.now() >= grant.expiresAt) {
      grant.status = "Expired";
    }
    return canonicalJson(grant);
  }

  /**
   * The grants a voiding change of a resource ended: those issued before it, unexpired at its time, that
   * released one of the subjects it concerns and that no earlier change had ended. What a follower of
   * GrantsInvalidated events reads to learn which grants died. Auditors and the custodians of the
   * resource's controller. A page covers whole epochs of the resource, oldest first.
   * @param voidingTxId the txId of the transaction whose GrantsInvalidated event names the resource
   */
  @Transaction(false)
  @Returns("string")
  async ListInvalidatedGrants(ctx: ConsentContext, resourceId: string, voidingTxId: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    const caller = ctx.requireRole(Role.Auditor, Role.Custodian);
    const resource = await requireResource(ctx, resourceId);
    if (caller.role === Role.Custodian && caller.mspId !== resource.controllerMsp) {
      fail(ErrorCode.FORBIDDEN, `resource ${resourceId} is controlled by ${resource.controllerMsp}, not ${caller.mspId}`);
    }
    const history = await this.epochHistory(ctx, resourceId);
    const epochs = history.epochsEndedBy(voidingTxId, MAX_GRANT_TTL + LATE_ISSUE_MARGIN);
    if (!epochs) {
      fail(ErrorCode.NOT_FOUND, `transaction ${voidingTxId.slice(0, 80)} voided no grants of resource ${resourceId} (on this peer's ledger)`);
    }
    const start = page.bookmark === "" ? 0 : Number(page.bookmark.split(":")[0]);
    if (!Number.isSafeInteger(start) || start < 0 || start >= Math.max(epochs.length, 1)) {
      fail(ErrorCode.INVALID_ARGUMENT, "bookmark is not one ListInvalidatedGrants returned");
    }
    const records: string[] = [];
    let fetched = 0;
    let next = "";
    for (let index = start; index < epochs.length; index++) {
      const { epoch, died } = epochs[index];
      const inner = index === start ? page.bookmark.slice(page.bookmark.indexOf(":") + 1) : "";
      const result = await readRange(
        ctx,
        KeyType.GrantByEpoch,
        [resourceId, epoch],
        (entry) => (died(entryJson<EpochGrant>(entry)) ? entry.attributes[2] : null),
        { pageSize: page.pageSize - fetched, bookmark: index === start && page.bookmark !== "" ? inner : "" },
      );
      records.push(...result.records);
      fetched += result.fetchedRecordsCount;
      if (result.bookmark !== "") {
        next = `${index}:${result.bookmark}`;
        break;
      }
      if (fetched >= page.pageSize && index + 1 < epochs.length) {
        next = `${index + 1}:`;
        break;
      }
    }
    const out: Page<string> = { records, bookmark: next, fetchedRecordsCount: fetched };
    return pageJson(out);
  }

  /**
   * A page of the access log of one subject: its decisions, resource by resource (in resource id order),
   * oldest first within each. Its custodian, itself and auditors.
   */
  @Transaction(false)
  @Returns("string")
  async ListAccessBySubject(ctx: ConsentContext, subjectId: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    requireReadSubject(ctx, await requireSubject(ctx, subjectId));
    let resume: SubjectLogBookmark | null = null;
    if (page.bookmark !== "") {
      try {
        resume = JSON.parse(Buffer.from(page.bookmark, "base64url").toString("utf8")) as SubjectLogBookmark;
      } catch {
        fail(ErrorCode.INVALID_ARGUMENT, "bookmark is not one ListAccessBySubject returned");
      }
    }
    const places = (
      await readRange(ctx, KeyType.SubjectResource, [subjectId], (entry) =>
        resume === null || entry.attributes[1] >= resume.resourceId
          ? { resourceId: entry.attributes[1], slots: entryJson<{ slots: number[] }>(entry).slots }
          : null,
      )
    ).records;
    const records: AccessLogEntry[] = [];
    let fetched = 0;
    let next = "";
    for (const [index, place] of places.entries()) {
      const inner = resume !== null && place.resourceId === resume.resourceId ? resume.bookmark : "";
      const result = await readRange(
        ctx,
        KeyType.AccessByResource,
        [place.resourceId],
        (entry): AccessLogEntry | null => {
          const [, seconds, txId] = entry.attributes;
          const logged = entryJson<ResourceAccessLogEntry>(entry);
          const mine = this.subjectOutcome(logged, place.slots);
          return (
            mine && {
              txId,
              timestamp: Number(seconds),
              buyerKey: logged.buyerKey,
              resourceId: place.resourceId,
              purpose: logged.purpose,
              decision: mine.reasons.length === 0 ? "approved" : "denied",
              reasons: mine.reasons,
              grantId: mine.reasons.length === 0 ? logged.grantId : "",
            }
          );
        },
        { pageSize: page.pageSize - fetched, bookmark: inner },
      );
      records.push(...result.records);
      fetched += result.fetchedRecordsCount;
      const following = places[index + 1];
      if (result.bookmark !== "") {
        next = this.subjectBookmark({ resourceId: place.resourceId, bookmark: result.bookmark });
        break;
      }
      if (fetched >= page.pageSize) {
        next = following ? this.subjectBookmark({ resourceId: following.resourceId, bookmark: "" }) : "";
        break;
      }
    }
    const out: Page<AccessLogEntry> = { records, bookmark: next, fetchedRecordsCount: fetched };
    return pageJson(out);
  }

  /**
   * One decision of a buyer by its request id (the txId of its RequestAccess), as its buyer's log holds it.
   * Its buyer and auditors.
   */
  @Transaction(false)
  @Returns("string")
  async GetAccessRequest(ctx: ConsentContext, requestId: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(requestId)) {
      fail(ErrorCode.INVALID_ARGUMENT, `requestId "${requestId.slice(0, 80)}" must be a transaction id (64 lowercase hex)`);
    }
    const place = await readJson<{ buyerKey: string; timestamp: number }>(ctx, key(ctx, KeyType.AccessRequest, requestId));
    const caller = ctx.caller();
    // another buyer's request and a request that does not exist get the same answer
    if (!place || (caller.key !== place.buyerKey && caller.role !== Role.Auditor)) {
      fail(ErrorCode.NOT_FOUND, `no access request ${requestId} of this buyer`);
    }
    const entry = await readJson<AccessLogEntry>(ctx, key(ctx, KeyType.AccessByBuyer, place.buyerKey, sortableSeconds(place.timestamp), requestId));
    return canonicalJson(entry);
  }

  /**
   * A page of the access log of one buyer, oldest first. `buyerKey` "" means the caller itself;
   * another buyer's log is for auditors only.
   */
  @Transaction(false)
  @Returns("string")
  async ListAccessByBuyer(ctx: ConsentContext, buyerKey: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    const caller = ctx.caller();
    const target = buyerKey === "" ? caller.key : buyerKey;
    if (target !== caller.key && caller.role !== Role.Auditor) {
      fail(ErrorCode.FORBIDDEN, "another buyer's access log is for auditors only");
    }
    return pageJson(await readRange(ctx, KeyType.AccessByBuyer, [target], (entry) => entryJson<AccessLogEntry>(entry), page));
  }

  /** This subject's reasons in a logged decision ([] when released), or null when it was not in the resource then. */
  private subjectOutcome(logged: ResourceAccessLogEntry, slots: number[]): { reasons: string[] } | null {
    for (const slot of slots) {
      if (slot >= logged.slotCount) {
        continue;
      }
      if (SlotSet.has(logged.approved, slot)) {
        return { reasons: [] };
      }
      const reasons = Object.keys(logged.deniedBy)
        .filter((reason) => SlotSet.has(logged.deniedBy[reason], slot))
        .sort();
      if (reasons.length > 0) {
        return { reasons };
      }
    }
    return null;
  }

  private subjectBookmark(bookmark: SubjectLogBookmark): string {
    return Buffer.from(JSON.stringify(bookmark), "utf8").toString("base64url");
  }

  /** The voiding changes of a resource, oldest first, from the key history of epoch~R. */
  private async epochHistory(ctx: ConsentContext, resourceId: string): Promise<EpochHistory> {
    return new EpochHistory(await readHistory<EpochRecord>(ctx, key(ctx, KeyType.Epoch, resourceId)));
  }

  private proveAddress(caller: Caller, request: AccessRequest): "certificate" | "signature" | "wallet" {
    if (caller.ethAddress !== null && caller.ethAddress === request.ethAddress) {
      // acting for a bound wallet (WalletContract), the address is the wallet that signed the request
      return caller.wallet !== null ? "wallet" : "certificate";
    }
    if (request.ethSignature !== null) {
      const text = addressProofText({
        mspId: caller.mspId,
        clientId: caller.clientId,
        address: request.ethAddress,
        target: request.productId ?? request.resourceId ?? "",
        purpose: request.purpose,
      });
      const signer = recoverPersonalSignAddress(text, request.ethSignature);
      if (signer === request.ethAddress) {
        return "signature";
      }
      fail(ErrorCode.ADDRESS_NOT_PROVEN, `the signature recovers to ${signer ?? "(invalid signature)"}, not ${request.ethAddress}`);
    }
    fail(
      ErrorCode.ADDRESS_NOT_PROVEN,
      `address ${request.ethAddress} is not in the caller's certificate (${caller.ethAddress ?? "none"}) and no ethSignature was given`,
    );
  }

  private async resolveResource(ctx: ConsentContext, request: AccessRequest): Promise<ResourceRecord | null> {
    let resourceId = request.resourceId;
    if (request.productId !== null) {
      const mapped = await ctx.stub.getState(key(ctx, KeyType.Product, request.productId));
      if (!mapped || mapped.length === 0) {
        return null;
      }
      const licensed = Buffer.from(mapped).toString("utf8");
      if (resourceId !== null && resourceId !== licensed) {
        fail(ErrorCode.INVALID_ARGUMENT, `product ${request.productId} licenses resource ${licensed}, not ${resourceId}`);
      }
      resourceId = licensed;
    }
    return readJson<ResourceRecord>(ctx, key(ctx, KeyType.Resource, resourceId as string));
  }

  private async issueGrant(
    ctx: ConsentContext,
    caller: Caller,
    request: AccessRequest,
    resource: ResourceRecord,
    productId: string,
    addressProof: string,
    basis: { epoch: string; validUntil: number; released: string; credential: CallerCredential | null },
    subjects: string[],
  ): Promise<AccessGrant> {
    const now = ctx.now();
    const txId = ctx.stub.getTxID();
    const grantId = sha256Hex(txId);
    const { epoch } = basis;
    const expiresAt = Math.min(now + request.ttlSeconds, basis.validUntil);
    const grant: AccessGrant = {
      grantId,
      txId,
      nonce: "0x" + ctx.stub.getBinding(),
      buyer: request.ethAddress,
      addressProof,
      buyerMsp: caller.mspId,
      buyerKey: caller.key,
      buyerType: caller.buyerType as string,
      jurisdiction: caller.jurisdiction as string,
      resourceId: resource.resourceId,
      productId,
      purpose: request.purpose,
      purposeId: purposeId(request.purpose),
      issuedAt: now,
      expiresAt,
      subjectCount: subjects.length,
      subjectsDigest: sha256Hex([...subjects].sort().join("\n")),
      attestationStructHash: consentAttestationStructHash({ grantId, buyer: request.ethAddress, productId, purpose: request.purpose, expiresAt }),
      epoch,
      releasedSlots: basis.released,
      credentialRef: basis.credential?.hash ?? "",
      credentialEpoch: basis.credential?.status.epoch ?? "",
      status: "Open",
      invalidatedAt: 0,
      invalidatedBy: "",
    };
    await writeJson(ctx, key(ctx, KeyType.Grant, grantId), grant);
    const indexed: EpochGrant = { expiresAt, releasedSlots: basis.released };
    await writeJson(ctx, key(ctx, KeyType.GrantByEpoch, resource.resourceId, epoch, grantId), indexed);
    if (basis.credential) {
      // closed by the status report that ends this valid epoch of the credential (credentials.ts)
      await writeJson(ctx, key(ctx, KeyType.CredentialGrant, basis.credential.hash, basis.credential.status.epoch, grantId), {
        resourceId: resource.resourceId,
        expiresAt,
      });
    }
    ctx.emit({
      type: "GrantIssued",
      grantId,
      buyer: grant.buyer,
      productId,
      resourceId: grant.resourceId,
      purpose: grant.purpose,
      purposeId: grant.purposeId,
      issuedAt: now,
      expiresAt,
      attestationStructHash: grant.attestationStructHash,
      subjectCount: grant.subjectCount,
    });
    return grant;
  }
}

/** grantByEpoch~R~E~G: what deciding whether a change ended the grant needs. */
interface EpochGrant {
  expiresAt: number;
  releasedSlots: string;
}

/**
 * How late a grant can be issued (by its timestamp) after the change that closed its epoch: the proposal
 * timestamp is within the peers' skew (at most a day) of the time the grant was endorsed, which was before
 * that change committed. Epochs closed longer than MAX_GRANT_TTL and this ago hold only expired grants.
 */
const LATE_ISSUE_MARGIN = 2 * 86_400;

const releasedAny = (releasedSlots: string, slots: number[]) => slots.some((slot) => SlotSet.has(releasedSlots, slot));

/** The voiding changes of one resource in commit order (from GetHistoryForKey, which Fabric does not re-validate). */
class EpochHistory {
  constructor(private readonly changes: Array<EpochRecord & { txId: string }>) {}

  /** The first change after `epoch` that concerns one of the released slots, if any. */
  voidingOf(epoch: string, releasedSlots: string): EpochRecord | undefined {
    const opened = epoch === GENESIS_EPOCH ? -1 : this.changes.findIndex((change) => change.epoch === epoch);
    return this.changes.slice(opened + 1).find((change) => releasedAny(releasedSlots, change.slots));
  }

  /**
   * For the change `txId`, the epochs whose grants it may have ended (oldest first, back to those whose
   * grants had all expired by then) with the test a grant of each must pass to have died at it; undefined
   * when `txId` changed no epoch of this resource.
   */
  epochsEndedBy(txId: string, lookBackSeconds: number): Array<{ epoch: string; died: (grant: EpochGrant) => boolean }> | undefined {
    const index = this.changes.findIndex((change) => change.txId === txId);
    if (index < 0) {
      return undefined;
    }
    const voiding = this.changes[index];
    const epochs: Array<{ epoch: string; died: (grant: EpochGrant) => boolean }> = [];
    for (let opened = index - 1; opened >= -1; opened--) {
      const closedAt = this.changes[opened + 1].voidedAt;
      if (closedAt + lookBackSeconds < voiding.voidedAt) {
        break;
      }
      // a grant of this epoch died at `voiding` if it released one of its slots and none of an earlier change's
      const between = this.changes.slice(opened + 1, index);
      epochs.unshift({
        epoch: opened < 0 ? GENESIS_EPOCH : this.changes[opened].epoch,
        died: (grant) =>
          grant.expiresAt > voiding.voidedAt &&
          releasedAny(grant.releasedSlots, voiding.slots) &&
          !between.some((change) => releasedAny(grant.releasedSlots, change.slots)),
      });
    }
    return epochs;
  }
}
