// Configuration of a bridge: a JSON file, a few environment overrides, and keys from the environment
// only (a 32-byte hex string anywhere in the file is refused, so a key never lands in a repository).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SigningKey, getAddress } from 'ethers';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS } from './attestor';
import { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT } from './bridge';
import { BridgeConfigError } from './errors';
import type { LogLevel } from './log';

export interface InProcessLedgerConfig {
    kind: 'in-process';
}

export interface FabricGatewayLedgerConfig {
    kind: 'fabric-gateway';
    /** gateway peer host:port */
    endpoint: string;
    /** files (paths relative to the config file) */
    tlsCaCertificateFile: string;
    certificateFile: string;
    privateKeyFile: string;
    hostnameOverride?: string;
    mspId: string;
    channelName: string;
    chaincodeName?: string;
}

export interface BridgeConfig {
    http: { host: string; port: number };
    /** signatures and checkpoint live here */
    stateDir: string;
    logLevel: LogLevel;
    ledger: (InProcessLedgerConfig | FabricGatewayLedgerConfig) & { startBlock: bigint; maxClockSkewSeconds: number };
    chain: { rpcUrl: string; chainId: bigint; market: string; logsFromBlock: number };
    /** the attestor key, 0x-hex, read from the environment variable `attestorKeyEnv` */
    attestorKey: string;
    attestorKeyEnv: string;
    relayer: null | {
        /** the relayer key, read from the environment variable `keyEnv` */
        key: string;
        keyEnv: string;
        peers: string[];
        maxAttempts: number;
        retryDelayMs: number;
        httpTimeoutMs: number;
    };
}

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8545';
export const HARDHAT_CHAIN_ID = 31337n;
export const DEFAULT_ATTESTOR_KEY_ENV = 'BRIDGE_ATTESTOR_KEY';
export const DEFAULT_RELAYER_KEY_ENV = 'BRIDGE_RELAYER_KEY';

type Json = Record<string, unknown>;

