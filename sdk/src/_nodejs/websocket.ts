// Node's WebSocket: the `ws` package (Node 20 has no global WebSocket).

import { WebSocket } from "ws";
import type { OpenSocketOptions, PlatformSocket } from "../platform-types";

export function openSocket(url: string, options: OpenSocketOptions): PlatformSocket {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: options.maxPayload, handshakeTimeout: options.timeoutMs });
  let closed = false;
  const socket: PlatformSocket = {
    opened: new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`opening ${url} took longer than ${options.timeoutMs} ms`));
        ws.terminate();
      }, options.timeoutMs);
      ws.once("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`connection closed (${code})`));
      });
    }),
    isOpen: () => ws.readyState === WebSocket.OPEN,
    send: (data) => ws.send(data),
    onMessage: () => undefined,
    onClose: () => undefined,
    close: (graceMs = 1000) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(() => ws.terminate(), graceMs);
        ws.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        ws.close();
      }),
    terminate: () => ws.terminate(),
  };
  socket.opened.catch(() => undefined);
  ws.on("message", (data: Buffer, isBinary: boolean) => socket.onMessage(isBinary ? data : data.toString("utf8")));
  ws.on("close", (code) => {
    if (closed) return;
    closed = true;
    socket.onClose(code);
  });
  ws.on("error", () => undefined); // 'close' follows and reports it
  return socket;
}
