// The HTTP API's answers and typed errors, the k-of-n client helper, the checkpoint within a block,
// and the configuration rules.
import { expect } from "chai";
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import { Wallet, getBytes } from "ethers";
import { collectAttestation, collectRevocation } from "../src/collect";
import { attestationDigest, packSignatures, recoverSigner } from "../src/eip712";
import { BridgeClientError } from "../src/errors";
import type { ConsentEventSource } from "../src/follower";
import { BridgeStore } from "../src/store";
import { ATTESTOR_KEYS, HARDHAT_MARKET, getJson, ledgerFixture, startBridge, waitFor } from "./fixtures";

const UNKNOWN = "0x" + "77".repeat(32);
const DOMAIN = { chainId: 31337n, market: HARDHAT_MARKET };
const addressOf = (key: string) => new Wallet(key).address.toLowerCase();

describe("consent bridge: HTTP API", () => {
  let f: Awaited<ReturnType<typeof ledgerFixture>>;
  let bridges: Array<Awaited<ReturnType<typeof startBridge>>>;
  let grantId: string;

  before(async () => {
    f = await ledgerFixture();
    bridges = [];
    for (const key of ATTESTOR_KEYS) bridges.push(await startBridge(f.bridgeClient, key));
    grantId = await f.requestGrant();
    await waitFor(() => bridges.every(({ bridge }) => bridge.follower.processed >= 4), "the grant on every bridge");
  });
  after(async () => {
    for (const { bridge } of bridges) await bridge.stop();
  });

  it("answers 404 UNKNOWN_GRANT for a grant it has never seen, on both routes", async () => {
    const url = bridges[0].bridge.url;
    expect(await getJson(`${url}/v1/attestations/${UNKNOWN}`)).to.deep.equal({
      status: 404,
      body: { statusCode: 404, code: "UNKNOWN_GRANT", message: `no GrantIssued for ${UNKNOWN} has reached this bridge` },
    });
    expect(await getJson(`${url}/v1/revocations/${UNKNOWN}`)).to.deep.equal({
      status: 404,
      body: { statusCode: 404, code: "UNKNOWN_GRANT", message: `no event for ${UNKNOWN} has reached this bridge` },
    });
  });

  it("answers 404 NOT_REVOKED for the revocation of a grant whose consent stands", async () => {
    const { status, body } = await getJson(`${bridges[0].bridge.url}/v1/revocations/${grantId}`);
    expect(status).to.equal(404);
    expect(body.code).to.equal("NOT_REVOKED");
  });

  it("answers 400 INVALID_GRANT_ID for an id that is not 0x + 64 lowercase hex digits", async () => {
    for (const bad of ["0x1234", grantId.toUpperCase().replace("0X", "0x"), "grant-1", grantId + "00"]) {
      const { status, body } = await getJson(`${bridges[0].bridge.url}/v1/attestations/${bad}`);
      expect(status, bad).to.equal(400);
      expect(body.code).to.equal("INVALID_GRANT_ID");
      expect(body.message).to.contain(bad);
    }
  });

  it("answers 404 NOT_FOUND for an unknown route and reports its state on /health", async () => {
    const url = bridges[1].bridge.url;
    expect((await getJson(`${url}/v1/grants`)).body).to.deep.equal({ statusCode: 404, code: "NOT_FOUND", message: "no route GET /v1/grants" });
    const { status, body } = await getJson(`${url}/health`);
    expect(status).to.equal(200);
    expect(body).to.deep.include({ status: "ok", attestor: addressOf(ATTESTOR_KEYS[1]), chainId: "31337", market: HARDHAT_MARKET });
    expect(body.signed).to.deep.equal({ attestations: 1, revocations: 0, refusals: 0 });
    expect(body.ledger).to.include({ connected: true, batchesProcessed: 4 });
    expect(body.relayer).to.deep.equal({ enabled: false, confirmations: null, pending: 0, relayed: 0, failed: 0 });
  });

  it("collects k of n signatures and packs them sorted by signer, 65 bytes each, as the market reads them", async () => {
    const urls = bridges.map(({ bridge }) => bridge.url);
    const collected = await collectAttestation(grantId, { urls, threshold: 2, domain: DOMAIN, attestors: ATTESTOR_KEYS.map(addressOf) });
    const expectedSigners = ATTESTOR_KEYS.map(addressOf).sort().slice(0, 2);
    expect(collected.signers).to.deep.equal(expectedSigners);
    const bytes = getBytes(collected.signatures);
    expect(bytes.length).to.equal(130);
    const digest = attestationDigest(DOMAIN, collected.value);
    expect([0, 65].map((offset) => recoverSigner(digest, "0x" + Buffer.from(bytes.slice(offset, offset + 65)).toString("hex")))).to.deep.equal(expectedSigners);
    expect(collected.purposeName).to.equal("ScientificResearch");
    expect(collected.failures).to.deep.equal([]);
  });

  it("skips bridges that are down or sign with a key that is not a registered attestor, and names them", async () => {
    const urls = [bridges[0].bridge.url, bridges[1].bridge.url, "http://127.0.0.1:9"];
    const collected = await collectAttestation(grantId, { urls, threshold: 1, domain: DOMAIN, attestors: [addressOf(ATTESTOR_KEYS[0])] });
    expect(collected.signers).to.deep.equal([addressOf(ATTESTOR_KEYS[0])]);
    expect(collected.failures.map((failure) => failure.code).sort()).to.deep.equal(["NOT_AN_ATTESTOR", "UNREACHABLE"]);
  });

  it("fails with INSUFFICIENT_SIGNATURES, listing every bridge's reason, when fewer than k can sign", async () => {
    const urls = bridges.map(({ bridge }) => bridge.url);
    const error = await collectRevocation(grantId, { urls, threshold: 2, domain: DOMAIN }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(BridgeClientError);
    expect((error as BridgeClientError).code).to.equal("INSUFFICIENT_SIGNATURES");
    expect((error as BridgeClientError).failures.map((failure) => failure.code)).to.deep.equal(["NOT_REVOKED", "NOT_REVOKED", "NOT_REVOKED"]);
    const wrongMarket = await collectAttestation(grantId, { urls, threshold: 1, domain: { chainId: 1n, market: HARDHAT_MARKET } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((wrongMarket as BridgeClientError).failures.map((failure) => failure.code)).to.deep.equal(["WRONG_DOMAIN", "WRONG_DOMAIN", "WRONG_DOMAIN"]);
  });

  it("refuses to pack no signatures or more than the market reads", () => {
    expect(() => packSignatures([])).to.throw("the market accepts 1..16 signatures, got 0");
    const entry = { signer: addressOf(ATTESTOR_KEYS[0]), signature: "0x" + "11".repeat(65) };
    expect(() => packSignatures(Array(17).fill(entry))).to.throw("the market accepts 1..16 signatures, got 17");
  });
});

describe("consent bridge: checkpoint within a block", () => {
  it("re-reads the checkpoint block and skips only the transactions it already processed", async () => {
    const grant = (grantId: string) => ({
      type: "GrantsInvalidated" as const,
      consentId: "0x" + "00".repeat(32),
      grantIds: [grantId],
      cause: "ConsentWithdrawn",
      invalidatedAt: 1_800_000_000,
    });
    const batches: ConsentLedgerEventBatch[] = [
      { blockNumber: 5n, transactionId: "tx-a", timestamp: 1_800_000_000, events: [grant("0x" + "aa".repeat(32))] },
      { blockNumber: 5n, transactionId: "tx-b", timestamp: 1_800_000_000, events: [grant("0x" + "bb".repeat(32))] },
      { blockNumber: 6n, transactionId: "tx-c", timestamp: 1_800_000_000, events: [grant("0x" + "cc".repeat(32))] },
    ];
    const requested: bigint[] = [];
    const source: ConsentEventSource = {
      async events(startBlock = 0n): Promise<CloseableEvents<ConsentLedgerEventBatch>> {
        requested.push(startBlock);
        let closed = false;
        return {
          close: () => {
            closed = true;
          },
          async *[Symbol.asyncIterator]() {
            for (const batch of batches.filter((b) => b.blockNumber >= startBlock)) yield batch;
            while (!closed) await new Promise((resolve) => setTimeout(resolve, 10));
          },
        };
      },
    };
    const store = BridgeStore.inMemory();
    store.saveCheckpoint({ blockNumber: "5", transactionIds: ["tx-a"] });
    const { bridge } = await startBridge(source, ATTESTOR_KEYS[0], { store });
    try {
      await waitFor(() => bridge.follower.processed === 2, "tx-b and tx-c");
      expect(requested).to.deep.equal([5n]);
      expect([...store.revocations.keys()]).to.deep.equal(["0x" + "bb".repeat(32), "0x" + "cc".repeat(32)]);
      expect(store.checkpoint).to.deep.equal({ blockNumber: "6", transactionIds: ["tx-c"] });
    } finally {
      await bridge.stop();
    }
  });
});

describe("consent bridge: ledger outages", () => {
  it("starts and serves while its ledger is unreachable, answers /health 503, and catches up once it is back", async () => {
    const f = await ledgerFixture();
    const grantId = await f.requestGrant();
    let failures = 2;
    const flaky: ConsentEventSource = {
      async events(startBlock?: bigint) {
        if (failures > 0) {
          failures -= 1;
          throw new Error("UNAVAILABLE: connection refused");
        }
        return f.bridgeClient.events(startBlock);
      },
    };
    const { bridge, log } = await startBridge(flaky, ATTESTOR_KEYS[0], { retryDelayMs: 300 });
    try {
      const down = await getJson(`${bridge.url}/health`);
      expect(down.status).to.equal(503);
      expect(down.body.status).to.equal("degraded");
      expect(down.body.ledger).to.include({ connected: false, lastError: "UNAVAILABLE: connection refused" });
      await waitFor(async () => (await getJson(`${bridge.url}/v1/attestations/${grantId}`)).status === 200, "the catch-up");
      const up = await getJson(`${bridge.url}/health`);
      expect(up.status).to.equal(200);
      expect(up.body.ledger).to.include({ connected: true, lastError: null });
      expect(log.records.filter((r) => r.msg === "consent ledger event stream failed; reconnecting")).to.have.length(1);
    } finally {
      await bridge.stop();
    }
  });
});
