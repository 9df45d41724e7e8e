// Signature verification in verifier processes, so that recovery (the broker's main cost) runs on
// another core than the event loop's I/O when the loop cannot keep up. Events that arrive in one
// event-loop turn are verified in the loop when they are few (INLINE_MAX) and no batch is in
// flight; otherwise they go to a verifier as one batch (one message each way). Processes, not worker threads: secp256k1@4's
// addon is not safe to load in two threads of one process (see verify-worker.js). A failure is re-checked in the main thread to give
// the precise INVALID_SIGNATURE details; successes are used as the worker computed them.

import { ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { cryptoBackend } from "@datamarket/protocol";
import { verifyEvent, type SignedEvent } from "../wire";

interface Pending {
  event: SignedEvent;
  resolve: (hash: Buffer) => void;
  reject: (err: Error) => void;
}

interface WorkerSlot {
  worker: ChildProcess;
  inFlight: number;
}

/** Events per message to a verifier: small, so that results come back while it works on the next. */
const CHUNK = 32;
/** Most events one verifier holds (sent, not yet answered): a few chunks, so it never waits for the next. */
const MAX_IN_FLIGHT = 128;
/** During a backlog, the oldest events the event loop verifies itself per turn. */
const INLINE_PER_TURN = 16;
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
  private readonly batches = new Map<number, { slot: WorkerSlot; items: Pending[] }>();
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
      this.schedule();
    });
  }

  private dispatch(): void {
    this.scheduled = false;
    if (this.slots.length === 0 || (this.queue.length <= INLINE_MAX && this.batches.size === 0)) {
      const inline = this.queue;
      this.queue = [];
      this.verifyHere(inline);
      return;
    }
    // A backlog: the oldest events are verified here (they can be committed at once), the next
    // ones go to the verifiers in chunks, and whatever is left waits for the next turn or result.
    this.verifyHere(this.queue.splice(0, INLINE_PER_TURN));
    for (let sent = true; sent && this.queue.length > 0;) {
      sent = false;
      for (const slot of this.slots) {
        const room = Math.min(CHUNK, MAX_IN_FLIGHT - slot.inFlight);
        if (room > 0 && this.queue.length > 0) {
          this.send(slot, this.queue.splice(0, room));
          sent = true;
        }
      }
    }
    if (this.queue.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.dispatch());
  }

  private verifyHere(batch: Pending[]): void {
    this.stats.inline += batch.length;
    for (const p of batch) {
      try {
        p.resolve(verifyEvent(p.event));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  private send(slot: WorkerSlot, batch: Pending[]): void {
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
    this.batches.set(id, { slot, items: batch });
    slot.inFlight += batch.length;
    slot.worker.send({ id, frames: buf, lengths });
  }

  private onResult(slot: WorkerSlot, m: { id: number; result: Uint8Array }): void {
    const batch = this.batches.get(m.id)?.items;
    if (!batch) return;
    this.batches.delete(m.id);
    slot.inFlight -= batch.length;
    if (this.queue.length > 0) this.schedule();
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
      if (batch.slot !== slot) continue;
      this.batches.delete(id);
      this.verifyHere(batch.items);
    }
    if (this.slots.length === 0) this.closed = true;
    if (this.queue.length > 0) this.schedule();
    void err;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) s.worker.kill();
    this.slots.length = 0;
  }
}
