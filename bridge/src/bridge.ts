// The consent bridge service: follower + attestor + HTTP API + (optional) revocation relayer, started and
// stopped as one. Graceful stop: the batch in hand is signed and checkpointed, the relay in hand ends,
// in-flight HTTP requests are answered, the state is closed.
import type { AddressInfo } from "node:net";
import { Signer, SigningKey } from "ethers";
import { Attestor } from "./attestor";
import type { MarketDomain } from "./eip712";
import { ConsentEventSource, LedgerFollower } from "./follower";
import { Logger, bridgeLogger } from "./log";
import { RevocationRelayer } from "./relayer";
import { buildServer } from "./server";
import type { BridgeStore } from "./store";

export interface RelayerSettings {
  /** the relayer wallet, connected to the chain (pays the gas of revokeConsent) */
  signer: Signer;
  /** the other bridges' base URLs (this bridge's own is added) */
  peers: string[];
  maxAttempts?: number;
  retryDelayMs?: number;
  logsFromBlock?: number;
  httpTimeoutMs?: number;
  /** blocks on top of a revoking transaction before it counts as relayed (default 0) */
  confirmations?: number;
  confirmationPollMs?: number;
}

export interface ConsentBridgeOptions {
  /** the consent ledger client (ConsentLedgerClient of the in-process ledger or of a Fabric gateway) */
  events: ConsentEventSource;
  /** this attestor organisation's Ethereum key (0x-hex 32 bytes) */
  attestorKey: string;
  domain: MarketDomain;
  store: BridgeStore;
  /** where to listen (default 127.0.0.1, port 8701; port 0 picks a free one) */
  http?: { host?: string; port?: number };
  relayer?: RelayerSettings;
  /** first ledger block to read when there is no checkpoint (default 0) */
  startBlock?: bigint;
  /** follower reconnect delay, milliseconds */
  retryDelayMs?: number;
  /** refuse to sign a grant issued further than this from `now` (seconds; default 300) */
  maxClockSkewSeconds?: number;
  /** this bridge's clock, milliseconds since the epoch (default Date.now) */
  now?: () => number;
  log?: Logger;
  /** called last on stop (e.g. to close the Fabric gateway connection) */
  onStop?: () => void | Promise<void>;
}

export const DEFAULT_HTTP_HOST = "127.0.0.1";
export const DEFAULT_HTTP_PORT = 8701;

export class ConsentBridge {
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly attestor: Attestor,
    readonly follower: LedgerFollower,
    readonly relayer: RevocationRelayer | null,
    readonly url: string,
    private readonly app: ReturnType<typeof buildServer>,
    private readonly options: ConsentBridgeOptions,
    readonly log: Logger,
  ) {}

  static async start(options: ConsentBridgeOptions): Promise<ConsentBridge> {
    const log = options.log ?? bridgeLogger();
    const key = new SigningKey(options.attestorKey);
    const domain: MarketDomain = { chainId: options.domain.chainId, market: options.domain.market.toLowerCase() };
    const attestor = new Attestor(key, domain, options.store, log, { now: options.now, maxClockSkewSeconds: options.maxClockSkewSeconds });
    let relayer: RevocationRelayer | null = null;
    let follower: LedgerFollower | null = null;
    const app = buildServer({
      store: options.store,
      attestor: attestor.address,
      chainId: domain.chainId,
      market: domain.market,
      log,
      health: () => ({
        ledger: {
          connected: follower?.connected ?? false,
          checkpoint: options.store.checkpoint
            ? { blockNumber: options.store.checkpoint.blockNumber, transactionIds: options.store.checkpoint.transactionIds.length }
            : null,
          batchesProcessed: follower?.processed ?? 0,
          lastError: follower?.lastError ?? null,
        },
        relayer: {
          enabled: relayer !== null,
          confirmations: relayer?.confirmations ?? null,
          pending: relayer?.pending ?? 0,
          relayed: [...options.store.relays.values()].filter((r) => r.status === "relayed").length,
          failed: [...options.store.relays.values()].filter((r) => r.status === "failed").length,
        },
      }),
    });
    await app.listen({ host: options.http?.host ?? DEFAULT_HTTP_HOST, port: options.http?.port ?? DEFAULT_HTTP_PORT });
    const address = app.server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    try {
      if (options.relayer) {
        relayer = new RevocationRelayer({
          signer: options.relayer.signer,
          domain,
          bridgeUrls: [url, ...options.relayer.peers],
          store: options.store,
          log,
          maxAttempts: options.relayer.maxAttempts,
          retryDelayMs: options.relayer.retryDelayMs,
          logsFromBlock: options.relayer.logsFromBlock,
          httpTimeoutMs: options.relayer.httpTimeoutMs,
          confirmations: options.relayer.confirmations,
          confirmationPollMs: options.relayer.confirmationPollMs,
        });
        relayer.resume();
      }
      follower = new LedgerFollower(options.events, attestor, options.store, log, {
        startBlock: options.startBlock,
        retryDelayMs: options.retryDelayMs,
        onBatch: (outcome) => {
          for (const record of outcome.revocations) relayer?.enqueue(record.revocation.grantId);
        },
      });
      await follower.start();
    } catch (error) {
      await relayer?.stop();
      await app.close();
      throw error;
    }
    log.info({ url, attestor: attestor.address, chainId: domain.chainId, market: domain.market, relayer: relayer !== null }, "consent bridge started");
    return new ConsentBridge(attestor, follower, relayer, url, app, options, log);
  }

  /** Stops following, relaying and serving; idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.follower.stop();
      await this.relayer?.stop();
      await this.app.close();
      this.options.store.close();
      await this.options.onStop?.();
      this.log.info({ checkpoint: this.options.store.checkpoint }, "consent bridge stopped");
    })();
    return this.stopped;
  }
}
