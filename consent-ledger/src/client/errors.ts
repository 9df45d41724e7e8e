// Errors of the consent client: one class with a code a caller can act on, whichever backend failed.
import { ErrorCode } from '@datamarket/consent-chaincode/src/errors';

/** Client-side codes in addition to the chaincode's ErrorCode values. */
export const ClientErrorCode = {
    ...ErrorCode,
    /** the transaction read a key another committed transaction changed; retry it */
    MVCC_READ_CONFLICT: 'MVCC_READ_CONFLICT',
    /** a range the transaction read changed before commit; retry it */
    PHANTOM_READ_CONFLICT: 'PHANTOM_READ_CONFLICT',
    /** the transaction was invalidated at commit for another reason */
    COMMIT_FAILED: 'COMMIT_FAILED',
    /** endorsement failed outside the chaincode (identity, signature, unknown chaincode, connection) */
    ENDORSEMENT_FAILED: 'ENDORSEMENT_FAILED',
    /** the chaincode answered something that is not the documented JSON */
    BAD_RESPONSE: 'BAD_RESPONSE',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export class ConsentClientError extends Error {
    constructor(readonly code: ClientErrorCode, message: string, readonly transactionId?: string) {
        super(message);
        this.name = 'ConsentClientError';
    }
}

const CHAINCODE_CODE = new RegExp(`\\b(${Object.values(ErrorCode).join('|')}): (.*)$`, 's');
/** fabric-gateway CommitError codes (peer.TxValidationCode) the client names. */
const VALIDATION_CODES: Record<number, ClientErrorCode> = { 11: 'MVCC_READ_CONFLICT', 12: 'PHANTOM_READ_CONFLICT' };

interface ErrorShape {
    name?: string;
    message?: string;
    code?: number;
    transactionId?: string;
    details?: Array<{ message?: string }>;
}

/** Maps an error of either backend (in-process or fabric-gateway) to a ConsentClientError. */
export function toClientError(error: unknown): ConsentClientError {
    if (error instanceof ConsentClientError) {
        return error;
    }
    const shape = (error ?? {}) as ErrorShape;
    const texts = [shape.message ?? String(error), ...(shape.details ?? []).map((detail) => detail.message ?? '')];
    for (const text of texts) {
        const match = CHAINCODE_CODE.exec(text);
        if (match) {
            return new ConsentClientError(match[1] as ClientErrorCode, `${match[1]}: ${match[2]}`, shape.transactionId);
        }
    }
    if (shape.name === 'CommitError' && typeof shape.code === 'number') {
        return new ConsentClientError(VALIDATION_CODES[shape.code] ?? 'COMMIT_FAILED', texts[0], shape.transactionId);
    }
    return new ConsentClientError('ENDORSEMENT_FAILED', texts.filter((text) => text !== '').join('; '), shape.transactionId);
}
