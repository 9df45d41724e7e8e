// The in-browser indexer: follows the StreamRegistry's, the DataLicenseMarket's and the
// NetworkCoordinator's events from the deployment block over the user's own JSON-RPC endpoint and
// folds them into the catalogue the pages show. Why in the browser: the chain is the source of truth
// and the reader checks it directly (no indexing service to trust, run or keep in sync, and the build
// stays static files); the cost is the first scan, bounded here by fetching logs in block ranges.
import { Interface } from "ethers";
import { dataLicenseMarketAbi, networkCoordinatorAbi, streamRegistryAbi } from "@datamarket/contracts";
import type { PortalConfig } from "./config";
import type { ChainReader, RawLog } from "./rpc";

export interface Resource {
  id: string;
  owner: string;
  kind: "stream" | "dataset";
  path: string;
  partitions: number;
  name: string;
  description: string;
  deleted: boolean;
}

export const PRODUCT_STATES = ["none", "on sale", "paused", "deleted"] as const;

export interface Product {
  id: string;
  seller: string;
  beneficiary: string;
  pricePerSecond: bigint;
  minSeconds: number;
  maxSeconds: number;
  requiresConsent: boolean;
  requiresKyc: boolean;
  termsUri: string;
  resources: string[];
  state: (typeof PRODUCT_STATES)[number];
  purposes: Set<string>;
  licences: number;
  /** buyers whose bad-data flag awaits the arbiter */
  openFlags: Set<string>;
}

export interface BrokerEntry {
  address: string;
  wsUrl: string;
  httpUrl: string;
  registeredStake: bigint;
}

export const ROUND_OUTCOMES = ["open", "agreed", "no agreement"] as const;

/** A reporting round of the coordinator: one epoch of one network partition (docs/network.md). */
export interface Round {
  epoch: number;
  partition: number;
  commits: number;
  reveals: number;
  outcome: (typeof ROUND_OUTCOMES)[number];
  eventCount: bigint | null;
  agreeing: number;
}

/** Blocks per eth_getLogs call (most public endpoints cap a range near 10,000 blocks). */
const RANGE = 5_000;

/** Name and description from a resource's metadata (JSON by convention; anything else is shown as the description). */
function metadataOf(raw: string, path: string): { name: string; description: string } {
  try {
    const m = JSON.parse(raw) as { name?: unknown; description?: unknown };
    return { name: typeof m.name === "string" && m.name ? m.name : path, description: typeof m.description === "string" ? m.description : "" };
  } catch {
    return { name: path, description: raw };
  }
}

export class Indexer {
  readonly resources = new Map<string, Resource>();
  readonly products = new Map<string, Product>();
  readonly brokers = new Map<string, BrokerEntry>();
  /** by `${epoch}:${partition}` */
  readonly rounds = new Map<string, Round>();
  /** last block folded in */
  head: number;
  private readonly registry = new Interface(streamRegistryAbi);
  private readonly market = new Interface(dataLicenseMarketAbi);
  private readonly coordinator = new Interface(networkCoordinatorAbi);
  private syncing: Promise<boolean> | undefined;

  constructor(
    private readonly chain: ChainReader,
    private readonly config: PortalConfig,
  ) {
    this.head = config.fromBlock - 1;
  }

  /** Folds every new block's events in; true when something changed. One sync runs at a time. */
  sync(): Promise<boolean> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<boolean> {
    const latest = await this.chain.blockNumber();
    const { StreamRegistry, DataLicenseMarket, NetworkCoordinator } = this.config.contracts;
    let changed = false;
    while (this.head < latest) {
      const to = Math.min(latest, this.head + RANGE);
      const logs = await this.chain.getLogs([StreamRegistry, DataLicenseMarket, NetworkCoordinator], this.head + 1, to);
      for (const log of logs) changed = this.apply(log) || changed;
      this.head = to;
    }
    return changed;
  }

  /** The latest rounds first (by epoch, then partition). */
  latestRounds(limit: number): Round[] {
    return [...this.rounds.values()].sort((a, b) => b.epoch - a.epoch || a.partition - b.partition).slice(0, limit);
  }

  private round(epoch: unknown, partition: unknown): Round {
    const key = `${epoch}:${partition}`;
    let round = this.rounds.get(key);
    if (!round) {
      round = { epoch: Number(epoch), partition: Number(partition), commits: 0, reveals: 0, outcome: "open", eventCount: null, agreeing: 0 };
      this.rounds.set(key, round);
    }
    return round;
  }

