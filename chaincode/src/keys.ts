// Composite-key design. Every lookup is a point read or a range over one partial composite key, so no
// transaction ever scans the world state; a dataset request is linear in that dataset's members.
import { Context } from 'fabric-contract-api';

/** Object types of the composite keys (the first component of each key). */
export const KeyType = {
    /** subject~subjectId -> SubjectRecord */
    Subject: 'subject',
    /** consent~consentId -> ConsentRecord */
    Consent: 'consent',
    /** subjectConsent~subjectId~consentId -> "" (a subject's consents, paginated) */
    SubjectConsent: 'subjectConsent',
    /** coverage~subjectId~resourceId -> consentId (the subject's latest consent naming the resource) */
    Coverage: 'coverage',
    /** resource~resourceId -> ResourceRecord */
    Resource: 'resource',
    /** product~productId -> resourceId */
    Product: 'product',
    /** member~resourceId~subjectId -> "" (the data subjects whose data the resource holds) */
    Member: 'member',
    /** grant~grantId -> AccessGrant */
    Grant: 'grant',
    /** openGrant~consentId~grantId -> "" (grants to invalidate when the consent is withdrawn) */
    OpenGrant: 'openGrant',
    /** accessBySubject~subjectId~timestamp~txId -> AccessLogEntry */
    AccessBySubject: 'accessBySubject',
    /** accessByBuyer~buyerKey~timestamp~txId -> AccessLogEntry */
    AccessByBuyer: 'accessByBuyer',
} as const;

export function key(ctx: Context, type: string, ...attributes: string[]): string {
    return ctx.stub.createCompositeKey(type, attributes);
}

/** Fixed-width decimal so that timestamps sort lexically in composite keys. */
export function sortableSeconds(seconds: number): string {
    return seconds.toString().padStart(12, '0');
}

/** Name of the private data collection that holds what could identify a person. */
export const SUBJECT_DETAILS_COLLECTION = 'subjectDetails';
