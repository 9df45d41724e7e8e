// Narration of the demo: each step is timed, the gas of every transaction mined while it ran is
// summed from the node's blocks (so transactions sent by the SDK, the bridges' relayer or Ignition
// are counted too), and every expectation is checked with a message naming what failed.
import type { JsonRpcProvider } from "ethers";

export class ExpectationFailed extends Error {
  constructor(
    readonly step: string,
    readonly expectation: string,
    readonly detail: string,
  ) {
    super(`step "${step}": expected ${expectation}${detail ? ` (${detail})` : ""}`);
    this.name = "ExpectationFailed";
  }
}

export interface StepResult {
  step: string;
  title: string;
  transactions: number;
  gas: bigint;
  ms: number;
  checks: number;
}

const tty = process.stdout.isTTY === true;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);

export class Narrator {
  readonly results: StepResult[] = [];
  private current?: { step: string; checks: number };

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly totalSteps: number,
  ) {}

  say(line: string): void {
    console.log(`    ${line}`);
  }

  /** Asserts `condition`; the message names the expectation and the value seen. */
  expect(condition: boolean, expectation: string, detail = ""): void {
    const step = this.current?.step ?? "setup";
    if (!condition) throw new ExpectationFailed(step, expectation, detail);
    if (this.current) this.current.checks += 1;
    console.log(`    ${green("✓")} ${expectation}`);
  }

  async step<T>(step: string, title: string, body: () => Promise<T>): Promise<T> {
    const index = this.results.length + 1;
    console.log(`\n${bold(`[${index}/${this.totalSteps}] ${step}: ${title}`)}`);
    this.current = { step, checks: 0 };
    const fromBlock = (await this.provider.getBlockNumber()) + 1;
    const started = performance.now();
    const value = await body();
    const ms = performance.now() - started;
    const toBlock = await this.provider.getBlockNumber();
    let transactions = 0;
    let gas = 0n;
    for (let n = fromBlock; n <= toBlock; n++) {
      const block = (await this.provider.send("eth_getBlockByNumber", ["0x" + n.toString(16), false])) as { transactions: string[]; gasUsed: string };
      transactions += block.transactions.length;
      gas += BigInt(block.gasUsed);
    }
    const result = { step, title, transactions, gas, ms, checks: this.current.checks };
    this.results.push(result);
    console.log(`    ── ${transactions} tx, ${gas.toLocaleString("en-US")} gas, ${(ms / 1000).toFixed(2)} s, ${result.checks} checks held`);
    this.current = undefined;
    return value;
  }

  table(): string {
    const header = ["step", "what", "tx", "gas", "latency", "checks"];
    const rows = this.results.map((r) => [
      r.step,
      r.title,
      String(r.transactions),
      r.gas.toLocaleString("en-US"),
      `${(r.ms / 1000).toFixed(2)} s`,
      String(r.checks),
    ]);
    const total = this.results.reduce((a, r) => ({ tx: a.tx + r.transactions, gas: a.gas + r.gas, ms: a.ms + r.ms, checks: a.checks + r.checks }), {
      tx: 0,
      gas: 0n,
      ms: 0,
      checks: 0,
    });
    rows.push(["total", "", String(total.tx), total.gas.toLocaleString("en-US"), `${(total.ms / 1000).toFixed(2)} s`, String(total.checks)]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const right = new Set([2, 3, 4, 5]);
    const line = (cells: string[]) => "| " + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ") + " |";
    const rule = "| " + widths.map((w, i) => (right.has(i) ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ") + " |";
    return [line(header), rule, ...rows.slice(0, -1).map(line), rule, line(rows[rows.length - 1])].join("\n");
  }
}
