// Benchmark of the consent ledger on the in-process peer: access decisions per second (single-subject
// stream: submitted one at a time, evaluated, and submitted by 20 concurrent buyers, with CPU per
// decision) and one dataset access request over 1,000 and 10,000 subjects (endorse time, envelope bytes
// per subject). Bounded: fixed counts, and each phase stops at its time budget.
//   npm run bench:consent                              (= cd consent-ledger && npm run bench)
//   BENCH_SIZES=1000 npm run bench:consent             skip the 10,000-subject dataset
//   BENCH_BASELINE=940f23d npm run bench:consent       also run the code of that commit, in the same run
//                                                      (each implementation in a child process, in turns)
//   BENCH_PROFILE=1 npm run bench:consent              where a submitted decision's CPU goes, by component
//                                                      (of the thread the clients and the peer run on)
//   BENCH_RUNTIMES=worker npm run bench:consent        this tree's chaincode runtimes to measure (default
//                                                      "worker,inline": the chaincode in a worker thread of its
//                                                      own, and in the peer's thread as the baseline runs it)
// CPU figures are the process's (every thread: user + system) divided by the decisions made.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { msp, peer } from "@hyperledger/fabric-protos";
import { Wallet } from "ethers";
import type { ConsentLedgerClient, ConsentTermsInput, InProcessConsentLedger, fabric } from "../src";
import { transactionEnvelope } from "../src/fabric/peer";

type LedgerModule = typeof import("../src");
type Runtime = "inline" | "worker";

const STREAM = "0x" + "11".repeat(32);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").filter(Boolean).map(Number);
const RUNTIMES = (process.env.BENCH_RUNTIMES ?? "worker,inline").split(",").filter(Boolean) as Runtime[];
const PHASE_BUDGET_MS = 300_000;
const SETUP_CONCURRENCY = 16;
const REPO = path.resolve(__dirname, "..", "..");
const wallet = new Wallet("0x" + "61".repeat(32));
const buyerAddress = wallet.address.toLowerCase();
const BUYER_ATTRIBUTES = { "consent.role": "buyer", "consent.buyerType": "PublicResearch", "consent.jurisdiction": "DE", "consent.ethAddress": buyerAddress };

/** Figures of one implementation, as a child process reports them on a line `RESULT {json}`. */
interface Figures {
  label: string;
  decisions?: { oneAtATime: Rate; evaluated: Rate; concurrent: Rate };
  datasets: Array<{
    subjects: number;
    endorseMs: number;
    commitMs: number;
    evaluateMs: number;
    envelopeBytes: number;
    rwsetBytes: number;
    responseBytes: number;
    released: number;
  }>;
}
interface Rate {
  count: number;
  perSecond: number;
  cpuMsEach: number;
}

function terms(ledger: InProcessConsentLedger, subjectId: string, resource: string, purposes: string[]): ConsentTermsInput {
  return {
    subjectId,
    controller: "University Hospital",
    resources: [resource],
    purposes,
    dataCategories: ["HealthRecord"],
    buyerTypes: ["PublicResearch"],
    jurisdictions: ["EEA"],
    legalBasis: "A9-2-a",
    validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
    noticeHash: "0x" + "ab".repeat(32),
  };
}

