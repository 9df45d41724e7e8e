// Replication within a network partition (docs/network.md §13): three brokers in one process on a
// static assignment (R = 3) with operator keys. Forwarding and w-of-R acknowledgements, catch-up of
// a restarted replica, holes and gap notices, chain continuation after a publisher's failover,
// idempotent republishes and the chain-tip query.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { addressOfPrivateKey, keccak256 } from "../src/wire";
import { decodeFrame, eventHash } from "../src/wire";
import { StaticPartitionAssignment, type BrokerEndpoint } from "../src/network/PartitionAssignment";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, STREAM, TestPublisher, expectBrokerError, startTestBroker, tempDir, waitFor, type TestBroker } from "./helpers";

const KEYS = ["replica-a", "replica-b", "replica-c"].map((s) => keccak256(Buffer.from(s)));
const ADDRESSES = KEYS.map((k) => addressOfPrivateKey(k));

describe("replication within a partition (R = 3, in process)", function () {
  this.timeout(30_000);
  const dirs = KEYS.map(() => tempDir("broker-replica-"));
  const others = new Map<number, BrokerEndpoint[]>();
  const brokers: (TestBroker | undefined)[] = [undefined, undefined, undefined];
  const clients: BrokerClient[] = [];

  const setPeers = () => {
    others.set(
      0,
      brokers.map((b, i) => ({ address: ADDRESSES[i], ws: b ? b.wsUrl : "ws://127.0.0.1:9", http: "" })),
    );
  };
  async function start(i: number, overrides: Record<string, unknown> = {}): Promise<TestBroker> {
    const assignment = new StaticPartitionAssignment(() => 0, new Set([0]), others);
    const b = await startTestBroker(
      {
        chain: {
          mode: "off",
          rpcUrl: "http://127.0.0.1:8545",
          deployment: "",
          pollMs: 250,
          operatorKey: "0x" + KEYS[i].toString("hex"),
          operatorAddress: "",
          contractSubscribers: false,
        },
        verifyThreads: 0,
        ...overrides,
      },
      assignment,
      dirs[i].dir,
    );
    b.gate.grantPublish(STREAM, ALICE);
    b.gate.grantSubscribe(STREAM, BOB);
    brokers[i] = b;
    setPeers();
    return b;
  }
  async function connect(b: TestBroker, key: Buffer): Promise<BrokerClient> {
    const c = await BrokerClient.connect(b.wsUrl);
    await c.signIn(key);
    clients.push(c);
    return c;
  }
  const linked = (i: number) => (brokers[i]?.replicator?.status().peers ?? []).filter((p) => p.linked).length;

  before(async () => {
    for (let i = 0; i < 3; i++) await start(i);
    await waitFor(() => [0, 1, 2].every((i) => linked(i) === 2), 5000, "every replica linked to the two others");
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const b of brokers) await b?.close().catch(() => undefined);
    for (const d of dirs) d.remove();
  });

  const p = new TestPublisher(ALICE_KEY);

  it("forwards a published event to the other replicas, which deliver it live; the ack waits for a majority", async () => {
    const sub = await connect(brokers[1]!, BOB_KEY);
    const got: Buffer[] = [];
    sub.onEvent = (f) => got.push(f);
    await sub.subscribe(STREAM, 0);
    const pub = await connect(brokers[0]!, ALICE_KEY);
    for (let i = 0; i < 20; i++) await pub.publish(p.next().frame);
    // acknowledged: durable here and on at least one other replica
    expect(brokers[0]!.node.store.count(STREAM, 0)).to.equal(20);
    expect(Math.max(brokers[1]!.node.store.count(STREAM, 0), brokers[2]!.node.store.count(STREAM, 0))).to.equal(20);
    await waitFor(() => got.length === 20 && brokers[2]!.node.store.count(STREAM, 0) === 20, 3000, "both replicas");
    expect(got.map((f) => decodeFrame(f).sequenceNumber)).to.deep.equal([...Array(20).keys()]);
    expect(brokers[0]!.replicator!.required(0)).to.equal(2);
  });

  it("acknowledges an identical republish without storing or delivering it twice, and refuses another event with a used sequence number", async () => {
    const pub = await connect(brokers[2]!, ALICE_KEY);
    const tip = await pub.chainTip(STREAM, 0);
    expect((tip.tip as { sequenceNumber: number }).sequenceNumber).to.equal(19);
    const again = await brokers[0]!.node.store.resend(STREAM, 0, { type: "last", count: 1 });
    const reply = await pub.publish(again.frames[0]);
    expect(reply.eventHash).to.equal("0x" + eventHash(decodeFrame(again.frames[0]).canonical).toString("hex"));
    expect(brokers[2]!.node.store.count(STREAM, 0)).to.equal(20);
    const fork = new TestPublisher(ALICE_KEY);
    fork.sequenceNumber = 19;
    fork.previousEventHash = decodeFrame((await brokers[0]!.node.store.resend(STREAM, 0, { type: "last", count: 2 })).frames[0]).previousEventHash;
    await expectBrokerError(() => pub.publish(fork.next('{"fork":1}').frame), "DUPLICATE_SEQUENCE");
  });

  it("a restarted replica catches up what it missed, fills the hole live replication opened, and its checksum agrees", async () => {
    await brokers[2]!.close();
    brokers[2] = undefined;
    setPeers();
    const pub = await connect(brokers[0]!, ALICE_KEY);
    for (let i = 0; i < 30; i++) await pub.publish(p.next().frame);
    await start(2);
    // live events during the catch-up open a hole at C (its tip is older), which the catch-up fills
    for (let i = 0; i < 10; i++) await pub.publish(p.next().frame);
    await waitFor(
      () => brokers[2]!.node.store.count(STREAM, 0) === 60 && brokers[2]!.replicator!.catchingUpPartitions().length === 0,
      10_000,
      "C to hold all 60 events",
    );
    await waitFor(() => brokers[2]!.node.store.holesOf(STREAM, 0).length === 0, 3000, "the hole closed");
    // every event of the run falls in the current epoch or the one before; the restarted replica's
    // checksums of both agree with its peers' once its caught-up events are durable
    const epochNow = brokers[0]!.epochs.closedBefore(Date.now() + 30_000, 30_000);
    const sums = () => brokers.map((b) => [epochNow - 1, epochNow].map((e) => b!.epochs.report(e, 0)));
    await waitFor(() => JSON.stringify(sums()[2]) === JSON.stringify(sums()[0]), 3000, "C's checksums to agree with A's");
    expect(sums()[2]).to.deep.equal(sums()[0]);
    expect(sums()[1]).to.deep.equal(sums()[0]);
    expect(sums()[0][0].count + sums()[0][1].count).to.equal(60);
    const sub = await connect(brokers[2]!, BOB_KEY);
    const r = await sub.resend(STREAM, 0, { type: "from", fromTimestamp: 0, publisher: ALICE });
    expect(r.frames.length).to.equal(60);
    expect(r.gaps).to.deep.equal([]);
  });

  it("accepts a continuation of events it lacks once fetched from a peer (the publisher failed over)", async () => {
    // C alone misses two events (its link is cut while they are published), then the publisher moves to C.
    await brokers[2]!.close();
    brokers[2] = undefined;
    setPeers();
    const pubA = await connect(brokers[0]!, ALICE_KEY);
    await pubA.publish(p.next().frame);
    await pubA.publish(p.next().frame);
    const restarted = await start(2, { replication: { acks: "majority", ackTimeoutMs: 5000, catchUpWaitMs: 0, pageEvents: 2000, peers: [] } });
    const pubC = await connect(restarted, ALICE_KEY);
    await waitFor(() => linked(2) === 2, 5000, "C linked");
    const reply = await pubC.publish(p.next().frame);
    expect(reply.type).to.equal("published");
    await waitFor(() => restarted.node.store.count(STREAM, 0) === 63, 5000, "C to hold the continuation and what it links to");
  });

  it("says in a resend which events of a chain it is missing when no replica can provide them", async () => {
    // a hole no replica can fill: events forwarded by a peer whose predecessors exist nowhere
    const lonely = new TestPublisher(BOB_KEY);
    const first = lonely.next();
    lonely.next(); // never published anywhere
    const third = lonely.next();
    brokers[0]!.gate.grantPublish(STREAM, BOB);
    const peerLink = await BrokerClient.connect(brokers[1]!.wsUrl);
    clients.push(peerLink);
    await peerLink.signIn(KEYS[0]);
    await peerLink.replicate(first.frame);
    await peerLink.replicate(third.frame);
    const sub = await connect(brokers[1]!, BOB_KEY);
    const r = await sub.resend(STREAM, 0, { type: "from", fromTimestamp: 0, publisher: BOB });
    expect(r.frames.length).to.equal(2);
    expect(r.gaps).to.have.length(1);
    expect(r.gaps).to.deep.include({
      reason: "MISSING_EVENTS",
      publisher: BOB,
      fromSequence: 0,
      toSequence: 2,
      fromTimestamp: first.timestamp,
      toTimestamp: third.timestamp,
    });
  });

  it("a broker newly assigned the partition while running fetches everything its peers hold", async () => {
    const key = keccak256(Buffer.from("replica-d"));
    const dir = tempDir("broker-replica-");
    const mine = new Set<number>();
    const d = await startTestBroker(
      {
        chain: {
          mode: "off",
          rpcUrl: "http://127.0.0.1:8545",
          deployment: "",
          pollMs: 250,
          operatorKey: "0x" + key.toString("hex"),
          operatorAddress: "",
          contractSubscribers: false,
        },
        verifyThreads: 0,
      },
      new StaticPartitionAssignment(() => 0, mine, others),
      dir.dir,
    );
    try {
      // what the three hold together (B alone holds two events of another test's publisher)
      const held = Math.max(...brokers.map((b) => b!.node.store.count(STREAM, 0)));
      expect(d.node.store.count(STREAM, 0)).to.equal(0);
      // the coordinator assigns it: it becomes the partition's fourth assignee
      others.set(0, [...others.get(0)!, { address: addressOfPrivateKey(key), ws: d.wsUrl, http: "" }]);
      mine.add(0);
      await waitFor(
        () =>
          d.node.store.count(STREAM, 0) === held &&
          d.node.store.chainTip(STREAM, 0, ALICE)?.eventHash === brokers[0]!.node.store.chainTip(STREAM, 0, ALICE)?.eventHash,
        10_000,
        "the new assignee to hold every event",
      );
      expect(d.replicator!.required(0)).to.equal(3); // a majority of 4
    } finally {
      setPeers();
      await d.close();
      dir.remove();
    }
  });

  it("refuses replica-to-replica requests from an address that is not another assignee", async () => {
    const c = await connect(brokers[0]!, BOB_KEY);
    await expectBrokerError(() => c.replicate(p.next().frame), "NOT_A_REPLICA");
    await expectBrokerError(() => c.sync({ networkPartition: 0, fromTimestamp: 0, maxEvents: 10, cursor: null }), "NOT_A_REPLICA");
    p.sequenceNumber--; // that event was never stored
  });
});

