// One aggregator's view is statistically indistinguishable from random: the input shares the leader
// (and the helper) can decrypt from its durable store are tested byte by byte with chi-square tests,
// for uniformity and for independence from the measurement; the same tests on the unshared encoding
// show they would catch a leak.
import { expect } from "chai";
import { encodeReports, uploadReports, vdafFor, vdafParametersOf, type Study } from "../src";
import { createWorld, hourStart, type World } from "./fixture";

/** Upper tail of the standard normal (Abramowitz & Stegun 7.1.26 for erfc). */
function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** P(X >= chi2) for X ~ chi-square(df), by the Wilson-Hilferty transformation (accurate for df >= 30). */
function chiSquarePValue(chi2: number, df: number): number {
  const z = (Math.cbrt(chi2 / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
  return normalUpperTail(z);
}

function byteCounts(bytes: Uint8Array): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]++;
  return counts;
}

/** Goodness of fit of the byte values to the uniform distribution on 0..255 (255 degrees of freedom). */
function uniformity(bytes: Uint8Array): number {
  const expected = bytes.length / 256;
  return chiSquarePValue(
    byteCounts(bytes).reduce((s, c) => s + (c - expected) ** 2 / expected, 0),
    255,
  );
}

/** Homogeneity of two byte samples (2 x 256 contingency table, 255 degrees of freedom). */
function homogeneity(a: Uint8Array, b: Uint8Array): number {
  const ca = byteCounts(a);
  const cb = byteCounts(b);
  const n = a.length + b.length;
  let chi2 = 0;
  for (let v = 0; v < 256; v++) {
    const total = ca[v] + cb[v];
    if (total === 0) continue;
    const ea = (total * a.length) / n;
    const eb = (total * b.length) / n;
    chi2 += (ca[v] - ea) ** 2 / ea + (cb[v] - eb) ** 2 / eb;
  }
  return chiSquarePValue(chi2, 255);
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
// one test in a run of this suite fails by chance with probability about 6 x 1e-6
const ALPHA = 1e-6;

describe("one aggregator's share store", function () {
  let w: World;
  let sumOnly: Study;
  const ROUNDS = 16; // 16 uploads x 12 subjects = 192 reports per measured value

  before(async function () {
    this.timeout(300_000);
    w = await createWorld({});
    sumOnly = { ...w.study, descriptor: { ...w.study.descriptor, measurements: [w.study.descriptor.measurements[0]] } };
  });

  after(async () => {
    await w?.close();
  });

  /** Uploads ROUNDS reports per subject, every subject measuring `value`, at hours `fromHour`... ago. */
  async function uploadConstant(value: number, fromHour: number): Promise<number[]> {
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const time = hourStart(w, fromHour + round);
      const encoded = await encodeReports(
        w.subjects.map((subjectId) => ({ subjectId, data: { test: "HbA1c", value } })),
        sumOnly,
        w.decision,
        { time },
      );
      expect((await uploadReports(sumOnly, encoded)).accepted).to.equal(w.subjects.length);
      times.push(time);
    }
    return times;
  }

  it("holds measurement shares that are uniform bytes and independent of the measurement", async () => {
    const lowTimes = new Set(await uploadConstant(4.0, 100)); // every subject reports 40 (x10)
    const highTimes = new Set(await uploadConstant(25.5, 200)); // every subject reports 255: all eight bits set
    const spec = sumOnly.descriptor.measurements[0];
    const vdaf = vdafFor(vdafParametersOf(spec));
    const measurementBytes = vdaf.prio3.flp.measurementLen * vdaf.encodedSize;
    const stored = w.leader.storedReports(w.study.productId).filter((r) => r.measurement === spec.name);
    const view = async (times: Set<number>) => {
      const reports = stored.filter((r) => times.has(r.time));
      expect(reports).to.have.length(ROUNDS * w.subjects.length);
      // what the leader reads from its own store with its own key: the measurement share vectors
      const shares = await Promise.all(reports.map(async (r) => (await w.leader.ownInputShare(w.study.productId, r)).subarray(0, measurementBytes)));
      return concat(shares);
    };
    const low = await view(lowTimes);
    const high = await view(highTimes);
    expect(low.length).to.equal(192 * 8 * 16);
    expect(uniformity(low)).to.be.greaterThan(ALPHA);
    expect(uniformity(high)).to.be.greaterThan(ALPHA);
    expect(homogeneity(low, high)).to.be.greaterThan(ALPHA);

    // power: the same bytes without secret sharing (the encoded bits) fail both tests by far
    const field = vdaf.prio3.flp.field;
    const plainLow = concat(Array.from({ length: 192 }, () => field.encode(vdaf.prio3.flp.encode(40n))));
    const plainHigh = concat(Array.from({ length: 192 }, () => field.encode(vdaf.prio3.flp.encode(255n))));
    expect(uniformity(plainLow)).to.be.lessThan(1e-12);
    expect(homogeneity(plainLow, plainHigh)).to.be.lessThan(1e-12);
  }).timeout(120_000);

  it("gives the helper only uniform seeds", async () => {
    const stored = w.leader.storedReports(w.study.productId);
    // the helper's share travels through the leader's store sealed to the helper: open it with the helper's key
    const seeds = concat(await Promise.all(stored.map((r) => w.helper.ownInputShare(w.study.productId, r))));
    expect(seeds.length).to.equal(stored.length * 48);
    expect(uniformity(seeds)).to.be.greaterThan(ALPHA);
  }).timeout(60_000);
});
