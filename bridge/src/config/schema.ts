// The bridge's configuration as one JSON Schema (TypeBox): it gives the TypeScript type of a loaded
// configuration, the validation (ajv, defaults filled in), the environment variable of every field
// (config/env.ts) and the table of docs/market.md §10.2 (config/table.ts). Adding a setting is one
// entry here; its type, checks, environment variable and documentation follow.
//
// Each leaf carries `expect` (what a valid value is, for error messages: `http.port: "7170x" is not a
// port number 0..65535`) and `description` (for the docs). `secret: true` marks a private key: it is
// read from the environment only and never printed.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS } from '../attestor';
import { LOG_LEVELS } from '../log';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A string out of a fixed list (one JSON Schema `enum`, so a bad value is one error, not one per member). */
function oneOf<T extends string>(values: readonly T[], options: Record<string, unknown>): TUnsafe<T> {
    return Type.Unsafe<T>({ type: 'string', enum: [...values], expect: `one of ${values.map((value) => `"${value}"`).join(', ')}`, ...options });
}

const blockNumber = (description: string) => Type.Integer({ minimum: 0, maximum: MAX_SAFE, default: 0, expect: 'a block number (an integer >= 0)', description });
const nonEmpty = (expect: string, description: string, options: Record<string, unknown> = {}) => Type.String({ minLength: 1, expect, description, ...options });
const milliseconds = (minimum: number, maximum: number, fallback: number, description: string) =>
    Type.Integer({ minimum, maximum, default: fallback, expect: `a number of milliseconds ${minimum}..${maximum}`, description });
const privateKey = (description: string) => Type.String({ pattern: '^(0x)?[0-9a-fA-F]{64}$', secret: true, expect: 'a 32-byte secp256k1 private key in hex', description });

/**
 * The consent ledger a daemon follows. The same block serves the broker (docs/broker.md), so that both
 * daemons of an organisation are pointed at the ledger the same way.
 */
export const ConsentLedgerSchema = Type.Object({
    kind: oneOf(['in-process', 'fabric-gateway'] as const, {
        default: 'in-process',
        description: '`in-process`: an empty ledger in this process (local development and demos only); `fabric-gateway`: a Fabric 2.5 gateway peer',
    }),
    startBlock: blockNumber('first ledger block to read when there is no checkpoint'),
    maxClockSkewSeconds: Type.Integer({
        minimum: 1, maximum: 86_400, default: DEFAULT_MAX_CLOCK_SKEW_SECONDS, expect: 'a number of seconds 1..86400',
        description: 'largest distance between a grant\'s issue time and this daemon\'s clock that it accepts; keep it at the peers\' `CONSENT_MAX_CLOCK_SKEW_SECONDS`',
    }),
    fabric: Type.Optional(Type.Object({
        endpoint: nonEmpty('host:port of the gateway peer', 'the gateway peer, `host:port`', { pattern: '^[^\\s:/]+:[0-9]{1,5}$' }),
        hostnameOverride: Type.Optional(nonEmpty('a TLS server name', 'TLS server name, when it differs from the endpoint\'s host')),
        tlsCaCertificateFile: nonEmpty('a file path', 'PEM of the peer\'s TLS CA (relative to the config file)'),
        mspId: nonEmpty('an MSP id', 'MSP id of the client identity (it needs only read access to events, e.g. `consent.role=auditor`)'),
        certificateFile: nonEmpty('a file path', 'PEM enrollment certificate of the client identity'),
        privateKeyFile: nonEmpty('a file path', 'PEM private key of the client identity (a Fabric identity file, not an Ethereum key)'),
        channelName: nonEmpty('a channel name', 'channel of the consent chaincode', { default: 'consent' }),
        chaincodeName: nonEmpty('a chaincode name', 'name of the consent chaincode', { default: 'consent' }),
    }, { additionalProperties: false, description: 'required when `kind` is `fabric-gateway`' })),
}, { additionalProperties: false, default: {} });

