// Follows contract logs on an Ethereum node by polling eth_getLogs block range by block range, in
// block and log order, and records when it last reached the chain head (the gate's staleness).
// One follower can serve the access gate, the stream index and the coordinator assignment.

import type { Block, Interface, Log, LogDescription, Provider } from "ethers";

/** A decoded log with where it sits on the chain. */
export interface ChainLog {
  address: string;
  name: string;
  args: LogDescription["args"];
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

export interface ChainFollowerOptions {
  /** How often the head is polled (ms). Default 250: on a 1 s+ block time, within one block. */
  pollMs?: number;
  /** First block to read logs from (the deployment block). Default 0. */
  fromBlock?: number;
  /** Largest block range of one eth_getLogs call. Default 2,000. */
  maxRange?: number;
}

interface Watch {
  address: string;
  iface: Interface;
  handler: (logs: ChainLog[]) => void | Promise<void>;
}

export class ChainFollower {
  private readonly watches: Watch[] = [];
  private readonly blockListeners = new Set<(blockNumber: number, timestamp: number) => void>();
  private nextBlock: number;
  private syncedAt = 0;
  private headTimestamp = 0;
  private headNumber?: number;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  readonly pollMs: number;
  private readonly maxRange: number;
  /** The last poll's error, for logs and health. */
  lastError?: Error;

  constructor(
    readonly provider: Provider,
    options: ChainFollowerOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.nextBlock = options.fromBlock ?? 0;
    this.maxRange = options.maxRange ?? 2000;
  }

  /**
   * Delivers every log of `address` that `iface` knows, batched per poll, in (block, log index)
   * order. Register before start(): logs already read are not replayed.
   */
  watch(address: string, iface: Interface, handler: (logs: ChainLog[]) => void | Promise<void>): void {
    this.watches.push({ address: address.toLowerCase(), iface, handler });
  }

  /** Called after each poll that reached a new head, with its number and timestamp (unix s). */
  onBlock(listener: (blockNumber: number, timestamp: number) => void): () => void {
    this.blockListeners.add(listener);
    return () => this.blockListeners.delete(listener);
  }

  /** Catches up to the head (awaited: the first answers are complete), then polls. */
  async start(): Promise<void> {
    await this.poll();
    if (this.lastError) throw this.lastError;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Unix ms when the follower last had read every log up to the head. 0 before the first. */
  lastSyncedAt(): number {
    return this.syncedAt;
  }

  /** Timestamp (unix s) of the last head read: the chain's "now" for expiries. */
  chainTime(): number {
    return this.headTimestamp;
  }

  /** Number of the last head read (undefined before the first). */
  headBlock(): number | undefined {
    return this.headNumber;
  }

  /** The next block whose logs are not read yet. */
  get cursor(): number {
    return this.nextBlock;
  }

  /** Moves the next block to read (before start(), e.g. after reading state views at a head). */
  resumeFrom(block: number): void {
    this.nextBlock = block;
  }

  /** One poll (serialised: a poll that is still running is joined, not doubled). */
  poll(): Promise<void> {
    return (this.polling ??= this.pollOnce().finally(() => (this.polling = undefined)));
  }

  private async pollOnce(): Promise<void> {
    try {
      const head = await this.head();
      while (this.nextBlock <= head.number) {
        const to = Math.min(head.number, this.nextBlock + this.maxRange - 1);
        await this.readRange(this.nextBlock, to);
        this.nextBlock = to + 1;
      }
      this.headTimestamp = head.timestamp;
      this.headNumber = head.number;
      this.syncedAt = Date.now();
      this.lastError = undefined;
      for (const l of this.blockListeners) l(head.number, head.timestamp);
    } catch (err) {
      // Stays unsynced: consumers fail closed once lastSyncedAt() is older than their bound.
      this.lastError = err as Error;
    }
  }

  /**
   * The chain's newest block. Asked with eth_blockNumber through send() where the provider has it:
   * ethers' providers answer a repeated getBlock("latest") from a 250 ms cache, so a poll on demand
   * (a stream created a moment ago) would read a head older than the block it waits for.
   */
  private async head(): Promise<Block> {
    const send = (this.provider as Provider & { send?: (method: string, params: unknown[]) => Promise<unknown> }).send;
    const number = typeof send === "function" ? Number(await send.call(this.provider, "eth_blockNumber", [])) : await this.provider.getBlockNumber();
    const block = await this.provider.getBlock(number);
    if (!block) throw new Error(`the node returned no block ${number} (its latest)`);
    return block;
  }

  private async readRange(from: number, to: number): Promise<void> {
    if (this.watches.length === 0) return;
    const raw = await Promise.all(this.watches.map((w) => this.provider.getLogs({ address: w.address, fromBlock: from, toBlock: to })));
    // Decode each watch's logs; deliver in watch order (each handler sees its logs in chain order).
    for (let i = 0; i < this.watches.length; i++) {
      const w = this.watches[i];
      const logs = raw[i].slice().sort(byChainOrder).map((log) => decode(w.iface, log)).filter((l): l is ChainLog => l !== null);
      if (logs.length > 0) await w.handler(logs);
    }
  }
}

function byChainOrder(a: Log, b: Log): number {
  return a.blockNumber - b.blockNumber || a.index - b.index;
}

function decode(iface: Interface, log: Log): ChainLog | null {
  let parsed: LogDescription | null = null;
  try {
    parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
  } catch {
    return null; // an event of another ABI version: not ours to interpret
  }
  if (!parsed) return null;
  return { address: log.address.toLowerCase(), name: parsed.name, args: parsed.args, blockNumber: log.blockNumber, logIndex: log.index, transactionHash: log.transactionHash };
}
