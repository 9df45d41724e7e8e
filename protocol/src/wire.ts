// The broker API's message shapes shared by both ends (docs/protocol.md §6): the binary message
// kinds and their layout, resend queries, gap notices and chain tips. The JSON requests and
// replies are documented there; errors carry the codes of ./errors.ts.

import { readUint32BE, writeUint32BE } from "./bytes";
import { ProtocolError, ProtocolErrorCodes } from "./errors";

/** First byte of a binary WebSocket message. */
export const BinaryKind = { PUBLISH: 1, DELIVER: 2, RESEND: 3, REPLICATE: 4 } as const;

/**
 * A position in a stream partition's resend order: events are ordered by (timestamp, sequenceNumber,
 * publisher), a total order (a publisher's sequence numbers are unique in a stream partition), the
 * same on every replica. Without `publisher`, the cursor stands after every publisher's event at
 * (timestamp, sequenceNumber) — enough for a query filtered by publisher.
 */
export interface ResendCursor {
  timestamp: number;
  sequenceNumber: number;
  publisher?: string;
}

/** Which events a resend returns (docs/protocol.md §6.4); `after` pages on from the previous answer's `next`. */
export type ResendQuery =
  | { type: "last"; count: number; publisher?: string }
  | { type: "from"; fromTimestamp: number; publisher?: string; after?: ResendCursor }
  | { type: "range"; fromTimestamp: number; toTimestamp: number; publisher?: string; after?: ResendCursor };

/** What a resend reports as missing from its answer (docs/protocol.md §6.4). */
export interface GapNotice {
  reason: "MISSING_EVENTS" | "CATCHING_UP";
  publisher?: string;
  /** The chain's events strictly between these sequence numbers are missing (MISSING_EVENTS). */
  fromSequence?: number;
  toSequence?: number;
  /** Unix ms; the missing events' timestamps lie in [fromTimestamp, toTimestamp]. */
  fromTimestamp: number;
  toTimestamp: number;
}

/** The tip of a publisher chain as a broker holds it (docs/protocol.md §6.6). */
export interface ChainTip {
  sequenceNumber: number;
  eventHash: string;
  timestamp: number;
}

/** kind ‖ requestId (uint32 BE) ‖ frame: a publish (or a replica's forward) of one event frame. */
export function encodeRequestFrame(kind: number, requestId: number, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + frame.length);
  out[0] = kind;
  writeUint32BE(out, requestId, 1);
  out.set(frame, 5);
  return out;
}

/** A binary message from a broker: a live delivery (kind ‖ frame) or a resend's frame (kind ‖ requestId ‖ frame). */
export type BrokerBinaryMessage<B extends Uint8Array = Uint8Array> =
  { kind: typeof BinaryKind.DELIVER; frame: B } | { kind: typeof BinaryKind.RESEND; requestId: number; frame: B };

/** Splits a broker's binary message; the frame is a view of `data`. MALFORMED_MESSAGE for an unknown kind or a short message. */
export function decodeBrokerBinaryMessage<B extends Uint8Array>(data: B): BrokerBinaryMessage<B> {
  if (data.length >= 1 && data[0] === BinaryKind.DELIVER) return { kind: BinaryKind.DELIVER, frame: data.subarray(1) as B };
  if (data.length >= 5 && data[0] === BinaryKind.RESEND) return { kind: BinaryKind.RESEND, requestId: readUint32BE(data, 1), frame: data.subarray(5) as B };
  throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `unknown or short binary message (kind ${data[0]}, ${data.length} bytes)`, {
    kind: data[0],
    length: data.length,
  });
}
