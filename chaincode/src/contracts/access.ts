// AccessContract: a buyer's access request decided against each data subject's consent, the access
// grant (with the EIP-712 struct hash the Ethereum market checks), and the access logs.
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { addressProofText, recoverPersonalSignAddress } from '../addressproof';
import { canonicalJson, sha256Hex } from '../canonical';
import { Caller, ConsentContext, Role } from '../context';
import { consentAttestationStructHash, purposeId } from '../eip712';
import { ErrorCode, fail } from '../errors';
import { KeyType, key, sortableSeconds } from '../keys';
import { AccessDecision, AccessGrant, ConsentRecord, ResourceRecord } from '../model';
import { ConsentLedgerContract, INDEX_MARKER, Page, pageJson, readJson, requireReadSubject, requireSubject, writeJson } from '../store';
import { ADDRESS, BYTES32, optionalString, pageArguments, parseJsonObject, requireSeconds, requireString } from '../validation';
import {
    BUYER_TYPES, ConsentStatus, DenialReason, EXPLICIT_CONSENT, isKnownPurpose, jurisdictionCovered, purposeCovered,
} from '../vocabulary';

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
 * One line of the access logs. The per-buyer log stores every field; the per-subject log (one entry
 * per subject of a dataset, so kept small) stores buyerKey, resourceId, purpose, decision, reasons and
 * grantId, and gets txId and timestamp from its key; its buyerMsp and productId are in the buyer's entry
 * of the same txId.
 */
export interface AccessLogEntry {
    txId: string;
    timestamp: number;
    buyerMsp?: string;
    buyerKey: string;
    resourceId: string;
    productId?: string;
    purpose: string;
    decision: 'approved' | 'denied';
    reasons: string[];
    grantId: string;
    subjectsTotal?: number;
    subjectsApproved?: number;
}

function parseRequest(json: string): AccessRequest {
    const input = parseJsonObject(json, 'request');
    const resourceId = optionalString(input, 'resourceId', BYTES32);
    const productId = optionalString(input, 'productId', BYTES32);
    if (resourceId === null && productId === null) {
        fail(ErrorCode.INVALID_ARGUMENT, 'request must name a resourceId or a productId');
    }
    const purpose = requireString(input, 'purpose');
    if (!isKnownPurpose(purpose)) {
        fail(ErrorCode.UNKNOWN_PURPOSE, `purpose "${purpose.slice(0, 80)}" is not in the supported DPV subset`);
    }
    const ethAddress = requireString(input, 'ethAddress', ADDRESS);
    const ethSignature = optionalString(input, 'ethSignature', /^0x[0-9a-fA-F]{130}$/);
    const ttlSeconds = input.ttlSeconds === undefined ? DEFAULT_GRANT_TTL : requireSeconds(input, 'ttlSeconds');
    if (ttlSeconds < 1 || ttlSeconds > MAX_GRANT_TTL) {
        fail(ErrorCode.INVALID_ARGUMENT, `ttlSeconds ${ttlSeconds} must be in 1..${MAX_GRANT_TTL}`);
    }
    return { resourceId, productId, purpose, ethAddress, ethSignature, ttlSeconds };
}

/** Every reason `consent` does not allow this request at `now`; empty when it does. */
export function denialReasons(consent: ConsentRecord | null, purpose: string, buyerType: string, jurisdiction: string, now: number): string[] {
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
    if (consent.dataCategories.some((category) => category.specialCategory) && consent.legalBasis !== EXPLICIT_CONSENT) {
        reasons.push(DenialReason.SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT);
    }
    return reasons;
}

