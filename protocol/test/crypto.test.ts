import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { GroupKey, groupKeyIdOf } from "../src/keyexchange/groupKey";
import { cryptoBackend, ecdhSecret, ecdhSecretNoble, generateKeyPair, publicKeyOf } from "../src/crypto";
import { unwrapEntry, wrapForRecipients } from "../src/keyexchange/ecies";
import { ProtocolErrorCodes as SdkErrorCodes } from "../src/errors";

const streamId = "0x" + "ab".repeat(32);

describe("end-to-end encryption primitives", () => {
  it("loads the native libsecp256k1 binding for ECDH (the rekey hot path)", () => {
    if ((process.env.DATAMARKET_CRYPTO ?? process.env.SDK_CRYPTO) === "noble") return; // the fallback run
    expect({ ...cryptoBackend }, JSON.stringify(cryptoBackend)).to.deep.equal({ backend: "native", platform: "node", nativeLoadError: undefined });
  });

  it("computes the same ECDH secret natively and with @noble/curves", () => {
    for (let i = 0; i < 5; i++) {
      const a = generateKeyPair();
      const b = generateKeyPair();
      const z = ecdhSecret(a.privateKey, b.publicKey);
      expect(Buffer.from(z).toString("hex")).to.equal(Buffer.from(ecdhSecretNoble(a.privateKey, b.publicKey)).toString("hex"));
      expect(Buffer.from(ecdhSecret(b.privateKey, a.publicKey)).toString("hex")).to.equal(Buffer.from(z).toString("hex"));
    }
  });

  it("derives a group-key id that commits to the stream and the key", () => {
    const key = randomBytes(32);
    expect(groupKeyIdOf(streamId, key)).to.match(/^0x[0-9a-f]{64}$/);
    expect(groupKeyIdOf(streamId, key)).to.not.equal(groupKeyIdOf("0x" + "cd".repeat(32), key));
    expect(() => GroupKey.fromReceived(streamId, randomBytes(32), groupKeyIdOf(streamId, key)))
      .to.throw()
      .with.property("code", SdkErrorCodes.GROUP_KEY_ID_MISMATCH);
  });

  it("encrypts event content that only the same group key opens", () => {
    const gk = GroupKey.generate(streamId);
    const content = gk.encrypt(Buffer.from("hello"));
    expect(content.length).to.equal(12 + 5 + 16);
    expect(Buffer.from(gk.decrypt(content)).toString()).to.equal("hello");
    expect(() => GroupKey.generate(streamId).decrypt(content))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("refuses content with one flipped bit", () => {
    const gk = GroupKey.generate(streamId);
    const content = gk.encrypt(Buffer.from("hello"));
    content[14] ^= 1;
    expect(() => gk.decrypt(content))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("refuses content moved to another stream (the stream id is associated data)", () => {
    const key = randomBytes(32);
    const content = new GroupKey(streamId, key).encrypt(Buffer.from("x"));
    expect(() => new GroupKey("0x" + "cd".repeat(32), key).decrypt(content))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("wraps a payload for several recipients, each opening only its own entry", () => {
    const r = [generateKeyPair(), generateKeyPair()];
    const aad = (e: Uint8Array, a: string) => Buffer.concat([e, Buffer.from(a)]);
    const wrapped = wrapForRecipients(
      Buffer.from("k".repeat(32)),
      [
        { address: "0x" + "01".repeat(20), publicKey: r[0].publicKey },
        { address: "0x" + "02".repeat(20), publicKey: r[1].publicKey },
      ],
      aad,
    );
    const e0 = wrapped.entries[0];
    expect(Buffer.from(unwrapEntry(r[0].privateKey, wrapped.ephemeralPublicKey, e0, aad(wrapped.ephemeralPublicKey, e0.address))).toString()).to.equal(
      "k".repeat(32),
    );
    expect(() => unwrapEntry(r[1].privateKey, wrapped.ephemeralPublicKey, e0, aad(wrapped.ephemeralPublicKey, e0.address)))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("refuses a recipient key that is not a curve point, naming the recipient", () => {
    const bad = Buffer.concat([Buffer.from([2]), Buffer.alloc(32, 0xff)]);
    expect(() => wrapForRecipients(Buffer.alloc(32), [{ address: "0x" + "09".repeat(20), publicKey: bad }], () => Buffer.alloc(0)))
      .to.throw()
      .with.property("code", SdkErrorCodes.INVALID_KEY);
    expect(() => publicKeyOf(Buffer.alloc(32)))
      .to.throw()
      .with.property("code", SdkErrorCodes.INVALID_KEY);
  });
});
