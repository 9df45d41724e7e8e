// Where a thread of the flow bench spends its CPU, by component: reads a `node --cpu-prof` profile of one
// thread (V8's .cpuprofile), keeps the samples inside the sustained phase's window (the bench's
// `monotonicWindowUs`, same clock), and charges each sample to the component of the innermost frame of
// its stack that lies in one of the project's packages (a library frame, ethers or ws, is charged to the
// package that called it). Samples with no project frame on the stack are a library's own (ethers'
// JSON-RPC polling, ws parsing) or the runtime's (GC, idle).
//   ts-node --transpile-only bench/flow-profile.ts PROFILE.cpuprofile [FLOW.json]
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

/** Components by the path of a source file, the first match wins. */
const COMPONENTS: Array<[string, RegExp]> = [
  ["consent ledger (peer, chaincode, clients)", /\/(consent-ledger|chaincode)\//],
  ["bridges (attestor, follower, HTTP)", /\/bridge\/src\//],
  ["broker: access gate and followers", /\/broker\/src\/access\//],
  ["broker: sessions, event verification, fan-out", /\/broker\/src\//],
  ["SDK (publisher, or buyers in this thread)", /\/sdk\/(src|dist)\//],
  ["buyers' part of the flow (flow-buyers.ts)", /\/demo\/bench\/flow-buyers\.ts/],
  ["bench harness and services (demo/bench)", /\/demo\/bench\//],
];
const RUNTIME: Record<string, string> = {
  "(garbage collector)": "GC",
  "(idle)": "idle",
  "(program)": "V8/native (program)",
  "(root)": "V8/native (program)",
};

/** The CPU of one thread's profile within [fromUs, toUs) by component: { component: milliseconds }. */
export function attribute(profile: Profile, fromUs = -Infinity, toUs = Infinity): Record<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const componentOf = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const leaf = byId.get(id)!;
    let name: string | undefined = RUNTIME[leaf.callFrame.functionName];
    let library: string | undefined;
    for (let at: number | undefined = id; name === undefined && at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      if (!url) continue;
      // the native keccak the bench registers in ethers (flow-buyers.ts, the broker's wire.ts): a library,
      // charged to its caller
      if (functionName === "nativeKeccakInEthers" || (functionName === "keccak256" && url.endsWith("/broker/src/wire.ts"))) {
        library ??= "native keccak";
        continue;
      }
      name = COMPONENTS.find(([, re]) => re.test(url))?.[0];
      library ??= /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith("node:") ? "node internals" : undefined);
    }
    const component = name ?? `no project frame: ${library ?? "other"}`;
    memo.set(id, component);
    return component;
  };
  const out: Record<string, number> = {};
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < fromUs || t >= toUs) continue;
    const name = componentOf(profile.samples[i]);
    out[name] = (out[name] ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000;
  }
  return out;
}

if (require.main === module) {
  const [file, flowJson] = process.argv.slice(2);
  if (!file) throw new Error("usage: flow-profile.ts PROFILE.cpuprofile [FLOW.json]");
  const window: number[] = flowJson ? JSON.parse(readFileSync(flowJson, "utf8")).sustained.monotonicWindowUs : [];
  const ms = attribute(JSON.parse(readFileSync(file, "utf8")) as Profile, window[0], window[1]);
  const busy = Object.entries(ms)
    .filter(([k]) => k !== "idle")
    .reduce((x, [, v]) => x + v, 0);
  const flows: number | undefined = flowJson ? JSON.parse(readFileSync(flowJson, "utf8")).sustained.flows : undefined;
  console.log(`${file}: ${(busy / 1000).toFixed(2)} s busy (idle ${((ms.idle ?? 0) / 1000).toFixed(2)} s)${flows ? `, ${flows} flows` : ""}`);
  for (const [k, v] of Object.entries(ms).sort((x, y) => y[1] - x[1]))
    if (k !== "idle")
      console.log(
        `  ${((100 * v) / busy).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(2).padStart(7)} s${flows ? `  ${(v / flows).toFixed(2).padStart(6)} ms a flow` : ""}  ${k}`,
      );
}
