// The AccessGate over the deployed contracts and the consent ledger: permissions from the
// StreamRegistry, licences from the DataLicenseMarket, consent grants from the consent ledger's
// events. It follows the registry's and the market's events (ChainFollower) and the ledger's
// GrantsInvalidated events, and tells the broker at once when access may have gone; expiries
// that emit no event (permission, licence and grant ends) are caught on each new block and by timers.

import type { Provider } from "ethers";
import { IDataLicenseMarket__factory, IStreamRegistry__factory } from "@datamarket/contracts/typechain";
import type { IDataLicenseMarket, IStreamRegistry } from "@datamarket/contracts/typechain";
import type { AccessChange, AccessGate, AskOptions, GateSources, Licence } from "./AccessGate";
import { ChainFollower, type ChainLog } from "../chain/ChainFollower";
import { ViewReader, type ReadAt } from "../chain/ViewReader";
import type { ConsentGrantFollower } from "./ConsentGrantFollower";

/** The fields of IDataLicenseMarket.License the gate reads (getLicense's answer). */
type LicenceRecord = Pick<IDataLicenseMarket.LicenseStructOutput, "status" | "end" | "grantTag" | "grantExpiry">;

/** License statuses of IDataLicenseMarket.LicenseStatus that still grant access until `end`. */
const LICENSE_ACTIVE = 1n;
const LICENSE_DISPUTED = 2n;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ContractAccessGateOptions {
  provider: Provider;
  /** StreamRegistry address. */
  registry: string;
  /** DataLicenseMarket address; without it, access is by registry permission only. */
  market?: string;
  /** Follows the consent ledger; without it, consent-gated licences never admit (fail closed). */
  consent?: ConsentGrantFollower;
  /** A follower to share with the stream index and the coordinator; else one of its own. */
  follower?: ChainFollower;
  /** Block to replay the market's products from (its deployment block). Default 0. */
  fromBlock?: number;
  pollMs?: number;
  /**
   * How long a question waits, at most, for the follower to apply the block in which the head
   * already shows the grant (ms; the caller's signal may end it sooner). Default 2,000: the access
   * policy's answer bound. Past it the grant is not counted (fail closed).
   */
  applyWaitMs?: number;
}

export class ContractAccessGate implements AccessGate {
  readonly registry: IStreamRegistry;
  readonly market?: IDataLicenseMarket;
  readonly follower: ChainFollower;
  private readonly ownsFollower: boolean;
  private readonly listeners = new Set<(c: AccessChange) => void>();
  /** productId -> consent gate and resources (from ProductCreated). */
  private readonly products = new Map<string, { requiresConsent: boolean; resources: string[] }>();
  /** resourceId -> products selling it. */
  private readonly productsOf = new Map<string, Set<string>>();
  /** Ends (chain unix s) of permissions and licences still to come: key streamId|address. */
  private readonly pendingEnds = new Map<string, Set<number>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly unsubscribe: (() => void)[] = [];
  /** The views a question reads, as plain eth_calls (ViewReader): a subscribe asks a dozen. */
  private readonly views: { registry: ViewReader; market?: ViewReader };

  constructor(private readonly options: ContractAccessGateOptions) {
    this.registry = IStreamRegistry__factory.connect(options.registry, options.provider);
    this.market = options.market ? IDataLicenseMarket__factory.connect(options.market, options.provider) : undefined;
    this.views = {
      registry: new ViewReader(options.provider, options.registry, this.registry.interface, ["canPublish", "canSubscribe", "getPermission", "getResource"]),
      market: this.market && new ViewReader(options.provider, options.market!, this.market.interface, ["licensedUntil", "hasValidLicense", "getLicense"]),
    };
    this.ownsFollower = !options.follower;
    this.follower = options.follower ?? new ChainFollower(options.provider, { fromBlock: options.fromBlock, pollMs: options.pollMs });
    // The registry's logs only prompt re-checks (answers are views); the market's products are state.
    this.follower.watch(options.registry, this.registry.interface, (logs) => this.onRegistryLogs(logs), { stateless: true });
    if (this.market && options.market) {
      this.follower.watch(options.market, this.market.interface, (logs) => this.onMarketLogs(logs), {
        snapshot: { name: `access-gate:${options.market.toLowerCase()}`, save: () => [...this.products], load: (state) => this.loadProducts(state) },
      });
    }
    this.unsubscribe.push(this.follower.onBlock((_n, ts) => this.onBlock(ts)));
    // A reorg may have removed a purchase or a permission: every subscription is re-checked against
    // the views of the new chain (and publish decisions are dropped), whatever the removed logs named.
    this.unsubscribe.push(
      this.follower.onReorg(() => {
        this.emit({ kind: "permission" });
        this.emit({ kind: "licence" });
      }),
    );
    if (options.consent) {
      this.unsubscribe.push(options.consent.onChange((c) => this.emit({ address: c.buyer, kind: "consent" })));
    }
  }

