// Coverage gate for contracts/: reads solidity-coverage's coverage.json (Istanbul format) and fails
// unless line coverage is 100 % and branch coverage at least 95 %, over all protocol contracts
// (test helpers in contracts/test/ are excluded by .solcover.js). Prints a table per file.
import fs from "node:fs";
import path from "node:path";

const LINES_REQUIRED = 100;
const BRANCHES_REQUIRED = 95;

interface FileCoverage {
  l: Record<string, number>;
  b: Record<string, number[]>;
}

const file = path.join(__dirname, "..", "coverage.json");
if (!fs.existsSync(file)) {
  console.error("coverage.json not found: run `npm run coverage` first");
  process.exit(1);
}
const report = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, FileCoverage>;

let lines = 0;
let linesHit = 0;
let branches = 0;
let branchesHit = 0;
const rows: string[] = [];
const uncovered: string[] = [];
for (const [name, cov] of Object.entries(report).sort(([a], [b]) => a.localeCompare(b))) {
  const relative = path.relative(path.join(__dirname, ".."), name);
  const lineHits = Object.entries(cov.l);
  const fileLinesHit = lineHits.filter(([, hits]) => hits > 0).length;
  const branchHits = Object.values(cov.b).flat();
  const fileBranchesHit = branchHits.filter((hits) => hits > 0).length;
  lines += lineHits.length;
  linesHit += fileLinesHit;
  branches += branchHits.length;
  branchesHit += fileBranchesHit;
  const pct = (hit: number, all: number) => (all === 0 ? 100 : (hit / all) * 100).toFixed(2);
  rows.push(
    `${relative.padEnd(48)} lines ${pct(fileLinesHit, lineHits.length).padStart(6)} %  branches ${pct(fileBranchesHit, branchHits.length).padStart(6)} %`,
  );
  const missed = lineHits.filter(([, hits]) => hits === 0).map(([line]) => line);
  if (missed.length > 0) uncovered.push(`${relative}: lines ${missed.join(", ")}`);
}

const linePct = lines === 0 ? 0 : (linesHit / lines) * 100;
const branchPct = branches === 0 ? 0 : (branchesHit / branches) * 100;
console.log(rows.join("\n"));
console.log(`contracts/ total: lines ${linePct.toFixed(2)} % (${linesHit}/${lines}), branches ${branchPct.toFixed(2)} % (${branchesHit}/${branches})`);
if (uncovered.length > 0) console.log(`uncovered:\n  ${uncovered.join("\n  ")}`);
if (lines === 0 || linePct < LINES_REQUIRED || branchPct < BRANCHES_REQUIRED) {
  console.error(`coverage gate failed: need ${LINES_REQUIRED} % lines and ${BRANCHES_REQUIRED} % branches`);
  process.exit(1);
}
console.log(`coverage gate passed (${LINES_REQUIRED} % lines, >= ${BRANCHES_REQUIRED} % branches)`);
