// Per-epoch, per-network-partition checksums of the durable events (docs/protocol.md §4), kept
// incrementally as events become durable (and replayed from the log on recovery).

import { EpochAccumulator, epochOf } from "@datamarket/protocol";

export interface EpochReport {
  epoch: number;
  networkPartition: number;
  count: number;
  checksum: string;
}

export class EpochTracker {
  private readonly epochs = new Map<number, Map<number, EpochAccumulator>>();

  constructor(
    readonly epochLengthMs: number,
    readonly genesisMs = 0,
    /** Epochs older than this many are forgotten. */
    readonly keepEpochs = 16,
  ) {}

  add(networkPartition: number, timestampMs: number, eventHash: Uint8Array): void {
    const epoch = epochOf(timestampMs, this.epochLengthMs, this.genesisMs);
    let parts = this.epochs.get(epoch);
    if (!parts) {
      this.epochs.set(epoch, (parts = new Map()));
      for (const e of this.epochs.keys()) if (e < epoch - this.keepEpochs) this.epochs.delete(e);
    }
    let acc = parts.get(networkPartition);
    if (!acc) parts.set(networkPartition, (acc = new EpochAccumulator()));
    acc.add(eventHash);
  }

  /** The report for an epoch and network partition (count 0 if nothing was stored). */
  report(epoch: number, networkPartition: number): EpochReport {
    const acc = this.epochs.get(epoch)?.get(networkPartition) ?? new EpochAccumulator();
    return { epoch, networkPartition, count: acc.count, checksum: acc.checksum(epoch, networkPartition) };
  }

  /** The first epoch that may be reported at `nowMs` is the one before closedEpoch(nowMs). */
  closedBefore(nowMs: number, maxClockSkewMs: number): number {
    return epochOf(nowMs - maxClockSkewMs, this.epochLengthMs, this.genesisMs);
  }
}
