// `npm run bench`: the broker's performance figures, measured in one run on this machine.
// Bounded in count and time (global limit 480 s); binds 127.0.0.1 only. Prints every figure and
// whether it reaches its bar. Publisher and subscribers run in child processes. The latency and
// fan-out bars are ratios to a same-run baseline (issue 19): a plain `ws` relay (bench/relay.ts: no
// verification, no storage) driven by the same client processes at the same rates.

import { fork, ChildProcess } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import pino from "pino";
import { DEFAULT_CONFIG, BrokerConfig } from "../src/config";
import { startBroker } from "../src/Broker";
import { cryptoBackend, ethSignedMessageHash, keccak256, keccak256Noble, recoverAddress, recoverAddressNoble } from "../src/wire";
import { EventStore } from "../src/storage/EventStore";
import { BENCH_PATHS, PUBLISHER, SUBSCRIBER, benchStream, percentile, presign } from "./common";
import { tempDirSync } from "./tmp";
import { startRelay } from "./relay";
import { freePort, spawnBroker, type BrokerChild } from "../test/process";
import { addressOfPrivateKey } from "../src/wire";
import { writeFileSync } from "node:fs";

const LIMIT_MS = 480_000;
/** `--latency`: only the latency and fan-out runs (for iterating on them). */
const LATENCY_ONLY = process.argv.includes("--latency");
/** `--replication`: only the R = 1 / R = 3 comparison. */
const REPLICATION_ONLY = process.argv.includes("--replication");
const guard = setTimeout(() => {
  console.error(`bench: exceeded ${LIMIT_MS / 1000} s, aborting`);
  process.exit(2);
}, LIMIT_MS);
guard.unref();

const results: { name: string; value: string; bar: string; ok: boolean | null }[] = [];
function record(name: string, value: string, bar = "", ok: boolean | null = null) {
  results.push({ name, value, bar, ok });
  console.log(`  ${name}: ${value}${bar ? `  (bar ${bar}: ${ok ? "reached" : "NOT reached"})` : ""}`);
}

