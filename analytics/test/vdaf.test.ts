// The Prio3 parameters this package chooses where a study leaves them open.
import { expect } from "chai";
import { Prio3Histogram, Prio3SumVec } from "@divviup/prio3";
import { optimalChunkLength, vdafParametersOf } from "../src/vdaf";

describe("Prio3 parameters", function () {
  it("defaults the chunk length to the one with the library's shortest proof", function () {
    // the proof length as @divviup/prio3 computes it, over every possible chunk length
    const proofLength = (length: number, bits: number, chunkLength: number) => new Prio3SumVec({ shares: 2, length, bits, chunkLength }).flp.proofLen;
    for (const [length, bits] of [
      [10, 16],
      [3, 16],
      [1, 8],
      [5, 1],
      [20, 12],
      [7, 3],
    ]) {
      const all = Array.from({ length: length * bits }, (_, i) => proofLength(length, bits, i + 1));
      const chosen = optimalChunkLength(length * bits);
      expect(proofLength(length, bits, chosen), `${length} x ${bits} bits`).to.equal(Math.min(...all));
    }
    for (const buckets of [2, 3, 4, 10, 33]) {
      const all = Array.from({ length: buckets }, (_, i) => new Prio3Histogram({ shares: 2, length: buckets, chunkLength: i + 1 }).flp.proofLen);
      expect(new Prio3Histogram({ shares: 2, length: buckets, chunkLength: optimalChunkLength(buckets) }).flp.proofLen, `${buckets} buckets`).to.equal(
        Math.min(...all),
      );
    }
    expect(vdafParametersOf({ name: "v", type: "sumvec", fields: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], bits: 16 })).to.deep.equal({
      type: "sumvec",
      length: 10,
      bits: 16,
      chunkLength: 11,
    });
    expect(vdafParametersOf({ name: "v", type: "sumvec", fields: ["a"], bits: 16, chunkLength: 4 })).to.deep.include({ chunkLength: 4 });
  });
});
