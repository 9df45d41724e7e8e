// Vouchers of PaymentChannels (contracts/interfaces/IPaymentChannels.sol): the EIP-712 digest a payer
// signs, computed with the broker's keccak-256 (native on the hot path), and the wire form.
//
//   Voucher(address payer,address broker,uint32 generation,uint256 amount)
//   domain {name: "PaymentChannels", version: "1", chainId, verifyingContract}

import { BrokerError, ErrorCodes } from "../errors";
import { VOUCHER_TYPE, VOUCHER_TYPES } from "@datamarket/protocol";
import { keccak256 } from "../wire";

export { VOUCHER_TYPE, VOUCHER_TYPES };
const EIP712_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
const utf8 = (s: string) => Buffer.from(s, "utf8");
export const VOUCHER_TYPEHASH = keccak256(utf8(VOUCHER_TYPE));

/** A voucher as the broker holds it (addresses lowercase 0x hex). */
export interface Voucher {
  payer: string;
  broker: string;
  generation: number;
  /** Cumulative DATA wei owed to the broker in this channel generation. */
  amount: bigint;
  /** 65 bytes r ‖ s ‖ v, v 27 or 28, low s. */
  signature: Buffer;
}

function word(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, "0"), "hex");
}

function addressWord(address: string): Buffer {
  return Buffer.concat([Buffer.alloc(12), Buffer.from(address.slice(2), "hex")]);
}

/** The EIP-712 domain separator of a PaymentChannels deployment. */
export function channelsDomainSeparator(chainId: number | bigint, channels: string): Buffer {
  return keccak256(
    Buffer.concat([
      keccak256(utf8(EIP712_DOMAIN_TYPE)),
      keccak256(utf8("PaymentChannels")),
      keccak256(utf8("1")),
      word(BigInt(chainId)),
      addressWord(channels.toLowerCase()),
    ]),
  );
}

// Scratch buffers of the digest (the broker is single-threaded; each call fills them completely): the
// struct's five words, and 0x1901 ‖ domain separator ‖ struct hash. No allocation but keccak's output.
const STRUCT = Buffer.alloc(5 * 32);
VOUCHER_TYPEHASH.copy(STRUCT, 0);
const TYPED = Buffer.alloc(66);
TYPED[0] = 0x19;
TYPED[1] = 0x01;
const MASK_64 = (1n << 64n) - 1n;

function writeWord(buf: Buffer, offset: number, value: bigint): void {
  buf.writeBigUInt64BE((value >> 192n) & MASK_64, offset);
  buf.writeBigUInt64BE((value >> 128n) & MASK_64, offset + 8);
  buf.writeBigUInt64BE((value >> 64n) & MASK_64, offset + 16);
  buf.writeBigUInt64BE(value & MASK_64, offset + 24);
}

/** keccak256(0x1901 ‖ domainSeparator ‖ structHash): what the payer signs and the contract recovers. */
export function voucherDigest(domainSeparator: Buffer, v: Pick<Voucher, "payer" | "broker" | "generation" | "amount">): Buffer {
  STRUCT.fill(0, 32, 96);
  STRUCT.write(v.payer.slice(2), 44, 20, "hex");
  STRUCT.write(v.broker.slice(2), 76, 20, "hex");
  writeWord(STRUCT, 96, BigInt(v.generation));
  writeWord(STRUCT, 128, v.amount);
  domainSeparator.copy(TYPED, 2);
  keccak256(STRUCT).copy(TYPED, 34);
  return keccak256(TYPED);
}

function invalid(message: string, field: string): BrokerError {
  return new BrokerError(ErrorCodes.INVALID_VOUCHER, message, { field });
}

/** Parses a voucher message ({ payer, generation, amount, signature }, JSON) for this broker. */
export function parseVoucher(msg: Record<string, unknown>, broker: string): Voucher {
  const payer = typeof msg.payer === "string" ? msg.payer.toLowerCase() : "";
  if (!/^0x[0-9a-f]{40}$/.test(payer)) throw invalid("payer must be a 0x address", "payer");
  const generation = msg.generation;
  if (typeof generation !== "number" || !Number.isInteger(generation) || generation < 0 || generation > 0xffffffff) {
    throw invalid("generation must be a uint32", "generation");
  }
  if (typeof msg.amount !== "string" || !/^(0|[1-9][0-9]{0,77})$/.test(msg.amount)) throw invalid("amount must be a decimal string of DATA wei", "amount");
  const amount = BigInt(msg.amount);
  if (amount >= 2n ** 256n) throw invalid("amount must be a uint256", "amount");
  const signature = typeof msg.signature === "string" && /^0x[0-9a-fA-F]{130}$/.test(msg.signature) ? Buffer.from(msg.signature.slice(2), "hex") : undefined;
  if (!signature || (signature[64] !== 27 && signature[64] !== 28)) throw invalid("signature must be 65 bytes r ‖ s ‖ v (v 27 or 28), 0x hex", "signature");
  return { payer, broker, generation, amount, signature };
}
