// The PartitionAssignmentSource of a broker registered on the NetworkCoordinator: routing with the
// coordinator's function (@datamarket/protocol's partitioning.ts, test-vectors/partitioning.json) over P of the
// current epoch, the partitions assigned to this broker and the endpoints of the others, read from
// the coordinator's views at start and kept current by its events (docs/network.md §2-§4).

import type { Provider } from "ethers";
import { INetworkCoordinator__factory, type INetworkCoordinator } from "@datamarket/contracts/typechain";
import { networkPartitionOf as routeOf } from "./routing";
import { ChainFollower, type ChainLog } from "../chain/ChainFollower";
import type { BrokerEndpoint, PartitionAssignmentSource } from "./PartitionAssignment";

export interface CoordinatorAssignmentOptions {
  provider: Provider;
  coordinator: string;
  /** This broker's operator address (the one registered on the coordinator); "" follows the routing and assignment only (serves nothing). */
  broker: string;
  follower?: ChainFollower;
  fromBlock?: number;
  pollMs?: number;
}

/** The coordinator's epoch definition, in the broker's units. */
export interface CoordinatorEpochs {
  genesisMs: number;
  epochLengthMs: number;
}

export class CoordinatorAssignment implements PartitionAssignmentSource {
  readonly mode = "coordinator" as const;
  readonly coordinator: INetworkCoordinator;
  readonly follower: ChainFollower;
  readonly broker: string;
  private readonly ownsFollower: boolean;
  private readonly assignees = new Map<number, Set<string>>();
  private readonly endpoints = new Map<string, BrokerEndpoint>();
  /** P by the epoch it takes effect from, ascending. */
  private readonly counts: { fromEpoch: number; count: number }[] = [];
  private epochs?: CoordinatorEpochs;
  private started = false;
  /** Logs that arrived while the start-up views were read; applied after them. */
  private backlog: ChainLog[] = [];

  constructor(private readonly options: CoordinatorAssignmentOptions) {
    this.coordinator = INetworkCoordinator__factory.connect(options.coordinator, options.provider);
    this.broker = options.broker.toLowerCase();
    this.ownsFollower = !options.follower;
    this.follower = options.follower ?? new ChainFollower(options.provider, { fromBlock: options.fromBlock, pollMs: options.pollMs });
    // Stateless across restarts: start() reads the coordinator's views at the head again.
    this.follower.watch(options.coordinator, this.coordinator.interface, (logs) => this.onLogs(logs), { stateless: true });
  }

  /**
   * Reads the epoch definition, P, every partition's assignees and their endpoints at the head,
   * then follows the events. O(P × R) calls once; bounded by the coordinator's maxPartitions.
   */
  async start(): Promise<void> {
    const [genesis, epochLength, current, target] = await Promise.all([
      this.coordinator.genesis(),
      this.coordinator.epochLength(),
      this.coordinator.partitionCount(),
      this.coordinator.partitionCountTarget(),
    ]);
    this.epochs = { genesisMs: Number(genesis) * 1000, epochLengthMs: Number(epochLength) * 1000 };
    const head = await this.options.provider.getBlock("latest");
    const epochNow = this.epochAt((head?.timestamp ?? Math.floor(Date.now() / 1000)) * 1000);
    this.counts.push({ fromEpoch: Number.MIN_SAFE_INTEGER, count: Number(current) });
    if (target > current) this.counts.push({ fromEpoch: epochNow + 1, count: Number(target) });
    for (let p = 0; p < Number(target); p++) {
      const list = await this.coordinator.assigneesOf(p);
      this.assignees.set(p, new Set(list.map((a) => a.toLowerCase())));
      for (const a of list) await this.loadEndpoint(a.toLowerCase());
    }
    // The views are at the head: an owned follower reads only what comes after. (A shared one may
    // replay older events: applied in chain order they end in the same state as the views.)
    if (this.ownsFollower) {
      this.follower.resumeFrom(Math.max(this.follower.cursor, (head?.number ?? 0) + 1));
      await this.follower.start();
    }
    this.started = true;
    for (const log of this.backlog.splice(0)) this.applyLog(log);
  }

  stop(): void {
    if (this.ownsFollower) this.follower.stop();
  }

  /** The coordinator's epoch definition (genesis and length from the contract), ms. */
  epochDefinition(): CoordinatorEpochs {
    if (!this.epochs) throw new Error("CoordinatorAssignment.start() has not run");
    return this.epochs;
  }

  /** P of an epoch (exact for the current epoch and the announced next one). */
  partitionCountAt(epoch: number): number {
    let count = this.counts[0]?.count ?? 1;
    for (const c of this.counts) if (c.fromEpoch <= epoch) count = c.count;
    return count;
  }

  /** P of the current epoch (chain time). */
  partitionCount(): number {
    const nowMs = (this.follower.chainTime() || Math.floor(Date.now() / 1000)) * 1000;
    return this.partitionCountAt(this.epochAt(nowMs));
  }

  /** Routes over P of the current epoch (chain time), as networkPartitionOf on chain. */
  networkPartitionOf(streamId: string, streamPartition: number): number {
    return routeOf(streamId, streamPartition, this.partitionCount());
  }

  serves(networkPartition: number): boolean {
    return this.assignees.get(networkPartition)?.has(this.broker) ?? false;
  }

  brokersOf(networkPartition: number): BrokerEndpoint[] {
    return [...(this.assignees.get(networkPartition) ?? [])].map((a) => this.endpoints.get(a) ?? { address: a, ws: "", http: "" });
  }

  served(): number[] {
    const out: number[] = [];
    for (const [p, set] of this.assignees) if (set.has(this.broker)) out.push(p);
    return out.sort((a, b) => a - b);
  }

  private epochAt(ms: number): number {
    const e = this.epochs!;
    return Math.floor((ms - e.genesisMs) / e.epochLengthMs);
  }

  private async loadEndpoint(address: string): Promise<void> {
    const [ws, http] = await this.coordinator.brokerEndpoints(address);
    this.endpoints.set(address, { address, ws, http });
  }

  private onLogs(logs: ChainLog[]): void {
    if (!this.started) {
      this.backlog.push(...logs);
      return;
    }
    for (const log of logs) this.applyLog(log);
  }

  private applyLog(log: ChainLog): void {
    switch (log.name) {
      case "PartitionAssigned":
      case "PartitionUnassigned": {
        const p = Number(log.args.partition);
        const b = String(log.args.broker).toLowerCase();
        let set = this.assignees.get(p);
        if (!set) this.assignees.set(p, (set = new Set()));
        this.follower.journal.recordMembership(log.blockNumber, set, b);
        if (log.name === "PartitionAssigned") set.add(b);
        else set.delete(b);
        break;
      }
      case "PartitionCountIncreased":
        const entry = { fromEpoch: Number(log.args.effectiveEpoch), count: Number(log.args.partitionCount) };
        this.counts.push(entry);
        this.counts.sort((a, b) => a.fromEpoch - b.fromEpoch);
        this.follower.journal.record(log.blockNumber, () => void this.counts.splice(this.counts.indexOf(entry), 1));
        break;
      case "BrokerRegistered":
      case "BrokerUpdated": {
        const address = String(log.args.broker).toLowerCase();
        this.follower.journal.recordEntry(log.blockNumber, this.endpoints, address);
        this.endpoints.set(address, { address, ws: String(log.args.wsUrl), http: String(log.args.httpUrl) });
        break;
      }
    }
  }
}
