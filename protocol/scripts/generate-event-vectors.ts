// Writes test-vectors/events.json, checksum.json, replication.json and resend.json from fixed keys
// and inputs.
// The tests check these vectors against this implementation AND against ethers' independent
// solidityPacked / verifyMessage, so a vector cannot merely echo the code that wrote it.
// Run: npm run vectors:events (in protocol/). Deterministic: RFC 6979 signatures, fixed inputs.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ContentType, EncryptionType, EventFields, ZERO_HASH, decodeFrame, eventHash, signEvent, signingDigest, streamIdOf } from "../src/event";
import { addressOfPrivateKey } from "../src/crypto";
import { EpochAccumulator } from "../src/checksum";

const KEYS = {
  alice: "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
  bob: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
};
const key = (k: string) => Buffer.from(k.slice(2), "hex");
const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");

const alice = addressOfPrivateKey(key(KEYS.alice));
const bob = addressOfPrivateKey(key(KEYS.bob));
const heartRate = streamIdOf("0x8ba1f109551bd432803012645ac136ddd64dba72", "/health/heart-rate");
const prices = streamIdOf(alice, "/prices/eth-usd");

function fieldsJson(f: EventFields) {
  return { ...f, content: hex(f.content) };
}

const valid: unknown[] = [];
const frames: Buffer[] = [];
function addValid(name: string, privateKey: string, f: EventFields) {
  const ev = signEvent(f, key(privateKey));
  frames.push(Buffer.from(ev.frame));
  valid.push({
    name,
    privateKey,
    fields: fieldsJson(f),
    canonicalHex: hex(ev.canonical),
    eventHash: hex(eventHash(ev.canonical)),
    signingDigest: hex(signingDigest(ev.canonical)),
    signatureType: ev.signatureType,
    signature: hex(ev.signature),
    frameHex: hex(ev.frame),
  });
  return ev;
}

const e1 = addValid("first JSON event of a chain (previousEventHash zero)", KEYS.alice, {
  streamId: prices,
  streamPartition: 0,
  timestamp: 1767225600000,
  sequenceNumber: 0,
  previousEventHash: ZERO_HASH,
  publisher: alice,
  contentType: ContentType.JSON,
  encryptionType: EncryptionType.NONE,
  groupKeyId: ZERO_HASH,
  content: Buffer.from('{"price":"3021.55","pair":"ETH/USD"}', "utf8"),
});
addValid("second event, chained to the first", KEYS.alice, {
  streamId: prices,
  streamPartition: 0,
  timestamp: 1767225600250,
  sequenceNumber: 1,
  previousEventHash: hex(eventHash(e1.canonical)),
  publisher: alice,
  contentType: ContentType.JSON,
  encryptionType: EncryptionType.NONE,
  groupKeyId: ZERO_HASH,
  content: Buffer.from('{"price":"3021.60","pair":"ETH/USD"}', "utf8"),
});
addValid("encrypted binary event on partition 7 with a group key", KEYS.bob, {
  streamId: heartRate,
  streamPartition: 7,
  timestamp: 1767225601000,
  sequenceNumber: 42,
  previousEventHash: "0x" + "ab".repeat(32),
  publisher: bob,
  contentType: ContentType.BINARY,
  encryptionType: EncryptionType.AES_256_GCM,
  groupKeyId: "0x" + "11".repeat(16) + "22".repeat(16),
  content: Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b", "hex"),
});
addValid("empty content, maximum uint32 partition, large values", KEYS.bob, {
  streamId: heartRate,
  streamPartition: 0xffffffff,
  timestamp: Number.MAX_SAFE_INTEGER,
  sequenceNumber: Number.MAX_SAFE_INTEGER,
  previousEventHash: ZERO_HASH,
  publisher: bob,
  contentType: ContentType.TEXT,
  encryptionType: EncryptionType.NONE,
  groupKeyId: ZERO_HASH,
  content: Buffer.alloc(0),
});

