// The shapes both platform modules (_nodejs/, _browser/) implement.

/** One WebSocket connection, the same on both platforms (`ws` in Node, the platform's own in browsers). */
export interface PlatformSocket {
  /** Resolves once open; rejects when the connection fails or `timeoutMs` passes first. */
  readonly opened: Promise<void>;
  isOpen(): boolean;
  send(data: string | Uint8Array): void;
  /** Text messages as strings, binary ones as bytes. */
  onMessage: (data: string | Uint8Array) => void;
  /** Called once when the connection closes (either side), with the close code. */
  onClose: (code: number) => void;
  /** Closes politely; resolves when closed (a Node socket is terminated after `graceMs`). */
  close(graceMs?: number): Promise<void>;
  /** Drops the connection without a close handshake where the platform allows it (Node); closes otherwise. */
  terminate(): void;
}

export interface OpenSocketOptions {
  /** How long opening may take (ms). */
  timeoutMs: number;
  /** Largest message accepted (bytes); Node only, browsers have their own limit. */
  maxPayload: number;
}
