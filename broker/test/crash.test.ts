// Durability under kill -9: a broker process (the real CLI) is SIGKILLed while a publisher keeps
// a window of publishes in flight; after a restart on the same data directory, every event that
// was acknowledged is there, byte for byte, and the log is a gap-free prefix of what was sent.

import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { BrokerClient } from "../src/client/BrokerClient";
import { loadConfig } from "../src/config";
import { startBroker } from "../src/Broker";
import { decodeFrame, eventHash, SignedEvent } from "../src/wire";
import { spawnBroker } from "./process";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, STREAM, TestPublisher, tempDir } from "./helpers";

const startCliBroker = (configFile: string) => spawnBroker(configFile, { timeoutMs: 45_000 }); // a fresh clone transpiles the broker at its first start

describe("durability under kill -9", () => {
  const spawned: import("node:child_process").ChildProcess[] = [];
  after(() => {
    for (const c of spawned) c.kill("SIGKILL"); // whatever the outcome
  });
  it("loses no acknowledged event when the broker is killed during sustained publishing", async function () {
    this.timeout(90_000);
    const tmp = tempDir("broker-crash-");
    const configFile = join(tmp.dir, "broker.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        wsPort: 0,
        httpPort: 0,
        dataDir: join(tmp.dir, "data"),
        streams: [{ creator: ALICE, path: "/prices/eth-usd", partitions: 2 }],
        access: { static: { publicStreams: [], publishers: { [STREAM]: [ALICE] }, subscribers: { [STREAM]: [BOB] } } },
      }),
    );
    const { child, wsPort } = await startCliBroker(configFile);
    spawned.push(child);
    const pub = await BrokerClient.connect(`ws://127.0.0.1:${wsPort}`);
    await pub.signIn(ALICE_KEY);

    const p = new TestPublisher(ALICE_KEY);
    const sent: SignedEvent[] = [];
    const acked = new Set<number>();
    let inFlight = 0;
    let stop = false;
    const WINDOW = 64;
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const pump = () => {
        while (!stop && inFlight < WINDOW) {
          const e = p.next(`{"n":${p.sequenceNumber}}`);
          sent.push(e);
          inFlight++;
          const seq = e.sequenceNumber;
          pub.publish(e.frame).then(
            () => {
              acked.add(seq);
              inFlight--;
              // Kill once a few thousand are acknowledged, with a full window still in flight.
              if (!stop && (acked.size >= 3000 || Date.now() - started > 5000)) {
                stop = true;
                child.kill("SIGKILL");
                resolve();
              }
              pump();
            },
            () => inFlight--,
          );
        }
      };
      pump();
    });
    await new Promise((r) => child.once("exit", r));
    const ackedAtKill = new Set(acked);
    expect(ackedAtKill.size).to.be.at.least(100);

    // Restart on the same data directory (in process) and read everything back.
    const broker = await startBroker(loadConfig(configFile), { logger: pino({ level: "silent" }) });
    try {
      const sub = await BrokerClient.connect(`ws://127.0.0.1:${broker.wsPort}`);
      await sub.signIn(BOB_KEY);
      const { frames } = await sub.resend(STREAM, 0, { type: "last", count: 100_000 });
      const stored = frames.map((f) => decodeFrame(f));
      const storedSeqs = stored.map((e) => e.sequenceNumber);
      // A gap-free prefix 0..k-1 of what was sent, containing every acknowledged event.
      expect(storedSeqs).to.deep.equal(Array.from({ length: stored.length }, (_, i) => i));
      for (const seq of ackedAtKill) expect(seq, `acknowledged event ${seq} lost`).to.be.below(stored.length);
      for (const e of stored) expect(e.frame.equals(sent[e.sequenceNumber].frame)).to.equal(true);
      console.log(
        `      sent ${sent.length}, acknowledged ${ackedAtKill.size}, recovered ${stored.length} (truncated ${broker.node.store.stats.truncatedBytes} torn bytes)`,
      );
      // The publisher chain continues after recovery.
      const cont = new TestPublisher(ALICE_KEY);
      cont.sequenceNumber = stored.length;
      cont.previousEventHash = "0x" + eventHash(stored[stored.length - 1].canonical).toString("hex");
      const pub2 = await BrokerClient.connect(`ws://127.0.0.1:${broker.wsPort}`);
      await pub2.signIn(ALICE_KEY);
      await pub2.publish(cont.next().frame);
      await Promise.all([sub.close(), pub2.close()]);
    } finally {
      await broker.close();
      await pub.close();
      tmp.remove();
    }
  });
});
