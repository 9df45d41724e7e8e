// Relays consent revocations to the market: for each grant withdrawn on the ledger it gathers k
// revocation and k attestation signatures (its own and its peers', over HTTP) and sends revokeConsent.
// Idempotent (a ConsentRevoked log for the grant, by anyone, ends the work), one relay at a time (one
// nonce sequence), a bounded number of attempts with exponential backoff.
//
// Confirmations and reorgs: a revocation counts as relayed only once the transaction that revoked the
// grant is `confirmations` blocks deep on the canonical chain. Until then the relayer watches it; when
// a reorg removes it and the node no longer knows it, the relayer relays again, with the removed
// transaction's nonce, so the two can never both be mined. The transaction it sent is recorded
// ("sent") before it waits: a restart waits for that one, it does not send another (docs/network.md
// §15).
import { iDataLicenseMarketAbi, withProtocolErrors } from "@datamarket/contracts";
import { IDataLicenseMarket__factory, type IDataLicenseMarket } from "@datamarket/contracts/typechain";
import { Interface, Signer, type Provider } from "ethers";
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
  /** blocks on top of the revoking transaction's block before it counts as relayed (default 0: at once) */
  confirmations?: number;
  /** how often a transaction waiting for its confirmations is looked at, milliseconds (default 1,000) */
  confirmationPollMs?: number;
}

/** Raised inside an attempt when the relayer stops: the revocation stays unrelayed for the next start. */
class RelayerStopping extends Error {}

export class RevocationRelayer {
  private readonly market: IDataLicenseMarket;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private stopping = false;
  private worker: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;

  private readonly provider: Provider;
  readonly confirmations: number;

