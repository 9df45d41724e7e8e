// The narrator's checks: a failed expectation stops the step with a message naming the step, the
// expectation and the value seen; the table sums the steps.
import { expect } from "chai";
import type { JsonRpcProvider } from "ethers";
import { ExpectationFailed, Narrator } from "../src/narrator";

// A node with one block per call of getBlockNumber, each holding one transaction of 21,000 gas.
function fakeProvider(): JsonRpcProvider {
  let head = 0;
  return {
    getBlockNumber: async () => head++,
    send: async () => ({ transactions: ["0x01"], gasUsed: "0x5208" }),
  } as unknown as JsonRpcProvider;
}

describe("demo narrator", () => {
  const quiet = console.log;
  beforeEach(() => {
    console.log = () => undefined;
  });
  afterEach(() => {
    console.log = quiet;
  });

  it("fails a step with a message naming the step, the expectation and the value seen", async () => {
    const narrator = new Narrator(fakeProvider(), 1);
    let failure: unknown;
    try {
      await narrator.step("5", "a patient withdraws", async () => {
        narrator.expect(false, "the license has ended", "status 1");
      });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(ExpectationFailed);
    expect((failure as Error).message).to.equal('step "5": expected the license has ended (status 1)');
    expect(narrator.results).to.have.length(0);
  });

  it("counts the checks, transactions and gas of each step and totals them in the table", async () => {
    const narrator = new Narrator(fakeProvider(), 2);
    await narrator.step("1", "first", async () => {
      narrator.expect(true, "a");
      narrator.expect(true, "b");
    });
    await narrator.step("2", "second", async () => {
      narrator.expect(true, "c");
    });
    expect(narrator.results.map((r) => [r.step, r.transactions, r.gas, r.checks])).to.deep.equal([
      ["1", 1, 21_000n, 2],
      ["2", 1, 21_000n, 1],
    ]);
    expect(narrator.table()).to.match(/^\| total +\| +\| +2 \| +42,000 \| +[\d.]+ s \| +3 \|$/m);
  });
});
