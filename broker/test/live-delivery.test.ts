// When live subscribers get an event (config liveDelivery): "ordered" delivers it once it is
// verified and accepted into its chain, while its fdatasync is still running; "durable" waits for
// the fdatasync. Either way the publisher's acknowledgement waits for the fdatasync, a resend
// returns durable events only (waiting for those already accepted), and a refused event is never
// delivered.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { eventHash } from "../src/wire";
import { PartitionLog } from "../src/storage/PartitionLog";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, STREAM, TestBroker, TestPublisher, expectBrokerError, sleep, startTestBroker, waitFor } from "./helpers";

/** Holds every PartitionLog fdatasync until release() is called. */
function holdSyncs(): { release: () => void; held: () => number; restore: () => void } {
  const original = PartitionLog.prototype.sync;
  let waiting: (() => void)[] = [];
  let held = 0;
  PartitionLog.prototype.sync = function (this: PartitionLog) {
    held++;
    return new Promise<void>((resolve, reject) => waiting.push(() => original.call(this).then(resolve, reject)));
  };
  return {
    release: () => {
      const w = waiting;
      waiting = [];
      for (const go of w) go();
    },
    held: () => held,
    restore: () => {
      PartitionLog.prototype.sync = original;
      for (const go of waiting) go();
    },
  };
}

describe("live delivery: ordered or durable", () => {
  let broker: TestBroker | undefined;
  let hold: ReturnType<typeof holdSyncs> | undefined;
  const clients: BrokerClient[] = [];
  const connect = async (key: Buffer) => {
    const c = await BrokerClient.connect(broker!.wsUrl);
    clients.push(c);
    await c.signIn(key);
    return c;
  };
  afterEach(async () => {
    hold?.restore();
    hold = undefined;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker?.stop();
    broker = undefined;
  });

  async function setUp(liveDelivery: "ordered" | "durable") {
    broker = await startTestBroker({ liveDelivery });
    broker.gate.grantPublish(STREAM, ALICE).grantSubscribe(STREAM, BOB);
    const pub = await connect(ALICE_KEY);
    const sub = await connect(BOB_KEY);
    const got: Buffer[] = [];
    sub.onEvent = (f) => got.push(Buffer.from(f));
    await sub.subscribe(STREAM, 0);
    hold = holdSyncs();
    return { pub, sub, got };
  }

  it('"ordered" (the default) delivers before the fdatasync, but acknowledges and answers resends only after it', async () => {
    const { pub, sub, got } = await setUp("ordered");
    expect(broker!.node.liveDelivery).to.equal("ordered");
    const p = new TestPublisher(ALICE_KEY);
    const events = [p.next('{"n":0}'), p.next('{"n":1}')];
    let acked = 0;
    const acks = events.map((e) => pub.publish(e.frame).then((a) => (acked++, a)));
    await waitFor(() => got.length === 2, 3000, "deliveries before the fdatasync");
    expect(hold!.held()).to.be.greaterThan(0);
    expect(got.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
    // A resend asked now (a subscriber filling a gap) waits for the events already delivered to
    // become durable, and then returns them: it never returns an event that is not durable.
    let resent: number | undefined;
    const resend = sub.resend(STREAM, 0, { type: "last", count: 10 }).then((r) => (resent = r.frames.length));
    await sleep(50);
    expect(acked, "no acknowledgement before the fdatasync").to.equal(0);
    expect(resent, "no resend answer before the fdatasync").to.equal(undefined);
    expect(broker!.node.store.count(STREAM, 0)).to.equal(2);
    hold!.release();
    await Promise.all(acks);
    await resend;
    expect(resent).to.equal(2);
  });

  it('"durable" delivers only after the fdatasync', async () => {
    const { pub, got } = await setUp("durable");
    const p = new TestPublisher(ALICE_KEY);
    const ack = pub.publish(p.next().frame);
    await waitFor(() => hold!.held() > 0, 3000, "the fdatasync to start");
    await sleep(50);
    expect(got, "nothing delivered while the fdatasync runs").to.have.length(0);
    hold!.release();
    await ack;
    await waitFor(() => got.length === 1, 3000, "the delivery after the fdatasync");
  });

  it('"ordered" never delivers a refused or republished event (republish, other event with a used sequence number, broken chain)', async () => {
    const { pub, got } = await setUp("ordered");
    hold!.restore();
    const p = new TestPublisher(ALICE_KEY);
    const first = p.next();
    const second = p.next();
    await pub.publish(first.frame);
    await pub.publish(second.frame);
    expect((await pub.publish(second.frame)).eventHash, "an identical republish is acknowledged").to.equal("0x" + eventHash(second.canonical).toString("hex"));
    expect((await pub.publish(first.frame)).type).to.equal("published");
    const other = new TestPublisher(ALICE_KEY);
    other.sequenceNumber = 1;
    await expectBrokerError(() => pub.publish(other.next('{"other":1}').frame), "DUPLICATE_SEQUENCE");
    await expectBrokerError(() => pub.publish(p.next("{}", { previousEventHash: "0x" + "ab".repeat(32) }).frame), "PREVIOUS_EVENT_MISMATCH");
    await sleep(50);
    expect(got.map((f) => f.toString("hex"))).to.deep.equal([first.frame.toString("hex"), second.frame.toString("hex")]);
  });
});
