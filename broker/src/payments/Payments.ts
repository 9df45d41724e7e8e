// The broker's per-event fees, paid through payment channels (docs/network.md §14): prices, voucher
// requests, voucher checks, the rule that stops a payer whose vouchers fall behind, redemption on chain,
// and the best voucher of each payer kept on disk. The broker calls it from a few hooks: the publish
// path (check before storing, charge once stored), live delivery (charge each subscriber, cut the one
// that must pay first), subscribe, and the `voucher` message (docs/protocol.md §6.7).

import type { VoucherRequestNotice } from "@datamarket/protocol";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Logger } from "pino";
import { BrokerError, ErrorCodes } from "../errors";
import type { PaymentTerms } from "./config";
import { PaymentLedger, type ChannelView, type ChargeKind, type VoucherRequest } from "./PaymentLedger";
import type { ChannelSource } from "./ChannelSource";
import { VoucherVerifier } from "./VoucherVerifier";
import { channelsDomainSeparator, parseVoucher, type Voucher } from "./voucher";

export interface PaymentsOptions {
  terms: PaymentTerms;
  /** The broker's address (the payee; its operator key redeems). */
  broker: string;
  chainId: number;
  /** The PaymentChannels contract. */
  channels: string;
  source: ChannelSource;
  /** Where the best voucher of each payer is kept across restarts (`<dataDir>/payments.json`). */
  stateFile?: string;
  logger?: Logger;
}

/** The `voucherRequest` notice a payer's sessions receive (docs/protocol.md §6.7). */

export class Payments {
  readonly ledger: PaymentLedger;
  readonly verifier: VoucherVerifier;
  readonly broker: string;
  private readonly listeners = new Set<(notice: VoucherRequestNotice) => void>();
  private readonly loading = new Map<string, Promise<void>>();
  /** Chain changes of payers whose first read is in flight: applied after it. */
  private readonly pending = new Map<string, { view: ChannelView; rewind: boolean }[]>();
  private readonly restored = new Map<string, Voucher>();
  private redeeming: Promise<void> = Promise.resolve();
  private redeemTimer?: NodeJS.Timeout;
  private saveTimer?: NodeJS.Timeout;
  readonly stats = { requests: 0, vouchersAccepted: 0, vouchersRefused: 0, redeemed: 0n, redemptions: 0, redeemFailures: 0 };

  constructor(readonly options: PaymentsOptions) {
    this.broker = options.broker.toLowerCase();
    this.ledger = new PaymentLedger(options.terms, (r) => this.request(r));
    this.verifier = new VoucherVerifier(channelsDomainSeparator(options.chainId, options.channels));
    options.source.watch(
      (payer, view) => this.onChain(payer, view),
      (payer, view) => this.onRewind(payer, view),
    );
    for (const v of this.readState()) this.restored.set(v.payer, v);
  }

  /** What the broker charges, for its `hello` (docs/protocol.md §6.7). */
  hello(): Record<string, unknown> {
    const t = this.options.terms;
    return {
      channels: this.options.channels.toLowerCase(),
      chainId: this.options.chainId,
      broker: this.broker,
      publishPrice: String(t.publishPrice),
      deliveryPrice: String(t.deliveryPrice),
      voucherPeriodEvents: t.periodEvents,
      voucherPeriodAmount: String(t.periodAmount),
    };
  }

