// Prio3 from @divviup/prio3 (draft-irtf-cfrg-vdaf-08) for one measurement spec, and the byte layouts of
// its messages. The library is a client library: it shards and prepares, but has no decoders for the
// messages aggregators receive. The decoders here only cut byte strings at the lengths the draft fixes
// and hand each piece to the library's own field decoder (which rejects non-canonical elements) or, for
// a helper's seeds, to the library's own XOF expansion, exactly as its client derived them. No field
// arithmetic and no proof logic is written here.
import { Prio3Count, Prio3Histogram, Prio3Sum, Prio3SumVec, type Prio3 } from "@divviup/prio3";
import { Buffer } from "node:buffer";
import type { MeasurementSpec, Prio3Measurement } from "./study";

/** What the Prio3 instance depends on (two measurement specs with the same key share one instance). */
export type VdafParameters =
  | { type: "count" }
  | { type: "sum"; bits: number }
  | { type: "sumvec"; length: number; bits: number; chunkLength: number }
  | { type: "histogram"; length: number; chunkLength: number };

/**
 * The chunk length of Prio3SumVec / Prio3Histogram's ParallelSum gadget that makes the proof shortest,
 * as libprio (the prio crate, `optimal_chunk_length`) chooses it. With c the chunk length, the gadget is
 * called k = ceil(length / c) times and its polynomials have 2^ceil(log2(k + 1)) points; the proof
 * carries 2c wire seeds and 2(2^ceil(log2(k + 1)) - 1) gadget coefficients. The candidates are the
 * call counts 2^j - 1 (each the largest for its power of two), j from the largest down: the first with
 * the fewest proof elements wins. Every aggregator interpolates and evaluates each of the 2c wires per
 * report, so the shortest proof is also the cheapest preparation: for 10 x 16 bits it is 11 (the
 * square-root rule of thumb of draft-irtf-cfrg-vdaf-08 §7.4.2 gave 13, 8 % more CPU).
 */
export function optimalChunkLength(measurementLength: number): number {
  if (measurementLength <= 1) return 1;
  let best = { chunkLength: measurementLength, proofLength: Infinity };
  for (let j = Math.floor(Math.log2(measurementLength + 1)); j >= 1; j--) {
    const calls = 2 ** j - 1;
    const chunkLength = Math.ceil(measurementLength / calls);
    const points = 2 ** Math.ceil(Math.log2(calls + 1));
    const proofLength = 2 * chunkLength + 2 * (points - 1);
    if (proofLength < best.proofLength) best = { chunkLength, proofLength };
  }
  return best.chunkLength;
}

export function vdafParametersOf(spec: MeasurementSpec): VdafParameters {
  switch (spec.type) {
    case "count":
      return { type: "count" };
    case "sum":
      return { type: "sum", bits: spec.bits };
    case "sumvec":
      return {
        type: "sumvec",
        length: spec.fields.length,
        bits: spec.bits,
        chunkLength: spec.chunkLength ?? optimalChunkLength(spec.fields.length * spec.bits),
      };
    case "histogram":
      return { type: "histogram", length: spec.bounds.length + 1, chunkLength: spec.chunkLength ?? optimalChunkLength(spec.bounds.length + 1) };
  }
}

// The library's types: one Prio3 over any measurement, prepared with the structures it returns.
/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyPrio3 = Prio3<any, any>;
interface PrepShare {
  verifiersShare: bigint[];
  jointRandomnessPart: Buffer;
}
interface PrepState {
  correctedJointRandSeed: Buffer;
  outputShare: bigint[];
}
interface InputShare {
  measurementShare: bigint[];
  proofsShare: bigint[];
  blind: Buffer;
}
/** The library's private helpers this module calls (XOF expansion of a helper's seeds). */
interface Prio3Internals {
  pseudorandom(len: number, usage: number, seed: Buffer, binder: Buffer | number): Promise<bigint[]>;
  useJointRand(): boolean;
}
/** Prio3's XOF usage constants (draft-irtf-cfrg-vdaf-08 §7.2), as the library's client uses them. */
const USAGE_MEASUREMENT_SHARE = 1;
const USAGE_PROOF_SHARE = 2;

export const LEADER = 0;
export const HELPER = 1;