// Invalid frames, derived from valid ones by one change each; `stage` says which check refuses them.
const base = frames[0];
const mutate = (fn: (b: Buffer) => Buffer) => fn(Buffer.from(base));
const N = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
const invalid = [
  { name: "truncated by one byte", stage: "decode", error: "MALFORMED_FRAME", frame: base.subarray(0, base.length - 1) },
  { name: "one trailing byte", stage: "decode", error: "MALFORMED_FRAME", frame: Buffer.concat([base, Buffer.from([0])]) },
  {
    name: "protocol version 2",
    stage: "decode",
    error: "UNSUPPORTED_VERSION",
    frame: mutate((b) => {
      b[0] = 2;
      return b;
    }),
  },
  {
    name: "unknown contentType 9",
    stage: "decode",
    error: "MALFORMED_FRAME",
    frame: mutate((b) => {
      b[105] = 9;
      return b;
    }),
  },
  {
    name: "unencrypted but non-zero groupKeyId",
    stage: "decode",
    error: "MALFORMED_FRAME",
    frame: mutate((b) => {
      b[107] = 1;
      return b;
    }),
  },
  {
    name: "encrypted but zero groupKeyId",
    stage: "decode",
    error: "MALFORMED_FRAME",
    frame: mutate((b) => {
      b[106] = 1;
      return b;
    }),
  },
  {
    name: "unknown signatureType 2",
    stage: "decode",
    error: "MALFORMED_FRAME",
    frame: mutate((b) => {
      b[b.length - 66] = 2;
      return b;
    }),
  },
  {
    name: "signature v = 29",
    stage: "decode",
    error: "MALFORMED_FRAME",
    frame: mutate((b) => {
      b[b.length - 1] = 29;
      return b;
    }),
  },
  {
    name: "content tampered after signing",
    stage: "verify",
    error: "INVALID_SIGNATURE",
    frame: mutate((b) => {
      b[150] ^= 1;
      return b;
    }),
  },
  {
    name: "publisher field replaced",
    stage: "verify",
    error: "INVALID_SIGNATURE",
    frame: mutate((b) => {
      b.write(bob.slice(2), 85, 20, "hex");
      return b;
    }),
  },
  {
    name: "malleable high-s twin of a valid signature",
    stage: "verify",
    error: "INVALID_SIGNATURE",
    frame: mutate((b) => {
      const sOff = b.length - 33;
      const s = BigInt("0x" + b.toString("hex", sOff, sOff + 32));
      b.write((N - s).toString(16).padStart(64, "0"), sOff, 32, "hex");
      b[b.length - 1] = b[b.length - 1] === 27 ? 28 : 27;
      return b;
    }),
  },
].map((v) => ({ name: v.name, stage: v.stage, error: v.error, frameHex: hex(v.frame) }));

const eventsJson = {
  description:
    'Event encoding vectors (docs/protocol.md). canonicalHex = abi.encodePacked(fields); eventHash = keccak256(canonical); signingDigest = keccak256("\\x19Ethereum Signed Message:\\n32" ‖ eventHash); signature = r ‖ s ‖ v (v = 27/28) by privateKey over signingDigest; frameHex = canonical ‖ signatureType ‖ signature.',
  protocolVersion: 1,
  keys: { alice: { privateKey: KEYS.alice, address: alice }, bob: { privateKey: KEYS.bob, address: bob } },
  streams: {
    "0x8ba1f109551bd432803012645ac136ddd64dba72/health/heart-rate": heartRate,
    [`${alice}/prices/eth-usd`]: prices,
  },
  valid,
  invalid,
};

// Checksum vectors: the accumulator is order-independent, so `events` may be fed in any order.
const decoded = frames.map((f) => decodeFrame(f));
const hashes = decoded.map((e) => hex(eventHash(e.canonical)));
const cases = [
  { name: "empty epoch", epoch: 0, networkPartition: 0, eventHashes: [] as string[] },
  { name: "one event", epoch: 29453760, networkPartition: 3, eventHashes: [hashes[0]] },
  { name: "four events", epoch: 29453760, networkPartition: 3, eventHashes: hashes },
  { name: "sum wraps modulo 2^256", epoch: 1, networkPartition: 0xffffffff, eventHashes: ["0x" + "ff".repeat(32), "0x" + "00".repeat(31) + "02"] },
].map((c) => {
  const acc = new EpochAccumulator();
  for (const h of c.eventHashes) acc.add(Buffer.from(h.slice(2), "hex"));
  return { ...c, count: acc.count, sum: "0x" + acc.sum.toString(16).padStart(64, "0"), checksum: acc.checksum(c.epoch, c.networkPartition) };
});
const checksumJson = {
  description:
    "Epoch checksum vectors (docs/protocol.md). sum = Σ uint256(eventHash) mod 2^256; checksum = keccak256(abi.encodePacked(uint64 epoch, uint32 networkPartition, uint64 count, bytes32 sum)).",
  epochRule: { epochLengthMs: 60000, genesisMs: 0, example: { timestampMs: 1767225600000, epoch: 29453760 } },
  cases,
};

