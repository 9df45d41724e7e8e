// The broker's configuration as one JSON Schema (TypeBox), read by the daemons' shared engine
// (@datamarket/consent-ledger/config, the bridge's too): it gives the TypeScript type of a loaded
// configuration, the validation (ajv, defaults filled in), the environment variable of every setting
// (BROKER__ and its path in UPPER_SNAKE_CASE) and the settings table of docs/broker.md
// (config/table.ts). Adding a setting is one entry here; its type, checks, variable and docs follow.
//
// Each leaf carries `expect` (what a valid value is, for errors: `wsPort: "7170" is not a port
// number 0..65535`) and `description` (for the docs); `secret: true` marks a private key, read from
// the environment only and never printed.

import { cpus } from "node:os";
import { Type, type Static } from "@sinclair/typebox";
import { consentLedgerSchema, oneOf, settings } from "@datamarket/consent-ledger/config";
import type { CredentialPolicy, TrustListConfig } from "@datamarket/identity";

const { nonEmpty, milliseconds } = settings;
const DAY_MS = 86_400_000;
const STREAM_ID = "^0x[0-9a-fA-F]{64}$";
const streamId = Type.String({ pattern: STREAM_ID, expect: "a stream id (0x and 64 hex digits)" });
const address = Type.String({ pattern: "^0x[0-9a-fA-F]{40}$", expect: "a 0x-prefixed 20-byte address" });
const bytes = (minimum: number, maximum: number, fallback: number, description: string) =>
  Type.Integer({ minimum, maximum, default: fallback, expect: `a number of bytes ${minimum}..${maximum}`, description });
const count = (minimum: number, maximum: number, fallback: number, description: string) =>
  Type.Integer({ minimum, maximum, default: fallback, expect: `an integer ${minimum}..${maximum}`, description });
/** A DATA amount in token wei, as a decimal string (amounts exceed 2^53). */
const wei = (fallback: string, description: string) =>
  Type.String({ pattern: "^(0|[1-9][0-9]{0,77})$", default: fallback, expect: 'a decimal string of DATA wei (e.g. "1000000000000")', description });
/** Addresses by stream id (static permissions). */
const permissions = (description: string) =>
  Type.Record(Type.String({ pattern: STREAM_ID }), Type.Array(address), {
    default: {},
    additionalProperties: false,
    keyExpect: "a stream id (0x and 64 hex digits)",
    expect: "an object of stream id -> list of addresses",
    description,
  });

export const StaticStreamSchema = Type.Object(
  {
    creator: settings.address("the stream's creator"),
    path: Type.String({ pattern: "^/[A-Za-z0-9._~/-]{1,127}$", expect: "a path starting with / of [A-Za-z0-9._~/-], 2..128 bytes" }),
    partitions: Type.Optional(count(1, 65_535, 1, "stream partitions")),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { opaque: true, expect: "a JSON object" })),
  },
  { additionalProperties: false },
);

