// Shared by the benchmark orchestrator and its child processes.

import { ZERO_HASH, ContentType, EncryptionType, SignedEvent, eventHash, signEvent, streamIdOf } from "../src/wire";
import { addressOfPrivateKey } from "../src/wire";

export const PUBLISHER_KEY = Buffer.from("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", "hex");
export const SUBSCRIBER_KEY = Buffer.from("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "hex");
export const PUBLISHER = addressOfPrivateKey(PUBLISHER_KEY);
export const SUBSCRIBER = addressOfPrivateKey(SUBSCRIBER_KEY);
export const BENCH_PATHS = ["/bench/warmup", "/bench/ingress", "/bench/latency-1000", "/bench/latency-5000", "/bench/fanout"] as const;
export const benchStream = (path: string) => streamIdOf(PUBLISHER, path);

/** Wall-clock microseconds with sub-ms resolution, comparable across processes on one machine. */
export function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/** Pre-signs `count` chained events of ~100-byte JSON content. */
export function presign(streamId: string, count: number, firstTimestamp = Date.now()): SignedEvent[] {
  const out: SignedEvent[] = [];
  let prev = ZERO_HASH;
  for (let i = 0; i < count; i++) {
    const ev = signEvent(
      {
        streamId,
        streamPartition: 0,
        timestamp: firstTimestamp + Math.floor(i / 100),
        sequenceNumber: i,
        previousEventHash: prev,
        publisher: PUBLISHER,
        contentType: ContentType.JSON,
        encryptionType: EncryptionType.NONE,
        groupKeyId: ZERO_HASH,
        content: Buffer.from(JSON.stringify({ seq: i, price: (3000 + (i % 1000) / 100).toFixed(2), pair: "ETH/USD", source: "bench" }), "utf8"),
      },
      PUBLISHER_KEY,
    );
    prev = "0x" + eventHash(ev.canonical).toString("hex");
    out.push(ev);
  }
  return out;
}

/** Sequence number of a frame (fixed offset 45, docs/protocol.md §1.1). */
export function seqOf(frame: Buffer): number {
  return frame.readUInt32BE(45) * 0x100000000 + frame.readUInt32BE(49);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
