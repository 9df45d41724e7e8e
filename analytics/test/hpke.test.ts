// HPKE interoperability: the suite the analytics protocol seals with reproduces RFC 9180 Appendix A.1.1
// (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode), and round-trips with hpke-js
// (@hpke/core), an independent implementation whose X25519, HKDF and AES-GCM are all WebCrypto.
import { expect } from "chai";
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { AEAD_AES_128_GCM, HPKE_SUITE, KDF_HKDF_SHA256, KEM_X25519_HKDF_SHA256, generateHpkeKeyPair, open, seal, type HpkeKeyPair } from "../src/hpke";
import { toBase64Url } from "../src/encoding";

const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"));
const b64 = (text: string) => toBase64Url(hex(text));

/** RFC 9180 A.1.1. */
const A11 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  skRm: "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8",
  pkRm: "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d",
  enc: "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  encryptions: [
    { aad: "436f756e742d30", ct: "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a" },
    { aad: "436f756e742d31", ct: "af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84" },
  ],
  exports: [
    { context: "", value: "3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee" },
    { context: "00", value: "2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5" },
    { context: "54657374436f6e74657874", value: "e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931" },
  ],
};

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

const recipient: HpkeKeyPair = {
  config: { id: 7, kemId: KEM_X25519_HKDF_SHA256, kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM, publicKey: b64(A11.pkRm) },
  privateKey: b64(A11.skRm),
};

describe("HPKE (RFC 9180 interoperability)", function () {
  it("opens the RFC 9180 A.1.1 base-mode ciphertext", async function () {
    const [first] = A11.encryptions;
    const plaintext = await open(recipient, { configId: 7, enc: b64(A11.enc), payload: b64(first.ct) }, hex(A11.info), hex(first.aad));
    expect(Buffer.from(plaintext).toString("hex")).to.equal(A11.pt);
  });

  it("reproduces the A.1.1 context: sequence numbers and exported secrets", async function () {
    const keys = { privateKey: await HPKE_SUITE.DeserializePrivateKey(hex(A11.skRm)), publicKey: await HPKE_SUITE.DeserializePublicKey(hex(A11.pkRm)) };
    const ctx = await HPKE_SUITE.SetupRecipient(keys, hex(A11.enc), { info: hex(A11.info) });
    for (const { aad, ct } of A11.encryptions) expect(Buffer.from(await ctx.Open(hex(ct), hex(aad))).toString("hex")).to.equal(A11.pt);
    for (const { context, value } of A11.exports) expect(Buffer.from(await ctx.Export(hex(context), 32)).toString("hex")).to.equal(value);
  });

  it("refuses a ciphertext whose AAD, info, payload or config id differ", async function () {
    const [first] = A11.encryptions;
    const ciphertext = { configId: 7, enc: b64(A11.enc), payload: b64(first.ct) };
    const info = hex(A11.info);
    const aad = hex(first.aad);
    const tampered = Buffer.from(hex(first.ct));
    tampered[0] ^= 1;
    const attempts = [
      () => open(recipient, ciphertext, info, hex("436f756e742d31")),
      () => open(recipient, ciphertext, hex("00"), aad),
      () => open(recipient, { ...ciphertext, payload: toBase64Url(tampered) }, info, aad),
      () => open(recipient, { ...ciphertext, configId: 8 }, info, aad),
    ];
    for (const attempt of attempts) expect(await rejection(attempt())).to.be.instanceOf(Error);
  });

  it("refuses a key pair whose public key is not the private key's", async function () {
    const other = await generateHpkeKeyPair(7);
    const [first] = A11.encryptions;
    const mismatched = { ...recipient, config: { ...recipient.config, publicKey: other.config.publicKey } };
    expect((await rejection(open(mismatched, { configId: 7, enc: b64(A11.enc), payload: b64(first.ct) }, hex(A11.info), hex(first.aad)))).message).to.match(
      /does not belong/,
    );
  });

  it("round-trips with hpke-js both ways", async function () {
    const hpkeJs = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
    const pair = await generateHpkeKeyPair(3);
    const info = Uint8Array.of(1, 2, 3);
    const aad = Uint8Array.of(4, 5);
    const plaintext = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

    // ours seals, hpke-js opens
    const sealed = await seal(pair.config, info, aad, plaintext);
    const recipientKey = await hpkeJs.kem.deserializePrivateKey(Buffer.from(pair.privateKey, "base64url"));
    const opened = await hpkeJs.open({ recipientKey, enc: Buffer.from(sealed.enc, "base64url"), info }, Buffer.from(sealed.payload, "base64url"), aad);
    expect(Buffer.from(opened)).to.deep.equal(Buffer.from(plaintext));

    // hpke-js seals, ours opens
    const recipientPublicKey = await hpkeJs.kem.deserializePublicKey(Buffer.from(pair.config.publicKey, "base64url"));
    const theirs = await hpkeJs.seal({ recipientPublicKey, info }, plaintext, aad);
    const ours = await open(pair, { configId: 3, enc: toBase64Url(new Uint8Array(theirs.enc)), payload: toBase64Url(new Uint8Array(theirs.ct)) }, info, aad);
    expect(Buffer.from(ours)).to.deep.equal(Buffer.from(plaintext));
  });
});
