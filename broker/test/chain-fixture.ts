// Deploys the real contracts (token, registry, karma, market) on Hardhat's in-process
// network, loaded from the root hardhat.config.ts, for the contract-backed broker tests.

import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet, type Signer } from "ethers";
import {
  DATAToken__factory, DataLicenseMarket__factory, Karma__factory, StreamRegistry__factory,
  type DATAToken, type DataLicenseMarket, type StreamRegistry,
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

export async function deployMarket(): Promise<Deployed> {
  const [admin] = await hre.ethers.getSigners();
  const adminAddress = await admin.getAddress();
  const token = await new DATAToken__factory(admin).deploy(adminAddress, adminAddress, 10n ** 27n);
  const registry = await new StreamRegistry__factory(admin).deploy(adminAddress);
  const karma = await new Karma__factory(admin).deploy(adminAddress, 30 * 24 * 3600, 1000);
  const libs: Record<string, string> = {};
  for (const name of ["LicenseTermination", "ProductCatalog", "AttestorSet"]) {
    libs[name] = await (await (await hre.ethers.getContractFactory(name)).deploy()).getAddress();
  }
  const market = DataLicenseMarket__factory.connect(
    await (await (await hre.ethers.getContractFactory("DataLicenseMarket", { libraries: libs })).deploy(adminAddress, await token.getAddress(), await registry.getAddress(), await karma.getAddress())).getAddress(),
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
