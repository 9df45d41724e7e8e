// The resend cursor (docs/protocol.md §6.4): a truncated from/range answer holds the first
// maxResendEvents matching events in resend order (timestamp, sequenceNumber, publisher) and names
// the cursor of its last; the same query with `after` continues without a repeat or a gap, even
// through more events at one timestamp than one answer holds. `last` takes `publisher` over both
// APIs. Checked against test-vectors/resend.json on a live broker, and by property on the store.

import { expect } from "chai";
import fc from "fast-check";
import { BrokerClient } from "../src/client/BrokerClient";
import { EventStore, compareCursors, cursorOf, type ResendCursor, type ResendQuery } from "../src/storage/EventStore";
import { ContentType, EncryptionType, ZERO_HASH, decodeFrame, eventHash, signEvent, type SignedEvent } from "../src/wire";
import { DEFAULT_CONFIG } from "../src/config";
import { buildSiweMessage, personalMessageHash, signDigest, toHex } from "../src/wire";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, MALLORY, MALLORY_KEY, STREAM, startTestBroker, tempDir, type TestBroker } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const V = require("../../test-vectors/resend.json") as {
  maxResendEvents: number;
  streamId: string;
  streamPartition: number;
  events: { frameHex: string; eventHash: string }[];
  cases: {
    name: string;
    query: ResendQuery & { toTimestamp?: number; after?: ResendCursor };
    answer: { eventHashes: string[]; truncated: boolean; next: ResendCursor | null };
  }[];
};
const hashOf = (frame: Buffer) => "0x" + eventHash(decodeFrame(frame).canonical).toString("hex");

describe("resend cursor (test-vectors/resend.json)", function () {
  this.timeout(20_000);
  let broker: TestBroker;
  let reader: BrokerClient;
  let token: string;

  before(async () => {
    expect(V.streamId).to.equal(STREAM);
    broker = await startTestBroker({ verifyThreads: 0, storage: { ...DEFAULT_CONFIG.storage, maxResendEvents: V.maxResendEvents } });
    broker.gate.grantSubscribe(STREAM, MALLORY);
    // the vectors' arrival order, stored as a replica stores (timestamps in the past are kept)
    for (const e of V.events) {
      const event = decodeFrame(Buffer.from(e.frameHex.slice(2), "hex"));
      await broker.node.store.admit(event, eventHash(event.canonical), "replica").durable;
    }
    reader = await BrokerClient.connect(broker.wsUrl);
    await reader.signIn(MALLORY_KEY);
    const { nonce } = (await (await fetch(`${broker.httpUrl}/auth/nonce`)).json()) as { nonce: string };
    const message = buildSiweMessage({
      domain: "localhost",
      address: MALLORY,
      uri: "http://127.0.0.1",
      chainId: 31337,
      nonce,
      issuedAt: new Date().toISOString(),
    });
    const signature = toHex(signDigest(personalMessageHash(Buffer.from(message)), MALLORY_KEY));
    token = (
      (await (
        await fetch(`${broker.httpUrl}/auth/session`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ message, signature }),
        })
      ).json()) as { token: string }
    ).token;
  });
  after(async () => {
    await reader?.close();
    await broker?.stop();
  });

  it("answers every case over WebSocket as the vectors say", async () => {
    for (const c of V.cases) {
      const reply = await reader.resend(V.streamId, V.streamPartition, c.query);
      expect(reply.frames.map(hashOf), c.name).to.deep.equal(c.answer.eventHashes);
      expect({ count: reply.count, truncated: reply.truncated, next: reply.next, gaps: reply.gaps }, c.name).to.deep.equal({
        count: c.answer.eventHashes.length,
        truncated: c.answer.truncated,
        next: c.answer.next,
        gaps: [],
      });
    }
  });

  it("answers every case over HTTP history as the vectors say", async () => {
    for (const c of V.cases) {
      const q = c.query;
      const params = new URLSearchParams();
      if (q.type === "last") params.set("last", String(q.count));
      else {
        params.set("from", String(q.fromTimestamp));
        if (q.toTimestamp !== undefined) params.set("to", String(q.toTimestamp));
        if (q.after) {
          params.set("afterTimestamp", String(q.after.timestamp));
          params.set("afterSequenceNumber", String(q.after.sequenceNumber));
          if (q.after.publisher) params.set("afterPublisher", q.after.publisher);
        }
      }
      if (q.publisher) params.set("publisher", q.publisher);
      const res = await fetch(`${broker.httpUrl}/streams/${V.streamId}/partitions/${V.streamPartition}/events?${params}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, c.name).to.equal(200);
      const body = (await res.json()) as { truncated: boolean; next: ResendCursor | null; events: { eventHash: string }[] };
      expect({ eventHashes: body.events.map((e) => e.eventHash), truncated: body.truncated, next: body.next }, c.name).to.deep.equal(c.answer);
    }
  });

  it("refuses a cursor on a last query, and a half cursor", async () => {
    let refused: unknown;
    await reader
      .resend(V.streamId, 0, { type: "last", count: 1, after: { timestamp: 1, sequenceNumber: 0 } } as unknown as ResendQuery)
      .catch((e) => (refused = e));
    expect((refused as { code?: string }).code).to.equal("BAD_REQUEST");
    const res = await fetch(`${broker.httpUrl}/streams/${V.streamId}/partitions/0/events?from=0&afterTimestamp=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).to.equal(400);
  });

  it("a continuation from the last timestamp alone, as before, cannot pass four events at one timestamp", async () => {
    const T = 1767225600000;
    const first = await reader.resend(V.streamId, 0, { type: "from", fromTimestamp: T, publisher: V.cases[0].answer.next!.publisher });
    const again = await reader.resend(V.streamId, 0, {
      type: "from",
      fromTimestamp: Math.max(...first.frames.map((f) => decodeFrame(f).timestamp)),
      publisher: V.cases[0].answer.next!.publisher,
    });
    expect(again.frames.map(hashOf)).to.deep.equal(first.frames.map(hashOf)); // the same page again: only the cursor moves on
  });
});

