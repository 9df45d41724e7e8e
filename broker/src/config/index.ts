// Loads the broker's configuration: defaults ← JSON file ← environment (BROKER__<PATH>, one generic
// rule), validated against the schema (config/schema.ts) by the engine the bridge uses too. Every
// problem is reported at once, each naming the setting, its environment variable and the bad value.
// The operator key comes from the environment only (BROKER__CHAIN__OPERATOR_KEY): a key in the file
// is refused.

import { identity } from "../access/CredentialGate";
import { paymentTermsOf } from "../payments/config";
import { DaemonConfig, fabricConnectionProblem, problemText, type Checked, type ConfigProblem } from "@datamarket/consent-ledger/config";
import { DataMarketError } from "@datamarket/protocol";
import { addressOfPrivateKey } from "../wire";
import { BrokerConfigSchema, type BrokerConfig } from "./schema";

export { BrokerConfigSchema, StaticStreamSchema, type BrokerConfig, type StaticStream } from "./schema";
export type { ConfigProblem };

/** Chains where the in-process consent ledger is the default: Hardhat's and Anvil's/Ganache's. */
export const DEVELOPMENT_CHAIN_IDS: readonly number[] = [31337, 1337];

/** Settings and variables of earlier versions, named in the error that refuses them. */
const RENAMED: Record<string, string> = {
  consent:
    'consentLedger: consent.mode "in-process" / "off" is consentLedger.kind, "fabric" is consentLedger.kind "fabric-gateway" with its connection under consentLedger.fabric (not CONSENT_LEDGER_* variables); consent.probeMs is access.consentProbeMs',
};
const LEGACY_ENV: Record<string, string> = Object.fromEntries(
  Object.entries({
    HOST: "HOST",
    WS_PORT: "WS_PORT",
    HTTP_PORT: "HTTP_PORT",
    DATA_DIR: "DATA_DIR",
    DOMAIN: "DOMAIN",
    CHAIN_ID: "CHAIN_ID",
    MAX_CONTENT_BYTES: "MAX_CONTENT_BYTES",
    SEND_BUDGET_BYTES: "SEND_BUDGET_BYTES",
    LIVE_DELIVERY: "LIVE_DELIVERY",
    VERIFY_THREADS: "VERIFY_THREADS",
    LOG_LEVEL: "LOG__LEVEL",
    CHAIN: "CHAIN__MODE",
    RPC_URL: "CHAIN__RPC_URL",
    DEPLOYMENT: "CHAIN__DEPLOYMENT",
    OPERATOR_KEY: "CHAIN__OPERATOR_KEY",
    CONSENT: "CONSENT_LEDGER__KIND",
    REPLICATION_ACKS: "REPLICATION__ACKS",
  }).map(([old, now]) => [`BROKER_${old}`, `BROKER__${now}`]),
);

/** The broker's schema with its environment rule and docs table. */
export const BROKER_CONFIG = new DaemonConfig<BrokerConfig>({
  schema: BrokerConfigSchema,
  envPrefix: "BROKER",
  envExample: "BROKER__STORAGE__MAX_RESEND_EVENTS",
  renamed: RENAMED,
  legacyEnv: LEGACY_ENV,
});

/** Every default (paths as given). */
export const DEFAULT_CONFIG: BrokerConfig = BROKER_CONFIG.defaults();

/** Configuration errors name every setting that was wrong (`broker start` exits with status 2). */
export class ConfigError extends DataMarketError<"INVALID_CONFIG"> {
  override name = "ConfigError";

  constructor(
    readonly problems: ConfigProblem[],
    options: { cause?: unknown } = {},
  ) {
    super("INVALID_CONFIG", problems.map(problemText).join("\n"), { details: { problems }, cause: options.cause, docsPath: "broker.md#configuration" });
  }

  /** A single problem (found at start: a chain that does not match the configuration, say); `cause`: the error that revealed it. */
  static of(field: string, message: string, env?: string, options: { cause?: unknown } = {}): ConfigError {
    return new ConfigError([{ field, env, message }], options);
  }
}

/** Reads `file` (if given; its relative paths are relative to it) and the environment; throws ConfigError listing every problem. */
export function loadConfig(file?: string, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  return finish(BROKER_CONFIG.load(file, env));
}

