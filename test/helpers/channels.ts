// Shared helpers of the payment-channel tests and gas scenario: deploy the channels, sign vouchers.
import { ethers } from "hardhat";
import type { Signer } from "ethers";
import type { PaymentChannels } from "../../typechain-types";

/** The challenge period the tests deploy with: 1 day. */
export const CHALLENGE_PERIOD = 86_400n;

export const VOUCHER_TYPES = {
  Voucher: [
    { name: "payer", type: "address" },
    { name: "broker", type: "address" },
    { name: "generation", type: "uint32" },
    { name: "amount", type: "uint256" },
  ],
};

export async function deployChannels(token: string, challengePeriod = CHALLENGE_PERIOD): Promise<PaymentChannels> {
  return (await ethers.deployContract("PaymentChannels", [token, challengePeriod])) as unknown as PaymentChannels;
}

/** The payer's EIP-712 signature of a voucher (65 bytes, hex). */
export async function signVoucher(
  channels: PaymentChannels,
  payer: Signer,
  broker: string,
  generation: bigint | number,
  amount: bigint,
  domainOverride: { chainId?: bigint; verifyingContract?: string } = {},
): Promise<string> {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: "PaymentChannels",
    version: "1",
    chainId: domainOverride.chainId ?? chainId,
    verifyingContract: domainOverride.verifyingContract ?? (await channels.getAddress()),
  };
  return payer.signTypedData(domain, VOUCHER_TYPES, { payer: await payer.getAddress(), broker, generation, amount });
}