export const BrokerConfigSchema = Type.Object(
  {
    host: nonEmpty("a host name or IP address", "interface both servers listen on", { default: "127.0.0.1" }),
    wsPort: settings.port(7170, 'port of the WebSocket API (0: any free port, logged in `"broker listening"`)'),
    httpPort: settings.port(7171, "port of the HTTP API, `/health` and `/metrics` (0: any free port)"),
    dataDir: nonEmpty("a directory path", "the event logs and the broker's state (relative to the config file)", { default: "./broker-data", filePath: "dir" }),
    domain: nonEmpty("a domain", "the EIP-4361 domain sign-in messages must name", { default: "localhost" }),
    chainId: settings.chainId(31337, "the chain id sign-in messages must name; the node at `chain.rpcUrl` must serve it"),
    maxContentBytes: bytes(1, 64 * 1024 * 1024, 1024 * 1024, "largest event content"),
    maxClockSkewMs: milliseconds(1, 3_600_000, 30_000, "accepted distance of an event's timestamp from the broker's clock"),
    sendBudgetBytes: bytes(
      1,
      2 ** 31,
      8 * 1024 * 1024,
      "bytes a connection may have queued before it is cut (docs/protocol.md §6.5); at least `maxContentBytes` + 300",
    ),
    liveDelivery: oneOf(["ordered", "durable"] as const, {
      default: "ordered",
      description:
        "when live subscribers get an event: `ordered` once verified and in its publisher's chain, while its fdatasync runs; `durable` only after it. Publishers are acknowledged, and resends served, after the fdatasync either way (docs/protocol.md §6.3)",
    }),
    verifyThreads: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: cpus().length >= 2 ? 1 : 0,
      defaultText: "1 on 2+ cores, else 0",
      expect: "an integer 0..64",
      description:
        "verifier processes that take a backlog of signature recoveries (a turn of up to 64 events is verified in the event loop); 0: all in the event loop",
    }),
    storage: Type.Object(
      {
        segmentBytes: bytes(1024, 2 ** 40, 64 * 1024 * 1024, "log segment size"),
        maxResendEvents: count(1, 10_000_000, 100_000, "most events one resend or history answer returns (docs/protocol.md §6.4)"),
        commitDelayMs: count(
          0,
          1000,
          2,
          "under load, the least time (ms) between the starts of two group commits, so one fdatasync covers more events; a lone event is synced at once; 0: as soon as possible",
        ),
        retentionIntervalMs: milliseconds(1, DAY_MS, 60_000, "how often retention runs"),
        retention: Type.Object(
          {
            maxAgeMs: Type.Integer({
              minimum: 0,
              maximum: 100 * 365 * DAY_MS,
              default: 7 * DAY_MS,
              expect: "a number of milliseconds >= 0",
              description: "drop whole segments whose newest event is older (0: no age limit)",
            }),
            maxBytesPerPartition: Type.Integer({
              minimum: 0,
              maximum: 2 ** 50,
              default: 0,
              expect: "a number of bytes >= 0",
              description: "drop the oldest segments while a stream partition's log is larger (0: no size limit)",
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    access: Type.Object(
      {
        maxStalenessMs: milliseconds(1, DAY_MS, 30_000, "fail closed (docs/protocol.md §8) when the chain or the consent ledger was not reached for longer"),
        consentProbeMs: milliseconds(1, 600_000, 1000, "how often the consent ledger's reachability is probed"),
        static: Type.Object(
          {
            publicStreams: Type.Array(streamId, {
              default: [],
              expect: "a list of stream ids",
              description: "streams everyone may subscribe to, without a chain (a JSON array, or comma-separated in the environment)",
            }),
            publishers: permissions("publish permissions without a chain"),
            subscribers: permissions("subscribe permissions without a chain"),
          },
          { additionalProperties: false, default: {} },
        ),
        credentials: Type.Object(
          {
            audience: Type.String({
              default: "",
              expect: "a client_id (a URL or a DID)",
              description: "the client_id credential presentations must name as `aud` (OpenID4VP); required when a policy is set",
            }),
            trustList: Type.Unsafe<TrustListConfig>(
              Type.Object(
                { issuers: Type.Array(Type.Unknown()) },
                {
                  default: { issuers: [] },
                  opaque: true,
                  expect: "a trust list { issuers: [...] }",
                  description: "the issuers trusted, for which credential types, with their keys (docs/identity.md §5; a JSON object in the environment)",
                },
              ),
            ),
            policies: Type.Unsafe<Record<string, CredentialPolicy>>(
              Type.Record(Type.String({ pattern: STREAM_ID }), Type.Unknown(), {
                default: {},
                additionalProperties: false,
                opaque: true,
                keyExpect: "a stream id (0x and 64 hex digits)",
                expect: "an object of stream id -> { credentialTypes, claims }",
                description:
                  "streams whose readers must also prove a claim with a verifiable credential at sign-in (docs/protocol.md §6.1), whatever else lets them read, a public stream included; empty: none (a JSON object in the environment)",
              }),
            ),
            statusListMaxAgeSeconds: Type.Integer({
              minimum: 1,
              maximum: 86_400,
              default: 300,
              expect: "a number of seconds 1..86400",
              description: "longest a fetched credential status list is reused",
            }),
            allowHttpStatusLists: Type.Boolean({
              default: false,
              expect: "true or false",
              description: "fetch status lists over plain http too (tests, a private network); https only otherwise",
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    streams: Type.Array(StaticStreamSchema, {
      default: [],
      expect: "a list of { creator, path, partitions?, metadata? }",
      description: "streams known without a registry (a JSON array in the environment)",
    }),
    network: Type.Object(
      {
        epochLengthMs: milliseconds(
          1,
          365 * DAY_MS,
          60_000,
          "epoch length without a coordinator; with one it is the contract's (`epochLength() × 1000`) and a configured value that differs stops the start",
        ),
        genesisMs: Type.Integer({
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          default: 0,
          expect: "unix ms (an integer >= 0)",
          description: "start of epoch 0 without a coordinator; with one, the contract's (`genesis() × 1000`)",
        }),
        partitionCount: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 65_536,
            defaultText: "1 without a coordinator",
            expect: "an integer 1..65536",
            description:
              "P without a coordinator (the broker serves all P network partitions, routed with the coordinator's function); with one, P is the coordinator's and a configured value that differs stops the start",
          }),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    chain: Type.Object(
      {
        mode: oneOf(["auto", "on", "off"] as const, {
          default: "auto",
          description:
            "`auto`: follow the contracts when a node answers at `rpcUrl` and a deployment record is found, else run on the static settings (said at start, at warn, and in `/health`); `on`: require them (else exit 2); `off`: never look",
        }),
        rpcUrl: settings.rpcUrl("http://127.0.0.1:8545", "the Ethereum node (its chain id must be `chainId`)"),
        deployment: Type.String({
          default: "",
          filePath: "read",
          expect: "a file path, or empty",
          description:
            "the deployment record (docs/deployment.md §4); empty searches `deployments/<chainId>.json` in the working directory, its parents and the repository",
        }),
        pollMs: milliseconds(1, 600_000, 250, "log polling interval: keep it under the block time, so a cut comes within one block"),
        confirmations: settings.confirmations(
          'blocks a purchase, permission or registry change must be under before the broker acts on it; revocations act at the head (docs/network.md, "Confirmation depths and reorgs")',
        ),
        operatorKey: Type.Optional(
          settings.privateKey(
            "the broker operator's key, registered on the coordinator: the partition assignment, commit-reveal reports, reward claims, replication (it signs the broker in to its peers), contract deliveries",
          ),
        ),
        operatorAddress: Type.Optional(
          settings.address("follow the coordinator's assignment of this address without a key (no reports); default: the key's address"),
        ),
        contractSubscribers: Type.Boolean({
          default: false,
          expect: "true or false",
          description: "deliver to EventSubscriptions' contract subscribers and claim the bounties (needs `operatorKey`)",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    payments: Type.Object(
      {
        publishPrice: wei("0", 'DATA wei charged for each event a payer publishes here (docs/network.md §14); "0": publishing is free'),
        deliveryPrice: wei("0", 'DATA wei charged for each event delivered live to a subscriber, per subscriber; "0": free'),
        voucherPeriodEvents: Type.Integer({
          minimum: 0,
          maximum: Number.MAX_SAFE_INTEGER,
          default: 1000,
          expect: "0 or an integer >= 2",
          description:
            "one voucher period in priced events: the most a payer may have been served unpaid; the broker asks for a voucher at half a period and stops serving the payer at a full one; 0: no bound by events (`voucherPeriodAmount` must then be set)",
        }),
        voucherPeriodAmount: wei("0", 'one voucher period in DATA wei ("0": by events only); the first bound reached applies'),
        redeemIntervalMs: milliseconds(1000, 30 * DAY_MS, 3_600_000, "how often the broker redeems the latest voucher of each payer on chain"),
        redeemMinAmount: wei("0", "a redemption that would pay less (DATA wei) waits for the next round, unless the channel is closing"),
      },
      { additionalProperties: false, default: {}, description: "per-event fees through payment channels (docs/network.md §14); free by default" },
    ),
    replication: Type.Object(
      {
        acks: Type.Union([Type.Literal("majority"), Type.Literal("all"), Type.Integer({ minimum: 1, maximum: 8 })], {
          default: "majority",
          expect: '"majority", "all" or an integer 1..8',
          description:
            "replicas (this one included) that must hold an event before its publisher is acknowledged: `majority` (⌊R/2⌋ + 1), `all`, or a number (capped at R); docs/network.md §13",
        }),
        ackTimeoutMs: milliseconds(1, 600_000, 5000, "how long a publish waits for its replicas; then `NOT_ENOUGH_REPLICAS` (the event is stored here)"),
        catchUpWaitMs: milliseconds(
          0,
          600_000,
          10_000,
          "how long a resend waits for its partition's catch-up before answering with a `CATCHING_UP` gap notice",
        ),
        pageEvents: count(1, 10_000, 2000, "events per catch-up page"),
        peers: Type.Array(
          Type.Object(
            {
              address: settings.address("a peer's operator address"),
              ws: Type.String({ pattern: "^wss?://.+", expect: "a ws:// or wss:// URL" }),
            },
            { additionalProperties: false },
          ),
          {
            default: [],
            expect: "a list of { address, ws }",
            description:
              "without a coordinator: the other replicas of every partition (a static replicated network); needs `chain.operatorKey` (a JSON array in the environment)",
          },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    consentLedger: consentLedgerSchema([{ kind: "off" as const, description: "no consent ledger: consent-gated licences admit no one" }]),
    log: Type.Object({ level: settings.logLevel() }, { additionalProperties: false, default: {} }),
  },
  { additionalProperties: false },
);

/** A validated configuration: defaults filled in, paths resolved, the operator key from the environment. */
export type BrokerConfig = Static<typeof BrokerConfigSchema>;
export type StaticStream = Static<typeof StaticStreamSchema>;
