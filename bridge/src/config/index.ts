// Loads the bridge's configuration: defaults ← JSON file ← environment (BRIDGE__<PATH>, one generic
// rule), validated against the schema (config/schema.ts). Every problem is reported at once, each
// naming the setting, its environment variable and the bad value. Private keys come from the
// environment only: a key field, or anything that looks like a key, in the file is refused.
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';
import { SigningKey, computeAddress, getAddress } from 'ethers';
import { BridgeConfigError, type ConfigProblem } from '../errors';
import { BridgeConfigSchema, envName, settingsOf, type BridgeConfig, type Setting } from './schema';

export { BridgeConfigSchema, ConsentLedgerSchema, envName, settingsOf, type BridgeConfig, type ConsentLedgerConfig, type Setting } from './schema';

type Json = Record<string, unknown>;

const SETTINGS = settingsOf();
const BY_PATH = new Map(SETTINGS.map((setting) => [setting.path.join('.'), setting]));
const BY_ENV = new Map(SETTINGS.map((setting) => [envName(setting.path), setting]));

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
ajv.addVocabulary(['expect', 'secret']);
const validate = ajv.compile<BridgeConfig>(BridgeConfigSchema);

/** Settings and variables of earlier versions, named in the error that refuses them. */
const RENAMED: Record<string, string> = {
    logLevel: 'log.level',
    ledger: 'consentLedger (its Fabric connection under consentLedger.fabric)',
    attestorKeyEnv: 'the attestor key is read from BRIDGE__ATTESTOR_KEY',
    'relayer.keyEnv': 'the relayer key is read from BRIDGE__RELAYER__KEY; set relayer.enabled',
};
const LEGACY_ENV: Record<string, string> = {
    BRIDGE_ATTESTOR_KEY: 'BRIDGE__ATTESTOR_KEY', BRIDGE_RELAYER_KEY: 'BRIDGE__RELAYER__KEY', BRIDGE_HTTP_HOST: 'BRIDGE__HTTP__HOST',
    BRIDGE_HTTP_PORT: 'BRIDGE__HTTP__PORT', BRIDGE_RPC_URL: 'BRIDGE__CHAIN__RPC_URL', BRIDGE_CHAIN_ID: 'BRIDGE__CHAIN__CHAIN_ID',
    BRIDGE_MARKET: 'BRIDGE__CHAIN__MARKET', BRIDGE_STATE_DIR: 'BRIDGE__STATE_DIR', BRIDGE_LOG_LEVEL: 'BRIDGE__LOG__LEVEL',
};

/** Reads `file` (if given) and the environment; throws BridgeConfigError listing every problem. */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
    let raw: unknown = {};
    if (file !== undefined) {
        try {
            raw = JSON.parse(readFileSync(file, 'utf8'));
        } catch (error) {
            throw new BridgeConfigError([{ field: 'config', message: `cannot read ${file} as JSON: ${(error as Error).message}` }]);
        }
    }
    return parseConfig(raw, env, file === undefined ? process.cwd() : dirname(resolve(file)));
}

/** Validates a parsed configuration file with the environment; relative paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): BridgeConfig {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new BridgeConfigError([{ field: 'config', message: 'must be a JSON object' }]);
    }
    const config = structuredClone(raw) as Json;
    const problems: ConfigProblem[] = [...keysInFile(config, []), ...environmentProblems(env)];
    const fromEnv = applyEnvironment(config, env);
    if (!validate(config)) {
        const seen = new Set<string>();
        for (const error of validate.errors ?? []) {
            const problem = describe(error, config, fromEnv);
            const key = `${problem.field}|${problem.message}`;
            if (!seen.has(key)) problems.push(problem);
            seen.add(key);
        }
    } else {
        problems.push(...finish(config as unknown as BridgeConfig, baseDir, fromEnv));
    }
    if (problems.length > 0) throw new BridgeConfigError(problems);
    return config as unknown as BridgeConfig;
}

/** A key field, or a value that looks like a 32-byte key, in the file. */
function keysInFile(value: unknown, path: string[]): ConfigProblem[] {
    const setting = BY_PATH.get(path.join('.'));
    if (setting?.schema.secret && value !== undefined) {
        return [{ field: path.join('.'), message: `a private key is never read from a file: remove it and set ${envName(path)}` }];
    }
    if (typeof value === 'string' && /^(0x)?[0-9a-fA-F]{64}$/.test(value)) {
        return [{ field: fieldOf(path), message: 'looks like a private key; keys are read from environment variables only' }];
    }
    if (Array.isArray(value)) return value.flatMap((item, index) => keysInFile(item, [...path, String(index)]));
    if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => keysInFile(item, [...path, key]));
    return [];
}