/** CPU time of this process since `since` (user + system), ms: steadier than wall time on a loaded machine. */
function cpuMillis(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function timed(count: number, work: (i: number) => Promise<unknown>, concurrency = 1): Promise<Rate> {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let next = 0;
  const worker = async () => {
    while (next < count && Number(process.hrtime.bigint() - started) / 1e6 < PHASE_BUDGET_MS) {
      await work(next++);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { count: next, perSecond: next / seconds, cpuMsEach: cpuMillis(cpu) / next };
}

const rateText = (rate: Rate) =>
  `${rate.count} in ${(rate.count / rate.perSecond).toFixed(2)} s = ${rate.perSecond.toFixed(0)} decisions/s ` +
  `(CPU ${rate.cpuMsEach.toFixed(2)} ms each = ${(1000 / rate.cpuMsEach).toFixed(0)}/s of CPU)`;

async function decisions(ledger: InProcessConsentLedger, custodian: ConsentLedgerClient): Promise<Figures["decisions"]> {
  await custodian.registerResource(STREAM, "stream");
  await custodian.addResourceSubjects(STREAM, ["subj-stream"]);
  await custodian.giveConsent(terms(ledger, "subj-stream", STREAM, ["ResearchAndDevelopment"]));
  const buyers = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => ledger.client(await ledger.enroll("ResearchMSP", `lab${i}`, BUYER_ATTRIBUTES))),
  );
  const request = { resourceId: STREAM, purpose: "ScientificResearch", ethAddress: buyerAddress };
  const approve = async (buyer: ConsentLedgerClient) => {
    const decision = await buyer.requestAccess(request);
    if (decision.decision !== "approved") throw new Error(`unexpected denial ${decision.reasons}`);
  };
  for (let i = 0; i < 20; i++) {
    await approve(buyers[i % buyers.length]); // warm-up
  }
  const oneAtATime = await timed(DECISIONS, () => approve(buyers[0]));
  console.log(`access decisions, submitted one at a time (endorse + validate + commit, grant written): ${rateText(oneAtATime)}`);
  const evaluated = await timed(DECISIONS, () => buyers[0].previewAccess(request));
  console.log(`access decisions, evaluated (endorse only, nothing committed):                     ${rateText(evaluated)}`);
  const concurrent = await timed(DECISIONS * 2, (i) => approve(buyers[i % CONCURRENCY]), CONCURRENCY);
  console.log(`access decisions, submitted by ${CONCURRENCY} concurrent buyers:                           ${rateText(concurrent)}`);
  return { oneAtATime, evaluated, concurrent };
}

/**
 * Bytes of the transaction envelope a gateway would broadcast for this endorsement, built by this tree's
 * transactionEnvelope for either implementation (the endorsement's fields have not changed): the same
 * 800-byte stand-in for each endorsing peer's certificate, 72-byte signatures.
 */
function envelopeBytes(endorsement: fabric.Endorsement, proposalBytes: Uint8Array): number {
  const proposal = peer.Proposal.deserializeBinary(proposalBytes);
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  payload.getTransientmapMap().clear();
  const identities = endorsement.endorsers.map((mspId) => {
    const identity = new msp.SerializedIdentity();
    identity.setMspid(mspId);
    identity.setIdBytes(Buffer.alloc(800));
    return identity.serializeBinary();
  });
  return transactionEnvelope({ ...endorsement, proposalHeader: proposal.getHeader_asU8(), proposalPayload: payload.serializeBinary() }, identities).length;
}

async function datasetRequest(ledger: InProcessConsentLedger, custodian: ConsentLedgerClient, size: number): Promise<Figures["datasets"][number]> {
  const dataset = "0x" + size.toString(16).padStart(64, "0");
  await custodian.registerResource(dataset, "dataset");
  const subjects = Array.from({ length: size }, (_, i) => `ds${size}-subj-${i.toString().padStart(6, "0")}`);
  const setupStarted = Date.now();
  for (let i = 0; i < subjects.length; i += 1000) {
    await custodian.addResourceSubjects(dataset, subjects.slice(i, i + 1000));
  }
  // 80 % consent to research, 10 % only to marketing, 10 % never consented
  const consenting = subjects.filter((_, i) => i % 10 !== 9);
  for (let i = 0; i < consenting.length; i += SETUP_CONCURRENCY) {
    await Promise.all(
      consenting.slice(i, i + SETUP_CONCURRENCY).map((subjectId) => {
        const purposes = Number(subjectId.slice(-6)) % 10 === 8 ? ["Marketing"] : ["ResearchAndDevelopment"];
        return custodian.giveConsent(terms(ledger, subjectId, dataset, purposes));
      }),
    );
    if (Date.now() - setupStarted > PHASE_BUDGET_MS) throw new Error(`set-up exceeded its ${PHASE_BUDGET_MS} ms budget after ${i} consents`);
  }
  const setupSeconds = (Date.now() - setupStarted) / 1000;
  const buyerIdentity = await ledger.enroll("ResearchMSP", `dataset-lab-${size}`, BUYER_ATTRIBUTES);
  const contract = ledger.connect(buyerIdentity).getNetwork("consent").getContract("consent", "access");
  const args = [JSON.stringify({ resourceId: dataset, purpose: "ScientificResearch", ethAddress: buyerAddress })];

  const evaluateStarted = process.hrtime.bigint();
  await contract.evaluate("RequestAccess", { arguments: args });
  const evaluateMs = Number(process.hrtime.bigint() - evaluateStarted) / 1e6;

  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const proposal = contract.newProposal("RequestAccess", { arguments: args });
  const transaction = await proposal.endorse();
  const endorsedAt = process.hrtime.bigint();
  const status = await (await transaction.submit()).getStatus();
  const committedAt = process.hrtime.bigint();
  const cpuMs = cpuMillis(cpu);
  if (!status.successful) throw new Error(`dataset request invalidated with code ${status.code}`);
  const decision = JSON.parse(Buffer.from(transaction.getResult()).toString());
  const figures = {
    subjects: size,
    endorseMs: Number(endorsedAt - started) / 1e6,
    commitMs: Number(committedAt - endorsedAt) / 1e6,
    evaluateMs,
    envelopeBytes: envelopeBytes(transaction.endorsement, proposal.getBytes()),
    rwsetBytes: transaction.endorsement.readWriteSet.length,
    responseBytes: transaction.getResult().length,
    released: decision.approvedSubjects.length,
  };
  console.log(
    `dataset of ${size} subjects (set-up ${setupSeconds.toFixed(1)} s): request ${(figures.endorseMs + figures.commitMs).toFixed(0)} ms ` +
      `(endorse ${figures.endorseMs.toFixed(0)} ms + commit ${figures.commitMs.toFixed(0)} ms; CPU ${cpuMs.toFixed(0)} ms; evaluate-only ${evaluateMs.toFixed(0)} ms); ` +
      `${figures.released} released, denied ${JSON.stringify(decision.deniedByReason)}; envelope ${(figures.envelopeBytes / 1024).toFixed(0)} KiB ` +
      `= ${(figures.envelopeBytes / size).toFixed(0)} bytes/subject (read/write set ${(figures.rwsetBytes / 1024).toFixed(0)} KiB, response ${(figures.responseBytes / 1024).toFixed(0)} KiB)`,
  );
  return figures;
}

/** Where the CPU of `count` decisions submitted by CONCURRENCY buyers goes, by component (self time of a V8 CPU profile). */
async function profileDecisions(ledger: InProcessConsentLedger, count: number, runtime: Runtime | undefined): Promise<void> {
  const { Session } = await import("node:inspector/promises");
  const buyers = await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => ledger.client(await ledger.enroll("ResearchMSP", `profiled-lab${i}`, BUYER_ATTRIBUTES))),
  );
  const request = { resourceId: STREAM, purpose: "ScientificResearch", ethAddress: buyerAddress };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
  await session.post("Profiler.start");
  await timed(count, (i) => buyers[i % CONCURRENCY].requestAccess(request), CONCURRENCY);
  const { profile } = await session.post("Profiler.stop");
  session.disconnect();
  const categories: Array<[string, RegExp]> = [
    ["our chaincode (chaincode/src)", /\/chaincode\/src\//],
    [
      "contract-api dispatch, metadata and JSON-schema validation (fabric-contract-api, fabric-shim contract-spi, ajv)",
      /fabric-contract-api|contract-spi|\/ajv\/|class-transformer|reflect-metadata/,
    ],
    ["fabric-shim stub, handler and client identity (fabric-shim/lib, @fidm/x509)", /fabric-shim\/lib|@fidm|node-forge|asn1/],
    ["protobuf serialisation (google-protobuf, fabric-protos)", /google-protobuf|fabric-protos/],
    ["cryptography (@noble, @peculiar, node:crypto)", /@noble|@peculiar|pkijs|asn1js|node:crypto|internal\/crypto/],
    ["in-process peer: simulation, validation, commit (consent-ledger/src/fabric)", /consent-ledger\/src\/fabric\//],
    ["consent client and gateway (consent-ledger/src/client)", /consent-ledger\/src\/client\//],
    ["logging (winston)", /winston|logform|triple-beam/],
  ];
  const totals = new Map<string, number>();
  const sampleCounts = new Map<number, number>();
  profile.samples?.forEach((id) => sampleCounts.set(id, (sampleCounts.get(id) ?? 0) + 1));
  let all = 0;
  for (const node of profile.nodes) {
    const samples = sampleCounts.get(node.id) ?? 0;
    const url = node.callFrame.url;
    const name = node.callFrame.functionName;
    const category =
      name === "(garbage collector)"
        ? "garbage collection"
        : name === "(idle)" || name === "(program)"
          ? "idle / runtime"
          : (categories.find(([, pattern]) => pattern.test(url))?.[0] ??
            (url === ""
              ? "V8 and Node built-ins (JSON, Buffer, promises)"
              : url.startsWith("node:")
                ? "Node built-ins"
                : `other (${url.replace(/^.*node_modules\//, "").split("/")[0]})`));
    totals.set(category, (totals.get(category) ?? 0) + samples);
    all += samples;
  }
  if (process.env.BENCH_PROFILE === "functions") {
    const byFunction = new Map<string, number>();
    for (const node of profile.nodes) {
      const where = `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/^.*node_modules\//, "").replace(/^.*consent-fabric\//, "")}:${node.callFrame.lineNumber + 1}`;
      byFunction.set(where, (byFunction.get(where) ?? 0) + (sampleCounts.get(node.id) ?? 0));
    }
    for (const [where, samples] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
      console.log(`  ${((100 * samples) / all).toFixed(1).padStart(5)} %  ${where}`);
    }
  }
  const micros = (profile.endTime - profile.startTime) / count;
  console.log(
    `where a decision's CPU goes (${count} decisions submitted by ${CONCURRENCY} concurrent buyers, ${(micros / 1000).toFixed(2)} ms of profile each` +
      `${runtime === "worker" ? "; this thread only: clients and peer, not the chaincode's worker" : ""}):`,
  );
  for (const [category, samples] of [...totals].sort((a, b) => b[1] - a[1])) {
    if (samples / all >= 0.005) {
      console.log(`  ${((100 * samples) / all).toFixed(1).padStart(5)} %  ${category}`);
    }
  }
}

/**
 * Runs the phases on the implementation at `lib` (this tree's, or a baseline's, which has no runtime option
 * and runs its chaincode in the peer's thread) and prints its figures.
 */
async function runPhases(lib: LedgerModule, label: string, runtime: Runtime | undefined): Promise<Figures> {
  const ledger = await lib.InProcessConsentLedger.create(runtime ? { chaincodeRuntime: runtime } : {});
  const custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
  console.log(
    `consent ledger benchmark (${label}): in-process peer, node ${process.version}, ${new Date().toISOString()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const figures: Figures = { label, datasets: [] };
  if (process.env.BENCH_PHASES !== "datasets") {
    figures.decisions = await decisions(ledger, custodian);
  }
  if (process.env.BENCH_PROFILE) {
    await profileDecisions(ledger, Number(process.env.BENCH_PROFILE_DECISIONS ?? 500), runtime);
  }
  if (process.env.BENCH_PHASES !== "decisions") {
    for (const size of SIZES) {
      figures.datasets.push(await datasetRequest(ledger, custodian, size));
    }
  }
  await (ledger as { close?: () => Promise<void> }).close?.();
  return figures;
}

/**
 * The chaincode and consent-ledger packages of commit `revision`, laid out next to this tree's node_modules
 * (only @datamarket points at the extracted copies), so that a child process can load them.
 */
function extractBaseline(revision: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consent-baseline-${revision.slice(0, 12)}-`));
  const archive = execFileSync("git", ["-C", REPO, "archive", revision, "chaincode", "consent-ledger"]);
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  const modules = path.join(dir, "node_modules");
  fs.mkdirSync(path.join(modules, "@datamarket"), { recursive: true });
  for (const entry of fs.readdirSync(path.join(REPO, "node_modules"))) {
    if (entry !== "@datamarket" && entry !== ".bin") {
      fs.symlinkSync(path.join(REPO, "node_modules", entry), path.join(modules, entry));
    }
  }
  // the other workspace packages (e.g. @datamarket/protocol) as this tree has them
  for (const entry of fs.readdirSync(path.join(REPO, "node_modules", "@datamarket"))) {
    if (entry !== "consent-chaincode" && entry !== "consent-ledger") {
      fs.symlinkSync(path.join(REPO, "node_modules", "@datamarket", entry), path.join(modules, "@datamarket", entry));
    }
  }
  fs.symlinkSync(path.join(dir, "chaincode"), path.join(modules, "@datamarket", "consent-chaincode"));
  fs.symlinkSync(path.join(dir, "consent-ledger"), path.join(modules, "@datamarket", "consent-ledger"));
  for (const pkg of ["chaincode", "consent-ledger"]) {
    const nested = path.join(REPO, pkg, "node_modules");
    if (fs.existsSync(nested) && !fs.existsSync(path.join(dir, pkg, "node_modules"))) {
      fs.symlinkSync(nested, path.join(dir, pkg, "node_modules"));
    }
  }
  return dir;
}

/** Runs this script in a child process on the implementation in `implDir` and returns its figures. */
function runChild(implDir: string, label: string, runtime?: Runtime): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", __filename], {
      cwd: path.join(REPO, "consent-ledger"),
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        BENCH_BASELINE: "",
        BENCH_IMPL_DIR: implDir,
        BENCH_IMPL_LABEL: label,
        BENCH_IMPL_RUNTIME: runtime ?? "",
        TS_NODE_PROJECT: path.join(REPO, "consent-ledger", "tsconfig.json"),
      },
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(
        chunk
          .toString()
          .split("\n")
          .filter((line) => line && !line.startsWith("RESULT "))
          .map((line) => `  ${line}\n`)
          .join(""),
      );
    });
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("RESULT "));
      if (code === 0 && line) resolve(JSON.parse(line.slice("RESULT ".length)));
      else reject(new Error(`${label}: exit code ${code}`));
    });
  });
}

