// The gas bars of issue 2 (docs/gas.md), asserted on receipt gasUsed; the access check is measured
// inside a calling contract (AccessCheckProbe), cold, the way the market or a smart-contract
// subscriber pays it. Each figure is printed.
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { AccessCheckProbe, StreamRegistry } from "../../typechain-types";
import { gasOf } from "../helpers/foundation";
import { NEVER, permission, resourceIdOf } from "../helpers/registry";

const CREATE_STREAM_BAR = 80_000n;
const GRANT_BAR = 52_000n;
const ACCESS_CHECK_BAR = 8_000n;
const METADATA = JSON.stringify({ description: "heart rate, 1 Hz", unit: "bpm" });

function report(operation: string, gas: bigint, bar?: bigint): void {
  console.log(`      ${operation.padEnd(58)} ${String(gas).padStart(7)} gas${bar ? `  (bar ${bar})` : ""}`);
}

async function gasFixture() {
  const [admin, alice, bob, carol, dave] = await ethers.getSigners();
  const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
  const probe = (await ethers.deployContract("AccessCheckProbe")) as unknown as AccessCheckProbe;
  // alice has used the registry before, so her first-ever-transaction costs do not count against it
  await registry.connect(alice).createStream("/warm-up", 1, "");
  return { registry, probe, alice, bob, carol, dave };
}

/** Runs one probe measurement in its own transaction (registry account and slots cold). */
async function measure(
  probe: AccessCheckProbe,
  registry: StreamRegistry,
  kind: "subscribe" | "publish",
  id: string,
  user: string,
): Promise<{ allowed: boolean; gasUsed: bigint }> {
  const tx = kind === "subscribe" ? probe.measureSubscribe(await registry.getAddress(), id, user) : probe.measurePublish(await registry.getAddress(), id, user);
  const receipt = await (await tx).wait();
  const event = probe.interface.parseLog(receipt!.logs[0])!;
  return { allowed: event.args.allowed as boolean, gasUsed: event.args.gasUsed as bigint };
}

