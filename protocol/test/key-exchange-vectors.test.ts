// Checks the code against test-vectors/key-exchange.json, and the vectors against independent
// library calls (@noble/hashes HKDF, @noble/ciphers AES-GCM, @noble/curves ECDH).
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gcm } from "@noble/ciphers/aes";
import { secp256k1 } from "@noble/curves/secp256k1";
import { hkdf } from "@noble/hashes/hkdf";
import { sha256 } from "@noble/hashes/sha256";
import { GroupKeyStore } from "../src/keyexchange/GroupKeyStore";
import { decodeKeyExchangeMessage } from "../src/keyexchange/messages";
import { buildKeyExchangeVectors } from "../src/keyexchange/vectors";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "test-vectors", "key-exchange.json"), "utf8"));
const b = (hex: string) => Buffer.from(hex.slice(2), "hex");

describe("key-exchange test vectors", () => {
  it("are reproduced byte for byte by the implementation", async () => {
    expect(JSON.parse(JSON.stringify(await buildKeyExchangeVectors()))).to.deep.equal(V);
  });

  it("group-key id = SHA-256(domain ‖ streamId ‖ key)", () => {
    const id = createHash("sha256").update("datamarket/group-key-id/v1").update(b(V.groupKey.streamId)).update(b(V.groupKey.key)).digest("hex");
    expect("0x" + id).to.equal(V.groupKey.groupKeyId);
  });

  it("event content = nonce ‖ AES-256-GCM(key, nonce, plaintext, aad = streamId ‖ groupKeyId)", () => {
    const c = V.eventContent;
    const sealed = gcm(b(c.groupKey), b(c.nonce), Buffer.concat([b(c.streamId), b(c.groupKeyId)])).encrypt(Buffer.from(c.plaintextUtf8));
    expect("0x" + Buffer.concat([b(c.nonce), sealed]).toString("hex")).to.equal(c.content);
  });

  it("Z = SHA-256(compressed ECDH point) and KEK = HKDF-SHA-256(Z, eph ‖ recipient, info)", () => {
    const e = V.ecies;
    const z = sha256(secp256k1.getSharedSecret(b(e.ephemeralPrivateKey), b(e.recipientPublicKey), true));
    expect("0x" + Buffer.from(z).toString("hex")).to.equal(e.sharedSecretZ);
    const kek = hkdf(sha256, z, Buffer.concat([b(e.ephemeralPublicKey), b(e.recipientPublicKey)]), "datamarket/ecies-kek/v1", 32);
    expect("0x" + Buffer.from(kek).toString("hex")).to.equal(e.kek);
  });

  it("the request decodes to its fields and recovers to the subscriber", () => {
    const m = decodeKeyExchangeMessage(b(V.request.bytes));
    expect(m.type).to.equal("request");
    expect(m.signer).to.equal(V.accounts.subscriberA.address);
    const f = V.request.fields;
    expect(m).to.deep.include({
      requestId: f.requestId,
      streamId: f.streamId,
      publisher: f.publisher,
      subscriber: f.subscriber,
      timestamp: f.timestamp,
      groupKeyIds: f.groupKeyIds,
    });
    expect(b(V.request.bytes).length).to.equal(137 + 32 + 65);
  });

  it("the response opens for both recipients to the vector's group key, entry by the stated layout", () => {
    const bytes = b(V.response.bytes);
    expect(bytes.length).to.equal(117 + 32 + 2 + 2 * (20 + 12 + 32 + 16) + 65);
    const header = bytes.subarray(0, 149);
    // Entry A at offset 151: address, nonce, sealed; opened with the independent KEK of the ecies vector.
    const entryA = bytes.subarray(151, 151 + 80);
    expect("0x" + entryA.subarray(0, 20).toString("hex")).to.equal(V.accounts.subscriberA.address);
    const opened = gcm(b(V.ecies.kek), entryA.subarray(20, 32), Buffer.concat([header, entryA.subarray(0, 20)])).decrypt(entryA.subarray(32));
    expect("0x" + Buffer.from(opened).toString("hex")).to.equal(V.groupKey.key);
    for (const who of ["subscriberA", "subscriberB"]) {
      const store = new GroupKeyStore(V.accounts[who].address, b(V.accounts[who].encryptionPrivateKey));
      expect(store.ingest(bytes, V.accounts.publisher.address).map((k) => k.id)).to.deep.equal([V.groupKey.groupKeyId]);
    }
  });

  it("the error decodes to its code and message, signed by the publisher", () => {
    const m = decodeKeyExchangeMessage(b(V.error.bytes));
    expect(m).to.deep.include({ type: "error", code: V.error.fields.code, message: V.error.fields.message, signer: V.accounts.publisher.address });
  });
});
