// Unit vectors of the pure helpers: EIP-712 struct hashes against ethers, personal_sign recovery,
// the DPV purpose hierarchy, jurisdictions, canonical JSON.
import { expect } from "chai";
import { TypedDataEncoder, Wallet, keccak256, toUtf8Bytes } from "ethers";
import {
  CONSENT_ATTESTATION_TYPE,
  addressOfPublicKey,
  canonicalJson,
  consentAttestationStructHash,
  consentRevocationStructHash,
  jurisdictionCovered,
  purposeAncestors,
  purposeCovered,
  purposeId,
  recoverPersonalSignAddress,
} from "../src";
import { secp256k1 } from "@noble/curves/secp256k1";

describe("primitives", () => {
  const grantId = "0x" + "5a".repeat(32);

  it("hashes ConsentAttestation exactly as EIP-712 hashStruct does", () => {
    const fields = {
      grantId,
      buyer: "0x8ba1f109551bd432803012645ac136ddd64dba72",
      productId: "0x" + "01".repeat(32),
      purpose: "ScientificResearch",
      expiresAt: 1_900_000_000,
    };
    const expected = TypedDataEncoder.hashStruct(
      "ConsentAttestation",
      {
        ConsentAttestation: [
          { name: "grantId", type: "bytes32" },
          { name: "buyer", type: "address" },
          { name: "productId", type: "bytes32" },
          { name: "purpose", type: "bytes32" },
          { name: "expiresAt", type: "uint64" },
        ],
      },
      { ...fields, purpose: keccak256(toUtf8Bytes("ScientificResearch")) },
    );
    expect(consentAttestationStructHash(fields)).to.equal(expected);
    expect(
      TypedDataEncoder.from({
        ConsentAttestation: [
          { name: "grantId", type: "bytes32" },
          { name: "buyer", type: "address" },
          { name: "productId", type: "bytes32" },
          { name: "purpose", type: "bytes32" },
          { name: "expiresAt", type: "uint64" },
        ],
      }).encodeType("ConsentAttestation"),
    ).to.equal(CONSENT_ATTESTATION_TYPE);
    expect(purposeId("ScientificResearch")).to.equal(keccak256(toUtf8Bytes("ScientificResearch")));
  });

  it("hashes ConsentRevocation exactly as EIP-712 hashStruct does", () => {
    const expected = TypedDataEncoder.hashStruct(
      "ConsentRevocation",
      {
        ConsentRevocation: [
          { name: "grantId", type: "bytes32" },
          { name: "revokedAt", type: "uint64" },
        ],
      },
      { grantId, revokedAt: 1_800_000_000 },
    );
    expect(consentRevocationStructHash(grantId, 1_800_000_000)).to.equal(expected);
  });

  it("refuses malformed struct fields", () => {
    expect(() => consentRevocationStructHash("0x12", 1)).to.throw("grantId must match");
    expect(() => consentRevocationStructHash(grantId, -1)).to.throw("non-negative safe integer");
    expect(() => consentAttestationStructHash({ grantId, buyer: "0xABC", productId: grantId, purpose: "Marketing", expiresAt: 1 })).to.throw(
      "buyer must match",
    );
  });

  it("recovers the signer of a personal_sign signature, in both v conventions", async () => {
    const wallet = new Wallet("0x" + "09".repeat(32));
    const signature = await wallet.signMessage("hello consent");
    expect(recoverPersonalSignAddress("hello consent", signature)).to.equal(wallet.address.toLowerCase());
    const v = parseInt(signature.slice(-2), 16) - 27;
    expect(recoverPersonalSignAddress("hello consent", signature.slice(0, -2) + v.toString(16).padStart(2, "0"))).to.equal(wallet.address.toLowerCase());
    expect(recoverPersonalSignAddress("other text", signature)).to.not.equal(wallet.address.toLowerCase());
    expect(recoverPersonalSignAddress("hello consent", "nope")).to.equal(null);
    // the malleable twin (s' = n - s, flipped v) is refused
    const sig = secp256k1.Signature.fromCompact(signature.slice(2, 130));
    const twin = new secp256k1.Signature(sig.r, secp256k1.CURVE.n - sig.s).toCompactHex();
    expect(recoverPersonalSignAddress("hello consent", "0x" + twin + (v === 0 ? "1c" : "1b"))).to.equal(null);
    const key = secp256k1.utils.randomPrivateKey();
    expect(addressOfPublicKey(secp256k1.getPublicKey(key, true))).to.equal(addressOfPublicKey(secp256k1.getPublicKey(key, false)));
  });

  it("matches purposes through a hierarchy with several parents", () => {
    expect([...purposeAncestors("PersonalisedAdvertising")].sort()).to.deep.equal(
      ["Advertising", "Marketing", "PersonalisedAdvertising", "Personalisation", "Purpose"].sort(),
    );
    expect(purposeCovered(["ResearchAndDevelopment"], "ScientificResearch")).to.equal(true);
    expect(purposeCovered(["ScientificResearch"], "ResearchAndDevelopment")).to.equal(false);
    expect(purposeCovered(["ServiceProvision"], "ServicePersonalisation")).to.equal(true);
    expect(purposeAncestors("NotAPurpose")).to.deep.equal(new Set(["NotAPurpose"]));
  });

  it("matches jurisdictions by group or by country", () => {
    expect(jurisdictionCovered(["EEA"], "NO")).to.equal(true);
    expect(jurisdictionCovered(["EU"], "NO")).to.equal(false);
    expect(jurisdictionCovered(["ADEQUACY"], "JP")).to.equal(true);
    expect(jurisdictionCovered(["CH"], "CH")).to.equal(true);
    expect(jurisdictionCovered(["EU"], "US")).to.equal(false);
  });

  it("writes canonical JSON with sorted keys and no undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: undefined } })).to.equal('{"a":{"d":[3,{"e":2,"f":1}]},"b":1}');
    expect(canonicalJson([undefined, 'x\n"', { b: undefined, é: null, Z: true }, 1.5, -0])).to.equal('[null,"x\\n\\"",{"Z":true,"é":null},1.5,0]');
    expect(canonicalJson(undefined)).to.equal(undefined);
  });
});
