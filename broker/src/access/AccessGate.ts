// The access gate: what the broker asks the registry, the market and the consent ledger.
// Contract-backed implementations (StreamRegistry, DataLicenseMarket, consent gateway) plug in
// behind this interface; InMemoryAccessGate serves tests and static configurations.

/** A licence of `address` on a stream, from the market. */
export interface Licence {
  /** Market product id (0x bytes32). */
  productId: string;
  /** Unix seconds; the licence is valid while now < expiresAt (docs/INTERFACES.md §2, the expiry convention). */
  expiresAt: number;
  /** The product requires a still-valid consent grant on the consent ledger. */
  consentGated: boolean;
  /**
   * The consent grant the licence runs under, as the market keeps it (IDataLicenseMarket.License:
   * the low 16 bits of the grant's id and its expiry), when read with the licence at the chain head;
   * consentValid then checks that grant without reading the licence again.
   */
  grant?: { tag: number; expiresAt: number };
}

/** Something that may have taken access away; the broker re-checks the affected subscriptions. */
export interface AccessChange {
  streamId?: string;
  address?: string;
  /** What changed, for logs: "permission", "licence", "consent". */
  kind: "permission" | "licence" | "consent";
}

/** What a gate knows of its two sources, for `/health`, metrics and logs (unix ms; 0: never). */
export interface GateSources {
  chain?: { syncedAt: number; headBlock?: number; error?: string };
  consentLedger?: { syncedAt: number; lastBlock?: number; error?: string };
}

/** What a question to the gate may carry. */
export interface AskOptions {
  /**
   * Aborted when the asker stops waiting (the access policy's answer bound): a gate that waits for
   * its chain follower to apply a block stops waiting then, and answers no (fail closed).
   */
  signal?: AbortSignal;
}

export interface AccessGate {
  /** The registry's publish permission of `address` on `streamId`. */
  canPublish(streamId: string, address: string, options?: AskOptions): Promise<boolean>;
  /** The registry's subscribe permission (public streams grant it to everyone). */
  canSubscribe(streamId: string, address: string, options?: AskOptions): Promise<boolean>;
  /** A licence of `address` for `streamId` from the market (the one expiring last), or null. */
  licenceOf(streamId: string, address: string, options?: AskOptions): Promise<Licence | null>;
  /**
   * Whether the consent ledger holds a still-valid consent grant of `address` for `productId`: the
   * grant the licence runs under (`licence.grant` when licenceOf just read it, else read now).
   */
  consentValid(productId: string, address: string, licence?: Licence): Promise<boolean>;
  /** Registers a listener for changes that may revoke access (events of the contracts / chaincode). */
  onChange(listener: (change: AccessChange) => void): () => void;
  /**
   * Unix ms of the last moment the gate knew it was in sync with the chain and the consent ledger
   * (the older of the two). The broker fails closed when this is older than its configured bound.
   */
  lastSyncedAt(): number;
  /** Each source's last sync, block and error, when the gate follows a chain or a consent ledger. */
  sources?(): GateSources;
}
