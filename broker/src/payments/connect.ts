// Wires the broker's payments to the chain from its configuration (startConfiguredBroker): prices set
// need the PaymentChannels contract of the deployment record and the operator key (the payee, which
// redeems). With both prices 0 nothing is wired.

import { join } from "node:path";
import { Wallet } from "ethers";
import type { Logger } from "pino";
import type { BrokerConfig } from "../config";
import { ConfigError } from "../config";
import type { ChainBackend } from "../chain/ChainBackend";
import type { ChainFollower } from "../chain/ChainFollower";
import { DEFAULT_PAYMENTS_CONFIG, paymentTermsOf, paymentsEnabled, type PaymentTerms, type PaymentsConfig } from "./config";
import { ContractChannels } from "./ChannelSource";
import { Payments } from "./Payments";

/** The terms of a `payments` block, its defaults for what it leaves out; a bad value throws ConfigError naming the field. */
export function paymentTerms(config: Partial<PaymentsConfig> = {}): PaymentTerms {
  return paymentTermsOf({ ...DEFAULT_PAYMENTS_CONFIG, ...config }, (field, message) => {
    throw ConfigError.of(field, message);
  });
}

/** Payments through the PaymentChannels contract at `channels`, followed by `follower`, to the broker `operator` (it redeems). */
export function contractPayments(options: {
  terms: PaymentTerms;
  channels: string;
  operator: Wallet;
  follower: ChainFollower;
  chainId: number;
  stateFile?: string;
  logger?: Logger;
}): Payments {
  const { channels, operator, follower } = options;
  const broker = operator.address.toLowerCase();
  return new Payments({
    terms: options.terms,
    broker,
    chainId: options.chainId,
    channels,
    source: new ContractChannels({ channels, broker, operator, follower }),
    stateFile: options.stateFile,
    logger: options.logger,
  });
}

export function connectPayments(config: BrokerConfig, chain: ChainBackend | undefined, logger: Logger): Payments | undefined {
  const terms = paymentTerms(config.payments);
  if (!paymentsEnabled(terms)) return undefined;
  if (!chain) throw ConfigError.of("payments", "prices need the chain (the PaymentChannels contract): chain.mode is off or no node/deployment was found");
  const channels = chain.deployment.contracts.PaymentChannels?.address;
  if (!channels) throw ConfigError.of("payments", "the deployment record names no PaymentChannels");
  if (!config.chain.operatorKey)
    throw ConfigError.of("payments", "prices need chain.operatorKey: the broker's address is the payee, and its key redeems the vouchers");
  const operator = new Wallet(config.chain.operatorKey, chain.provider);
  logger.info(
    { channels, broker: operator.address.toLowerCase(), publishPrice: String(terms.publishPrice), deliveryPrice: String(terms.deliveryPrice) },
    "charging per event through payment channels",
  );
  return contractPayments({
    terms,
    channels,
    operator,
    follower: chain.follower,
    chainId: config.chainId,
    stateFile: join(config.dataDir, "payments.json"),
    logger,
  });
}
