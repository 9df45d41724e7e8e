// The digests and signatures of eip712.ts against ethers' own one-call helpers: the cached encoders and
// domain separators, and the protocol's (native) signer and recovery, give the same bytes.
import { expect } from "chai";
import { Signature, SigningKey, TypedDataEncoder, Wallet, hexlify, randomBytes, recoverAddress } from "ethers";
import {
  ATTESTATION_TYPES,
  REVOCATION_TYPES,
  attestationDigest,
  recoverSigner,
  revocationDigest,
  signDigest,
  type ConsentAttestation,
  type MarketDomain,
} from "../src";

const ethersDomain = (d: MarketDomain) => ({ name: "DataLicenseMarket", version: "1", chainId: d.chainId, verifyingContract: d.market });
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("EIP-712 digests and signatures", () => {
  const domains: MarketDomain[] = [
    { chainId: 31337n, market: "0x" + "4d".repeat(20) },
    { chainId: 1n, market: hexlify(randomBytes(20)) },
  ];

  it("hashes attestations and revocations as ethers' TypedDataEncoder.hash does, for each domain", () => {
    for (let i = 0; i < 20; i++) {
      for (const domain of domains) {
        const attestation: ConsentAttestation = {
          grantId: hexlify(randomBytes(32)),
          buyer: hexlify(randomBytes(20)),
          productId: hexlify(randomBytes(32)),
          purpose: hexlify(randomBytes(32)),
          expiresAt: 1_700_000_000 + i,
        };
        expect(attestationDigest(domain, attestation)).to.equal(TypedDataEncoder.hash(ethersDomain(domain), ATTESTATION_TYPES, attestation));
        const revocation = { grantId: attestation.grantId, revokedAt: 1_700_000_000 + i };
        expect(revocationDigest(domain, revocation)).to.equal(TypedDataEncoder.hash(ethersDomain(domain), REVOCATION_TYPES, revocation));
      }
    }
  });

  it("signs as ethers' SigningKey does (RFC 6979, low s, v 27/28), and recovers the signer", () => {
    for (let i = 0; i < 20; i++) {
      const wallet = Wallet.createRandom();
      const digest = hexlify(randomBytes(32));
      const signature = signDigest(wallet.signingKey, digest);
      expect(signature).to.equal(new SigningKey(wallet.privateKey).sign(digest).serialized);
      expect(recoverSigner(digest, signature)).to.equal(wallet.address.toLowerCase());
      expect(recoverAddress(digest, signature).toLowerCase()).to.equal(wallet.address.toLowerCase());
    }
  });

  it("refuses a high-s twin, a v other than 27/28 and a malformed signature", () => {
    const wallet = Wallet.createRandom();
    const digest = hexlify(randomBytes(32));
    const signature = Signature.from(signDigest(wallet.signingKey, digest));
    const highS = "0x" + (N - BigInt(signature.s)).toString(16).padStart(64, "0");
    const twin = signature.r + highS.slice(2) + (signature.v === 27 ? "1c" : "1b");
    expect(recoverSigner(digest, twin)).to.equal(null);
    expect(recoverSigner(digest, signature.serialized.slice(0, 130) + "01")).to.equal(null);
    expect(recoverSigner(digest, signature.serialized.slice(0, 128))).to.equal(null);
    expect(recoverSigner(digest, "0x" + "00".repeat(65))).to.equal(null);
  });
});
