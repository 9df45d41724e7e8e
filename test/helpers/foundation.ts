// Shared test and scenario helpers: deploy the token and the registry, measure gas, sign permits.
import { ethers } from "hardhat";
import type { ContractTransactionResponse, Signer } from "ethers";
import type { DATAToken, StreamRegistry } from "../../typechain-types";

/** Default hard cap of the DATA supply in tests: 1 billion DATA. */
export const TOKEN_CAP = 10n ** 27n;

export async function deployFoundation(admin: Signer): Promise<{ token: DATAToken; registry: StreamRegistry }> {
  const adminAddress = await admin.getAddress();
  const token = (await ethers.deployContract("DATAToken", [adminAddress, adminAddress, TOKEN_CAP], admin)) as unknown as DATAToken;
  const registry = (await ethers.deployContract("StreamRegistry", [adminAddress], admin)) as unknown as StreamRegistry;
  return { token, registry };
}

/** The receipt's gasUsed of a sent transaction. */
export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction has no receipt");
  return receipt.gasUsed;
}

/** An EIP-2612 permit signature of `owner` for `spender`. */
export async function signPermit(
  token: DATAToken,
  owner: Signer,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<{ v: number; r: string; s: string }> {
  const ownerAddress = await owner.getAddress();
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: await token.name(),
    version: "1",
    chainId,
    verifyingContract: await token.getAddress(),
  };
  const types = {
    Permit: [
      { name: "owner", type: "address" },
      { name: "spender", type: "address" },
      { name: "value", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  };
  const nonce = await token.nonces(ownerAddress);
  const signature = await owner.signTypedData(domain, types, { owner: ownerAddress, spender, value, nonce, deadline });
  return ethers.Signature.from(signature);
}
