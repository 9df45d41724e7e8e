// ENS on the local chain for the StreamNames tests and gas scenario: the registry and the public
// resolver as ENS published them (@ensdomains/ens 0.6.2, @ensdomains/resolver 0.3.1; compiled by
// contracts/test/ens/ENSFixtures.sol with solc 0.7.6), and a helper that hands out names.
import { ethers } from "hardhat";
import type { Contract, Signer } from "ethers";

export interface LocalEns {
  registry: Contract;
  resolver: Contract;
  /** Gives `name` (and every missing parent on the way) to `owner`; the root's owner is the deployer. */
  claim(name: string, owner: string): Promise<void>;
}

export async function deployEns(admin: Signer): Promise<LocalEns> {
  const registry = (await ethers.deployContract("ENSRegistry", [], admin)) as unknown as Contract;
  const resolver = (await ethers.deployContract("PublicResolver", [await registry.getAddress()], admin)) as unknown as Contract;
  const adminAddress = await admin.getAddress();
  const claim = async (name: string, owner: string) => {
    const labels = name.split(".");
    // From the top-level label down: the admin owns every parent it creates, then hands the leaf over.
    for (let i = labels.length - 1; i >= 0; i--) {
      const parentName = labels.slice(i + 1).join(".");
      const parent = parentName === "" ? ethers.ZeroHash : ethers.namehash(parentName);
      const node = ethers.namehash(labels.slice(i).join("."));
      const current = (await registry.owner(node)) as string;
      const leaf = i === 0;
      if (!leaf && current === adminAddress) continue;
      if (!leaf && current !== ethers.ZeroAddress) throw new Error(`${labels.slice(i).join(".")} belongs to ${current}`);
      await (await registry.connect(admin).getFunction("setSubnodeOwner")(parent, ethers.id(labels[i]), leaf ? owner : adminAddress)).wait();
    }
  };
  return { registry, resolver, claim };
}
