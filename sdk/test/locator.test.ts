// Routing computed locally with the coordinator's function, checked against its vectors, and
// against a NetworkCoordinator deployed by the repository's deploy task with registered brokers.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet } from "ethers";
import { StaticPartitionAssignment, streamIdOf } from "@datamarket/broker";
import { networkPartitionOf } from "@datamarket/protocol";
import { BrokerLocator, servingBrokers, type CoordinatorView } from "../src/client/BrokerLocator";
import { SdkErrorCodes, type SdkError } from "../src/errors";
import { loadDeployment, type Deployment } from "../src/wallet/Deployment";
import { deployedProtocol } from "./chain";
import { createStream, makeClient, startTestNet } from "./helpers";

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
        expect(await locator.networkPartition(v.streamId, v.streamPartition), `${v.stream} #${v.streamPartition} in ${np.partitionCount}`).to.equal(
          np.networkPartition,
        );
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(10);
  });

  it("returns the assigned brokers with their endpoints, and says so when none is reachable", async () => {
    const v = V.vectors[0];
    const np = v.networkPartitions.find((x: { partitionCount: number }) => x.partitionCount > 1);
    const endpoints: Record<string, string> = { ["0x" + "aa".repeat(20)]: "ws://127.0.0.1:7170" };
    const locator = new BrokerLocator(
      view(np.partitionCount, { [np.networkPartition]: ["0x" + "AA".repeat(20), "0x" + "bb".repeat(20)] }),
      async (b) => endpoints[b],
    );
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

describe("broker locator on a deployed NetworkCoordinator", function () {
  this.timeout(120_000);
  /** The vectors' stream partitions, with the network partition each one has among 16 (the deployment's partitionCount). */
  const routes: Array<{ streamId: string; streamPartition: number; networkPartition: number }> = V.vectors.map(
    (v: { streamId: string; streamPartition: number; networkPartitions: Array<{ partitionCount: number; networkPartition: number }> }) => ({
      streamId: v.streamId,
      streamPartition: v.streamPartition,
      networkPartition: v.networkPartitions.find((np) => np.partitionCount === 16)!.networkPartition,
    }),
  );
  let d: Deployment;
  let locator: BrokerLocator;
  const brokers: Wallet[] = [];
  /** What each broker registered, by lowercase address. */
  const registered = new Map<string, { wsUrl: string; httpUrl: string }>();

  async function rebalance(): Promise<void> {
    while ((await d.coordinator.rebalance.staticCall(50)) > 0n) await (await d.coordinator.rebalance(50)).wait();
  }

  before(async () => {
    const [deployer] = await hre.ethers.getSigners();
    d = await loadDeployment((await deployedProtocol()).file, deployer);
    locator = BrokerLocator.fromCoordinator(d.coordinator);
    expect(await d.coordinator.partitionCount()).to.equal(16n);
  });

  it("says PARTITION_NOT_SERVED while no broker is registered", async () => {
    const { streamId, streamPartition, networkPartition } = routes[0];
    let error: SdkError | undefined;
    await locator.brokersOf(streamId, streamPartition).catch((e: SdkError) => {
      error = e;
    });
    expect(error?.code).to.equal(SdkErrorCodes.BROKER_ERROR);
    expect(error?.details).to.deep.include({ brokerCode: "PARTITION_NOT_SERVED", partition: networkPartition, assignees: [] });
  });

  it("returns, for every vector's stream partition, the brokers the coordinator assigns to its network partition, with their registered endpoints", async () => {
    const minStake = (await d.coordinator.parameters()).minStake;
    for (let i = 0; i < 4; i++) {
      const wallet = new Wallet(Wallet.createRandom().privateKey, hre.ethers.provider);
      await hre.ethers.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
      await (await d.token.mint(wallet.address, minStake)).wait();
      await (await d.token.connect(wallet).approve(d.addresses.coordinator, minStake)).wait();
      const endpoints = { wsUrl: `ws://127.0.0.1:${7170 + 10 * i}`, httpUrl: `http://127.0.0.1:${7171 + 10 * i}` };
      await (await d.coordinator.connect(wallet).registerBroker(minStake, endpoints.wsUrl, endpoints.httpUrl, wallet.signingKey.compressedPublicKey)).wait();
      brokers.push(wallet);
      registered.set(wallet.address.toLowerCase(), endpoints);
    }
    await rebalance();
    expect(await d.coordinator.partitionCount()).to.equal(16n);

    const seen = new Set<string>();
    for (const { streamId, streamPartition, networkPartition } of routes) {
      // the vectors, the coordinator's own routing function and the locator agree on the network partition
      expect(await d.coordinator.networkPartitionFor(streamId, streamPartition, 16)).to.equal(BigInt(networkPartition));
      expect(await locator.networkPartition(streamId, streamPartition)).to.equal(networkPartition);
      const found = await locator.brokersOf(streamId, streamPartition);
      const assignees = (await d.coordinator.assigneesOf(networkPartition)).map((a) => a.toLowerCase());
      expect(assignees).to.have.length(3); // min(R = 3, 4 active brokers)
      expect(found).to.deep.equal(assignees.map((broker) => ({ broker, ...registered.get(broker)! })));
      for (const { broker } of found) {
        expect(await d.coordinator.isAssigned(networkPartition, broker), `${broker} serves ${networkPartition}`).to.equal(true);
        seen.add(broker);
      }
    }
    expect(seen.size, "the vectors' partitions spread over every broker").to.equal(4);
  });

  it("follows the coordinator: a broker's new endpoint, and a leaving broker drained by a rebalance", async () => {
    const { streamId, streamPartition, networkPartition } = routes[0];
    const [first] = await d.coordinator.assigneesOf(networkPartition);
    const mover = brokers.find((b) => b.address === first)!;
    await (await d.coordinator.connect(mover).updateBroker("wss://moved.example/ws", "https://moved.example", mover.signingKey.compressedPublicKey)).wait();
    expect((await locator.brokersOf(streamId, streamPartition)).find((b) => b.broker === first.toLowerCase())).to.deep.equal({
      broker: first.toLowerCase(),
      wsUrl: "wss://moved.example/ws",
      httpUrl: "https://moved.example",
    });

    await (await d.coordinator.connect(mover).requestLeave()).wait();
    await rebalance();
    const after = await locator.brokersOf(streamId, streamPartition);
    expect(after.map((b) => b.broker)).to.not.include(first.toLowerCase());
    expect(after).to.have.length(3); // the three remaining brokers
    expect(after.map((b) => b.broker)).to.deep.equal((await d.coordinator.assigneesOf(networkPartition)).map((a) => a.toLowerCase()));
  });
});

describe("a broker's PARTITION_NOT_SERVED answer", function () {
  it("reaches the application with the brokers that serve the partition, in the locator's form", async () => {
    const elsewhere = [
      { address: "0x" + "AB".repeat(20), ws: "ws://127.0.0.1:7270", http: "http://127.0.0.1:7271" },
      { address: "0x" + "cd".repeat(20), ws: "wss://b.example/ws", http: "https://b.example" },
    ];
    const route = (streamId: string, streamPartition: number) => networkPartitionOf(streamId, streamPartition, 16);
    // this broker serves every network partition but the one of the test stream's partition 0
    const creator = "0x" + "12".repeat(20);
    const stream = streamIdOf(creator, "/redirect/test");
    const notServed = route(stream, 0);
    expect(route(stream, 1), "the stream's partition 1 lies in another network partition").to.not.equal(notServed);
    const mine = new Set(Array.from({ length: 16 }, (_, i) => i).filter((i) => i !== notServed));
    const net = await startTestNet({}, new StaticPartitionAssignment(route, mine, new Map([[notServed, elsewhere]])));
    try {
      expect(createStream(net, creator, "/redirect/test", 2)).to.equal(stream);
      const publisher = makeClient(net);
      net.gate.grantPublish(stream, publisher.address);
      net.gate.makePublic(stream);
      const expected = [
        { broker: "0x" + "ab".repeat(20), wsUrl: "ws://127.0.0.1:7270", httpUrl: "http://127.0.0.1:7271" },
        { broker: "0x" + "cd".repeat(20), wsUrl: "wss://b.example/ws", httpUrl: "https://b.example" },
      ];
      const refusedPublish = await publisher.client.publish(stream, { n: 1 }, { encrypt: false, partition: 0 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(refusedPublish).to.have.property("code", SdkErrorCodes.BROKER_ERROR);
      expect(servingBrokers(refusedPublish)).to.deep.equal(expected);
      const refusedSubscribe = await publisher.client
        .subscribe(stream, () => undefined, { partition: 0 })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(servingBrokers(refusedSubscribe)).to.deep.equal(expected);
      // a partition this broker serves is not redirected
      expect((await publisher.client.publish(stream, { n: 2 }, { encrypt: false, partition: 1 })).streamPartition).to.equal(1);
      expect(servingBrokers(new Error("other"))).to.equal(null);
      await publisher.client.close();
    } finally {
      await net.stop();
    }
  });
});
