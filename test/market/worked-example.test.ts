// The worked example of docs/market.md, section 5.4: every value in its JSON block is recomputed here
// from the encoding rules written on that page (with @noble/hashes, not with the code under test),
// the signatures are recovered to the attestor keys, and a market deployed at the example address
// must compute the same domain separator and digests.
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { ethers, network } from "hardhat";
import { keccak_256 } from "@noble/hashes/sha3";
import { sha256 } from "@noble/hashes/sha256";
import { ATTESTOR_KEYS, deployMarketContracts } from "./helpers";

const DOC = path.join(__dirname, "..", "..", "docs", "market.md");

function example() {
  const text = fs.readFileSync(DOC, "utf8");
  const match = /<!-- worked-example -->\s*```json\n([\s\S]*?)\n```/.exec(text);
  if (!match) throw new Error("docs/market.md: worked example block not found");
  return JSON.parse(match[1]);
}

const hex = (bytes: Uint8Array) => "0x" + Buffer.from(bytes).toString("hex");
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ""), "hex"));
const word = (h: string) => bytes(h.replace(/^0x/, "").padStart(64, "0"));
const uint = (n: number | bigint) => word(BigInt(n).toString(16));
const keccak = (...parts: Uint8Array[]) => hex(keccak_256(Buffer.concat(parts)));
const utf8 = (s: string) => new TextEncoder().encode(s);

describe("docs/market.md worked example", () => {
  const ex = example();

  it("derives the grant id, the purpose and the type hashes as documented", () => {
    expect(ex.attestation.grantId).to.equal(hex(sha256(utf8("4f3c2a1b-example-fabric-tx"))));
    expect(ex.attestation.purpose).to.equal(keccak(utf8("ScientificResearch")));
    expect(ex.attestation.productId).to.equal(keccak(word("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), bytes(keccak(utf8("heart-rate-research")))));
    expect(ex.attestationTypeHash).to.equal(
      keccak(utf8("ConsentAttestation(bytes32 grantId,address buyer,bytes32 productId,bytes32 purpose,uint64 expiresAt)")),
    );
    expect(ex.revocationTypeHash).to.equal(keccak(utf8("ConsentRevocation(bytes32 grantId,uint64 revokedAt)")));
  });

  it("encodes the domain separator, struct hashes and digests as documented", () => {
    const d = ex.domain;
    const domainSeparator = keccak(
      bytes(keccak(utf8("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"))),
      bytes(keccak(utf8(d.name))),
      bytes(keccak(utf8(d.version))),
      uint(d.chainId),
      word(d.verifyingContract),
    );
    expect(ex.domainSeparator).to.equal(domainSeparator);
    const a = ex.attestation;
    const structHash = keccak(bytes(ex.attestationTypeHash), bytes(a.grantId), word(a.buyer), bytes(a.productId), bytes(a.purpose), uint(a.expiresAt));
    expect(ex.attestationStructHash).to.equal(structHash);
    expect(ex.attestationDigest).to.equal(keccak(bytes("0x1901"), bytes(domainSeparator), bytes(structHash)));
    const r = ex.revocation;
    const revocationHash = keccak(bytes(ex.revocationTypeHash), bytes(r.grantId), uint(r.revokedAt));
    expect(ex.revocationStructHash).to.equal(revocationHash);
    expect(ex.revocationDigest).to.equal(keccak(bytes("0x1901"), bytes(domainSeparator), bytes(revocationHash)));
  });

  it("has signatures that recover to the attestor keys", () => {
    const attestors = ATTESTOR_KEYS.map((k) => new ethers.Wallet(k).address.toLowerCase());
    expect(ex.attestationSignatures.map((s: { attestor: string }) => s.attestor)).to.deep.equal(attestors.slice(0, 2));
    expect(ex.revocationSignatures.map((s: { attestor: string }) => s.attestor)).to.deep.equal(attestors.slice(1, 3));
    for (const s of ex.attestationSignatures) {
      expect(ethers.recoverAddress(ex.attestationDigest, s.signature).toLowerCase()).to.equal(s.attestor);
      expect(s.signature.length).to.equal(2 + 130);
    }
    for (const s of ex.revocationSignatures) {
      expect(ethers.recoverAddress(ex.revocationDigest, s.signature).toLowerCase()).to.equal(s.attestor);
    }
  });

  it("is what a market at the example address computes", async () => {
    const [admin] = await ethers.getSigners();
    const { market } = await deployMarketContracts(admin);
    const { chainId } = await ethers.provider.getNetwork();
    expect(chainId).to.equal(BigInt(ex.domain.chainId));
    const at = ethers.getAddress(ex.domain.verifyingContract);
    await network.provider.send("hardhat_setCode", [at, await ethers.provider.getCode(await market.getAddress())]);
    const there = market.attach(at) as typeof market;
    expect(await there.CONSENT_ATTESTATION_TYPEHASH()).to.equal(ex.attestationTypeHash);
    expect(await there.CONSENT_REVOCATION_TYPEHASH()).to.equal(ex.revocationTypeHash);
    expect(await there.DOMAIN_SEPARATOR()).to.equal(ex.domainSeparator);
    expect(await there.consentAttestationDigest(ex.attestation)).to.equal(ex.attestationDigest);
    expect(await there.consentRevocationDigest(ex.revocation)).to.equal(ex.revocationDigest);
    const domain = await there.eip712Domain();
    expect(domain.name).to.equal("DataLicenseMarket");
    expect(domain.version).to.equal("1");
    expect(domain.verifyingContract).to.equal(at);
  });
});
