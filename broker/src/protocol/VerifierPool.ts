// Signature verification in verifier processes, so that recovery (the broker's main cost) runs on
// another core than the event loop's I/O when the loop cannot keep up. Events that arrive in one
// event-loop turn are verified in the loop when they are few (INLINE_MAX) and no batch is in
// flight; otherwise they go to a verifier as one batch (one message each way). Processes, not worker threads: secp256k1@4's
// addon is not safe to load in two threads of one process (see verify-worker.js). A failure is re-checked in the main thread to give
// the precise INVALID_SIGNATURE details; successes are used as the worker computed them.

import { ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { cryptoBackend } from "./crypto";
import { SignedEvent, verifyEvent } from "./event";

interface Pending {
  event: SignedEvent;
  resolve: (hash: Buffer) => void;
  reject: (err: Error) => void;
}

interface WorkerSlot {
  worker: ChildProcess;
  inFlight: number;
}

const MAX_BATCH = 512;
/**
 * A turn with at most this many events and no batch in flight is verified in the event loop; the
 * verifiers take the bursts and sustained overload. Measured on 2 cores (docs/broker.md): at 10 000
 * events/s in ticks of ~10, verifying in the loop costs less CPU than the round trip to a verifier
 * (IPC, two more wake-ups) and keeps every event off a second run queue, which is where the
 * fan-out's tail latency came from; a backlog beyond this still goes to the verifiers.
 */
const INLINE_MAX = 64;

export class VerifierPool {
  private readonly slots: WorkerSlot[] = [];
  private readonly batches = new Map<number, Pending[]>();
  private queue: Pending[] = [];
  private scheduled = false;
  private nextId = 1;
  private closed = false;
  /** Events verified in the event loop and by the verifiers (for tests and benchmarks). */
  readonly stats = { inline: 0, offloaded: 0 };

  constructor(readonly threads: number) {
    if (cryptoBackend.backend !== "native") throw new Error("VerifierPool needs the native secp256k1 and keccak bindings");
    for (let i = 0; i < threads; i++) {
      const worker = fork(join(__dirname, "verify-worker.js"), [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: [] });
      const slot: WorkerSlot = { worker, inFlight: 0 };
      worker.on("message", (m: { id: number; result: Uint8Array }) => this.onResult(slot, m));
      worker.on("error", (err) => this.onWorkerError(slot, err));
      worker.on("exit", (code) => {
        if (!this.closed) this.onWorkerError(slot, new Error(`verifier exited with ${code}`));
      });
      // Idle verifiers must not keep the broker process alive.
      worker.unref();
      (worker.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
      this.slots.push(slot);
    }
  }

  /** Process ids of the verifiers (for CPU accounting in benchmarks). */
  pids(): number[] {
    return this.slots.map((s) => s.worker.pid!).filter((p) => p !== undefined);
  }

  /** Resolves with eventHash, or rejects with INVALID_SIGNATURE (as verifyEvent). */
  verify(event: SignedEvent): Promise<Buffer> {
    if (this.closed) return Promise.resolve().then(() => verifyEvent(event));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.dispatch());
      }
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    if (this.slots.length === 0 || (this.queue.length <= INLINE_MAX && this.batches.size === 0)) {
      const inline = this.queue;
      this.queue = [];
      this.stats.inline += inline.length;
      for (const p of inline) {
        try {
          p.resolve(verifyEvent(p.event));
        } catch (err) {
          p.reject(err as Error);
        }
      }
      return;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      let total = 0;
      for (const p of batch) total += p.event.frame.length;
      const buf = Buffer.allocUnsafe(total);
      const lengths = new Uint32Array(batch.length);
      let pos = 0;
      batch.forEach((p, i) => {
        p.event.frame.copy(buf, pos);
        pos += p.event.frame.length;
        lengths[i] = p.event.frame.length;
      });
      const id = this.nextId++;
      this.stats.offloaded += batch.length;
      this.batches.set(id, batch);
      slot.inFlight += batch.length;
      slot.worker.send({ id, frames: buf, lengths });
    }
  }

  private onResult(slot: WorkerSlot, m: { id: number; result: Uint8Array }): void {
    const batch = this.batches.get(m.id);
    if (!batch) return;
    this.batches.delete(m.id);
    slot.inFlight -= batch.length;
    const out = Buffer.from(m.result.buffer, m.result.byteOffset, m.result.byteLength);
    batch.forEach((p, i) => {
      if (out[i * 33] === 1) p.resolve(Buffer.from(out.subarray(i * 33 + 1, i * 33 + 33)));
      else {
        try {
          p.resolve(verifyEvent(p.event)); // the worker said no: recompute here for the exact error
        } catch (err) {
          p.reject(err as Error);
        }
      }
    });
  }

  private onWorkerError(slot: WorkerSlot, err: Error): void {
    // Verify what that verifier held in the main thread; stop using it.
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const [id, batch] of this.batches) {
      this.batches.delete(id);
      for (const p of batch) {
        try {
          p.resolve(verifyEvent(p.event));
        } catch (e) {
          p.reject(e as Error);
        }
      }
    }
    if (this.slots.length === 0) this.closed = true;
    void err;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) s.worker.kill();
    this.slots.length = 0;
  }
}