describe("StreamRegistry gas bars", function () {
  // solidity-coverage instruments the contracts, which changes every gas figure: the bars are
  // checked by the plain test run (and the snapshot by `npm run gas:check`), not under coverage.
  before(function () {
    if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
  });

  it(`creates a stream with a short path and metadata in the event for <= ${CREATE_STREAM_BAR} gas`, async function () {
    const { registry, alice } = await loadFixture(gasFixture);
    const gas = await gasOf(registry.connect(alice).createStream("/hr", 1, METADATA));
    report("createStream(short path, metadata)", gas, CREATE_STREAM_BAR);
    expect(gas <= CREATE_STREAM_BAR, `${gas}`).to.equal(true);
  });

  it(`grants publish or subscribe with an expiry to a new address for <= ${GRANT_BAR} gas`, async function () {
    const { registry, alice, bob, carol } = await loadFixture(gasFixture);
    await registry.connect(alice).createStream("/hr", 1, METADATA);
    const id = resourceIdOf(alice.address, "/hr");
    const publish = await gasOf(registry.connect(alice).setPublishExpiry(id, bob.address, 2n ** 40n));
    const subscribe = await gasOf(registry.connect(alice).setSubscribeExpiry(id, carol.address, 2n ** 40n));
    report("setPublishExpiry(new address)", publish, GRANT_BAR);
    report("setSubscribeExpiry(new address)", subscribe, GRANT_BAR);
    expect(publish <= GRANT_BAR, `${publish}`).to.equal(true);
    expect(subscribe <= GRANT_BAR, `${subscribe}`).to.equal(true);
    expect(await registry.canPublish(id, bob.address)).to.equal(true);
    expect(await registry.canSubscribe(id, carol.address)).to.equal(true);
  });

  it("grants a subscription through the delegate (the market's path) for the owner's cost plus one cold record read", async function () {
    // Not one of issue 2's bars, printed for the market: the delegate's authorisation reads its own
    // permission record, which the owner's does not: a cold SLOAD (2,100), five warm re-reads of the
    // same slot (100 each) as _authorize copies the six fields to memory, and the slot hash. Measured
    // 2,780; the bound catches a second cold read sneaking onto this path.
    const { registry, alice, bob, carol, dave } = await loadFixture(gasFixture);
    await registry.connect(alice).createStream("/hr", 1, METADATA);
    const id = resourceIdOf(alice.address, "/hr");
    await registry.connect(alice).setSubscribeDelegate(id, dave.address, true);
    const byOwner = await gasOf(registry.connect(alice).setSubscribeExpiry(id, carol.address, 2n ** 40n));
    const byDelegate = await gasOf(registry.connect(dave).setSubscribeExpiry(id, bob.address, 2n ** 40n));
    report("setSubscribeExpiry(new address, by owner)", byOwner, GRANT_BAR);
    report("setSubscribeExpiry(new address, by delegate)", byDelegate);
    expect(byOwner <= GRANT_BAR, `${byOwner}`).to.equal(true);
    expect(byDelegate - byOwner <= 3_000n, `${byDelegate} - ${byOwner}`).to.equal(true);
  });

  it("prints setPermission to a new address (publish only / every field) for the record", async function () {
    const { registry, alice, bob, carol } = await loadFixture(gasFixture);
    await registry.connect(alice).createStream("/hr", 1, METADATA);
    const id = resourceIdOf(alice.address, "/hr");
    const publishOnly = await gasOf(registry.connect(alice).setPermission(id, bob.address, permission({ publishExpiry: 2n ** 40n })));
    const all = await gasOf(
      registry
        .connect(alice)
        .setPermission(
          id,
          carol.address,
          permission({ publishExpiry: 2n ** 40n, subscribeExpiry: 2n ** 40n, canGrant: true, canEdit: true, canDelete: true, canGrantSubscribe: true }),
        ),
    );
    report("setPermission(new address, publish only)", publishOnly);
    report("setPermission(new address, every field)", all);
    // One slot is written either way: the full record costs only its calldata and event bytes more.
    expect(all - publishOnly < 1_000n, `${publishOnly} vs ${all}`).to.equal(true);
  });

  it(`answers the cold access check from another contract for <= ${ACCESS_CHECK_BAR} gas, with the right answer`, async function () {
    const { registry, probe, alice, bob, carol } = await loadFixture(gasFixture);
    await registry.connect(alice).createStream("/hr", 3, METADATA);
    const id = resourceIdOf(alice.address, "/hr");
    await registry.connect(alice).setSubscribeExpiry(id, bob.address, NEVER);
    await registry.connect(alice).setPublishExpiry(id, bob.address, NEVER);

    // the bar's case: a subscriber with an explicit permission (two cold SLOADs)
    const subscriber = await measure(probe, registry, "subscribe", id, bob.address);
    report("canSubscribe(cold, from a contract, subscriber)", subscriber.gasUsed, ACCESS_CHECK_BAR);
    expect(subscriber.allowed).to.equal(true);
    expect(subscriber.gasUsed <= ACCESS_CHECK_BAR, `${subscriber.gasUsed}`).to.equal(true);

    const publisher = await measure(probe, registry, "publish", id, bob.address);
    report("canPublish(cold, from a contract, publisher)", publisher.gasUsed, ACCESS_CHECK_BAR);
    expect(publisher.allowed).to.equal(true);
    expect(publisher.gasUsed <= ACCESS_CHECK_BAR, `${publisher.gasUsed}`).to.equal(true);

    // a refusal reads the same two slots and must not cost more
    const stranger = await measure(probe, registry, "subscribe", id, carol.address);
    report("canSubscribe(cold, from a contract, refused)", stranger.gasUsed, ACCESS_CHECK_BAR);
    expect(stranger.allowed).to.equal(false);
    expect(stranger.gasUsed <= ACCESS_CHECK_BAR, `${stranger.gasUsed}`).to.equal(true);

    // the owner is answered from the resource word alone
    const owner = await measure(probe, registry, "subscribe", id, alice.address);
    report("canSubscribe(cold, from a contract, owner)", owner.gasUsed);
    expect(owner.allowed).to.equal(true);
    expect(owner.gasUsed < subscriber.gasUsed).to.equal(true);
  });
});
