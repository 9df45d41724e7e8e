// Bench: the speed bars of failover in a replicated broker network (issue 20), measured on the scenario of
// test/failover.test.ts (three `broker start` processes, R = 3, a publisher at 50 events/s, a subscriber
// through the coordinator). The test checks the behaviour with liveness bounds; this reports the bars:
//   - a subscriber's longest gap between deliveries in the 3 s after kill -9 of its broker: <= 1 s
//   - a publisher's longest wait between acknowledgements in the 3 s after kill -9 of its broker: <= 1 s
//   - a restarted broker holds every acknowledged event within 10 s of listening
//   - on a frozen chain node, once the gate is stale, each publish is refused (CHAIN_UNAVAILABLE) in <= 500 ms
// Baseline of the same run: the median publish round trip (publish to acknowledgement) before any fault.
// Run: npm run bench:failover -w sdk (part of npm run bench -w sdk); ROUNDS=n kill rounds (default 3).
import os from "node:os";
import { FailoverScenario, maxGap, sleep, until } from "../test/failover-harness";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const WINDOW_MS = 3000;
const BARS = { subscriberGapMs: 1000, publisherGapMs: 1000, catchUpMs: 10_000, refusalMs: 500 };

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const verdict = (worst: number, bar: number) => (worst <= bar ? "MET" : "NOT MET");

async function main(): Promise<void> {
  const s = new FailoverScenario();
  const subscriberGaps: number[] = [];
  const publisherGaps: number[] = [];
  const catchUps: number[] = [];
  try {
    await s.setup((line) => console.log(line));
    console.log(`load average at the start: ${load()} on ${os.cpus().length} cores`);
    // baseline: publish round trips one at a time, before any fault
    const roundTrips: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await s.publishOne();
      roundTrips.push(performance.now() - t);
    }
    s.startLoad();
    await until(() => s.acked.length >= 100, "a second of events", 30_000);
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of ["subscriber", "publisher"] as const) {
        const victim = s.brokerOf(side === "subscriber" ? s.subscriber : s.publisher);
        if (!victim) throw new Error(`the ${side} has no broker`);
        const { killedAt } = s.kill(victim);
        await sleep(WINDOW_MS);
        const times = side === "subscriber" ? s.received.map((r) => r.at) : s.acked.map((a) => a.at);
        const gap = maxGap(times, killedAt, killedAt + WINDOW_MS);
        (side === "subscriber" ? subscriberGaps : publisherGaps).push(gap);
        const catchUp = await s.restart(victim, 120_000);
        catchUps.push(catchUp);
        console.log(
          `round ${round + 1}, kill -9 of the ${side}'s broker ${victim.index}: gap ${gap} ms; restarted, held every event ${catchUp} ms after listening (load ${load()})`,
        );
      }
    }
    await s.stopLoad();
    if (s.publishErrors.length) throw new Error(`publishes failed: ${s.publishErrors.map((e) => e.code).join(", ")}`);
    await s.checkDelivery(60_000);
    // a frozen chain: once the gate is stale, 100 publishes one after another, each timed
    const { attempts } = await s.publishWhileFrozen(100, 120_000);
    // let the brokers read the chain again before the network is stopped
    await s.unfreeze(60_000);
    const refusals = attempts.filter((a) => a.code === "CHAIN_UNAVAILABLE").map((a) => a.ms);
    if (refusals.length !== attempts.length)
      throw new Error(`unexpected errors on a frozen chain: ${JSON.stringify(attempts.filter((a) => a.code !== "CHAIN_UNAVAILABLE").slice(0, 3))}`);

    const worst = (xs: number[]) => Math.max(...xs);
    console.log("\nsummary:");
    console.log(`baseline: publish round trip before any fault, median ${median(roundTrips).toFixed(1)} ms over ${roundTrips.length}`);
    console.log(
      `subscriber's gap after kill -9 of its broker: worst ${worst(subscriberGaps)} ms, median ${median(subscriberGaps)} ms over ${subscriberGaps.length}; bar <= ${BARS.subscriberGapMs} ms: ${verdict(worst(subscriberGaps), BARS.subscriberGapMs)}`,
    );
    console.log(
      `publisher's gap after kill -9 of its broker: worst ${worst(publisherGaps)} ms, median ${median(publisherGaps)} ms over ${publisherGaps.length}; bar <= ${BARS.publisherGapMs} ms: ${verdict(worst(publisherGaps), BARS.publisherGapMs)}`,
    );
    console.log(
      `restarted broker's catch-up: worst ${worst(catchUps)} ms, median ${median(catchUps)} ms over ${catchUps.length}; bar <= ${BARS.catchUpMs} ms: ${verdict(worst(catchUps), BARS.catchUpMs)}`,
    );
    console.log(
      `refusal on a frozen chain (CHAIN_UNAVAILABLE): worst ${worst(refusals)} ms, median ${median(refusals)} ms over ${refusals.length}; bar <= ${BARS.refusalMs} ms: ${verdict(worst(refusals), BARS.refusalMs)}`,
    );
    console.log(`catch-up resends refused by a stale gate (ACCESS_GATE_UNAVAILABLE) and asked again: ${s.staleResends}`);
    console.log(`load average at the end: ${load()} on ${os.cpus().length} cores`);
  } finally {
    await s.teardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