/** One measurement's Prio3 with the encodings of draft-irtf-cfrg-vdaf-08 §7.2.6. */
export class Vdaf {
  readonly prio3: AnyPrio3;
  readonly seedSize: number;
  readonly encodedSize: number;
  readonly jointRand: boolean;
  private readonly internals: Prio3Internals;

  constructor(readonly parameters: VdafParameters) {
    this.prio3 = instantiate(parameters);
    this.internals = this.prio3 as unknown as Prio3Internals;
    this.seedSize = this.prio3.verifyKeySize;
    this.encodedSize = this.prio3.flp.field.encodedSize;
    this.jointRand = this.internals.useJointRand();
  }

  get nonceSize(): number {
    return this.prio3.nonceSize;
  }
  get randSize(): number {
    return this.prio3.randSize;
  }

  /** Shards one measurement: public share, leader input share, helper input share (encoded). */
  async shard(measurement: Prio3Measurement, nonce: Uint8Array, rand: Uint8Array): Promise<{ publicShare: Buffer; leaderShare: Buffer; helperShare: Buffer }> {
    const { publicShare, inputShares } = await this.prio3.shardEncoded(measurement, Buffer.from(nonce), Buffer.from(rand));
    return { publicShare, leaderShare: inputShares[0], helperShare: inputShares[1] };
  }

  private decodeFieldVector(bytes: Uint8Array, length: number, what: string): bigint[] {
    if (bytes.length !== length * this.encodedSize) throw new Error(`${what}: ${bytes.length} bytes, expected ${length * this.encodedSize}`);
    return this.prio3.flp.field.decode(bytes);
  }

  /** jointRandParts (one seed per aggregator) or none. */
  decodePublicShare(bytes: Uint8Array): { jointRandParts: Buffer[] } {
    const parts = this.jointRand ? 2 : 0;
    if (bytes.length !== parts * this.seedSize) throw new Error(`public share: ${bytes.length} bytes, expected ${parts * this.seedSize}`);
    return { jointRandParts: Array.from({ length: parts }, (_, i) => Buffer.from(bytes.subarray(i * this.seedSize, (i + 1) * this.seedSize))) };
  }

  /** The leader's input share: measurement share ‖ proofs share ‖ blind. */
  decodeLeaderShare(bytes: Uint8Array): InputShare {
    const { flp, proofs } = this.prio3;
    const measurementBytes = flp.measurementLen * this.encodedSize;
    const proofBytes = flp.proofLen * proofs * this.encodedSize;
    const blindBytes = this.jointRand ? this.seedSize : 0;
    if (bytes.length !== measurementBytes + proofBytes + blindBytes)
      throw new Error(`leader input share: ${bytes.length} bytes, expected ${measurementBytes + proofBytes + blindBytes}`);
    return {
      measurementShare: this.decodeFieldVector(bytes.subarray(0, measurementBytes), flp.measurementLen, "measurement share"),
      proofsShare: this.decodeFieldVector(bytes.subarray(measurementBytes, measurementBytes + proofBytes), flp.proofLen * proofs, "proofs share"),
      blind: Buffer.from(bytes.subarray(measurementBytes + proofBytes)),
    };
  }

  /** The helper's input share: three seeds (two without joint randomness), expanded by the library's XOF. */
  async expandHelperShare(bytes: Uint8Array): Promise<InputShare> {
    const { flp, proofs } = this.prio3;
    const seeds = this.jointRand ? 3 : 2;
    if (bytes.length !== seeds * this.seedSize) throw new Error(`helper input share: ${bytes.length} bytes, expected ${seeds * this.seedSize}`);
    const seed = (i: number) => Buffer.from(bytes.subarray(i * this.seedSize, (i + 1) * this.seedSize));
    const shareId = Buffer.of(HELPER);
    return {
      measurementShare: await this.internals.pseudorandom(flp.measurementLen, USAGE_MEASUREMENT_SHARE, seed(0), shareId),
      proofsShare: await this.internals.pseudorandom(flp.proofLen * proofs, USAGE_PROOF_SHARE, seed(1), Buffer.of(proofs, HELPER)),
      blind: this.jointRand ? seed(2) : Buffer.alloc(0),
    };
  }

  async decodeInputShare(aggregatorId: number, bytes: Uint8Array): Promise<InputShare> {
    return aggregatorId === LEADER ? this.decodeLeaderShare(bytes) : this.expandHelperShare(bytes);
  }

