// The CoordinatorReporter of a registered broker (docs/network.md §5, docs/protocol.md §4): for
// each closed epoch and assigned partition it commits
//   keccak256(abi.encode(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt, address broker))
// in the commit phase, reveals (eventCount, checksum, salt) in the reveal phase, finalizes the round
// once the reveal phase is over (anyone may; the first caller pays the gas) and claims its rewards.
// Pending reveals are kept in a JSON file when one is given, so a restart between commit and
// reveal does not lose the salt (and the broker's reputation).
//
// Reorgs (docs/network.md §15): with the broker's ChainFollower, the reporter takes its confirmation
// depth d. A commitment or reveal whose transaction a reorg removed is sent again while its phase is
// open (the same salt: the same commitment); a reveal whose commitment is gone is dropped, not sent.
// A round counts as finalized only once its finalization is d deep (a finalization a reorg removes is
// sent again), and rewards are claimed only when everything claimable at the head was already
// claimable d blocks under it: a claim never pays for a round a reorg may still remove.

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { AbiCoder, hexlify, keccak256, randomBytes, type Signer } from "ethers";
import type { Logger } from "pino";
import { INetworkCoordinator__factory, type INetworkCoordinator } from "@datamarket/contracts/typechain";
import type { ChainFollower } from "../chain/ChainFollower";
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
  /** The transaction of the last step (commit or reveal), checked until the round is finalized. */
  tx?: string;
}

