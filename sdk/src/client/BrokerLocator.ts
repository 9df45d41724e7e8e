// Finding the brokers that serve a stream partition: the network partition is computed locally
// with the coordinator's own routing function (protocol/partitioning.ts, the network part's code,
// checked against test-vectors/partitioning.json), the assignees and endpoints are read from the
// coordinator.

import { networkPartitionOf } from "../../../protocol/partitioning";
import { SdkError, SdkErrorCodes } from "../errors";

/** The coordinator reads the locator needs (a typechain INetworkCoordinator instance satisfies the first two). */
export interface CoordinatorView {
  partitionCount(): Promise<bigint | number>;
  assigneesOf(partition: number): Promise<string[]>;
}

export interface BrokerEndpoint {
  broker: string;
  wsUrl: string;
}

export class BrokerLocator {
  constructor(
    private readonly coordinator: CoordinatorView,
    /** A broker's current WebSocket endpoint (from the coordinator's BrokerRegistered / BrokerUpdated events). */
    private readonly endpointOf: (broker: string) => Promise<string | undefined>,
  ) {}

  /** The network partition carrying (streamId, streamPartition) now. */
  async networkPartition(streamId: string, streamPartition: number): Promise<number> {
    const count = Number(await this.coordinator.partitionCount());
    if (count < 1) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the coordinator has no network partitions", { brokerCode: "NO_PARTITIONS" });
    return networkPartitionOf(streamId, streamPartition, count);
  }

  /** The brokers assigned to the stream partition's network partition, with their endpoints. */
  async brokersOf(streamId: string, streamPartition: number): Promise<BrokerEndpoint[]> {
    const partition = await this.networkPartition(streamId, streamPartition);
    const out: BrokerEndpoint[] = [];
    for (const broker of await this.coordinator.assigneesOf(partition)) {
      const wsUrl = await this.endpointOf(broker.toLowerCase());
      if (wsUrl) out.push({ broker: broker.toLowerCase(), wsUrl });
    }
    if (out.length === 0) throw new SdkError(SdkErrorCodes.BROKER_ERROR, `no broker with a known endpoint serves network partition ${partition}`, { brokerCode: "PARTITION_NOT_SERVED", partition });
    return out;
  }
}
