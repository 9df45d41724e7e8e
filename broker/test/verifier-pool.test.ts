// Signature verification in verifier processes gives exactly the main thread's results.

import { expect } from "chai";
import { VerifierPool } from "../src/verifier/VerifierPool";
import { decodeFrame, eventHash } from "../src/wire";
import { ALICE, ALICE_KEY, MALLORY_KEY, TestPublisher, expectBrokerError } from "./helpers";

describe("VerifierPool", () => {
  let pool: VerifierPool;
  before(() => (pool = new VerifierPool(2)));
  after(() => pool.close());

  it("verifies a turn of at most 64 events in the event loop, and shares a larger one between the loop and the verifiers", async () => {
    const p = new TestPublisher(ALICE_KEY);
    const before = { ...pool.stats };
    const few = Array.from({ length: 64 }, () => p.next());
    await Promise.all(few.map((e) => pool.verify(decodeFrame(e.frame))));
    expect(pool.stats.inline - before.inline).to.equal(64);
    expect(pool.stats.offloaded - before.offloaded).to.equal(0);
    const many = Array.from({ length: 65 }, () => p.next());
    const hashes = await Promise.all(many.map((e) => pool.verify(decodeFrame(e.frame))));
    // The 16 oldest in the loop, the other 49 in the verifiers (two chunks of at most 32).
    expect(pool.stats.inline - before.inline).to.equal(64 + 16);
    expect(pool.stats.offloaded - before.offloaded).to.equal(49);
    hashes.forEach((h, i) => expect(h.equals(eventHash(many[i].canonical))).to.equal(true));
  });

  it("resolves valid events with their eventHash and refuses bad ones with INVALID_SIGNATURE, in one batch", async () => {
    const p = new TestPublisher(ALICE_KEY);
    const good = Array.from({ length: 700 }, () => p.next());
    const tampered = Buffer.from(p.next('{"x":1}').frame);
    tampered[145] ^= 1; // inside the content
    const forged = new TestPublisher(MALLORY_KEY).next("{}", { publisher: ALICE });
    const before = { ...pool.stats };
    const results = await Promise.allSettled([
      ...good.map((e) => pool.verify(decodeFrame(e.frame))),
      pool.verify(decodeFrame(tampered)),
      pool.verify(decodeFrame(forged.frame)),
    ]);
    good.forEach((e, i) => {
      const r = results[i];
      expect(r.status).to.equal("fulfilled");
      expect((r as PromiseFulfilledResult<Buffer>).value.equals(eventHash(e.canonical))).to.equal(true);
    });
    for (const r of results.slice(good.length)) {
      expect(r.status).to.equal("rejected");
      expect(((r as PromiseRejectedResult).reason as { code: string }).code).to.equal("INVALID_SIGNATURE");
    }
    // A backlog: the first turn fills both verifiers (128 events each), and every event was verified once.
    expect(pool.stats.offloaded - before.offloaded).to.be.at.least(2 * 128);
    expect(pool.stats.offloaded - before.offloaded + pool.stats.inline - before.inline).to.equal(good.length + 2);
    // A lone event (verified in the event loop) gives the same answers.
    await expectBrokerError(() => pool.verify(decodeFrame(forged.frame)), "INVALID_SIGNATURE");
    expect((await pool.verify(decodeFrame(good[0].frame))).equals(eventHash(good[0].canonical))).to.equal(true);
  });
});

describe("VerifierPool when its verifier dies", () => {
  it("verifies in the event loop instead, with the same results", async () => {
    const pool = new VerifierPool(1);
    const [pid] = pool.pids();
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 300));
    const p = new TestPublisher(ALICE_KEY);
    const events = Array.from({ length: 50 }, () => p.next());
    const hashes = await Promise.all(events.map((e) => pool.verify(decodeFrame(e.frame))));
    hashes.forEach((h, i) => expect(h.equals(eventHash(events[i].canonical))).to.equal(true));
    await pool.close();
  });
});
