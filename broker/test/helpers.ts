// Shared test helpers: fixed keys, event factories, temporary directories.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContentType, EncryptionType, EventFields, SignedEvent, ZERO_HASH, eventHash, signEvent, streamIdOf } from "../src/wire";
import { addressOfPrivateKey } from "../src/wire";

export const ALICE_KEY = Buffer.from("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", "hex");
export const BOB_KEY = Buffer.from("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", "hex");
export const MALLORY_KEY = Buffer.from("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", "hex");
export const ALICE = addressOfPrivateKey(ALICE_KEY);
export const BOB = addressOfPrivateKey(BOB_KEY);
export const MALLORY = addressOfPrivateKey(MALLORY_KEY);
export const STREAM = streamIdOf(ALICE, "/prices/eth-usd");
export const OTHER_STREAM = streamIdOf(BOB, "/health/heart-rate");

export function tempDir(prefix = "broker-test-"): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A publisher that chains its events like the SDK does. */
export class TestPublisher {
  sequenceNumber = 0;
  previousEventHash = ZERO_HASH;
  constructor(
    readonly key: Buffer,
    readonly streamId = STREAM,
    readonly streamPartition = 0,
  ) {}

  get address(): string {
    return addressOfPrivateKey(this.key);
  }

  next(content: Uint8Array | string = `{"n":${this.sequenceNumber}}`, overrides: Partial<EventFields> = {}): SignedEvent {
    const fields: EventFields = {
      streamId: this.streamId,
      streamPartition: this.streamPartition,
      timestamp: Date.now(),
      sequenceNumber: this.sequenceNumber,
      previousEventHash: this.previousEventHash,
      publisher: this.address,
      contentType: ContentType.JSON,
      encryptionType: EncryptionType.NONE,
      groupKeyId: ZERO_HASH,
      content: typeof content === "string" ? Buffer.from(content, "utf8") : content,
      ...overrides,
    };
    const ev = signEvent(fields, this.key);
    this.sequenceNumber = fields.sequenceNumber + 1;
    this.previousEventHash = "0x" + eventHash(ev.canonical).toString("hex");
    return ev;
  }
}

export async function expectBrokerError(fn: () => unknown, code: string): Promise<Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    const e = err as { code?: string; details?: Record<string, unknown>; message?: string };
    if (e.code !== code) throw new Error(`expected error ${code}, got ${e.code ?? "no code"}: ${e.message}`);
    return e.details ?? {};
  }
  throw new Error(`expected error ${code}, but nothing was thrown`);
}

import pino from "pino";
import { DEFAULT_CONFIG, BrokerConfig } from "../src/config";
import { startBroker, RunningBroker, type BrokerDeps } from "../src/Broker";
import { InMemoryAccessGate } from "../src/access/InMemoryAccessGate";
import { InMemoryStreamIndex } from "../src/streams/StreamIndex";
import type { PartitionAssignmentSource } from "../src/network/PartitionAssignment";

export interface TestBroker extends RunningBroker {
  gate: InMemoryAccessGate;
  index: InMemoryStreamIndex;
  wsUrl: string;
  httpUrl: string;
  stop(): Promise<void>;
}

/** A broker on 127.0.0.1 with ephemeral ports, a temporary data dir, in-memory gate and index. */
export async function startTestBroker(
  overrides: Partial<BrokerConfig> = {},
  assignment?: PartitionAssignmentSource,
  dataDir?: string,
  deps: Pick<BrokerDeps, "payments" | "names"> = {},
): Promise<TestBroker> {
  const tmp = dataDir ? undefined : tempDir();
  const config: BrokerConfig = { ...structuredClone(DEFAULT_CONFIG), host: "127.0.0.1", wsPort: 0, httpPort: 0, dataDir: dataDir ?? tmp!.dir, ...overrides };
  const gate = new InMemoryAccessGate();
  const index = new InMemoryStreamIndex();
  index.apply({ type: "created", stream: { id: STREAM, creator: ALICE, path: "/prices/eth-usd", partitions: 2, metadata: { description: "ETH/USD price" } } });
  index.apply({ type: "created", stream: { id: OTHER_STREAM, creator: BOB, path: "/health/heart-rate", partitions: 1, metadata: {} } });
  const running = await startBroker(config, { gate, streams: index, assignment, logger: pino({ level: "silent" }), ...deps });
  return {
    ...running,
    gate,
    index,
    wsUrl: `ws://127.0.0.1:${running.wsPort}`,
    httpUrl: `http://127.0.0.1:${running.httpPort}`,
    stop: async () => {
      await running.close();
      tmp?.remove();
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The least time a wait gives its condition. A wait's bound is a liveness bound, not a speed bar (those
 * are benchmarks): what a test checks is the condition. Bounds of 2-3 s, enough on a quiet machine, were
 * short on a loaded one (CI runs at load 2-5 next to other suites); the mocha timeout still bounds a test.
 */
const LEAST_WAIT_MS = 10_000;

/** Waits for `cond`, for at least 10 s whatever `timeoutMs` says (see LEAST_WAIT_MS). */
export async function waitFor(cond: () => boolean, timeoutMs = LEAST_WAIT_MS, what = "condition"): Promise<void> {
  const deadline = Date.now() + Math.max(timeoutMs, LEAST_WAIT_MS);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A consent ledger GrantIssued event (as ConsentLedgerClient.events() decodes it) for scripted ledgers. */
export function grantIssuedEvent(grantId: string, productId: string, buyer: string, expiresAt: number) {
  return {
    type: "GrantIssued" as const,
    grantId,
    buyer,
    productId,
    resourceId: productId,
    purpose: "ScientificResearch",
    purposeId: "0x",
    issuedAt: expiresAt - 3600,
    expiresAt,
    attestationStructHash: "0x",
    subjectCount: 1,
  };
}