// Broker-to-broker messages (docs/protocol.md §10) and the chain-tip query (§6.6), on the first
// valid event: byte layout of the forward, and the JSON of the other messages.
const first = decoded[0];
const replicationJson = {
  description:
    "Replication messages (docs/protocol.md §6.6, §10). forward.messageHex = 0x04 ‖ uint32 BE requestId ‖ frame; the JSON messages are exact examples (field order free).",
  forward: {
    requestId: 9,
    frameHex: hex(frames[0]),
    messageHex: hex(Buffer.concat([Buffer.from([4, 0, 0, 0, 9]), frames[0]])),
    reply: { type: "replicated", requestId: 9, eventHash: hashes[0], duplicate: false },
  },
  sync: {
    request: { type: "sync", requestId: 10, networkPartition: 0, fromTimestamp: 0, maxEvents: 2000, cursor: null },
    pageMessageHex: [hex(Buffer.concat([Buffer.from([3, 0, 0, 0, 10]), frames[0]]))],
    reply: { type: "synced", requestId: 10, count: 1, next: null },
  },
  chainTip: {
    request: { type: "chainTip", requestId: 5, streamId: first.streamId, streamPartition: first.streamPartition, publisher: first.publisher },
    reply: {
      type: "chainTip",
      requestId: 5,
      streamId: first.streamId,
      streamPartition: first.streamPartition,
      publisher: first.publisher,
      tip: { sequenceNumber: first.sequenceNumber, eventHash: hashes[0], timestamp: first.timestamp },
    },
  },
  gapNotices: [
    { reason: "MISSING_EVENTS", publisher: first.publisher, fromSequence: 7, toSequence: 20, fromTimestamp: 1767225600000, toTimestamp: 1767225600950 },
    { reason: "CATCHING_UP", fromTimestamp: 1767225570000, toTimestamp: 1767225660000 },
  ],
};

// Resend and its cursor (docs/protocol.md §6.4), with maxResendEvents = 3: seven events of two
// publishers stored in an arrival order that is not timestamp order, four of them at one timestamp
// (more than one answer holds). The answers are computed here from the definition (filter, sort by
// (timestamp, sequenceNumber, publisher), cut at 3, send in storage order), not by the broker's code.
const RESEND_MAX = 3;
const T = 1767225600000;
const chain = (privateKey: string, publisher: string) => {
  let prev = ZERO_HASH;
  return (sequenceNumber: number, timestamp: number, content: string) => {
    const ev = signEvent(
      {
        streamId: prices,
        streamPartition: 0,
        timestamp,
        sequenceNumber,
        previousEventHash: prev,
        publisher,
        contentType: ContentType.JSON,
        encryptionType: EncryptionType.NONE,
        groupKeyId: ZERO_HASH,
        content: Buffer.from(content, "utf8"),
      },
      key(privateKey),
    );
    prev = hex(eventHash(ev.canonical));
    return ev;
  };
};
const fromAlice = chain(KEYS.alice, alice);
const fromBob = chain(KEYS.bob, bob);
const a = [0, 1, 2, 3].map((seq) => fromAlice(seq, T, `{"price":"30${seq}0.00"}`));
const b10 = fromBob(10, T - 5, '{"price":"2999.50"}');
const b11 = fromBob(11, T, '{"price":"3000.50"}');
const a4 = fromAlice(4, T + 10, '{"price":"3040.00"}');
const arrival = [a[0], a[1], a[2], b10, a[3], b11, a4].map((ev) => ({
  frameHex: hex(ev.frame),
  eventHash: hex(eventHash(ev.canonical)),
  publisher: ev.publisher,
  timestamp: ev.timestamp,
  sequenceNumber: ev.sequenceNumber,
}));
type Cursor = { timestamp: number; sequenceNumber: number; publisher?: string };
type Query =
  | { type: "last"; count: number; publisher?: string }
  | { type: "from" | "range"; fromTimestamp: number; toTimestamp?: number; publisher?: string; after?: Cursor };