  /** Calls `listener` with each voucher request; returns the unsubscribe. */
  onRequest(listener: (notice: VoucherRequestNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private request(r: VoucherRequest): void {
    this.stats.requests++;
    const notice: VoucherRequestNotice = {
      type: "voucherRequest",
      channels: this.options.channels.toLowerCase(),
      chainId: this.options.chainId,
      broker: this.broker,
      payer: r.payer,
      generation: r.generation,
      amount: String(r.amount),
      owed: String(r.owed),
      paid: String(r.paid),
    };
    for (const l of this.listeners) l(notice);
  }

  /** Reads a payer's channel once (later changes come from the chain's events). */
  load(payer: string): Promise<void> {
    const p = payer.toLowerCase();
    if (this.ledger.knows(p)) return Promise.resolve();
    let loading = this.loading.get(p);
    if (!loading) {
      this.pending.set(p, []);
      loading = this.options.source
        .read(p)
        .then((view) => {
          this.ledger.setChannel(p, view, this.restored.get(p));
          this.restored.delete(p);
          for (const { view: v, rewind } of this.pending.get(p) ?? []) {
            if (rewind) this.ledger.rewindChannel(p, v);
            else this.ledger.setChannel(p, v);
          }
        })
        .finally(() => {
          this.pending.delete(p);
          this.loading.delete(p);
        });
      this.loading.set(p, loading);
    }
    return loading;
  }

  private onChain(payer: string, view: ChannelView): void {
    const queued = this.pending.get(payer);
    if (queued) queued.push({ view, rewind: false });
    else if (this.ledger.knows(payer)) this.ledger.setChannel(payer, view);
    else return;
    // A payer that starts closing leaves the broker the challenge period: redeem its voucher now.
    if (view.closesAt !== 0) void this.redeemDue();
  }

  /** A reorg removed some of the channel's events: the broker's view moves back to the fork block's. */
  private onRewind(payer: string, view: ChannelView): void {
    const queued = this.pending.get(payer);
    // A first read in flight may have read the removed branch: the fork's view replaces it.
    if (queued) queued.splice(0, queued.length, { view, rewind: true });
    else if (this.ledger.knows(payer)) this.ledger.rewindChannel(payer, view);
    this.options.logger?.warn(
      { payer, deposited: String(view.deposited), generation: view.generation },
      "a reorg removed payment-channel events: the channel is read again at the fork",
    );
  }

  /** Before a publish is checked: reads the publisher's channel if publishing is priced. */
  preparePublish(publisher: string): Promise<void> {
    return this.options.terms.publishPrice === 0n ? Promise.resolve() : this.load(publisher);
  }

  /** Throws PAYMENT_REQUIRED when `payer` cannot publish one more event (call after preparePublish). */
  checkPublish(payer: string): void {
    const refused = this.ledger.refusal(payer, "publish");
    if (refused) throw refused;
  }

  /** Charges a stored publish (checked just before, in the same turn). */
  chargePublish(payer: string): void {
    this.ledger.charge(payer, "publish");
  }

  /** Charges one live delivery; false when the subscriber must pay first (it is then cut). */
  chargeDelivery(subscriber: string): boolean {
    return this.ledger.tryCharge(subscriber, "delivery");
  }

  /** Why `payer` is not served (the notice of a cut subscription). */
  refusal(payer: string, kind: ChargeKind): BrokerError {
    return this.ledger.refusal(payer, kind) ?? new BrokerError(ErrorCodes.PAYMENT_REQUIRED, `${payer} must pay first`, { payer });
  }

  /** Before a subscription: the subscriber's channel is read, and it must be able to pay for a delivery. */
  async admitSubscriber(subscriber: string): Promise<void> {
    if (this.options.terms.deliveryPrice === 0n) return;
    await this.load(subscriber);
    const refused = this.ledger.refusal(subscriber, "delivery");
    if (refused) throw refused;
  }

  /**
   * A voucher from a payer (WebSocket `voucher` message or `POST /payments/vouchers`). Checked and kept if
   * it raises what is paid. Throws INVALID_VOUCHER (also for a payer this broker has no account of).
   */
  async submit(msg: Record<string, unknown>): Promise<{ accepted: boolean; payer: string; generation: number; amount: string; owed: string; paid: string }> {
    const voucher = parseVoucher(msg, this.broker);
    // No chain read and no state for a payer this broker never served: anyone can sign vouchers for
    // fresh keys, and they must cost the broker nothing but a refusal.
    if (!this.ledger.knows(voucher.payer)) {
      this.stats.vouchersRefused++;
      throw new BrokerError(ErrorCodes.INVALID_VOUCHER, `${voucher.payer} has no account with this broker: publish or subscribe first`, {
        field: "payer",
        payer: voucher.payer,
      });
    }
    if (!(await this.verifier.verify(voucher))) {
      this.stats.vouchersRefused++;
      throw new BrokerError(
        ErrorCodes.INVALID_VOUCHER,
        `the signature is not ${voucher.payer}'s over this voucher for broker ${this.broker} on PaymentChannels ${this.options.channels.toLowerCase()}`,
        {
          field: "signature",
          payer: voucher.payer,
          broker: this.broker,
          generation: voucher.generation,
          amount: String(voucher.amount),
        },
      );
    }
    const accepted = this.ledger.accept(voucher);
    if (accepted) {
      this.stats.vouchersAccepted++;
      this.scheduleSave();
    }
    const s = this.ledger.state(voucher.payer)!;
    return { accepted, payer: voucher.payer, generation: voucher.generation, amount: String(voucher.amount), owed: String(s.owed), paid: String(s.paid) };
  }

  /** A payer's account with this broker (`GET /payments/{payer}`): null when it has none here (nothing is read for it). */
  status(payer: string): Record<string, unknown> {
    const p = payer.toLowerCase();
    const s = this.ledger.state(p);
    const account = s && {
      generation: s.channel.generation,
      deposited: String(s.channel.deposited),
      redeemed: String(s.channel.redeemed),
      closesAt: s.channel.closesAt,
      owed: String(s.owed),
      paid: String(s.paid),
      unpaidEvents: s.unpaidEvents,
    };
    return { payer: p, broker: this.broker, channels: this.options.channels.toLowerCase(), chainId: this.options.chainId, account: account ?? null };
  }

  /** Redeems every voucher worth it now (at least redeemMinAmount, or any on a closing channel), one transaction at a time. */
  redeemDue(all = false): Promise<void> {
    this.redeeming = this.redeeming.then(async () => {
      for (const { voucher, pays, closing } of this.ledger.redeemable()) {
        if (!all && !closing && pays < this.options.terms.redeemMinAmount) continue;
        const signature = this.verifier.redeemable(voucher);
        if (!signature) continue;
        try {
          await this.options.source.redeem(voucher.payer, voucher.generation, voucher.amount, signature);
          this.stats.redemptions++;
          this.stats.redeemed += pays;
          const channel = this.ledger.state(voucher.payer)!.channel;
          this.ledger.setChannel(voucher.payer, { ...channel, redeemed: channel.redeemed + pays });
          this.options.logger?.info({ payer: voucher.payer, generation: voucher.generation, paid: String(pays) }, "voucher redeemed");
        } catch (err) {
          this.stats.redeemFailures++;
          this.options.logger?.warn({ err, payer: voucher.payer }, "voucher redemption failed (retried next round)");
        }
      }
    });
    return this.redeeming;
  }

  /** Reads the channels of the payers whose vouchers were kept, then redeems on schedule. */
  async start(): Promise<void> {
    await Promise.all(
      [...this.restored.keys()].map((p) => this.load(p).catch((err) => this.options.logger?.warn({ err, payer: p }, "cannot read a payer's channel"))),
    );
    this.redeemTimer = setInterval(() => void this.redeemDue(), this.options.terms.redeemIntervalMs);
    this.redeemTimer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.redeemTimer);
    clearTimeout(this.saveTimer);
    this.save();
    await this.redeeming;
  }

  private scheduleSave(): void {
    if (!this.options.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 1000);
    this.saveTimer.unref();
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const vouchers = [...this.ledger.bestVouchers(), ...this.restored.values()].map((v) => ({
      payer: v.payer,
      generation: v.generation,
      amount: String(v.amount),
      signature: "0x" + v.signature.toString("hex"),
    }));
    writeFileSync(file + ".tmp", JSON.stringify({ channels: this.options.channels.toLowerCase(), broker: this.broker, vouchers }, null, 1));
    renameSync(file + ".tmp", file);
  }

  private readState(): Voucher[] {
    const file = this.options.stateFile;
    if (!file) return [];
    let json: { channels?: string; broker?: string; vouchers?: Record<string, unknown>[] };
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      return [];
    }
    // Vouchers of another contract or broker are worthless here.
    if (json.channels !== this.options.channels.toLowerCase() || json.broker !== this.broker) return [];
    return (json.vouchers ?? []).flatMap((v) => {
      try {
        return [parseVoucher(v, this.broker)];
      } catch {
        return [];
      }
    });
  }
}
