// Benchmark child process: a publisher (pre-signed events; blast or paced) or a set of
// subscribers (receive times, resend timing). Driven by the orchestrator over IPC.

import { BrokerClient } from "../src/client/BrokerClient";
import { SignedEvent } from "../src/wire";
import { PUBLISHER_KEY, SUBSCRIBER_KEY, nowUs, presign, seqOf } from "./common";

type Msg = Record<string, any>;
const send = (m: Msg) => process.send!(m);

let events: SignedEvent[] = [];
let pub: BrokerClient | undefined;
let subs: { client: BrokerClient; recv: Float64Array; count: number }[] = [];

async function onMessage(m: Msg): Promise<Msg> {
  switch (m.cmd) {
    case "prepare-publisher": {
      const t = Date.now();
      events = presign(m.streamId, m.count);
      pub = await BrokerClient.connect(m.wsUrl);
      await pub.signIn(PUBLISHER_KEY);
      return { presignMs: Date.now() - t };
    }
    case "blast": {
      // Keep `window` publishes in flight; measure first send to last acknowledgement.
      let next = 0;
      let acked = 0;
      let failed = 0;
      const started = nowUs();
      await new Promise<void>((resolve) => {
        const pump = () => {
          while (next < events.length && next - acked - failed < m.window) {
            pub!.publish(events[next++].frame).then(
              () => (++acked + failed === events.length ? resolve() : pump()),
              () => (acked + ++failed === events.length ? resolve() : pump()),
            );
          }
        };
        pump();
      });
      return { acked, failed, elapsedUs: nowUs() - started };
    }
    case "paced": {
      // Sends at `rate` events/s in 1-ms ticks; records each event's send time.
      const sendTimes = new Float64Array(events.length);
      let next = 0;
      let acked = 0;
      let failed = 0;
      const start = nowUs();
      await new Promise<void>((resolve) => {
        const tick = () => {
          const due = Math.min(events.length, Math.floor(((nowUs() - start) / 1e6) * m.rate) + 1);
          while (next < due) {
            sendTimes[next] = nowUs();
            pub!.publish(events[next++].frame).then(
              () => acked++,
              () => failed++,
            );
          }
          if (next < events.length) setTimeout(tick, 1);
          else resolve();
        };
        tick();
      });
      const deadline = Date.now() + 10_000;
      while (acked + failed < events.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return { acked, failed, sendTimes: Array.from(sendTimes), elapsedUs: nowUs() - start };
    }
    case "subscribe": {
      for (const s of subs) await s.client.close();
      subs = [];
      for (let i = 0; i < m.connections; i++) {
        const client = await BrokerClient.connect(m.wsUrl);
        await client.signIn(SUBSCRIBER_KEY);
        const entry = { client, recv: new Float64Array(m.expected), count: 0 };
        client.onEvent = (frame) => {
          const seq = seqOf(frame);
          if (seq < entry.recv.length && entry.recv[seq] === 0) {
            entry.recv[seq] = nowUs();
            entry.count++;
          }
        };
        await client.subscribe(m.streamId, 0);
        subs.push(entry);
      }
      return {};
    }
    case "collect": {
      const deadline = Date.now() + (m.waitMs ?? 5000);
      while (subs.some((s) => s.count < s.recv.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return { received: subs.map((s) => Array.from(s.recv)), counts: subs.map((s) => s.count) };
    }
    case "resend": {
      const client = await BrokerClient.connect(m.wsUrl);
      await client.signIn(SUBSCRIBER_KEY);
      const runs: number[] = [];
      let count = 0;
      for (let i = 0; i < m.repeat; i++) {
        const t = nowUs();
        const r = await client.resend(m.streamId, 0, { type: "last", count: m.count });
        runs.push((nowUs() - t) / 1000);
        count = r.frames.length;
      }
      await client.close();
      return { runs, count };
    }
    case "exit":
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error(`unknown command ${m.cmd}`);
  }
}

process.on("message", (m: Msg) => {
  onMessage(m).then(
    (r) => send({ id: m.id, ok: true, ...r }),
    (err) => send({ id: m.id, ok: false, error: String(err?.stack ?? err) }),
  );
});
send({ ready: true });
