// The attestation client against stand-in bridges on 127.0.0.1 (port 0): k of n signatures,
// checked against the fields they sign, packed as the market reads them.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";
import { DataMarketError } from "@datamarket/protocol";
import { attestationDigest, BridgeClientError, collectAttestation, recoverSigner, signDigest, type ConsentAttestation, type MarketDomain } from "../src";

const domain: MarketDomain = { chainId: 31337n, market: "0x" + "4d".repeat(20) };
const attestation: ConsentAttestation = {
  grantId: "0x" + "11".repeat(32),
  buyer: "0x" + "b0".repeat(20),
  productId: "0x" + "22".repeat(32),
  purpose: "0x" + "33".repeat(32),
  expiresAt: 2_000_000_000,
};

/** A stand-in bridge: answers GET /v1/attestations/<grantId> with `wallet`'s signature of `fields`. */
function bridge(wallet: Wallet, fields: ConsentAttestation = attestation): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const signature = signDigest(wallet.signingKey, attestationDigest(domain, fields));
    const body = {
      attestation: fields,
      purposeName: "dpv:ResearchAndDevelopment",
      signature,
      attestor: wallet.address.toLowerCase(),
      domain: { name: "DataLicenseMarket", version: "1", chainId: "31337", verifyingContract: domain.market },
    };
    res.writeHead(req.url === `/v1/attestations/${attestation.grantId}` ? 200 : 404, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

describe("collectAttestation", () => {
  const attestors = [0, 1, 2].map(() => new Wallet(Wallet.createRandom().privateKey));
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));

  async function bridges(fieldsOf: (i: number) => ConsentAttestation = () => attestation): Promise<string[]> {
    const started = await Promise.all(attestors.map((w, i) => bridge(w, fieldsOf(i))));
    servers.push(...started.map((s) => s.server));
    return started.map((s) => s.url);
  }

  it("packs k signatures of registered attestors, sorted by signer, each recovering from the digest", async () => {
    const urls = await bridges();
    const collected = await collectAttestation(attestation.grantId, { urls, threshold: 2, domain, attestors: attestors.map((w) => w.address) });
    expect(collected.value).to.deep.equal(attestation);
    expect(collected.signers).to.have.length(2);
    expect([...collected.signers].sort()).to.deep.equal(collected.signers);
    const digest = attestationDigest(domain, attestation);
    for (let i = 0; i < 2; i++) expect(recoverSigner(digest, "0x" + collected.signatures.slice(2 + 130 * i, 2 + 130 * (i + 1)))).to.equal(collected.signers[i]);
  });

  it("refuses with INSUFFICIENT_SIGNATURES (a DataMarketError naming each bridge's failure) when bridges disagree on the fields", async () => {
    const urls = await bridges((i) => ({ ...attestation, expiresAt: attestation.expiresAt + i }));
    let caught: unknown;
    try {
      await collectAttestation(attestation.grantId, { urls, threshold: 2, domain });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(BridgeClientError).and.instanceOf(DataMarketError);
    expect((caught as BridgeClientError).code).to.equal("INSUFFICIENT_SIGNATURES");
    expect((caught as BridgeClientError).failures.map((f) => f.code)).to.include("DIFFERENT_FIELDS");
  });

  it("refuses a grant id that is not bytes32 with INVALID_ARGUMENT", async () => {
    let caught: unknown;
    try {
      await collectAttestation("0x12", { urls: ["http://127.0.0.1:1"], threshold: 1, domain });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.be.instanceOf(BridgeClientError).with.property("code", "INVALID_ARGUMENT");
  });
});
