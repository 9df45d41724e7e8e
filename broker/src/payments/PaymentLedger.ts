// What each payer owes this broker and what its vouchers cover: the accounting of docs/network.md §14.3,
// with no I/O (the chain's view of each channel comes in through setChannel, vouchers through accept).
//
// The rule that bounds the broker's risk: a priced event is served only if, after it, the payer's unpaid
// service (owed - paid) is at most one voucher period (voucherPeriodEvents priced events, or
// voucherPeriodAmount DATA) and what it owes in all is at most its deposit. The broker asks for a voucher
// as soon as half a period is unpaid, so a payer that answers within half a period is never stopped;
// one that stops signing is stopped after one period, never more.

import { BrokerError, ErrorCodes } from "../errors";
import type { PaymentTerms } from "./config";
import type { Voucher } from "./voucher";

/** The chain's state of a payer's channel to this broker (IPaymentChannels.ChannelState). */
export interface ChannelView {
  generation: number;
  deposited: bigint;
  redeemed: bigint;
  /** 0 while open; unix seconds from which the payer may finish its close. */
  closesAt: number;
}

export type ChargeKind = "publish" | "delivery";

/** A request for a voucher covering `amount` (cumulative, this generation). */
export interface VoucherRequest {
  payer: string;
  generation: number;
  amount: bigint;
  /** What the payer owes (= amount when the request is made) and what its best voucher covers. */
  owed: bigint;
  paid: bigint;
}

interface PayerState {
  channel: ChannelView;
  owed: bigint;
  owedEvents: number;
  paid: bigint;
  paidEvents: number;
  /** Requests not covered yet: a voucher for `amount` covers `events` priced events. */
  outstanding: { amount: bigint; events: number }[];
  best?: Voucher;
}

export class PaymentLedger {
  private readonly payers = new Map<string, PayerState>();
  private readonly halfEvents: number;
  private readonly halfAmount: bigint;

  constructor(
    readonly terms: PaymentTerms,
    private readonly onRequest: (request: VoucherRequest) => void,
  ) {
    this.halfEvents = Math.max(1, Math.floor(terms.periodEvents / 2));
    this.halfAmount = terms.periodAmount / 2n;
  }

  price(kind: ChargeKind): bigint {
    return kind === "publish" ? this.terms.publishPrice : this.terms.deliveryPrice;
  }

  /** Whether the chain's view of this payer's channel is known here. */
  knows(payer: string): boolean {
    return this.payers.has(payer);
  }

  /**
   * The chain's view of a channel (first read, or an event). Views only move forward: a lower generation,
   * or a lower deposit or redemption within one, is an older view and is ignored. A new generation
   * (a finished close) starts the payer's accounting from zero.
   */
  setChannel(payer: string, view: ChannelView, restored?: Voucher): void {
    const s = this.payers.get(payer);
    if (!s || view.generation > s.channel.generation) {
      const best = restored && restored.generation === view.generation ? restored : undefined;
      // Service before a restart that no voucher covers is not known any more: start at what is paid.
      const paid = best && best.amount > view.redeemed ? best.amount : view.redeemed;
      this.payers.set(payer, { channel: { ...view }, owed: paid, owedEvents: 0, paid, paidEvents: 0, outstanding: [], best });
      return;
    }
    if (view.generation < s.channel.generation) return;
    const c = s.channel;
    if (view.deposited > c.deposited) c.deposited = view.deposited;
    if (view.redeemed > c.redeemed) c.redeemed = view.redeemed;
    if (view.closesAt !== 0) c.closesAt = view.closesAt;
    if (c.redeemed > s.paid) {
      s.paid = c.redeemed;
      if (s.owed < s.paid) s.owed = s.paid;
    }
  }

  /**
   * The chain's view of a channel at a reorg's fork block, after the reorg removed some of its events:
   * it replaces the view held, lower or not, so a deposit or top-up the reorg removed no longer counts
   * (the canonical events from the fork raise it again through setChannel). What the payer owes and
   * the vouchers it signed are off chain and kept; a view of an older generation (the reorg removed a
   * finished close) starts the payer's accounting again from that generation.
   */
  rewindChannel(payer: string, view: ChannelView): void {
    const s = this.payers.get(payer);
    if (!s) return;
    if (view.generation !== s.channel.generation) {
      this.payers.delete(payer);
      this.setChannel(payer, view);
      return;
    }
    s.channel = { ...view };
    if (s.channel.redeemed > s.paid) {
      s.paid = s.channel.redeemed;
      if (s.owed < s.paid) s.owed = s.paid;
    }
  }

