// Routing computed locally with the coordinator's function, checked against its vectors.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { BrokerLocator, type CoordinatorView } from "../src/client/BrokerLocator";
import { SdkErrorCodes } from "../src/errors";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const V: any = JSON.parse(readFileSync(path.join(__dirname, "..", "..", "test-vectors", "partitioning.json"), "utf8"));

function view(count: number, assignees: Record<number, string[]>): CoordinatorView {
  return { partitionCount: async () => BigInt(count), assigneesOf: async (p) => assignees[p] ?? [] };
}

describe("broker locator", () => {
  it("maps every vector's stream partition to the coordinator's network partition", async () => {
    let checked = 0;
    for (const v of V.vectors) {
      for (const np of v.networkPartitions) {
        const locator = new BrokerLocator(view(np.partitionCount, {}), async () => undefined);
        expect(await locator.networkPartition(v.streamId, v.streamPartition), `${v.stream} #${v.streamPartition} in ${np.partitionCount}`).to.equal(np.networkPartition);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(10);
  });

  it("returns the assigned brokers with their endpoints, and says so when none is reachable", async () => {
    const v = V.vectors[0];
    const np = v.networkPartitions.find((x: { partitionCount: number }) => x.partitionCount > 1);
    const endpoints: Record<string, string> = { ["0x" + "aa".repeat(20)]: "ws://127.0.0.1:7170" };
    const locator = new BrokerLocator(view(np.partitionCount, { [np.networkPartition]: ["0x" + "AA".repeat(20), "0x" + "bb".repeat(20)] }), async (b) => endpoints[b]);
    expect(await locator.brokersOf(v.streamId, v.streamPartition)).to.deep.equal([{ broker: "0x" + "aa".repeat(20), wsUrl: "ws://127.0.0.1:7170" }]);
    const empty = new BrokerLocator(view(np.partitionCount, {}), async () => undefined);
    try {
      await empty.brokersOf(v.streamId, v.streamPartition);
      expect.fail("found a broker where none serves");
    } catch (err) {
      expect(err).to.have.property("code", SdkErrorCodes.BROKER_ERROR);
      expect((err as { details: { brokerCode: string } }).details.brokerCode).to.equal("PARTITION_NOT_SERVED");
    }
  });
});
