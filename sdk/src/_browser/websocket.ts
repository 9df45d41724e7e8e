// The browser's own WebSocket (globalThis.WebSocket); binary messages as ArrayBuffers.

import type { OpenSocketOptions, PlatformSocket } from "../platform-types";

/** The part of the DOM WebSocket used here (declared so that the SDK compiles without the DOM lib). */
interface DomWebSocket {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBufferView): void;
  close(code?: number): void;
  addEventListener(type: string, listener: (event: { data?: unknown; code?: number }) => void): void;
}

export function openSocket(url: string, options: OpenSocketOptions): PlatformSocket {
  const Ctor = (globalThis as unknown as { WebSocket?: new (url: string) => DomWebSocket }).WebSocket;
  if (!Ctor) throw new Error("this platform has no WebSocket");
  const ws = new Ctor(url);
  ws.binaryType = "arraybuffer";
  let closed = false;
  const closeWaiters: Array<() => void> = [];
  const socket: PlatformSocket = {
    opened: new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`opening ${url} took longer than ${options.timeoutMs} ms`));
        ws.close();
      }, options.timeoutMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener("close", (e) => {
        clearTimeout(timer);
        reject(new Error(`connection closed (${e.code})`));
      });
    }),
    isOpen: () => ws.readyState === 1,
    send: (data) => ws.send(data),
    onMessage: () => undefined,
    onClose: () => undefined,
    close: (graceMs = 1000) =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        const timer = setTimeout(resolve, graceMs);
        closeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        ws.close(1000);
      }),
    terminate: () => ws.close(),
  };
  socket.opened.catch(() => undefined);
  ws.addEventListener("message", (e) => socket.onMessage(typeof e.data === "string" ? e.data : new Uint8Array(e.data as ArrayBuffer)));
  ws.addEventListener("close", (e) => {
    if (closed) return;
    closed = true;
    for (const w of closeWaiters.splice(0)) w();
    socket.onClose(e.code ?? 1006);
  });
  return socket;
}