function environmentProblems(env: NodeJS.ProcessEnv): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const [name, value] of Object.entries(env)) {
        if (value === undefined || value === '') continue;
        if (LEGACY_ENV[name]) problems.push({ field: name, message: `is no longer read: use ${LEGACY_ENV[name]}` });
        else if (name.startsWith('BRIDGE__') && !BY_ENV.has(name)) {
            problems.push({ field: name, message: 'is not a setting (a variable is BRIDGE__ and a setting\'s path in UPPER_SNAKE_CASE, e.g. BRIDGE__CHAIN__RPC_URL)' });
        }
    }
    return problems;
}

/** Writes the environment's values into the configuration; returns which setting came from which variable. */
function applyEnvironment(config: Json, env: NodeJS.ProcessEnv): Map<string, string> {
    const fromEnv = new Map<string, string>();
    for (const setting of SETTINGS) {
        const name = envName(setting.path);
        const text = env[name];
        if (text === undefined || text === '') continue;
        let target = config;
        for (const key of setting.path.slice(0, -1)) {
            if (typeof target[key] !== 'object' || target[key] === null || Array.isArray(target[key])) target[key] = {};
            target = target[key] as Json;
        }
        target[setting.path[setting.path.length - 1]] = fromText(text, setting);
        fromEnv.set(setting.path.join('.'), name);
    }
    return fromEnv;
}

/** An environment string as the setting's type; left a string when it does not parse, so the error shows it. */
function fromText(text: string, setting: Setting): unknown {
    switch (setting.schema.type) {
        case 'integer':
            return /^-?[0-9]+$/.test(text) ? Number(text) : text;
        case 'boolean':
            return text === 'true' ? true : text === 'false' ? false : text;
        case 'array':
            if (text.trim().startsWith('[')) {
                try {
                    return JSON.parse(text);
                } catch {
                    return text;
                }
            }
            return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
        default:
            return text;
    }
}

const fieldOf = (path: readonly string[]) => path.reduce((out, key) => (/^[0-9]+$/.test(key) ? `${out}[${key}]` : out ? `${out}.${key}` : key), '');

function valueAt(config: Json, path: string[]): unknown {
    return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Json)[key] : undefined), config);
}

