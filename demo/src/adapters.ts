// The glue the demo needs between parts that exist on their own: a contract-backed broker access
// gate (the broker package ships only the interface and an in-memory gate), a coordinator reporter
// doing commit-reveal with the broker operator's key, and a publisher transport that replicates each
// signed frame to every broker assigned to the stream's network partition.
import { Contract, Interface, JsonRpcProvider, hexlify, randomBytes, AbiCoder, keccak256, type Signer } from "ethers";
import type { AccessChange, AccessGate, CoordinatorReporter, EpochReport, Licence } from "@datamarket/broker";
import type { BrokerTransport, ResendQuery } from "@datamarket/sdk";

const REGISTRY_VIEW_ABI = [
  "function canPublish(bytes32 resourceId, address user) view returns (bool)",
  "function canSubscribe(bytes32 resourceId, address user) view returns (bool)",
];

/**
 * Broker AccessGate over the StreamRegistry's permission views. The market grants and removes
 * subscribe permissions itself (as subscribe delegate, expiry = license end), so the registry's
 * `canSubscribe` already reflects purchases and revocations; licences are therefore not asked
 * separately (`licenceOf` is null). Changes are found by polling `eth_getLogs` of the registry and
 * the market: any log triggers a re-check of every subscription (the broker re-asks the registry).
 */
export class ChainAccessGate implements AccessGate {
  private readonly registry: Contract;
  private readonly listeners = new Set<(change: AccessChange) => void>();
  private syncedAt = Date.now();
  private fromBlock = 0;
  private timer?: NodeJS.Timeout;
  private polling = false;

  constructor(
    private readonly provider: JsonRpcProvider,
    private readonly addresses: { registry: string; market: string },
    private readonly pollMs = 200,
  ) {
    this.registry = new Contract(addresses.registry, REGISTRY_VIEW_ABI, provider);
  }

  async start(): Promise<void> {
    this.fromBlock = (await this.provider.getBlockNumber()) + 1;
    this.syncedAt = Date.now();
    this.timer = setInterval(() => void this.poll(), this.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const head = await this.provider.getBlockNumber();
      if (head >= this.fromBlock) {
        const logs = await this.provider.getLogs({ address: [this.addresses.registry, this.addresses.market], fromBlock: this.fromBlock, toBlock: head });
        this.fromBlock = head + 1;
        if (logs.length > 0) for (const listener of this.listeners) listener({ kind: "permission" });
      }
      this.syncedAt = Date.now();
    } catch {
      // stays unsynced: the broker fails closed after its staleness bound
    } finally {
      this.polling = false;
    }
  }

  canPublish(streamId: string, address: string): Promise<boolean> {
    return this.registry.canPublish(streamId, address) as Promise<boolean>;
  }
  canSubscribe(streamId: string, address: string): Promise<boolean> {
    return this.registry.canSubscribe(streamId, address) as Promise<boolean>;
  }
  async licenceOf(): Promise<Licence | null> {
    return null;
  }
  async consentValid(): Promise<boolean> {
    return false;
  }
  onChange(listener: (change: AccessChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  lastSyncedAt(): number {
    return this.syncedAt;
  }
}

const COORDINATOR_REPORT_ABI = [
  "function commitReport(uint64 epoch, uint32 partition, bytes32 commitment)",
  "function revealReport(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt)",
];

/**
 * CoordinatorReporter with commit-reveal (docs/network.md §5): `report` commits
 * keccak256(abi.encode(epoch, partition, eventCount, checksum, salt, broker)) and keeps the salt;
 * `revealAll` reveals what was committed, once the reveal phase has begun.
 */
export class CommitRevealReporter implements CoordinatorReporter {
  readonly committed: { report: EpochReport; salt: string }[] = [];
  private readonly coordinator: Contract;

  constructor(private readonly operator: Signer, coordinatorAddress: string) {
    this.coordinator = new Contract(coordinatorAddress, COORDINATOR_REPORT_ABI, operator);
  }

  async report(report: EpochReport): Promise<void> {
    const salt = hexlify(randomBytes(32));
    const broker = await this.operator.getAddress();
    const commitment = keccak256(AbiCoder.defaultAbiCoder().encode(
      ["uint64", "uint32", "uint64", "bytes32", "bytes32", "address"],
      [report.epoch, report.networkPartition, report.count, report.checksum, salt, broker],
    ));
    await (await this.coordinator.commitReport(report.epoch, report.networkPartition, commitment)).wait();
    this.committed.push({ report, salt });
  }

  async revealAll(): Promise<void> {
    for (const { report, salt } of this.committed.splice(0)) {
      await (await this.coordinator.revealReport(report.epoch, report.networkPartition, report.count, report.checksum, salt)).wait();
    }
  }
}

/**
 * The publisher's transport to a replicated partition: each signed frame goes to every assigned
 * broker (all must make it durable), subscriptions and resends use the first one.
 */
export class ReplicatingTransport implements BrokerTransport {
  onFrame: (frame: Buffer) => void = () => undefined;
  onNotice: BrokerTransport["onNotice"] = () => undefined;
  onDisconnect: (reason: string) => void = () => undefined;

  constructor(private readonly transports: BrokerTransport[]) {
    const [primary] = transports;
    primary.onFrame = (f) => this.onFrame(f);
    primary.onNotice = (n) => this.onNotice(n);
    primary.onDisconnect = (r) => this.onDisconnect(r);
  }
  async publish(frame: Buffer): Promise<{ eventHash: string }> {
    const results = await Promise.all(this.transports.map((t) => t.publish(frame)));
    return results[0];
  }
  subscribe(streamId: string, streamPartition: number) { return this.transports[0].subscribe(streamId, streamPartition); }
  unsubscribe(streamId: string, streamPartition: number) { return this.transports[0].unsubscribe(streamId, streamPartition); }
  resend(streamId: string, streamPartition: number, query: ResendQuery) { return this.transports[0].resend(streamId, streamPartition, query); }
  async close(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close()));
  }
}

export const REPORTER_INTERFACE = new Interface(COORDINATOR_REPORT_ABI);
