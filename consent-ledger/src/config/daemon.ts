// One JSON Schema (TypeBox) per daemon gives its configuration's type, its validation (ajv, defaults
// filled in), the environment variable of every setting by one generic rule (PREFIX__ and the path in
// UPPER_SNAKE_CASE, as Streamr's node does), and the settings table of its documentation. The bridge
// and the broker both load their configuration through this module, so that an operator meets the
// same rules, the same error messages and the same table in both.
//
// Annotations a schema node may carry (ajv ignores them; they are registered as a vocabulary):
//   expect       what a valid value is, for errors: `wsPort: "7170" is not a port number 0..65535`
//   description  the setting's meaning, for the docs table
//   secret       a private key: read from the environment only, never printed, checked on secp256k1
//   filePath     a path, resolved against the configuration file's directory: "read" a file this
//                process must be able to read (checked by unreadableFiles), "dir" a directory
//   opaque       free-form data: not scanned for values that look like private keys
//   keyExpect    on a record (map): what a valid key is
//   requiredWith on an optional object: when its required settings are required (for the table)
//   defaultText  the default, when it is computed at start (for the table)
import { accessSync, constants, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1";
import { Type, type TSchema, type TUnsafe } from "@sinclair/typebox";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

/** One thing wrong with a configuration: the setting, the environment variable it came from (if any), what is wrong. */
export interface ConfigProblem {
  field: string;
  env?: string;
  message: string;
}

/** `field (ENV): message`, as the daemons print a problem. */
export function problemText(problem: ConfigProblem): string {
  return `${problem.field}${problem.env ? ` (${problem.env})` : ""}: ${problem.message}`;
}

/** A leaf of the schema (a setting): its dotted path and its schema. */
export interface Setting {
  path: string[];
  schema: TSchema;
  /** the configuration is invalid without it */
  required: boolean;
  /** its object is invalid without it (e.g. consentLedger.fabric.endpoint, once consentLedger.fabric is given) */
  requiredInParent: boolean;
  /** the `requiredWith` of the nearest optional object around it */
  requiredWith?: string;
}

const ANNOTATIONS = ["expect", "secret", "filePath", "opaque", "keyExpect", "requiredWith", "defaultText"];

/** The levels a configuration may choose for pino (without "silent"). */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A string out of a fixed list (one JSON Schema `enum`, so a bad value is one error, not one per member). */
export function oneOf<T extends string>(values: readonly T[], options: Record<string, unknown>): TUnsafe<T> {
  return Type.Unsafe<T>({ type: "string", enum: [...values], expect: `one of ${values.map((value) => `"${value}"`).join(", ")}`, ...options });
}

/** Schema builders shared by the daemons' schemas. */
export const settings = {
  blockNumber: (description: string) => Type.Integer({ minimum: 0, maximum: MAX_SAFE, default: 0, expect: "a block number (an integer >= 0)", description }),
  nonEmpty: (expect: string, description: string, options: Record<string, unknown> = {}) => Type.String({ minLength: 1, expect, description, ...options }),
  milliseconds: (minimum: number, maximum: number, fallback: number, description: string) =>
    Type.Integer({ minimum, maximum, default: fallback, expect: `a number of milliseconds ${minimum}..${maximum}`, description }),
  privateKey: (description: string) =>
    Type.String({ pattern: "^(0x)?[0-9a-fA-F]{64}$", secret: true, expect: "a 32-byte secp256k1 private key in hex", description }),
  port: (fallback: number, description: string) =>
    Type.Integer({ minimum: 0, maximum: 65_535, default: fallback, expect: "a port number 0..65535", description }),
  logLevel: () => oneOf(LOG_LEVELS, { default: "info", description: "pino level; logs are JSON lines on stdout" }),
  rpcUrl: (fallback: string, description: string) =>
    Type.String({ pattern: "^(https?|wss?)://.+", default: fallback, expect: "an http(s) or ws(s) URL", description }),
  chainId: (fallback: number, description: string) =>
    Type.Integer({ minimum: 1, maximum: MAX_SAFE, default: fallback, expect: "a chain id (an integer >= 1)", description }),
  address: (description: string, options: Record<string, unknown> = {}) =>
    Type.String({ pattern: "^0x[0-9a-fA-F]{40}$", expect: "a 0x-prefixed 20-byte address", description, ...options }),
  /** A chain follower's confirmation depth; unset, confirmationDepth() gives its default. */
  confirmations: (description: string) =>
    Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 10_000,
        defaultText: "0 on chains 31337 and 1337 (dev nodes), else 12",
        expect: "an integer 0..10000",
        description,
      }),
    ),
};

