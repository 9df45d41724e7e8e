// The in-browser indexer (src/indexer.ts) folds the registry's, the market's and the coordinator's
// events, encoded here with the published ABIs, into the catalogue; it fetches logs in bounded block
// ranges and resumes after the last block it folded.
import { expect } from "chai";
import { Interface, ZeroHash, id } from "ethers";
import { dataLicenseMarketAbi, networkCoordinatorAbi, streamRegistryAbi } from "@datamarket/contracts";
import { Indexer } from "../src/indexer";
import type { ChainReader, RawLog } from "../src/rpc";
import type { PortalConfig } from "../src/config";

const REGISTRY = "0x00000000000000000000000000000000000000aa";
const MARKET = "0x00000000000000000000000000000000000000bb";
const COORDINATOR = "0x00000000000000000000000000000000000000cc";
const SELLER = "0x1111111111111111111111111111111111111111";
const BUYER = "0x2222222222222222222222222222222222222222";
const config: PortalConfig = {
  chainId: 31337,
  rpcUrl: "http://127.0.0.1:1",
  consentApiUrl: "http://127.0.0.1:2",
  fromBlock: 10,
  contracts: { DATAToken: "0x00000000000000000000000000000000000000dd", StreamRegistry: REGISTRY, DataLicenseMarket: MARKET, NetworkCoordinator: COORDINATOR },
};

/** A chain of `logs` (each at a block) answering eth_blockNumber and eth_getLogs, recording the ranges asked. */
function fakeChain(head: number, logs: RawLog[]) {
  const ranges: Array<[number, number]> = [];
  const chain = {
    blockNumber: async () => head,
    getLogs: async (_address: string[], from: number, to: number) => {
      ranges.push([from, to]);
      return logs.filter((l) => Number(l.blockNumber) >= from && Number(l.blockNumber) <= to);
    },
  };
  return {
    chain: chain as unknown as ChainReader,
    ranges,
    setHead: (h: number) => {
      head = h;
    },
  };
}

function log(address: string, abi: ConstructorParameters<typeof Interface>[0], name: string, args: unknown[], block: number): RawLog {
  const { data, topics } = new Interface(abi).encodeEventLog(name, args);
  return { address, data, topics, blockNumber: `0x${block.toString(16)}` };
}

describe("portal indexer", () => {
  const stream = id("stream");
  const dataset = id("dataset");
  const product = id("product");
  const logs = [
    log(REGISTRY, streamRegistryAbi, "ResourceCreated", [stream, SELLER, 0, "/heart-rate", 2, JSON.stringify({ name: "Heart rate", description: "bpm" })], 11),
    log(REGISTRY, streamRegistryAbi, "ResourceCreated", [dataset, SELLER, 1, "/labs", 1, "not json"], 12),
    log(
      MARKET,
      dataLicenseMarketAbi,
      "ProductCreated",
      [product, SELLER, SELLER, 10n ** 14n, 3600, 86_400, true, false, ZeroHash, "https://terms", [stream, dataset]],
      13,
    ),
    log(MARKET, dataLicenseMarketAbi, "ProductPurposeSet", [product, id("ScientificResearch"), true], 13),
    log(MARKET, dataLicenseMarketAbi, "ProductPriceUpdated", [product, 10n ** 14n, 2n * 10n ** 14n], 7_000),
    log(MARKET, dataLicenseMarketAbi, "BadDataFlagged", [product, BUYER, SELLER, ZeroHash], 7_001),
    log(COORDINATOR, networkCoordinatorAbi, "BrokerRegistered", [BUYER, 10n ** 21n, "ws://b", "http://b", "0x02"], 7_002),
    log(COORDINATOR, networkCoordinatorAbi, "ReportCommitted", [5, 3, BUYER, ZeroHash], 7_003),
    log(COORDINATOR, networkCoordinatorAbi, "ReportRevealed", [5, 3, BUYER, 42, ZeroHash], 7_004),
    log(COORDINATOR, networkCoordinatorAbi, "RoundFinalized", [5, 3, 1, 42, ZeroHash, 3, 0], 7_005),
  ];

  it("folds resources, products, purposes, prices, flags, brokers and rounds, in block ranges of at most 5,000", async () => {
    const { chain, ranges } = fakeChain(7_005, logs);
    const indexer = new Indexer(chain, config);
    expect(await indexer.sync()).to.equal(true);
    expect(ranges).to.deep.equal([
      [10, 5_009],
      [5_010, 7_005],
    ]);
    expect(indexer.head).to.equal(7_005);
    expect(indexer.resources.get(stream)).to.deep.include({
      kind: "stream",
      owner: SELLER,
      path: "/heart-rate",
      partitions: 2,
      name: "Heart rate",
      description: "bpm",
    });
    // metadata that is not JSON: the path is the name, the text the description
    expect(indexer.resources.get(dataset)).to.deep.include({ kind: "dataset", name: "/labs", description: "not json" });
    const p = indexer.products.get(product)!;
    expect(p).to.deep.include({ seller: SELLER, pricePerSecond: 2n * 10n ** 14n, requiresConsent: true, state: "on sale", resources: [stream, dataset] });
    expect([...p.purposes]).to.deep.equal([id("ScientificResearch")]);
    expect([...p.openFlags]).to.deep.equal([BUYER]);
    expect(indexer.brokers.get(BUYER)).to.deep.include({ wsUrl: "ws://b", registeredStake: 10n ** 21n });
    expect(indexer.latestRounds(5)).to.deep.equal([{ epoch: 5, partition: 3, commits: 1, reveals: 1, outcome: "agreed", eventCount: 42n, agreeing: 3 }]);
  });

  it("resumes after the last block it folded and reports whether anything changed", async () => {
    const later = [...logs, log(MARKET, dataLicenseMarketAbi, "DisputeResolved", [product, BUYER, SELLER, false, 0], 7_010)];
    const { chain, ranges, setHead } = fakeChain(7_005, later);
    const indexer = new Indexer(chain, config);
    await indexer.sync();
    ranges.length = 0;
    expect(await indexer.sync()).to.equal(false); // no new block
    expect(ranges).to.deep.equal([]);
    setHead(7_010);
    expect(await indexer.sync()).to.equal(true);
    expect(ranges).to.deep.equal([[7_006, 7_010]]);
    expect(indexer.products.get(product)!.openFlags.size).to.equal(0);
  });
});
