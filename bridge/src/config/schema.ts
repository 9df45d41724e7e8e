// The bridge's configuration as one JSON Schema (TypeBox): it gives the TypeScript type of a loaded
// configuration, the validation (ajv, defaults filled in), the environment variable of every field
// and the table of docs/market.md §10.2, through the daemons' shared engine
// (@datamarket/consent-ledger/config, which the broker uses too). Adding a setting is one entry here;
// its type, checks, environment variable and documentation follow.
//
// Each leaf carries `expect` (what a valid value is, for error messages: `http.port: "7170x" is not a
// port number 0..65535`) and `description` (for the docs). `secret: true` marks a private key: it is
// read from the environment only and never printed.
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import {
  ConsentLedgerSchema as SharedConsentLedgerSchema,
  confirmationDepth,
  envNameOf,
  settings,
  settingsOf as settingsOfSchema,
  type Setting,
} from "@datamarket/consent-ledger/config";
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS } from "../attestor";

export type { Setting };

/**
 * The consent ledger block every daemon shares (@datamarket/consent-ledger/config), with the bridge's
 * own bound on a grant's issue time: it signs attestations for grants, so it judges their clock.
 */
export const ConsentLedgerSchema = Type.Object(
  {
    ...SharedConsentLedgerSchema.properties,
    maxClockSkewSeconds: Type.Integer({
      minimum: 1,
      maximum: 86_400,
      default: DEFAULT_MAX_CLOCK_SKEW_SECONDS,
      expect: "a number of seconds 1..86400",
      description:
        "largest distance between a grant's issue time and this daemon's clock that it accepts; keep it at the peers' `CONSENT_MAX_CLOCK_SKEW_SECONDS`",
    }),
  },
  { additionalProperties: false, default: {} },
);

const { blockNumber, nonEmpty, milliseconds, privateKey } = settings;

export const BridgeConfigSchema = Type.Object(
  {
    http: Type.Object(
      {
        host: nonEmpty("a host name or IP address", "where the API listens (loopback by default: put a TLS reverse proxy in front to publish it)", {
          default: "127.0.0.1",
        }),
        port: settings.port(8701, "port of the API (0: any free port)"),
      },
      { additionalProperties: false, default: {} },
    ),
    stateDir: nonEmpty(
      "a directory path",
      "`identity.json` (chain id, market, attestor: a state directory is refused for another one), `signatures.jsonl`, `checkpoint.json`; relative to the config file",
      { default: "./bridge-state", filePath: "dir" },
    ),
    log: Type.Object(
      {
        level: settings.logLevel(),
      },
      { additionalProperties: false, default: {} },
    ),
    consentLedger: ConsentLedgerSchema,
    chain: Type.Object(
      {
        rpcUrl: settings.rpcUrl("http://127.0.0.1:8545", "JSON-RPC endpoint: the market is checked there at start, and the relayer sends through it"),
        chainId: settings.chainId(31337, "part of every signature's domain; the RPC endpoint must serve this chain"),
        market: settings.address("the `DataLicenseMarket` address, part of every signature's domain; checked at start to be the market"),
        logsFromBlock: blockNumber("the market's deployment block (where the relayer looks for earlier `ConsentRevoked` logs)"),
        confirmations: settings.confirmations(
          'blocks on top of a `revokeConsent` before the relayer counts the revocation relayed; one a reorg removes before is relayed again, once (docs/network.md, "Confirmation depths and reorgs")',
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    attestorKey: privateKey("this organisation's attestor key: it signs the attestations and revocations"),
    relayer: Type.Object(
      {
        enabled: Type.Boolean({ default: false, expect: "true or false", description: "relay revocations on chain with `revokeConsent`" }),
        key: Type.Optional(privateKey("the relayer's key (pays the gas of `revokeConsent`; required when enabled)")),
        peers: Type.Array(Type.String({ pattern: "^https?://.+", expect: "an http(s) URL" }), {
          default: [],
          expect: "a list of http(s) URLs",
          description: "the other organisations' bridges, whose signatures make up k (a JSON array, or comma-separated in the environment)",
        }),
        maxAttempts: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 5,
          expect: "an integer 1..100",
          description: "attempts per revocation before it is recorded as failed",
        }),
        retryDelayMs: milliseconds(1, 3_600_000, 1_000, "first retry delay (doubles each attempt)"),
        httpTimeoutMs: milliseconds(1, 600_000, 5_000, "timeout of each request to a peer bridge"),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

/** A validated configuration: defaults filled in, paths resolved, keys from the environment. */
export type BridgeConfig = Static<typeof BridgeConfigSchema>;
export type ConsentLedgerConfig = Static<typeof ConsentLedgerSchema>;

/** chain.confirmations, or its default: 0 on a development chain, else 12 (as the broker's). */
export function confirmationsOf(config: BridgeConfig): number {
  return confirmationDepth(config.chain.chainId, config.chain.confirmations);
}

/** Every setting of the bridge's schema, depth first, in declaration order. */
export function settingsOf(schema: TSchema = BridgeConfigSchema): Setting[] {
  return settingsOfSchema(schema);
}

/** The environment variable of a setting: BRIDGE__ and the path, each name in UPPER_SNAKE_CASE, joined by "__". */
export function envName(path: readonly string[]): string {
  return envNameOf("BRIDGE", path);
}