/** Reads and validates a config file; `env` supplies keys and overrides (default process.env). */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
    let raw: unknown;
    try {
        raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
        throw new BridgeConfigError('config', `cannot read ${path} as JSON: ${(error as Error).message}`);
    }
    return parseConfig(raw, env, dirname(resolve(path)));
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): BridgeConfig {
    if (!isObject(raw)) throw new BridgeConfigError('config', 'must be a JSON object');
    refuseKeys(raw, 'config');
    const http = optionalObject(raw, 'http');
    const chain = optionalObject(raw, 'chain');
    const ledger = optionalObject(raw, 'ledger');
    const relayer = raw.relayer === undefined || raw.relayer === null ? null : optionalObject(raw, 'relayer');

    const port = integer(env.BRIDGE_HTTP_PORT ?? http.port ?? DEFAULT_HTTP_PORT, 'http.port', 0, 65_535);
    const host = string(env.BRIDGE_HTTP_HOST ?? http.host ?? DEFAULT_HTTP_HOST, 'http.host');
    const market = env.BRIDGE_MARKET ?? chain.market;
    if (market === undefined) throw new BridgeConfigError('chain.market', 'the market address is required (or BRIDGE_MARKET)');
    let marketAddress: string;
    try {
        marketAddress = getAddress(string(market, 'chain.market')).toLowerCase();
    } catch {
        throw new BridgeConfigError('chain.market', `not an address: "${String(market)}"`);
    }
    const chainId = BigInt(integer(env.BRIDGE_CHAIN_ID ?? chain.chainId ?? Number(HARDHAT_CHAIN_ID), 'chain.chainId', 1, Number.MAX_SAFE_INTEGER));
    const rpcUrl = string(env.BRIDGE_RPC_URL ?? chain.rpcUrl ?? DEFAULT_RPC_URL, 'chain.rpcUrl');
    if (!/^(https?|wss?):\/\//.test(rpcUrl)) throw new BridgeConfigError('chain.rpcUrl', `must be an http(s) or ws(s) URL, got "${rpcUrl}"`);

    const attestorKeyEnv = string(raw.attestorKeyEnv ?? DEFAULT_ATTESTOR_KEY_ENV, 'attestorKeyEnv');
    const attestorKey = key(env[attestorKeyEnv], attestorKeyEnv);

    const kind = ledger.kind ?? 'in-process';
    const startBlock = BigInt(integer(ledger.startBlock ?? 0, 'ledger.startBlock', 0, Number.MAX_SAFE_INTEGER));
    const maxClockSkewSeconds = integer(ledger.maxClockSkewSeconds ?? DEFAULT_MAX_CLOCK_SKEW_SECONDS, 'ledger.maxClockSkewSeconds', 1, 86_400);
    let ledgerConfig: BridgeConfig['ledger'];
    if (kind === 'in-process') {
        ledgerConfig = { kind, startBlock, maxClockSkewSeconds };
    } else if (kind === 'fabric-gateway') {
        const file = (field: string) => resolve(baseDir, string(ledger[field], `ledger.${field}`));
        ledgerConfig = {
            kind, startBlock, maxClockSkewSeconds,
            endpoint: string(ledger.endpoint, 'ledger.endpoint'),
            tlsCaCertificateFile: file('tlsCaCertificateFile'),
            certificateFile: file('certificateFile'),
            privateKeyFile: file('privateKeyFile'),
            hostnameOverride: ledger.hostnameOverride === undefined ? undefined : string(ledger.hostnameOverride, 'ledger.hostnameOverride'),
            mspId: string(ledger.mspId, 'ledger.mspId'),
            channelName: string(ledger.channelName, 'ledger.channelName'),
            chaincodeName: ledger.chaincodeName === undefined ? undefined : string(ledger.chaincodeName, 'ledger.chaincodeName'),
        };
    } else {
        throw new BridgeConfigError('ledger.kind', `must be "in-process" or "fabric-gateway", got "${String(kind)}"`);
    }

    let relayerConfig: BridgeConfig['relayer'] = null;
    if (relayer) {
        const keyEnv = string(relayer.keyEnv ?? DEFAULT_RELAYER_KEY_ENV, 'relayer.keyEnv');
        const peers = relayer.peers ?? [];
        if (!Array.isArray(peers)) throw new BridgeConfigError('relayer.peers', 'must be a list of bridge URLs');
        relayerConfig = {
            key: key(env[keyEnv], keyEnv),
            keyEnv,
            peers: peers.map((peer, index) => {
                const url = string(peer, `relayer.peers[${index}]`);
                if (!/^https?:\/\//.test(url)) throw new BridgeConfigError(`relayer.peers[${index}]`, `must be an http(s) URL, got "${url}"`);
                return url;
            }),
            maxAttempts: integer(relayer.maxAttempts ?? 5, 'relayer.maxAttempts', 1, 100),
            retryDelayMs: integer(relayer.retryDelayMs ?? 1_000, 'relayer.retryDelayMs', 1, 3_600_000),
            httpTimeoutMs: integer(relayer.httpTimeoutMs ?? 5_000, 'relayer.httpTimeoutMs', 1, 600_000),
        };
    }
    const logLevel = string(env.BRIDGE_LOG_LEVEL ?? raw.logLevel ?? 'info', 'logLevel') as LogLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new BridgeConfigError('logLevel', `must be debug, info, warn or error, got "${logLevel}"`);

    return {
        http: { host, port },
        stateDir: resolve(baseDir, string(env.BRIDGE_STATE_DIR ?? raw.stateDir ?? './bridge-state', 'stateDir')),
        logLevel,
        ledger: ledgerConfig,
        chain: { rpcUrl, chainId, market: marketAddress, logsFromBlock: integer(chain.logsFromBlock ?? 0, 'chain.logsFromBlock', 0, Number.MAX_SAFE_INTEGER) },
        attestorKey,
        attestorKeyEnv,
        relayer: relayerConfig,
    };
}

function isObject(value: unknown): value is Json {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalObject(raw: Json, field: string): Json {
    const value = raw[field];
    if (value === undefined) return {};
    if (!isObject(value)) throw new BridgeConfigError(field, 'must be an object');
    return value;
}

function string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value.length === 0) throw new BridgeConfigError(field, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return value;
}

function integer(value: unknown, field: string, min: number, max: number): number {
    const number = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < min || number > max) {
        throw new BridgeConfigError(field, `must be an integer ${min}..${max}, got ${JSON.stringify(value)}`);
    }
    return number;
}

function key(value: string | undefined, envName: string): string {
    if (value === undefined || value === '') throw new BridgeConfigError(envName, 'environment variable not set (the key is read from the environment only)');
    const hex = value.startsWith('0x') ? value : `0x${value}`;
    try {
        new SigningKey(hex);
    } catch {
        throw new BridgeConfigError(envName, 'is not a 32-byte secp256k1 private key in hex');
    }
    return hex;
}

/** A 32-byte hex value in the file is a key by mistake: refuse it rather than sign with it. */
function refuseKeys(value: unknown, path: string): void {
    if (typeof value === 'string' && /^(0x)?[0-9a-fA-F]{64}$/.test(value)) {
        throw new BridgeConfigError(path, 'looks like a private key; keys are read from environment variables only');
    }
    if (Array.isArray(value)) value.forEach((item, index) => refuseKeys(item, `${path}[${index}]`));
    else if (isObject(value)) for (const [field, item] of Object.entries(value)) refuseKeys(item, path === 'config' ? field : `${path}.${field}`);
}
