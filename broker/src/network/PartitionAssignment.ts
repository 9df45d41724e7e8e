// Which network partitions this broker serves, from the coordinator. The routing function
// (stream partition -> network partition) is the coordinator's (docs/network.md, with its test
// vectors); the contract-backed source follows the coordinator's assignment events.

export interface BrokerEndpoint {
  address: string;
  ws: string;
  http: string;
}

export interface PartitionAssignmentSource {
  /** The coordinator's routing function. */
  networkPartitionOf(streamId: string, streamPartition: number): number;
  /** Whether this broker is currently assigned `networkPartition`. */
  serves(networkPartition: number): boolean;
  /** The brokers assigned `networkPartition` (for redirects). */
  brokersOf(networkPartition: number): BrokerEndpoint[];
  /** The network partitions this broker serves. */
  served(): number[];
}

/** A fixed assignment: for tests, and for a single broker that serves every partition. */
export class StaticPartitionAssignment implements PartitionAssignmentSource {
  constructor(
    private readonly route: (streamId: string, streamPartition: number) => number,
    private readonly mine: Set<number> | "all",
    private readonly others: Map<number, BrokerEndpoint[]> = new Map(),
  ) {}

  networkPartitionOf(streamId: string, streamPartition: number): number {
    return this.route(streamId, streamPartition);
  }

  serves(networkPartition: number): boolean {
    return this.mine === "all" || this.mine.has(networkPartition);
  }

  brokersOf(networkPartition: number): BrokerEndpoint[] {
    return this.others.get(networkPartition) ?? [];
  }

  served(): number[] {
    return this.mine === "all" ? [] : [...this.mine];
  }
}
