// Feeds an InMemoryStreamIndex from the StreamRegistry's events: ResourceCreated (streams only),
// MetadataUpdated, PartitionsUpdated, ResourceDeleted. It resumes from a block (the registry's
// deployment block, or a checkpoint kept by the operator: `cursor`).

import type { Provider } from "ethers";
import { IStreamRegistry__factory } from "@datamarket/contracts/typechain";
import { ChainFollower, type ChainLog } from "../chain/ChainFollower";
import { throttledSync, type InMemoryStreamIndex, type StreamInfo } from "./StreamIndex";

/** IStreamRegistry.ResourceKind.Stream. */
const KIND_STREAM = 0n;

export interface RegistryStreamFeederOptions {
  provider: Provider;
  registry: string;
  /** A follower shared with the gate / coordinator; else one of its own. */
  follower?: ChainFollower;
  /** First block to read (when the feeder owns its follower). Default 0. */
  fromBlock?: number;
  pollMs?: number;
  /** Least time between two on-demand polls for a missing stream (index.sync). Default 100 ms. */
  syncMinIntervalMs?: number;
}

/** Metadata is free-form (JSON by convention): a JSON object is kept, anything else as `{ text }`. */
export function parseMetadata(raw: string): Record<string, unknown> {
  if (raw === "") return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { text: raw };
}

export class RegistryStreamFeeder {
  readonly follower: ChainFollower;
  private readonly ownsFollower: boolean;
  /** Events applied (for logs and tests). */
  applied = 0;

  constructor(
    readonly index: InMemoryStreamIndex,
    options: RegistryStreamFeederOptions,
  ) {
    const registry = IStreamRegistry__factory.connect(options.registry, options.provider);
    this.ownsFollower = !options.follower;
    this.follower = options.follower ?? new ChainFollower(options.provider, { fromBlock: options.fromBlock, pollMs: options.pollMs });
    this.follower.watch(options.registry, registry.interface, (logs) => this.apply(logs), {
      snapshot: {
        name: `stream-index:${options.registry.toLowerCase()}`,
        save: () => index.find({ offset: 0, limit: Number.MAX_SAFE_INTEGER }).streams,
        load: (state) => {
          for (const stream of (state ?? []) as StreamInfo[]) index.apply({ type: "created", stream });
        },
      },
    });
    // A stream missing from the index may have been created after the last poll: poll now (shared
    // with the gate and the coordinator, which see the same blocks), throttled.
    const follower = this.follower;
    index.sync = throttledSync(() => follower.poll(), options.syncMinIntervalMs);
  }

  /** Catches up (awaited) and follows. */
  async start(): Promise<void> {
    if (this.ownsFollower) await this.follower.start();
  }

  stop(): void {
    if (this.ownsFollower) this.follower.stop();
  }

  /** The next block to read: persist it to resume there (fromBlock). */
  get cursor(): number {
    return this.follower.cursor;
  }

  private apply(logs: ChainLog[]): void {
    for (const log of logs) {
      const id = String(log.args.id).toLowerCase();
      const current = this.index.get(id);
      // A reorg restores the stream as it was before this log (ChainFollower's journal).
      this.follower.journal.record(log.blockNumber, () => this.index.apply(current ? { type: "updated", stream: current } : { type: "deleted", id }));
      const update = (patch: Partial<StreamInfo>) => {
        if (!current) return; // a dataset, or a stream created before fromBlock: nothing to update
        this.index.apply({ type: "updated", stream: { ...current, ...patch } });
        this.applied++;
      };
      switch (log.name) {
        case "ResourceCreated":
          if (log.args.kind !== KIND_STREAM) break;
          this.index.apply({
            type: "created",
            stream: {
              id,
              creator: String(log.args.owner).toLowerCase(),
              path: String(log.args.path),
              partitions: Number(log.args.partitions),
              metadata: parseMetadata(String(log.args.metadata)),
            },
          });
          this.applied++;
          break;
        case "MetadataUpdated":
          update({ metadata: parseMetadata(String(log.args.metadata)) });
          break;
        case "PartitionsUpdated":
          update({ partitions: Number(log.args.partitions) });
          break;
        case "ResourceDeleted":
          if (current) {
            this.index.apply({ type: "deleted", id });
            this.applied++;
          }
          break;
      }
    }
  }
}
