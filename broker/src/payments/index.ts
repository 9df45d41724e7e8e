// Per-event fees paid through payment channels (docs/network.md §14): the broker's side.
export { DEFAULT_PAYMENTS_CONFIG, paymentTermsOf, paymentsEnabled } from "./config";
export type { PaymentsConfig, PaymentTerms } from "./config";
export { PaymentLedger } from "./PaymentLedger";
export type { ChannelView, ChargeKind, VoucherRequest } from "./PaymentLedger";
export { VoucherVerifier } from "./VoucherVerifier";
export { ContractChannels } from "./ChannelSource";
export type { ChannelSource } from "./ChannelSource";
export { Payments } from "./Payments";
export type { PaymentsOptions } from "./Payments";
export type { VoucherRequestNotice } from "@datamarket/protocol";
export { VOUCHER_TYPE, VOUCHER_TYPES, VOUCHER_TYPEHASH, channelsDomainSeparator, parseVoucher, voucherDigest } from "./voucher";
export type { Voucher } from "./voucher";
export { registerPaymentRoutes } from "./http";
export { contractPayments, paymentTerms } from "./connect";
