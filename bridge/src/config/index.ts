// Loads the bridge's configuration: defaults ← JSON file ← environment (BRIDGE__<PATH>, one generic
// rule), validated against the schema (config/schema.ts). Every problem is reported at once, each
// naming the setting, its environment variable and the bad value. Private keys come from the
// environment only: a key field, or anything that looks like a key, in the file is refused.
import { computeAddress, getAddress } from "ethers";
import { DaemonConfig, fabricConnectionProblem, show, type Checked } from "@datamarket/consent-ledger/config";
import { BridgeConfigError, type ConfigProblem } from "../errors";
import { BridgeConfigSchema, envName, type BridgeConfig } from "./schema";

export {
  BridgeConfigSchema,
  ConsentLedgerSchema,
  confirmationsOf,
  envName,
  settingsOf,
  type BridgeConfig,
  type ConsentLedgerConfig,
  type Setting,
} from "./schema";

type Json = Record<string, unknown>;

/** Settings and variables of earlier versions, named in the error that refuses them. */
const RENAMED: Record<string, string> = {
  logLevel: "log.level",
  ledger: "consentLedger (its Fabric connection under consentLedger.fabric)",
  attestorKeyEnv: "the attestor key is read from BRIDGE__ATTESTOR_KEY",
  "relayer.keyEnv": "the relayer key is read from BRIDGE__RELAYER__KEY; set relayer.enabled",
};
const LEGACY_ENV: Record<string, string> = {
  BRIDGE_ATTESTOR_KEY: "BRIDGE__ATTESTOR_KEY",
  BRIDGE_RELAYER_KEY: "BRIDGE__RELAYER__KEY",
  BRIDGE_HTTP_HOST: "BRIDGE__HTTP__HOST",
  BRIDGE_HTTP_PORT: "BRIDGE__HTTP__PORT",
  BRIDGE_RPC_URL: "BRIDGE__CHAIN__RPC_URL",
  BRIDGE_CHAIN_ID: "BRIDGE__CHAIN__CHAIN_ID",
  BRIDGE_MARKET: "BRIDGE__CHAIN__MARKET",
  BRIDGE_STATE_DIR: "BRIDGE__STATE_DIR",
  BRIDGE_LOG_LEVEL: "BRIDGE__LOG__LEVEL",
};

/** The bridge's schema with its environment rule and docs table (the engine is the broker's too). */
export const BRIDGE_CONFIG = new DaemonConfig<BridgeConfig>({
  schema: BridgeConfigSchema,
  envPrefix: "BRIDGE",
  envExample: "BRIDGE__CHAIN__RPC_URL",
  renamed: RENAMED,
  legacyEnv: LEGACY_ENV,
});

/** Reads `file` (if given) and the environment; throws BridgeConfigError listing every problem. */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  return finish(BRIDGE_CONFIG.load(file, env));
}

/** Validates a parsed configuration file with the environment; relative paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): BridgeConfig {
  return finish(BRIDGE_CONFIG.check(raw, env, baseDir));
}

/** Checks beyond the schema (once it is satisfied), then throws every problem, or returns the configuration. */
function finish({ config, fromEnv, problems, valid }: Checked<BridgeConfig>): BridgeConfig {
  if (valid) {
    problems.push(...fabricConnectionProblem(config.consentLedger));
    try {
      config.chain.market = getAddress(config.chain.market).toLowerCase();
    } catch {
      problems.push({
        field: "chain.market",
        env: fromEnv.get("chain.market"),
        message: `${show(config.chain.market)} is not an address (its EIP-55 checksum is wrong)`,
      });
    }
    if (config.relayer.key === undefined && config.relayer.enabled) {
      problems.push({
        field: "relayer.key",
        env: envName(["relayer", "key"]),
        message: `required when relayer.enabled is true: set ${envName(["relayer", "key"])}`,
      });
    }
  }
  if (problems.length > 0) throw new BridgeConfigError(problems);
  return config;
}

/** The configuration as `bridge start --test` prints it: each key replaced by the address it controls. */
export function describeConfig(config: BridgeConfig): Json {
  return BRIDGE_CONFIG.redacted(config, (key) => `(set in the environment; address ${computeAddress(key).toLowerCase()})`);
}

/** The files the configuration names that this process cannot read (checked by `--test` and before a start). */
export function checkConfigFiles(config: BridgeConfig): ConfigProblem[] {
  return config.consentLedger.kind === "fabric-gateway" ? BRIDGE_CONFIG.unreadableFiles(config) : [];
}
