// A subscriber that stops reading must not make the broker buffer without bound: past its send
// budget it gets SEND_BUDGET_EXCEEDED and is disconnected, while others keep receiving.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, MALLORY, MALLORY_KEY, STREAM, TestBroker, TestPublisher, startTestBroker, waitFor } from "./helpers";

describe("send budget (backpressure)", () => {
  let broker: TestBroker;
  const BUDGET = 256 * 1024;
  const clients: BrokerClient[] = [];
  before(async () => {
    // Verification in the event loop: this test measures the delivery path's memory, not the verifier's IPC.
    broker = await startTestBroker({ maxContentBytes: 64 * 1024, sendBudgetBytes: BUDGET, verifyThreads: 0 });
    broker.gate.grantPublish(STREAM, ALICE).grantSubscribe(STREAM, BOB).grantSubscribe(STREAM, MALLORY);
  });
  after(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await broker.stop();
  });

  it("disconnects a stalled subscriber at its budget, keeps memory bounded, and keeps serving the others", async function () {
    this.timeout(60_000);
    const pub = await BrokerClient.connect(broker.wsUrl);
    const stalled = await BrokerClient.connect(broker.wsUrl);
    const healthy = await BrokerClient.connect(broker.wsUrl);
    clients.push(pub, stalled, healthy);
    await pub.signIn(ALICE_KEY);
    await stalled.signIn(MALLORY_KEY);
    await healthy.signIn(BOB_KEY);
    await stalled.subscribe(STREAM, 0);
    await healthy.subscribe(STREAM, 0);
    let healthyCount = 0;
    healthy.onEvent = () => healthyCount++;
    const [stalledSession] = [...broker.ws.sessions].filter((s) => s.address === MALLORY);
    // Stop reading on the stalled client: the kernel buffers fill, then the broker's would.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const p = new TestPublisher(ALICE_KEY);
    const content = Buffer.alloc(16 * 1024, 7);
    const EVENTS = 2000; // 32 MiB pushed towards the stalled subscriber
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakExternal = 0;
    let peakHeap = 0;
    for (let i = 0; i < EVENTS; i += 20) {
      await Promise.all(Array.from({ length: 20 }, () => pub.publish(p.next(content, { contentType: 0 }).frame)));
      if (i % 100 !== 0) continue;
      global.gc?.(); // measure what is retained, not garbage awaiting collection
      const m = process.memoryUsage();
      peakExternal = Math.max(peakExternal, m.arrayBuffers - baseline.arrayBuffers);
      peakHeap = Math.max(peakHeap, m.heapUsed - baseline.heapUsed);
    }
    await waitFor(() => healthyCount === EVENTS, 20_000, "healthy deliveries");
    const disconnects = (await broker.node.metrics.disconnects.get()).values.find((v) => v.labels.reason === "SEND_BUDGET_EXCEEDED");
    expect(disconnects?.value).to.equal(1);
    expect(broker.ws.sessions.has(stalledSession) ? (stalledSession as unknown as { closed: boolean }).closed : true).to.equal(true);
    expect(stalledSession.maxBuffered).to.be.at.most(BUDGET);
    expect(broker.node.subscriptionCount()).to.equal(1);
    // 32 MiB went out; what the process retained at any sample stayed far below that.
    console.log(
      `      peak growth: external ${(peakExternal / 1048576).toFixed(1)} MiB, heap ${(peakHeap / 1048576).toFixed(1)} MiB (32 MiB published; budget ${BUDGET / 1024} KiB)`,
    );
    expect(peakExternal).to.be.lessThan(8 * 1024 * 1024);
  });

  it("paces a resend larger than the budget instead of cutting a client that reads", async function () {
    this.timeout(60_000);
    const pub = await BrokerClient.connect(broker.wsUrl);
    const reader = await BrokerClient.connect(broker.wsUrl);
    clients.push(pub, reader);
    await pub.signIn(ALICE_KEY);
    await reader.signIn(BOB_KEY);
    const p = new TestPublisher(ALICE_KEY, STREAM, 1);
    const events = Array.from({ length: 400 }, () => p.next(Buffer.alloc(16 * 1024, 5), { contentType: 0 }));
    for (let i = 0; i < events.length; i += 20) await Promise.all(events.slice(i, i + 20).map((e) => pub.publish(e.frame)));
    // 6.4 MiB through a 256 KiB budget, to a client that reads only after a pause.
    const socket = (reader.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    const pending = reader.resend(STREAM, 1, { type: "last", count: 400 });
    socket.pause();
    await new Promise((r) => setTimeout(r, 500));
    socket.resume();
    const r = await pending;
    const [session] = [...broker.ws.sessions].filter((x) => x.address === BOB && x.resendWaits > 0);
    expect(session, "the resend waited for the client at least once").to.not.equal(undefined);
    expect(session.maxBuffered).to.be.at.most(BUDGET);
    expect(r.count).to.equal(400);
    expect(r.frames.map((f) => f.toString("hex"))).to.deep.equal(events.map((e) => e.frame.toString("hex")));
  });
});
