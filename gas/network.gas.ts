// Gas scenario for the network coordinator (R = 3): register, commit, reveal, finalize, claim, one
// rebalance move, and delivery of a signed event to a smart-contract subscriber.
// Operation names carry no spaces (scripts/gas-snapshot.ts parses "<name> <gas>").
import { ethers } from "hardhat";
import { gasOf } from "../test/helpers/foundation";
import vectors from "../test-vectors/events.json";
import { DATA, commitment, deployCoordinator, fund, rebalanceAll, register, toPhase } from "../test/network/fixtures";

export default async function (record: (operation: string, gasUsed: bigint) => void): Promise<void> {
  const { token, coordinator, admin } = await deployCoordinator();
  const signers = (await ethers.getSigners()).slice(1, 6);
  for (const s of signers.slice(0, 3)) await register(token, coordinator, s);
  await fund(token, coordinator, signers[3], DATA(1000));
  record(
    "NetworkCoordinator::registerBroker",
    await gasOf(coordinator.connect(signers[3]).registerBroker(DATA(1000), "wss://b4.example/ws", "https://b4.example", "0x02" + "44".repeat(32))),
  );
  record("NetworkCoordinator::rebalance(one-fill-move)", await gasOf(coordinator.rebalance(1)));
  await rebalanceAll(coordinator);
  await fund(token, coordinator, admin, DATA(10_000));
  record("NetworkCoordinator::fundRewards", await gasOf(coordinator.fundRewards(DATA(10_000))));

  const roster = await coordinator.assigneesOf(0);
  const who = roster.map((a) => signers.find((s) => s.address === a)!);
  const epoch = await coordinator.currentEpoch();
  const checksum = ethers.id("checksum");
  const salt = ethers.id("salt");
  await toPhase(coordinator, epoch, "commit");
  const commitOf = (i: number) => coordinator.connect(who[i]).commitReport(epoch, 0, commitment(epoch, 0, 42n, checksum, salt, roster[i]));
  record("NetworkCoordinator::commitReport(first,roster-of-3)", await gasOf(commitOf(0)));
  record("NetworkCoordinator::commitReport", await gasOf(commitOf(1)));
  await commitOf(2);
  await toPhase(coordinator, epoch, "reveal");
  record("NetworkCoordinator::revealReport(first)", await gasOf(coordinator.connect(who[0]).revealReport(epoch, 0, 42n, checksum, salt)));
  record("NetworkCoordinator::revealReport", await gasOf(coordinator.connect(who[1]).revealReport(epoch, 0, 42n, checksum, salt)));
  await coordinator.connect(who[2]).revealReport(epoch, 0, 42n, checksum, salt);
  await toPhase(coordinator, epoch, "final");
  record("NetworkCoordinator::finalizeRound(3-agree)", await gasOf(coordinator.finalizeRound(epoch, 0)));
  record("NetworkCoordinator::claimRewards", await gasOf(coordinator.connect(who[0]).claimRewards(roster[0])));

  // One balancing move: a fifth broker joins a balanced network.
  await register(token, coordinator, signers[4]);
  await rebalanceAll(coordinator);
  await coordinator.connect(signers[0]).requestLeave();
  record("NetworkCoordinator::rebalance(one-drain-move)", await gasOf(coordinator.rebalance(1)));

  // Delivery of the protocol's first vector event to the example price trigger (signature check,
  // registry permission, replay mark, the deliverer's assignment, bounty credit, callback with JSON
  // parsing), by a broker assigned to the stream's network partition.
  const registry = await ethers.deployContract("StreamRegistry", [admin.address]);
  const subscriptions = await ethers.deployContract("EventSubscriptions", [
    await token.getAddress(),
    await registry.getAddress(),
    await coordinator.getAddress(),
  ]);
  const alice = new ethers.Wallet(vectors.keys.alice.privateKey, ethers.provider);
  await admin.sendTransaction({ to: alice.address, value: DATA(1) });
  await registry.connect(alice).getFunction("createStream")("/prices/eth-usd", 1, "{}");
  const event = vectors.valid[0];
  const assigned = await coordinator.assigneesOf(await coordinator.networkPartitionOf(event.fields.streamId, 0));
  const broker = signers.find((s) => s.address === assigned[0])!;
  const trigger = await ethers.deployContract("PriceThresholdTrigger", [await subscriptions.getAddress(), event.fields.streamId, 10n ** 8n * 5000n, DATA(1)]);
  await token.mint(admin.address, DATA(10));
  await token.approve(await subscriptions.getAddress(), DATA(10));
  await subscriptions.getFunction("fundSubscription")(await trigger.getAddress(), event.fields.streamId, DATA(10));
  record(
    "EventSubscriptions::deliver(price-trigger,JSON-event)",
    await gasOf(
      subscriptions.connect(broker).getFunction("deliver")(
        await trigger.getAddress(),
        { ...event.fields, publisher: ethers.getAddress(event.fields.publisher) },
        event.signature,
      ),
    ),
  );
}
