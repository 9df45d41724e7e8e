// Shared deployment and helpers for the network coordinator tests.
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import type { DATAToken, NetworkCoordinator } from "../../typechain-types";
import type { INetworkCoordinator } from "../../typechain-types/contracts/network/NetworkCoordinator";

export const DATA = (n: number | string): bigint => ethers.parseEther(String(n));
export const EPOCH = 3600n;
export const REPLICATION = 3;
export const INITIAL_PARTITIONS = 4;
export const WS = "wss://broker.example/ws";
export const HTTP = "https://broker.example/api";
export const PUBKEY = "0x02" + "11".repeat(32);

export enum Status {
  None,
  Active,
  Suspended,
  Leaving,
}
export enum Outcome {
  Open,
  Agreed,
  NoAgreement,
}

export function defaultParameters(): INetworkCoordinator.ParametersStruct {
  return {
    minStake: DATA(1000),
    withdrawalDelay: 7n * 86400n,
    commitWindow: 600,
    revealWindow: 600,
    coherenceBps: 9000,
    rewardPerRound: DATA(90),
    rebalanceReward: DATA(1),
    partitionsPerBroker: 2,
    maxPartitions: 1024,
    initialReputation: 5000,
    minReputation: 2000,
    reputationGain: 100,
    reputationLoss: 1000,
    slashBps: 5000,
    whistleblowerBps: 1000,
  };
}

export async function deployLibraries() {
  const assignment = await (await ethers.getContractFactory("PartitionAssignment")).deploy();
  const params = await (await ethers.getContractFactory("CoordinatorParameters")).deploy();
  return {
    PartitionAssignment: await assignment.getAddress(),
    CoordinatorParameters: await params.getAddress(),
  };
}

export async function coordinatorFactory() {
  return ethers.getContractFactory("NetworkCoordinator", { libraries: await deployLibraries() });
}

export async function deployCoordinator(
  overrides: Partial<INetworkCoordinator.ParametersStruct> = {},
  replication = REPLICATION,
  initialPartitions = INITIAL_PARTITIONS,
) {
  const [admin] = await ethers.getSigners();
  const token = (await (await ethers.getContractFactory("DATAToken")).deploy(admin.address, admin.address, DATA(1_000_000_000))) as unknown as DATAToken;
  const factory = await coordinatorFactory();
  const coordinator = (await factory.deploy(await token.getAddress(), admin.address, replication, EPOCH, initialPartitions, {
    ...defaultParameters(),
    ...overrides,
  })) as unknown as NetworkCoordinator;
  return { token, coordinator, admin };
}

export async function fund(token: DATAToken, coordinator: NetworkCoordinator, who: Signer, amount: bigint) {
  await token.mint(await who.getAddress(), amount);
  await token.connect(who).approve(await coordinator.getAddress(), amount);
}

export async function register(token: DATAToken, coordinator: NetworkCoordinator, who: Signer, stake = DATA(1000)) {
  await fund(token, coordinator, who, stake);
  return coordinator.connect(who).registerBroker(stake, WS, HTTP, PUBKEY);
}

/** Signers beyond the 20 default accounts, funded with ETH. */
export async function extraSigners(count: number): Promise<Signer[]> {
  const signers: Signer[] = [];
  for (let i = 0; i < count; i++) {
    const wallet = ethers.Wallet.createRandom().connect(ethers.provider);
    await ethers.provider.send("hardhat_setBalance", [wallet.address, "0x56BC75E2D63100000"]);
    signers.push(wallet);
  }
  return signers;
}

export async function rebalanceAll(coordinator: NetworkCoordinator, caller?: Signer): Promise<number> {
  let total = 0;
  for (;;) {
    const c = caller ? coordinator.connect(caller) : coordinator;
    const moves = await c.rebalance.staticCall(50);
    if (moves === 0n) return total;
    await c.rebalance(50);
    total += Number(moves);
  }
}

