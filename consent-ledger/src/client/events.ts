// The consent ledger's chaincode event: one per transaction, named ConsentLedgerEvents, whose payload
// lists everything the transaction did. Consumers (the consent bridge) follow grants and withdrawals here.
import { EVENT_NAME } from '@datamarket/consent-chaincode/src/context';
import { ChaincodeEventLike } from './network';

export { EVENT_NAME };

export interface SubjectRegistered { type: 'SubjectRegistered'; subjectId: string; custodianMsp: string }
export interface ConsentChanged { type: 'ConsentChanged'; consentId: string; subjectId: string; status: string; version: number }
export interface GrantIssued {
    type: 'GrantIssued';
    grantId: string;
    buyer: string;
    productId: string;
    resourceId: string;
    purpose: string;
    purposeId: string;
    expiresAt: number;
    attestationStructHash: string;
    subjectCount: number;
}
export interface GrantsInvalidated {
    type: 'GrantsInvalidated';
    consentId: string;
    grantIds: string[];
    /** ConsentWithdrawn, ConsentRevoked or ConsentUpdated */
    cause: string;
    invalidatedAt: number;
}
export interface AccessDenied { type: 'AccessDenied'; buyerKey: string; resourceId: string; productId: string; purpose: string; reasons: string[] }
export interface ResourceRegistered { type: 'ResourceRegistered'; resourceId: string; kind: string; productIds: string[]; controllerMsp: string }
export interface ResourceSubjectsAdded { type: 'ResourceSubjectsAdded'; resourceId: string; added: number; subjectCount: number }
export interface SubjectDetailsErased { type: 'SubjectDetailsErased'; subjectId: string }

export type ConsentLedgerEvent =
    | SubjectRegistered | ConsentChanged | GrantIssued | GrantsInvalidated | AccessDenied
    | ResourceRegistered | ResourceSubjectsAdded | SubjectDetailsErased;

/** One committed transaction's events, with where it sits on the ledger. */
export interface ConsentLedgerEventBatch {
    blockNumber: bigint;
    transactionId: string;
    /** transaction timestamp, unix seconds */
    timestamp: number;
    events: ConsentLedgerEvent[];
}

/** Decodes a chaincode event of the consent chaincode; null for any other event name. */
export function decodeConsentEvent(event: ChaincodeEventLike): ConsentLedgerEventBatch | null {
    if (event.eventName !== EVENT_NAME) {
        return null;
    }
    const body = JSON.parse(Buffer.from(event.payload).toString('utf8')) as { events: ConsentLedgerEvent[]; timestamp: number; txId: string };
    return { blockNumber: event.blockNumber, transactionId: body.txId, timestamp: body.timestamp, events: body.events };
}
