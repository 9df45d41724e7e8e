// The bridge's configuration (docs/market.md §10.2): one schema gives defaults, checks, the environment
// variable of every setting (BRIDGE__<PATH>) and the docs table; errors name the setting, the variable
// and the bad value, all at once; private keys come from the environment only.
import { expect } from "chai";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { checkConfigFiles, confirmationsOf, describeConfig, envName, loadConfig, parseConfig, settingsOf } from "../src/config";
import { MARKET_DOC, renderMarketDoc } from "../src/config/table";
import { BridgeConfigError } from "../src/errors";
import { ATTESTOR_KEYS, HARDHAT_MARKET, temporaryDirectory } from "./fixtures";

const KEY = { BRIDGE__ATTESTOR_KEY: ATTESTOR_KEYS[0] };
const MINIMAL = { chain: { market: HARDHAT_MARKET } };

/** The problems of a configuration that must be refused, as "field (env): message" lines. */
function problems(raw: unknown, env: NodeJS.ProcessEnv = KEY): string[] {
  try {
    parseConfig(raw, env, "/srv/bridge");
  } catch (error) {
    expect(error).to.be.instanceOf(BridgeConfigError);
    return (error as BridgeConfigError).shortMessage.split("\n");
  }
  throw new Error("the configuration was accepted");
}

