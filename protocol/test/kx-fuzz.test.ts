// Bad input to the key-exchange decoder ends in a typed ProtocolError, never another exception and never a result.
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ProtocolError } from "../src/errors";
import { decodeKeyExchangeMessage } from "../src/keyexchange/messages";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "test-vectors", "key-exchange.json"), "utf8"));
const valid = [V.request.bytes, V.response.bytes, V.error.bytes].map((h: string) => Buffer.from(h.slice(2), "hex"));

function refusedTyped(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof ProtocolError;
  }
}

describe("key-exchange decoder fuzzing", () => {
  it("refuses every mutation of a valid key-exchange message with a typed error", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (which, at, xor) => {
        const bytes = Buffer.from(valid[which]);
        bytes[at % bytes.length] ^= xor;
        return refusedTyped(() => decodeKeyExchangeMessage(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it("refuses truncated and extended key-exchange messages with a typed error", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 40 }), (which, cut, extra) => {
        const bytes = valid[which];
        return (
          refusedTyped(() => decodeKeyExchangeMessage(bytes.subarray(0, cut % bytes.length))) &&
          refusedTyped(() => decodeKeyExchangeMessage(Buffer.concat([bytes, extra])))
        );
      }),
      { numRuns: 200 },
    );
  });

  it("refuses random bytes as a key-exchange message with a typed error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (raw) => {
        const withMagic = Buffer.concat([Buffer.from("DMKX\x01"), Buffer.from(raw)]);
        return refusedTyped(() => decodeKeyExchangeMessage(Buffer.from(raw))) && refusedTyped(() => decodeKeyExchangeMessage(withMagic));
      }),
      { numRuns: 300 },
    );
  });
});
