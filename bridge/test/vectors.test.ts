// The bridge's EIP-712 code against the worked example of docs/market.md section 5.4 (the market's
// own test recomputes the same JSON from the encoding rules and checks it on chain).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SigningKey, Wallet } from "ethers";
import {
  attestationDigest,
  attestationStructHash,
  packSignatures,
  purposeHash,
  recoverSigner,
  revocationDigest,
  revocationStructHash,
  signDigest,
} from "../src/eip712";

const doc = readFileSync(join(__dirname, "..", "..", "docs", "market.md"), "utf8");
const example = JSON.parse(doc.split("<!-- worked-example -->")[1].split("```json")[1].split("```")[0]);
const KEYS = [
  "0x1000000000000000000000000000000000000000000000000000000000000001",
  "0x2000000000000000000000000000000000000000000000000000000000000002",
  "0x3000000000000000000000000000000000000000000000000000000000000003",
];
const keyOf = (attestor: string) => KEYS.find((key) => new Wallet(key).address.toLowerCase() === attestor)!;
const domain = { chainId: BigInt(example.domain.chainId), market: example.domain.verifyingContract };

describe("consent bridge: the worked example of docs/market.md", () => {
  it("computes the attestation struct hash and digest of the example and signs it to the same bytes", () => {
    expect(example.attestation.purpose).to.equal(purposeHash("ScientificResearch"));
    expect(attestationStructHash(example.attestation)).to.equal(example.attestationStructHash);
    expect(attestationDigest(domain, example.attestation)).to.equal(example.attestationDigest);
    for (const { attestor, signature } of example.attestationSignatures) {
      expect(signDigest(new SigningKey(keyOf(attestor)), example.attestationDigest)).to.equal(signature);
      expect(recoverSigner(example.attestationDigest, signature)).to.equal(attestor);
    }
  });

  it("computes the revocation struct hash and digest of the example and signs it to the same bytes", () => {
    expect(revocationStructHash(example.revocation)).to.equal(example.revocationStructHash);
    expect(revocationDigest(domain, example.revocation)).to.equal(example.revocationDigest);
    for (const { attestor, signature } of example.revocationSignatures) {
      expect(signDigest(new SigningKey(keyOf(attestor)), example.revocationDigest)).to.equal(signature);
    }
  });

  it("packs the example signatures in signer order whatever order they come in, and refuses a high-s signature", () => {
    const entries = example.attestationSignatures.map((entry: { attestor: string; signature: string }) => ({
      signer: entry.attestor,
      signature: entry.signature,
    }));
    const packed = packSignatures(entries);
    expect(packSignatures([...entries].reverse())).to.equal(packed);
    const sorted = [...entries].sort((a, b) => (a.signer < b.signer ? -1 : 1));
    expect(packed).to.equal("0x" + sorted.map((entry) => entry.signature.slice(2)).join(""));
    // the same signature with s' = n - s and v flipped recovers in ethers but the market refuses it
    const { signature } = example.attestationSignatures[0];
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = (n - BigInt("0x" + signature.slice(66, 130))).toString(16).padStart(64, "0");
    const v = signature.slice(130) === "1b" ? "1c" : "1b";
    expect(recoverSigner(example.attestationDigest, signature.slice(0, 66) + highS + v)).to.equal(null);
  });
});