function show(value: unknown): string {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The object schema at a path of the configuration. */
function objectSchemaAt(path: string[]): TSchema {
    return path.reduce<TSchema>((schema, key) => (schema.properties?.[key] as TSchema | undefined) ?? schema, BridgeConfigSchema);
}

/** One ajv error as a problem that names the setting, its variable and the bad value. */
function describe(error: ErrorObject, config: Json, fromEnv: Map<string, string>): ConfigProblem {
    const path = error.instancePath.split('/').slice(1);
    if (error.keyword === 'required') {
        const missing = [...path, (error.params as { missingProperty: string }).missingProperty];
        const setting = BY_PATH.get(missing.join('.'));
        const env = envName(missing);
        return setting?.schema.secret
            ? { field: fieldOf(missing), env, message: `required: set ${env} (a private key is read from the environment only)` }
            : { field: fieldOf(missing), env, message: `required: set it in the config file or in ${env}` };
    }
    if (error.keyword === 'additionalProperties') {
        const unknown = [...path, (error.params as { additionalProperty: string }).additionalProperty];
        const hint = RENAMED[unknown.join('.')];
        const siblings = Object.keys(objectSchemaAt(path).properties ?? {}).join(', ');
        return { field: fieldOf(unknown), message: hint ? `is not a setting any more: ${hint}` : `is not a setting (settings here: ${siblings})` };
    }
    const setting = BY_PATH.get(path.filter((key) => !/^[0-9]+$/.test(key)).join('.'));
    const schema = /^[0-9]+$/.test(path[path.length - 1] ?? '') ? setting?.schema.items : setting?.schema;
    const isObject = error.keyword === 'type' && (error.params as { type?: string }).type === 'object';
    const expect = isObject ? 'an object' : (schema?.expect as string | undefined) ?? error.message ?? 'valid';
    const env = setting ? fromEnv.get(setting.path.join('.')) : undefined;
    const value = valueAt(config, path);
    return { field: fieldOf(path), env, message: setting?.schema.secret ? `the value is not ${expect}` : `${show(value)} is not ${expect}` };
}

/** Checks beyond the schema, then resolves paths and normalises addresses and keys. */
function finish(config: BridgeConfig, baseDir: string, fromEnv: Map<string, string>): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const ledger = config.consentLedger;
    if (ledger.kind === 'fabric-gateway' && !ledger.fabric) {
        problems.push({ field: 'consentLedger.fabric', message: 'required when consentLedger.kind is "fabric-gateway": the gateway peer, TLS CA, MSP id, certificate and key files' });
    }
    try {
        config.chain.market = getAddress(config.chain.market).toLowerCase();
    } catch {
        problems.push({ field: 'chain.market', env: fromEnv.get('chain.market'), message: `${show(config.chain.market)} is not an address (its EIP-55 checksum is wrong)` });
    }
    const key = (value: string, path: string[]): string => {
        const hex = value.startsWith('0x') ? value : `0x${value}`;
        try {
            void new SigningKey(hex).publicKey; // derives the public key: fails for 0 and values not below the curve order
        } catch {
            problems.push({ field: path.join('.'), env: envName(path), message: 'the value is not a secp256k1 private key (zero or not below the curve order)' });
        }
        return hex;
    };
    config.attestorKey = key(config.attestorKey, ['attestorKey']);
    if (config.relayer.key !== undefined) config.relayer.key = key(config.relayer.key, ['relayer', 'key']);
    else if (config.relayer.enabled) {
        problems.push({ field: 'relayer.key', env: envName(['relayer', 'key']), message: `required when relayer.enabled is true: set ${envName(['relayer', 'key'])}` });
    }
    config.stateDir = resolve(baseDir, config.stateDir);
    if (ledger.fabric) {
        for (const file of ['tlsCaCertificateFile', 'certificateFile', 'privateKeyFile'] as const) ledger.fabric[file] = resolve(baseDir, ledger.fabric[file]);
    }
    return problems;
}

/** The configuration as `bridge start --test` prints it: each key replaced by the address it controls. */
export function describeConfig(config: BridgeConfig): Json {
    const keyOf = (key: string) => `(set in the environment; address ${computeAddress(key).toLowerCase()})`;
    return {
        ...config,
        attestorKey: keyOf(config.attestorKey),
        relayer: { ...config.relayer, key: config.relayer.key === undefined ? undefined : keyOf(config.relayer.key) },
    };
}

/** The files the configuration names that this process cannot read (checked by `--test` and before a start). */
export function checkConfigFiles(config: BridgeConfig): ConfigProblem[] {
    const fabric = config.consentLedger.fabric;
    if (config.consentLedger.kind !== 'fabric-gateway' || !fabric) return [];
    const problems: ConfigProblem[] = [];
    for (const file of ['tlsCaCertificateFile', 'certificateFile', 'privateKeyFile'] as const) {
        try {
            accessSync(fabric[file], constants.R_OK);
        } catch (error) {
            const path = ['consentLedger', 'fabric', file];
            problems.push({ field: path.join('.'), env: envName(path), message: `cannot read ${fabric[file]} (${(error as NodeJS.ErrnoException).code})` });
        }
    }
    return problems;
}
