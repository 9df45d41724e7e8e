// The embedded consent ledger: an in-process peer with the consent chaincode deployed, organisations
// with run-time certificate authorities, and clients connected with enrolled identities.
import "./fabric/quiet-logs";
import { contracts } from "@datamarket/consent-chaincode/src";
import { SUBJECT_DETAILS_COLLECTION } from "@datamarket/consent-chaincode/src/keys";
import { ConsentLedgerClient, DEFAULT_CHAINCODE_NAME } from "./client/client";
import { Gateway, connect } from "./fabric/gateway";
import { CertificateAuthority, EnrolledIdentity } from "./fabric/identity";
import { ChaincodeRuntime, InProcessPeer } from "./fabric/peer";

/**
 * A clock the tests can move: the peer's own clock (the chaincode bounds every proposal timestamp by it)
 * and, unless a client is given its own, the clock that timestamps the clients' proposals.
 */
export class LedgerClock {
  /** the offset (ms) from the machine's clock, in memory shared with a chaincode worker thread */
  readonly offset = new Float64Array(new SharedArrayBuffer(8));

  now(): number {
    return Date.now() + this.offset[0];
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  advance(seconds: number): void {
    this.offset[0] += seconds * 1000;
  }
}

export interface InProcessConsentLedgerOptions {
  channelName?: string;
  chaincodeName?: string;
  /** organisations holding subjects' data: members of the subjectDetails collection */
  custodianMspIds?: string[];
  /** other organisations on the channel (buyers, auditors) */
  otherMspIds?: string[];
  /** blockToLive of the subjectDetails collection (0 = until purged); default 1,000,000 as in collections_config.json */
  subjectDetailsBlockToLive?: number;
  /** chaincode execution timeout per proposal, ms (default 30,000 as on a peer) */
  executeTimeoutMs?: number;
  /** orderer BatchTimeout, ms (default 0: a block holds what was submitted in the same event-loop turn) */
  batchTimeoutMs?: number;
  /** orderer BatchSize.MaxMessageCount (default 500) */
  maxMessageCount?: number;
  /** environment of the chaincode process, e.g. { CONSENT_MAX_CLOCK_SKEW_SECONDS: '60' } */
  chaincodeEnvironment?: Record<string, string>;
  /**
   * Where the chaincode runs (default: $CONSENT_LEDGER_CHAINCODE_RUNTIME, else "inline"): "worker" runs it in a
   * worker thread of its own, as a peer runs chaincode in a separate process, so that the clients and peer
   * on this thread and the chaincode use two cores. Call close() when done with a ledger (an idle worker
   * does not keep the process alive).
   */
  chaincodeRuntime?: ChaincodeRuntime;
  /** chaincode worker threads (runtime "worker"; default 1), see ChaincodeDefinition.workers */
  chaincodeWorkers?: number;
}

/** The chaincode runtime of a ledger created without one: $CONSENT_LEDGER_CHAINCODE_RUNTIME, else "inline". */
export function defaultChaincodeRuntime(env: Record<string, string | undefined> = process.env): ChaincodeRuntime {
  const setting = env.CONSENT_LEDGER_CHAINCODE_RUNTIME;
  if (setting === undefined || setting === "") {
    return "inline";
  }
  if (setting !== "inline" && setting !== "worker") {
    throw new Error(`CONSENT_LEDGER_CHAINCODE_RUNTIME must be "inline" or "worker", got "${setting}"`);
  }
  return setting;
}

/** Options of one client of the in-process ledger. */
export interface InProcessClientOptions {
  /** the client's clock in ms, which timestamps its proposals (default: the ledger's clock) */
  clock?: () => number;
}

export class InProcessConsentLedger {
  private readonly authorities = new Map<string, CertificateAuthority>();

  private constructor(
    readonly peer: InProcessPeer,
    readonly chaincodeName: string,
    readonly clock: LedgerClock,
  ) {}

  static async create(options: InProcessConsentLedgerOptions = {}): Promise<InProcessConsentLedger> {
    const custodians = options.custodianMspIds ?? ["HospitalMSP"];
    const others = options.otherMspIds ?? ["ResearchMSP", "AuditMSP"];
    const clock = new LedgerClock();
    const peer = new InProcessPeer({
      channelName: options.channelName ?? "consent",
      executeTimeoutMs: options.executeTimeoutMs,
      clockOffset: clock.offset,
      batchTimeoutMs: options.batchTimeoutMs,
      maxMessageCount: options.maxMessageCount,
    });
    const ledger = new InProcessConsentLedger(peer, options.chaincodeName ?? DEFAULT_CHAINCODE_NAME, clock);
    for (const mspId of [...custodians, ...others]) {
      await ledger.addOrganisation(mspId);
    }
    peer.deployChaincode({
      name: ledger.chaincodeName,
      contracts,
      module: require.resolve("@datamarket/consent-chaincode/src"),
      runtime: options.chaincodeRuntime ?? defaultChaincodeRuntime(),
      workers: options.chaincodeWorkers,
      environment: options.chaincodeEnvironment,
      collections: [
        {
          name: SUBJECT_DETAILS_COLLECTION,
          memberMspIds: custodians,
          blockToLive: options.subjectDetailsBlockToLive ?? 1_000_000,
        },
      ],
    });
    // a chaincode that refuses to start (in a worker, asynchronously) fails the ledger's creation, as inline
    await peer.chaincodeStarted(ledger.chaincodeName).catch(async (error: Error) => {
      await peer.close();
      throw error;
    });
    return ledger;
  }

  /** Stops the chaincode (its worker thread, when it runs in one). */
  close(): Promise<void> {
    return this.peer.close();
  }

  async addOrganisation(mspId: string): Promise<CertificateAuthority> {
    const authority = await CertificateAuthority.create(mspId);
    this.authorities.set(mspId, authority);
    this.peer.addOrganisation(authority);
    return authority;
  }

  authority(mspId: string): CertificateAuthority {
    const authority = this.authorities.get(mspId);
    if (!authority) {
      throw new Error(`organisation ${mspId} is not on the channel`);
    }
    return authority;
  }

  /** Issues a certificate for `name` in `mspId` carrying the given fabric-ca attributes. */
  enroll(mspId: string, name: string, attributes: Record<string, string> = {}): Promise<EnrolledIdentity> {
    return this.authority(mspId).enroll(name, attributes);
  }

  /** A fabric-gateway-shaped Gateway for this identity. */
  connect(identity: EnrolledIdentity, options: InProcessClientOptions = {}): Gateway {
    return connect(this.peer, identity, options.clock ?? (() => this.clock.now()));
  }

  /** A typed consent client acting as `identity`. */
  client(identity: EnrolledIdentity, options: InProcessClientOptions = {}): ConsentLedgerClient {
    return new ConsentLedgerClient(this.connect(identity, options).getNetwork(this.peer.channelName), this.chaincodeName);
  }
}
