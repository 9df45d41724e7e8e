// Finding the brokers that serve a stream partition: the network partition is computed locally
// with the coordinator's own routing function (@datamarket/protocol's partitioning, the network part's code,
// checked against test-vectors/partitioning.json), the assignees and endpoints are read from the
// coordinator.

import { networkPartitionOf } from "@datamarket/protocol";
import { SdkError, SdkErrorCodes } from "../errors";

/** The coordinator reads the locator needs (a typechain INetworkCoordinator instance satisfies them). */
export interface CoordinatorView {
  partitionCount(): Promise<bigint | number>;
  assigneesOf(partition: number): Promise<string[]>;
}

/** A coordinator that also serves each broker's endpoints (INetworkCoordinator.brokerEndpoints). */
export interface CoordinatorWithEndpoints extends CoordinatorView {
  brokerEndpoints(broker: string): Promise<{ wsUrl: string; httpUrl: string }>;
}

export interface BrokerEndpoint {
  /** The broker's address, lowercase. */
  broker: string;
  wsUrl: string;
  /** The broker's HTTP API, when the endpoint source knows it. */
  httpUrl?: string;
}

export class BrokerLocator {
  constructor(
    private readonly coordinator: CoordinatorView,
    /** A broker's current endpoint: its WebSocket URL, or the URLs with the HTTP one; undefined when unknown. */
    private readonly endpointOf: (broker: string) => Promise<string | { wsUrl: string; httpUrl?: string } | undefined>,
  ) {}

  /**
   * A locator reading everything from the coordinator: the assignees of the network partition and
   * each one's endpoints as registered (`brokerEndpoints`). E.g. `BrokerLocator.fromCoordinator(deployment.coordinator)`.
   */
  static fromCoordinator(coordinator: CoordinatorWithEndpoints): BrokerLocator {
    return new BrokerLocator(coordinator, async (broker) => {
      const { wsUrl, httpUrl } = await coordinator.brokerEndpoints(broker);
      return wsUrl ? { wsUrl, httpUrl } : undefined;
    });
  }

  /** The network partition carrying (streamId, streamPartition) now (the coordinator's partitionCount() of the current epoch). */
  async networkPartition(streamId: string, streamPartition: number): Promise<number> {
    const count = Number(await this.coordinator.partitionCount());
    if (count < 1) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "the coordinator has no network partitions", { brokerCode: "NO_PARTITIONS" });
    return networkPartitionOf(streamId, streamPartition, count);
  }

  /** The brokers assigned to the stream partition's network partition, in the coordinator's order, with their endpoints. */
  async brokersOf(streamId: string, streamPartition: number): Promise<BrokerEndpoint[]> {
    const partition = await this.networkPartition(streamId, streamPartition);
    const assignees = (await this.coordinator.assigneesOf(partition)).map((broker) => broker.toLowerCase());
    const endpoints = await Promise.all(assignees.map((broker) => this.endpointOf(broker)));
    const out: BrokerEndpoint[] = [];
    assignees.forEach((broker, i) => {
      const endpoint = endpoints[i];
      if (typeof endpoint === "string") out.push({ broker, wsUrl: endpoint });
      else if (endpoint) out.push({ broker, wsUrl: endpoint.wsUrl, ...(endpoint.httpUrl ? { httpUrl: endpoint.httpUrl } : {}) });
    });
    if (out.length === 0) {
      throw new SdkError(SdkErrorCodes.BROKER_ERROR, `no broker with a known endpoint serves network partition ${partition}`, {
        brokerCode: "PARTITION_NOT_SERVED",
        partition,
        assignees,
      });
    }
    return out;
  }
}

/**
 * The brokers a broker named when it refused a stream partition it does not serve
 * (`BROKER_ERROR` with `details.brokerCode` `PARTITION_NOT_SERVED`; docs/protocol.md §7: `details.brokers`
 * = `[{ address, ws, http }]`), in the locator's form; null for any other error. A DataClient on a fixed connect does not
 * follow the redirect itself (one connection per client): connect a client to one of these.
 */
export function servingBrokers(error: unknown): BrokerEndpoint[] | null {
  if (!(error instanceof SdkError) || error.code !== SdkErrorCodes.BROKER_ERROR || error.details.brokerCode !== "PARTITION_NOT_SERVED") return null;
  const listed = Array.isArray(error.details.brokers) ? (error.details.brokers as Array<Record<string, unknown>>) : [];
  return listed
    .filter((b) => typeof b === "object" && b !== null && typeof b.address === "string" && /^0x[0-9a-fA-F]{40}$/.test(b.address) && typeof b.ws === "string")
    .map((b) => ({ broker: (b.address as string).toLowerCase(), wsUrl: b.ws as string, ...(typeof b.http === "string" ? { httpUrl: b.http } : {}) }));
}
