// Reports each served network partition's epoch checksum once the epoch is closed (its end plus
// the clock-skew bound has passed, docs/protocol.md §4). How a report reaches the coordinator
// (commit-reveal, reward claims) is the CoordinatorReporter's: the contract-backed one follows
// docs/network.md; tests use an in-memory one.

import type { Logger } from "pino";
import type { EpochReport, EpochTracker } from "./EpochTracker";
import type { PartitionAssignmentSource } from "./PartitionAssignment";

export interface CoordinatorReporter {
  /** Submits (commit, later reveal) the broker's report; resolves once submitted. */
  report(report: EpochReport): Promise<void>;
}

export class EpochReporter {
  private lastReported: number;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly epochs: EpochTracker,
    private readonly assignment: PartitionAssignmentSource,
    private readonly reporter: CoordinatorReporter,
    private readonly maxClockSkewMs: number,
    /** Network partitions to report when the assignment says "all" (single node): default [0]. */
    private readonly defaultPartitions: number[] = [0],
    private readonly logger?: Logger,
    now = Date.now(),
  ) {
    // The first epoch reported is the first that starts after the broker started: of an epoch
    // already running, this broker may have missed events, and a partial report would deviate.
    this.lastReported = epochs.closedBefore(now + maxClockSkewMs, maxClockSkewMs);
  }

  /** Reports every epoch closed by `now` and not yet reported. */
  tick(now = Date.now()): Promise<void> {
    this.running = this.running.then(async () => {
      const firstOpen = this.epochs.closedBefore(now, this.maxClockSkewMs);
      const served = this.assignment.served();
      const partitions = served.length > 0 ? served : this.defaultPartitions;
      while (this.lastReported + 1 < firstOpen) {
        const epoch = this.lastReported + 1;
        for (const np of partitions) {
          const r = this.epochs.report(epoch, np);
          try {
            await this.reporter.report(r);
          } catch (err) {
            this.logger?.warn({ err, epoch, networkPartition: np }, "epoch report failed; will retry");
            return;
          }
        }
        this.lastReported = epoch;
      }
    });
    return this.running;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