describe("consent bridge: configuration", () => {
  it("fills every default: in-process ledger, Hardhat chain, 127.0.0.1:8701, info, no relayer", () => {
    const config = parseConfig(MINIMAL, KEY, "/srv/bridge");
    expect(config).to.deep.equal({
      http: { host: "127.0.0.1", port: 8701 },
      stateDir: "/srv/bridge/bridge-state",
      log: { level: "info" },
      consentLedger: { kind: "in-process", startBlock: 0, maxClockSkewSeconds: 300 },
      chain: { rpcUrl: "http://127.0.0.1:8545", chainId: 31337, market: HARDHAT_MARKET, logsFromBlock: 0 },
      attestorKey: ATTESTOR_KEYS[0],
      relayer: { enabled: false, peers: [], maxAttempts: 5, retryDelayMs: 1_000, httpTimeoutMs: 5_000 },
    });
  });

  it("takes a confirmation depth: 0 on the dev chains 31337 and 1337, 12 elsewhere, or the one set; never negative", () => {
    const depth = (chain: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
      confirmationsOf(parseConfig({ chain: { ...MINIMAL.chain, ...chain } }, { ...KEY, ...env }));
    expect(depth({})).to.equal(0);
    expect(depth({ chainId: 1337 })).to.equal(0);
    expect(depth({ chainId: 1 })).to.equal(12);
    expect(depth({ chainId: 1, confirmations: 3 })).to.equal(3);
    expect(depth({ chainId: 1 }, { BRIDGE__CHAIN__CONFIRMATIONS: "0" })).to.equal(0);
    expect(problems({ chain: { ...MINIMAL.chain, confirmations: -1 } })).to.have.length(1);
    expect(problems({ chain: { ...MINIMAL.chain, confirmations: -1 } })[0]).to.match(/^chain\.confirmations.*-1 is not an integer 0\.\.10000/);
  });

  it("names every setting's variable by one rule: BRIDGE__ and the path in UPPER_SNAKE_CASE", () => {
    const names = settingsOf().map((setting) => envName(setting.path));
    expect(names).to.include.members([
      "BRIDGE__HTTP__PORT",
      "BRIDGE__CHAIN__RPC_URL",
      "BRIDGE__LOG__LEVEL",
      "BRIDGE__ATTESTOR_KEY",
      "BRIDGE__RELAYER__KEY",
      "BRIDGE__CONSENT_LEDGER__FABRIC__TLS_CA_CERTIFICATE_FILE",
      "BRIDGE__RELAYER__HTTP_TIMEOUT_MS",
    ]);
    expect(new Set(names).size).to.equal(names.length);
  });

  it("takes every setting from the environment over the file, with the type the schema gives it", () => {
    const config = parseConfig(
      { ...MINIMAL, http: { port: 1 } },
      {
        ...KEY,
        BRIDGE__HTTP__PORT: "7170",
        BRIDGE__HTTP__HOST: "0.0.0.0",
        BRIDGE__CHAIN__CHAIN_ID: "11155111",
        BRIDGE__CHAIN__MARKET: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6",
        BRIDGE__LOG__LEVEL: "debug",
        BRIDGE__STATE_DIR: "state",
        BRIDGE__RELAYER__ENABLED: "true",
        BRIDGE__RELAYER__KEY: ATTESTOR_KEYS[1].slice(2),
        BRIDGE__RELAYER__PEERS: "https://a.example, https://b.example",
        BRIDGE__CONSENT_LEDGER__KIND: "fabric-gateway",
        BRIDGE__CONSENT_LEDGER__FABRIC__ENDPOINT: "peer0.org1.example:7051",
        BRIDGE__CONSENT_LEDGER__FABRIC__TLS_CA_CERTIFICATE_FILE: "tls/ca.pem",
        BRIDGE__CONSENT_LEDGER__FABRIC__MSP_ID: "Org1MSP",
        BRIDGE__CONSENT_LEDGER__FABRIC__CERTIFICATE_FILE: "/etc/bridge/cert.pem",
        BRIDGE__CONSENT_LEDGER__FABRIC__PRIVATE_KEY_FILE: "key.pem",
      },
      "/srv/bridge",
    );
    expect(config.http).to.deep.equal({ host: "0.0.0.0", port: 7170 });
    expect(config.chain).to.include({ chainId: 11155111, market: "0x2279b7a0a67db372996a5fab50d91eaa73d2ebe6" });
    expect(config.log.level).to.equal("debug");
    expect(config.stateDir).to.equal("/srv/bridge/state");
    expect(config.relayer).to.include({ enabled: true, key: ATTESTOR_KEYS[1] });
    expect(config.relayer.peers).to.deep.equal(["https://a.example", "https://b.example"]);
    expect(config.consentLedger).to.deep.equal({
      kind: "fabric-gateway",
      startBlock: 0,
      maxClockSkewSeconds: 300,
      fabric: {
        endpoint: "peer0.org1.example:7051",
        tlsCaCertificateFile: "/srv/bridge/tls/ca.pem",
        mspId: "Org1MSP",
        certificateFile: "/etc/bridge/cert.pem",
        privateKeyFile: "/srv/bridge/key.pem",
        channelName: "consent",
        chaincodeName: "consent",
      },
    });
    expect(parseConfig(MINIMAL, { ...KEY, BRIDGE__RELAYER__PEERS: '["https://c.example"]' }).relayer.peers).to.deep.equal(["https://c.example"]);
  });

  it("names the setting, its environment variable and the bad value", () => {
    expect(problems(MINIMAL, { ...KEY, BRIDGE__HTTP__PORT: "7170x" })).to.deep.equal(['http.port (BRIDGE__HTTP__PORT): "7170x" is not a port number 0..65535']);
    expect(problems({ ...MINIMAL, http: { port: 70_000 } })).to.deep.equal(["http.port: 70000 is not a port number 0..65535"]);
    expect(problems({ ...MINIMAL, log: { level: "verbose" } })).to.deep.equal([
      'log.level: "verbose" is not one of "trace", "debug", "info", "warn", "error", "fatal"',
    ]);
    expect(problems({ chain: { market: "0x1234" } })).to.deep.equal(['chain.market: "0x1234" is not a 0x-prefixed 20-byte address']);
    expect(problems({ chain: { market: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe7" } })).to.deep.equal([
      'chain.market: "0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe7" is not an address (its EIP-55 checksum is wrong)',
    ]);
    expect(problems({ ...MINIMAL, consentLedger: { kind: "couchdb" } })).to.deep.equal([
      'consentLedger.kind: "couchdb" is not one of "in-process", "fabric-gateway"',
    ]);
    expect(problems({ ...MINIMAL, relayer: { peers: ["http://ok.example", "ftp://x"] } })).to.deep.equal(['relayer.peers[1]: "ftp://x" is not an http(s) URL']);
    expect(problems(MINIMAL, { ...KEY, BRIDGE__RELAYER__ENABLED: "yes" })).to.deep.equal([
      'relayer.enabled (BRIDGE__RELAYER__ENABLED): "yes" is not true or false',
    ]);
    expect(problems({ ...MINIMAL, http: 8701 })).to.deep.equal(["http: 8701 is not an object"]);
  });

  it("lists every problem at once, required settings with the variable that sets them", () => {
    expect(problems({ http: { port: -1 }, log: { level: "loud" } }, {})).to.have.members([
      "chain.market (BRIDGE__CHAIN__MARKET): required: set it in the config file or in BRIDGE__CHAIN__MARKET",
      "attestorKey (BRIDGE__ATTESTOR_KEY): required: set BRIDGE__ATTESTOR_KEY (a private key is read from the environment only)",
      "http.port: -1 is not a port number 0..65535",
      'log.level: "loud" is not one of "trace", "debug", "info", "warn", "error", "fatal"',
    ]);
  });

  it("reads private keys from the environment only: a key setting, or anything like a key, in the file is refused", () => {
    expect(problems({ ...MINIMAL, attestorKey: ATTESTOR_KEYS[1] })).to.include(
      "attestorKey: a private key is never read from a file: remove it and set BRIDGE__ATTESTOR_KEY",
    );
    expect(problems({ ...MINIMAL, relayer: { enabled: true, key: ATTESTOR_KEYS[1] } })).to.include(
      "relayer.key: a private key is never read from a file: remove it and set BRIDGE__RELAYER__KEY",
    );
    expect(problems({ ...MINIMAL, stateDir: ATTESTOR_KEYS[2].slice(2) })).to.include(
      "stateDir: looks like a private key; keys are read from environment variables only",
    );
    expect(problems({ ...MINIMAL, relayer: { enabled: true } })).to.deep.equal([
      "relayer.key (BRIDGE__RELAYER__KEY): required when relayer.enabled is true: set BRIDGE__RELAYER__KEY",
    ]);
    const zero = problems(MINIMAL, { BRIDGE__ATTESTOR_KEY: "0x" + "00".repeat(32) });
    expect(zero).to.deep.equal(["attestorKey (BRIDGE__ATTESTOR_KEY): the value is not a secp256k1 private key (zero or not below the curve order)"]);
    const malformed = problems(MINIMAL, { BRIDGE__ATTESTOR_KEY: "not-a-key-0123" });
    expect(malformed).to.deep.equal(["attestorKey (BRIDGE__ATTESTOR_KEY): the value is not a 32-byte secp256k1 private key in hex"]);
    expect(malformed.join()).to.not.contain("not-a-key-0123");
  });

  it("refuses a BRIDGE__ variable that is no setting, the variables and settings of earlier versions", () => {
    expect(problems(MINIMAL, { ...KEY, BRIDGE__CHAIN__RPCURL: "http://x" })).to.deep.equal([
      "BRIDGE__CHAIN__RPCURL: is not a setting (a variable is BRIDGE__ and a setting's path in UPPER_SNAKE_CASE, e.g. BRIDGE__CHAIN__RPC_URL)",
    ]);
    expect(problems(MINIMAL, { ...KEY, BRIDGE_ATTESTOR_KEY: ATTESTOR_KEYS[1], BRIDGE_HTTP_PORT: "1" })).to.deep.equal([
      "BRIDGE_ATTESTOR_KEY: is no longer read: use BRIDGE__ATTESTOR_KEY",
      "BRIDGE_HTTP_PORT: is no longer read: use BRIDGE__HTTP__PORT",
    ]);
    expect(problems({ ...MINIMAL, logLevel: "info", ledger: {}, http: { prot: 1 } })).to.deep.equal([
      "logLevel: is not a setting any more: log.level",
      "ledger: is not a setting any more: consentLedger (its Fabric connection under consentLedger.fabric)",
      "http.prot: is not a setting (settings here: host, port)",
    ]);
  });

  it("requires the Fabric connection with the fabric-gateway ledger, and --test finds the files it cannot read", () => {
    expect(problems({ ...MINIMAL, consentLedger: { kind: "fabric-gateway" } })).to.deep.equal([
      'consentLedger.fabric: required when consentLedger.kind is "fabric-gateway": the gateway peer, TLS CA, MSP id, certificate and key files',
    ]);
    expect(problems({ ...MINIMAL, consentLedger: { kind: "fabric-gateway", fabric: { endpoint: "peer:7051" } } })).to.have.length(4);
    const dir = temporaryDirectory();
    writeFileSync(join(dir, "ca.pem"), "ca");
    const config = parseConfig(
      {
        ...MINIMAL,
        consentLedger: {
          kind: "fabric-gateway",
          fabric: { endpoint: "peer:7051", mspId: "Org1MSP", tlsCaCertificateFile: "ca.pem", certificateFile: "cert.pem", privateKeyFile: "key.pem" },
        },
      },
      KEY,
      dir,
    );
    expect(checkConfigFiles(config).map((p) => `${p.field} (${p.env}): ${p.message}`)).to.deep.equal([
      `consentLedger.fabric.certificateFile (BRIDGE__CONSENT_LEDGER__FABRIC__CERTIFICATE_FILE): cannot read ${join(dir, "cert.pem")} (ENOENT)`,
      `consentLedger.fabric.privateKeyFile (BRIDGE__CONSENT_LEDGER__FABRIC__PRIVATE_KEY_FILE): cannot read ${join(dir, "key.pem")} (ENOENT)`,
    ]);
  });

  it("loads a file, resolving its relative paths against it; an unreadable file is one problem", () => {
    const dir = temporaryDirectory();
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc", "bridge.json"), JSON.stringify({ ...MINIMAL, stateDir: "../var/bridge" }));
    expect(loadConfig(join(dir, "etc", "bridge.json"), KEY).stateDir).to.equal(join(dir, "var", "bridge"));
    writeFileSync(join(dir, "broken.json"), '{ "http": ');
    expect(() => loadConfig(join(dir, "broken.json"), KEY)).to.throw(BridgeConfigError, /^INVALID_CONFIG: config: cannot read .*broken\.json as JSON: /);
  });

  it("describes a configuration for --test without its keys", () => {
    const described = describeConfig(parseConfig(MINIMAL, KEY));
    expect(described.attestorKey).to.equal(`(set in the environment; address ${new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase()})`);
    expect(JSON.stringify(described)).to.not.contain(ATTESTOR_KEYS[0].slice(2));
  });

  it("bridge.example.json is a valid configuration", () => {
    const config = loadConfig(join(__dirname, "..", "bridge.example.json"), KEY);
    expect(config.consentLedger.kind).to.equal("in-process");
    expect(config.relayer.enabled).to.equal(false);
  });

  it("the settings table of docs/market.md §10.2 is the schema's (npm run docs:config -w bridge)", () => {
    const doc = readFileSync(MARKET_DOC, "utf8");
    expect(renderMarketDoc(doc) === doc, "docs/market.md §10.2 differs from the schema: run npm run docs:config -w bridge").to.equal(true);
    for (const setting of settingsOf()) expect(doc).to.include(`| \`${setting.path.join(".")}\` | \`${envName(setting.path)}\` |`);
  });
});
