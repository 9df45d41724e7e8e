// `npm run bench [-- --quick]`: runs every benchmark of the repository, one after the other, and
// writes a report under bench/results/<UTC date-time>/: report.json (machine, load, every figure
// with its runs) and README.md with SVG charts (vega-lite, rendered in node) of cost against scale.
//   1. contracts' gas: every scenario of gas/*.gas.ts (deterministic: one run)
//   2. consent ledger: decisions/s and dataset request time against dataset size (npm run bench -w consent-ledger)
//   3. SDK: rekey time against recipients (npm run bench:rekey -w sdk), and failover under kill -9 and a
//      frozen chain, each bar met or not (npm run bench:failover -w sdk)
//   4. broker: ingress, resend, latency, fan-out (npm run bench -w broker; full mode only, ~5 min)
//   5. the whole dual-gateway flow on the embedded defaults, buyers 1 -> 100, and 100 buyers sustained
//      (demo/bench/flow.ts), on Hardhat's node, then on anvil with 2 s blocks beside the block-gas bound
//   6. analytics: Prio3 client and aggregation over 1,000 / 10,000 reports (npm run bench -w analytics)
//   7. identity: SD-JWT VC presentations verified/s and onboarding time (npm run bench -w identity)
//   8. broker vouchers: payment vouchers checked/s on one core beside the raw recovery rate (npm run bench:vouchers -w broker)
//   9. portal: the JavaScript each page ships, gzip, first load and with its on-demand code (npm run bench -w @datamarket/portal)
// Each step is bounded in time; a step that fails or times out is recorded as failed, the rest go on.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const quick = process.argv.includes("--quick");
const stamp = new Date().toISOString().replace(/[:]/g, "").replace(/\..*/, "Z");
const OUT_DIR = path.join(ROOT, "bench", "results", `${stamp}${quick ? "-quick" : ""}`);

interface Spread {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  n: number;
}
function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: mid, p25: q(0.25), p75: q(0.75), min: s[0], max: s[s.length - 1], n: s.length };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(os.freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg().map((l) => +l.toFixed(2)),
  };
}

