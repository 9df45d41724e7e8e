// What brokers and payers share about PaymentChannels vouchers (docs/network.md §14): the EIP-712 type
// a payer signs and the broker checks, and the broker's request for one. The digest and the checks are
// the broker's (native keccak on its hot path); a payer signs with its wallet's signTypedData.
//
//   Voucher(address payer,address broker,uint32 generation,uint256 amount)
//   domain {name: "PaymentChannels", version: "1", chainId, verifyingContract}

export const VOUCHER_TYPE = "Voucher(address payer,address broker,uint32 generation,uint256 amount)";

/** The voucher as EIP-712 types for a wallet's signTypedData (ethers, viem). */
export const VOUCHER_TYPES = {
  Voucher: [
    { name: "payer", type: "address" },
    { name: "broker", type: "address" },
    { name: "generation", type: "uint32" },
    { name: "amount", type: "uint256" },
  ],
};

/** The EIP-712 domain's name and version of every PaymentChannels deployment. */
export const VOUCHER_DOMAIN = { name: "PaymentChannels", version: "1" } as const;

/** A broker's request for a voucher (docs/protocol.md §6.7): amounts are decimal strings of DATA wei. */
export interface VoucherRequestNotice {
  type: "voucherRequest";
  /** The PaymentChannels contract (the domain's verifyingContract). */
  channels: string;
  chainId: number;
  /** The payee: the broker's operator address. */
  broker: string;
  payer: string;
  generation: number;
  /** The cumulative amount the voucher must cover. */
  amount: string;
  owed: string;
  paid: string;
}
