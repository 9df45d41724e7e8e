// Relays consent revocations to the market: for each grant withdrawn on the ledger it gathers k
// revocation and k attestation signatures (its own and its peers', over HTTP) and sends revokeConsent.
// Idempotent (a ConsentRevoked log for the grant, by anyone, ends the work), one relay at a time (one
// nonce sequence), a bounded number of attempts with exponential backoff.
import { iDataLicenseMarketAbi, withProtocolErrors } from "@datamarket/contracts";
import { IDataLicenseMarket__factory, type IDataLicenseMarket } from "@datamarket/contracts/typechain";
import { Interface, Signer } from "ethers";
import { collectAttestation, collectRevocation } from "./collect";
import type { MarketDomain } from "./eip712";
import { BridgeClientError } from "./errors";
import type { Logger } from "./log";
import type { BridgeStore } from "./store";

/**
 * The market's interface, IDataLicenseMarket from @datamarket/contracts (the compiled interface, never
 * a hand-written copy), with every custom error of the protocol: a revert raised by a contract the
 * market calls decodes too.
 */
export const marketInterface = new Interface(withProtocolErrors(iDataLicenseMarketAbi));

export interface RelayerOptions {
  /** the relayer wallet, connected to the chain */
  signer: Signer;
  domain: MarketDomain;
  /** bridge URLs to gather signatures from: this bridge's own and its peers' */
  bridgeUrls: string[];
  store: BridgeStore;
  log: Logger;
  /** attempts per revocation before giving up (default 5) */
  maxAttempts?: number;
  /** first retry delay, milliseconds, doubled each attempt (default 1,000) */
  retryDelayMs?: number;
  /** block from which to look for earlier ConsentRevoked logs (the market's deployment block; default 0) */
  logsFromBlock?: number;
  /** per-request timeout to peers, milliseconds (default 5,000) */
  httpTimeoutMs?: number;
}

export class RevocationRelayer {
  private readonly market: IDataLicenseMarket;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private stopping = false;
  private worker: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;

  constructor(private readonly options: RelayerOptions) {
    this.market = IDataLicenseMarket__factory.connect(options.domain.market, options.signer);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queues the revocations this bridge signed that are not relayed yet (those given up on are tried again). */
  resume(): void {
    for (const grantId of this.options.store.revocations.keys()) {
      if (this.options.store.relays.get(grantId)?.status !== "relayed") this.enqueue(grantId);
    }
  }

  enqueue(grantId: string): void {
    if (this.stopping || this.queued.has(grantId) || this.options.store.relays.get(grantId)?.status === "relayed") return;
    this.queued.add(grantId);
    this.queue.push(grantId);
    if (!this.worker) this.worker = this.work();
  }

  /** Lets the revocation in hand finish (no new attempt starts) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.();
    await this.worker;
  }

  /** Resolves once the queue is empty (tests and graceful tools). */
  async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  private async work(): Promise<void> {
    try {
      while (!this.stopping && this.queue.length > 0) {
        const grantId = this.queue[0];
        await this.relayWithRetries(grantId);
        this.queue.shift();
        this.queued.delete(grantId);
      }
    } finally {
      this.worker = null;
    }
  }

  private async relayWithRetries(grantId: string): Promise<void> {
    const { log, store } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 5;
    let delay = this.options.retryDelayMs ?? 1_000;
    for (let attempt = 1; attempt <= maxAttempts && !this.stopping; attempt += 1) {
      try {
        const transactionHash = await this.relayOnce(grantId);
        store.append({ kind: "relay", grantId, status: "relayed", transactionHash });
        return;
      } catch (error) {
        const detail = describe(error);
        if (attempt === maxAttempts) {
          store.append({ kind: "relay", grantId, status: "failed", detail });
          log.error({ grantId, attempts: attempt, detail }, "gave up relaying a revocation");
          return;
        }
        // the Fabric and Ethereum clocks differ by a few seconds: a revocation stamped ahead of the
        // chain's time becomes valid once the chain catches up, so wait at least that long
        const skew = chainBehindBy(error);
        const wait = skew === null ? delay : Math.min(Math.max(delay, (skew + 1) * 1_000), MAX_CLOCK_SKEW_WAIT_MS);
        log.warn({ grantId, attempt, retryInMs: wait, detail }, "revocation relay failed; retrying");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.wakeSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay *= 2;
      }
    }
  }

  /** One attempt; resolves with the hash of the transaction that revoked the grant (ours or anyone's). */
  private async relayOnce(grantId: string): Promise<string> {
    const { log, domain } = this.options;
    const earlier = await this.market.queryFilter(this.market.filters.ConsentRevoked(grantId), this.options.logsFromBlock ?? 0, "latest");
    if (earlier.length > 0) {
      log.info({ grantId, transactionHash: earlier[0].transactionHash }, "revocation already on chain");
      return earlier[0].transactionHash;
    }
    const [threshold, attestors] = await Promise.all([this.market.attestorThreshold(), this.market.attestors()]);
    const collectOptions = {
      urls: this.options.bridgeUrls,
      threshold: Number(threshold),
      domain,
      attestors,
      timeoutMs: this.options.httpTimeoutMs,
    };
    const revocation = await collectRevocation(grantId, collectOptions);
    const attestation = await collectAttestation(grantId, collectOptions);
    const args = [revocation.value, revocation.signatures, attestation.value, attestation.signatures] as const;
    // a dry run first: a revert is reported with its decoded custom error and costs no gas
    await this.market.revokeConsent.staticCall(...args);
    const response = await this.market.revokeConsent(...args);
    log.info({ grantId, transactionHash: response.hash, revocationSigners: revocation.signers, attestationSigners: attestation.signers }, "sent revokeConsent");
    const receipt = await response.wait();
    if (!receipt || receipt.status !== 1) {
      throw new Error(`revokeConsent ${response.hash} failed on chain`);
    }
    const revoked = receipt.logs
      .map((entry: { topics: readonly string[]; data: string }) => {
        try {
          return marketInterface.parseLog(entry);
        } catch {
          return null;
        }
      })
      .find((parsed: ReturnType<Interface["parseLog"]>) => parsed?.name === "ConsentRevoked");
    log.info(
      {
        grantId,
        transactionHash: response.hash,
        blockNumber: receipt.blockNumber,
        gasUsed: receipt.gasUsed,
        licenseSuspended: revoked ? Boolean(revoked.args.licenseSuspended) : null,
      },
      "revocation relayed",
    );
    return response.hash;
  }
}

/** Longest wait for the chain's clock to reach a revocation's time (5 minutes). */
const MAX_CLOCK_SKEW_WAIT_MS = 300_000;

/** The market's custom error in a failed call, decoded, or null. */
function marketError(error: unknown): ReturnType<Interface["parseError"]> {
  const data = (error as { data?: unknown }).data ?? (error as { info?: { error?: { data?: unknown } } }).info?.error?.data;
  if (typeof data !== "string" || data.length < 10) return null;
  try {
    return marketInterface.parseError(data);
  } catch {
    return null;
  }
}

/** Seconds the chain is behind a revocation's time, when the market refused it as RevocationInFuture. */
function chainBehindBy(error: unknown): number | null {
  const parsed = marketError(error);
  if (parsed?.name !== "RevocationInFuture") return null;
  return Number(BigInt(parsed.args[0]) - BigInt(parsed.args[1]));
}

/** A readable reason, with the market's custom error decoded when there is one. */
function describe(error: unknown): string {
  if (error instanceof BridgeClientError) return error.message;
  const parsed = marketError(error);
  if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
  return (error as Error).message ?? String(error);
}