@Info({ title: 'AccessContract', description: 'Access decisions, access grants and access logs' })
export class AccessContract extends ConsentLedgerContract {
    constructor() {
        super('access');
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
    @Returns('string')
    async RequestAccess(ctx: ConsentContext, requestJson: string): Promise<string> {
        const caller = ctx.requireRole(Role.Buyer);
        const request = parseRequest(requestJson);
        const buyerType = caller.buyerType;
        if (buyerType === null || !BUYER_TYPES.includes(buyerType)) {
            fail(ErrorCode.FORBIDDEN, `the caller's certificate carries no valid consent.buyerType (got ${buyerType ?? '(none)'})`);
        }
        const jurisdiction = caller.jurisdiction;
        if (jurisdiction === null || !/^[A-Z]{2}$/.test(jurisdiction)) {
            fail(ErrorCode.FORBIDDEN, `the caller's certificate carries no valid consent.jurisdiction (got ${jurisdiction ?? '(none)'})`);
        }
        const addressProof = this.proveAddress(caller, request);
        const now = ctx.now();
        const txId = ctx.stub.getTxID();

        const resource = await this.resolveResource(ctx, request);
        const resourceId = resource?.resourceId ?? request.resourceId ?? '';
        const productId = request.productId ?? resourceId;
        const decision: AccessDecision = {
            decision: 'denied', reasons: [], resourceId, productId, purpose: request.purpose, subjectsTotal: 0,
            approvedSubjects: [], deniedByReason: {}, grant: null, decidedAt: now, txId,
        };
        const logBase = { txId, timestamp: now, buyerMsp: caller.mspId, buyerKey: caller.key, resourceId, productId, purpose: request.purpose };

        if (!resource) {
            decision.reasons = [DenialReason.UNKNOWN_RESOURCE];
        } else {
            const approvedConsents: ConsentRecord[] = [];
            const reasonsSeen = new Set<string>();
            const subjectLogs: Array<{ subjectId: string; reasons: string[] }> = [];
            const iterator = await ctx.stub.getStateByPartialCompositeKey(KeyType.Member, [resource.resourceId]);
            try {
                for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
                    const subjectId = ctx.stub.splitCompositeKey(entry.value.key).attributes[1];
                    const consent = await this.coveringConsent(ctx, subjectId, resource.resourceId);
                    const reasons = denialReasons(consent, request.purpose, buyerType, jurisdiction, now);
                    decision.subjectsTotal += 1;
                    if (reasons.length === 0) {
                        approvedConsents.push(consent as ConsentRecord);
                        decision.approvedSubjects.push(subjectId);
                    }
                    for (const reason of reasons) {
                        reasonsSeen.add(reason);
                        decision.deniedByReason[reason] = (decision.deniedByReason[reason] ?? 0) + 1;
                    }
                    subjectLogs.push({ subjectId, reasons });
                }
            } finally {
                await iterator.close();
            }
            if (decision.subjectsTotal === 0) {
                reasonsSeen.add(DenialReason.NO_CONSENT);
            }
            if (approvedConsents.length > 0) {
                decision.decision = 'approved';
                decision.grant = await this.issueGrant(ctx, caller, request, resource, productId, addressProof, approvedConsents, decision.approvedSubjects);
            } else {
                decision.reasons = [...reasonsSeen].sort();
            }
            const grantId = decision.grant?.grantId ?? '';
            for (const { subjectId, reasons } of subjectLogs) {
                const entry = {
                    buyerKey: caller.key, resourceId, purpose: request.purpose,
                    decision: reasons.length === 0 ? 'approved' : 'denied', reasons, grantId,
                };
                await writeJson(ctx, key(ctx, KeyType.AccessBySubject, subjectId, sortableSeconds(now), txId), entry);
            }
        }
        const buyerEntry: AccessLogEntry = {
            ...logBase, decision: decision.decision as 'approved' | 'denied', reasons: decision.reasons,
            grantId: decision.grant?.grantId ?? '', subjectsTotal: decision.subjectsTotal, subjectsApproved: decision.approvedSubjects.length,
        };
        await writeJson(ctx, key(ctx, KeyType.AccessByBuyer, caller.key, sortableSeconds(now), txId), buyerEntry);
        if (decision.decision === 'denied') {
            ctx.emit({ type: 'AccessDenied', buyerKey: caller.key, resourceId, productId, purpose: request.purpose, reasons: decision.reasons });
        }
        return canonicalJson(decision);
    }