export interface ContractCoordinatorReporterOptions {
  /** The broker operator's signer (its address is the registered broker). */
  operator: Signer;
  coordinator: string;
  /** Where pending reveals are kept across restarts (JSON). */
  stateFile?: string;
  /** Claim rewards once at least this much (DATA wei) is claimable. Default 1 wei. */
  minClaim?: bigint;
  /**
   * The broker's chain follower: its confirmed block (head - d) is where a finalization and a reward
   * must be before the reporter counts or claims them. None: depth 0, read at the head.
   */
  follower?: ChainFollower;
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
    const commitment = commitmentOf(report.epoch, report.networkPartition, report.count, report.checksum, salt, broker);
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
      await this.send(entry, () => this.coordinator.commitReport(report.epoch, report.networkPartition, commitment));
    } catch (err) {
      this.pending = this.pending.filter((r) => r !== entry);
      this.save();
      // Not in this round's roster (moved off the partition before the first commit): nothing to
      // report; any other failure is retried by the EpochReporter.
      const name = revertName(err);
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
    const confirmed = this.confirmedTag();
    for (const r of [...this.pending]) {
      const commitEnd = p.genesis + (r.epoch + 1) * p.epochLength + p.commitWindow;
      const revealEnd = commitEnd + p.revealWindow;
      if (now < revealEnd && (await this.removedByReorg(r))) {
        // The step's transaction is gone (a reorg): take the step again while its phase is open.
        if (r.state === "revealed") r.state = "committed";
        else if (now < commitEnd) {
          const commitment = await this.commitmentOf(r);
          await this.send(r, () => this.coordinator.commitReport(r.epoch, r.partition, commitment));
          this.options.logger?.warn({ epoch: r.epoch, partition: r.partition }, "a reorg removed the epoch report's commitment: committed again");
          continue;
        } else {
          this.drop(r, "a reorg removed the epoch report's commitment after the commit phase: nothing to reveal");
          continue;
        }
        this.save();
      }
      if (r.state === "committed" && now >= commitEnd && now < revealEnd) {
        try {
          // Simulated first: a commitment a reorg removed (NoCommitment) must not cost a reverted reveal.
          await this.coordinator.revealReport.staticCall(r.epoch, r.partition, r.count, r.checksum, r.salt, { blockTag: "pending" });
        } catch (err) {
          if (revertName(err) === "NoCommitment") {
            this.drop(r, "the epoch report's commitment is not on the chain (a reorg removed it): not revealed");
            continue;
          }
          throw err;
        }
        await this.send(r, () => this.coordinator.revealReport(r.epoch, r.partition, r.count, r.checksum, r.salt));
        r.state = "revealed";
        this.save();
        this.options.logger?.info({ epoch: r.epoch, partition: r.partition }, "epoch report revealed");
      } else if (now >= revealEnd) {
        // Finalized only once d deep: until then a reorg may reopen the round, which is finalized again.
        const [deep] = await this.coordinator.roundState(r.epoch, r.partition, confirmed);
        if (deep !== ROUND_OPEN) {
          this.pending = this.pending.filter((x) => x !== r);
          this.save();
          continue;
        }
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
        // Without a follower the head is the confirmed block: the round is done.
        if (!this.options.follower) {
          this.pending = this.pending.filter((x) => x !== r);
          this.save();
        }
      }
    }
    await this.claim();
  }

  /**
   * Claims only what was claimable d blocks deep and nothing more at the head: a reward credited by a
   * finalization that a reorg may still remove is left for a later tick (claimRewards pays everything).
   */
  private async claim(): Promise<void> {
    const me = await this.options.operator.getAddress();
    const [amount, deep] = await Promise.all([this.coordinator.claimable(me), this.coordinator.claimable(me, this.confirmedTag())]);
    if (amount === 0n || amount < (this.options.minClaim ?? 1n)) return;
    if (deep !== amount) {
      this.options.logger?.debug({ claimable: amount.toString(), confirmed: deep.toString() }, "rewards not claimed yet: some are not confirmed");
      return;
    }
    await (await this.coordinator.claimRewards(me)).wait();
    this.claimed += amount;
    this.options.logger?.info({ amount: amount.toString() }, "rewards claimed");
  }

  /** The follower's confirmed block (head - d), or the head without a follower. */
  private confirmedTag(): { blockTag: number | "latest" } {
    const follower = this.options.follower;
    if (!follower) return { blockTag: "latest" };
    // Before the follower's first poll nothing is confirmed: the deployment block has no credits yet.
    return { blockTag: follower.confirmedBlock() ?? Math.max(0, follower.fromBlock - 1) };
  }

  /** Sends a step's transaction, recording its hash (saved) before waiting for it. */
  private async send(r: PendingReport, sendTx: () => Promise<{ hash: string; wait(): Promise<unknown> }>): Promise<void> {
    const tx = await sendTx();
    r.tx = tx.hash;
    this.save();
    await tx.wait();
  }

  /** Whether the node no longer knows the step's transaction: no receipt and not in its pool (a reorg removed it). */
  private async removedByReorg(r: PendingReport): Promise<boolean> {
    if (!r.tx) return false;
    const provider = this.options.operator.provider!;
    if (await provider.getTransactionReceipt(r.tx)) return false;
    return (await provider.getTransaction(r.tx)) === null;
  }

  private async commitmentOf(r: PendingReport): Promise<string> {
    const broker = await this.options.operator.getAddress();
    return commitmentOf(r.epoch, r.partition, r.count, r.checksum, r.salt, broker);
  }

  private drop(r: PendingReport, reason: string): void {
    this.pending = this.pending.filter((x) => x !== r);
    this.save();
    this.options.logger?.warn({ epoch: r.epoch, partition: r.partition }, reason);
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

  /**
   * The chain's time for the next step: that of the block the node would mine next ("pending"), which
   * the step's transaction will see. A node that mines on demand (Hardhat, anvil, a quiet rollup)
   * moves no "latest" block while nobody sends a transaction, so the latest block's time can stay
   * before a phase's start for as long as the phase lasts. Nodes that do not serve a pending block
   * answer with the latest one.
   */
  private async chainNow(): Promise<number> {
    const provider = this.options.operator.provider! as Signer["provider"] & { send?: (method: string, params: unknown[]) => Promise<unknown> };
    const pending = (await provider.send?.("eth_getBlockByNumber", ["pending", false]).catch(() => null)) as { timestamp?: string } | null | undefined;
    if (pending?.timestamp !== undefined) return Number(pending.timestamp);
    const block = await provider!.getBlock("latest");
    return block!.timestamp;
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    writeFileSync(file + ".tmp", JSON.stringify(this.pending));
    renameSync(file + ".tmp", file);
  }
}

/** keccak256(abi.encode(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt, address broker)). */
function commitmentOf(epoch: number, partition: number, count: number, checksum: string, salt: string, broker: string): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(["uint64", "uint32", "uint64", "bytes32", "bytes32", "address"], [epoch, partition, count, checksum, salt, broker]),
  );
}

function revertName(err: unknown): string | undefined {
  return (err as { revert?: { name?: string } }).revert?.name;
}
