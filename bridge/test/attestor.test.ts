// The bridge signs what its own consent ledger committed, and only that: attestations for grants whose
// fields hash to the recorded struct hash, revocations for invalidated grants; a restart resumes from
// the checkpoint and serves the very same signatures.
import { expect } from "chai";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { consentAttestationStructHash, type CloseableEvents, type ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import { Wallet, id, verifyTypedData } from "ethers";
import { ATTESTATION_TYPES, REVOCATION_TYPES, attestationStructHash } from "../src/eip712";
import type { ConsentEventSource } from "../src/follower";
import { BridgeStore } from "../src/store";
import { ATTESTOR_KEYS, HARDHAT_MARKET, PURPOSE, getJson, ledgerFixture, startBridge, temporaryDirectory, waitFor } from "./fixtures";

const DOMAIN = { name: "DataLicenseMarket", version: "1", chainId: 31337n, verifyingContract: HARDHAT_MARKET };

/** A ledger connection that rewrites events before the bridge sees them (a compromised transport). */
function tampering(source: ConsentEventSource, rewrite: (batch: ConsentLedgerEventBatch) => ConsentLedgerEventBatch): ConsentEventSource {
  return {
    async events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>> {
      const inner = await source.events(startBlock);
      return {
        close: () => inner.close(),
        async *[Symbol.asyncIterator]() {
          for await (const batch of inner) yield rewrite(batch);
        },
      };
    },
  };
}

describe("consent bridge: signing what the ledger committed", () => {
  it("signs the EIP-712 attestation of a GrantIssued with the fields the chaincode hashed", async () => {
    const f = await ledgerFixture();
    const { bridge } = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0]);
    try {
      const grantId = await f.requestGrant();
      const grant = await f.bridgeClient.getGrant(grantId);
      await waitFor(async () => (await getJson(`${bridge.url}/v1/attestations/${grantId}`)).status !== 404, "the attestation");
      const { status, body } = await getJson(`${bridge.url}/v1/attestations/${grantId}`);
      expect(status).to.equal(200);
      expect(body.attestation).to.deep.equal({
        grantId,
        buyer: f.buyerAddress,
        productId: f.productId,
        purpose: id(PURPOSE),
        expiresAt: grant.expiresAt,
      });
      expect(attestationStructHash(body.attestation)).to.equal(grant.attestationStructHash);
      expect(body.purposeName).to.equal(PURPOSE);
      expect(body.attestor).to.equal(new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase());
      expect(body.domain).to.deep.equal({ name: "DataLicenseMarket", version: "1", chainId: "31337", verifyingContract: HARDHAT_MARKET });
      expect(verifyTypedData(DOMAIN, ATTESTATION_TYPES, body.attestation, body.signature).toLowerCase()).to.equal(body.attestor);
    } finally {
      await bridge.stop();
    }
  });

  it("refuses to sign a GrantIssued whose fields do not hash to the recorded struct hash", async () => {
    const f = await ledgerFixture();
    const attacker = new Wallet("0x" + "66".repeat(32)).address.toLowerCase();
    const source = tampering(f.bridgeClient, (batch) => ({
      ...batch,
      events: batch.events.map((event) => (event.type === "GrantIssued" ? { ...event, buyer: attacker } : event)),
    }));
    const { bridge, log } = await startBridge(source, ATTESTOR_KEYS[0]);
    try {
      const grantId = await f.requestGrant();
      await waitFor(() => bridge.follower.processed >= 4, "the grant batch");
      const { status, body } = await getJson(`${bridge.url}/v1/attestations/${grantId}`);
      expect(status).to.equal(409);
      expect(body).to.deep.equal({ statusCode: 409, code: "ATTESTATION_REFUSED", message: `grant ${grantId} was not signed: STRUCT_HASH_MISMATCH` });
      const refusal = log.records.find((r) => r.msg === "refused to sign a grant");
      expect(refusal).to.include({ level: 50, grantId, code: "STRUCT_HASH_MISMATCH" }); // pino's error level
      expect(log.records.some((r) => r.msg === "signed attestation")).to.equal(false);
    } finally {
      await bridge.stop();
    }
  });

  it("refuses a GrantIssued whose purposeId is not keccak256 of its purpose, even with a matching struct hash", async () => {
    const f = await ledgerFixture();
    const source = tampering(f.bridgeClient, (batch) => ({
      ...batch,
      events: batch.events.map((event) => {
        if (event.type !== "GrantIssued") return event;
        // a consistent forgery: the struct hash recomputed over the claimed purpose name "Marketing"
        const forged = { ...event, purpose: "Marketing" };
        return { ...forged, attestationStructHash: consentAttestationStructHash({ ...forged, purpose: "ScientificResearch" } as never) };
      }),
    }));
    const { bridge, log } = await startBridge(source, ATTESTOR_KEYS[1]);
    try {
      const grantId = await f.requestGrant();
      await waitFor(() => bridge.follower.processed >= 4, "the grant batch");
      expect(bridge.follower.processed).to.equal(4);
      expect((await getJson(`${bridge.url}/v1/attestations/${grantId}`)).body.code).to.equal("ATTESTATION_REFUSED");
      expect(log.records.find((r) => r.msg === "refused to sign a grant")).to.include({ code: "PURPOSE_MISMATCH" });
    } finally {
      await bridge.stop();
    }
  });

  it("signs ConsentRevocation(grantId, revokedAt = invalidatedAt) for every grant a withdrawal invalidates", async () => {
    const f = await ledgerFixture();
    const { bridge } = await startBridge(f.bridgeClient, ATTESTOR_KEYS[2]);
    try {
      const first = await f.requestGrant();
      const second = await f.requestGrant(86_400);
      await f.custodian.withdrawConsent(f.consentId);
      const grant = await f.bridgeClient.getGrant(first);
      expect(grant.status).to.equal("Invalidated");
      await waitFor(() => bridge.follower.processed >= 6, "the withdrawal batch");
      for (const grantId of [first, second]) {
        const { status, body } = await getJson(`${bridge.url}/v1/revocations/${grantId}`);
        expect(status).to.equal(200);
        expect(body.revocation).to.deep.equal({ grantId, revokedAt: grant.invalidatedAt });
        expect(body.cause).to.equal("ConsentWithdrawn");
        expect(body.relay).to.equal(null);
        expect(verifyTypedData(DOMAIN, REVOCATION_TYPES, body.revocation, body.signature).toLowerCase()).to.equal(body.attestor);
      }
    } finally {
      await bridge.stop();
    }
  });

  it("resumes from its checkpoint after a restart, serving the same signatures and signing only what it missed", async () => {
    const f = await ledgerFixture();
    const stateDir = temporaryDirectory();
    const identity = { chainId: "31337", market: HARDHAT_MARKET, attestor: new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase() };
    const run1 = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0], { store: BridgeStore.open(stateDir, identity) });
    const before = await f.requestGrant();
    await waitFor(() => run1.bridge.follower.processed >= 4, "the first grant");
    const firstAnswer = await getJson(`${run1.bridge.url}/v1/attestations/${before}`);
    await run1.bridge.stop();
    const checkpoint = JSON.parse(readFileSync(join(stateDir, "checkpoint.json"), "utf8"));

    const during = await f.requestGrant(3_600); // committed while the bridge is down
    const run2 = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0], { store: BridgeStore.open(stateDir, identity) });
    try {
      await waitFor(async () => (await getJson(`${run2.bridge.url}/v1/attestations/${during}`)).status === 200, "the missed grant");
      expect(run2.log.records.find((r) => r.msg === "following consent ledger events")).to.include({ resumedFrom: checkpoint.blockNumber });
      expect(run2.bridge.follower.processed).to.equal(1); // only the missed transaction
      expect((await getJson(`${run2.bridge.url}/v1/attestations/${before}`)).body).to.deep.equal(firstAnswer.body);
      const lines = readFileSync(join(stateDir, "signatures.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(lines.map((record) => [record.kind, record.attestation.grantId])).to.deep.equal([
        ["attestation", before],
        ["attestation", during],
      ]);
    } finally {
      await run2.bridge.stop();
    }

    // without its checkpoint the bridge re-reads the whole ledger: it finds every grant already signed,
    // with the same struct hash, and neither signs nor stores anything again
    rmSync(join(stateDir, "checkpoint.json"));
    const run3 = await startBridge(f.bridgeClient, ATTESTOR_KEYS[0], { store: BridgeStore.open(stateDir, identity) });
    try {
      await waitFor(() => run3.bridge.follower.processed === 5, "the whole ledger again");
      expect(run3.log.records.filter((r) => String(r.msg).startsWith("signed") || String(r.msg).startsWith("refused"))).to.deep.equal([]);
      expect(readFileSync(join(stateDir, "signatures.jsonl"), "utf8").trim().split("\n")).to.have.length(2);
      expect((await getJson(`${run3.bridge.url}/v1/attestations/${before}`)).body).to.deep.equal(firstAnswer.body);
    } finally {
      await run3.bridge.stop();
    }
  });

  it("refuses a state directory of another attestor key", async () => {
    const stateDir = temporaryDirectory();
    BridgeStore.open(stateDir, { chainId: "31337", market: HARDHAT_MARKET, attestor: "0x" + "01".repeat(20) }).close();
    expect(() => BridgeStore.open(stateDir, { chainId: "31337", market: HARDHAT_MARKET, attestor: "0x" + "02".repeat(20) })).to.throw(
      `state directory ${stateDir} belongs to attestor 0x${"01".repeat(20)}, not 0x${"02".repeat(20)}`,
    );
  });
});
