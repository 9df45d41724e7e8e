// The broker bench's same-run baseline: a plain `ws` relay that speaks just enough of the broker's
// WebSocket API (docs/protocol.md §6) for the bench's clients — hello, sign-in (not checked),
// subscribe, publish — and forwards each published frame to the subscribers of its stream partition
// with no decoding, no verification, no chain rules and no storage, then acknowledges it. The same
// client processes drive it at the same rates as the broker, so the broker's figures can be read as
// ratios to what the machine, at that moment, does for a bare WebSocket hop.

import { WebSocketServer, type WebSocket } from "ws";

const PUBLISH = 1;
const DELIVER = 2;

export interface Relay {
  url: string;
  close(): Promise<void>;
}

export async function startRelay(): Promise<Relay> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 4 * 1024 * 1024 });
  /** Subscribers by streamId ‖ streamPartition (the frame's bytes 1..37, hex). */
  const subscribers = new Map<string, Set<WebSocket>>();
  server.on("connection", (ws) => {
    ws.send(JSON.stringify({ type: "hello", protocolVersion: 1, nonce: "relay", domain: "localhost", chainId: 31337 }));
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (data[0] !== PUBLISH) return;
        const requestId = data.readUInt32BE(1);
        const frame = data.subarray(5);
        const message = Buffer.allocUnsafe(1 + frame.length);
        message[0] = DELIVER;
        frame.copy(message, 1);
        for (const sub of subscribers.get(frame.toString("hex", 1, 37)) ?? []) sub.send(message);
        ws.send(JSON.stringify({ type: "published", requestId }));
        return;
      }
      const msg = JSON.parse(data.toString("utf8")) as { type: string; requestId?: number; streamId?: string; streamPartition?: number };
      if (msg.type === "subscribe" || msg.type === "unsubscribe") {
        const key = String(msg.streamId).slice(2).toLowerCase() + (msg.streamPartition ?? 0).toString(16).padStart(8, "0");
        let set = subscribers.get(key);
        if (!set) subscribers.set(key, (set = new Set()));
        if (msg.type === "subscribe") set.add(ws);
        else set.delete(ws);
      }
      ws.send(JSON.stringify({ type: msg.type === "auth" ? "authenticated" : `${msg.type}d`, requestId: msg.requestId }));
    });
    ws.on("close", () => {
      for (const set of subscribers.values()) set.delete(ws);
    });
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
