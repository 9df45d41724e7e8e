// The durable event store: group commit, publisher-chain rules, recovery, resend, retention.

import { expect } from "chai";
import * as fs from "node:fs";
import { join } from "node:path";
import { EventStore, partitionKey } from "../src/storage/EventStore";
import { decodeFrame, eventHash, verifyEvent } from "../src/wire";
import { ALICE_KEY, BOB_KEY, STREAM, TestPublisher, expectBrokerError, tempDir } from "./helpers";

describe("EventStore", () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: EventStore;
  const open = (opts: Partial<ConstructorParameters<typeof EventStore>[0]> = {}) => {
    store = new EventStore({ dataDir: tmp.dir, ...opts });
    store.open();
    return store;
  };
  beforeEach(() => (tmp = tempDir()));
  afterEach(async () => {
    await store?.close().catch(() => undefined);
    tmp.remove();
  });

  async function publish(p: TestPublisher, n: number) {
    const events = Array.from({ length: n }, () => p.next());
    await Promise.all(events.map((e) => store.append(e, eventHash(e.canonical))));
    return events;
  }

  it("acknowledges appends after a group commit and returns them by resend, byte for byte", async () => {
    open();
    const p = new TestPublisher(ALICE_KEY);
    const events = await publish(p, 500);
    expect(store.stats.events).to.equal(500);
    expect(store.stats.batches).to.be.lessThan(500); // group commit: many events per fdatasync
    const { frames } = await store.resend(STREAM, 0, { type: "last", count: 500 });
    expect(frames.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
  });

  it("under load, starts group commits at most every commitDelayMs; a lone event is synced at once", async () => {
    open({ commitDelayMs: 300 });
    const p = new TestPublisher(ALICE_KEY);
    // Lone events, one at a time: each is the only event of its commit, so none is held back by
    // commitDelayMs (counted by stats.delayed rather than timed, which a busy disk would skew).
    for (let i = 0; i < 5; i++) await publish(p, 1);
    expect(store.stats.batches).to.equal(5);
    expect(store.stats.delayed).to.equal(0);
    // A commit of several events: the next commit starts no earlier than 300 ms after it started, and
    // everything appended meanwhile shares that one fdatasync. (Lower bounds only: a slow machine
    // adds to them.)
    const t = performance.now();
    await publish(p, 10);
    const firstCommitMs = performance.now() - t;
    const later = [publish(p, 1), publish(p, 1), publish(p, 1)];
    await Promise.all(later);
    expect(performance.now() - t).to.be.at.least(295); // 300 less the timers' millisecond granularity
    // held back by commitDelayMs, unless that commit's own fdatasync outlasted it on a busy disk
    if (firstCommitMs < 250) expect(store.stats.delayed).to.equal(1);
    expect(store.stats.batches).to.equal(7);
    expect(store.count(STREAM, 0)).to.equal(18);
  });

  it("recovers events, chains and counts after a restart", async () => {
    open();
    const p = new TestPublisher(ALICE_KEY);
    await publish(p, 20);
    await store.close();
    open();
    expect(store.count(STREAM, 0)).to.equal(20);
    expect(store.lastOfChain(STREAM, 0, p.address)?.sequenceNumber).to.equal(19);
    // The chain continues across the restart; a replay of the last event is recognised (not stored
    // twice), and another event with its sequence number is refused.
    await publish(p, 1);
    const replay = decodeFrame((await store.resend(STREAM, 0, { type: "last", count: 1 })).frames[0]);
    expect(store.admit(replay, eventHash(replay.canonical)).duplicate).to.equal(true);
    const forged = new TestPublisher(ALICE_KEY);
    forged.sequenceNumber = 20;
    await expectBrokerError(() => {
      const e = forged.next("{}");
      return store.append(e, eventHash(e.canonical));
    }, "DUPLICATE_SEQUENCE");
    expect(store.count(STREAM, 0)).to.equal(21);
  });

  it("truncates a torn tail on recovery and keeps every complete record", async () => {
    open();
    await publish(new TestPublisher(ALICE_KEY), 10);
    await store.close();
    const dir = join(tmp.dir, "partitions", partitionKey(STREAM, 0));
    const seg = join(dir, fs.readdirSync(dir)[0]);
    const size = fs.statSync(seg).size;
    fs.appendFileSync(seg, Buffer.from([0, 0, 1, 0, 1, 2, 3])); // a record header cut short
    open();
    expect(store.count(STREAM, 0)).to.equal(10);
    expect(store.stats.truncatedBytes).to.equal(7);
    expect(fs.statSync(seg).size).to.equal(size);
  });

  it("drops a record whose CRC does not match (corrupt tail) on recovery", async () => {
    open();
    await publish(new TestPublisher(ALICE_KEY), 3);
    await store.close();
    const dir = join(tmp.dir, "partitions", partitionKey(STREAM, 0));
    const seg = join(dir, fs.readdirSync(dir)[0]);
    const data = fs.readFileSync(seg);
    data[data.length - 10] ^= 0xff; // flip a byte inside the last record's frame
    fs.writeFileSync(seg, data);
    open();
    expect(store.count(STREAM, 0)).to.equal(2);
    for (const f of (await store.resend(STREAM, 0, { type: "last", count: 10 })).frames) verifyEvent(decodeFrame(f));
  });

  describe("publisher-chain rules (nothing stored on refusal)", () => {
    it("acknowledges an identical republish without storing it twice, and refuses another event with the same sequence number (DUPLICATE_SEQUENCE)", async () => {
      open();
      const p = new TestPublisher(ALICE_KEY);
      const [e] = await publish(p, 1);
      const again = store.admit(e, eventHash(e.canonical));
      expect(again.duplicate).to.equal(true);
      await again.durable;
      expect(store.count(STREAM, 0)).to.equal(1);
      const other = new TestPublisher(ALICE_KEY).next('{"other":true}');
      const details = await expectBrokerError(() => store.append(other, eventHash(other.canonical)), "DUPLICATE_SEQUENCE");
      expect(details).to.include({ sequenceNumber: 0, lastSequenceNumber: 0 });
      expect(store.count(STREAM, 0)).to.equal(1);
    });

    it("refuses a lower sequence number with OUT_OF_ORDER_SEQUENCE", async () => {
      open();
      const p = new TestPublisher(ALICE_KEY);
      p.sequenceNumber = 10;
      await publish(p, 1);
      const late = p.next("{}", { sequenceNumber: 5 });
      const details = await expectBrokerError(() => store.append(late, eventHash(late.canonical)), "OUT_OF_ORDER_SEQUENCE");
      expect(details).to.include({ sequenceNumber: 5, lastSequenceNumber: 10 });
      expect(store.count(STREAM, 0)).to.equal(1);
    });

    it("refuses a previousEventHash that contradicts the stored chain with PREVIOUS_EVENT_MISMATCH", async () => {
      open();
      const p = new TestPublisher(ALICE_KEY);
      await publish(p, 1);
      const forged = p.next("{}", { previousEventHash: "0x" + "12".repeat(32) });
      await expectBrokerError(() => store.append(forged, eventHash(forged.canonical)), "PREVIOUS_EVENT_MISMATCH");
      expect(store.count(STREAM, 0)).to.equal(1);
    });

    it("accepts a zero previousEventHash as a declared new chain with a higher sequence number", async () => {
      open();
      const p = new TestPublisher(ALICE_KEY);
      await publish(p, 2);
      const restart = p.next("{}", { previousEventHash: "0x" + "00".repeat(32), sequenceNumber: 100 });
      await store.append(restart, eventHash(restart.canonical));
      expect(store.count(STREAM, 0)).to.equal(3);
    });

    it("keeps each publisher's chain separate in one partition", async () => {
      open();
      await publish(new TestPublisher(ALICE_KEY), 3);
      await publish(new TestPublisher(BOB_KEY), 3); // also starts at sequence number 0
      expect(store.count(STREAM, 0)).to.equal(6);
    });
  });

  describe("resend", () => {
    it("returns the last N, from a timestamp, a range, and a range filtered by publisher", async () => {
      open();
      const a = new TestPublisher(ALICE_KEY);
      const b = new TestPublisher(BOB_KEY);
      const base = Date.now();
      const evs = [];
      for (let i = 0; i < 10; i++) {
        const pub = i % 2 === 0 ? a : b;
        evs.push(pub.next(`{"i":${i}}`, { timestamp: base + i * 10 }));
      }
      for (const e of evs) await store.append(e, eventHash(e.canonical));
      const hexes = (fs: Buffer[]) => fs.map((f) => f.toString("hex"));
      expect(hexes((await store.resend(STREAM, 0, { type: "last", count: 3 })).frames)).to.deep.equal(hexes(evs.slice(7).map((e) => e.frame)));
      expect(hexes((await store.resend(STREAM, 0, { type: "from", fromTimestamp: base + 80 })).frames)).to.deep.equal(hexes(evs.slice(8).map((e) => e.frame)));
      expect(hexes((await store.resend(STREAM, 0, { type: "range", fromTimestamp: base + 20, toTimestamp: base + 50 })).frames)).to.deep.equal(
        hexes(evs.slice(2, 6).map((e) => e.frame)),
      );
      expect(hexes((await store.resend(STREAM, 0, { type: "range", fromTimestamp: base, toTimestamp: base + 90, publisher: b.address })).frames)).to.deep.equal(
        hexes(evs.filter((_, i) => i % 2 === 1).map((e) => e.frame)),
      );
      expect((await store.resend(STREAM, 1, { type: "last", count: 3 })).frames).to.have.length(0);
    });

    it("caps a resend at maxResendEvents and says it was truncated", async () => {
      open({ maxResendEvents: 5 });
      await publish(new TestPublisher(ALICE_KEY), 12);
      const last = await store.resend(STREAM, 0, { type: "last", count: 12 });
      expect(last.frames).to.have.length(5);
      expect(last.truncated).to.equal(true);
      const from = await store.resend(STREAM, 0, { type: "from", fromTimestamp: 0 });
      expect(from.frames).to.have.length(5);
      expect(from.truncated).to.equal(true);
    });

    it("reads across segment boundaries", async () => {
      open({ segmentBytes: 2000 });
      const events = await publish(new TestPublisher(ALICE_KEY), 5);
      for (const e of await publish(new TestPublisher(BOB_KEY), 0)) events.push(e);
      const p = new TestPublisher(BOB_KEY);
      for (let i = 0; i < 30; i++) events.push(...(await publish(p, 1)));
      const dir = join(tmp.dir, "partitions", partitionKey(STREAM, 0));
      expect(fs.readdirSync(dir).length).to.be.greaterThan(2);
      const { frames } = await store.resend(STREAM, 0, { type: "last", count: 1000 });
      expect(frames.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
    });
  });

  describe("retention", () => {
    it("drops the oldest whole segments beyond maxBytesPerPartition, never the active one", async () => {
      open({ segmentBytes: 3000, retention: { maxBytesPerPartition: 7000 } });
      const p = new TestPublisher(ALICE_KEY);
      for (let i = 0; i < 60; i++) await publish(p, 1);
      const before = store.count(STREAM, 0);
      const dropped = store.applyRetention();
      expect(dropped).to.be.greaterThan(0);
      expect(store.count(STREAM, 0)).to.equal(before - dropped);
      expect(store.partitions()[0].bytes).to.be.at.most(7000);
      const { frames } = await store.resend(STREAM, 0, { type: "last", count: 1000 });
      expect(frames).to.have.length(before - dropped);
      expect(decodeFrame(frames[frames.length - 1]).sequenceNumber).to.equal(59);
      await store.close();
      open({ segmentBytes: 3000 });
      expect(store.count(STREAM, 0)).to.equal(before - dropped);
    });

    it("drops segments whose newest event is older than maxAgeMs", async () => {
      open({ segmentBytes: 1000, retention: { maxAgeMs: 60_000 } });
      const p = new TestPublisher(ALICE_KEY);
      const old = Date.now() - 120_000;
      for (let i = 0; i < 10; i++) {
        const e = p.next("{}", { timestamp: old + i });
        await store.append(e, eventHash(e.canonical));
      }
      for (let i = 0; i < 3; i++) await publish(p, 1);
      const dropped = store.applyRetention();
      expect(dropped).to.be.greaterThan(0);
      const left = (await store.resend(STREAM, 0, { type: "last", count: 100 })).frames.map((f) => decodeFrame(f));
      expect(left.every((e) => e.timestamp >= old)).to.equal(true);
      expect(left[left.length - 1].sequenceNumber).to.equal(12);
    });
  });
});

describe("EventStore when the disk fails", () => {
  it("acknowledges nothing of a batch whose fdatasync failed, and refuses every later append with STORAGE_FAILURE", async () => {
    const tmp = tempDir();
    const store = new EventStore({ dataDir: tmp.dir });
    store.open();
    const p = new TestPublisher(ALICE_KEY);
    const first = p.next();
    await store.append(first, eventHash(first.canonical));
    const log = (store as unknown as { logs: Map<string, { sync: () => Promise<void> }> }).logs.get(partitionKey(STREAM, 0))!;
    log.sync = () => Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
    const batch = [p.next(), p.next()];
    const results = await Promise.allSettled(batch.map((e) => store.append(e, eventHash(e.canonical))));
    for (const r of results) {
      expect(r.status).to.equal("rejected");
      expect(((r as PromiseRejectedResult).reason as { code: string }).code).to.equal("STORAGE_FAILURE");
    }
    const later = p.next();
    await expectBrokerError(() => store.append(later, eventHash(later.canonical)), "STORAGE_FAILURE");
    await store.close().catch(() => undefined);
    tmp.remove();
  });
});