/** Validates a parsed configuration with the environment; relative paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): BrokerConfig {
  return finish(BROKER_CONFIG.check(raw, env, baseDir));
}

/** Checks that span settings (once the schema is satisfied), then throws every problem or returns the configuration. */
function finish({ config, problems, valid, given }: Checked<BrokerConfig>): BrokerConfig {
  if (valid) problems.push(...crossChecks(config, given));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function crossChecks(c: BrokerConfig, given: (path: readonly string[]) => boolean): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const env = (path: string) => BROKER_CONFIG.envName(path.split("."));
  const needsKey = (field: string, why: string) => problems.push({ field, message: `needs chain.operatorKey (${why}): set ${env("chain.operatorKey")}` });
  if (c.sendBudgetBytes < c.maxContentBytes + 300) {
    problems.push({
      field: "sendBudgetBytes",
      message: `${c.sendBudgetBytes} is not at least maxContentBytes + 300 (${c.maxContentBytes + 300}): the budget must hold one maximal frame`,
    });
  }
  if (c.chain.contractSubscribers && !c.chain.operatorKey) needsKey("chain.contractSubscribers", "it pays the gas and receives the bounties");
  if (c.replication.peers.length > 0 && !c.chain.operatorKey) needsKey("replication.peers", "the key this broker signs in to its peers with");
  problems.push(...fabricConnectionProblem(c.consentLedger));
  problems.push(...credentialProblems(c.access.credentials));
  try {
    paymentTermsOf(c.payments, (field, message) => {
      throw Object.assign(new Error(message), { field });
    });
  } catch (err) {
    problems.push({ field: (err as { field: string }).field, message: (err as Error).message });
  }
  // A broker on a real chain must not follow an empty ledger of its own without saying so.
  if (c.chain.mode !== "off" && !DEVELOPMENT_CHAIN_IDS.includes(c.chainId) && !given(["consentLedger", "kind"])) {
    problems.push({
      field: "consentLedger.kind",
      env: env("consentLedger.kind"),
      message: `required on chain ${c.chainId}: "fabric-gateway" (the consent ledger's gateway peer, under consentLedger.fabric), "off" (no consent ledger: consent-gated licences admit no one), or "in-process" (an empty ledger in this process: development only). Only chains ${DEVELOPMENT_CHAIN_IDS.join(" and ")} default to "in-process"`,
    });
  }
  return problems;
}

/** access.credentials: each policy and the trust list checked by the identity package, an audience with any policy. */
function credentialProblems(c: BrokerConfig["access"]["credentials"]): ConfigProblem[] {
  const streams = Object.keys(c.policies);
  if (streams.length === 0) return [];
  const problems: ConfigProblem[] = [];
  const field = "access.credentials";
  for (const streamId of streams) {
    try {
      identity().validateCredentialPolicy(c.policies[streamId], `${field}.policies.${streamId}`);
    } catch (err) {
      const e = err as { shortMessage?: string; message: string; details?: { field?: string } };
      problems.push({ field: String(e.details?.field ?? `${field}.policies`), message: (e.shortMessage ?? e.message).replace(/^[^:]*: /, "") });
    }
  }
  if (c.audience === "") problems.push({ field: `${field}.audience`, message: "must name this broker's client_id when a policy is set" });
  try {
    new (identity().TrustList)(c.trustList);
  } catch (err) {
    problems.push({ field: `${field}.trustList`, message: (err as { shortMessage?: string; message: string }).shortMessage ?? (err as Error).message });
  }
  return problems;
}

/** The configuration as `broker start --test` prints it: the operator key replaced by the address it controls. */
export function describeConfig(config: BrokerConfig): Record<string, unknown> {
  return BROKER_CONFIG.redacted(config, (key) => `(set in the environment; address ${addressOfPrivateKey(Buffer.from(key.slice(2), "hex"))})`);
}

/** The files the configuration names that this process cannot read (the deployment record, the Fabric identity). */
export function checkConfigFiles(config: BrokerConfig): ConfigProblem[] {
  return BROKER_CONFIG.unreadableFiles(config);
}
