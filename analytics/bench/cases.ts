// The measurements the analytics benchmarks aggregate (issue 16): Prio3Sum of 8 bits and a
// 10-measurement Prio3SumVec of 16 bits, with a deterministic value per report index.
import type { MeasurementSpec } from "../src";

/** Subjects of the benchmark world; reports are uploaded in rounds of one report per subject. */
export const SUBJECTS = 100;
const FIELDS = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];

export interface BenchCase {
  key: "sum" | "sumvec";
  label: string;
  spec: MeasurementSpec;
  value: (i: number) => Record<string, number>;
}

export const CASES: BenchCase[] = [
  { key: "sum", label: "Prio3Sum (8 bits)", spec: { name: "value", type: "sum", field: "v", bits: 8 }, value: (i) => ({ v: (i * 37) % 256 }) },
  {
    key: "sumvec",
    label: "Prio3SumVec (10 x 16 bits)",
    spec: { name: "vector", type: "sumvec", fields: FIELDS, bits: 16 },
    value: (i) => Object.fromEntries(FIELDS.map((f, j) => [f, (i * 131 + j * 977) % 65_536])),
  },
];
