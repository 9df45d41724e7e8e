// Follows the consent ledger's chaincode events from the persisted checkpoint, hands each committed
// transaction to the attestor, then checkpoints. Reconnects with a capped backoff if the stream fails.
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import type { Attestor, BatchOutcome } from "./attestor";
import type { Logger } from "./log";
import type { BridgeStore } from "./store";

/** What the follower needs of a ConsentLedgerClient (in-process or fabric-gateway). */
export interface ConsentEventSource {
  events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>>;
}

export interface FollowerOptions {
  /** first block to read when there is no checkpoint yet (default 0: every grant on the ledger) */
  startBlock?: bigint;
  /** reconnect backoff after a stream failure, milliseconds (default 500, doubled up to 30 s) */
  retryDelayMs?: number;
  /** called after each batch is signed and checkpointed */
  onBatch?: (outcome: BatchOutcome, batch: ConsentLedgerEventBatch) => void;
}

export class LedgerFollower {
  private stopping = false;
  private stream: CloseableEvents<ConsentLedgerEventBatch> | null = null;
  private running: Promise<void> | null = null;
  private wakeSleep: (() => void) | null = null;
  /** batches processed since start */
  processed = 0;
  connected = false;
  lastError: string | null = null;

  constructor(
    private readonly source: ConsentEventSource,
    private readonly attestor: Attestor,
    private readonly store: BridgeStore,
    private readonly log: Logger,
    private readonly options: FollowerOptions = {},
  ) {}

  /**
   * Opens the event stream at the checkpoint and keeps following it. If the ledger cannot be reached
   * the bridge still starts (it serves what it signed before) and the loop keeps reconnecting.
   */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      this.lastError = (error as Error).message;
      this.log.warn({ err: error }, "consent ledger unreachable at start; will keep trying");
    }
    this.running = this.loop();
  }

  /** Closes the stream and waits for the batch in hand to be checkpointed. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stream?.close();
    this.wakeSleep?.();
    await this.running;
  }

  private async open(): Promise<void> {
    const checkpoint = this.store.checkpoint;
    const startBlock = checkpoint ? BigInt(checkpoint.blockNumber) : (this.options.startBlock ?? 0n);
    this.stream = await this.source.events(startBlock);
    this.connected = true;
    this.log.info({ startBlock, resumedFrom: checkpoint?.blockNumber ?? null }, "following consent ledger events");
  }

  private async loop(): Promise<void> {
    let delay = this.options.retryDelayMs ?? 500;
    while (!this.stopping) {
      try {
        if (!this.stream) {
          await this.open();
          this.lastError = null;
        }
        for await (const batch of this.stream!) {
          if (this.stopping) break;
          this.handle(batch);
          delay = this.options.retryDelayMs ?? 500;
        }
        if (!this.stopping) throw new Error("the event stream ended");
      } catch (error) {
        this.connected = false;
        this.stream?.close();
        this.stream = null;
        if (this.stopping) break;
        this.lastError = (error as Error).message;
        this.log.warn({ err: error, retryInMs: delay }, "consent ledger event stream failed; reconnecting");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, 30_000);
      }
    }
    this.connected = false;
  }

  private handle(batch: ConsentLedgerEventBatch): void {
    const checkpoint = this.store.checkpoint;
    const block = batch.blockNumber.toString();
    if (checkpoint) {
      const checkpointBlock = BigInt(checkpoint.blockNumber);
      // already processed: an earlier block, or a transaction of the checkpoint block we re-read
      if (batch.blockNumber < checkpointBlock || (block === checkpoint.blockNumber && checkpoint.transactionIds.includes(batch.transactionId))) {
        return;
      }
    }
    const outcome = this.attestor.processBatch(batch);
    const transactionIds = checkpoint && checkpoint.blockNumber === block ? [...checkpoint.transactionIds, batch.transactionId] : [batch.transactionId];
    this.store.saveCheckpoint({ blockNumber: block, transactionIds });
    this.processed += 1;
    this.options.onBatch?.(outcome, batch);
  }
}
