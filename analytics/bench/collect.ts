// One study, N reports of one case, collected R times in the same world (the first collection warms up
// the worker threads' JIT): wall and CPU seconds of each collection, with the load average. For A/B runs
// and profiles of the aggregation path, e.g.
//   npx ts-node --transpile-only bench/collect.ts sum 2000            (REPEAT=3, WORKERS=2 by default)
//   WORKERS=0 node --cpu-prof -r ts-node/register/transpile-only bench/collect.ts sum 2000
// (WORKERS=0: every role and all preparation on the main thread, so one profile holds everything.)
// On Linux it also prints the scheduler's view of this process's threads (main, workers, libuv pool,
// V8's GC helpers) during the collection: seconds on a core and seconds runnable but waiting for one.
// run + wait well above 2 x wall means the cores were never idle for want of work: a wall time above
// CPU / 2 is then contention (our threads and the machine's other load), not a stalled pipeline.
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { collect, encodeReports, uploadReports, PreparePool } from "../src";
import { createWorld, hourStart, HOUR } from "../test/fixture";
import { CASES, SUBJECTS } from "./cases";

/** Seconds this process's threads ran and waited runnable for a core (/proc/self/task/N/schedstat), or null. */
function schedulerSeconds(): { run: number; wait: number } | null {
  try {
    let run = 0;
    let wait = 0;
    for (const task of readdirSync("/proc/self/task")) {
      try {
        const [r, w] = readFileSync(`/proc/self/task/${task}/schedstat`, "utf8").split(" ").map(Number);
        run += r / 1e9;
        wait += w / 1e9;
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return { run, wait };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const [kind = "sum", count = "2000"] = process.argv.slice(2);
  const c = CASES.find((x) => x.key === kind);
  const reports = Number(count);
  if (!c || !Number.isInteger(reports / SUBJECTS) || reports <= 0) throw new Error(`usage: collect.ts sum|sumvec N (N a multiple of ${SUBJECTS})`);
  const world = await createWorld({
    subjects: SUBJECTS,
    workers: Number(process.env.WORKERS ?? os.availableParallelism()),
    measurements: [c.spec],
    jobSize: 250,
  });
  try {
    const pool = new PreparePool();
    const start = hourStart(world, 10);
    let t = performance.now();
    for (let round = 0; round < reports / SUBJECTS; round++) {
      const records = world.subjects.map((subjectId, i) => ({ subjectId, data: c.value(round * SUBJECTS + i) }));
      await uploadReports(world.study, await encodeReports(records, world.study, world.decision, { time: start, pool }));
    }
    await pool.close();
    console.log(`${kind}: ${reports} reports sharded and uploaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (let repeat = 0; repeat < Number(process.env.REPEAT ?? 3); repeat++) {
      const load = os.loadavg()[0].toFixed(2);
      const sched = schedulerSeconds();
      const cpu = process.cpuUsage();
      t = performance.now();
      // a later issuedAt each time: a new collection job over the same reports
      const result = await collect(
        world.study,
        { start, duration: HOUR },
        {
          signer: world.f.buyer,
          decision: world.decision,
          chainId: world.chainId,
          market: world.market,
          now: () => world.ledger.clock.nowSeconds() + repeat,
          pollMs: 20,
        },
      );
      const used = process.cpuUsage(cpu);
      const sched1 = schedulerSeconds();
      const wall = (performance.now() - t) / 1000;
      console.log(
        `${kind} x${reports}, collection ${repeat + 1}: ${wall.toFixed(2)} s wall, ${((used.user + used.system) / 1e6).toFixed(1)} s CPU, load ${load}; ${result.measurements[0].reportCount} reports`,
      );
      if (sched && sched1) {
        const waited = sched1.wait - sched.wait;
        console.log(
          `  threads: ${(sched1.run - sched.run).toFixed(1)} s on a core, ${waited.toFixed(1)} s runnable waiting for one (${((sched1.run - sched.run + waited) / wall).toFixed(1)} runnable on average)`,
        );
      }
    }
  } finally {
    await world.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
