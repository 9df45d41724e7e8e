// Delivery of durable events to a smart-contract subscriber through the real EventSubscriptions
// contract (Hardhat's in-process network), and the bounty claim.

import { expect } from "chai";
import pino from "pino";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { ZeroAddress } from "ethers";
import { ChainFollower } from "../src/chain/ChainFollower";
import { ContractSubscriberDelivery } from "../src/network/ContractSubscriberDelivery";
import { BrokerClient } from "../src/client/BrokerClient";
import { eventHash } from "../src/wire";
import { EventSubscriptions__factory, SubscriberMock__factory } from "../../typechain-types";
import { ALICE, ALICE_KEY, STREAM, TestPublisher, startTestBroker, waitFor } from "./helpers";
import { DATA, deployCoordinator, deployMarket, fundedWallet } from "./chain-fixture";

describe("smart-contract subscribers", function () {
  this.timeout(60_000);

  it("delivers each durable event once to a subscribed contract, skips replays, and claims the bounties", async () => {
    const d = await deployMarket();
    const [admin, , , operator] = await hre.ethers.getSigners();
    const alice = await fundedWallet(ALICE_KEY);
    if ((await d.registry.getResource(STREAM)).owner === ZeroAddress) {
      await (await d.registry.connect(alice).createStream("/prices/eth-usd", 2, "{}")).wait();
    }
    // Bounties go only to a broker the coordinator assigns to the stream's network partition: the
    // operator is the network's one broker, assigned to every partition.
    const coord = await deployCoordinator(4);
    await (await coord.token.mint(operator.address, DATA(1000))).wait();
    await (await coord.token.connect(operator).approve(coord.address, DATA(1000))).wait();
    await (
      await coord.coordinator.connect(operator).registerBroker(DATA(1000), "ws://127.0.0.1:7170", "http://127.0.0.1:7171", "0x02" + "11".repeat(32))
    ).wait();
    while ((await coord.coordinator.rebalance.staticCall(50)) > 0n) await (await coord.coordinator.rebalance(50)).wait();
    const subscriptions = await new EventSubscriptions__factory(admin).deploy(d.addresses.token, d.addresses.registry, coord.address);
    const subscriptionsAddress = await subscriptions.getAddress();
    const subscriber = await new SubscriberMock__factory(admin).deploy(subscriptionsAddress);
    const subscriberAddress = await subscriber.getAddress();
    await (await subscriber.subscribe(STREAM, DATA(2))).wait();
    await (await d.token.mint(admin.address, DATA(100))).wait();
    await (await d.token.approve(subscriptionsAddress, DATA(100))).wait();
    await (await subscriptions.fundSubscription(subscriberAddress, STREAM, DATA(100))).wait();

    const follower = new ChainFollower(hre.ethers.provider, { pollMs: 50 });
    const delivery = new ContractSubscriberDelivery({ operator, subscriptions: subscriptionsAddress, follower, logger: pino({ level: "silent" }) });
    await follower.start();
    expect(delivery.subscribersOf(STREAM)).to.deep.equal([subscriberAddress.toLowerCase()]);

    const broker = await startTestBroker();
    broker.gate.grantPublish(STREAM, ALICE);
    const unhook = delivery.attach(broker.node);
    const client = await BrokerClient.connect(broker.wsUrl);
    try {
      await client.signIn(ALICE_KEY);
      const publisher = new TestPublisher(ALICE_KEY);
      const events = [publisher.next('{"price":"3021.55"}'), publisher.next('{"price":"3022.10"}'), publisher.next('{"price":"3019.80"}')];
      for (const e of events) await client.publish(e.frame);
      await waitFor(() => delivery.stats.delivered + delivery.stats.skipped + delivery.stats.failed === 3, 20_000, "three deliveries");
      await delivery.idle();
      expect(delivery.stats).to.include({ delivered: 3, skipped: 0, failed: 0, dropped: 0 });
      for (const e of events) expect(await subscriptions.isDelivered(subscriberAddress, "0x" + eventHash(e.canonical).toString("hex"))).to.equal(true);
      expect(Buffer.from((await subscriber.lastContent()).slice(2), "hex").toString()).to.equal('{"price":"3019.80"}');

      // The same events again (as a second broker would see them): simulated, refused, no gas spent.
      const before = await hre.ethers.provider.getBalance(operator.address);
      for (const e of events) (delivery as unknown as { onDurable(d: object): void }).onDurable({ event: e, eventHash: eventHash(e.canonical) });
      await delivery.idle();
      expect(delivery.stats.skipped).to.equal(3);
      expect(await hre.ethers.provider.getBalance(operator.address)).to.equal(before);

      expect(await delivery.claim()).to.equal(DATA(6));
      expect(await d.token.balanceOf(operator.address)).to.equal(DATA(6));
    } finally {
      unhook();
      follower.stop();
      await client.close();
      await broker.stop();
    }
  });
});
