#!/usr/bin/env node
// How long `datamarket --help` takes, wall time of the whole process (median of RUNS), beside the
// same run's baseline: a Node process that does nothing (`node -e 0`). Bar: under 300 ms.
// BIN= measures another installation's bin (the packed-packages test's, for instance).
"use strict";
const { execFileSync } = require("node:child_process");
const os = require("node:os");
const path = require("node:path");

const runs = Number(process.env.RUNS ?? 20);
const bin = process.env.BIN ?? path.join(__dirname, "..", "bin", "datamarket.js");

function median(args) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, args, { stdio: "ignore" });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(runs / 2)], min: times[0], max: times[runs - 1] };
}

const baseline = median(["-e", "0"]);
const help = median([bin, "--help"]);
const sub = median([bin, "product", "buy", "--help"]);
const f = (t) => `median ${t.median.toFixed(0)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)})`;
console.log(
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")} on ${os.cpus().length} cores; ${runs} runs each`,
);
console.log(`node -e 0 (baseline)             ${f(baseline)}`);
console.log(`datamarket --help                ${f(help)}`);
console.log(`datamarket product buy --help    ${f(sub)}`);
console.log(`--help above the baseline: ${(help.median - baseline.median).toFixed(0)} ms; bar 300 ms total: ${help.median < 300 ? "met" : "NOT met"}`);
