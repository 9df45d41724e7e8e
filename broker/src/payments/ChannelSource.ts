// Where the broker reads its payers' channels and redeems their vouchers: the PaymentChannels contract
// (ContractChannels), or an in-memory double for tests (MemoryChannels).

import type { Signer } from "ethers";
import { IPaymentChannels__factory, type IPaymentChannels } from "@datamarket/contracts/typechain";
import type { ChainFollower, ChainLog } from "../chain/ChainFollower";
import type { ChannelView } from "./PaymentLedger";

export interface ChannelSource {
  /** The channel from `payer` to this broker as the chain holds it now. */
  read(payer: string): Promise<ChannelView>;
  /**
   * Calls `onChange` with each change of one of this broker's channels (chain events), in chain order,
   * and `onRewind` with a channel's view at the fork point when a reorg removed some of its events
   * (the view then moves back; the new branch's events follow through `onChange`).
   */
  watch(onChange: (payer: string, view: ChannelView) => void, onRewind?: (payer: string, view: ChannelView) => void): void;
  /** Redeems a voucher on chain (the broker's key pays the gas and is paid); resolves once mined. */
  redeem(payer: string, generation: number, amount: bigint, signature: Buffer): Promise<void>;
}

/**
 * The PaymentChannels contract, followed with the broker's ChainFollower at its confirmation depth d: a
 * channel is read at the follower's confirmed block (head - d), so a deposit counts once d deep, and a
 * reorg that removes one of a channel's events rewinds the channel to its view at the fork block.
 */
export class ContractChannels implements ChannelSource {
  readonly contract: IPaymentChannels;

  constructor(private readonly options: { channels: string; broker: string; operator: Signer; follower: ChainFollower }) {
    this.contract = IPaymentChannels__factory.connect(options.channels, options.operator);
  }

  /**
   * The channel at the follower's confirmed block. A follower that lags the head (the view there
   * differs) is polled, twice at most (the first poll may join one that read an older head).
   */
  async read(payer: string): Promise<ChannelView> {
    const follower = this.options.follower;
    const confirmed = () => this.readAt(payer, follower.confirmedBlock() ?? Math.max(0, follower.fromBlock - 1));
    const [head, deep] = await Promise.all([this.readAt(payer, "latest"), confirmed()]);
    if (sameView(head, deep)) return deep;
    let view = deep;
    for (let polls = 0; polls < 2 && !sameView(head, view); polls++) {
      await follower.poll();
      view = await confirmed();
    }
    return view;
  }

  private async readAt(payer: string, blockTag: number | "latest"): Promise<ChannelView> {
    const s = await this.contract.channel(payer, this.options.broker, { blockTag });
    return { generation: Number(s.generation), deposited: s.deposited, redeemed: s.redeemed, closesAt: Number(s.closesAt) };
  }

  watch(onChange: (payer: string, view: ChannelView) => void, onRewind?: (payer: string, view: ChannelView) => void): void {
    const me = this.options.broker.toLowerCase();
    const channels = this.options.channels.toLowerCase();
    if (onRewind) {
      this.options.follower.onReorg(async (reorg) => {
        const payers = new Set(
          reorg.removed.filter((l) => l.address === channels && String(l.args.broker).toLowerCase() === me).map((l) => String(l.args.payer).toLowerCase()),
        );
        for (const payer of payers) onRewind(payer, await this.readAt(payer, reorg.forkBlock));
      });
    }
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

function sameView(a: ChannelView, b: ChannelView): boolean {
  return a.generation === b.generation && a.deposited === b.deposited && a.redeemed === b.redeemed && a.closesAt === b.closesAt;
}
