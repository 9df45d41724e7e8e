// Builds the key-exchange test vectors (test-vectors/key-exchange.json) from fixed keys and, for
// the vectors only, fixed ephemeral keys and nonces supplied through an injectable RandomSource.
// The generator script writes them; the tests rebuild them and compare byte for byte.

import { bytesToUtf8, hexToBytes, toHex, utf8ToBytes } from "../bytes";
import { ecdhSecret, fixedRandom, publicKeyOf } from "../crypto";
import { PrivateKeySigner } from "../signer";
import { deriveKek } from "./ecies";
import { GroupKey } from "./groupKey";
import { buildRequest, GroupKeyManager } from "./GroupKeyManager";
import { encodeErrorBody, KxErrorCode, signBody } from "./messages";

const b = (hex: string) => hexToBytes(hex);

export const FIXED = {
  streamId: "0x" + "5e".repeat(32),
  publisherKey: "0x" + "01".repeat(32),
  subscriberAWalletKey: "0x" + "02".repeat(32),
  subscriberBWalletKey: "0x" + "03".repeat(32),
  subscriberAEncryptionKey: "0x" + "a1".repeat(32),
  subscriberBEncryptionKey: "0x" + "b1".repeat(32),
  groupKey: "0x" + "6b".repeat(32),
  ephemeralKey: "0x" + "e1".repeat(32),
  nonceA: "0x" + "0a".repeat(12),
  nonceB: "0x" + "0b".repeat(12),
  contentNonce: "0x" + "c0".repeat(12),
  requestId: "0x" + "77".repeat(16),
  timestamp: 1_767_225_600_000,
};

export async function buildKeyExchangeVectors(): Promise<Record<string, unknown>> {
  const publisher = new PrivateKeySigner(FIXED.publisherKey);
  const subA = new PrivateKeySigner(FIXED.subscriberAWalletKey);
  const subB = new PrivateKeySigner(FIXED.subscriberBWalletKey);
  const encA = b(FIXED.subscriberAEncryptionKey);
  const encB = b(FIXED.subscriberBEncryptionKey);
  const pubA = publicKeyOf(encA);
  const pubB = publicKeyOf(encB);
  const groupKey = new GroupKey(FIXED.streamId, b(FIXED.groupKey));
  const ephemeral = b(FIXED.ephemeralKey);
  const ephemeralPub = publicKeyOf(ephemeral);
  const plaintext = utf8ToBytes('{"bpm":72}');

  const z = ecdhSecret(ephemeral, pubA);
  const kek = deriveKek(z, ephemeralPub, pubA);
  const content = groupKey.encrypt(plaintext, fixedRandom([b(FIXED.contentNonce)]));

  const request = await buildRequest(
    {
      streamId: FIXED.streamId,
      publisher: publisher.address,
      subscriber: subA.address,
      subscriberPublicKey: pubA,
      groupKeyIds: [groupKey.id],
      timestamp: FIXED.timestamp,
      requestId: FIXED.requestId,
    },
    subA,
  );

  // An unsolicited response (a rekey) to A and B, with a fixed ephemeral key and nonces.
  const manager = new GroupKeyManager(
    FIXED.streamId,
    publisher,
    publisher.address,
    fixedRandom([b(FIXED.groupKey), ephemeral, b(FIXED.nonceA), b(FIXED.nonceB)]),
    () => FIXED.timestamp,
  );
  const { key, response } = await manager.rekey([
    { address: subA.address, publicKey: pubA },
    { address: subB.address, publicKey: pubB },
  ]);
  if (key.id !== groupKey.id) throw new Error("vector group key mismatch");

  const error = await signBody(
    encodeErrorBody({
      requestId: FIXED.requestId,
      streamId: FIXED.streamId,
      publisher: publisher.address.toLowerCase(),
      subscriber: subA.address.toLowerCase(),
      timestamp: FIXED.timestamp,
      code: KxErrorCode.NOT_AUTHORIZED,
      groupKeyIds: [groupKey.id],
      message: "the requester may not subscribe to this stream",
    }),
    publisher,
  );

  return {
    description: "Key-exchange vectors (docs/protocol.md, Key exchange). Fixed ephemeral keys and nonces are for these vectors only.",
    accounts: {
      publisher: { privateKey: FIXED.publisherKey, address: publisher.address.toLowerCase() },
      subscriberA: {
        walletPrivateKey: FIXED.subscriberAWalletKey,
        address: subA.address.toLowerCase(),
        encryptionPrivateKey: FIXED.subscriberAEncryptionKey,
        encryptionPublicKey: toHex(pubA),
      },
      subscriberB: {
        walletPrivateKey: FIXED.subscriberBWalletKey,
        address: subB.address.toLowerCase(),
        encryptionPrivateKey: FIXED.subscriberBEncryptionKey,
        encryptionPublicKey: toHex(pubB),
      },
    },
    groupKey: { streamId: FIXED.streamId, key: FIXED.groupKey, groupKeyId: groupKey.id },
    eventContent: {
      groupKey: FIXED.groupKey,
      streamId: FIXED.streamId,
      groupKeyId: groupKey.id,
      nonce: FIXED.contentNonce,
      plaintextUtf8: bytesToUtf8(plaintext),
      content: toHex(content),
    },
    ecies: {
      ephemeralPrivateKey: FIXED.ephemeralKey,
      ephemeralPublicKey: toHex(ephemeralPub),
      recipientPublicKey: toHex(pubA),
      sharedSecretZ: toHex(z),
      kek: toHex(kek),
    },
    request: {
      fields: {
        requestId: FIXED.requestId,
        streamId: FIXED.streamId,
        publisher: publisher.address.toLowerCase(),
        subscriber: subA.address.toLowerCase(),
        timestamp: FIXED.timestamp,
        subscriberPublicKey: toHex(pubA),
        groupKeyIds: [groupKey.id],
      },
      bytes: toHex(request),
    },
    response: {
      fields: {
        requestId: "0x" + "00".repeat(16),
        streamId: FIXED.streamId,
        publisher: publisher.address.toLowerCase(),
        timestamp: FIXED.timestamp,
        ephemeralPrivateKey: FIXED.ephemeralKey,
        groupKeyIds: [groupKey.id],
        recipients: [subA.address.toLowerCase(), subB.address.toLowerCase()],
        nonces: [FIXED.nonceA, FIXED.nonceB],
      },
      bytes: toHex(response!),
    },
    error: { fields: { code: KxErrorCode.NOT_AUTHORIZED, message: "the requester may not subscribe to this stream" }, bytes: toHex(error) },
  };
}
