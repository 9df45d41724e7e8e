import { expect } from "chai";
import { Wallet } from "ethers";
import { generateKeyPair } from "../src/crypto";
import { ProtocolErrorCodes as SdkErrorCodes } from "../src/errors";
import { buildRequest, GroupKeyManager, type AccessOracle } from "../src/keyexchange/GroupKeyManager";
import { GroupKeyStore } from "../src/keyexchange/GroupKeyStore";
import { decodeKeyExchangeMessage, KxErrorCode } from "../src/keyexchange/messages";

const streamId = "0x" + "ab".repeat(32);

function subscriber() {
  const wallet = Wallet.createRandom();
  const enc = generateKeyPair();
  return { wallet, address: wallet.address.toLowerCase(), enc, store: new GroupKeyStore(wallet.address, enc.privateKey) };
}

describe("key exchange", () => {
  const publisher = Wallet.createRandom();

  it("a rekey reaches the remaining subscribers and not the removed one", async () => {
    const a = subscriber();
    const b = subscriber();
    const m = new GroupKeyManager(streamId, publisher, publisher.address);
    const first = await m.announce([
      { address: a.address, publicKey: a.enc.publicKey },
      { address: b.address, publicKey: b.enc.publicKey },
    ]);
    expect(a.store.ingest(first!, publisher.address)[0].id).to.equal(m.currentKey().id);
    expect(b.store.ingest(first!, publisher.address)[0].id).to.equal(m.currentKey().id);
    const { key, response } = await m.rekey([{ address: a.address, publicKey: a.enc.publicKey }]);
    expect(a.store.ingest(response!, publisher.address).map((k) => k.id)).to.deep.equal([key.id]);
    expect(b.store.ingest(response!, publisher.address)).to.deep.equal([]);
    expect(b.store.has(key.id)).to.equal(false);
    expect(() => b.store.get(key.id))
      .to.throw()
      .with.property("code", SdkErrorCodes.UNKNOWN_GROUP_KEY);
  });

  it("refuses a response whose signer is not the expected publisher", async () => {
    const a = subscriber();
    const impostor = Wallet.createRandom();
    const m = new GroupKeyManager(streamId, impostor, impostor.address);
    const response = await m.announce([{ address: a.address, publicKey: a.enc.publicKey }]);
    expect(() => a.store.ingest(response!, publisher.address))
      .to.throw()
      .with.property("code", SdkErrorCodes.INVALID_SIGNATURE);
  });

  it("refuses a response with one altered byte", async () => {
    const a = subscriber();
    const m = new GroupKeyManager(streamId, publisher, publisher.address);
    const response = (await m.announce([{ address: a.address, publicKey: a.enc.publicKey }]))!;
    response[100] ^= 1;
    expect(() => a.store.ingest(response, publisher.address))
      .to.throw()
      .with.property("code", SdkErrorCodes.INVALID_SIGNATURE);
  });

  describe("answering requests", () => {
    const a = subscriber();
    const registered = new Map<string, Uint8Array>([[a.address, a.enc.publicKey]]);
    const allowed = new Set<string>([a.address]);
    const oracle: AccessOracle = {
      canSubscribe: async (_s, who) => allowed.has(who),
      encryptionKeyOf: async (who) => registered.get(who) ?? null,
    };
    const m = new GroupKeyManager(streamId, publisher, publisher.address);
    const request = (ids: string[], pub = a.enc.publicKey, who = a) =>
      buildRequest({ streamId, publisher: publisher.address, subscriber: who.address, subscriberPublicKey: pub, groupKeyIds: ids }, who.wallet);

    it("answers an authorised request with the keys wrapped for the registered key", async () => {
      const id = m.currentKey().id;
      const answer = await m.handleRequest(await request([id]), oracle);
      expect(a.store.ingest(answer, publisher.address).map((k) => k.id)).to.deep.equal([id]);
    });

    it("answers NOT_AUTHORIZED to a requester without access", async () => {
      const stranger = subscriber();
      registered.set(stranger.address, stranger.enc.publicKey);
      const answer = decodeKeyExchangeMessage(await m.handleRequest(await request([m.currentKey().id], stranger.enc.publicKey, stranger), oracle));
      expect(answer).to.include({ type: "error", code: KxErrorCode.NOT_AUTHORIZED, subscriber: stranger.address });
    });

    it("answers ENCRYPTION_KEY_MISMATCH when the request's key is not the registered one", async () => {
      const answer = decodeKeyExchangeMessage(await m.handleRequest(await request([m.currentKey().id], generateKeyPair().publicKey), oracle));
      expect(answer).to.include({ type: "error", code: KxErrorCode.ENCRYPTION_KEY_MISMATCH });
    });

    it("answers UNKNOWN_GROUP_KEY for a key it never had", async () => {
      const answer = decodeKeyExchangeMessage(await m.handleRequest(await request(["0x" + "99".repeat(32)]), oracle));
      expect(answer).to.include({ type: "error", code: KxErrorCode.UNKNOWN_GROUP_KEY });
    });

    it("refuses a request whose signature is not the subscriber's", async () => {
      const bytes = await request([m.currentKey().id]);
      bytes[80] ^= 1; // inside the subscriber address
      try {
        await m.handleRequest(bytes, oracle);
        expect.fail("accepted a forged request");
      } catch (err) {
        expect(err).to.have.property("code", SdkErrorCodes.INVALID_SIGNATURE);
      }
    });
  });
});