export const BridgeConfigSchema = Type.Object({
    http: Type.Object({
        host: nonEmpty('a host name or IP address', 'where the API listens (loopback by default: put a TLS reverse proxy in front to publish it)', { default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65_535, default: 8701, expect: 'a port number 0..65535', description: 'port of the API (0: any free port)' }),
    }, { additionalProperties: false, default: {} }),
    stateDir: nonEmpty('a directory path', '`identity.json` (chain id, market, attestor: a state directory is refused for another one), `signatures.jsonl`, `checkpoint.json`; relative to the config file', { default: './bridge-state' }),
    log: Type.Object({
        level: oneOf(LOG_LEVELS, { default: 'info', description: 'pino level; logs are JSON lines on stdout' }),
    }, { additionalProperties: false, default: {} }),
    consentLedger: ConsentLedgerSchema,
    chain: Type.Object({
        rpcUrl: Type.String({ pattern: '^(https?|wss?)://.+', default: 'http://127.0.0.1:8545', expect: 'an http(s) or ws(s) URL', description: 'JSON-RPC endpoint: the market is checked there at start, and the relayer sends through it' }),
        chainId: Type.Integer({ minimum: 1, maximum: MAX_SAFE, default: 31337, expect: 'a chain id (an integer >= 1)', description: 'part of every signature\'s domain; the RPC endpoint must serve this chain' }),
        market: Type.String({ pattern: '^0x[0-9a-fA-F]{40}$', expect: 'a 0x-prefixed 20-byte address', description: 'the `DataLicenseMarket` address, part of every signature\'s domain; checked at start to be the market' }),
        logsFromBlock: blockNumber('the market\'s deployment block (where the relayer looks for earlier `ConsentRevoked` logs)'),
    }, { additionalProperties: false, default: {} }),
    attestorKey: privateKey('this organisation\'s attestor key: it signs the attestations and revocations'),
    relayer: Type.Object({
        enabled: Type.Boolean({ default: false, expect: 'true or false', description: 'relay revocations on chain with `revokeConsent`' }),
        key: Type.Optional(privateKey('the relayer\'s key (pays the gas of `revokeConsent`; required when enabled)')),
        peers: Type.Array(Type.String({ pattern: '^https?://.+', expect: 'an http(s) URL' }), {
            default: [], expect: 'a list of http(s) URLs', description: 'the other organisations\' bridges, whose signatures make up k (a JSON array, or comma-separated in the environment)',
        }),
        maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 5, expect: 'an integer 1..100', description: 'attempts per revocation before it is recorded as failed' }),
        retryDelayMs: milliseconds(1, 3_600_000, 1_000, 'first retry delay (doubles each attempt)'),
        httpTimeoutMs: milliseconds(1, 600_000, 5_000, 'timeout of each request to a peer bridge'),
    }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

/** A validated configuration: defaults filled in, paths resolved, keys from the environment. */
export type BridgeConfig = Static<typeof BridgeConfigSchema>;
export type ConsentLedgerConfig = Static<typeof ConsentLedgerSchema>;

/** A leaf of the schema (a setting): its dotted path and its schema. */
export interface Setting {
    path: string[];
    schema: TSchema;
    /** the configuration is invalid without it */
    required: boolean;
    /** its object is invalid without it (e.g. consentLedger.fabric.endpoint, once consentLedger.fabric is given) */
    requiredInParent: boolean;
}

/** Every setting of a schema, depth first, in declaration order; required: it has no default and no optional parent. */
export function settingsOf(schema: TSchema = BridgeConfigSchema, prefix: string[] = [], required = true): Setting[] {
    if (schema.type === 'object' && schema.properties) {
        const requiredKeys = new Set<string>(schema.required ?? []);
        return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([key, child]) => {
            if (child.type === 'object' && child.properties) return settingsOf(child, [...prefix, key], required && requiredKeys.has(key));
            const requiredInParent = requiredKeys.has(key) && child.default === undefined;
            return [{ path: [...prefix, key], schema: child, required: required && requiredInParent, requiredInParent }];
        });
    }
    return [];
}

/** The environment variable of a setting: BRIDGE__ and the path, each name in UPPER_SNAKE_CASE, joined by "__". */
export function envName(path: readonly string[]): string {
    return ['BRIDGE', ...path.map((name) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())].join('__');
}