  encodePrepShare(share: PrepShare): Buffer {
    return this.prio3.encodePreparationShare(share);
  }

  decodePrepShare(bytes: Uint8Array): PrepShare {
    const verifierLen = this.prio3.flp.verifierLen * this.prio3.proofs;
    const verifierBytes = verifierLen * this.encodedSize;
    const partBytes = this.jointRand ? this.seedSize : 0;
    if (bytes.length !== verifierBytes + partBytes) throw new Error(`prep share: ${bytes.length} bytes, expected ${verifierBytes + partBytes}`);
    return {
      verifiersShare: this.decodeFieldVector(bytes.subarray(0, verifierBytes), verifierLen, "verifier share"),
      jointRandomnessPart: Buffer.from(bytes.subarray(verifierBytes)),
    };
  }

  decodePrepMessage(bytes: Uint8Array): { jointRand: Buffer } {
    const expected = this.jointRand ? this.seedSize : 0;
    if (bytes.length !== expected) throw new Error(`prep message: ${bytes.length} bytes, expected ${expected}`);
    return { jointRand: Buffer.from(bytes) };
  }

  async prepareInit(
    verifyKey: Uint8Array,
    aggregatorId: number,
    nonce: Uint8Array,
    publicShare: Uint8Array,
    inputShare: Uint8Array,
  ): Promise<{ state: PrepState; share: PrepShare }> {
    const decoded = await this.decodeInputShare(aggregatorId, inputShare);
    const { preparationState, preparationShare } = await this.prio3.prepareInit(
      Buffer.from(verifyKey),
      aggregatorId,
      null,
      Buffer.from(nonce),
      this.decodePublicShare(publicShare),
      decoded as Parameters<AnyPrio3["prepareInit"]>[5],
    );
    return { state: preparationState as PrepState, share: preparationShare as PrepShare };
  }

  /** Combines the two prep shares; throws when the proof does not verify (draft §7.2.4: prep_shares_to_prep). */
  async prepMessage(leader: PrepShare, helper: PrepShare): Promise<{ jointRand: Buffer }> {
    return (await this.prio3.unshardPreparationShares(null, [leader, helper])) as { jointRand: Buffer };
  }

  /** The output share; throws when the joint randomness does not match (draft §7.2.4: prep_next). */
  prepareNext(state: PrepState, message: { jointRand: Buffer }): bigint[] {
    const next = this.prio3.prepareNext(state, message) as { outputShare?: bigint[] };
    if (!next.outputShare) throw new Error("Prio3 takes one round; prepareNext returned no output share");
    return next.outputShare;
  }

  /** Sum of output shares or of partial aggregate shares (the same type in Prio3). */
  aggregate(shares: bigint[][]): bigint[] {
    return this.prio3.aggregate(null, shares) as bigint[];
  }

  encodeAggregateShare(share: bigint[]): Buffer {
    return this.prio3.encodeAggregatorShare(share);
  }

  decodeAggregateShare(bytes: Uint8Array): bigint[] {
    return this.decodeFieldVector(bytes, this.prio3.flp.outputLen, "aggregate share");
  }

  /** The aggregate result from both aggregate shares. */
  unshard(leader: bigint[], helper: bigint[], reportCount: number): unknown {
    return this.prio3.unshard(null, [leader, helper], reportCount);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

function instantiate(p: VdafParameters): AnyPrio3 {
  switch (p.type) {
    case "count":
      return new Prio3Count({ shares: 2 });
    case "sum":
      return new Prio3Sum({ shares: 2, bits: p.bits });
    case "sumvec":
      return new Prio3SumVec({ shares: 2, length: p.length, bits: p.bits, chunkLength: p.chunkLength });
    case "histogram":
      return new Prio3Histogram({ shares: 2, length: p.length, chunkLength: p.chunkLength });
  }
}

const cache = new Map<string, Vdaf>();

/** One Vdaf per parameter set (instances hold no per-report state). */
export function vdafFor(parameters: VdafParameters): Vdaf {
  const key = JSON.stringify(parameters);
  let vdaf = cache.get(key);
  if (!vdaf) {
    vdaf = new Vdaf(parameters);
    cache.set(key, vdaf);
  }
  return vdaf;
}
