// `npm run bench -w analytics` (BENCH_QUICK=1: 1,000 reports only): the analytics protocol's costs on
// this machine, each beside its same-run baseline and the load average.
//  - client: reports prepared (sharded + both shares sealed) per second, one thread and on worker threads;
//  - aggregation: collect() over 1,000 and 10,000 reports with leader and helper on 127.0.0.1 (both with
//    worker threads), for Prio3Sum (8 bits) and Prio3SumVec (10 x 16 bits), against the same aggregate
//    computed in plaintext;
//  - where the time goes: one report's HPKE open, leader prep and helper prep, single-threaded.
import os from "node:os";
import { randomBytes } from "node:crypto";
import { collect, encodeReports, uploadReports, PreparePool } from "../src";
import { measure } from "../src/study";
import { PrepareExecutor, type InitResponse, type ShardResponse } from "../src/prepare";
import { vdafFor, vdafParametersOf } from "../src/vdaf";
import { inputShareAad } from "../src/wire";
import { toBase64Url } from "../src/encoding";
import { open } from "../src/hpke";
import { inputShareInfo, ROLE_HELPER, ROLE_LEADER } from "../src/wire";
import { createWorld, hourStart, HOUR } from "../test/fixture";
import { CASES, SUBJECTS } from "./cases";

