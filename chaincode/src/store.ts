// Typed reads and writes of the world state, the base contract every contract extends, and the
// helpers that more than one contract needs (subject access rules, grant invalidation).
import { Contract } from 'fabric-contract-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { canonicalJson, toBytes } from './canonical';
import { Caller, ConsentContext, EVENT_NAME, Role } from './context';
import { ErrorCode, fail } from './errors';
import { KeyType, key } from './keys';
import { AccessGrant, SubjectRecord } from './model';
import { ConsentStatus, VALID_STATUSES } from './vocabulary';

export async function readJson<T>(ctx: ConsentContext, stateKey: string): Promise<T | null> {
    const bytes = await ctx.stub.getState(stateKey);
    if (!bytes || bytes.length === 0) {
        return null;
    }
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export async function writeJson(ctx: ConsentContext, stateKey: string, value: unknown): Promise<void> {
    await ctx.stub.putState(stateKey, toBytes(value));
}

/** Marker value of index keys (Fabric treats an empty value as a delete, so store one byte). */
export const INDEX_MARKER = new Uint8Array([0]);

/**
 * State-based endorsement: a key owned by a custodian must be endorsed by that organisation's peers,
 * whatever the chaincode-level policy says.
 */
export async function restrictToOrg(ctx: ConsentContext, stateKey: string, mspId: string): Promise<void> {
    const policy = new KeyEndorsementPolicy();
    policy.addOrgs('MEMBER', mspId);
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
        fail(ErrorCode.FORBIDDEN,
            `caller ${caller.mspId} (role ${caller.role ?? '(none)'}) may not act for subject ${subject.subjectId} of custodian ${subject.custodianMsp}`);
    }
    return caller;
}

/** Who may read a subject's consents and access log: those who may act for it, and auditors. */
export function requireReadSubject(ctx: ConsentContext, subject: SubjectRecord): Caller {
    const caller = ctx.caller();
    if (caller.role !== Role.Auditor && !mayActForSubject(caller, subject)) {
        fail(ErrorCode.FORBIDDEN, `caller ${caller.mspId} (role ${caller.role ?? '(none)'}) may not read subject ${subject.subjectId}`);
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

/**
 * Invalidates every open grant built on `consentId` and drops them from the index. Returns the ids of
 * the grants that were still open and unexpired (those the bridge must revoke on Ethereum).
 */
export async function invalidateOpenGrants(ctx: ConsentContext, consentId: string, cause: string): Promise<string[]> {
    const now = ctx.now();
    const invalidated: string[] = [];
    const iterator = await ctx.stub.getStateByPartialCompositeKey(KeyType.OpenGrant, [consentId]);
    try {
        for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
            const { attributes } = ctx.stub.splitCompositeKey(entry.value.key);
            const grantId = attributes[1];
            await ctx.stub.deleteState(entry.value.key);
            const grantKey = key(ctx, KeyType.Grant, grantId);
            const grant = await readJson<AccessGrant>(ctx, grantKey);
            if (grant && grant.status === 'Open' && now < grant.expiresAt) {
                grant.status = 'Invalidated';
                grant.invalidatedAt = now;
                grant.invalidatedBy = cause;
                await writeJson(ctx, grantKey, grant);
                invalidated.push(grantId);
            }
        }
    } finally {
        await iterator.close();
    }
    return invalidated.sort();
}

/** Every contract of the consent ledger shares the context and the one-event-per-transaction rule. */
export abstract class ConsentLedgerContract extends Contract {
    createContext(): ConsentContext {
        return new ConsentContext();
    }

    async afterTransaction(ctx: ConsentContext, _result: unknown): Promise<void> {
        if (ctx.events.length > 0) {
            ctx.stub.setEvent(EVENT_NAME, Buffer.from(ctx.eventPayload(), 'utf8'));
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

export function pageJson<T>(page: Page<T>): string {
    return canonicalJson(page);
}
