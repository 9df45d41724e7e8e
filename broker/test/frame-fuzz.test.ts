// Property tests (fast-check) of the frame decoder: it never crashes on arbitrary input, refuses
// every single-byte change of a signed frame, and round-trips arbitrary valid fields.

import { expect } from "chai";
import fc from "fast-check";
import { isWireError } from "../src/errors";
import type { ProtocolError } from "../src/wire";
import { ContentType, EncryptionType, EventFields, ZERO_HASH, decodeFrame, signEvent, verifyEvent } from "../src/wire";
import { ALICE, ALICE_KEY, STREAM, TestPublisher } from "./helpers";

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => "0x" + Buffer.from(b).toString("hex"));

const fieldsArb: fc.Arbitrary<EventFields> = fc
  .record({
    streamId: hex32,
    streamPartition: fc.nat({ max: 0xffffffff }),
    timestamp: fc.maxSafeNat(),
    sequenceNumber: fc.maxSafeNat(),
    previousEventHash: hex32,
    contentType: fc.constantFrom(ContentType.BINARY, ContentType.JSON, ContentType.TEXT),
    encrypted: fc.boolean(),
    groupKeyId: hex32.filter((h) => h !== ZERO_HASH),
    content: fc.uint8Array({ maxLength: 300 }),
  })
  .map((r) => ({
    streamId: r.streamId,
    streamPartition: r.streamPartition,
    timestamp: r.timestamp,
    sequenceNumber: r.sequenceNumber,
    previousEventHash: r.previousEventHash,
    publisher: ALICE,
    contentType: r.contentType,
    encryptionType: r.encrypted ? EncryptionType.AES_256_GCM : EncryptionType.NONE,
    groupKeyId: r.encrypted ? r.groupKeyId : ZERO_HASH,
    content: r.content,
  }));

function decodeAndVerify(frame: Buffer): void {
  verifyEvent(decodeFrame(frame, 1 << 20));
}

describe("frame decoder (fuzzed)", () => {
  it("only ever throws an error with a wire code on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeAndVerify(Buffer.from(bytes));
        } catch (err) {
          return isWireError(err);
        }
        return false; // random bytes carrying a valid signature: practically impossible
      }),
      { numRuns: 2000 },
    );
  });

  it("only ever throws an error with a wire code on arbitrary bytes behind a valid header prefix", () => {
    const valid = new TestPublisher(ALICE_KEY).next("{}").frame;
    fc.assert(
      fc.property(fc.nat({ max: valid.length }), fc.uint8Array({ maxLength: 400 }), (cut, tail) => {
        const frame = Buffer.concat([valid.subarray(0, cut), tail]);
        try {
          decodeAndVerify(frame);
          return frame.equals(valid);
        } catch (err) {
          return isWireError(err);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses every single-byte change of a signed frame", () => {
    const valid = new TestPublisher(ALICE_KEY, STREAM).next('{"price":1}').frame;
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (position, xor) => {
        const frame = Buffer.from(valid);
        frame[position] ^= xor;
        try {
          decodeAndVerify(frame);
          return false;
        } catch (err) {
          return isWireError(err);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("round-trips arbitrary valid fields through sign, encode and decode", () => {
    fc.assert(
      fc.property(fieldsArb, (fields) => {
        const ev = signEvent(fields, ALICE_KEY);
        const d = decodeFrame(Buffer.from(ev.frame));
        verifyEvent(d);
        expect(Buffer.from(d.content).equals(Buffer.from(fields.content))).to.equal(true);
        const { content: _c, ...rest } = fields;
        for (const [k, v] of Object.entries(rest)) expect((d as unknown as Record<string, unknown>)[k], k).to.equal(v);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses content above the configured limit with PAYLOAD_TOO_LARGE before reading it", () => {
    const ev = new TestPublisher(ALICE_KEY).next(Buffer.alloc(2000));
    try {
      decodeFrame(ev.frame, 1000);
      expect.fail("accepted an oversized frame");
    } catch (err) {
      expect((err as ProtocolError).code).to.equal("PAYLOAD_TOO_LARGE");
      expect((err as ProtocolError).details).to.deep.equal({ contentLength: 2000, maxContentLength: 1000 });
    }
  });
});