const quick = process.env.BENCH_QUICK === "1";
const SIZES = quick ? [1_000] : [1_000, 10_000];
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
const fmt = (x: number, d = 1) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const workers = os.availableParallelism();
  console.log(
    `analytics bench${quick ? " (quick)" : ""}: ${os.cpus().length} cpus, node ${process.version}, ${workers} worker threads per aggregator, load ${load()}`,
  );
  const summary: string[] = [];
  for (const c of CASES) {
    const parameters = vdafParametersOf(c.spec);
    // where the time goes, one thread, CPU per report (warmed up on 30 reports, then 70 timed three
    // times, the least of each part): the two
    // HPKE opens, the leader's prep_init after its open, the helper's preparation after its open
    const executor = new PrepareExecutor();
    const world = await createWorld({ subjects: SUBJECTS, workers, measurements: [c.spec], jobSize: 250 });
    try {
      const dataset = (round: number) => world.subjects.map((subjectId, i) => ({ subjectId, data: c.value(round * SUBJECTS + i) }));
      const probe = await encodeReports(dataset(0), world.study, world.decision, { time: 0 });
      const aad = (r: (typeof probe.reports)[number]) => inputShareAad(world.study.productId, r);
      const verifyKey = Buffer.from(world.verifyKey, "base64url");
      const cpuMs = async (reports: unknown[], work: () => Promise<unknown>) => {
        const before = process.cpuUsage();
        await work();
        const used = process.cpuUsage(before);
        return (used.user + used.system) / 1000 / reports.length;
      };
      const breakdown = async (reports: typeof probe.reports) => {
        const leaderOpen = await cpuMs(reports, () =>
          Promise.all(reports.map((r) => open(world.leaderKey, r.leaderShare, inputShareInfo(ROLE_LEADER), aad(r)))),
        );
        const helperOpen = await cpuMs(reports, () =>
          Promise.all(reports.map((r) => open(world.helperKey, r.helperShare, inputShareInfo(ROLE_HELPER), aad(r)))),
        );
        let init: InitResponse | undefined;
        const leader = await cpuMs(reports, async () => {
          init = (await executor.run({
            op: "leader-init",
            job: 1,
            vdaf: parameters,
            verifyKey,
            key: world.leaderKey,
            items: reports.map((r) => ({ reportId: r.reportId, publicShare: r.publicShare, ciphertext: r.leaderShare, aad: aad(r) })),
          })) as InitResponse;
        });
        const helper = await cpuMs(reports, () =>
          executor.run({
            op: "helper-prepare",
            vdaf: parameters,
            verifyKey,
            key: world.helperKey,
            items: reports.map((r, i) => ({
              reportId: r.reportId,
              publicShare: r.publicShare,
              ciphertext: r.helperShare,
              aad: aad(r),
              peerPrepShare: (init!.outcomes[i] as { value: string }).value,
            })),
          }),
        );
        executor.discard(1);
        return { open: leaderOpen + helperOpen, leader: leader - leaderOpen, helper: helper - helperOpen };
      };
      await breakdown(probe.reports.slice(0, 30));
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await breakdown(probe.reports.slice(30)));
      const cost = {
        open: Math.min(...runs.map((r) => r.open)),
        leader: Math.min(...runs.map((r) => r.leader)),
        helper: Math.min(...runs.map((r) => r.helper)),
      };
      const line = `${c.label}: one thread, CPU per report: HPKE opens (both) ${fmt(cost.open, 2)} ms, leader prep_init ${fmt(cost.leader, 2)} ms, helper prep (expand + prep_init + combine + finish) ${fmt(cost.helper, 2)} ms; total ${fmt(cost.open + cost.leader + cost.helper, 2)} ms (load ${load()})`;
      console.log(`\n${line}`);
      summary.push(line);

      // client: reports prepared per second
      const vdaf = vdafFor(parameters);
      const clientItems = Array.from({ length: 200 }, (_, i) => ({
        reportId: toBase64Url(randomBytes(16)),
        measurement: c.spec.name,
        subject: "s",
        time: 0,
        value: measure(c.spec, "s", [c.value(i)])!,
        rand: randomBytes(vdaf.randSize),
      }));
      const shardRequest = {
        op: "shard" as const,
        studyId: world.study.productId,
        vdaf: parameters,
        leader: world.leaderKey.config,
        helper: world.helperKey.config,
      };
      let t = performance.now();
      for (let i = 0; i < clientItems.length; i += 20) await executor.run({ ...shardRequest, items: clientItems.slice(i, i + 20) });
      const oneThread = clientItems.length / ((performance.now() - t) / 1000);
      const pool = new PreparePool(workers);
      await Promise.all([0, 1].map(() => pool.run<ShardResponse>({ ...shardRequest, items: clientItems.slice(0, 2) }))); // warm-up
      t = performance.now();
      await Promise.all(
        Array.from({ length: clientItems.length / 20 }, (_, i) => pool.run<ShardResponse>({ ...shardRequest, items: clientItems.slice(i * 20, i * 20 + 20) })),
      );
      const pooled = clientItems.length / ((performance.now() - t) / 1000);
      await pool.close();
      console.log(
        `${c.label}: client prepares ${fmt(oneThread)} reports/s on one thread, ${fmt(pooled)} reports/s on ${workers} worker threads (load ${load()})`,
      );
      summary.push(`${c.label}: client ${fmt(oneThread)} reports/s (1 thread), ${fmt(pooled)} reports/s (${workers} threads)`);

      const shardPool = new PreparePool(workers);
      for (const [index, size] of SIZES.entries()) {
        const start = hourStart(world, 10 + index);
        const rounds = size / SUBJECTS;
        t = performance.now();
        const values: Record<string, number>[] = [];
        for (let round = 0; round < rounds; round++) {
          const records = dataset(round);
          values.push(...records.map((r) => r.data));
          const encoded = await encodeReports(records, world.study, world.decision, { time: start, pool: shardPool });
          const answer = await uploadReports(world.study, encoded);
          if (answer.accepted !== SUBJECTS) throw new Error(`upload refused: ${JSON.stringify(answer.rejected.slice(0, 2))}`);
        }
        const shardSeconds = (performance.now() - t) / 1000;
        const loadBefore = load();
        const cpuBefore = process.cpuUsage();
        t = performance.now();
        const result = await collect(
          world.study,
          { start, duration: HOUR },
          {
            signer: world.f.buyer,
            decision: world.decision,
            chainId: world.chainId,
            market: world.market,
            now: () => world.ledger.clock.nowSeconds(),
            pollMs: 20,
          },
        );
        const aggregationSeconds = (performance.now() - t) / 1000;
        const cpu = process.cpuUsage(cpuBefore);
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        // the same aggregate in plaintext, from the same records
        t = performance.now();
        let plain: number | number[] = 0;
        for (let repeat = 0; repeat < 100; repeat++) {
          const measured = values.map((v) => measure(c.spec, "s", [v]));
          plain =
            c.spec.type === "sum"
              ? measured.reduce((a: number, m) => a + Number(m), 0)
              : (c.spec as { fields: string[] }).fields.map((_, j) => measured.reduce((a: number, m) => a + (m as number[])[j], 0));
        }
        const plainSeconds = (performance.now() - t) / 1000 / 100;
        const got = result.measurements[0];
        const exact = JSON.stringify(got.value) === JSON.stringify(plain) && got.reportCount === size;
        const line = `${c.label}, ${size.toLocaleString("en-US")} reports: aggregation ${fmt(aggregationSeconds, 2)} s wall, ${fmt(cpuSeconds, 1)} s CPU (both aggregators on loopback, one process; load before ${loadBefore}, after ${load()}); plaintext ${fmt(plainSeconds * 1000, 3)} ms; ratio ${fmt(aggregationSeconds / plainSeconds, 0)}x; exact ${exact}; clients' sharding + upload ${fmt(shardSeconds, 1)} s`;
        console.log(line);
        summary.push(line);
        if (!exact) process.exitCode = 1;
      }
      await shardPool.close();
    } finally {
      await world.close();
    }
  }
  console.log("\nsummary:");
  for (const line of summary) console.log(`  ${line}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
