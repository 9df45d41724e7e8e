// Where the broker reads its payers' channels and redeems their vouchers: the PaymentChannels contract
// (ContractChannels), or an in-memory double for tests (MemoryChannels).

import type { Signer } from "ethers";
import { IPaymentChannels__factory, type IPaymentChannels } from "@datamarket/contracts/typechain";
import type { ChainFollower, ChainLog } from "../chain/ChainFollower";
import type { ChannelView } from "./PaymentLedger";

export interface ChannelSource {
  /** The channel from `payer` to this broker as the chain holds it now. */
  read(payer: string): Promise<ChannelView>;
  /** Calls `onChange` with each change of one of this broker's channels (chain events), in chain order. */
  watch(onChange: (payer: string, view: ChannelView) => void): void;
  /** Redeems a voucher on chain (the broker's key pays the gas and is paid); resolves once mined. */
  redeem(payer: string, generation: number, amount: bigint, signature: Buffer): Promise<void>;
}

/** The PaymentChannels contract, followed with the broker's ChainFollower. */
export class ContractChannels implements ChannelSource {
  readonly contract: IPaymentChannels;

  constructor(private readonly options: { channels: string; broker: string; operator: Signer; follower: ChainFollower }) {
    this.contract = IPaymentChannels__factory.connect(options.channels, options.operator);
  }

  async read(payer: string): Promise<ChannelView> {
    const s = await this.contract.channel(payer, this.options.broker);
    return { generation: Number(s.generation), deposited: s.deposited, redeemed: s.redeemed, closesAt: Number(s.closesAt) };
  }

  watch(onChange: (payer: string, view: ChannelView) => void): void {
    const me = this.options.broker.toLowerCase();
    this.options.follower.watch(
      this.options.channels,
      this.contract.interface,
      (logs: ChainLog[]) => {
        for (const log of logs) {
          const a = log.args;
          if (String(a.broker).toLowerCase() !== me) continue;
          const payer = String(a.payer).toLowerCase();
          const generation = Number(a.generation);
          // Each event carries the totals it leaves, so a view built from one is exact for what it names;
          // the ledger keeps the highest of each (views only move forward).
          switch (log.name) {
            case "ChannelFunded":
              onChange(payer, { generation, deposited: a.deposited as bigint, redeemed: 0n, closesAt: 0 });
              break;
            case "VoucherRedeemed":
              onChange(payer, { generation, deposited: 0n, redeemed: a.redeemed as bigint, closesAt: 0 });
              break;
            case "ChannelCloseStarted":
              onChange(payer, { generation, deposited: 0n, redeemed: 0n, closesAt: Number(a.closesAt) });
              break;
            case "ChannelClosed":
              onChange(payer, { generation: generation + 1, deposited: 0n, redeemed: 0n, closesAt: 0 });
              break;
          }
        }
        // Stateless across restarts: the ledger reads a payer's channel at the head when it first serves it.
      },
      { stateless: true },
    );
  }

  async redeem(payer: string, generation: number, amount: bigint, signature: Buffer): Promise<void> {
    await (await this.contract.redeem(payer, generation, amount, signature)).wait();
  }
}
