// Smart-contract subscribers: verified delivery of signed events (the broker protocol's vectors),
// bounties to the first assigned broker that delivers, replay and unsigned refusal, the audit's
// front-running (L-5) and bounty-cut (L-6) findings, and the price-threshold example.
import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import vectors from "../../test-vectors/events.json";
import { DATA, deployCoordinator, rebalanceAll, register } from "./fixtures";
import type { DATAToken, EventSubscriptions, PriceThresholdTrigger, StreamRegistry, SubscriberMock } from "../../typechain-types";
import type { IStreamEventSubscriber } from "../../typechain-types/contracts/network/EventSubscriptions";

type Fields = IStreamEventSubscriber.StreamEventStruct;

/** Decode a protocol frame (docs/protocol.md §1.2) into the event fields and the signature. */
function decodeFrame(frameHex: string): { fields: Fields; signature: string } {
  const b = ethers.getBytes(frameHex);
  const hex = (from: number, to: number) => ethers.hexlify(b.slice(from, to));
  const uint = (from: number, to: number) => BigInt(hex(from, to));
  const n = Number(uint(139, 143));
  return {
    fields: {
      streamId: hex(1, 33),
      streamPartition: uint(33, 37),
      timestamp: uint(37, 45),
      sequenceNumber: uint(45, 53),
      previousEventHash: hex(53, 85),
      publisher: ethers.getAddress(hex(85, 105)),
      contentType: b[105],
      encryptionType: b[106],
      groupKeyId: hex(107, 139),
      content: hex(143, 143 + n),
    },
    signature: hex(144 + n, b.length),
  };
}

function fieldsOf(v: (typeof vectors.valid)[number]): Fields {
  return { ...v.fields, publisher: ethers.getAddress(v.fields.publisher) };
}

const [event1, event2, encrypted, extreme] = vectors.valid;
const ALICE_PRICE_STREAM = "/prices/eth-usd";

async function setup() {
  const [admin, deliverer, other] = await ethers.getSigners();
  const token = (await ethers.deployContract("DATAToken", [admin.address, admin.address, DATA(1e9)])) as unknown as DATAToken;
  const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
  // The deliverer is the network's only broker: assigned to every partition.
  const { coordinator, token: stakeToken } = await deployCoordinator();
  await register(stakeToken, coordinator, deliverer);
  await rebalanceAll(coordinator);
  const subs = (await ethers.deployContract("EventSubscriptions", [
    await token.getAddress(),
    await registry.getAddress(),
    await coordinator.getAddress(),
  ])) as unknown as EventSubscriptions;
  // Alice of the vectors creates her price stream: its id is the vectors' stream id.
  const alice = new ethers.Wallet(vectors.keys.alice.privateKey, ethers.provider);
  await admin.sendTransaction({ to: alice.address, value: DATA(1) });
  await registry.connect(alice).createStream(ALICE_PRICE_STREAM, 1, "{}");
  const streamId = await registry.resourceId(alice.address, ALICE_PRICE_STREAM);
  expect(streamId).to.equal(event1.fields.streamId);
  const mock = (await ethers.deployContract("SubscriberMock", [await subs.getAddress()])) as unknown as SubscriberMock;
  const fundSub = async (subscriber: string, id: string, amount: bigint) => {
    await token.mint(admin.address, amount);
    await token.approve(await subs.getAddress(), amount);
    return subs.fundSubscription(subscriber, id, amount);
  };
  return { admin, deliverer, other, token, registry, subs, alice, streamId, mock, fundSub, coordinator };
}

