// The WebSocket API: sign-in, publish acknowledged once durable, delivery, resend, and typed
// refusals that store nothing.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { decodeFrame, eventHash } from "../src/wire";
import { StaticPartitionAssignment } from "../src/network/PartitionAssignment";
import {
  ALICE,
  ALICE_KEY,
  BOB,
  BOB_KEY,
  MALLORY_KEY,
  OTHER_STREAM,
  STREAM,
  TestBroker,
  TestPublisher,
  expectBrokerError,
  startTestBroker,
  waitFor,
} from "./helpers";

describe("WebSocket API", () => {
  let broker: TestBroker;
  const clients: BrokerClient[] = [];
  const connect = async (key?: Buffer) => {
    const c = await BrokerClient.connect(broker.wsUrl);
    clients.push(c);
    if (key) await c.signIn(key);
    return c;
  };
  beforeEach(async () => {
    broker = await startTestBroker();
    broker.gate.grantPublish(STREAM, ALICE).grantSubscribe(STREAM, BOB);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker.stop();
  });

  describe("sign-in (EIP-4361)", () => {
    it("authenticates the address that signed the broker's nonce", async () => {
      const c = await connect();
      const reply = await c.signIn(ALICE_KEY);
      expect(reply).to.include({ type: "authenticated", address: ALICE });
    });

    it("refuses a message carrying another nonce with AUTHENTICATION_FAILED", async () => {
      const c = await connect();
      await expectBrokerError(() => c.signIn(ALICE_KEY, { nonce: "0123456789abcdef" }), "AUTHENTICATION_FAILED");
    });

    it("refuses a message for another domain with AUTHENTICATION_FAILED", async () => {
      const c = await connect();
      const d = await expectBrokerError(() => c.signIn(ALICE_KEY, { domain: "evil.example" }), "AUTHENTICATION_FAILED");
      expect(d).to.include({ domain: "evil.example", expected: "localhost" });
    });

    it("refuses an expired message with AUTHENTICATION_FAILED", async () => {
      const c = await connect();
      await expectBrokerError(() => c.signIn(ALICE_KEY, { expirationTime: new Date(Date.now() - 1000).toISOString() }), "AUTHENTICATION_FAILED");
    });

    it("refuses publish, subscribe and resend before sign-in with NOT_AUTHENTICATED", async () => {
      const c = await connect();
      await expectBrokerError(() => c.publish(new TestPublisher(ALICE_KEY).next().frame), "NOT_AUTHENTICATED");
      await expectBrokerError(() => c.subscribe(STREAM), "NOT_AUTHENTICATED");
      await expectBrokerError(() => c.resend(STREAM, 0, { type: "last", count: 1 }), "NOT_AUTHENTICATED");
      expect(broker.node.store.count(STREAM, 0)).to.equal(0);
    });
  });

  it("acknowledges a publish with its eventHash once durable and delivers the same bytes to a subscriber", async () => {
    const pub = await connect(ALICE_KEY);
    const sub = await connect(BOB_KEY);
    const got: Buffer[] = [];
    sub.onEvent = (f) => got.push(Buffer.from(f));
    await sub.subscribe(STREAM, 0);
    const p = new TestPublisher(ALICE_KEY);
    const events = [p.next('{"price":1}'), p.next('{"price":2}'), p.next('{"price":3}')];
    const acks = await Promise.all(events.map((e) => pub.publish(e.frame)));
    expect(acks.map((a) => a.eventHash)).to.deep.equal(events.map((e) => "0x" + eventHash(e.canonical).toString("hex")));
    expect(broker.node.store.count(STREAM, 0)).to.equal(3); // acknowledged => in the log
    await waitFor(() => got.length === 3, 2000, "deliveries");
    expect(got.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
  });

  it("delivers events intact in both WebSocket length encodings they use (16-bit and 64-bit lengths; a frame is at least 209 bytes)", async () => {
    const pub = await connect(ALICE_KEY);
    const sub = await connect(BOB_KEY);
    const got: Buffer[] = [];
    sub.onEvent = (f) => got.push(Buffer.from(f));
    await sub.subscribe(STREAM, 0);
    const p = new TestPublisher(ALICE_KEY);
    // frame = 209 + content bytes; the WebSocket payload adds the kind byte
    const events = [
      p.next(Buffer.alloc(0), { contentType: 0 }),
      p.next(Buffer.alloc(1000, 1), { contentType: 0 }),
      p.next(Buffer.alloc(70_000, 2), { contentType: 0 }),
    ];
    for (const e of events) await pub.publish(e.frame);
    await waitFor(() => got.length === 3);
    expect(got.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
  });

  it("stops delivering after unsubscribe", async () => {
    const pub = await connect(ALICE_KEY);
    const sub = await connect(BOB_KEY);
    let n = 0;
    sub.onEvent = () => n++;
    await sub.subscribe(STREAM, 0);
    const p = new TestPublisher(ALICE_KEY);
    await pub.publish(p.next().frame);
    await waitFor(() => n === 1);
    expect((await sub.unsubscribe(STREAM, 0)).wasSubscribed).to.equal(true);
    await pub.publish(p.next().frame);
    const r = await sub.resend(STREAM, 0, { type: "last", count: 10 }); // a round trip after the publish
    expect(r.count).to.equal(2);
    expect(n).to.equal(1);
  });

  it("resends the last N, from a timestamp, and a range", async () => {
    const pub = await connect(ALICE_KEY);
    const sub = await connect(BOB_KEY);
    const p = new TestPublisher(ALICE_KEY);
    const base = Date.now() - 1000;
    const events = Array.from({ length: 10 }, (_, i) => p.next(`{"i":${i}}`, { timestamp: base + i * 10 }));
    for (const e of events) await pub.publish(e.frame);
    const hex = (fs: Buffer[]) => fs.map((f) => f.toString("hex"));
    const last = await sub.resend(STREAM, 0, { type: "last", count: 4 });
    expect(last).to.include({ type: "resent", count: 4, truncated: false });
    expect(hex(last.frames)).to.deep.equal(hex(events.slice(6).map((e) => e.frame)));
    expect(hex((await sub.resend(STREAM, 0, { type: "from", fromTimestamp: base + 50 })).frames)).to.deep.equal(hex(events.slice(5).map((e) => e.frame)));
    expect(hex((await sub.resend(STREAM, 0, { type: "range", fromTimestamp: base + 10, toTimestamp: base + 30, publisher: ALICE })).frames)).to.deep.equal(
      hex(events.slice(1, 4).map((e) => e.frame)),
    );
  });

  describe("refusals (typed, nothing stored)", () => {
    let pub: BrokerClient;
    let p: TestPublisher;
    beforeEach(async () => {
      pub = await connect(ALICE_KEY);
      p = new TestPublisher(ALICE_KEY);
      await pub.publish(p.next().frame);
    });
    const stored = () => broker.node.store.count(STREAM, 0) + broker.node.store.count(STREAM, 1) + broker.node.store.count(OTHER_STREAM, 0);
    async function refused(frame: Buffer, code: string) {
      const before = stored();
      const details = await expectBrokerError(() => pub.publish(frame), code);
      expect(stored()).to.equal(before);
      return details;
    }

    it("refuses a malformed frame with MALFORMED_FRAME", async () => {
      const f = Buffer.from(p.next().frame);
      await refused(f.subarray(0, f.length - 3), "MALFORMED_FRAME");
    });

    it("refuses a frame whose content was changed after signing with INVALID_SIGNATURE", async () => {
      const f = Buffer.from(p.next('{"price":100}').frame);
      f[153] ^= 0x01; // "price":100 becomes 110: still JSON (the content rules pass), no longer what was signed
      await refused(f, "INVALID_SIGNATURE");
      expect(await broker.node.metrics.verificationFailures.get()).to.have.nested.property("values[0].value", 1);
    });

    it("refuses a frame signed by someone else than its publisher field with INVALID_SIGNATURE", async () => {
      const forged = new TestPublisher(MALLORY_KEY).next("{}", { publisher: ALICE, sequenceNumber: 5, previousEventHash: "0x" + "00".repeat(32) });
      await refused(forged.frame, "INVALID_SIGNATURE");
    });

    it("refuses content above maxContentBytes with PAYLOAD_TOO_LARGE", async () => {
      const d = await refused(p.next(Buffer.alloc(broker.node.maxContentBytes + 1)).frame, "PAYLOAD_TOO_LARGE");
      expect(d).to.include({ contentLength: broker.node.maxContentBytes + 1 });
    });

    it("refuses an unknown stream with UNKNOWN_STREAM", async () => {
      const d = await refused(new TestPublisher(ALICE_KEY, "0x" + "77".repeat(32)).next().frame, "UNKNOWN_STREAM");
      expect(d).to.include({ streamId: "0x" + "77".repeat(32) });
    });

    it("refuses a partition beyond the stream's partitions with INVALID_PARTITION", async () => {
      const d = await refused(new TestPublisher(ALICE_KEY, STREAM, 2).next().frame, "INVALID_PARTITION");
      expect(d).to.include({ streamPartition: 2, partitions: 2 });
    });

    it("refuses a duplicate sequence number with DUPLICATE_SEQUENCE", async () => {
      const again = new TestPublisher(ALICE_KEY).next(); // sequence number 0 again
      await refused(again.frame, "DUPLICATE_SEQUENCE");
    });

    it("refuses an out-of-order sequence number with OUT_OF_ORDER_SEQUENCE", async () => {
      p.sequenceNumber = 10;
      await pub.publish(p.next().frame);
      const d = await refused(p.next("{}", { sequenceNumber: 3 }).frame, "OUT_OF_ORDER_SEQUENCE");
      expect(d).to.include({ sequenceNumber: 3, lastSequenceNumber: 10 });
    });

    it("refuses a timestamp far from the broker's clock with TIMESTAMP_OUT_OF_RANGE", async () => {
      await refused(p.next("{}", { timestamp: Date.now() - 3_600_000 }).frame, "TIMESTAMP_OUT_OF_RANGE");
    });

    it("refuses a publisher without the publish permission with PUBLISH_NOT_ALLOWED", async () => {
      const d = await refused(new TestPublisher(BOB_KEY).next().frame, "PUBLISH_NOT_ALLOWED");
      expect(d).to.include({ streamId: STREAM, publisher: BOB });
    });

    it("refuses a subscriber without permission, licence or consent with SUBSCRIBE_NOT_ALLOWED", async () => {
      const m = await connect(MALLORY_KEY);
      const d = await expectBrokerError(() => m.subscribe(STREAM, 0), "SUBSCRIBE_NOT_ALLOWED");
      expect(d).to.include({ reason: "no-permission-or-licence" });
      await expectBrokerError(() => m.resend(STREAM, 0, { type: "last", count: 1 }), "SUBSCRIBE_NOT_ALLOWED");
      expect(broker.node.subscriptionCount()).to.equal(0);
    });

    it("refuses non-JSON text and unknown message types with BAD_REQUEST", async () => {
      const got: string[] = [];
      pub.onNotice = (n) => got.push(String(n.code));
      pub.sendRaw("not json");
      pub.sendRaw(JSON.stringify({ type: "teleport", requestId: 99 }));
      pub.sendRaw(Buffer.from([9, 0, 0, 0, 1]));
      await expectBrokerError(() => pub.resend(STREAM, 0, { type: "last", count: 0 }), "BAD_REQUEST");
      await waitFor(() => got.length >= 2);
      expect(got).to.include("BAD_REQUEST");
    });
  });

  it("answers PARTITION_NOT_SERVED with the serving brokers for a partition it is not assigned", async () => {
    await broker.stop();
    const others = new Map([[1, [{ address: BOB, ws: "ws://127.0.0.1:9", http: "http://127.0.0.1:9" }]]]);
    broker = await startTestBroker({}, new StaticPartitionAssignment((_id, part) => part, new Set([0]), others));
    broker.gate.grantPublish(STREAM, ALICE);
    const pub = await connect(ALICE_KEY);
    await pub.publish(new TestPublisher(ALICE_KEY, STREAM, 0).next().frame);
    const d = await expectBrokerError(() => pub.publish(new TestPublisher(ALICE_KEY, STREAM, 1).next().frame), "PARTITION_NOT_SERVED");
    expect(d.networkPartition).to.equal(1);
    expect(d.brokers).to.deep.equal(others.get(1));
  });

  it("answers each of a pipeline of valid and malformed publishes (a refusal never waits unhandled behind a slow check)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const pub = await connect(ALICE_KEY);
    const p = new TestPublisher(ALICE_KEY);
    const frames: Buffer[] = [];
    for (let i = 0; i < 40; i++) frames.push(i % 4 === 3 ? p.next().frame.subarray(0, 100) : p.next().frame);
    const results = await Promise.allSettled(frames.map((f) => pub.publish(f)));
    const codes = results.map((r) => (r.status === "fulfilled" ? "ok" : (r.reason as { code: string }).code));
    expect(codes.filter((c) => c === "MALFORMED_FRAME")).to.have.length(10);
    // Each refused event leaves a gap in the chain: the next one is refused too (PREVIOUS_EVENT_MISMATCH).
    expect(codes.filter((c) => c === "ok").length + codes.filter((c) => c === "PREVIOUS_EVENT_MISMATCH").length).to.equal(30);
    expect(codes[0]).to.equal("ok");
    process.off("unhandledRejection", onUnhandled);
    expect(unhandled, "unhandled rejections in the broker (fatal outside mocha)").to.deep.equal([]);
  });

  it("keeps a publisher's pipelined events in order (no false OUT_OF_ORDER_SEQUENCE)", async () => {
    const pub = await connect(ALICE_KEY);
    const p = new TestPublisher(ALICE_KEY);
    const acks = await Promise.all(Array.from({ length: 300 }, () => pub.publish(p.next().frame)));
    expect(acks).to.have.length(300);
    const last = await (await connect(BOB_KEY)).resend(STREAM, 0, { type: "last", count: 300 });
    expect(last.frames.map((f) => decodeFrame(f).sequenceNumber)).to.deep.equal(Array.from({ length: 300 }, (_, i) => i));
  });
});
