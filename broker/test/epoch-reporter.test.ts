// The epoch reporter submits each served partition's report once, after the epoch is closed.

import { expect } from "chai";
import { EpochTracker, EpochReport } from "../src/network/EpochTracker";
import { EpochReporter } from "../src/network/EpochReporter";
import { StaticPartitionAssignment } from "../src/network/PartitionAssignment";

describe("EpochReporter", () => {
  it("reports an epoch only after its end plus the clock-skew bound, once per served partition, and retries failures", async () => {
    const LEN = 1000;
    const SKEW = 200;
    const tracker = new EpochTracker(LEN);
    const reports: EpochReport[] = [];
    let fail = false;
    const reporter = {
      report: async (r: EpochReport) => {
        if (fail) throw new Error("chain unreachable");
        reports.push(r);
      },
    };
    const t0 = 49_500; // started during epoch 49: the first epoch reported is 50
    const r = new EpochReporter(tracker, new StaticPartitionAssignment(() => 3, new Set([3, 5])), reporter, SKEW, [0], undefined, t0);
    tracker.add(3, 49_900, Buffer.alloc(32, 9)); // epoch 49: never reported
    tracker.add(3, 50_100, Buffer.alloc(32, 1));
    tracker.add(3, 50_900, Buffer.alloc(32, 2));
    await r.tick(51_100); // epoch 50 ended at 51_000 but the skew bound has not passed
    expect(reports).to.have.length(0);
    fail = true;
    await r.tick(51_250);
    expect(reports).to.have.length(0);
    fail = false;
    await r.tick(51_300);
    expect(reports.map((x) => [x.epoch, x.networkPartition, x.count])).to.deep.equal([
      [50, 3, 2],
      [50, 5, 0],
    ]);
    await r.tick(52_300); // epoch 51 closed, empty
    expect(reports.slice(2).map((x) => [x.epoch, x.networkPartition, x.count])).to.deep.equal([
      [51, 3, 0],
      [51, 5, 0],
    ]);
    reports.length = 2;
    expect(reports[0].checksum).to.equal(tracker.report(50, 3).checksum);
    await r.tick(51_400);
    expect(reports).to.have.length(2);
  });
});
