// The CoordinatorReporter of a registered broker (docs/network.md §5, docs/protocol.md §4): for
// each closed epoch and assigned partition it commits
//   keccak256(abi.encode(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt, address broker))
// in the commit phase, reveals (eventCount, checksum, salt) in the reveal phase, finalizes the round
// once the reveal phase is over (anyone may; the first caller pays the gas) and claims its rewards.
// Pending reveals are kept in a JSON file when one is given, so a restart between commit and
// reveal does not lose the salt (and the broker's reputation).

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { AbiCoder, hexlify, keccak256, randomBytes, type Signer } from "ethers";
import type { Logger } from "pino";
import { INetworkCoordinator__factory, type INetworkCoordinator } from "@datamarket/contracts/typechain";
import type { EpochReport } from "./EpochTracker";
import type { CoordinatorReporter } from "./EpochReporter";

/** IRoundOutcome.Open. */
const ROUND_OPEN = 0n;

interface PendingReport {
  epoch: number;
  partition: number;
  count: number;
  checksum: string;
  salt: string;
  state: "committed" | "revealed";
}

export interface ContractCoordinatorReporterOptions {
  /** The broker operator's signer (its address is the registered broker). */
  operator: Signer;
  coordinator: string;
  /** Where pending reveals are kept across restarts (JSON). */
  stateFile?: string;
  /** Claim rewards once at least this much (DATA wei) is claimable. Default 1 wei. */
  minClaim?: bigint;
  logger?: Logger;
}

export class ContractCoordinatorReporter implements CoordinatorReporter {
  readonly coordinator: INetworkCoordinator;
  private pending: PendingReport[] = [];
  private params?: { commitWindow: number; revealWindow: number; genesis: number; epochLength: number };
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  /** Rewards claimed by this reporter (DATA wei), for logs and tests. */
  claimed = 0n;

  constructor(private readonly options: ContractCoordinatorReporterOptions) {
    this.coordinator = INetworkCoordinator__factory.connect(options.coordinator, options.operator);
    if (options.stateFile && existsSync(options.stateFile)) this.pending = JSON.parse(readFileSync(options.stateFile, "utf8")) as PendingReport[];
  }

  /** Reports still to reveal or finalize. */
  get outstanding(): readonly PendingReport[] {
    return this.pending;
  }

  /**
   * Commits the report (called by EpochReporter once the epoch is closed). A partition that does
   * not carry traffic in that epoch (P grew later), or that this broker is no longer assigned and
   * whose roster does not hold it, is skipped: there is nothing it could be judged on.
   */
  async report(report: EpochReport): Promise<void> {
    const p = await this.parameters();
    if (this.pending.some((r) => r.epoch === report.epoch && r.partition === report.networkPartition)) return;
    if (report.networkPartition >= Number(await this.coordinator.partitionCountAt(report.epoch))) return;
    const now = await this.chainNow();
    const commitStart = p.genesis + (report.epoch + 1) * p.epochLength;
    if (now >= commitStart + p.commitWindow) {
      this.options.logger?.warn({ epoch: report.epoch, partition: report.networkPartition }, "commit window of the epoch is over: report skipped");
      return;
    }
    const broker = await this.options.operator.getAddress();
    const [, rosterSize] = await this.coordinator.roundState(report.epoch, report.networkPartition);
    if (rosterSize === 0n && !(await this.coordinator.isAssigned(report.networkPartition, broker))) return;
    const salt = hexlify(randomBytes(32));
    const commitment = keccak256(
      AbiCoder.defaultAbiCoder().encode(
        ["uint64", "uint32", "uint64", "bytes32", "bytes32", "address"],
        [report.epoch, report.networkPartition, report.count, report.checksum, salt, broker],
      ),
    );
    // The salt is saved before the commitment is sent: a crash after sending can still reveal.
    const entry: PendingReport = {
      epoch: report.epoch,
      partition: report.networkPartition,
      count: report.count,
      checksum: report.checksum,
      salt,
      state: "committed",
    };
    this.pending.push(entry);
    this.save();
    try {
      await (await this.coordinator.commitReport(report.epoch, report.networkPartition, commitment)).wait();
    } catch (err) {
      this.pending = this.pending.filter((r) => r !== entry);
      this.save();
      // Not in this round's roster (moved off the partition before the first commit): nothing to
      // report; any other failure is retried by the EpochReporter.
      const name = (err as { revert?: { name?: string } }).revert?.name;
      if (name === "NotInRoster" || name === "NotAssigned" || name === "AlreadyCommitted") {
        this.options.logger?.info({ epoch: report.epoch, partition: report.networkPartition, reason: name }, "epoch report not committed");
        return;
      }
      throw err;
    }
    this.options.logger?.info({ epoch: report.epoch, partition: report.networkPartition, count: report.count }, "epoch report committed");
  }

  /** Reveals what is due, finalizes rounds whose reveal phase is over, claims rewards. */
  tick(): Promise<void> {
    return (this.ticking ??= this.tickOnce().finally(() => (this.ticking = undefined)));
  }

  start(intervalMs = 5000): void {
    this.timer = setInterval(() => void this.tick().catch((err) => this.options.logger?.warn({ err }, "coordinator tick failed")), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tickOnce(): Promise<void> {
    if (this.pending.length === 0) {
      this.params = undefined; // governance may change the windows: re-read them when idle
      return this.claim();
    }
    const p = await this.parameters();
    const now = await this.chainNow();
    for (const r of [...this.pending]) {
      const revealStart = p.genesis + (r.epoch + 1) * p.epochLength + p.commitWindow;
      const revealEnd = revealStart + p.revealWindow;
      if (r.state === "committed" && now >= revealStart && now < revealEnd) {
        await (await this.coordinator.revealReport(r.epoch, r.partition, r.count, r.checksum, r.salt)).wait();
        r.state = "revealed";
        this.save();
        this.options.logger?.info({ epoch: r.epoch, partition: r.partition }, "epoch report revealed");
      } else if (now >= revealEnd) {
        const [outcome] = await this.coordinator.roundState(r.epoch, r.partition);
        if (outcome === ROUND_OPEN) {
          try {
            await (await this.coordinator.finalizeRound(r.epoch, r.partition)).wait();
          } catch (err) {
            // Another broker finalized it in the meantime: fine; anything else is logged.
            const [again] = await this.coordinator.roundState(r.epoch, r.partition);
            if (again === ROUND_OPEN) throw err;
          }
        }
        this.pending = this.pending.filter((x) => x !== r);
        this.save();
      }
    }
    await this.claim();
  }

  private async claim(): Promise<void> {
    const me = await this.options.operator.getAddress();
    const amount = await this.coordinator.claimable(me);
    if (amount === 0n || amount < (this.options.minClaim ?? 1n)) return;
    await (await this.coordinator.claimRewards(me)).wait();
    this.claimed += amount;
    this.options.logger?.info({ amount: amount.toString() }, "rewards claimed");
  }

  private async parameters() {
    if (!this.params) {
      const [genesis, epochLength, parameters] = await Promise.all([this.coordinator.genesis(), this.coordinator.epochLength(), this.coordinator.parameters()]);
      this.params = {
        genesis: Number(genesis),
        epochLength: Number(epochLength),
        commitWindow: Number(parameters.commitWindow),
        revealWindow: Number(parameters.revealWindow),
      };
    }
    return this.params;
  }

  private async chainNow(): Promise<number> {
    const block = await this.options.operator.provider!.getBlock("latest");
    return block!.timestamp;
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    writeFileSync(file + ".tmp", JSON.stringify(this.pending));
    renameSync(file + ".tmp", file);
  }
}
