// Typed error codes of the bridge: its HTTP API answers { statusCode, code, message } with these codes,
// and the client helper throws BridgeClientError with them (documented in docs/market.md).
import { problemText, type ConfigProblem } from '@datamarket/consent-ledger/config';

/** Codes of the HTTP API. */
export const HttpErrorCode = {
    /** the grant id is not 0x + 64 lowercase hex digits (400) */
    INVALID_GRANT_ID: 'INVALID_GRANT_ID',
    /** this bridge has seen no GrantIssued for the grant (404) */
    UNKNOWN_GRANT: 'UNKNOWN_GRANT',
    /** the grant was seen but the bridge refused to sign it: its fields do not hash to the recorded struct hash (409) */
    ATTESTATION_REFUSED: 'ATTESTATION_REFUSED',
    /** no GrantsInvalidated names the grant: consent was not withdrawn (404) */
    NOT_REVOKED: 'NOT_REVOKED',
    /** no such route (404) */
    NOT_FOUND: 'NOT_FOUND',
    /** anything else (500); the detail is logged, not served */
    INTERNAL: 'INTERNAL',
} as const;
export type HttpErrorCode = typeof HttpErrorCode[keyof typeof HttpErrorCode];

/** Codes of the client helper (collecting k signatures from n bridges). */
export const ClientErrorCode = {
    /** fewer than k bridges gave a valid signature of the same fields */
    INSUFFICIENT_SIGNATURES: 'INSUFFICIENT_SIGNATURES',
    /** bad arguments (threshold, URLs, grant id) */
    INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;
export type ClientErrorCode = typeof ClientErrorCode[keyof typeof ClientErrorCode];

/** What one bridge answered when it did not contribute a signature. */
export interface BridgeFailure {
    url: string;
    /** an HttpErrorCode, or TIMEOUT, UNREACHABLE, BAD_RESPONSE, BAD_SIGNATURE, NOT_AN_ATTESTOR, WRONG_DOMAIN, DIFFERENT_FIELDS, DUPLICATE_ATTESTOR */
    code: string;
    message: string;
}

export class BridgeClientError extends Error {
    constructor(readonly code: ClientErrorCode, message: string, readonly failures: BridgeFailure[] = []) {
        super(message);
        this.name = 'BridgeClientError';
    }
}

/** One thing wrong with a configuration: the setting, the environment variable it came from (if any), what is wrong. */
export type { ConfigProblem };

/** Configuration errors name every setting that was wrong (the CLI exits with status 2). */
export class BridgeConfigError extends Error {
    constructor(readonly problems: ConfigProblem[]) {
        super(problems.map(problemText).join('\n'));
        this.name = 'BridgeConfigError';
    }

    /** A single problem. */
    static of(field: string, message: string, env?: string): BridgeConfigError {
        return new BridgeConfigError([{ field, env, message }]);
    }
}