describe("resend cursor (property: pages cover the answer exactly once)", function () {
  this.timeout(120_000);
  const KEYS = [ALICE_KEY, BOB_KEY, MALLORY_KEY];
  const ADDRESSES = [ALICE, BOB, MALLORY];

  /** Events of up to three publishers, each chain in sequence order, interleaved; timestamps from a few values (many ties, out of order). */
  const scenario = fc.record({
    steps: fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), ts: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 30 }),
    max: fc.integer({ min: 1, max: 5 }),
    from: fc.integer({ min: 0, max: 4 }),
    to: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    publisher: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  });

  it("for random arrivals, caps and queries, paging with `after` returns every matching event once, in resend order between pages", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ steps, max, from, to, publisher }) => {
        const tmp = tempDir("broker-cursor-");
        const store = new EventStore({ dataDir: tmp.dir, maxResendEvents: max });
        store.open();
        try {
          const chains = KEYS.map(() => ({ seq: 0, prev: ZERO_HASH }));
          const stored: SignedEvent[] = [];
          for (const { who, ts } of steps) {
            const c = chains[who];
            const ev = signEvent(
              {
                streamId: STREAM,
                streamPartition: 0,
                timestamp: 1767225600000 + ts,
                sequenceNumber: c.seq,
                previousEventHash: c.prev,
                publisher: ADDRESSES[who],
                contentType: ContentType.JSON,
                encryptionType: EncryptionType.NONE,
                groupKeyId: ZERO_HASH,
                content: Buffer.from("{}"),
              },
              KEYS[who],
            );
            c.seq += 1 + (ts % 2); // gaps in sequence numbers too
            c.prev = "0x" + eventHash(ev.canonical).toString("hex");
            await store.admit(ev, eventHash(ev.canonical), "replica").durable;
            stored.push(ev);
          }
          const lo = 1767225600000 + Math.min(from, to ?? from);
          const hi = to === undefined ? undefined : 1767225600000 + Math.max(from, to);
          const publisherAddress = publisher === undefined ? undefined : ADDRESSES[publisher];
          const expected = stored
            .filter((e) => e.timestamp >= lo && (hi === undefined || e.timestamp <= hi) && (!publisherAddress || e.publisher === publisherAddress))
            .map((e) => cursorOf(e.frame))
            .sort(compareCursors);
          const base: ResendQuery =
            hi === undefined
              ? { type: "from", fromTimestamp: lo, publisher: publisherAddress }
              : { type: "range", fromTimestamp: lo, toTimestamp: hi, publisher: publisherAddress };
          const seen: Required<ResendCursor>[] = [];
          let after: ResendCursor | undefined;
          for (let page = 0; page <= expected.length + 1; page++) {
            const answer = await store.resend(STREAM, 0, { ...base, after } as ResendQuery);
            expect(answer.frames.length).to.be.at.most(max);
            const keys = answer.frames.map(cursorOf).sort(compareCursors);
            if (seen.length > 0 && keys.length > 0) expect(compareCursors(keys[0], seen[seen.length - 1])).to.be.above(0);
            seen.push(...keys);
            expect(answer.truncated).to.equal(seen.length < expected.length);
            if (!answer.truncated) {
              expect(answer.next).to.equal(null);
              break;
            }
            expect(answer.next).to.deep.equal(keys[keys.length - 1]);
            after = answer.next!;
          }
          expect(seen).to.deep.equal(expected);
        } finally {
          await store.close();
          tmp.remove();
        }
      }),
      { numRuns: 60 },
    );
  });
});