  /** Catches up with the chain (products, licences) and starts following it. */
  async start(): Promise<void> {
    if (this.ownsFollower) await this.follower.start();
  }

  stop(): void {
    if (this.ownsFollower) this.follower.stop();
    for (const u of this.unsubscribe) u();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /**
   * A grant must hold at the head (so a revocation acts at once) and at the follower's confirmed
   * block, head - d (so it is d blocks deep, and the follower has applied the block that granted it:
   * a reorg that removes that block is then seen, and every subscription re-checked). A grant the
   * head already shows but the follower has not applied yet (a subscribe right after the purchase's
   * receipt, before the follower's next poll) waits for the follower's next applied blocks, asked
   * again at each, until `signal` aborts (the access policy's answer bound) or applyWaitMs passes:
   * then it is refused, failing closed.
   *
   * Both blocks are asked at once, so a grant the follower holds already costs one round. With
   * `headFirst` the confirmed block is asked only once the head grants: for a question the head
   * mostly refuses (a licensee's registry permission is the market's shadow, see canSubscribe) the
   * node then runs one question instead of two, and a grant costs a second round.
   */
  private async atDepth(ask: (at?: { blockTag: number }) => Promise<boolean>, signal?: AbortSignal, headFirst = false): Promise<boolean> {
    const atBlock = async (block: number | undefined) => block !== undefined && ask({ blockTag: block });
    let confirmed = this.follower.confirmedBlock();
    const [head, deep] = headFirst
      ? await ask().then(async (yes) => [yes, yes && (await atBlock((confirmed = this.follower.confirmedBlock())))])
      : await Promise.all([ask(), atBlock(confirmed)]);
    if (!head) return false;
    if (deep) return true;
    const own = AbortSignal.timeout(this.applyWaitMs);
    const bound = signal ? AbortSignal.any([signal, own]) : own;
    for (;;) {
      try {
        confirmed = await this.follower.nextApplied(confirmed ?? this.follower.fromBlock - 1, bound);
      } catch (err) {
        if (bound.aborted) return false;
        throw err;
      }
      if (await atBlock(confirmed)) return true;
    }
  }

  /** How long a question waits for the follower to apply the block the head shows a grant in (ms). */
  private get applyWaitMs(): number {
    return this.options.applyWaitMs ?? 2000;
  }

  async canPublish(streamId: string, address: string, options?: AskOptions): Promise<boolean> {
    return this.atDepth(async (at) => (await this.views.registry.read("canPublish", [streamId, address], at))[0] as boolean, options?.signal);
  }

  /**
   * The registry's subscribe permission, except a permission the market wrote as a licence's shadow
   * (its expiry equals the market's licensedUntil): that one is answered through licenceOf, so a
   * consent-gated product still needs its consent grant.
   */
  async canSubscribe(streamId: string, address: string, options?: AskOptions): Promise<boolean> {
    // Head first: a licensee, the common subscriber of a product's stream, is refused here at the head
    // (its licence is answered by licenceOf, asked beside this), and its four reads at depth saved.
    return this.atDepth((at) => this.canSubscribeAt(streamId, address, at ?? {}), options?.signal, true);
  }

  private async canSubscribeAt(streamId: string, address: string, at: ReadAt): Promise<boolean> {
    const { registry, market } = this.views;
    const can = registry.read("canSubscribe", [streamId, address], at).then((r) => r[0] as boolean);
    if (!market) return can;
    // All four reads in one round trip: a licensee's subscribe needs each of them (the market writes
    // a licence's shadow permission, so the registry's answer alone is yes), and the same block's.
    const [allowed, [until], [permission], [resource]] = await Promise.all([
      can,
      market.read("licensedUntil", [streamId, address], at),
      registry.read("getPermission", [streamId, address], at),
      registry.read("getResource", [streamId], at),
    ]);
    if (!allowed) return false;
    if (resource.publicSubscribe) return true;
    return !(until !== 0n && permission.subscribeExpiry === until);
  }

  async licenceOf(streamId: string, address: string, options?: AskOptions): Promise<Licence | null> {
    const market = this.views.market;
    if (!market) return null;
    // The licences of the stream's products are read at the head beside the question (one round trip,
    // not one a product after it) and count only when a valid licence holds at depth. When the
    // question had to wait for the follower (the purchase's block not applied yet), they are read
    // again after it, as they would be without the shortcut: a licence revoked, or a product created,
    // while it waited is then seen.
    const products = () => [...(this.productsOf.get(streamId.toLowerCase()) ?? [])];
    const read = (ids: string[]) => Promise.all(ids.map(async (productId) => (await market.read("getLicense", [productId, address]))[0] as LicenceRecord));
    const confirmed = this.follower.confirmedBlock();
    let productIds = products();
    const [valid, early] = await Promise.all([
      this.atDepth(async (at) => (await market.read("hasValidLicense", [address, streamId], at))[0] as boolean, options?.signal),
      read(productIds),
    ]);
    if (!valid) return null;
    let licences = early;
    if (this.follower.confirmedBlock() !== confirmed) licences = await read((productIds = products()));
    const now = BigInt(this.follower.chainTime());
    let best: Licence | null = null;
    for (const [i, productId] of productIds.entries()) {
      const licence = licences[i];
      if (licence.status !== LICENSE_ACTIVE && licence.status !== LICENSE_DISPUTED) continue;
      if (licence.end <= now) continue;
      const expiresAt = Number(licence.end);
      const product = this.products.get(productId);
      if (!product) continue; // dropped by a reorg while the question waited
      const consentGated = product.requiresConsent;
      // Prefer a licence that needs no consent, then the one that ends last.
      if (!best || (best.consentGated && !consentGated) || (best.consentGated === consentGated && expiresAt > best.expiresAt)) {
        best = { productId, expiresAt, consentGated, grant: { tag: Number(licence.grantTag), expiresAt: Number(licence.grantExpiry) } };
      }
    }
    return best;
  }

  async consentValid(productId: string, address: string, read?: Licence): Promise<boolean> {
    const consent = this.options.consent;
    if (!consent) return false;
    const market = this.views.market;
    if (!market) return false;
    // The grant the licence runs under now, read at the chain head (no event lag): the market keeps
    // its expiry and the low 16 bits of its id (IDataLicenseMarket.License.grantExpiry, grantTag).
    // licenceOf read it with the licence, a moment ago, at the head; else it is read here.
    let grant = read?.productId === productId ? read.grant : undefined;
    if (!grant) {
      const [licence] = (await market.read("getLicense", [productId, address])) as unknown as [LicenceRecord];
      grant = { tag: Number(licence.grantTag), expiresAt: Number(licence.grantExpiry) };
    }
    const { tag, expiresAt } = grant;
    return consent.isValid(productId, address, (g) => parseInt(g.grantId.slice(-4), 16) === tag && g.expiresAt === expiresAt);
  }

  onChange(listener: (change: AccessChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lastSyncedAt(): number {
    const chain = this.follower.lastSyncedAt();
    return this.options.consent ? Math.min(chain, this.options.consent.lastSyncedAt()) : chain;
  }

  sources(): GateSources {
    const consent = this.options.consent;
    return {
      chain: { syncedAt: this.follower.lastSyncedAt(), headBlock: this.follower.headBlock(), error: this.follower.lastError?.message },
      consentLedger: consent && {
        syncedAt: consent.lastSyncedAt(),
        lastBlock: consent.lastBlock === undefined ? undefined : Number(consent.lastBlock),
        error: consent.lastError?.message,
      },
    };
  }

  private onRegistryLogs(logs: ChainLog[]): void {
    for (const log of logs) {
      const streamId = String(log.args.id).toLowerCase();
      switch (log.name) {
        case "PermissionUpdated": {
          const address = String(log.args.user).toLowerCase();
          this.trackEnd(streamId, address, Number(log.args.subscribeExpiry));
          this.trackEnd(streamId, address, Number(log.args.publishExpiry));
          this.emit({ streamId, address, kind: "permission" });
          break;
        }
        case "PublicAccessUpdated":
        case "ResourceDeleted":
        case "OwnershipTransferred":
          this.emit({ streamId, kind: "permission" });
          break;
      }
    }
  }

  private onMarketLogs(logs: ChainLog[]): void {
    for (const log of logs) {
      switch (log.name) {
        case "ProductCreated": {
          const productId = String(log.args.productId).toLowerCase();
          const resources = (log.args.resources as string[]).map((r) => r.toLowerCase());
          const before = this.products.get(productId);
          this.setProduct(productId, { requiresConsent: Boolean(log.args.requiresConsent), resources });
          this.follower.journal.record(log.blockNumber, () => this.setProduct(productId, before));
          break;
        }
        case "LicensePurchased": {
          const productId = String(log.args.productId).toLowerCase();
          const buyer = String(log.args.buyer).toLowerCase();
          for (const r of this.products.get(productId)?.resources ?? []) this.trackEnd(r, buyer, Number(log.args.end));
          this.emit({ address: buyer, kind: "licence" });
          break;
        }
        case "ConsentRevoked":
        case "Refunded":
        case "DisputeResolved":
        case "BadDataFlagged":
        case "AccessRemovalFailed":
          this.emit({ address: log.args.buyer ? String(log.args.buyer).toLowerCase() : undefined, kind: "licence" });
          break;
        case "ProductStateChanged":
          this.emit({ kind: "licence" });
          break;
      }
    }
  }

  /** Sets (or, with undefined, removes) a product and its resources' index. */
  private setProduct(productId: string, product: { requiresConsent: boolean; resources: string[] } | undefined): void {
    for (const r of this.products.get(productId)?.resources ?? []) this.productsOf.get(r)?.delete(productId);
    if (!product) {
      this.products.delete(productId);
      return;
    }
    this.products.set(productId, product);
    for (const r of product.resources) {
      let set = this.productsOf.get(r);
      if (!set) this.productsOf.set(r, (set = new Set()));
      set.add(productId);
    }
  }

  /** The products of a checkpoint (ChainFollower's Snapshot). */
  private loadProducts(state: unknown): void {
    if (!Array.isArray(state)) return;
    for (const [productId, product] of state as [string, { requiresConsent: boolean; resources: string[] }][]) this.setProduct(productId, product);
  }

  /**
   * Remembers an end still to come. Ends are on chain time (block.timestamp): the broker re-checks
   * when a new block reaches it, and a wall-clock timer covers a chain that produces no blocks.
   */
  private trackEnd(streamId: string, address: string, end: number): void {
    const nowS = this.follower.chainTime() || Math.floor(Date.now() / 1000);
    if (end <= nowS || end >= 2 ** 40) return; // past, or "never" (type(uint64).max conventions)
    const key = `${streamId}|${address}`;
    let ends = this.pendingEnds.get(key);
    if (!ends) this.pendingEnds.set(key, (ends = new Set()));
    ends.add(end);
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.emit({ streamId, address, kind: "licence" });
      },
      Math.min(MAX_TIMER_MS, Math.max(0, end * 1000 - Date.now()) + 1),
    );
    t.unref();
    this.timers.add(t);
  }

  private onBlock(timestamp: number): void {
    for (const [key, ends] of this.pendingEnds) {
      let reached = false;
      for (const end of ends) if (end <= timestamp) reached = ends.delete(end) || reached;
      if (ends.size === 0) this.pendingEnds.delete(key);
      if (!reached) continue;
      const [streamId, address] = key.split("|");
      this.emit({ streamId, address, kind: "licence" });
    }
  }

  private emit(change: AccessChange): void {
    for (const l of this.listeners) l(change);
  }
}