describe("EventSubscriptions", () => {
  it("computes every vector's event hash from its fields", async () => {
    const { subs } = await setup();
    for (const v of vectors.valid) expect(await subs.eventHashOf(fieldsOf(v))).to.equal(v.eventHash);
  });

  it("delivers a signed event to a subscriber, calls it back and credits the bounty to the first assigned deliverer", async () => {
    const { subs, mock, streamId, fundSub, deliverer, token } = await setup();
    const mockAddress = await mock.getAddress();
    await expect(mock.subscribe(streamId, DATA(2)))
      .to.emit(subs, "Subscribed")
      .withArgs(mockAddress, streamId, DATA(2));
    await expect(fundSub(mockAddress, streamId, DATA(3)))
      .to.emit(subs, "SubscriptionFunded")
      .withArgs(mockAddress, streamId, (await ethers.getSigners())[0].address, DATA(3), DATA(3));
    await expect(subs.connect(deliverer).deliver(mockAddress, fieldsOf(event1), event1.signature))
      .to.emit(subs, "EventDelivered")
      .withArgs(mockAddress, streamId, event1.eventHash, deliverer.address, DATA(2));
    expect(await mock.lastEventHash()).to.equal(event1.eventHash);
    expect(await mock.lastContent()).to.equal(event1.fields.content);
    expect(await subs.isDelivered(mockAddress, event1.eventHash)).to.equal(true);
    expect(await subs.claimableBounties(deliverer.address)).to.equal(DATA(2));
    expect((await subs.subscriptionOf(mockAddress, streamId)).balance).to.equal(DATA(1));

    // A replay is refused, by anyone.
    await expect(subs.deliver(mockAddress, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "AlreadyDelivered")
      .withArgs(mockAddress, event1.eventHash);

    // The second event pays what is left of the balance.
    await expect(subs.connect(deliverer).deliver(mockAddress, fieldsOf(event2), event2.signature))
      .to.emit(subs, "EventDelivered")
      .withArgs(mockAddress, streamId, event2.eventHash, deliverer.address, DATA(1));
    await expect(subs.connect(deliverer).claimBounties(deliverer.address))
      .to.emit(subs, "BountiesClaimed")
      .withArgs(deliverer.address, deliverer.address, DATA(3));
    expect(await token.balanceOf(deliverer.address)).to.equal(DATA(3));
    await expect(subs.connect(deliverer).claimBounties(deliverer.address)).to.be.revertedWithCustomError(subs, "NothingToClaim").withArgs(deliverer.address);
    await expect(subs.connect(deliverer).claimBounties(ethers.ZeroAddress)).to.be.revertedWithCustomError(subs, "ZeroRecipient");
  });

  it("delivers with an empty balance or a zero bounty, crediting nothing", async () => {
    const { subs, mock, streamId, deliverer } = await setup();
    await mock.subscribe(streamId, DATA(2));
    await expect(subs.connect(deliverer).deliver(await mock.getAddress(), fieldsOf(event1), event1.signature))
      .to.emit(subs, "EventDelivered")
      .withArgs(await mock.getAddress(), streamId, event1.eventHash, deliverer.address, 0);
    expect(await subs.claimableBounties(deliverer.address)).to.equal(0);
  });

  it("refuses an unsigned event and a signature by someone else", async () => {
    const { subs, mock, streamId } = await setup();
    const m = await mock.getAddress();
    await mock.subscribe(streamId, 0);
    await expect(subs.deliver(m, fieldsOf(event1), "0x"))
      .to.be.revertedWithCustomError(subs, "InvalidEventSignature")
      .withArgs(event1.eventHash, ethers.ZeroAddress, ethers.getAddress(event1.fields.publisher));
    const stranger = ethers.Wallet.createRandom();
    const forged = await stranger.signMessage(ethers.getBytes(event1.eventHash));
    await expect(subs.deliver(m, fieldsOf(event1), forged))
      .to.be.revertedWithCustomError(subs, "InvalidEventSignature")
      .withArgs(event1.eventHash, stranger.address, ethers.getAddress(event1.fields.publisher));
  });

  for (const v of vectors.invalid.filter((x) => x.stage === "verify" || x.name.startsWith("signature v"))) {
    it(`refuses the protocol's invalid vector "${v.name}"`, async () => {
      const { subs, mock, streamId } = await setup();
      await mock.subscribe(streamId, 0);
      const { fields, signature } = decodeFrame(v.frameHex);
      const hash = await subs.eventHashOf(fields);
      await expect(subs.deliver(await mock.getAddress(), fields, signature))
        .to.be.revertedWithCustomError(subs, "InvalidEventSignature")
        .withArgs(hash, (recovered: string) => recovered !== fields.publisher, fields.publisher);
    });
  }

  for (const [name, field] of [
    ["unknown contentType 9", "contentType"],
    ["unencrypted but non-zero groupKeyId", "groupKeyId"],
    ["encrypted but zero groupKeyId", "groupKeyId"],
  ]) {
    it(`refuses the protocol's invalid vector "${name}" as a malformed ${field}`, async () => {
      const { subs, mock, streamId } = await setup();
      await mock.subscribe(streamId, 0);
      const v = vectors.invalid.find((x) => x.name === name)!;
      const { fields, signature } = decodeFrame(v.frameHex);
      await expect(subs.deliver(await mock.getAddress(), fields, signature))
        .to.be.revertedWithCustomError(subs, "MalformedEvent")
        .withArgs(field);
    });
  }

  it("refuses an unknown encryption type", async () => {
    const { subs, mock, streamId } = await setup();
    await mock.subscribe(streamId, 0);
    await expect(subs.deliver(await mock.getAddress(), { ...fieldsOf(event1), encryptionType: 2 }, event1.signature))
      .to.be.revertedWithCustomError(subs, "MalformedEvent")
      .withArgs("encryptionType");
  });

  it("refuses an event whose publisher may not publish on the stream", async () => {
    const { subs, mock, registry, alice, streamId } = await setup();
    // Bob's vector events are on a stream nobody here created: no publish permission.
    await mock.subscribe(encrypted.fields.streamId, 0);
    await expect(subs.deliver(await mock.getAddress(), fieldsOf(encrypted), encrypted.signature))
      .to.be.revertedWithCustomError(subs, "PublishNotAllowed")
      .withArgs(encrypted.fields.streamId, ethers.getAddress(encrypted.fields.publisher));
    await mock.subscribe(extreme.fields.streamId, 0);
    await expect(subs.deliver(await mock.getAddress(), fieldsOf(extreme), extreme.signature))
      .to.be.revertedWithCustomError(subs, "PublishNotAllowed")
      .withArgs(extreme.fields.streamId, ethers.getAddress(extreme.fields.publisher));
    // Alice gives her stream away: her signed events are no longer accepted.
    const [, , , newOwner] = await ethers.getSigners();
    await registry.connect(alice).transferOwnership(streamId, newOwner.address);
    await registry.connect(newOwner).acceptOwnership(streamId);
    await mock.subscribe(streamId, 0);
    await expect(subs.deliver(await mock.getAddress(), fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "PublishNotAllowed")
      .withArgs(streamId, alice.address);
  });

  it("refuses delivery to a contract that is not subscribed, or whose callback does not answer", async () => {
    const { subs, mock, streamId, other } = await setup();
    const m = await mock.getAddress();
    await expect(subs.deliver(m, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "NotSubscribed")
      .withArgs(m, streamId);
    await expect(subs.deliver(other.address, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "NotSubscribed")
      .withArgs(other.address, streamId);
    await mock.subscribe(streamId, 0);
    await mock.setAnswer("0xdeadbeef");
    await expect(subs.deliver(m, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "SubscriberRefused")
      .withArgs(m, "0xdeadbeef");
    expect(await subs.isDelivered(m, event1.eventHash)).to.equal(false);
  });

  it("refunds the balance on unsubscribe and keeps refusing replays after resubscribing", async () => {
    const { subs, mock, streamId, fundSub, token, deliverer } = await setup();
    const m = await mock.getAddress();
    await mock.subscribe(streamId, DATA(1));
    await fundSub(m, streamId, DATA(5));
    await subs.connect(deliverer).deliver(m, fieldsOf(event1), event1.signature);
    await expect(mock.unsubscribe(streamId)).to.emit(subs, "Unsubscribed").withArgs(m, streamId, DATA(4));
    expect(await token.balanceOf(m)).to.equal(DATA(4));
    expect(await subs.subscriptionOf(m, streamId)).to.deep.equal([0n, 0n, false]);
    expect(await subs.scheduledBounty(m, streamId)).to.deep.equal([0n, 0n]);
    await expect(mock.unsubscribe(streamId)).to.be.revertedWithCustomError(subs, "NotSubscribed").withArgs(m, streamId);
    await expect(fundSub(m, streamId, DATA(1)))
      .to.be.revertedWithCustomError(subs, "NotSubscribed")
      .withArgs(m, streamId);
    await time.increase(3600);
    await mock.subscribe(streamId, 0);
    await expect(mock.unsubscribe(streamId)).to.emit(subs, "Unsubscribed").withArgs(m, streamId, 0);
    await time.increase(3600);
    await mock.subscribe(streamId, 0);
    await expect(subs.deliver(m, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(subs, "AlreadyDelivered")
      .withArgs(m, event1.eventHash);
    await expect(subs.fundSubscription(m, streamId, 0)).to.be.revertedWithCustomError(subs, "ZeroAmount");
  });

  describe("audit L-5: the bounty is bound to the delivering broker", () => {
    it("refuses a copy of a broker's pending delivery sent by someone not assigned: NotAssignedDeliverer", async () => {
      const { subs, mock, streamId, fundSub, deliverer, other, coordinator } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      await fundSub(m, streamId, DATA(10));
      const networkPartition = await coordinator.networkPartitionOf(streamId, Number(event1.fields.streamPartition));
      expect(await coordinator.isAssigned(networkPartition, other.address)).to.equal(false);
      // The front-runner sends the broker's very calldata from its own address.
      await expect(subs.connect(other).deliver(m, fieldsOf(event1), event1.signature))
        .to.be.revertedWithCustomError(subs, "NotAssignedDeliverer")
        .withArgs(networkPartition, other.address);
      expect(await subs.claimableBounties(other.address)).to.equal(0n);
      await expect(subs.connect(deliverer).deliver(m, fieldsOf(event1), event1.signature))
        .to.emit(subs, "EventDelivered")
        .withArgs(m, streamId, event1.eventHash, deliverer.address, DATA(2));
      expect(await subs.claimableBounties(deliverer.address)).to.equal(DATA(2));
    });

    it("stops paying a broker moved away from the partition, and pays the one that took it over", async () => {
      const { subs, mock, streamId, fundSub, deliverer, other, coordinator } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      await fundSub(m, streamId, DATA(10));
      await register(await ethers.getContractAt("DATAToken", await coordinator.token()), coordinator, other);
      await coordinator.connect(deliverer).requestLeave();
      await rebalanceAll(coordinator);
      const networkPartition = await coordinator.networkPartitionOf(streamId, 0);
      await expect(subs.connect(deliverer).deliver(m, fieldsOf(event1), event1.signature))
        .to.be.revertedWithCustomError(subs, "NotAssignedDeliverer")
        .withArgs(networkPartition, deliverer.address);
      await expect(subs.connect(other).deliver(m, fieldsOf(event1), event1.signature))
        .to.emit(subs, "EventDelivered")
        .withArgs(m, streamId, event1.eventHash, other.address, DATA(2));
    });

    it("lets anyone deliver what pays nothing, and refuses a paid event whose stream partition cannot exist", async () => {
      const { subs, mock, streamId, fundSub, other, deliverer, alice } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      // No balance: nothing to pay, so nothing to bind.
      await expect(subs.connect(other).deliver(m, fieldsOf(event1), event1.signature))
        .to.emit(subs, "EventDelivered")
        .withArgs(m, streamId, event1.eventHash, other.address, 0);
      await fundSub(m, streamId, DATA(10));
      // A paid event must name a stream partition that can exist (a stream has at most 100), or it has
      // no network partition to check the deliverer against. Alice, the stream's owner, signs one.
      const fields = { ...fieldsOf(event2), streamPartition: 65_536n };
      const signature = await alice.signMessage(ethers.getBytes(await subs.eventHashOf(fields)));
      await expect(subs.connect(deliverer).deliver(m, fields, signature))
        .to.be.revertedWithCustomError(subs, "MalformedEvent")
        .withArgs("streamPartition");
    });
  });

  describe("audit L-6: a subscriber cannot cut its bounty in front of a delivery", () => {
    it("keeps the bounty in force for an hour after a decrease is asked, then applies it", async () => {
      const { subs, mock, streamId, fundSub, deliverer } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      await fundSub(m, streamId, DATA(10));
      expect(await subs.BOUNTY_DECREASE_DELAY()).to.equal(3600n);
      // The subscriber front-runs the broker's delivery with a bounty of 0 (its block's time pinned:
      // on a loaded machine a second may pass before it is mined).
      const askedAt = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(askedAt);
      const tx = mock.subscribe(streamId, 0);
      const effectiveAt = askedAt + 3600n;
      await expect(tx).to.emit(subs, "BountyDecreaseScheduled").withArgs(m, streamId, 0, effectiveAt);
      await expect(tx).to.not.emit(subs, "Subscribed");
      expect((await subs.subscriptionOf(m, streamId)).bountyPerEvent).to.equal(DATA(2));
      expect(await subs.scheduledBounty(m, streamId)).to.deep.equal([0n, effectiveAt]);
      await expect(subs.connect(deliverer).deliver(m, fieldsOf(event1), event1.signature))
        .to.emit(subs, "EventDelivered")
        .withArgs(m, streamId, event1.eventHash, deliverer.address, DATA(2));
      await time.increaseTo(effectiveAt);
      expect((await subs.subscriptionOf(m, streamId)).bountyPerEvent).to.equal(0n);
      await expect(subs.connect(deliverer).deliver(m, fieldsOf(event2), event2.signature))
        .to.emit(subs, "EventDelivered")
        .withArgs(m, streamId, event2.eventHash, deliverer.address, 0);
      expect(await subs.claimableBounties(deliverer.address)).to.equal(DATA(2));
    });

    it("applies an increase at once, cancels a scheduled decrease by keeping the bounty, and restarts a newer decrease's delay", async () => {
      const { subs, mock, streamId } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      await expect(mock.subscribe(streamId, DATA(3)))
        .to.emit(subs, "Subscribed")
        .withArgs(m, streamId, DATA(3));
      await mock.subscribe(streamId, DATA(1));
      await expect(mock.subscribe(streamId, DATA(3)))
        .to.emit(subs, "Subscribed")
        .withArgs(m, streamId, DATA(3));
      expect(await subs.scheduledBounty(m, streamId)).to.deep.equal([0n, 0n]);
      await mock.subscribe(streamId, DATA(1));
      const askedAt = BigInt(await time.latest()) + 1800n;
      await time.setNextBlockTimestamp(askedAt);
      const tx = mock.subscribe(streamId, 0);
      const effectiveAt = askedAt + 3600n;
      await expect(tx).to.emit(subs, "BountyDecreaseScheduled").withArgs(m, streamId, 0, effectiveAt);
      await time.increase(1800);
      expect((await subs.subscriptionOf(m, streamId)).bountyPerEvent).to.equal(DATA(3));
      // A decrease that applied already is the base of the next one.
      await time.increaseTo(effectiveAt);
      expect((await subs.subscriptionOf(m, streamId)).bountyPerEvent).to.equal(0n);
      await expect(mock.subscribe(streamId, DATA(1)))
        .to.emit(subs, "Subscribed")
        .withArgs(m, streamId, DATA(1));
      await time.increase(7200);
      await mock.subscribe(streamId, DATA(1) / 2n);
      expect((await subs.subscriptionOf(m, streamId)).bountyPerEvent).to.equal(DATA(1));
    });

    it("refuses to subscribe again within the delay after unsubscribing (unsubscribe + subscribe at 0 would cut it)", async () => {
      const { subs, mock, streamId, fundSub } = await setup();
      const m = await mock.getAddress();
      await mock.subscribe(streamId, DATA(2));
      await fundSub(m, streamId, DATA(10));
      await mock.unsubscribe(streamId);
      const allowedAt = BigInt(await time.latest()) + 3600n;
      await expect(mock.subscribe(streamId, 0)).to.be.revertedWithCustomError(subs, "ResubscribeTooSoon").withArgs(m, streamId, allowedAt);
      await time.setNextBlockTimestamp(allowedAt);
      await expect(mock.subscribe(streamId, 0)).to.emit(subs, "Subscribed").withArgs(m, streamId, 0);
    });
  });
});

describe("PriceThresholdTrigger (example subscriber)", () => {
  async function trigger(thresholdDecimal: string) {
    const ctx = await setup();
    const t = (await ethers.deployContract("PriceThresholdTrigger", [
      await ctx.subs.getAddress(),
      ctx.streamId,
      ethers.parseUnits(thresholdDecimal, 8),
      DATA(1),
    ])) as unknown as PriceThresholdTrigger;
    await ctx.fundSub(await t.getAddress(), ctx.streamId, DATA(10));
    return { ...ctx, t };
  }

  it("fires once when a delivered price reaches the threshold, and pays the deliverers", async () => {
    const { subs, t, deliverer } = await trigger("3021.60");
    const tAddress = await t.getAddress();
    await expect(subs.connect(deliverer).deliver(tAddress, fieldsOf(event1), event1.signature))
      .to.emit(t, "PriceUpdated")
      .withArgs(event1.eventHash, ethers.parseUnits("3021.55", 8), event1.fields.timestamp);
    expect(await t.triggered()).to.equal(false);
    await expect(subs.connect(deliverer).deliver(tAddress, fieldsOf(event2), event2.signature))
      .to.emit(t, "ThresholdReached")
      .withArgs(event2.eventHash, ethers.parseUnits("3021.60", 8), ethers.parseUnits("3021.60", 8));
    expect(await t.triggered()).to.equal(true);
    expect(await t.lastPrice()).to.equal(ethers.parseUnits("3021.60", 8));
    expect(await subs.claimableBounties(deliverer.address)).to.equal(DATA(2));
  });

  it("refuses an event older than the last one, so history cannot be replayed for bounties", async () => {
    const { subs, t, deliverer } = await trigger("5000");
    const tAddress = await t.getAddress();
    await subs.connect(deliverer).deliver(tAddress, fieldsOf(event2), event2.signature);
    await expect(subs.connect(deliverer).deliver(tAddress, fieldsOf(event1), event1.signature))
      .to.be.revertedWithCustomError(t, "StaleEvent")
      .withArgs(event1.fields.timestamp, event2.fields.timestamp);
    expect(await subs.isDelivered(tAddress, event1.eventHash)).to.equal(false);
  });

  it("accepts calls from the subscriptions contract only, for its stream only", async () => {
    const { t, other } = await trigger("1");
    await expect(t.connect(other).onStreamEvent(event1.eventHash, fieldsOf(event1)))
      .to.be.revertedWithCustomError(t, "NotSubscriptions")
      .withArgs(other.address);
    const subsAddress = await t.subscriptions();
    await ethers.provider.send("hardhat_impersonateAccount", [subsAddress]);
    await ethers.provider.send("hardhat_setBalance", [subsAddress, "0xDE0B6B3A7640000"]);
    const asSubs = await ethers.getSigner(subsAddress);
    await expect(t.connect(asSubs).onStreamEvent(encrypted.eventHash, fieldsOf(encrypted)))
      .to.be.revertedWithCustomError(t, "WrongStream")
      .withArgs(encrypted.fields.streamId);
    const noPrice = { ...fieldsOf(event1), content: ethers.hexlify(ethers.toUtf8Bytes('{"pair":"ETH/USD"}')) };
    await expect(t.connect(asSubs).onStreamEvent(event1.eventHash, noPrice)).to.be.revertedWithCustomError(t, "UnparsablePrice").withArgs(event1.eventHash);
  });

  it("parses decimal prices and refuses malformed ones", async () => {
    const { t } = await trigger("1");
    const parse = (s: string) => t.parsePrice(ethers.toUtf8Bytes(s));
    expect(await parse('{"price":"3021.55"}')).to.deep.equal([true, ethers.parseUnits("3021.55", 8)]);
    expect(await parse('{"x":1,"price":"7"}')).to.deep.equal([true, ethers.parseUnits("7", 8)]);
    expect(await parse('{"price":"0.12345678"}')).to.deep.equal([true, 12345678n]);
    for (const bad of [
      '{"price":"0.123456789"}', // too many decimals
      '{"price":""}',
      '{"price":"1.2.3"}',
      '{"price":"12a"}',
      '{"price":"12',
      '{"price":3}',
      '{"price":"' + "9".repeat(40) + '"}', // above the bound
      "",
      '{"price":"1"}' + " ".repeat(1024),
    ]) {
      expect(await parse(bad), bad).to.deep.equal([false, 0n]);
    }
  });
});
