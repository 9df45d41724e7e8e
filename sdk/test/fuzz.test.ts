// Bad input to the dataset decoder ends in a typed SdkError, never another exception and never a result.
// (The key-exchange decoder is fuzzed in protocol/test/kx-fuzz.test.ts.)
import { expect } from "chai";
import fc from "fast-check";
import { decodeManifest, encodeManifest } from "../src/dataset/Dataset";
import { SdkError } from "../src/errors";

function refusedTyped(fn: () => unknown): boolean {
  try {
    fn();
    return false;
  } catch (err) {
    return err instanceof SdkError;
  }
}

describe("decoder fuzzing", () => {
  it("decodes random bytes after the dataset magic only to a manifest that re-encodes to them, else a typed error", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const bytes = Buffer.concat([Buffer.from("DMDS\x01", "latin1"), Buffer.from(raw)]);
        try {
          const m = decodeManifest(bytes);
          return Buffer.from(encodeManifest(m.datasetId, m.rows)).equals(bytes.subarray(0, m.length));
        } catch (err) {
          return err instanceof SdkError;
        }
      }),
      { numRuns: 300 },
    );
    // A chunk count larger than the file is refused before any allocation.
    expect(
      refusedTyped(() => decodeManifest(Buffer.concat([Buffer.from("DMDS\x01", "latin1"), Buffer.alloc(32), Buffer.from([0xff, 0xff, 0xff, 0xff])]))),
    ).to.equal(true);
  });
});
