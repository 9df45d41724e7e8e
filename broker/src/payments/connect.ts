// Wires the broker's payments to the chain from its configuration (startConfiguredBroker): prices set
// need the PaymentChannels contract of the deployment record and the operator key (the payee, which
// redeems). With both prices 0 nothing is wired.

import { join } from "node:path";
import { Wallet } from "ethers";
import type { Logger } from "pino";
import type { BrokerConfig } from "../config";
import { ConfigError } from "../config";
import type { ChainBackend } from "../chain/ChainBackend";
import { paymentTermsOf, paymentsEnabled } from "./config";
import { ContractChannels } from "./ChannelSource";
import { Payments } from "./Payments";

export function connectPayments(config: BrokerConfig, chain: ChainBackend | undefined, logger: Logger): Payments | undefined {
  const terms = paymentTermsOf(config.payments, (field, message) => {
    throw ConfigError.of(field, message);
  });
  if (!paymentsEnabled(terms)) return undefined;
  if (!chain) throw ConfigError.of("payments", "prices need the chain (the PaymentChannels contract): chain.mode is off or no node/deployment was found");
  const channels = chain.deployment.contracts.PaymentChannels?.address;
  if (!channels) throw ConfigError.of("payments", "the deployment record names no PaymentChannels");
  if (!config.chain.operatorKey)
    throw ConfigError.of("payments", "prices need chain.operatorKey: the broker's address is the payee, and its key redeems the vouchers");
  const operator = new Wallet(config.chain.operatorKey, chain.provider);
  const broker = operator.address.toLowerCase();
  logger.info(
    { channels, broker, publishPrice: String(terms.publishPrice), deliveryPrice: String(terms.deliveryPrice) },
    "charging per event through payment channels",
  );
  return new Payments({
    terms,
    broker,
    chainId: config.chainId,
    channels,
    source: new ContractChannels({ channels, broker, operator, follower: chain.follower }),
    stateFile: join(config.dataDir, "payments.json"),
    logger,
  });
}
