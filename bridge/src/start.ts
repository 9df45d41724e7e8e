// Starts a bridge from a validated configuration: checks on chain that the configured market is the
// market, opens the consent ledger (in-process or a Fabric gateway) and the state directory, connects
// the relayer's wallet, then starts the service.
import { connectFabricGateway, InProcessConsentLedger } from "@datamarket/consent-ledger";
import { fabricGatewayConfigOf } from "@datamarket/consent-ledger/config";
import { JsonRpcProvider, Wallet, WebSocketProvider, computeAddress, type Provider } from "ethers";
import { ConsentBridge } from "./bridge";
import { confirmationsOf, type BridgeConfig } from "./config";
import { bridgeLogger, type Logger } from "./log";
import { checkMarket } from "./market-check";
import { BridgeStore } from "./store";

/** A provider for the configured chain; the chain id is fixed by configuration (it is in every signature), never guessed. */
function chainProvider(config: BridgeConfig): Provider & { destroy(): void } {
  const chainId = BigInt(config.chain.chainId);
  return config.chain.rpcUrl.startsWith("ws")
    ? new WebSocketProvider(config.chain.rpcUrl, chainId, { staticNetwork: true })
    : new JsonRpcProvider(config.chain.rpcUrl, chainId, { staticNetwork: true });
}

export async function startFromConfig(config: BridgeConfig, log: Logger = bridgeLogger(config.log.level)): Promise<ConsentBridge> {
  const attestor = computeAddress(config.attestorKey).toLowerCase();
  const chainId = BigInt(config.chain.chainId);
  const provider = chainProvider(config);
  let providerOpen = true;
  const closeProvider = () => {
    if (providerOpen) provider.destroy();
    providerOpen = false;
  };
  // closed on a failed start and when the bridge stops (the bridge closes its store itself)
  const closers: Array<() => void | Promise<void>> = [closeProvider];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  let store: BridgeStore | undefined;
  try {
    await checkMarket(provider, { market: config.chain.market, chainId, attestor }, log);
    // the chain is needed from here on only to relay revocations
    if (!config.relayer.enabled) closeProvider();
    store = BridgeStore.open(config.stateDir, { chainId: chainId.toString(), market: config.chain.market, attestor });
    let events;
    const ledger = config.consentLedger;
    if (ledger.kind === "in-process") {
      // an empty ledger in this process: for local runs and demos that drive the ledger themselves
      const inProcess = await InProcessConsentLedger.create();
      events = inProcess.client(await inProcess.enroll("AuditMSP", "consent-bridge", { "consent.role": "auditor" }));
      log.warn("following an in-process consent ledger (local development only)");
    } else {
      const connection = connectFabricGateway(fabricGatewayConfigOf(ledger.fabric!));
      closers.push(() => connection.close());
      events = connection.client;
    }
    const relayer = config.relayer.enabled
      ? {
          signer: new Wallet(config.relayer.key!, provider),
          peers: config.relayer.peers,
          maxAttempts: config.relayer.maxAttempts,
          retryDelayMs: config.relayer.retryDelayMs,
          httpTimeoutMs: config.relayer.httpTimeoutMs,
          logsFromBlock: config.chain.logsFromBlock,
          confirmations: confirmationsOf(config),
        }
      : undefined;
    return await ConsentBridge.start({
      events,
      attestorKey: config.attestorKey,
      domain: { chainId, market: config.chain.market },
      store,
      http: config.http,
      relayer,
      startBlock: BigInt(ledger.startBlock),
      maxClockSkewSeconds: ledger.maxClockSkewSeconds,
      log,
      onStop: closeAll,
    });
  } catch (error) {
    store?.close();
    await closeAll();
    throw error;
  }
}