const order = (x: Cursor, y: Cursor) =>
  x.timestamp - y.timestamp ||
  x.sequenceNumber - y.sequenceNumber ||
  (x.publisher === y.publisher ? 0 : x.publisher === undefined ? 1 : y.publisher === undefined ? -1 : x.publisher < y.publisher ? -1 : 1);
function answer(q: Query): { eventHashes: string[]; truncated: boolean; next: Cursor | null } {
  const mine = arrival.filter((e) => !q.publisher || e.publisher === q.publisher);
  if (q.type === "last") {
    const want = Math.min(q.count, RESEND_MAX);
    return { eventHashes: mine.slice(-want).map((e) => e.eventHash), truncated: q.count > RESEND_MAX && mine.length > want, next: null };
  }
  const matching = mine.filter((e) => e.timestamp >= q.fromTimestamp && e.timestamp <= (q.toTimestamp ?? Infinity) && (!q.after || order(e, q.after) > 0));
  const first = [...matching].sort(order).slice(0, RESEND_MAX);
  const truncated = matching.length > RESEND_MAX;
  const last = first[first.length - 1];
  return {
    eventHashes: arrival.filter((e) => first.includes(e)).map((e) => e.eventHash),
    truncated,
    next: truncated ? { timestamp: last.timestamp, sequenceNumber: last.sequenceNumber, publisher: last.publisher } : null,
  };
}
const resendCases: { name: string; query: Query; answer: ReturnType<typeof answer> }[] = [];
function paged(name: string, query: Extract<Query, { type: "from" | "range" }>) {
  let q = query;
  for (let page = 1; ; page++) {
    const a = answer(q);
    resendCases.push({ name: `${name}, page ${page}`, query: q, answer: a });
    if (!a.truncated) return;
    q = { ...query, after: a.next! };
  }
}
paged("every event from T - 100 (4 at T: more than one answer holds)", { type: "from", fromTimestamp: T - 100 });
paged("alice's events from T", { type: "from", fromTimestamp: T, publisher: alice });
paged("range T - 5 .. T", { type: "range", fromTimestamp: T - 5, toTimestamp: T });
resendCases.push({
  name: "a cursor without publisher: after every publisher's event at (T, 1)",
  query: { type: "from", fromTimestamp: T, after: { timestamp: T, sequenceNumber: 1 } },
  answer: answer({ type: "from", fromTimestamp: T, after: { timestamp: T, sequenceNumber: 1 } }),
});
for (const q of [
  { type: "last", count: 2 },
  { type: "last", count: 5 },
  { type: "last", count: 2, publisher: bob },
  { type: "last", count: 4, publisher: alice },
] as Query[]) {
  resendCases.push({
    name: `last ${(q as { count: number }).count}${q.publisher ? ` of ${q.publisher === bob ? "bob" : "alice"}` : ""}`,
    query: q,
    answer: answer(q),
  });
}
const resendJson = {
  description:
    "Resend (docs/protocol.md §6.4) on a broker with maxResendEvents = 3. Store `events` in the order given (their arrival order), then send each case's query as { type: 'resend', requestId, streamId, streamPartition: 0, query }: the broker answers the frames of answer.eventHashes in that order (storage order), then { type: 'resent', count, truncated, next, gaps: [] }. Resend order is (timestamp, sequenceNumber, publisher); a truncated from/range answer holds the first 3 matching events in resend order and `next` is the cursor of its last; the same query with after: next continues. HTTP history takes the same queries as ?from=&to=&publisher=&afterTimestamp=&afterSequenceNumber=&afterPublisher= or ?last=&publisher=.",
  maxResendEvents: RESEND_MAX,
  streamId: prices,
  streamPartition: 0,
  keys: { alice, bob },
  events: arrival,
  cases: resendCases,
};

const dir = join(__dirname, "..", "..", "test-vectors");
writeFileSync(join(dir, "resend.json"), JSON.stringify(resendJson, null, 2) + "\n");
writeFileSync(join(dir, "replication.json"), JSON.stringify(replicationJson, null, 2) + "\n");
writeFileSync(join(dir, "events.json"), JSON.stringify(eventsJson, null, 2) + "\n");
writeFileSync(join(dir, "checksum.json"), JSON.stringify(checksumJson, null, 2) + "\n");
console.log(`wrote ${valid.length} valid, ${invalid.length} invalid event vectors and ${cases.length} checksum vectors to ${dir}`);