  /** Why `payer` cannot be served one more event of `kind` now, or undefined if it can. */
  refusal(payer: string, kind: ChargeKind): BrokerError | undefined {
    const price = this.price(kind);
    if (price === 0n) return undefined;
    const s = this.payers.get(payer);
    const details = (reason: string, extra: Record<string, unknown> = {}) => ({
      reason,
      payer,
      generation: s?.channel.generation ?? 0,
      owed: String(s?.owed ?? 0n),
      paid: String(s?.paid ?? 0n),
      deposited: String(s?.channel.deposited ?? 0n),
      ...extra,
    });
    if (!s || s.channel.deposited === 0n) {
      return new BrokerError(ErrorCodes.PAYMENT_REQUIRED, `${payer} has no funded payment channel to this broker`, details("NO_CHANNEL"));
    }
    if (s.channel.closesAt !== 0) {
      return new BrokerError(
        ErrorCodes.PAYMENT_REQUIRED,
        `${payer}'s payment channel to this broker is closing`,
        details("CHANNEL_CLOSING", { closesAt: s.channel.closesAt }),
      );
    }
    const owed = s.owed + price;
    if (owed > s.channel.deposited) {
      return new BrokerError(
        ErrorCodes.PAYMENT_REQUIRED,
        `${payer}'s deposit (${s.channel.deposited} wei) does not cover ${owed} wei: top it up`,
        details("DEPOSIT_EXHAUSTED"),
      );
    }
    const unpaidEvents = s.owedEvents + 1 - s.paidEvents;
    const unpaidAmount = owed - s.paid;
    const { periodEvents, periodAmount } = this.terms;
    if ((periodEvents > 0 && unpaidEvents > periodEvents) || (periodAmount > 0n && unpaidAmount > periodAmount)) {
      return new BrokerError(
        ErrorCodes.PAYMENT_REQUIRED,
        `${payer}'s vouchers are behind: one voucher period is unpaid`,
        details("VOUCHERS_BEHIND", {
          request: String(s.owed),
          periodEvents,
          periodAmount: String(periodAmount),
        }),
      );
    }
    return undefined;
  }

  /** Charges one event of `kind` to `payer`, or throws PAYMENT_REQUIRED (nothing charged). */
  charge(payer: string, kind: ChargeKind): void {
    const refused = this.refusal(payer, kind);
    if (refused) throw refused;
    const price = this.price(kind);
    if (price === 0n) return;
    const s = this.payers.get(payer)!;
    s.owed += price;
    s.owedEvents++;
    this.maybeRequest(payer, s);
  }

  /** Charges if it can; false (nothing charged) when the payer must be stopped. */
  tryCharge(payer: string, kind: ChargeKind): boolean {
    if (this.refusal(payer, kind)) return false;
    this.charge(payer, kind);
    return true;
  }

  /** Asks for a voucher once half a period is unpaid, and again after each further half period. */
  private maybeRequest(payer: string, s: PayerState): void {
    const last = s.outstanding[s.outstanding.length - 1] ?? { amount: s.paid, events: s.paidEvents };
    const { periodEvents, periodAmount } = this.terms;
    const due = (periodEvents > 0 && s.owedEvents - last.events >= this.halfEvents) || (periodAmount > 0n && s.owed - last.amount >= this.halfAmount);
    if (!due) return;
    s.outstanding.push({ amount: s.owed, events: s.owedEvents });
    this.onRequest({ payer, generation: s.channel.generation, amount: s.owed, owed: s.owed, paid: s.paid });
  }

  /**
   * Takes a voucher whose signature was verified. Returns whether it raised what is paid; throws
   * INVALID_VOUCHER for a voucher of another generation.
   */
  accept(v: Voucher): boolean {
    const s = this.payers.get(v.payer);
    if (!s || v.generation !== s.channel.generation) {
      throw new BrokerError(
        ErrorCodes.INVALID_VOUCHER,
        `the voucher is for generation ${v.generation} of the channel, which is at ${s?.channel.generation ?? "(unknown)"}`,
        {
          field: "generation",
          generation: v.generation,
          current: s?.channel.generation,
        },
      );
    }
    if (v.amount <= s.paid && s.best) return false;
    if (v.amount > s.paid) s.paid = v.amount;
    if (!s.best || v.amount > s.best.amount) s.best = v;
    // The requests it covers: their events are paid.
    while (s.outstanding.length > 0 && s.outstanding[0].amount <= v.amount) s.paidEvents = s.outstanding.shift()!.events;
    if (v.amount >= s.owed) {
      s.paidEvents = s.owedEvents;
      s.outstanding = [];
    }
    return true;
  }

  /** A payer's accounting (for the status endpoint and tests). */
  state(payer: string): { channel: ChannelView; owed: bigint; paid: bigint; unpaidEvents: number; best?: Voucher } | undefined {
    const s = this.payers.get(payer);
    return s && { channel: { ...s.channel }, owed: s.owed, paid: s.paid, unpaidEvents: s.owedEvents - s.paidEvents, best: s.best };
  }

  /** Best vouchers that would pay something if redeemed now, with what they would pay. */
  redeemable(): { voucher: Voucher; pays: bigint; closing: boolean }[] {
    const out: { voucher: Voucher; pays: bigint; closing: boolean }[] = [];
    for (const s of this.payers.values()) {
      const v = s.best;
      if (!v) continue;
      const c = s.channel;
      const upTo = v.amount < c.deposited ? v.amount : c.deposited;
      if (upTo > c.redeemed) out.push({ voucher: v, pays: upTo - c.redeemed, closing: c.closesAt !== 0 });
    }
    return out;
  }

  /** Every payer's best voucher (to persist). */
  bestVouchers(): Voucher[] {
    return [...this.payers.values()].flatMap((s) => (s.best ? [s.best] : []));
  }
}
