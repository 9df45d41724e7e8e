// The broker's configuration (docs/broker.md, "Configuration"): one schema gives the defaults, the
// checks, the environment variable of every setting (BROKER__<PATH>) and the docs table; errors name
// the setting, the variable and the bad value, all at once; the operator key comes from the
// environment only; the consent ledger is the bridge's block, and a real chain needs it said.

import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BROKER_CONFIG, ConfigError, DEFAULT_CONFIG, checkConfigFiles, describeConfig, loadConfig, parseConfig } from "../src/config";
import { BROKER_DOC, renderBrokerDoc } from "../src/config/table";
import { addressOfPrivateKey } from "../src/wire";
import { ALICE, BOB, STREAM, tempDir } from "./helpers";

const OPERATOR_KEY = "0x" + "11".repeat(32);

/** The problems of a configuration that must be refused, as "field (env): message" lines. */
function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, env, "/srv/broker");
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).code).to.equal("INVALID_CONFIG");
    return (error as ConfigError).shortMessage.split("\n");
  }
  throw new Error("the configuration was accepted");
}

describe("configuration", () => {
  it("needs no configuration at all: every default, 127.0.0.1, data directory relative to the working directory", () => {
    const config = loadConfig(undefined, {});
    expect(config).to.deep.equal({ ...DEFAULT_CONFIG, dataDir: resolve("broker-data") });
    expect(config).to.deep.include({ host: "127.0.0.1", wsPort: 7170, httpPort: 7171, chainId: 31337 });
    expect(config.consentLedger).to.deep.equal({ kind: "in-process", startBlock: 0 });
    expect(config.chain.operatorKey).to.equal(undefined);
    expect(config.network.partitionCount).to.equal(undefined);
  });

  it("names every setting's variable by one rule: BROKER__ and the path in UPPER_SNAKE_CASE", () => {
    const names = BROKER_CONFIG.settings.map((setting) => BROKER_CONFIG.envName(setting.path));
    expect(names).to.include.members([
      "BROKER__WS_PORT",
      "BROKER__STORAGE__MAX_RESEND_EVENTS",
      "BROKER__CHAIN__OPERATOR_KEY",
      "BROKER__ACCESS__STATIC__PUBLISHERS",
      "BROKER__CONSENT_LEDGER__KIND",
      "BROKER__CONSENT_LEDGER__FABRIC__TLS_CA_CERTIFICATE_FILE",
      "BROKER__LOG__LEVEL",
      "BROKER__REPLICATION__ACKS",
    ]);
    expect(new Set(names).size).to.equal(names.length);
  });

  it("layers the file over the defaults and the environment over the file, each value with the schema's type", () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, "broker.json");
      writeFileSync(
        file,
        JSON.stringify({ wsPort: 9000, dataDir: "data", storage: { segmentBytes: 4096 }, liveDelivery: "durable", replication: { acks: 3 } }),
      );
      const config = loadConfig(file, {
        BROKER__WS_PORT: "9100",
        BROKER__STORAGE__MAX_RESEND_EVENTS: "500",
        BROKER__LIVE_DELIVERY: "ordered",
        BROKER__REPLICATION__ACKS: "all",
        BROKER__ACCESS__STATIC__PUBLIC_STREAMS: `${STREAM}, 0x${"ab".repeat(32)}`,
        BROKER__ACCESS__STATIC__PUBLISHERS: JSON.stringify({ [STREAM]: [ALICE] }),
        BROKER__STREAMS: JSON.stringify([{ creator: ALICE, path: "/prices", partitions: 2 }]),
        BROKER__CHAIN__CONTRACT_SUBSCRIBERS: "false",
      });
      expect(config).to.deep.include({ wsPort: 9100, dataDir: join(tmp.dir, "data"), liveDelivery: "ordered" });
      expect(config.storage).to.deep.include({ segmentBytes: 4096, maxResendEvents: 500 });
      expect(config.replication.acks).to.equal("all");
      expect(config.access.static.publicStreams).to.deep.equal([STREAM, `0x${"ab".repeat(32)}`]);
      expect(config.access.static.publishers).to.deep.equal({ [STREAM]: [ALICE] });
      expect(config.streams).to.deep.equal([{ creator: ALICE, path: "/prices", partitions: 2 }]);
      expect(loadConfig(file, { BROKER__REPLICATION__ACKS: "2" }).replication.acks).to.equal(2);
    } finally {
      tmp.remove();
    }
  });

  it("names the setting, its environment variable and the bad value", () => {
    expect(problems({ wsPort: "7170" })).to.deep.equal(['wsPort: "7170" is not a port number 0..65535']);
    expect(problems({}, { BROKER__HTTP_PORT: "70000" })).to.deep.equal(["httpPort (BROKER__HTTP_PORT): 70000 is not a port number 0..65535"]);
    expect(problems({ log: { level: "verbose" } })).to.deep.equal(['log.level: "verbose" is not one of "trace", "debug", "info", "warn", "error", "fatal"']);
    expect(problems({}, { BROKER__CHAIN_ID: "zero" })).to.deep.equal(['chainId (BROKER__CHAIN_ID): "zero" is not a chain id (an integer >= 1)']);
    expect(problems({ streams: [{ creator: "0x1", path: "/a" }] })).to.deep.equal(['streams[0].creator: "0x1" is not a 0x-prefixed 20-byte address']);
    expect(problems({ streams: [{ path: "/a" }] })).to.deep.equal(["streams[0].creator: is required"]);
    expect(problems({ storage: { commitDelayMs: -1 } })).to.deep.equal(["storage.commitDelayMs: -1 is not an integer 0..1000"]);
    expect(problems({}, { BROKER__LIVE_DELIVERY: "eventually" })).to.deep.equal([
      'liveDelivery (BROKER__LIVE_DELIVERY): "eventually" is not one of "ordered", "durable"',
    ]);
    expect(problems({ replication: { acks: "most" } })).to.deep.equal(['replication.acks: "most" is not "majority", "all" or an integer 1..8']);
    expect(problems({ access: { static: { publishers: { "/prices": [ALICE] } } } })).to.deep.equal([
      "access.static.publishers./prices: is not a stream id (0x and 64 hex digits)",
    ]);
    expect(problems({}, { BROKER__STREAMS: "not json" })).to.deep.equal([
      'streams (BROKER__STREAMS): "not json" is not a list of { creator, path, partitions?, metadata? }',
    ]);
    expect(problems({ storage: 1 })).to.deep.equal(["storage: 1 is not an object"]);
  });

  it("lists every problem at once; an unknown setting names the settings beside it; earlier names say what replaced them", () => {
    expect(problems({ wsPort: -1, log: { level: "loud" }, storage: { segmentSize: 1 } })).to.have.members([
      "wsPort: -1 is not a port number 0..65535",
      'log.level: "loud" is not one of "trace", "debug", "info", "warn", "error", "fatal"',
      "storage.segmentSize: is not a setting (settings here: segmentBytes, maxResendEvents, commitDelayMs, retentionIntervalMs, retention)",
    ]);
    expect(problems({ consent: { mode: "fabric" } })[0]).to.match(
      /^consent: is not a setting any more: consentLedger: consent\.mode "in-process" \/ "off" is consentLedger\.kind/,
    );
    expect(problems({}, { BROKER_WS_PORT: "1", BROKER_OPERATOR_KEY: OPERATOR_KEY, BROKER_CONSENT: "off", BROKER__WSPORT: "1" })).to.deep.equal([
      "BROKER_WS_PORT: is no longer read: use BROKER__WS_PORT",
      "BROKER_OPERATOR_KEY: is no longer read: use BROKER__CHAIN__OPERATOR_KEY",
      "BROKER_CONSENT: is no longer read: use BROKER__CONSENT_LEDGER__KIND",
      "BROKER__WSPORT: is not a setting (a variable is BROKER__ and a setting's path in UPPER_SNAKE_CASE, e.g. BROKER__STORAGE__MAX_RESEND_EVENTS)",
    ]);
    expect(() => loadConfig("/nonexistent/broker.json", {})).to.throw(
      ConfigError,
      /^INVALID_CONFIG: config: cannot read \/nonexistent\/broker\.json as JSON: /,
    );
  });

  it("reads the operator key from the environment only: in the file it is refused, and never printed", () => {
    expect(problems({ chain: { operatorKey: OPERATOR_KEY } })).to.deep.equal([
      "chain.operatorKey: a private key is never read from a file: remove it and set BROKER__CHAIN__OPERATOR_KEY",
    ]);
    expect(problems({ domain: OPERATOR_KEY.slice(2) })).to.deep.equal(["domain: looks like a private key; keys are read from environment variables only"]);
    // a stream id is 32 bytes of hex too: where the schema expects one, it is not taken for a key
    expect(parseConfig({ access: { static: { publicStreams: [STREAM] } } }, {}).access.static.publicStreams).to.deep.equal([STREAM]);
    const config = parseConfig({}, { BROKER__CHAIN__OPERATOR_KEY: OPERATOR_KEY.slice(2) });
    expect(config.chain.operatorKey).to.equal(OPERATOR_KEY);
    const described = describeConfig(config) as { chain: { operatorKey: string } };
    expect(described.chain.operatorKey).to.equal(`(set in the environment; address ${addressOfPrivateKey(Buffer.from(OPERATOR_KEY.slice(2), "hex"))})`);
    expect(JSON.stringify(described)).to.not.contain(OPERATOR_KEY.slice(2));
    const zero = problems({}, { BROKER__CHAIN__OPERATOR_KEY: "0x" + "00".repeat(32) });
    expect(zero).to.deep.equal([
      "chain.operatorKey (BROKER__CHAIN__OPERATOR_KEY): the value is not a secp256k1 private key (zero or not below the curve order)",
    ]);
    const malformed = problems({}, { BROKER__CHAIN__OPERATOR_KEY: "not-a-key-0123" });
    expect(malformed).to.deep.equal(["chain.operatorKey (BROKER__CHAIN__OPERATOR_KEY): the value is not a 32-byte secp256k1 private key in hex"]);
    expect(malformed.join()).to.not.contain("not-a-key-0123");
  });

  it("checks settings that depend on each other: the key replication and contract delivery need, a budget that holds a frame", () => {
    expect(problems({ chain: { contractSubscribers: true } })).to.deep.equal([
      "chain.contractSubscribers: needs chain.operatorKey (it pays the gas and receives the bounties): set BROKER__CHAIN__OPERATOR_KEY",
    ]);
    expect(problems({ replication: { peers: [{ address: BOB, ws: "ws://127.0.0.1:1" }] } })).to.deep.equal([
      "replication.peers: needs chain.operatorKey (the key this broker signs in to its peers with): set BROKER__CHAIN__OPERATOR_KEY",
    ]);
    expect(
      parseConfig({ replication: { peers: [{ address: BOB, ws: "ws://127.0.0.1:1" }] } }, { BROKER__CHAIN__OPERATOR_KEY: OPERATOR_KEY }).replication.peers,
    ).to.have.length(1);
    expect(problems({ maxContentBytes: 1000, sendBudgetBytes: 1200 })).to.deep.equal([
      "sendBudgetBytes: 1200 is not at least maxContentBytes + 300 (1300): the budget must hold one maximal frame",
    ]);
  });

  it("takes the consent ledger as the bridge does, and on a real chain only when it is said which", () => {
    expect(problems({ chainId: 11155111 })).to.deep.equal([
      'consentLedger.kind (BROKER__CONSENT_LEDGER__KIND): required on chain 11155111: "fabric-gateway" (the consent ledger\'s gateway peer, under consentLedger.fabric), "off" (no consent ledger: consent-gated licences admit no one), or "in-process" (an empty ledger in this process: development only). Only chains 31337 and 1337 default to "in-process"',
    ]);
    expect(parseConfig({ chainId: 11155111, consentLedger: { kind: "in-process" } }, {}).consentLedger.kind).to.equal("in-process");
    expect(parseConfig({ chainId: 11155111 }, { BROKER__CONSENT_LEDGER__KIND: "off" }).consentLedger.kind).to.equal("off");
    expect(parseConfig({ chainId: 11155111, chain: { mode: "off" } }, {}).consentLedger.kind).to.equal("in-process"); // no chain: no ledger is followed
    expect(problems({ consentLedger: { kind: "fabric-gateway" } })).to.deep.equal([
      'consentLedger.fabric: required when consentLedger.kind is "fabric-gateway": the gateway peer, TLS CA, MSP id, certificate and key files',
    ]);
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, "ca.pem"), "ca");
      const config = parseConfig(
        {
          consentLedger: {
            kind: "fabric-gateway",
            fabric: {
              endpoint: "peer0.org1.example:7051",
              mspId: "Org1MSP",
              tlsCaCertificateFile: "ca.pem",
              certificateFile: "cert.pem",
              privateKeyFile: "key.pem",
            },
          },
          chain: { deployment: "deployments/11155111.json" },
        },
        {},
        tmp.dir,
      );
      expect(config.consentLedger.fabric).to.deep.include({ tlsCaCertificateFile: join(tmp.dir, "ca.pem"), channelName: "consent", chaincodeName: "consent" });
      expect(checkConfigFiles(config).map((p) => `${p.field} (${p.env}): ${p.message}`)).to.deep.equal([
        `chain.deployment (BROKER__CHAIN__DEPLOYMENT): cannot read ${join(tmp.dir, "deployments", "11155111.json")} (ENOENT)`,
        `consentLedger.fabric.certificateFile (BROKER__CONSENT_LEDGER__FABRIC__CERTIFICATE_FILE): cannot read ${join(tmp.dir, "cert.pem")} (ENOENT)`,
        `consentLedger.fabric.privateKeyFile (BROKER__CONSENT_LEDGER__FABRIC__PRIVATE_KEY_FILE): cannot read ${join(tmp.dir, "key.pem")} (ENOENT)`,
      ]);
    } finally {
      tmp.remove();
    }
  });

  it("the settings table of docs/broker.md is the schema's (npm run docs:config -w broker)", () => {
    const doc = readFileSync(BROKER_DOC, "utf8");
    expect(renderBrokerDoc(doc) === doc, "docs/broker.md differs from the schema: run npm run docs:config -w broker").to.equal(true);
    for (const setting of BROKER_CONFIG.settings) expect(doc).to.include(`| \`${setting.path.join(".")}\` | \`${BROKER_CONFIG.envName(setting.path)}\` |`);
  });
});