let nextId = 1;
function call(child: ChildProcess, msg: Record<string, unknown>, timeoutMs = 60_000): Promise<any> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not answer ${msg.cmd} in ${timeoutMs} ms`)), timeoutMs);
    const onMsg = (m: any) => {
      if (m.id !== id) return;
      clearTimeout(timer);
      child.off("message", onMsg);
      if (m.ok) resolve(m);
      else reject(new Error(m.error));
    };
    child.on("message", onMsg);
    child.send({ ...msg, id });
  });
}

function spawnChild(): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // The clients are the measuring instruments: ten subscribers in one process receive 100,000
    // messages/s, and with V8's default young generation (grown from 1 MiB) that process
    // scavenged every ~20 ms, at times for 10 ms, which showed up as broker latency. A fixed 32 MiB
    // semi-space makes its collections rare. The broker runs with V8's defaults.
    const child = fork(join(__dirname, "child.ts"), [], {
      execArgv: ["--min-semi-space-size=32", "--max-semi-space-size=32", "-r", "ts-node/register/transpile-only"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (m: any) => (m.ready ? resolve(child) : reject(new Error("bad hello"))));
    child.once("error", reject);
  });
}

function rawRates() {
  console.log("raw signature verification (one core, this process):");
  const events = presign(benchStream("/bench/raw"), 20_000);
  const digests = events.map((e) => ethSignedMessageHash(keccak256(e.canonical)));
  let t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < events.length; i++) {
    const digest = ethSignedMessageHash(keccak256(events[i].canonical));
    if (!recoverAddress(digest, events[i].signature)) throw new Error("recover failed");
  }
  const native = events.length / (Number(process.hrtime.bigint() - t) / 1e9);
  const rawCpuUs = cpuUs(cpu0) / events.length;
  record(
    `keccak-256 + secp256k1 recover, ${cryptoBackend.backend}`,
    `${Math.round(native)} /s wall-clock; ${rawCpuUs.toFixed(1)} µs CPU each = ${Math.round(1e6 / rawCpuUs)} /s per core-second`,
  );
  const n = 500;
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    keccak256Noble(events[i].canonical);
    recoverAddressNoble(digests[i], events[i].signature);
  }
  const noble = n / (Number(process.hrtime.bigint() - t) / 1e9);
  record("keccak-256 + secp256k1 recover, pure-JS @noble", `${Math.round(noble)} /s`);
  return { native, rawCpuUs };
}

/** CPU time (user + system, µs) of other processes, from /proc (Linux), e.g. the broker's verifiers. */
function procCpuUs(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime in clock ticks (USER_HZ = 100)
    } catch {
      /* not Linux, or gone */
    }
  }
  return total;
}

/** Busy and total jiffies of the whole machine (Linux /proc/stat; zeros elsewhere). */
function machineJiffies(): { busy: number; total: number } {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total }; // minus idle and iowait
  } catch {
    return { busy: 0, total: 0 };
  }
}

/**
 * Time each process's main thread spent runnable but waiting for a core (ms, Linux schedstat): how
 * much the processes of the benchmark competed for the cores.
 */
function runQueueWaits(verifierPids: number[], publisherPid: number, subscribersPid: number): { name: string; waitMs: number }[] {
  const wait = (pid: number | "self") => {
    try {
      return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6;
    } catch {
      return NaN;
    }
  };
  return [
    { name: "broker event loop", waitMs: wait("self") },
    { name: "verifiers", waitMs: verifierPids.reduce((a, p) => a + wait(p), 0) },
    { name: "publisher", waitMs: wait(publisherPid) },
    { name: "subscribers", waitMs: wait(subscribersPid) },
  ];
}

/** CPU time (user + system, µs) this process used since `from`. */
function cpuUs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

async function storageRates() {
  console.log("storage (why group commit):");
  const tmp = tempDirSync("broker-bench-store-");
  const store = new EventStore({ dataDir: tmp.dir });
  store.open();
  const events = presign(benchStream("/bench/storage"), 12_000);
  const hashes = events.map((e) => keccak256(e.canonical));
  let t = process.hrtime.bigint();
  const SEQ = 2000;
  for (let i = 0; i < SEQ; i++) await store.append(events[i], hashes[i]);
  const sequential = SEQ / (Number(process.hrtime.bigint() - t) / 1e9);
  record("append + fdatasync per event (one in flight)", `${Math.round(sequential)} events/s`);
  const batchesBefore = store.stats.batches;
  t = process.hrtime.bigint();
  await Promise.all(events.slice(SEQ).map((e, i) => store.append(e, hashes[SEQ + i])));
  const grouped = (events.length - SEQ) / (Number(process.hrtime.bigint() - t) / 1e9);
  const batches = store.stats.batches - batchesBefore;
  record(
    "append with group commit (10,000 in flight)",
    `${Math.round(grouped)} events/s, ${batches} fdatasyncs (${((events.length - SEQ) / batches).toFixed(0)} events each)`,
  );
  await store.close();
  tmp.remove();
}

/**
 * Each latency run starts with this many seconds at the same rate, on the same stream and
 * connections, that are not counted: the first events of a new stream partition and connections
 * pay for JIT compilation, the new log file and socket buffers growing. The figure with them is
 * printed as well.
 */
const WARMUP_S = 1;

/** Latencies of the events from index `from` on (the warm-up before it is not counted). */
function latencies(sendTimes: number[], received: number[][], from = 0): { p50: number; p99: number; max: number; lost: number; n: number } {
  const lat: number[] = [];
  let lost = 0;
  for (const recv of received) {
    for (let i = from; i < sendTimes.length; i++) {
      if (recv[i] === 0) lost++;
      else lat.push((recv[i] - sendTimes[i]) / 1000);
    }
  }
  lat.sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], lost, n: lat.length };
}

/** Event-loop delay and GC pauses of this (the broker's) process while `run` runs. */
async function observeLoop<T>(run: () => Promise<T>): Promise<{ result: T; loop: string }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let gcMs = 0;
  let gcMax = 0;
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcs++;
      gcMs += e.duration;
      gcMax = Math.max(gcMax, e.duration);
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  h.enable();
  try {
    const result = await run();
    h.disable();
    return {
      result,
      loop: `broker event-loop delay p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(1)} ms; GC ${gcs} pauses, ${gcMs.toFixed(0)} ms total, longest ${gcMax.toFixed(1)} ms`,
    };
  } finally {
    obs.disconnect();
  }
}

/**
 * Replication's cost: the same ingress and publish -> deliver runs against one broker process (R = 1)
 * and against three broker processes replicating (R = 3, acknowledgement after 2 of 3), on this
 * machine, with the publisher and the subscriber in the bench's client processes. With R = 3 the
 * subscriber is on another broker than the publisher, so its latency includes the forwarding.
 */
async function replicationRuns(publisher: ChildProcess, subscribers: ChildProcess): Promise<void> {
  console.log("replication: R = 1 vs R = 3 (broker processes on this machine, acknowledgement after a majority):");
  const INGRESS = 20_000;
  const RATE = 1000;
  const SECONDS = 5;
  const figures: Record<number, { ingress: number; p50: number; p99: number }> = {};
  for (const R of [1, 3]) {
    const tmp = tempDirSync(`broker-bench-r${R}-`);
    const keys = Array.from({ length: R }, (_, i) => keccak256(Buffer.from(`bench-replica-${i}`)));
    const ports = await Promise.all(keys.map(async () => ({ ws: await freePort(), http: await freePort() })));
    const paths = [`/bench/r${R}-ingress`, `/bench/r${R}-latency`, `/bench/r${R}-warmup`];
    const children: BrokerChild[] = [];
    try {
      for (let i = 0; i < R; i++) {
        const file = `${tmp.dir}/broker-${i}.json`;
        writeFileSync(
          file,
          JSON.stringify({
            host: "127.0.0.1",
            wsPort: ports[i].ws,
            httpPort: ports[i].http,
            dataDir: `${tmp.dir}/data-${i}`,
            sendBudgetBytes: 64 * 1024 * 1024,
            streams: paths.map((path) => ({ creator: PUBLISHER, path, partitions: 1 })),
            access: {
              ...DEFAULT_CONFIG.access,
              maxStalenessMs: 30_000,
              static: {
                publicStreams: [],
                publishers: Object.fromEntries(paths.map((p) => [benchStream(p), [PUBLISHER]])),
                subscribers: Object.fromEntries(paths.map((p) => [benchStream(p), [SUBSCRIBER]])),
              },
            },
            chain: { mode: "off" },
            consentLedger: { kind: "off" },
            log: { level: "info" },
            replication: {
              acks: "majority",
              ackTimeoutMs: 5000,
              catchUpWaitMs: 5000,
              pageEvents: 2000,
              peers: keys.map((k, j) => ({ address: addressOfPrivateKey(k), ws: `ws://127.0.0.1:${ports[j].ws}` })).filter((_, j) => j !== i),
            },
          }),
        );
        children.push(await spawnBroker(file, { env: R > 1 ? { BROKER__CHAIN__OPERATOR_KEY: "0x" + keys[i].toString("hex") } : {} }));
      }
      const urls = ports.map((p) => `ws://127.0.0.1:${p.ws}`);
      if (R > 1) {
        // the links: every broker's /health lists its peers as linked
        const deadline = Date.now() + 15_000;
        for (;;) {
          const linked = await Promise.all(
            ports.map(
              async (p) =>
                (
                  (await (await fetch(`http://127.0.0.1:${p.http}/health`)).json()) as { replication?: { peers: { linked: boolean }[] } }
                ).replication?.peers.filter((x) => x.linked).length ?? 0,
            ),
          );
          if (linked.every((n) => n === R - 1)) break;
          if (Date.now() > deadline) throw new Error(`replication links not up: ${linked}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await call(publisher, { cmd: "prepare-publisher", wsUrl: urls[0], streamId: benchStream(paths[2]), count: 3000 });
      await call(publisher, { cmd: "blast", window: 500 });
      await call(publisher, { cmd: "prepare-publisher", wsUrl: urls[0], streamId: benchStream(paths[0]), count: INGRESS }, 120_000);
      const ingress = await call(publisher, { cmd: "blast", window: 2000 }, 120_000);
      const rate = ingress.acked / (ingress.elapsedUs / 1e6);
      const count = RATE * (WARMUP_S + SECONDS);
      await call(subscribers, { cmd: "subscribe", wsUrl: urls[R > 1 ? 1 : 0], streamId: benchStream(paths[1]), connections: 1, expected: count });
      await call(publisher, { cmd: "prepare-publisher", wsUrl: urls[0], streamId: benchStream(paths[1]), count }, 120_000);
      const sent = await call(publisher, { cmd: "paced", rate: RATE }, 60_000);
      const got = await call(subscribers, { cmd: "collect", waitMs: 5000 });
      const l = latencies(sent.sendTimes, got.received, RATE * WARMUP_S);
      figures[R] = { ingress: rate, p50: l.p50, p99: l.p99 };
      record(`R = ${R}: ingress (${INGRESS} events, 2,000 in flight)`, `${Math.round(rate)} /s (${ingress.acked} acked, ${ingress.failed} failed)`);
      record(
        `R = ${R}: publish -> deliver at ${RATE} events/s for ${SECONDS} s${R > 1 ? " (subscriber on another replica)" : ""}`,
        `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms, lost ${l.lost}`,
      );
    } finally {
      for (const c of children) c.child.kill("SIGKILL");
      tmp.remove();
    }
  }
  record(
    "R = 3 / R = 1 (same machine, same run)",
    `ingress ${(figures[3].ingress / figures[1].ingress).toFixed(2)}×, publish -> deliver p50 ${(figures[3].p50 / figures[1].p50).toFixed(2)}×, p99 ${(figures[3].p99 / figures[1].p99).toFixed(2)}×`,
  );
}

async function main() {
  console.log(`broker bench — ${cpus().length} cores (${cpus()[0]?.model}), node ${process.version}, crypto ${cryptoBackend.backend}`);
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (other work on this machine distorts wall-clock figures; CPU-time figures are shown beside them)`,
  );
  if (REPLICATION_ONLY) {
    const [publisher, subscribers] = await Promise.all([spawnChild(), spawnChild()]);
    try {
      await replicationRuns(publisher, subscribers);
    } finally {
      await Promise.allSettled([call(publisher, { cmd: "exit" }, 5000), call(subscribers, { cmd: "exit" }, 5000)]);
    }
    return printSummary();
  }
  const { native: raw, rawCpuUs } = LATENCY_ONLY ? { native: NaN, rawCpuUs: NaN } : rawRates();
  if (!LATENCY_ONLY) await storageRates();

  const tmp = tempDirSync("broker-bench-");
  const config: BrokerConfig = {
    ...structuredClone(DEFAULT_CONFIG),
    host: "127.0.0.1",
    wsPort: 0,
    httpPort: 0,
    dataDir: tmp.dir,
    streams: BENCH_PATHS.map((path) => ({ creator: PUBLISHER, path, partitions: 1 })),
    access: {
      ...DEFAULT_CONFIG.access,
      maxStalenessMs: 30_000,
      static: {
        publicStreams: [],
        publishers: Object.fromEntries(BENCH_PATHS.map((p) => [benchStream(p), [PUBLISHER]])),
        subscribers: Object.fromEntries(BENCH_PATHS.map((p) => [benchStream(p), [SUBSCRIBER]])),
      },
    },
    sendBudgetBytes: 64 * 1024 * 1024,
  };
  const broker = await startBroker(config, { logger: pino({ level: "warn" }) });
  const wsUrl = `ws://127.0.0.1:${broker.wsPort}`;
  const [publisher, subscribers] = await Promise.all([spawnChild(), spawnChild()]);
  try {
    // Warm-up (JIT, connections), not measured.
    await call(publisher, { cmd: "prepare-publisher", wsUrl, streamId: benchStream("/bench/warmup"), count: 3000 });
    await call(publisher, { cmd: "blast", window: 500 });

    if (!LATENCY_ONLY) {
      console.log("ingress (publisher in another process, events pre-signed, acknowledged after fdatasync):");
      const INGRESS = 60_000;
      const prep = await call(publisher, { cmd: "prepare-publisher", wsUrl, streamId: benchStream("/bench/ingress"), count: INGRESS }, 120_000);
      const verifierPids = broker.node.options.verifier?.pids() ?? [];
      const cpuIngress = process.cpuUsage();
      const verifierCpu0 = procCpuUs(verifierPids);
      const ingress = await call(publisher, { cmd: "blast", window: 2000 }, 120_000);
      const loopCpuUs = cpuUs(cpuIngress) / ingress.acked;
      const verifierCpuUs = (procCpuUs(verifierPids) - verifierCpu0) / ingress.acked;
      const brokerCpuUs = loopCpuUs + verifierCpuUs;
      const rate = ingress.acked / (ingress.elapsedUs / 1e6);
      record(
        "events verified, stored durably and acknowledged",
        `${Math.round(rate)} /s (${ingress.acked}/${INGRESS} acked, ${ingress.failed} failed, presigning took ${prep.presignMs} ms)`,
        "≥ 12,000/s",
        rate >= 12_000,
      );
      record("ingress / raw recover rate (wall-clock)", `${((100 * rate) / raw).toFixed(0)} %`, "≥ 70 %", rate >= 0.7 * raw);
      record(
        "broker CPU per ingested event",
        `${brokerCpuUs.toFixed(1)} µs (event loop ${loopCpuUs.toFixed(1)} + ${verifierPids.length} verifier process(es) ${verifierCpuUs.toFixed(1)}); raw recover CPU / broker CPU = ${((100 * rawCpuUs) / brokerCpuUs).toFixed(0)} %`,
      );

      console.log("resend:");
      const resend = await call(subscribers, { cmd: "resend", wsUrl, streamId: benchStream("/bench/ingress"), count: 10_000, repeat: 5 });
      const sortedRuns = [...resend.runs].sort((a: number, b: number) => a - b);
      record(
        "resend of the last 10,000 events (request to last event received)",
        `median ${sortedRuns[2].toFixed(1)} ms, max ${sortedRuns[4].toFixed(1)} ms over 5 runs (${resend.count} events)`,
        "≤ 100 ms",
        sortedRuns[2] <= 100,
      );
    }

    // One paced run against `url` (the broker or the relay): `connections` subscribers, `rate` events/s
    // for WARMUP_S + `seconds`; latencies without the warm-up, and with it.
    const pacedRun = async (url: string, streamPath: string, rate: number, seconds: number, connections: number, waitMs: number, between?: () => void) => {
      const count = rate * (WARMUP_S + seconds);
      await call(subscribers, { cmd: "subscribe", wsUrl: url, streamId: benchStream(streamPath), connections, expected: count });
      await call(publisher, { cmd: "prepare-publisher", wsUrl: url, streamId: benchStream(streamPath), count }, 120_000);
      between?.();
      const { result: sent, loop } = await observeLoop(() => call(publisher, { cmd: "paced", rate }, 60_000));
      const got = await call(subscribers, { cmd: "collect", waitMs });
      return {
        count,
        sent,
        loop,
        l: latencies(sent.sendTimes, got.received, rate * WARMUP_S),
        all: latencies(sent.sendTimes, got.received),
        achieved: count / (sent.elapsedUs / 1e6),
      };
    };
    const relay = await startRelay();
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    try {
      console.log("end-to-end latency (publisher send to subscriber receive, separate processes, loopback), broker beside the plain ws relay of the same run:");
      for (const [rate, seconds] of [
        [1000, 10],
        [5000, 8],
      ] as const) {
        const base = await pacedRun(relay.url, `/bench/relay-${rate}`, rate, seconds, 1, 5000);
        const run = await pacedRun(wsUrl, `/bench/latency-${rate}`, rate, seconds, 1, 5000);
        console.log(`    (broker run: ${run.loop})`);
        const { l, all } = run;
        record(
          `relay: ${rate} events/s for ${seconds} s after ${WARMUP_S} s of warm-up`,
          `p50 ${base.l.p50.toFixed(2)} ms, p99 ${base.l.p99.toFixed(2)} ms, max ${base.l.max.toFixed(1)} ms, lost ${base.all.lost}/${base.count}`,
        );
        record(
          `broker: ${rate} events/s for ${seconds} s after ${WARMUP_S} s of warm-up`,
          `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms, lost ${all.lost}/${run.count} (warm-up included: p99 ${all.p99.toFixed(2)} ms); absolute bar of issue 6 (p99 ≤ ${rate === 1000 ? 2 : 5} ms): ${l.p99 <= (rate === 1000 ? 2 : 5) ? "reached" : "not reached"}`,
        );
        record(
          `broker / relay at ${rate} events/s`,
          `p50 ${ratio(l.p50, base.l.p50)}, p99 ${ratio(l.p99, base.l.p99)} (${l.p99.toFixed(2)} / ${base.l.p99.toFixed(2)} ms)`,
          "p99 ≤ 2× the relay's, no loss",
          l.p99 <= 2 * base.l.p99 && all.lost === 0,
        );
      }

      console.log("fan-out (10 subscribers in another process), at the rate the plain ws relay sustains in this run:");
      // The rate: 10,000 events/s if the relay delivers it without loss (and at ≥ 95 % of the rate),
      // else the highest of 5,000 and 2,500 it does.
      const seconds = 5;
      let rate = 0;
      let base;
      for (const target of [10_000, 5_000, 2_500]) {
        base = await pacedRun(relay.url, `/bench/relay-fanout-${target}`, target, seconds, 10, 10_000);
        record(
          `relay: ${target} events/s × 10 subscribers for ${seconds} s`,
          `publish rate achieved ${Math.round(base.achieved)}/s, deliveries ${base.all.n}/${base.count * 10}, p50 ${base.l.p50.toFixed(2)} ms, p99 ${base.l.p99.toFixed(2)} ms, lost ${base.all.lost}`,
        );
        if (base.all.lost === 0 && base.achieved >= 0.95 * target) {
          rate = target;
          break;
        }
      }
      if (rate === 0 || !base) {
        record("fan-out", "the relay sustained none of 10,000, 5,000 and 2,500 events/s × 10 subscribers: no broker run", "no loss at the relay's rate", false);
      } else {
        const verifierPids = broker.node.options.verifier?.pids() ?? [];
        // Counted from the start of the paced publishing (after the subscriptions and the presigning).
        let cpu0 = process.cpuUsage();
        let verifierCpu0 = 0;
        let clientsCpu0 = [0, 0];
        let machine0 = machineJiffies();
        let waits0 = runQueueWaits(verifierPids, publisher.pid!, subscribers.pid!);
        const run = await pacedRun(wsUrl, "/bench/fanout", rate, seconds, 10, 10_000, () => {
          verifierCpu0 = procCpuUs(verifierPids);
          clientsCpu0 = [procCpuUs([publisher.pid!]), procCpuUs([subscribers.pid!])];
          machine0 = machineJiffies();
          waits0 = runQueueWaits(verifierPids, publisher.pid!, subscribers.pid!);
          cpu0 = process.cpuUsage();
        });
        console.log(`    (broker run: ${run.loop})`);
        const loopCpu = cpuUs(cpu0);
        const machine1 = machineJiffies();
        const waits = runQueueWaits(verifierPids, publisher.pid!, subscribers.pid!).map((w, i) => `${w.name} ${(w.waitMs - waits0[i].waitMs).toFixed(0)} ms`);
        const machineBusy = machine1.total > machine0.total ? (machine1.busy - machine0.busy) / (machine1.total - machine0.total) : NaN;
        const verifierCpu = procCpuUs(verifierPids) - verifierCpu0;
        const wallS = run.sent.elapsedUs / 1e6;
        record(
          "client processes during the broker's fan-out",
          `publisher ${((procCpuUs([publisher.pid!]) - clientsCpu0[0]) / 1e6 / wallS).toFixed(2)} cores, 10 subscribers ${((procCpuUs([subscribers.pid!]) - clientsCpu0[1]) / 1e6 / wallS).toFixed(2)} cores (same 2-core machine); whole machine ${(100 * machineBusy).toFixed(0)} % busy (kernel threads included); waiting for a core: ${waits.join(", ")}`,
        );
        record(
          "broker CPU during fan-out",
          `${((loopCpu + verifierCpu) / run.count).toFixed(1)} µs per published event (event loop ${(loopCpu / run.count).toFixed(1)}, verifiers ${(verifierCpu / run.count).toFixed(1)}), i.e. ${((loopCpu + verifierCpu) / 1e6 / wallS).toFixed(2)} cores busy`,
        );
        const { l, all } = run;
        record(
          `broker: ${rate} events/s × 10 subscribers for ${seconds} s after ${WARMUP_S} s of warm-up`,
          `publish rate achieved ${Math.round(run.achieved)}/s, deliveries ${all.n}/${run.count * 10}, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms, lost ${all.lost} (warm-up included: p99 ${all.p99.toFixed(2)} ms); absolute bar of issue 6 (10,000/s, p99 ≤ 10 ms, no loss): ${rate === 10_000 && l.p99 <= 10 && all.lost === 0 ? "reached" : "not reached"}`,
        );
        // The rate must have been offered too: a publisher starved of CPU sends less, and then nothing was shown.
        record(
          `broker / relay in the fan-out at ${rate} events/s`,
          `p50 ${ratio(l.p50, base.l.p50)}, p99 ${ratio(l.p99, base.l.p99)} (${l.p99.toFixed(2)} / ${base.l.p99.toFixed(2)} ms); lost ${all.lost}; offered ${Math.round(run.achieved)}/s`,
          "no loss at the relay's rate, offered at ≥ 95 % of it",
          all.lost === 0 && run.achieved >= 0.95 * rate,
        );
      }
    } finally {
      await relay.close();
    }
    await broker.close();
    if (!LATENCY_ONLY) await replicationRuns(publisher, subscribers);
  } finally {
    await Promise.allSettled([call(publisher, { cmd: "exit" }, 5000), call(subscribers, { cmd: "exit" }, 5000)]);
    await broker.close();
    tmp.remove();
  }
  printSummary();
}

function printSummary(): void {
  console.log(
    `\nload average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  console.log("summary:");
  for (const r of results) console.log(`  ${r.ok === null ? "      " : r.ok ? "[ok]  " : "[MISS]"} ${r.name}: ${r.value}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
