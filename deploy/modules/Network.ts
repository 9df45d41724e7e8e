// Ignition module: the network coordinator (broker stakes, partition assignment, checksum consensus,
// reward pool) with its two linked libraries, the smart-contract event subscriptions (which pay
// bounties only to the brokers the coordinator assigns), and the payment channels that carry the
// brokers' per-event fees (docs/network.md §14).
// The deployer receives DEFAULT_ADMIN_ROLE and PARAMETER_ROLE; the Governance module hands both over.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import Foundation from "./Foundation";

/** Coordinator governance parameters (INetworkCoordinator.Parameters); DATA amounts in wei. */
export const DEFAULT_COORDINATOR_PARAMETERS = {
  minStake: 1_000n * 10n ** 18n,
  withdrawalDelay: 7n * 86_400n,
  commitWindow: 600n,
  revealWindow: 600n,
  coherenceBps: 6_666n,
  rewardPerRound: 90n * 10n ** 18n,
  rebalanceReward: 1n * 10n ** 18n,
  partitionsPerBroker: 2n,
  maxPartitions: 1_024n,
  initialReputation: 5_000n,
  minReputation: 2_000n,
  reputationGain: 100n,
  reputationLoss: 1_000n,
  slashBps: 5_000n,
  whistleblowerBps: 1_000n,
};

export default buildModule("Network", (m) => {
  const { token, registry } = m.useModule(Foundation);
  const deployer = m.getAccount(0);

  const replication = m.getParameter<bigint>("replication", 3n);
  const epochLength = m.getParameter<bigint>("epochLength", 3_600n);
  const initialPartitions = m.getParameter<bigint>("initialPartitions", 16n);
  const parameters = m.getParameter("parameters", DEFAULT_COORDINATOR_PARAMETERS);

  const partitionAssignment = m.library("PartitionAssignment");
  const coordinatorParameters = m.library("CoordinatorParameters");
  const coordinator = m.contract("NetworkCoordinator", [token, deployer, replication, epochLength, initialPartitions, parameters], {
    libraries: { PartitionAssignment: partitionAssignment, CoordinatorParameters: coordinatorParameters },
  });
  const eventSubscriptions = m.contract("EventSubscriptions", [token, registry, coordinator]);
  // Seconds a broker has, at least, to redeem after a payer starts closing its channel (immutable).
  const channelChallengePeriod = m.getParameter<bigint>("channelChallengePeriod", 86_400n);
  const paymentChannels = m.contract("PaymentChannels", [token, channelChallengePeriod]);
  return { coordinator, eventSubscriptions, partitionAssignment, coordinatorParameters, paymentChannels };
});