describe("replication messages (test-vectors/replication.json)", function () {
  this.timeout(20_000);
  it("are answered by a broker as the vectors say", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const V = require("../../test-vectors/replication.json");
    const frame = Buffer.from(V.forward.frameHex.slice(2), "hex");
    const event = decodeFrame(frame);
    const dirs = [tempDir("broker-vectors-"), tempDir("broker-vectors-")];
    const peers = new Map<number, BrokerEndpoint[]>([
      [
        0,
        [
          { address: ADDRESSES[0], ws: "ws://127.0.0.1:9", http: "" },
          { address: ADDRESSES[1], ws: "ws://127.0.0.1:9", http: "" },
        ],
      ],
    ]);
    const started: TestBroker[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        started.push(
          await startTestBroker(
            {
              chain: {
                mode: "off",
                rpcUrl: "http://127.0.0.1:8545",
                deployment: "",
                pollMs: 250,
                operatorKey: "0x" + KEYS[i].toString("hex"),
                operatorAddress: "",
                contractSubscribers: false,
              },
              verifyThreads: 0,
            },
            new StaticPartitionAssignment(() => 0, new Set([0]), peers),
            dirs[i].dir,
          ),
        );
      }
      const b = started[1];
      const link = await BrokerClient.connect(b.wsUrl);
      await link.signIn(KEYS[0]);
      const replies: Record<string, unknown>[] = [];
      link.onNotice = (n) => void replies.push(n);
      // the vector's raw bytes, with the request id it names (9)
      link.sendRaw(Buffer.from(V.forward.messageHex.slice(2), "hex"));
      await waitFor(() => replies.length === 1, 3000, "the replicated reply");
      expect(replies[0]).to.deep.equal(V.forward.reply);
      const { type: _t, requestId: _r, ...query } = V.sync.request;
      void _t;
      void _r;
      const page = await link.sync(query);
      expect(page.frames.map((f) => "0x" + f.toString("hex"))).to.deep.equal([V.forward.frameHex]);
      expect({ count: page.count, next: page.next }).to.deep.equal({ count: V.sync.reply.count, next: V.sync.reply.next });
      link.sendRaw(JSON.stringify(V.chainTip.request));
      await waitFor(() => replies.length === 2, 3000, "the chain tip");
      expect(replies[1]).to.deep.equal(V.chainTip.reply);
      expect(event.sequenceNumber).to.equal(V.chainTip.reply.tip.sequenceNumber);
      await link.close();
    } finally {
      for (const b of started) await b.close();
      for (const d of dirs) d.remove();
    }
  });
});