/** Runs a command (bounded), echoes its output indented, returns stdout. */
function run(
  label: string,
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs: number },
): Promise<{ ok: boolean; stdout: string; seconds: number; error?: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    console.log(
      `\n▶ ${label}: ${command} ${args.join(" ")}${
        options.env
          ? ` (${Object.entries(options.env)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")})`
          : ""
      }`,
    );
    const child = spawn(command, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    const echo = (chunk: Buffer) =>
      process.stdout.write(
        chunk
          .toString()
          .split("\n")
          .filter((l) => l && !l.includes("nodedir"))
          .map((l) => `    ${l}\n`)
          .join(""),
      );
    child.stdout!.on("data", (c: Buffer) => {
      stdout += c.toString();
      echo(c);
    });
    child.stderr!.on("data", echo);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
    }, options.timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      resolve({
        ok: code === 0,
        stdout,
        seconds,
        error: code === 0 ? undefined : signal ? `killed (${signal}) after ${seconds.toFixed(0)} s` : `exit code ${code}`,
      });
    });
  });
}

/** The lines after a step's last "summary:" line. */
function summaryLines(stdout: string): string[] {
  return stdout
    .slice(stdout.lastIndexOf("summary:"))
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter(Boolean);
}

// ---------------------------------------------------------------------------------------------------
// Charts: vega-lite specs compiled and rendered to SVG in node (vega and vega-lite are ESM: loaded with
// a real dynamic import, which TypeScript's CommonJS output would otherwise turn into require).
const esm = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<any>;
async function svg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await Promise.all([esm("vega"), esm("vega-lite")]);
  const compiled = vl.compile({ $schema: "https://vega.github.io/schema/vega-lite/v6.json", background: "white", ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  return view.toSVG();
}

function lineWithBand(title: string, data: object[], x: { field: string; title: string; log?: boolean }, y: { title: string }, color?: string) {
  const enc = (field: string) => ({ field, type: "quantitative" });
  const xEnc = { ...enc(x.field), title: x.title, ...(x.log ? { scale: { type: "log" } } : {}) };
  const colorEnc = color ? { color: { field: color, type: "nominal", title: color } } : {};
  return {
    title,
    width: 480,
    height: 260,
    data: { values: data },
    layer: [
      { mark: { type: "area", opacity: 0.2 }, encoding: { x: xEnc, y: { ...enc("low"), title: y.title }, y2: { field: "high" }, ...colorEnc } },
      { mark: { type: "line", point: true }, encoding: { x: xEnc, y: { ...enc("median"), title: y.title }, ...colorEnc } },
    ],
  };
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
  const report: Record<string, any> = { startedAt: new Date().toISOString(), mode: quick ? "quick" : "full", machineAtStart: machine(), steps: {} };
  console.log(
    `Benchmarks (${report.mode}) — ${report.machineAtStart.cpus} cpus (${report.machineAtStart.cpuModel}), ${report.machineAtStart.memoryGiB} GiB, node ${process.version}, load ${report.machineAtStart.loadAverage.join(" ")}`,
  );
  console.log(`Report: ${path.relative(ROOT, OUT_DIR)}`);

  // 1. gas
  const gasFile = path.join(tmp, "gas.json");
  const gas = await run("contracts' gas (gas/*.gas.ts)", "npx", ["hardhat", "run", "bench/gas.ts"], { env: { BENCH_GAS_OUT: gasFile }, timeoutMs: 600_000 });
  report.steps.gas = { ok: gas.ok, seconds: gas.seconds, error: gas.error, runs: 1, operations: gas.ok ? JSON.parse(fs.readFileSync(gasFile, "utf8")) : {} };

  // 2. consent ledger: several runs, parsed
  const consentRuns = quick ? 2 : 3;
  const sizes = quick ? "100,1000" : "100,1000,5000";
  const consent = { decisionsPerSecond: [] as number[], requestMs: {} as Record<string, number[]>, ok: true, errors: [] as string[] };
  for (let i = 0; i < consentRuns; i++) {
    const r = await run(`consent ledger run ${i + 1}/${consentRuns}`, "npm", ["run", "bench", "-w", "consent-ledger"], {
      env: { BENCH_SIZES: sizes, BENCH_DECISIONS: quick ? "60" : "150" },
      timeoutMs: 300_000,
    });
    if (!r.ok) {
      consent.ok = false;
      consent.errors.push(r.error!);
      continue;
    }
    const d = /submitted one at a time.*= (\d+) decisions\/s/.exec(r.stdout);
    if (d) consent.decisionsPerSecond.push(Number(d[1]));
    for (const m of r.stdout.matchAll(/dataset of (\d+) subjects .*?: request (\d+) ms/g)) (consent.requestMs[m[1]] ??= []).push(Number(m[2]));
  }
  report.steps.consent = {
    ...consent,
    runs: consentRuns,
    decisionsPerSecondSpread: consent.decisionsPerSecond.length ? spread(consent.decisionsPerSecond) : null,
    requestMsSpread: Object.fromEntries(Object.entries(consent.requestMs).map(([k, v]) => [k, spread(v)])),
  };

  // 3. SDK rekey against recipients (the SDK bench reports the median, min and max of its runs)
  const rekey: Record<string, { median: number; min: number; max: number; runs: number }> = {};
  const rekeyRuns = quick ? 5 : 9;
  let rekeyOk = true;
  for (const recipients of [10, 100, 1000]) {
    const r = await run(`SDK rekey, ${recipients} recipients`, "npm", ["run", "bench:rekey", "-w", "sdk"], {
      env: { RECIPIENTS: String(recipients), RUNS: String(rekeyRuns) },
      timeoutMs: 180_000,
    });
    const m = /median ([\d.]+) ms, min ([\d.]+) ms, max ([\d.]+) ms over (\d+) runs/.exec(r.stdout);
    if (!r.ok || !m) {
      rekeyOk = false;
      continue;
    }
    rekey[recipients] = { median: Number(m[1]), min: Number(m[2]), max: Number(m[3]), runs: Number(m[4]) };
  }
  report.steps.sdkRekey = { ok: rekeyOk, byRecipients: rekey };

  // 3b. SDK failover: the speed bars of a replicated network under kill -9 and a frozen chain (sdk/bench/failover.ts)
  const failover = await run("SDK failover", "npm", ["run", "bench:failover", "-w", "sdk"], { env: { ROUNDS: quick ? "1" : "3" }, timeoutMs: 420_000 });
  report.steps.sdkFailover = { ok: failover.ok, error: failover.error, seconds: failover.seconds, summary: summaryLines(failover.stdout) };

  // 4. broker (full mode only: it is bounded at 480 s by itself)
  if (quick) {
    report.steps.broker = { skipped: "quick mode (the broker bench takes up to 5 minutes): run npm run bench -w broker" };
  } else {
    const r = await run("broker", "npm", ["run", "bench", "-w", "broker"], { timeoutMs: 540_000 });
    const summary = summaryLines(r.stdout);
    report.steps.broker = { ok: r.ok, error: r.error, seconds: r.seconds, runs: 1, summary };
  }

  // 5. the whole flow
  const flowFile = path.join(tmp, "flow.json");
  const flow = await run(
    "dual-gateway flow, buyers 1 -> 100",
    "npx",
    ["ts-node", "--transpile-only", "bench/flow.ts", ...(quick ? ["--quick"] : []), "--sustain", quick ? "2" : "3", "--out", flowFile],
    { cwd: path.join(ROOT, "demo"), timeoutMs: 600_000 },
  );
  const flowData = flow.ok ? JSON.parse(fs.readFileSync(flowFile, "utf8")) : null;
  report.steps.flow = { ok: flow.ok, error: flow.error, seconds: flow.seconds, raw: flowData };
  const flowRows: any[] = [];
  const stepRows: any[] = [];
  const fanRows: any[] = [];
  if (flowData) {
    for (const n of flowData.buyers as number[]) {
      const runs = (flowData.results as any[]).filter((r) => r.buyers === n);
      const fps = spread(runs.map((r) => r.flowsPerSecond));
      flowRows.push({ buyers: n, median: fps.median, low: fps.min, high: fps.max, runs: runs.length });
      for (const stepName of ["fabricDecision", "bridgeSignatures", "buyWithPermit", "subscribe"]) {
        const s = spread(runs.flatMap((r) => r.steps[stepName]));
        stepRows.push({ buyers: n, step: stepName, median: s.median, low: s.p25, high: s.p75, p25: s.p25, p75: s.p75, max: s.max });
      }
      const firstEvent = spread(runs.map((r) => r.firstEventMs));
      stepRows.push({
        buyers: n,
        step: "firstEvent (all buyers)",
        median: firstEvent.median,
        low: firstEvent.min,
        high: firstEvent.max,
        p25: firstEvent.p25,
        p75: firstEvent.p75,
        max: firstEvent.max,
      });
      const fan = spread(runs.map((r) => r.fanout.deliveriesPerSecond));
      fanRows.push({ subscribers: n, median: fan.median, low: fan.min, high: fan.max });
    }
  }
  report.steps.flow.summary = { flowsPerSecond: flowRows, stepLatencyMs: stepRows, fanoutDeliveriesPerSecond: fanRows };

  // 5b. the same flow on anvil with 2 s blocks: the chain's limit is the block's gas
  const anvilFile = path.join(tmp, "flow-anvil.json");
  const flowAnvil = await run(
    "dual-gateway flow on anvil, 2 s blocks",
    "npx",
    [
      "ts-node",
      "--transpile-only",
      "bench/flow.ts",
      "--chain",
      "anvil",
      "--block-time",
      "2",
      "--buyers",
      "1,100",
      "--runs",
      quick ? "1" : "2",
      "--sustain",
      quick ? "2" : "3",
      "--out",
      anvilFile,
    ],
    { cwd: path.join(ROOT, "demo"), timeoutMs: 900_000 },
  );
  const anvilData = flowAnvil.ok ? JSON.parse(fs.readFileSync(anvilFile, "utf8")) : null;
  report.steps.flowAnvil = { ok: flowAnvil.ok, error: flowAnvil.error, seconds: flowAnvil.seconds, raw: anvilData };
  /** The sustained phase of a flow run, one row of the chains' table. */
  const sustainedRow = (name: string, data: any) => {
    const s = data?.sustained;
    if (!s) return `| ${name} | - | failed or not run | | | | | |`;
    const bound =
      s.boundFlowsPerSecond === undefined
        ? "none (a block per transaction)"
        : `${fmt(s.boundFlowsPerSecond, 1)} (${fmt(data.blockGasLimit)} gas / ${fmt(s.gasPerFlow)} gas / ${data.blockTime} s)`;
    const bar =
      s.bar === undefined ? "-" : `${fmt(s.bar, 1)}: ${s.steadyFlowsPerSecond >= s.bar ? "met" : `missed (${fmt((100 * s.steadyFlowsPerSecond) / s.bar)}%)`}`;
    return `| ${name} | ${s.buyers} x ${s.flowsPerBuyer} | ${fmt(s.steadyFlowsPerSecond, 2)} | ${fmt(s.flowsPerSecond, 2)} | ${bound} | ${bar} | ${fmt(s.stepsMs.flow.median / 1000, 2)} s | ${s.loadAverage.map((l: number) => fmt(l, 1)).join(" → ")} |`;
  };

  // 6. analytics (quick: 1,000 reports only)
  const analytics = await run("analytics (Prio3)", "npm", ["run", "bench", "-w", "analytics"], {
    env: quick ? { BENCH_QUICK: "1" } : {},
    timeoutMs: 1_200_000,
  });
  const analyticsSummary = summaryLines(analytics.stdout);
  report.steps.analytics = { ok: analytics.ok, error: analytics.error, seconds: analytics.seconds, runs: 1, summary: analyticsSummary };

  // 7. identity (quick: shorter runs)
  const identity = await run("identity (SD-JWT VC)", "npm", ["run", "bench", "-w", "identity"], { env: quick ? { BENCH_QUICK: "1" } : {}, timeoutMs: 600_000 });
  const identitySummary = summaryLines(identity.stdout);
  report.steps.identity = { ok: identity.ok, error: identity.error, seconds: identity.seconds, runs: 1, summary: identitySummary };

  // 8. broker vouchers (a few seconds; also in quick mode)
  const vouchers = await run("broker vouchers (payment channels)", "npm", ["run", "bench:vouchers", "-w", "broker"], { timeoutMs: 180_000 });
  report.steps.vouchers = { ok: vouchers.ok, error: vouchers.error, seconds: vouchers.seconds, runs: 1, summary: summaryLines(vouchers.stdout) };

  // 9. portal JS size (a production build and its manifest; seconds)
  const portalJs = await run("portal JS size (gzip)", "npm", ["run", "bench", "-w", "@datamarket/portal"], { timeoutMs: 300_000 });
  report.steps.portalJs = { ok: portalJs.ok, error: portalJs.error, seconds: portalJs.seconds, runs: 1, summary: summaryLines(portalJs.stdout) };

  report.machineAtEnd = machine();
  report.finishedAt = new Date().toISOString();
  fs.writeFileSync(path.join(OUT_DIR, "report.json"), JSON.stringify(report, null, 2) + "\n");

  // charts
  const charts: [string, string, Record<string, unknown>][] = [];
  const gasOps = Object.entries(report.steps.gas.operations as Record<string, number>).map(([operation, gasUsed]) => ({
    operation,
    gas: gasUsed,
    contract: operation.split("::")[0],
  }));
  if (gasOps.length)
    charts.push([
      "gas.svg",
      "Gas per operation",
      {
        title: "Gas per operation (receipt gasUsed, Hardhat network)",
        width: 520,
        data: { values: gasOps },
        mark: "bar",
        encoding: {
          y: { field: "operation", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 420 } },
          x: { field: "gas", type: "quantitative", title: "gas" },
          color: { field: "contract", type: "nominal" },
        },
      },
    ]);
  if (fanRows.length)
    charts.push([
      "fanout.svg",
      "Events delivered per second against subscribers",
      lineWithBand(
        "Deliveries/s against subscribers (one broker, burst of events, median and min–max of runs)",
        fanRows,
        { field: "subscribers", title: "subscribers", log: true },
        { title: "deliveries per second" },
      ),
    ]);
  const decisionRows = Object.entries(report.steps.consent.requestMsSpread as Record<string, Spread>).map(([size, s]) => ({
    subjects: Number(size),
    median: s.median,
    low: s.min,
    high: s.max,
  }));
  if (decisionRows.length)
    charts.push([
      "decision.svg",
      "Decision time against dataset size",
      lineWithBand(
        "Dataset access decision (endorse + commit) against subjects (median, min–max)",
        decisionRows,
        { field: "subjects", title: "subjects in the dataset", log: true },
        { title: "ms" },
      ),
    ]);
  const rekeyRows = Object.entries(rekey).map(([r, s]) => ({ recipients: Number(r), median: s.median, low: s.min, high: s.max }));
  if (rekeyRows.length)
    charts.push([
      "rekey.svg",
      "Rekey time against recipients",
      lineWithBand("SDK rekey against recipients (median, min–max)", rekeyRows, { field: "recipients", title: "recipients", log: true }, { title: "ms" }),
    ]);
  if (stepRows.length)
    charts.push([
      "flow-latency.svg",
      "Flow latency per step against concurrent buyers",
      lineWithBand(
        "Latency per step against concurrent buyers (median, IQR; first event: min–max)",
        stepRows,
        { field: "buyers", title: "concurrent buyers", log: true },
        { title: "ms" },
        "step",
      ),
    ]);
  if (flowRows.length)
    charts.push([
      "flows-per-second.svg",
      "Whole flows per second against concurrent buyers",
      lineWithBand(
        "Completed flows per second against concurrent buyers (median, min–max of runs)",
        flowRows,
        { field: "buyers", title: "concurrent buyers", log: true },
        { title: "flows per second" },
      ),
    ]);
  for (const [file, , spec] of charts) fs.writeFileSync(path.join(OUT_DIR, file), await svg(spec));

  // Markdown summary
  const m = report.machineAtStart;
  const e = report.machineAtEnd;
  const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines: string[] = [
    `# Benchmark report ${stamp} (${report.mode})`,
    "",
    `Machine: ${m.cpus} cpus (${m.cpuModel}), ${m.memoryGiB} GiB memory, node ${m.node}, ${m.platform}.`,
    `Load average (1/5/15 min) at start ${m.loadAverage.join(" / ")}, at end ${e.loadAverage.join(" / ")} — a machine shared with other jobs: wall-clock figures include waiting for a core.`,
    `Started ${report.startedAt}, finished ${report.finishedAt}. Raw figures and every run: [report.json](report.json). How to read and reproduce: [docs/benchmarks.md](../../../docs/benchmarks.md).`,
    "",
    "## Whole dual-gateway flow (embedded defaults)",
    "",
    "Per buyer: Fabric access request (approved, grant committed) → 2 of 3 bridges signed → `buyWithPermit` mined → subscribed; the flow ends when the first live event is decrypted by every buyer.",
    "",
    "| concurrent buyers | flows/s median (min–max) | Fabric decision ms | bridge signatures ms | buyWithPermit ms | subscribe ms | first event, all buyers ms | deliveries/s (fan-out) |",
    "| -: | -: | -: | -: | -: | -: | -: | -: |",
    ...flowRows.map((f) => {
      const st = (name: string) => {
        const s = stepRows.find((r) => r.buyers === f.buyers && r.step === name);
        return s ? `${fmt(s.median, 1)} (${fmt(s.low, 1)}–${fmt(s.high, 1)})` : "-";
      };
      const fan = fanRows.find((r) => r.subscribers === f.buyers);
      return `| ${f.buyers} | ${fmt(f.median, 2)} (${fmt(f.low, 2)}–${fmt(f.high, 2)}) | ${st("fabricDecision")} | ${st("bridgeSignatures")} | ${st("buyWithPermit")} | ${st("subscribe")} | ${st("firstEvent (all buyers)")} | ${fan ? `${fmt(fan.median)} (${fmt(fan.low)}–${fmt(fan.high)})` : "-"} |`;
    }),
    "",
    `Step latencies: median (25th–75th percentile) over all buyers of ${flowData?.runs ?? 0} runs; first event, flows/s and fan-out: median (min–max) of the runs; fan-out: a burst of ${flowData?.burst ?? 0} events to every subscriber.`,
    "",
    "### Sustained: concurrent buyers running flows back to back, on each node",
    "",
    "On a node with block times a block holds (block gas limit ÷ gas of one flow's transactions) flows: that over the block time is the chain's bound. Steady flows/s: the flows completed between the 10th and 90th percentile of completion times.",
    "",
    "| node | buyers x flows each | steady flows/s | overall flows/s | bound flows/s | 0.8 x bound | flow latency (median) | load |",
    "| --- | -: | -: | -: | --- | --- | -: | --- |",
    sustainedRow("Hardhat (automine)", flowData),
    sustainedRow(`anvil (${anvilData?.blockTime ?? 2} s blocks)`, anvilData),
    "",
    ...(anvilData
      ? [
          "On anvil, one round of N buyers each buying once (the table above, on anvil):",
          "",
          "| concurrent buyers | flows/s median (min–max) | purchases in blocks |",
          "| -: | -: | -: |",
          ...(anvilData.buyers as number[]).map((n) => {
            const runs = (anvilData.results as any[]).filter((r) => r.buyers === n);
            const fps = spread(runs.map((r) => r.flowsPerSecond));
            return `| ${n} | ${fmt(fps.median, 2)} (${fmt(fps.min, 2)}–${fmt(fps.max, 2)}) | ${runs.map((r) => r.purchaseBlocks).join(", ")} |`;
          }),
          "",
        ]
      : []),
    ...charts.filter(([f]) => f.startsWith("flow")).map(([f, t]) => `![${t}](${f})\n`),
    ...charts.filter(([f]) => f === "fanout.svg").map(([f, t]) => `![${t}](${f})\n`),
    "## Consent ledger (in-process Fabric peer)",
    "",
    report.steps.consent.decisionsPerSecondSpread
      ? `Access decisions submitted one at a time: median ${fmt(report.steps.consent.decisionsPerSecondSpread.median)} decisions/s (min ${report.steps.consent.decisionsPerSecondSpread.min}, max ${report.steps.consent.decisionsPerSecondSpread.max}, ${consent.decisionsPerSecond.length} runs).`
      : `failed: ${consent.errors.join("; ")}`,
    "",
    "| subjects | dataset request ms, median (min–max) |",
    "| -: | -: |",
    ...decisionRows.map((r) => `| ${fmt(r.subjects)} | ${fmt(r.median)} (${fmt(r.low)}–${fmt(r.high)}) |`),
    "",
    ...charts.filter(([f]) => f === "decision.svg").map(([f, t]) => `![${t}](${f})\n`),
    "## SDK rekey",
    "",
    "| recipients | wall ms, median (min–max) | runs |",
    "| -: | -: | -: |",
    ...rekeyRows.map((r) => `| ${fmt(r.recipients)} | ${fmt(r.median, 1)} (${fmt(r.low, 1)}–${fmt(r.high, 1)}) | ${rekey[r.recipients].runs} |`),
    "",
    ...charts.filter(([f]) => f === "rekey.svg").map(([f, t]) => `![${t}](${f})\n`),
    "## SDK failover",
    "",
    "kill -9 of the subscriber's and of the publisher's broker, restarts, a frozen chain node (sdk/bench/failover.ts): each bar met or not, with the load.",
    "",
    ...(report.steps.sdkFailover.summary.length ? ["```", ...report.steps.sdkFailover.summary, "```"] : [`failed: ${failover.error}`]),
    "",
    "## Broker",
    "",
    ...(report.steps.broker.skipped
      ? [`Skipped: ${report.steps.broker.skipped}.`]
      : report.steps.broker.summary.length
        ? ["```", ...report.steps.broker.summary, "```"]
        : [`failed: ${report.steps.broker.error}`]),
    "",
    "## Broker: payment vouchers checked per second",
    "",
    ...(report.steps.vouchers.summary.length ? ["```", ...report.steps.vouchers.summary, "```"] : [`failed: ${report.steps.vouchers.error}`]),
    "",
    "## Portal: JavaScript shipped per page (gzip)",
    "",
    ...(report.steps.portalJs.summary.length ? report.steps.portalJs.summary : [`failed: ${report.steps.portalJs.error}`]),
    "",
    "## Analytics (Prio3 between two aggregators)",
    "",
    ...(report.steps.analytics.summary.length ? ["```", ...report.steps.analytics.summary, "```"] : [`failed: ${report.steps.analytics.error}`]),
    "",
    "## Identity (SD-JWT VC presentations, onboarding)",
    "",
    ...(report.steps.identity.summary.length ? ["```", ...report.steps.identity.summary, "```"] : [`failed: ${report.steps.identity.error}`]),
    "",
    "## Contracts' gas",
    "",
    `${gasOps.length} operations of gas/*.gas.ts (deterministic: one run; the committed gas-snapshot.txt is the CI reference).`,
    "",
    ...charts.filter(([f]) => f === "gas.svg").map(([f, t]) => `![${t}](${f})\n`),
    "## Steps",
    "",
    "| benchmark | result |",
    "| --- | --- |",
    `| gas | ${gas.ok ? `ok, ${gas.seconds.toFixed(0)} s` : gas.error} |`,
    `| consent ledger | ${consent.ok ? "ok" : consent.errors.join("; ")} |`,
    `| SDK rekey | ${rekeyOk ? "ok" : "failed"} |`,
    `| SDK failover | ${failover.ok ? `ok, ${failover.seconds.toFixed(0)} s` : failover.error} |`,
    `| broker | ${report.steps.broker.skipped ? "skipped (quick)" : report.steps.broker.ok ? `ok, ${report.steps.broker.seconds.toFixed(0)} s` : report.steps.broker.error} |`,
    `| flow | ${flow.ok ? `ok, ${flow.seconds.toFixed(0)} s` : flow.error} |`,
    `| flow on anvil | ${flowAnvil.ok ? `ok, ${flowAnvil.seconds.toFixed(0)} s` : flowAnvil.error} |`,
    `| analytics | ${analytics.ok ? `ok, ${analytics.seconds.toFixed(0)} s` : analytics.error} |`,
    `| identity | ${identity.ok ? `ok, ${identity.seconds.toFixed(0)} s` : identity.error} |`,
    `| broker vouchers | ${vouchers.ok ? `ok, ${vouchers.seconds.toFixed(0)} s` : vouchers.error} |`,
    "",
  ];
  fs.writeFileSync(path.join(OUT_DIR, "README.md"), lines.join("\n"));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`\nReport written: ${path.relative(ROOT, path.join(OUT_DIR, "README.md"))}`);
  const failed = [
    gas.ok,
    consent.ok,
    rekeyOk,
    failover.ok,
    flow.ok,
    flowAnvil.ok,
    analytics.ok,
    identity.ok,
    vouchers.ok,
    report.steps.broker.skipped ? true : report.steps.broker.ok,
  ].filter((ok) => !ok).length;
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