  constructor(private readonly options: RelayerOptions) {
    this.market = IDataLicenseMarket__factory.connect(options.domain.market, options.signer);
    if (!options.signer.provider) throw new TypeError("the relayer's signer must be connected to a provider");
    this.provider = options.signer.provider;
    this.confirmations = options.confirmations ?? 0;
    if (!Number.isInteger(this.confirmations) || this.confirmations < 0) {
      throw new RangeError(`confirmations must be an integer >= 0, not ${options.confirmations}`);
    }
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

  /**
   * Lets the attempt in hand finish (no new attempt starts) and stops; a revocation waiting for its
   * confirmations stops waiting and is taken up again at the next start (resume).
   */
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
        // stopped while waiting: the revocation (and the transaction recorded as sent) is taken up at the next start
        if (this.stopping) return;
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
        await this.sleep(wait);
        delay *= 2;
      }
    }
  }

  /** Waits `ms`, or less when the relayer stops. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * One attempt; resolves with the hash of the transaction that revoked the grant (ours or anyone's)
   * once it is `confirmations` deep. A transaction a reorg removed is relayed again, here, without
   * counting as a failed attempt.
   */
  private async relayOnce(grantId: string): Promise<string> {
    for (;;) {
      const transactionHash = await this.findOrSend(grantId);
      if (await this.confirmed(grantId, transactionHash)) return transactionHash;
      this.options.log.warn(
        { grantId, transactionHash, confirmations: this.confirmations },
        "a reorg removed the revocation's transaction before it was confirmed; relaying again",
      );
    }
  }

  /**
   * The transaction that revokes the grant: a ConsentRevoked log already on chain (anyone's), the one
   * this relayer sent before if the node still knows it, or a new revokeConsent.
   */
  private async findOrSend(grantId: string): Promise<string> {
    const { log, domain, store } = this.options;
    const earlier = await this.market.queryFilter(this.market.filters.ConsentRevoked(grantId), this.options.logsFromBlock ?? 0, "latest");
    if (earlier.length > 0) {
      log.info({ grantId, transactionHash: earlier[0].transactionHash }, "revocation already on chain");
      return earlier[0].transactionHash;
    }
    const record = store.relays.get(grantId);
    const previous = record?.status === "sent" ? record : undefined;
    if (previous && (await this.provider.getTransaction(previous.transactionHash!))) {
      // pending still (or mined in a block the log query did not see yet): wait for it, send nothing
      log.info({ grantId, transactionHash: previous.transactionHash }, "waiting for the revokeConsent sent before");
      return previous.transactionHash!;
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
    // A dry run first: a revert is reported with its decoded custom error and costs no gas. It runs
    // in the block the node would mine next ("pending"), whose clock is the one the transaction will
    // see: a node that mines on demand (Hardhat, anvil, a quiet rollup) moves no "latest" block while
    // the relayer waits for the chain's time to pass a revocation's, so a dry run against "latest"
    // would refuse it (RevocationInFuture) for as long as nobody else sends a transaction.
    await this.market.revokeConsent.staticCall(...args, { blockTag: "pending" });
    // The nonce of a transaction a reorg removed, while it is still free: should the removed one come
    // back (another node's mempool), at most one of the two is mined.
    const nonce =
      previous?.nonce !== undefined && (await this.provider.getTransactionCount(await this.options.signer.getAddress(), "latest")) <= previous.nonce
        ? previous.nonce
        : undefined;
    const response = await this.market.revokeConsent(...args, nonce === undefined ? {} : { nonce });
    store.append({ kind: "relay", grantId, status: "sent", transactionHash: response.hash, nonce: response.nonce });
    log.info(
      { grantId, transactionHash: response.hash, nonce: response.nonce, revocationSigners: revocation.signers, attestationSigners: attestation.signers },
      "sent revokeConsent",
    );
    return response.hash;
  }

  /**
   * Waits until `transactionHash` is mined on the canonical chain with `confirmations` blocks on top
   * (true), or is known to the node no more (false: a reorg removed it and no mempool holds it).
   */
  private async confirmed(grantId: string, transactionHash: string): Promise<boolean> {
    const pollMs = this.options.confirmationPollMs ?? 1_000;
    for (;;) {
      if (this.stopping) throw new RelayerStopping("the relayer is stopping");
      const receipt = await this.provider.getTransactionReceipt(transactionHash);
      if (receipt && (await canonicalHash(this.provider, receipt.blockNumber)) === receipt.blockHash) {
        if (receipt.status !== 1) throw new Error(`revokeConsent ${transactionHash} failed on chain`);
        const head = await latestBlock(this.provider);
        if (head - receipt.blockNumber >= this.confirmations) {
          this.logRelayed(grantId, transactionHash, receipt);
          return true;
        }
      } else if (!(await this.provider.getTransaction(transactionHash))) {
        return false;
      }
      await this.sleep(pollMs);
    }
  }

  private logRelayed(
    grantId: string,
    transactionHash: string,
    receipt: { blockNumber: number; gasUsed: bigint; logs: readonly { topics: readonly string[]; data: string }[] },
  ): void {
    const revoked = receipt.logs
      .map((entry) => {
        try {
          return marketInterface.parseLog(entry);
        } catch {
          return null;
        }
      })
      .find((parsed) => parsed?.name === "ConsentRevoked");
    this.options.log.info(
      {
        grantId,
        transactionHash,
        blockNumber: receipt.blockNumber,
        confirmations: this.confirmations,
        gasUsed: receipt.gasUsed,
        licenseSuspended: revoked ? Boolean(revoked.args.licenseSuspended) : null,
      },
      "revocation relayed",
    );
  }
}

type RpcProvider = Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> };

/** The head's number, asked with eth_blockNumber where the provider can (ethers caches getBlockNumber). */
async function latestBlock(provider: RpcProvider): Promise<number> {
  return typeof provider.send === "function" ? Number(await provider.send("eth_blockNumber", [])) : await provider.getBlockNumber();
}

/** The canonical hash of block `number` now, uncached (a reorg makes a cached block wrong); null: no such block. */
async function canonicalHash(provider: RpcProvider, number: number): Promise<string | null> {
  if (typeof provider.send === "function") {
    const block = (await provider.send("eth_getBlockByNumber", ["0x" + number.toString(16), false])) as { hash: string } | null;
    return block?.hash ?? null;
  }
  return (await provider.getBlock(number))?.hash ?? null;
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
