// The payer's side of a broker's per-event fees (docs/network.md §14, docs/sdk.md "Paying brokers"):
// signs the EIP-712 vouchers a broker asks for, for the cumulative amount owed on the payer's channel
// to it, within a spending limit of the payer's own. A broker can ask for anything: the signer never
// signs above the limit, never for another payer, and never below what it signed already (it sends
// that voucher again, which covers the request).

import { getAddress, type Signer, type TypedDataDomain } from "ethers";
import { VOUCHER_TYPES, type VoucherRequestNotice } from "@datamarket/protocol";
import { SdkError, SdkErrorCodes } from "../errors";

export { VOUCHER_TYPES };

/** A broker's `voucherRequest` notice (docs/protocol.md §6.7). */
export type VoucherRequest = VoucherRequestNotice;

/** The `voucher` message that answers it. */
export interface VoucherMessage {
  payer: string;
  generation: number;
  amount: string;
  signature: string;
}

export interface VoucherSignerOptions {
  /** The most DATA wei this client signs for on one channel generation (cumulative). */
  maxAmount: bigint;
  /** Only brokers on this chain (default: any, the request names it). */
  chainId?: number;
}

export class VoucherSigner {
  private readonly signed = new Map<string, VoucherMessage & { value: bigint }>();

  constructor(
    private readonly signer: Signer,
    private readonly options: VoucherSignerOptions,
  ) {}

  /**
   * The voucher answering a request. Throws SdkError INVALID_ARGUMENT for a request to another payer
   * or chain, PAYMENT_LIMIT above the spending limit.
   */
  async answer(request: VoucherRequest): Promise<VoucherMessage> {
    const payer = (await this.signer.getAddress()).toLowerCase();
    if (String(request.payer).toLowerCase() !== payer) {
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `a voucher request for ${request.payer}, not for this client (${payer})`, { request });
    }
    if (this.options.chainId !== undefined && Number(request.chainId) !== this.options.chainId) {
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `a voucher request on chain ${request.chainId}, not ${this.options.chainId}`, { request });
    }
    const amount = BigInt(request.amount);
    const key = `${String(request.channels).toLowerCase()}/${String(request.broker).toLowerCase()}/${request.generation}`;
    const previous = this.signed.get(key);
    if (previous && previous.value >= amount)
      return { payer: previous.payer, generation: previous.generation, amount: previous.amount, signature: previous.signature };
    if (amount > this.options.maxAmount) {
      throw new SdkError(
        SdkErrorCodes.PAYMENT_LIMIT,
        `the broker asks for ${amount} DATA wei on its channel, above this client's limit of ${this.options.maxAmount}`,
        {
          amount: String(amount),
          maxAmount: String(this.options.maxAmount),
          broker: request.broker,
        },
      );
    }
    const domain: TypedDataDomain = { name: "PaymentChannels", version: "1", chainId: request.chainId, verifyingContract: getAddress(request.channels) };
    const signature = await this.signer.signTypedData(domain, VOUCHER_TYPES, {
      payer,
      broker: getAddress(request.broker),
      generation: request.generation,
      amount,
    });
    const voucher = { payer, generation: request.generation, amount: String(amount), signature };
    this.signed.set(key, { ...voucher, value: amount });
    return voucher;
  }

  /** What this client signed for in all on a broker's channel generation (0 if nothing). */
  signedFor(channels: string, broker: string, generation: number): bigint {
    return this.signed.get(`${channels.toLowerCase()}/${broker.toLowerCase()}/${generation}`)?.value ?? 0n;
  }
}
