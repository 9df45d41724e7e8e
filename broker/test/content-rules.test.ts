// The content rules at ingress (docs/protocol.md §1.4): encrypted content shorter than nonce + tag,
// and unencrypted contentType 1 that is not UTF-8 JSON, are refused with MALFORMED_FRAME over
// WebSocket and HTTP, and nothing is stored.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { checkContent, MIN_ENCRYPTED_CONTENT_BYTES } from "../src/content";
import { ContentType, EncryptionType } from "@datamarket/protocol";
import { ALICE, ALICE_KEY, STREAM, TestBroker, TestPublisher, expectBrokerError, startTestBroker } from "./helpers";

const GROUP_KEY_ID = "0x" + "ab".repeat(32);
const encrypted = { encryptionType: EncryptionType.AES_256_GCM, groupKeyId: GROUP_KEY_ID };

function refusal(fn: () => void): Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; details?: Record<string, unknown> };
    expect(e.code).to.equal("MALFORMED_FRAME");
    return e.details ?? {};
  }
  throw new Error("the content was accepted");
}

describe("content rules at ingress", () => {
  describe("checkContent", () => {
    const bytes = (s: string) => Buffer.from(s, "utf8");

    it("refuses encrypted content shorter than 28 bytes (nonce 12 + tag 16), whatever its contentType", () => {
      expect(MIN_ENCRYPTED_CONTENT_BYTES).to.equal(28);
      for (const contentType of [ContentType.BINARY, ContentType.JSON, ContentType.TEXT]) {
        for (const length of [0, 1, 27]) {
          expect(refusal(() => checkContent({ contentType, encryptionType: EncryptionType.AES_256_GCM, content: Buffer.alloc(length) }))).to.deep.equal({
            field: "content",
            rule: "encrypted-content-length",
            length,
            minimum: 28,
          });
        }
        checkContent({ contentType, encryptionType: EncryptionType.AES_256_GCM, content: Buffer.alloc(28) });
      }
    });

    it("does not parse encrypted content as JSON (contentType 1 describes the plaintext)", () => {
      checkContent({ contentType: ContentType.JSON, encryptionType: EncryptionType.AES_256_GCM, content: Buffer.alloc(40, 0xff) });
    });

    it("refuses unencrypted contentType 1 that is not JSON, not UTF-8, or starts with a byte-order mark", () => {
      for (const content of [bytes(""), bytes("{"), bytes("hello"), bytes('{"a":1} x'), Buffer.from([0x22, 0xc3, 0x28, 0x22]), bytes('\ufeff{"a":1}')]) {
        expect(refusal(() => checkContent({ contentType: ContentType.JSON, encryptionType: EncryptionType.NONE, content }))).to.deep.equal({
          field: "content",
          rule: "json-content",
          contentType: 1,
        });
      }
    });

    it("accepts every JSON text (RFC 8259), and any bytes as binary or text", () => {
      for (const text of ['{"price":"3021.55"}', "[]", "0", '"é ✓"', " null ", "true"]) {
        checkContent({ contentType: ContentType.JSON, encryptionType: EncryptionType.NONE, content: bytes(text) });
      }
      checkContent({ contentType: ContentType.BINARY, encryptionType: EncryptionType.NONE, content: Buffer.from([0xff, 0x00]) });
      checkContent({ contentType: ContentType.TEXT, encryptionType: EncryptionType.NONE, content: bytes("") });
    });
  });

  describe("on a broker", () => {
    let broker: TestBroker;
    let client: BrokerClient;
    let publisher: TestPublisher;
    beforeEach(async () => {
      broker = await startTestBroker();
      broker.gate.grantPublish(STREAM, ALICE);
      client = await BrokerClient.connect(broker.wsUrl);
      await client.signIn(ALICE_KEY);
      publisher = new TestPublisher(ALICE_KEY);
    });
    afterEach(async () => {
      await client.close();
      await broker.stop();
    });

    it("refuses both over WebSocket with MALFORMED_FRAME, stores nothing, counts the refusals, and accepts the valid event after them", async () => {
      const shortCiphertext = publisher.next(Buffer.alloc(27), encrypted);
      publisher.sequenceNumber = 0;
      publisher.previousEventHash = "0x" + "00".repeat(32);
      expect(await expectBrokerError(() => client.publish(shortCiphertext.frame), "MALFORMED_FRAME")).to.include({
        rule: "encrypted-content-length",
        length: 27,
      });
      const notJson = publisher.next("price=3021.55");
      publisher.sequenceNumber = 0;
      publisher.previousEventHash = "0x" + "00".repeat(32);
      expect(await expectBrokerError(() => client.publish(notJson.frame), "MALFORMED_FRAME")).to.include({ rule: "json-content" });
      expect(broker.node.store.count(STREAM, 0)).to.equal(0);
      const refused = await broker.node.metrics.refused.get();
      expect(refused.values.find((v) => v.labels.code === "MALFORMED_FRAME")?.value).to.equal(2);
      const valid = publisher.next(Buffer.alloc(28), encrypted);
      expect(await client.publish(valid.frame)).to.include({ type: "published" });
      expect(broker.node.store.count(STREAM, 0)).to.equal(1);
    });

    it("refuses both over HTTP with 400 MALFORMED_FRAME", async () => {
      for (const [event, rule] of [
        [publisher.next(Buffer.alloc(12), encrypted), "encrypted-content-length"],
        [publisher.next("{not json}"), "json-content"],
      ] as const) {
        const response = await fetch(`${broker.httpUrl}/streams/${STREAM}/partitions/0/events`, {
          method: "POST",
          headers: { "content-type": "application/octet-stream" },
          body: event.frame,
        });
        expect(response.status).to.equal(400);
        const body = (await response.json()) as { code: string; details: Record<string, unknown> };
        expect(body.code).to.equal("MALFORMED_FRAME");
        expect(body.details).to.include({ field: "content", rule });
      }
      expect(broker.node.store.count(STREAM, 0)).to.equal(0);
    });
  });
});
