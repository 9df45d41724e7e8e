// Deploys the real contracts (token, registry, karma, market) on Hardhat's in-process
// network, loaded from the root hardhat.config.ts, for the contract-backed broker tests.

import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet, type Signer } from "ethers";
import type { NetworkCoordinator } from "../../typechain-types";
import {
  DATAToken__factory,
  DataLicenseMarket__factory,
  Karma__factory,
  StreamRegistry__factory,
  type DATAToken,
  type DataLicenseMarket,
  type StreamRegistry,
} from "../../typechain-types";

export const provider = () => hre.ethers.provider;

export interface Deployed {
  admin: Signer;
  token: DATAToken;
  registry: StreamRegistry;
  market: DataLicenseMarket;
  addresses: { token: string; registry: string; market: string };
}

/** A wallet of a fixed key on the Hardhat network, funded with 10 ETH. */
export async function fundedWallet(key: Buffer | string): Promise<Wallet> {
  const wallet = new Wallet(typeof key === "string" ? key : "0x" + key.toString("hex"), hre.ethers.provider);
  const [admin] = await hre.ethers.getSigners();
  if ((await hre.ethers.provider.getBalance(wallet.address)) < 10n ** 18n) {
    await (await admin.sendTransaction({ to: wallet.address, value: 10n ** 19n })).wait();
  }
  return wallet;
}

/** The contracts, deployed by `signer` (default: Hardhat's first account; an anvil account for tests on anvil). */
export async function deployMarket(signer?: Signer): Promise<Deployed> {
  const admin = signer ?? (await hre.ethers.getSigners())[0];
  const adminAddress = await admin.getAddress();
  const token = await new DATAToken__factory(admin).deploy(adminAddress, adminAddress, 10n ** 27n);
  const registry = await new StreamRegistry__factory(admin).deploy(adminAddress);
  const karma = await new Karma__factory(admin).deploy(adminAddress, 30 * 24 * 3600, 1000);
  const libs: Record<string, string> = {};
  for (const name of ["LicenseTermination", "ProductCatalog", "AttestorSet"]) {
    libs[name] = await (await (await hre.ethers.getContractFactory(name, admin)).deploy()).getAddress();
  }
  const market = DataLicenseMarket__factory.connect(
    await (
      await (
        await hre.ethers.getContractFactory("DataLicenseMarket", { libraries: libs, signer: admin })
      ).deploy(adminAddress, await token.getAddress(), await registry.getAddress(), await karma.getAddress())
    ).getAddress(),
    admin,
  );
  const marketAddress = await market.getAddress();
  await (await karma.grantRole(await karma.REPORTER_ROLE(), marketAddress)).wait();
  await (await registry.grantRole(await registry.KEY_REGISTRAR_ROLE(), marketAddress)).wait();
  return { admin, token, registry, market, addresses: { token: await token.getAddress(), registry: await registry.getAddress(), market: marketAddress } };
}

export async function increaseTime(seconds: number): Promise<void> {
  await hre.network.provider.send("evm_increaseTime", [seconds]);
  await hre.network.provider.send("evm_mine", []);
}

export async function mine(): Promise<void> {
  await hre.network.provider.send("evm_mine", []);
}

export async function chainNow(): Promise<number> {
  return (await hre.ethers.provider.getBlock("latest"))!.timestamp;
}

export const DATA = (n: number) => BigInt(n) * 10n ** 18n;
export const EPOCH_SECONDS = 600;
export const COMMIT_WINDOW = 60;
export const REVEAL_WINDOW = 60;

/**
 * A NetworkCoordinator with R = 3, 10-minute epochs, 60 s commit and reveal windows (parameters may be
 * overridden), deployed by `signer` (default: Hardhat's first account; an anvil account for tests on anvil).
 */
export async function deployCoordinator(
  initialPartitions: number,
  overrides: Partial<Record<"maxPartitions" | "partitionsPerBroker", number>> = {},
  signer?: Signer,
): Promise<{ coordinator: NetworkCoordinator; token: DATAToken; address: string }> {
  const admin = signer ?? (await hre.ethers.getSigners())[0];
  const adminAddress = await admin.getAddress();
  const token = await new DATAToken__factory(admin).deploy(adminAddress, adminAddress, DATA(1_000_000_000));
  const libraries = {
    PartitionAssignment: await (await (await hre.ethers.getContractFactory("PartitionAssignment", admin)).deploy()).getAddress(),
    CoordinatorParameters: await (await (await hre.ethers.getContractFactory("CoordinatorParameters", admin)).deploy()).getAddress(),
  };
  const factory = await hre.ethers.getContractFactory("NetworkCoordinator", { libraries, signer: admin });
  const coordinator = (await factory.deploy(await token.getAddress(), adminAddress, 3, EPOCH_SECONDS, initialPartitions, {
    minStake: DATA(1000),
    withdrawalDelay: 7n * 86400n,
    commitWindow: COMMIT_WINDOW,
    revealWindow: REVEAL_WINDOW,
    coherenceBps: 9000,
    rewardPerRound: DATA(90),
    rebalanceReward: DATA(1),
    partitionsPerBroker: overrides.partitionsPerBroker ?? 1,
    maxPartitions: overrides.maxPartitions ?? 1024,
    initialReputation: 5000,
    minReputation: 2000,
    reputationGain: 100,
    reputationLoss: 1000,
    slashBps: 5000,
    whistleblowerBps: 1000,
  })) as unknown as NetworkCoordinator;
  return { coordinator, token, address: await coordinator.getAddress() };
}

/** Registers `who` as a broker with the minimum stake (minted to it), endpoints numbered `n`. */
export async function registerBroker(d: { coordinator: NetworkCoordinator; token: DATAToken }, who: Signer, n: number): Promise<void> {
  const address = await who.getAddress();
  await (await d.token.mint(address, DATA(1000))).wait();
  await (await d.token.connect(who).approve(await d.coordinator.getAddress(), DATA(1000))).wait();
  await (
    await d.coordinator.connect(who).registerBroker(DATA(1000), `ws://127.0.0.1:${7000 + n}`, `http://127.0.0.1:${8000 + n}`, "0x02" + "11".repeat(32))
  ).wait();
}
