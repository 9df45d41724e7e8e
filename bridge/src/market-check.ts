// Before a bridge signs anything it checks that the configured address is the DataLicenseMarket on
// the configured chain: every signature carries that address and chain id in its EIP-712 domain, and
// a signature made for another contract (the DATA token's address in a copied config, say) is
// worthless to buyers and would be served as if it counted. The market answers the ERC-5267
// `eip712Domain()` with its own name, version, chain and address; nothing else does all four.
import { DataLicenseMarket__factory } from "@datamarket/contracts/typechain";
import type { Provider } from "ethers";
import { DOMAIN_NAME, DOMAIN_VERSION } from "./eip712";
import { BridgeConfigError } from "./errors";
import type { Logger } from "./log";

export interface MarketCheck {
  market: string;
  chainId: bigint;
  /** this bridge's attestor address: a warning is logged if the market does not list it */
  attestor: string;
  /** how long to wait for the chain (default 10 s) */
  timeoutMs?: number;
}

/**
 * Resolves if `market` on `provider` is the DataLicenseMarket of `chainId`; throws BridgeConfigError
 * naming the setting otherwise, and a plain Error when the chain cannot be asked.
 */
export async function checkMarket(provider: Provider, check: MarketCheck, log: Logger): Promise<void> {
  const timeoutMs = check.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`cannot check chain.market: the chain did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([inspect(provider, check, log), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function inspect(provider: Provider, check: MarketCheck, log: Logger): Promise<void> {
  const market = check.market.toLowerCase();
  const served = BigInt((await provider.getNetwork()).chainId);
  if (served !== check.chainId) throw BridgeConfigError.of("chain.chainId", `the RPC endpoint serves chain ${served}, the configuration says ${check.chainId}`);
  if ((await provider.getCode(market)) === "0x") {
    throw BridgeConfigError.of("chain.market", `${market} is not the DataLicenseMarket: there is no contract at that address on chain ${served}`);
  }
  // the implementation's ABI (@datamarket/contracts): eip712Domain() is ERC-5267's, not IDataLicenseMarket's
  const contract = DataLicenseMarket__factory.connect(market, provider);
  let domain: { name: string; version: string; chainId: bigint; verifyingContract: string };
  try {
    domain = await contract.eip712Domain();
  } catch (error) {
    throw BridgeConfigError.of("chain.market", `${market} is not the DataLicenseMarket: the contract there does not answer eip712Domain()`, undefined, {
      cause: error,
    });
  }
  if (
    domain.name !== DOMAIN_NAME ||
    domain.version !== DOMAIN_VERSION ||
    domain.chainId !== check.chainId ||
    domain.verifyingContract.toLowerCase() !== market
  ) {
    const what = domain.name === "Streamr DATA" ? " (that is the DATA token)" : "";
    throw BridgeConfigError.of(
      "chain.market",
      `${market} is not the DataLicenseMarket: its EIP-712 domain is "${domain.name}" version "${domain.version}"${what}`,
    );
  }
  const attestors = (await contract.attestors()).map((address) => address.toLowerCase());
  if (!attestors.includes(check.attestor.toLowerCase())) {
    log.warn({ attestor: check.attestor, market }, "this attestor is not registered on the market: its signatures do not count until governance adds it");
  }
}
