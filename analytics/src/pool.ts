// Worker threads for the Prio3 work (pure JavaScript over BigInt: one core per thread). Requests go to
// the least busy worker, except a leader's finish, which must reach the worker holding the job's
// states. With 0 workers everything runs inline on the event loop (small batches, tests).
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { AnalyticsError } from "./errors";
import { PrepareExecutor, type PrepareRequest, type PrepareResponse } from "./prepare";

interface Slot {
  worker: Worker;
  inFlight: number;
  pending: Map<number, { resolve: (r: PrepareResponse) => void; reject: (e: Error) => void }>;
}

function startWorker(): Worker {
  const file = path.join(__dirname, "worker");
  // From the TypeScript sources (this repository runs them with ts-node) the worker registers ts-node.
  if (__filename.endsWith(".ts")) {
    return new Worker(`require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(file + ".ts")});`, { eval: true });
  }
  return new Worker(file + ".js");
}

export class PreparePool {
  private readonly slots: Slot[] = [];
  private readonly inline = new PrepareExecutor();
  private readonly jobSlot = new Map<number, Slot>();
  private nextId = 1;
  private nextJob = 1;
  private closed = false;

  /** @param workers worker threads (default: one per core); 0 runs inline. */
  constructor(readonly workers: number = availableParallelism()) {
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { worker: startWorker(), inFlight: 0, pending: new Map() };
      slot.worker.on("message", ({ id, response, error }: { id: number; response?: PrepareResponse; error?: { message: string; code?: string } }) => {
        const pending = slot.pending.get(id);
        if (!pending) return;
        slot.pending.delete(id);
        slot.inFlight--;
        if (error) pending.reject(new AnalyticsError("BAD_REQUEST", error.message));
        else pending.resolve(response!);
      });
      slot.worker.on("error", (error) => this.failSlot(slot, error));
      slot.worker.on("exit", (code) => {
        if (!this.closed) this.failSlot(slot, new Error(`prepare worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  private failSlot(slot: Slot, error: Error): void {
    for (const p of slot.pending.values()) p.reject(error);
    slot.pending.clear();
    slot.inFlight = 0;
  }

  /** A new job id (for leader-init / leader-finish pairs). */
  newJob(): number {
    return this.nextJob++;
  }

  run<R extends PrepareResponse>(request: PrepareRequest): Promise<R> {
    if (this.closed) return Promise.reject(new Error("the prepare pool is closed"));
    if (this.slots.length === 0) return this.inline.run(request) as Promise<R>;
    let slot: Slot;
    if (request.op === "leader-finish") {
      slot = this.jobSlot.get(request.job)!;
      this.jobSlot.delete(request.job);
      if (!slot) return Promise.reject(new AnalyticsError("BAD_REQUEST", `no prepared job ${request.job}`));
    } else {
      slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      if (request.op === "leader-init") this.jobSlot.set(request.job, slot);
    }
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise<R>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (r: PrepareResponse) => void, reject });
      slot.worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