async function main(): Promise<void> {
  if (process.env.BENCH_IMPL_DIR) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const lib = require(path.join(process.env.BENCH_IMPL_DIR, "src")) as LedgerModule;
    const runtime = (process.env.BENCH_IMPL_RUNTIME || undefined) as Runtime | undefined;
    console.log(`RESULT ${JSON.stringify(await runPhases(lib, process.env.BENCH_IMPL_LABEL ?? "child", runtime))}`);
    return;
  }
  const baseline = process.env.BENCH_BASELINE;
  if (!baseline) {
    for (const runtime of RUNTIMES) {
      await runPhases(await import("../src"), `this tree, chaincode runtime ${runtime}`, runtime);
    }
    return;
  }
  const baselineDir = path.join(extractBaseline(baseline), "consent-ledger");
  const current = path.join(REPO, "consent-ledger");
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const results: Figures[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      results.push(await runChild(baselineDir, `baseline ${baseline}, round ${round}`));
      for (const runtime of RUNTIMES) {
        results.push(await runChild(current, `this tree ${runtime}, round ${round}`, runtime));
      }
    }
  } finally {
    fs.rmSync(path.dirname(baselineDir), { recursive: true, force: true });
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const of = (prefix: string) => results.filter((r) => r.label.startsWith(prefix));
  const summary = (prefix: string) => {
    const runs = of(prefix);
    const decisions = runs.map((r) => r.decisions).filter((d): d is NonNullable<Figures["decisions"]> => d !== undefined);
    return {
      concurrent: decisions.length ? mean(decisions.map((d) => d.concurrent.perSecond)) : NaN,
      concurrentCpu: decisions.length ? mean(decisions.map((d) => d.concurrent.cpuMsEach)) : NaN,
      oneAtATime: decisions.length ? mean(decisions.map((d) => d.oneAtATime.perSecond)) : NaN,
      datasets: SIZES.map((size) => {
        const rows = runs.flatMap((r) => r.datasets.filter((d) => d.subjects === size));
        return { size, endorseMs: mean(rows.map((d) => d.endorseMs)), bytesPerSubject: mean(rows.map((d) => d.envelopeBytes / size)) };
      }),
    };
  };
  const before = summary("baseline");
  console.log(
    `\nsame run, ${rounds} round(s) each, load now ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}:`,
  );
  for (const runtime of RUNTIMES) {
    const after = summary(`this tree ${runtime}`);
    console.log(`  this tree, chaincode runtime "${runtime}" against baseline ${baseline}:`);
    console.log(
      `    decisions/s, ${CONCURRENCY} concurrent buyers: baseline ${before.concurrent.toFixed(0)} (CPU ${before.concurrentCpu.toFixed(2)} ms each), ` +
        `this tree ${after.concurrent.toFixed(0)} (CPU ${after.concurrentCpu.toFixed(2)} ms each): ${(after.concurrent / before.concurrent).toFixed(2)}x`,
    );
    console.log(
      `    decisions/s, one at a time:          baseline ${before.oneAtATime.toFixed(0)}, this tree ${after.oneAtATime.toFixed(0)}: ${(after.oneAtATime / before.oneAtATime).toFixed(2)}x`,
    );
    for (const [i, row] of after.datasets.filter((d) => !Number.isNaN(d.endorseMs)).entries()) {
      const old = before.datasets[i];
      console.log(
        `    dataset of ${row.size}: endorse ${old.endorseMs.toFixed(0)} -> ${row.endorseMs.toFixed(0)} ms; envelope ${old.bytesPerSubject.toFixed(0)} -> ${row.bytesPerSubject.toFixed(0)} bytes/subject`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
