// A bridge configured for a real Fabric gateway (fabric-gateway 1.11) when no peer is reachable (there is
// none on this machine): it starts (the market checked on the in-process Hardhat chain), serves,
// reports the outage on /health and keeps reconnecting.
import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fabric } from "@datamarket/consent-ledger";
import { loadConfig } from "../src/config";
import { memoryLogger } from "../src/log";
import { startFromConfig } from "../src/start";
import { deployMarket, rpcServer } from "./chain";
import { ATTESTOR_KEYS, getJson, temporaryDirectory, waitFor } from "./fixtures";

describe("consent bridge on a Fabric gateway (no peer reachable)", () => {
  let chain: { url: string; close(): Promise<void> };
  let market: string;
  before(async () => {
    market = (await deployMarket()).marketAddress;
    chain = await rpcServer();
  });
  after(() => chain.close());

  it("starts from a fabric-gateway config, answers 503 with the gateway error, and stops cleanly", async () => {
    const dir = temporaryDirectory();
    const authority = await fabric.CertificateAuthority.create("AuditMSP");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "tls-ca.pem"), authority.certificatePem);
    writeFileSync(join(dir, "cert.pem"), (await authority.enroll("consent-bridge", { "consent.role": "auditor" })).certificatePem);
    writeFileSync(join(dir, "key.pem"), privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    writeFileSync(
      join(dir, "bridge.json"),
      JSON.stringify({
        http: { port: 0 },
        stateDir: "./state",
        chain: { market, rpcUrl: chain.url },
        consentLedger: {
          kind: "fabric-gateway",
          fabric: { endpoint: "127.0.0.1:1", mspId: "AuditMSP", tlsCaCertificateFile: "tls-ca.pem", certificateFile: "cert.pem", privateKeyFile: "key.pem" },
        },
      }),
    );
    const config = loadConfig(join(dir, "bridge.json"), { BRIDGE__ATTESTOR_KEY: ATTESTOR_KEYS[0] });
    expect(config.consentLedger.fabric).to.include({ certificateFile: join(dir, "cert.pem"), channelName: "consent", chaincodeName: "consent" });
    const log = memoryLogger();
    const bridge = await startFromConfig(config, log);
    try {
      await waitFor(() => bridge.follower.lastError !== null, "the gateway error", 30_000);
      const health = await getJson(`${bridge.url}/health`);
      expect(health.status).to.equal(503);
      expect(health.body.ledger.connected).to.equal(false);
      expect(health.body.ledger.lastError).to.match(/UNAVAILABLE|DEADLINE|ECONNREFUSED|No connection/i);
    } finally {
      await bridge.stop();
    }
    expect(log.records.at(-1)).to.include({ msg: "consent bridge stopped" });
  });
});
