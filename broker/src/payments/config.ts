// The broker's payment configuration (docs/network.md §14.3): its shape and defaults (the schema's
// `payments` block, config/schema.ts, gives the environment variables and the table) and the checks
// that span its settings. Prices are 0 by default: payments are off, and a broker without a
// `payments` section behaves exactly as before.

/** Prices and voucher policy. DATA amounts are decimal strings of token wei (they exceed 2^53). */
export interface PaymentsConfig {
  /** DATA wei charged for each event a payer publishes here. "0": publishing is free. */
  publishPrice: string;
  /** DATA wei charged for each event delivered live to a subscriber, per subscriber. "0": free. */
  deliveryPrice: string;
  /**
   * One voucher period, in priced events: the most a payer may have been served unpaid. The broker asks
   * for a voucher when half a period is unpaid and stops serving the payer at a full one. 0: no bound by
   * events (voucherPeriodAmount must then be set).
   */
  voucherPeriodEvents: number;
  /** One voucher period in DATA wei ("0": no bound by amount). The first of the two bounds reached applies. */
  voucherPeriodAmount: string;
  /** How often the broker redeems the latest voucher of each payer on chain (ms). */
  redeemIntervalMs: number;
  /** A redemption that would pay less than this (DATA wei) waits for the next round, unless the channel is closing. */
  redeemMinAmount: string;
}

export const DEFAULT_PAYMENTS_CONFIG: PaymentsConfig = {
  publishPrice: "0",
  deliveryPrice: "0",
  voucherPeriodEvents: 1000,
  voucherPeriodAmount: "0",
  redeemIntervalMs: 3_600_000,
  redeemMinAmount: "0",
};

const WEI = /^(0|[1-9][0-9]{0,77})$/;

/** The configuration's values as numbers, checked. */
export interface PaymentTerms {
  publishPrice: bigint;
  deliveryPrice: bigint;
  periodEvents: number;
  periodAmount: bigint;
  redeemIntervalMs: number;
  redeemMinAmount: bigint;
}

/** Checks the section; `fail(field, message)` throws the broker's ConfigError. */
export function paymentTermsOf(c: PaymentsConfig, fail: (field: string, message: string) => never): PaymentTerms {
  const wei = (field: keyof PaymentsConfig) => {
    const v = c[field];
    if (typeof v !== "string" || !WEI.test(v)) fail(`payments.${field}`, 'must be a decimal string of DATA wei (e.g. "1000000000000")');
    return BigInt(v as string);
  };
  const terms: PaymentTerms = {
    publishPrice: wei("publishPrice"),
    deliveryPrice: wei("deliveryPrice"),
    periodEvents: c.voucherPeriodEvents,
    periodAmount: wei("voucherPeriodAmount"),
    redeemIntervalMs: c.redeemIntervalMs,
    redeemMinAmount: wei("redeemMinAmount"),
  };
  if (!Number.isSafeInteger(terms.periodEvents) || terms.periodEvents < 0) fail("payments.voucherPeriodEvents", "must be a non-negative integer");
  if (terms.periodEvents === 1) fail("payments.voucherPeriodEvents", "must be 0 or at least 2 (the broker asks at half a period)");
  if (terms.periodEvents === 0 && terms.periodAmount === 0n)
    fail("payments.voucherPeriodEvents", "and voucherPeriodAmount cannot both be 0 (no bound on what a payer owes)");
  if (!Number.isSafeInteger(terms.redeemIntervalMs) || terms.redeemIntervalMs < 1000) fail("payments.redeemIntervalMs", "must be an integer >= 1000 (ms)");
  return terms;
}

/** Whether the broker charges anything (else the payment hooks are not installed). */
export function paymentsEnabled(terms: PaymentTerms): boolean {
  return terms.publishPrice > 0n || terms.deliveryPrice > 0n;
}
