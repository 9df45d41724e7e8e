// docs/protocol.md §9 as written: the exact shape of a history response, the 400 for a frame whose
// stream partition differs from the URL's, and the single-use sign-in nonce of the HTTP API.

import { expect } from "chai";
import { buildSiweMessage } from "../src/wire";
import { personalMessageHash, signDigest, toHex } from "../src/wire";
import { eventHash } from "../src/wire";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, STREAM, TestBroker, TestPublisher, startTestBroker } from "./helpers";

describe("HTTP history and publish (docs/protocol.md §9)", () => {
  let broker: TestBroker;
  const url = (path: string) => broker.httpUrl + path;
  const post = (path: string, body: unknown) =>
    fetch(url(path), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  async function signedIn(key: Buffer, address: string) {
    const { nonce, domain, chainId } = (await (await fetch(url("/auth/nonce"))).json()) as { nonce: string; domain: string; chainId: number };
    const message = buildSiweMessage({ domain, address, uri: broker.httpUrl, chainId, nonce, issuedAt: new Date().toISOString() });
    const signature = toHex(signDigest(personalMessageHash(Buffer.from(message)), key));
    return { message, signature, response: await post("/auth/session", { message, signature }) };
  }

  beforeEach(async () => {
    broker = await startTestBroker();
    broker.gate.grantPublish(STREAM, ALICE).grantSubscribe(STREAM, BOB);
  });
  afterEach(() => broker.stop());

  it("answers history as { truncated, next, events: [{ frame, eventHash, decoded fields, content }] }", async () => {
    const event = new TestPublisher(ALICE_KEY).next('{"price":7}');
    expect((await post(`/streams/${STREAM}/partitions/0/events`, { frame: event.frame.toString("base64") })).status).to.equal(201);
    const { response } = await signedIn(BOB_KEY, BOB);
    const { token } = (await response.json()) as { token: string };
    const history = await fetch(url(`/streams/${STREAM}/partitions/0/events?last=10`), { headers: { authorization: `Bearer ${token}` } });
    expect(history.status).to.equal(200);
    expect(await history.json()).to.deep.equal({
      truncated: false,
      next: null,
      events: [
        {
          frame: event.frame.toString("base64"),
          eventHash: "0x" + eventHash(event.canonical).toString("hex"),
          publisher: ALICE,
          timestamp: event.timestamp,
          sequenceNumber: 0,
          previousEventHash: "0x" + "00".repeat(32),
          contentType: 1,
          encryptionType: 0,
          groupKeyId: "0x" + "00".repeat(32),
          content: Buffer.from('{"price":7}').toString("base64"),
        },
      ],
    });
  });

  it("refuses with 400 BAD_REQUEST a frame whose stream partition is not the URL's, naming both", async () => {
    const event = new TestPublisher(ALICE_KEY).next();
    const response = await post(`/streams/${STREAM}/partitions/1/events`, { frame: event.frame.toString("base64") });
    expect(response.status).to.equal(400);
    expect(await response.json()).to.deep.equal({
      code: "BAD_REQUEST",
      message: "the frame is for another stream partition than the URL",
      details: { url: { streamId: STREAM, partition: 1 }, frame: { streamId: STREAM, streamPartition: 0 } },
    });
    expect(broker.node.store.count(STREAM, 0) + broker.node.store.count(STREAM, 1)).to.equal(0);
  });

  it("takes a sign-in nonce once: the same signed message cannot open a second session", async () => {
    const first = await signedIn(BOB_KEY, BOB);
    expect(first.response.status).to.equal(200);
    const replay = await post("/auth/session", { message: first.message, signature: first.signature });
    expect(replay.status).to.equal(401);
    expect(await replay.json()).to.include({ code: "AUTHENTICATION_FAILED" });
  });
});