export function commitment(epoch: bigint | number, partition: number, eventCount: bigint | number, checksum: string, salt: string, broker: string): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(
      ["uint64", "uint32", "uint64", "bytes32", "bytes32", "address"],
      [epoch, partition, eventCount, checksum, salt, broker],
    ),
  );
}

/** Move time to the start of a phase of epoch `epoch`'s round. */
export async function toPhase(coordinator: NetworkCoordinator, epoch: bigint, phase: "commit" | "reveal" | "final") {
  const genesis = await coordinator.genesis();
  const params = await coordinator.parameters();
  const end = genesis + (epoch + 1n) * EPOCH;
  const target = phase === "commit" ? end : phase === "reveal" ? end + params.commitWindow : end + params.commitWindow + params.revealWindow;
  const now = BigInt(await time.latest());
  if (now < target) await time.setNextBlockTimestamp(target);
}

/** The salt of broker i's commitment in these tests. */
export const salt = (i: number) => ethers.zeroPadValue(ethers.toBeHex(1000 + i), 32);

export type Report = { count: bigint; checksum: string };

/** A coordinator with `brokers` registered and rebalanced brokers and a funded pool of 10,000 DATA. */
export async function roundSetup(overrides = {}, brokers = 3, replication = 3, initialPartitions = 4) {
  const ctx = await deployCoordinator(overrides, replication, initialPartitions);
  const signers = (await ethers.getSigners()).slice(1, 1 + brokers);
  for (const s of signers) await register(ctx.token, ctx.coordinator, s);
  await rebalanceAll(ctx.coordinator);
  await fund(ctx.token, ctx.coordinator, ctx.admin, DATA(10_000));
  await ctx.coordinator.fundRewards(DATA(10_000));
  return { ...ctx, brokers: signers };
}

/** The signers assigned to a partition, in the order of its assignees (the roster of its next round). */
export async function roster(coordinator: NetworkCoordinator, partition: number, signers: Signer[]): Promise<Signer[]> {
  const assignees = await coordinator.assigneesOf(partition);
  const bySigner = await Promise.all(signers.map(async (s) => [await s.getAddress(), s] as const));
  return assignees.map((a) => bySigner.find(([addr]) => addr === a)![1]);
}

/** Commit each report for its broker, at the start of the round's commit phase. */
export async function commitAll(c: NetworkCoordinator, epoch: bigint, p: number, who: Signer[], reports: Report[]) {
  await toPhase(c, epoch, "commit");
  for (let i = 0; i < who.length; i++) {
    const addr = await who[i].getAddress();
    await c.connect(who[i]).commitReport(epoch, p, commitment(epoch, p, reports[i].count, reports[i].checksum, salt(i), addr));
  }
}

/** Reveal each committed report, at the start of the round's reveal phase. */
export async function revealAll(c: NetworkCoordinator, epoch: bigint, p: number, who: Signer[], reports: Report[]) {
  await toPhase(c, epoch, "reveal");
  for (let i = 0; i < who.length; i++) {
    await c.connect(who[i]).revealReport(epoch, p, reports[i].count, reports[i].checksum, salt(i));
  }
}

/** An off-chain report signed by a broker (EIP-712 BrokerReport), as slashing takes it. */
export async function signReport(c: NetworkCoordinator, signer: Signer, epoch: bigint, partition: number, r: Report) {
  const { chainId } = await ethers.provider.getNetwork();
  const signature = await signer.signTypedData(
    { name: "NetworkCoordinator", version: "1", chainId, verifyingContract: await c.getAddress() },
    {
      BrokerReport: [
        { name: "epoch", type: "uint64" },
        { name: "partition", type: "uint32" },
        { name: "eventCount", type: "uint64" },
        { name: "checksum", type: "bytes32" },
      ],
    },
    { epoch, partition, eventCount: r.count, checksum: r.checksum },
  );
  return { eventCount: r.count, checksum: r.checksum, signature };
}