  private apply(log: RawLog): boolean {
    const address = log.address.toLowerCase();
    const { StreamRegistry, DataLicenseMarket } = this.config.contracts;
    const iface = address === StreamRegistry.toLowerCase() ? this.registry : address === DataLicenseMarket.toLowerCase() ? this.market : this.coordinator;
    const event = iface.parseLog(log);
    if (!event) return false;
    const a = event.args;
    const id = typeof a[0] === "string" ? a[0].toLowerCase() : "";
    switch (`${iface === this.registry ? "r" : iface === this.market ? "m" : "c"}:${event.name}`) {
      case "r:ResourceCreated":
        this.resources.set(id, {
          id,
          owner: String(a.owner).toLowerCase(),
          kind: Number(a.kind) === 0 ? "stream" : "dataset",
          path: a.path,
          partitions: Number(a.partitions),
          ...metadataOf(a.metadata, a.path),
          deleted: false,
        });
        return true;
      case "r:MetadataUpdated": {
        const r = this.resources.get(id);
        if (r) Object.assign(r, metadataOf(a.metadata, r.path));
        return r !== undefined;
      }
      case "r:ResourceDeleted": {
        const r = this.resources.get(id);
        if (r) r.deleted = true;
        return r !== undefined;
      }
      case "r:OwnershipTransferred": {
        const r = this.resources.get(id);
        if (r) r.owner = String(a.newOwner).toLowerCase();
        return r !== undefined;
      }
      case "m:ProductCreated":
        this.products.set(id, {
          id,
          seller: String(a.seller).toLowerCase(),
          beneficiary: String(a.beneficiary).toLowerCase(),
          pricePerSecond: BigInt(a.pricePerSecond),
          minSeconds: Number(a.minSeconds),
          maxSeconds: Number(a.maxSeconds),
          requiresConsent: a.requiresConsent,
          requiresKyc: a.requiresKyc,
          termsUri: a.termsUri,
          resources: (a.resources as string[]).map((r) => r.toLowerCase()),
          state: "on sale",
          purposes: new Set(),
          licences: 0,
          openFlags: new Set(),
        });
        return true;
      case "m:ProductPriceUpdated":
        return this.update(id, (p) => {
          p.pricePerSecond = BigInt(a.newPricePerSecond);
        });
      case "m:ProductBeneficiaryUpdated":
        return this.update(id, (p) => {
          p.beneficiary = String(a.beneficiary).toLowerCase();
        });
      case "m:ProductStateChanged":
        return this.update(id, (p) => {
          p.state = PRODUCT_STATES[Number(a.state)] ?? "none";
        });
      case "m:ProductPurposeSet":
        return this.update(id, (p) => {
          if (a.allowed) p.purposes.add(String(a.purpose).toLowerCase());
          else p.purposes.delete(String(a.purpose).toLowerCase());
        });
      case "m:BadDataFlagged":
        return this.update(id, (p) => {
          p.openFlags.add(String(a.buyer).toLowerCase());
        });
      case "m:DisputeResolved":
        return this.update(id, (p) => {
          p.openFlags.delete(String(a.buyer).toLowerCase());
        });
      case "m:LicensePurchased":
        return this.update(id, (p) => {
          p.licences += 1;
        });
      case "c:BrokerRegistered":
        this.brokers.set(id, { address: id, wsUrl: a.wsUrl, httpUrl: a.httpUrl, registeredStake: BigInt(a.stake) });
        return true;
      case "c:BrokerUpdated": {
        const b = this.brokers.get(id);
        if (b) Object.assign(b, { wsUrl: a.wsUrl, httpUrl: a.httpUrl });
        return b !== undefined;
      }
      case "c:ReportCommitted":
        this.round(a.epoch, a.partition).commits += 1;
        return true;
      case "c:ReportRevealed":
        this.round(a.epoch, a.partition).reveals += 1;
        return true;
      case "c:RoundFinalized":
        Object.assign(this.round(a.epoch, a.partition), {
          outcome: ROUND_OUTCOMES[Number(a.outcome)] ?? "open",
          eventCount: BigInt(a.eventCount),
          agreeing: Number(a.agreeing),
        });
        return true;
      default:
        return false;
    }
  }

  private update(id: string, change: (p: Product) => void): boolean {
    const p = this.products.get(id);
    if (p) change(p);
    return p !== undefined;
  }
}
