// The broker's view of @datamarket/protocol: the same functions, with Buffer results. A frame the
// broker decodes arrives as a Buffer, so every byte field of its SignedEvent is a Buffer view of
// it (stored and forwarded without copies); hashes come back as Buffers (views, no copies).

import * as protocol from "@datamarket/protocol";

// Everything else as the protocol package has it; the declarations below shadow their namesakes.
export * from "@datamarket/protocol";

export type SignedEvent = protocol.SignedEvent<Buffer>;
export type EventFields = protocol.EventFields;

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function decodeFrame(frame: Buffer, maxContentLength?: number): SignedEvent {
  return protocol.decodeFrame(frame, maxContentLength);
}

/** Verifies the signature; returns the eventHash, or throws INVALID_SIGNATURE. */
export function verifyEvent(event: SignedEvent): Buffer {
  return asBuffer(protocol.verifyEvent(event));
}

export function eventHash(canonical: Uint8Array): Buffer {
  return asBuffer(protocol.eventHash(canonical));
}

export function keccak256(data: Uint8Array): Buffer {
  return asBuffer(protocol.keccak256(data));
}

/** Signs the fields with a private key; the event's byte fields are Buffers. */
export function signEvent(fields: EventFields, privateKey: Uint8Array): SignedEvent {
  return protocol.decodeFrame(asBuffer(protocol.signEvent(fields, privateKey).frame));
}

export { asBuffer };