/** Development chains (Hardhat's and anvil's 31337, the common 1337): no reorgs but the ones a test makes. */
const DEV_CHAINS = new Set([31337, 1337]);

/** A configured confirmation depth (settings.confirmations), or its default: 0 on a development chain, else 12. */
export function confirmationDepth(chainId: number, configured: number | undefined): number {
  return configured ?? (DEV_CHAINS.has(chainId) ? 0 : 12);
}

/** Every setting of a schema, depth first, in declaration order; required: it has no default and no optional parent. */
export function settingsOf(schema: TSchema, prefix: string[] = [], required = true, requiredWith?: string): Setting[] {
  if (schema.type === "object" && schema.properties) {
    const requiredKeys = new Set<string>(schema.required ?? []);
    const within = (schema.requiredWith as string | undefined) ?? requiredWith;
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([key, child]) => {
      if (child.type === "object" && child.properties) return settingsOf(child, [...prefix, key], required && requiredKeys.has(key), within);
      const requiredInParent = requiredKeys.has(key) && child.default === undefined;
      return [{ path: [...prefix, key], schema: child, required: required && requiredInParent, requiredInParent, requiredWith: within }];
    });
  }
  return [];
}

/** The environment variable of a setting: PREFIX__ and the path, each name in UPPER_SNAKE_CASE, joined by "__". */
export function envNameOf(prefix: string, path: readonly string[]): string {
  return [prefix, ...path.map((name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())].join("__");
}

/** `a.b[2].c` from a path. */
export const fieldOf = (path: readonly string[]) => path.reduce((out, key) => (/^[0-9]+$/.test(key) ? `${out}[${key}]` : out ? `${out}.${key}` : key), "");

/** A value as an error message shows it (JSON, cut at 80 characters). */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Json = Record<string, unknown>;

export interface DaemonConfigOptions {
  schema: TSchema;
  /** The environment variables' prefix, e.g. BROKER: a setting's variable is BROKER__<PATH>. */
  envPrefix: string;
  /** The example variable named in the error that refuses an unknown PREFIX__ variable. */
  envExample: string;
  /** Settings of earlier versions (dotted path) and what replaced them. */
  renamed?: Record<string, string>;
  /** Variables of earlier versions and the variable that replaced them. */
  legacyEnv?: Record<string, string>;
}

/** What `check` found: the configuration with its defaults (valid when no problem came from the schema). */
export interface Checked<T> {
  config: T;
  /** dotted path of a setting -> the variable it came from */
  fromEnv: Map<string, string>;
  problems: ConfigProblem[];
  /** The schema is satisfied (the configuration has its shape; other problems may remain). */
  valid: boolean;
  /** Whether the file or the environment gave the setting (not its default). */
  given(path: readonly string[]): boolean;
}

/** A daemon's configuration schema with its loader, error messages and docs table. */
export class DaemonConfig<T> {
  readonly settings: Setting[];
  private readonly byPath: Map<string, Setting>;
  private readonly byEnv: Map<string, Setting>;
  private readonly validate: ValidateFunction<T>;

  constructor(readonly options: DaemonConfigOptions) {
    this.settings = settingsOf(options.schema);
    this.byPath = new Map(this.settings.map((setting) => [setting.path.join("."), setting]));
    this.byEnv = new Map(this.settings.map((setting) => [this.envName(setting.path), setting]));
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
    ajv.addVocabulary(ANNOTATIONS);
    this.validate = ajv.compile<T>(options.schema);
  }

  envName(path: readonly string[]): string {
    return envNameOf(this.options.envPrefix, path);
  }

  /**
   * Reads `file` (if given; its relative paths are relative to it) and checks it with the
   * environment. A file that cannot be read as JSON is one problem.
   */
  load(file: string | undefined, env: NodeJS.ProcessEnv): Checked<T> {
    let raw: unknown = {};
    if (file !== undefined) {
      try {
        raw = JSON.parse(readFileSync(file, "utf8"));
      } catch (error) {
        return {
          config: {} as T,
          fromEnv: new Map(),
          problems: [{ field: "config", message: `cannot read ${file} as JSON: ${(error as Error).message}` }],
          valid: false,
          given: () => false,
        };
      }
    }
    return this.check(raw, env, file === undefined ? process.cwd() : dirname(resolve(file)));
  }

  /**
   * Validates a parsed configuration file with the environment: every problem at once, each naming
   * the setting, its variable and the bad value. When the schema is satisfied, keys are normalised
   * (0x-prefixed) and checked, and relative paths resolved against `baseDir` (null: left as given).
   */
  check(raw: unknown, env: NodeJS.ProcessEnv, baseDir: string | null): Checked<T> {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      return { config: {} as T, fromEnv: new Map(), problems: [{ field: "config", message: "must be a JSON object" }], valid: false, given: () => false };
    }
    const config = structuredClone(raw) as Json;
    const inFile = new Set(this.settings.filter((setting) => valueAt(config, setting.path) !== undefined).map((setting) => setting.path.join(".")));
    const problems: ConfigProblem[] = [...this.keysInFile(config, []), ...this.environmentProblems(env)];
    const fromEnv = this.applyEnvironment(config, env);
    const given = (path: readonly string[]) => inFile.has(path.join(".")) || fromEnv.has(path.join("."));
    if (!this.validate(config)) {
      const seen = new Set<string>();
      for (const error of this.validate.errors ?? []) {
        const problem = this.describe(error, config, fromEnv);
        const key = `${problem.field}|${problem.message}`;
        if (!seen.has(key)) problems.push(problem);
        seen.add(key);
      }
      return { config: config as T, fromEnv, problems, valid: false, given };
    }
    for (const setting of this.settings) {
      const value = valueAt(config, setting.path);
      if (typeof value !== "string") continue;
      if (setting.schema.secret) {
        const hex = value.startsWith("0x") ? value : `0x${value}`;
        if (!secp256k1.utils.isValidPrivateKey(hex.slice(2))) {
          problems.push({
            field: fieldOf(setting.path),
            env: this.envName(setting.path),
            message: "the value is not a secp256k1 private key (zero or not below the curve order)",
          });
        }
        setAt(config, setting.path, hex);
      } else if (setting.schema.filePath && value !== "" && baseDir !== null) {
        setAt(config, setting.path, resolve(baseDir, value));
      }
    }
    return { config: config as T, fromEnv, problems, valid: true, given };
  }

  /** The files the configuration names that this process cannot read (checked by `--test` and before a start). */
  unreadableFiles(config: T): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const setting of this.settings) {
      const file = valueAt(config as Json, setting.path);
      if (setting.schema.filePath !== "read" || typeof file !== "string" || file === "") continue;
      try {
        accessSync(file, constants.R_OK);
      } catch (error) {
        problems.push({
          field: fieldOf(setting.path),
          env: this.envName(setting.path),
          message: `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`,
        });
      }
    }
    return problems;
  }

  /** The configuration with defaults only, paths as given (throws when a setting is required). */
  defaults(): T {
    const checked = this.check({}, {}, null);
    if (checked.problems.length > 0) throw new Error(checked.problems.map(problemText).join("\n"));
    return checked.config;
  }

  /** A key setting, or a value that looks like a 32-byte key where the schema does not expect one, in the file. */
  private keysInFile(value: unknown, path: string[]): ConfigProblem[] {
    const schema = this.schemaAt(path);
    if (schema?.opaque) return [];
    if (schema?.secret && value !== undefined) {
      return [{ field: fieldOf(path), message: `a private key is never read from a file: remove it and set ${this.envName(path)}` }];
    }
    if (typeof value === "string" && /^(0x)?[0-9a-fA-F]{64}$/.test(value) && !(typeof schema?.pattern === "string" && new RegExp(schema.pattern).test(value))) {
      return [{ field: fieldOf(path), message: "looks like a private key; keys are read from environment variables only" }];
    }
    if (Array.isArray(value)) return value.flatMap((item, index) => this.keysInFile(item, [...path, String(index)]));
    if (typeof value === "object" && value !== null) return Object.entries(value).flatMap(([key, item]) => this.keysInFile(item, [...path, key]));
    return [];
  }

  private environmentProblems(env: NodeJS.ProcessEnv): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const prefix = `${this.options.envPrefix}__`;
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined || value === "") continue;
      const replacement = this.options.legacyEnv?.[name];
      if (replacement) problems.push({ field: name, message: `is no longer read: use ${replacement}` });
      else if (name.startsWith(prefix) && !this.byEnv.has(name)) {
        problems.push({
          field: name,
          message: `is not a setting (a variable is ${prefix} and a setting's path in UPPER_SNAKE_CASE, e.g. ${this.options.envExample})`,
        });
      }
    }
    return problems;
  }

  /** Writes the environment's values into the configuration; returns which setting came from which variable. */
  private applyEnvironment(config: Json, env: NodeJS.ProcessEnv): Map<string, string> {
    const fromEnv = new Map<string, string>();
    for (const setting of this.settings) {
      const name = this.envName(setting.path);
      const text = env[name];
      if (text === undefined || text === "") continue;
      setAt(config, setting.path, fromText(text, setting.schema));
      fromEnv.set(setting.path.join("."), name);
    }
    return fromEnv;
  }

  /** The schema at a path of the configuration (through objects, arrays and records). */
  private schemaAt(path: readonly string[]): TSchema | undefined {
    let schema: TSchema | undefined = this.options.schema;
    for (const key of path) {
      if (!schema) return undefined;
      if (schema.properties?.[key]) schema = schema.properties[key] as TSchema;
      else if (/^[0-9]+$/.test(key) && schema.items) schema = schema.items as TSchema;
      else if (schema.patternProperties) schema = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
      else if (typeof schema.additionalProperties === "object") schema = schema.additionalProperties as TSchema;
      else return undefined;
    }
    return schema;
  }

  /** The setting a path lies in (itself, or the list or map setting that holds it). */
  private settingOf(path: readonly string[]): Setting | undefined {
    for (let length = path.length; length > 0; length--) {
      const setting = this.byPath.get(path.slice(0, length).join("."));
      if (setting) return setting;
    }
    return undefined;
  }

  /** One ajv error as a problem that names the setting, its variable and the bad value. */
  private describe(error: ErrorObject, config: Json, fromEnv: Map<string, string>): ConfigProblem {
    const path = error.instancePath
      .split("/")
      .slice(1)
      .map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (error.keyword === "required") {
      const missing = [...path, (error.params as { missingProperty: string }).missingProperty];
      const setting = this.byPath.get(missing.join("."));
      if (!setting) {
        const holder = this.settingOf(missing);
        return { field: fieldOf(missing), env: holder && fromEnv.get(holder.path.join(".")), message: "is required" };
      }
      const env = this.envName(missing);
      return setting.schema.secret
        ? { field: fieldOf(missing), env, message: `required: set ${env} (a private key is read from the environment only)` }
        : { field: fieldOf(missing), env, message: `required: set it in the config file or in ${env}` };
    }
    if (error.keyword === "additionalProperties") {
      const unknown = [...path, (error.params as { additionalProperty: string }).additionalProperty];
      const parent = this.schemaAt(path);
      if (parent?.patternProperties) {
        const holder = this.settingOf(unknown);
        return { field: fieldOf(unknown), env: holder && fromEnv.get(holder.path.join(".")), message: `is not ${String(parent.keyExpect ?? "a valid key")}` };
      }
      const hint = this.options.renamed?.[unknown.join(".")];
      const siblings = Object.keys(parent?.properties ?? {}).join(", ");
      return { field: fieldOf(unknown), message: hint ? `is not a setting any more: ${hint}` : `is not a setting (settings here: ${siblings})` };
    }
    const schema = this.schemaAt(path);
    const setting = this.settingOf(path);
    const isObject = error.keyword === "type" && (error.params as { type?: string }).type === "object";
    const expect = isObject ? "an object" : ((schema?.expect as string | undefined) ?? error.message ?? "valid");
    const env = setting ? fromEnv.get(setting.path.join(".")) : undefined;
    return { field: fieldOf(path), env, message: setting?.schema.secret ? `the value is not ${expect}` : `${show(valueAt(config, path))} is not ${expect}` };
  }

  /** A copy of a configuration for printing: every secret replaced by what `describeSecret` says of it. */
  redacted(config: T, describeSecret: (value: string, setting: Setting) => string): Json {
    const copy = structuredClone(config) as Json;
    for (const setting of this.settings) {
      const value = valueAt(copy, setting.path);
      if (setting.schema.secret && typeof value === "string") setAt(copy, setting.path, describeSecret(value, setting));
    }
    return copy;
  }

  /** The markdown table of every setting: setting, environment variable, default, accepted values, meaning. */
  table(): string {
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const rows = this.settings.map(({ path, schema, required, requiredInParent, requiredWith }) => {
      const fallback = schema.secret
        ? required
          ? "required, environment only"
          : "environment only"
        : schema.defaultText !== undefined
          ? String(schema.defaultText)
          : schema.default !== undefined
            ? `\`${JSON.stringify(schema.default)}\``
            : required
              ? "required"
              : requiredInParent && requiredWith
                ? `required with \`${requiredWith}\``
                : "optional";
      return `| \`${path.join(".")}\` | \`${this.envName(path)}\` | ${fallback} | ${cell(String(schema.expect ?? ""))} | ${cell(String(schema.description ?? ""))} |`;
    });
    return ["| setting | environment variable | default | accepted values | meaning |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
  }
}

