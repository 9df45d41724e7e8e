// Which network partitions this broker serves, from the coordinator. The routing function
// (stream partition -> network partition) is the coordinator's (docs/network.md, with its test
// vectors); the contract-backed source follows the coordinator's assignment events.

export interface BrokerEndpoint {
  address: string;
  ws: string;
  http: string;
}

/**
 * How a broker came to serve what it serves (shown in `/streams/{id}` and `/health`):
 * "coordinator": the partitions the NetworkCoordinator assigns to its operator;
 * "single-node": every network partition, as the only broker of its network (not registered on a
 * coordinator); "static": the partitions of a fixed assignment (replication.peers, tests).
 */
export type AssignmentMode = "coordinator" | "single-node" | "static";

export interface PartitionAssignmentSource {
  /** How this broker's partitions are decided; "static" when not given. */
  readonly mode?: AssignmentMode;
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
  readonly mode: AssignmentMode;

  constructor(
    private readonly route: (streamId: string, streamPartition: number) => number,
    private readonly mine: Set<number> | "all",
    private readonly others: Map<number, BrokerEndpoint[]> = new Map(),
  ) {
    this.mode = mine === "all" ? "single-node" : "static";
  }

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

/**
 * A broker with no operator key on a chain where a NetworkCoordinator is deployed: it routes with
 * the coordinator's function over the coordinator's P (following its changes), as every client and
 * registered broker does, and serves every network partition itself (a single node). brokersOf()
 * still names the brokers the coordinator assigns, for clients that want the network's.
 */
export class SingleNodeAssignment implements PartitionAssignmentSource {
  readonly mode = "single-node" as const;

  constructor(private readonly network: PartitionAssignmentSource) {}

  networkPartitionOf(streamId: string, streamPartition: number): number {
    return this.network.networkPartitionOf(streamId, streamPartition);
  }

  serves(): boolean {
    return true;
  }

  brokersOf(networkPartition: number): BrokerEndpoint[] {
    return this.network.brokersOf(networkPartition);
  }

  served(): number[] {
    return [];
  }
}