    /** The grant with its status as of now ("Expired" once expiresAt has passed). Its buyer and auditors. */
    @Transaction(false)
    @Returns('string')
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
        if (grant.status === 'Open' && ctx.now() >= grant.expiresAt) {
            grant.status = 'Expired';
        }
        return canonicalJson(grant);
    }

    /** A page of the access log of one subject, oldest first. Its custodian, itself and auditors. */
    @Transaction(false)
    @Returns('string')
    async ListAccessBySubject(ctx: ConsentContext, subjectId: string, pageSize: string, bookmark: string): Promise<string> {
        const page = pageArguments(pageSize, bookmark);
        requireReadSubject(ctx, await requireSubject(ctx, subjectId));
        return this.logPage(ctx, KeyType.AccessBySubject, subjectId, page.pageSize, page.bookmark);
    }

    /**
     * A page of the access log of one buyer, oldest first. `buyerKey` "" means the caller itself;
     * another buyer's log is for auditors only.
     */
    @Transaction(false)
    @Returns('string')
    async ListAccessByBuyer(ctx: ConsentContext, buyerKey: string, pageSize: string, bookmark: string): Promise<string> {
        const page = pageArguments(pageSize, bookmark);
        const caller = ctx.caller();
        const target = buyerKey === '' ? caller.key : buyerKey;
        if (target !== caller.key && caller.role !== Role.Auditor) {
            fail(ErrorCode.FORBIDDEN, 'another buyer\'s access log is for auditors only');
        }
        return this.logPage(ctx, KeyType.AccessByBuyer, target, page.pageSize, page.bookmark);
    }

    private async logPage(ctx: ConsentContext, type: string, owner: string, pageSize: number, bookmark: string): Promise<string> {
        const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, [owner], pageSize, bookmark);
        const records: AccessLogEntry[] = [];
        try {
            for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
                const [, seconds, txId] = ctx.stub.splitCompositeKey(entry.value.key).attributes;
                const stored = JSON.parse(Buffer.from(entry.value.value).toString('utf8')) as Omit<AccessLogEntry, 'txId' | 'timestamp'>;
                records.push({ ...stored, txId, timestamp: Number(seconds) });
            }
        } finally {
            await iterator.close();
        }
        const result: Page<AccessLogEntry> = { records, bookmark: metadata.bookmark, fetchedRecordsCount: metadata.fetchedRecordsCount };
        return pageJson(result);
    }

    private proveAddress(caller: Caller, request: AccessRequest): 'certificate' | 'signature' {
        if (caller.ethAddress !== null && caller.ethAddress === request.ethAddress) {
            return 'certificate';
        }
        if (request.ethSignature !== null) {
            const text = addressProofText({
                mspId: caller.mspId, clientId: caller.clientId, address: request.ethAddress,
                target: request.productId ?? request.resourceId ?? '', purpose: request.purpose,
            });
            const signer = recoverPersonalSignAddress(text, request.ethSignature);
            if (signer === request.ethAddress) {
                return 'signature';
            }
            fail(ErrorCode.ADDRESS_NOT_PROVEN, `the signature recovers to ${signer ?? '(invalid signature)'}, not ${request.ethAddress}`);
        }
        fail(ErrorCode.ADDRESS_NOT_PROVEN,
            `address ${request.ethAddress} is not in the caller's certificate (${caller.ethAddress ?? 'none'}) and no ethSignature was given`);
    }

    private async resolveResource(ctx: ConsentContext, request: AccessRequest): Promise<ResourceRecord | null> {
        let resourceId = request.resourceId;
        if (request.productId !== null) {
            const mapped = await ctx.stub.getState(key(ctx, KeyType.Product, request.productId));
            if (!mapped || mapped.length === 0) {
                return null;
            }
            const licensed = Buffer.from(mapped).toString('utf8');
            if (resourceId !== null && resourceId !== licensed) {
                fail(ErrorCode.INVALID_ARGUMENT, `product ${request.productId} licenses resource ${licensed}, not ${resourceId}`);
            }
            resourceId = licensed;
        }
        return readJson<ResourceRecord>(ctx, key(ctx, KeyType.Resource, resourceId as string));
    }

    private async coveringConsent(ctx: ConsentContext, subjectId: string, resourceId: string): Promise<ConsentRecord | null> {
        const pointer = await ctx.stub.getState(key(ctx, KeyType.Coverage, subjectId, resourceId));
        if (!pointer || pointer.length === 0) {
            return null;
        }
        return readJson<ConsentRecord>(ctx, key(ctx, KeyType.Consent, Buffer.from(pointer).toString('utf8')));
    }

    private async issueGrant(
        ctx: ConsentContext, caller: Caller, request: AccessRequest, resource: ResourceRecord, productId: string,
        addressProof: string, consents: ConsentRecord[], subjects: string[],
    ): Promise<AccessGrant> {
        const now = ctx.now();
        const txId = ctx.stub.getTxID();
        const grantId = sha256Hex(txId);
        const expiresAt = Math.min(now + request.ttlSeconds, ...consents.map((consent) => consent.validUntil));
        const grant: AccessGrant = {
            grantId, txId, nonce: '0x' + ctx.stub.getBinding(), buyer: request.ethAddress, addressProof,
            buyerMsp: caller.mspId, buyerKey: caller.key, buyerType: caller.buyerType as string,
            jurisdiction: caller.jurisdiction as string, resourceId: resource.resourceId, productId,
            purpose: request.purpose, purposeId: purposeId(request.purpose), issuedAt: now, expiresAt,
            subjectCount: subjects.length, subjectsDigest: sha256Hex([...subjects].sort().join('\n')),
            attestationStructHash: consentAttestationStructHash({ grantId, buyer: request.ethAddress, productId, purpose: request.purpose, expiresAt }),
            status: 'Open', invalidatedAt: 0, invalidatedBy: '',
        };
        await writeJson(ctx, key(ctx, KeyType.Grant, grantId), grant);
        for (const consent of consents) {
            await ctx.stub.putState(key(ctx, KeyType.OpenGrant, consent.consentId, grantId), INDEX_MARKER);
        }
        ctx.emit({
            type: 'GrantIssued', grantId, buyer: grant.buyer, productId, resourceId: grant.resourceId, purpose: grant.purpose,
            purposeId: grant.purposeId, expiresAt, attestationStructHash: grant.attestationStructHash, subjectCount: grant.subjectCount,
        });
        return grant;
    }
}