/**
 * A page with its generated block rewritten: the text between `<!-- generated:NAME -->` and
 * `<!-- /generated -->` becomes `body`, under a line that names the command that writes it.
 */
export function renderGenerated(doc: string, name: string, body: string, generator: string): string {
  const open = `<!-- generated:${name} -->`;
  const close = "<!-- /generated -->";
  const start = doc.indexOf(open);
  const end = doc.indexOf(close, start);
  if (start < 0 || end < 0) throw new Error(`the page must contain ${open} … ${close}`);
  return `${doc.slice(0, start)}${open}\n<!-- generated by ${generator}; do not edit by hand -->\n\n${body}\n\n${doc.slice(end)}`;
}

function valueAt(config: Json, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === "object" ? (node as Json)[key] : undefined), config);
}

function setAt(config: Json, path: readonly string[], value: unknown): void {
  let target = config;
  for (const key of path.slice(0, -1)) {
    if (typeof target[key] !== "object" || target[key] === null || Array.isArray(target[key])) target[key] = {};
    target = target[key] as Json;
  }
  target[path[path.length - 1]] = value;
}

/** An environment string as the setting's type; left a string when it does not parse, so the error shows it. */
function fromText(text: string, schema: TSchema): unknown {
  const json = () => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  };
  switch (schema.type) {
    case "integer":
    case "number":
      return /^-?[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    case "array":
      if (text.trim().startsWith("[")) return json();
      if ((schema.items as TSchema | undefined)?.type === "object") return text;
      return text
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
    case "object":
      return text.trim().startsWith("{") ? json() : text;
    case "string":
      return text;
    default:
      // a union (e.g. "majority" or a number): a number when it reads as one
      return /^-?[0-9]+$/.test(text) ? Number(text) : text;
  }
}
