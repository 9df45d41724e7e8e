// An in-process Fabric peer for one channel: it runs chaincode through the real fabric-shim
// ChaincodeMessageHandler and fabric-contract-api dispatch over an in-memory chat stream, endorses
// signed proposals, orders submitted transactions into blocks as a Raft orderer does (BatchTimeout,
// MaxMessageCount, PreferredMaxBytes, AbsoluteMaxBytes), validates each transaction of a block against the
// committed state and the transactions before it in the block (duplicate txId, key-level policies, MVCC,
// phantom reads of every range query) and commits the block, then delivers the chaincode events of its valid
// transactions.
import "reflect-metadata";
import { REQUESTED_LOGGING_LEVEL } from "./quiet-logs";
import { common, msp, peer } from "@hyperledger/fabric-protos";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { ChaincodeHost, batchedSender, startChaincode } from "./chaincode-process";
import type { ChaincodeStartFailure, ChaincodeWorkerData } from "./chaincode-worker";
import { CertificateAuthority, verifySignature } from "./identity";
import { VALIDATION_PARAMETER, policySatisfied } from "./policy";
import { KeyVersion, sameRangeReads } from "./rangequery";
import { Simulation, SimulationError, TxSimulator, readWriteSetBytes } from "./simulator";
import { CollectionConfig, Version, VersionedValue, WorldState, compareUtf8, sameVersion, sha256 } from "./worldstate";

const MsgType = peer.ChaincodeMessage.Type;
export const TxValidationCode = peer.TxValidationCode;

export interface ChaincodeDefinition {
  name: string;
  version?: string;
  /** the chaincode module's `contracts` export */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  contracts: any[];
  collections?: CollectionConfig[];
  /** environment variables of the chaincode process (over this process's own) */
  environment?: Record<string, string>;
  /** where the chaincode runs (default "inline") */
  runtime?: ChaincodeRuntime;
  /** path of the module whose `contracts` export is `contracts`: what a "worker" runtime loads */
  module?: string;
  /**
   * Chaincode instances in worker threads (runtime "worker" only; default 1): each proposal goes to the
   * instance with the fewest transactions in progress, as a gateway spreads endorsements over an
   * organisation's peers, each with its own chaincode process.
   */
  workers?: number;
}

export type { ChaincodeHost };

/**
 * Where a chaincode runs: "inline", in the peer's own thread; "worker", in a worker thread of its own, as a
 * real peer runs each chaincode in a separate process (both exchange only serialized ChaincodeMessages).
 */
export type ChaincodeRuntime = "inline" | "worker";

/** The response a chaincode returned for a proposal (status 200 = success, >= 400 = error). */
export interface ChaincodeResponse {
  status: number;
  message: string;
  payload: Uint8Array;
}

export interface ChaincodeEventRecord {
  blockNumber: bigint;
  transactionId: string;
  chaincodeName: string;
  eventName: string;
  payload: Uint8Array;
}

/** Result of executing a proposal on the peer: what a ProposalResponse carries. */
export interface Endorsement {
  transactionId: string;
  channelName: string;
  chaincodeName: string;
  creatorMspId: string;
  timestamp: { seconds: number; nanos: number };
  response: ChaincodeResponse;
  /** serialized ledger.rwset.TxReadWriteSet (public reads/writes, private data as hashes only) */
  readWriteSet: Uint8Array;
  /** serialized common.Header of the proposal (channel header + signature header) */
  proposalHeader: Uint8Array;
  /** serialized peer.ChaincodeProposalPayload without its transient map (what the transaction carries) */
  proposalPayload: Uint8Array;
  /** @internal at least proposalPayload.length (the payload's length with its transient map) */
  proposalPayloadBound?: number;
  event: { eventName: string; payload: Uint8Array } | null;
  /** MSP ids of the organisations whose peers endorsed (the in-process peer stands in for each) */
  endorsers: string[];
  /** @internal what validation and commit need */
  simulation: Simulation;
}

export interface CommitStatus {
  transactionId: string;
  blockNumber: bigint;
  /** peer.TxValidationCode */
  code: number;
  successful: boolean;
}

/** Thrown by submit when the orderer refuses a transaction (broadcast status BAD_REQUEST). */
export class OrderingFailure extends Error {
  constructor(
    message: string,
    readonly transactionId: string,
  ) {
    super(message);
    this.name = "OrderingFailure";
  }
}

/** Thrown when a proposal cannot be endorsed (bad signature, unknown MSP, chaincode error). */
export class EndorsementFailure extends Error {
  constructor(
    message: string,
    readonly transactionId: string,
    readonly chaincodeStatus?: number,
  ) {
    super(message);
    this.name = "EndorsementFailure";
  }
}

interface PendingTransaction {
  simulator: TxSimulator;
  resolve: (message: peer.ChaincodeMessage) => void;
  reject: (error: Error) => void;
}

/** Holds simulations and commits apart, as a peer's state lock does: a commit waits for running simulations. */
class StateLock {
  private readers = 0;
  private committing = false;
  private waiters: Array<() => void> = [];

  private writersWaiting = 0;

  async read<T>(body: () => Promise<T>): Promise<T> {
    // a waiting commit goes first, so that a steady stream of endorsements cannot starve it
    while (this.committing || this.writersWaiting > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.readers += 1;
    try {
      return await body();
    } finally {
      this.readers -= 1;
      this.wake();
    }
  }

  async write<T>(body: () => T): Promise<T> {
    this.writersWaiting += 1;
    while (this.committing || this.readers > 0) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.writersWaiting -= 1;
    this.committing = true;
    try {
      return body();
    } finally {
      this.committing = false;
      this.wake();
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((resolve) => resolve());
  }
}

/** How a worker thread starts chaincode-worker.ts: compiled, or through ts-node as the sources are here. */
function workerBootstrap(): string {
  const entry = path.join(__dirname, `chaincode-worker${path.extname(__filename)}`);
  if (path.extname(__filename) !== ".ts") {
    return `require(${JSON.stringify(entry)});`;
  }
  const compilerOptions = { target: "es2020", module: "commonjs", esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true };
  const tsNode = require.resolve("ts-node");
  const options = JSON.stringify({ transpileOnly: true, skipProject: true, compilerOptions });
  return `require(${JSON.stringify(tsNode)}).register(${options}); require(${JSON.stringify(entry)});`;
}

/**
 * One chaincode, chatting with the peer as over the gRPC stream of a real peer: the peer sends and receives
 * serialized ChaincodeMessages only, to a chaincode in its own thread or in a worker thread.
 */
class ChaincodeConnection {
  private readonly pending = new Map<string, PendingTransaction>();
  private readonly ready: Promise<void>;
  private markReady!: () => void;
  private markFailed!: (error: Error) => void;
  private failure: Error | null = null;
  private readonly toChaincode: (bytes: Uint8Array) => void;
  private readonly worker: Worker | null = null;
  /** the peer's clock as an offset from Date.now(), shared with a worker (written at each dispatch unless the peer's clock is shared) */
  private readonly clockOffset: Float64Array | null = null;
  /** transactions sent to this chaincode and not yet answered */
  executing = 0;

  constructor(
    readonly definition: ChaincodeDefinition,
    private readonly channelName: string,
    private readonly host: ChaincodeHost,
    private readonly sharedClockOffset: Float64Array | undefined,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    this.ready.catch(() => undefined);
    const version = definition.version ?? "1.0";
    const fromChaincode = (bytes: Uint8Array) => this.receive(peer.ChaincodeMessage.deserializeBinary(bytes));
    if ((definition.runtime ?? "inline") === "inline") {
      const deliver = startChaincode({
        name: definition.name,
        version,
        contracts: definition.contracts,
        host,
        toPeer: (bytes) => queueMicrotask(() => fromChaincode(bytes)),
      });
      this.toChaincode = (bytes) => queueMicrotask(() => deliver(bytes));
      return;
    }
    if (!definition.module) {
      throw new Error(`chaincode ${definition.name}: the worker runtime loads the chaincode from its module path (ChaincodeDefinition.module)`);
    }
    this.clockOffset = sharedClockOffset ?? new Float64Array(new SharedArrayBuffer(8));
    const workerData: ChaincodeWorkerData = {
      name: definition.name,
      version,
      module: definition.module,
      env: host.env,
      clockOffset: this.clockOffset.buffer as SharedArrayBuffer,
    };
    const env: Record<string, string | undefined> = { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: REQUESTED_LOGGING_LEVEL };
    if (REQUESTED_LOGGING_LEVEL === undefined) {
      delete env.CORE_CHAINCODE_LOGGING_LEVEL;
    }
    const worker = new Worker(workerBootstrap(), { eval: true, workerData, env });
    // a starting chaincode keeps the process alive, an idle one does not; a transaction in progress does (see execute)
    this.ready.then(
      () => {
        if (this.executing === 0) {
          worker.unref();
        }
      },
      () => undefined,
    );
    worker.on("message", (message: Uint8Array[] | ChaincodeStartFailure) => {
      if (Array.isArray(message)) {
        message.forEach(fromChaincode);
      } else {
        this.fail(new Error(message.startFailed));
        void worker.terminate();
      }
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`the chaincode worker exited with code ${code}`)));
    this.worker = worker;
    this.toChaincode = batchedSender((batch) => worker.postMessage(batch));
  }

  /** Resolves once the chaincode has registered with the peer; rejects with the error that stopped it. */
  started(): Promise<void> {
    return this.ready;
  }

  /** Stops the chaincode (a worker is terminated); transactions in progress fail. */
  async close(): Promise<void> {
    this.fail(new Error("the chaincode was stopped"));
    await this.worker?.terminate();
  }

  private fail(error: Error): void {
    if (this.failure) {
      return;
    }
    this.failure = error;
    this.markFailed(error);
    for (const [txId, pending] of this.pending) {
      pending.reject(this.notRunning(txId, error));
    }
    this.pending.clear();
  }

  private send(message: peer.ChaincodeMessage): void {
    this.toChaincode(message.serializeBinary());
  }

  private reply(request: peer.ChaincodeMessage, type: number, payload: Uint8Array): void {
    const response = new peer.ChaincodeMessage();
    response.setType(type as peer.ChaincodeMessage.TypeMap[keyof peer.ChaincodeMessage.TypeMap]);
    response.setPayload(payload);
    response.setTxid(request.getTxid());
    response.setChannelId(request.getChannelId());
    this.send(response);
  }

  private receive(message: peer.ChaincodeMessage): void {
    const type = message.getType();
    if (type === MsgType.REGISTER) {
      this.reply(message, MsgType.REGISTERED, new Uint8Array());
      this.reply(message, MsgType.READY, new Uint8Array());
      this.markReady();
      return;
    }
    const pending = this.pending.get(message.getTxid());
    if (!pending) {
      // e.g. a transaction that timed out: answer its requests so the chaincode side does not hang
      if (type !== MsgType.COMPLETED && type !== MsgType.ERROR) {
        this.reply(message, MsgType.ERROR, Buffer.from(`transaction context for txid ${message.getTxid()} not found`, "utf8"));
      }
      return;
    }
    if (type === MsgType.COMPLETED) {
      this.pending.delete(message.getTxid());
      pending.resolve(message);
      return;
    }
    if (type === MsgType.ERROR) {
      this.pending.delete(message.getTxid());
      pending.reject(new Error(Buffer.from(message.getPayload_asU8()).toString("utf8")));
      return;
    }
    try {
      this.reply(message, MsgType.RESPONSE, pending.simulator.handle(type, message.getPayload_asU8()));
    } catch (error) {
      // a peer answers any failure to serve a request with ERROR; the shim turns it into a rejection
      const text = error instanceof SimulationError ? error.message : `peer failed to serve the request: ${(error as Error).message}`;
      this.reply(message, MsgType.ERROR, Buffer.from(text, "utf8"));
    }
  }

  /** Sends TRANSACTION and resolves with the chaincode's COMPLETED message (or fails after `timeoutMs`). */
  async execute(
    txId: string,
    input: Uint8Array,
    signedProposal: peer.SignedProposal,
    simulator: TxSimulator,
    timeoutMs: number,
  ): Promise<peer.ChaincodeMessage> {
    this.executing += 1;
    this.worker?.ref();
    try {
      await this.ready.catch((error: Error) => {
        throw this.notRunning(txId, error);
      });
      if (this.failure) {
        throw this.notRunning(txId, this.failure);
      }
      return await this.dispatch(txId, input, signedProposal, simulator, timeoutMs);
    } finally {
      this.executing -= 1;
      if (this.executing === 0) {
        this.worker?.unref();
      }
    }
  }

  private notRunning(txId: string, cause: Error): EndorsementFailure {
    return new EndorsementFailure(`chaincode ${this.definition.name} is not running: ${cause.message}`, txId);
  }

  private dispatch(...[txId, input, signedProposal, simulator, timeoutMs]: Parameters<ChaincodeConnection["execute"]>): Promise<peer.ChaincodeMessage> {
    if (this.pending.has(txId)) {
      throw new Error(`transaction ${txId} is already executing`);
    }
    if (this.clockOffset && !this.sharedClockOffset) {
      // the worker reads the peer's clock from shared memory: a clock that is not shared is sampled at dispatch
      this.clockOffset[0] = this.host.clock() - Date.now();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(txId);
        reject(new EndorsementFailure(`timeout expired while executing transaction (${timeoutMs} ms)`, txId));
      }, timeoutMs);
      timer.unref();
      this.pending.set(txId, {
        simulator,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const message = new peer.ChaincodeMessage();
      message.setType(MsgType.TRANSACTION);
      message.setPayload(input);
      message.setTxid(txId);
      message.setChannelId(this.channelName);
      message.setProposal(signedProposal);
      this.send(message);
    });
  }
}

export interface PeerOptions {
  channelName?: string;
  /** how long a chaincode may run for one proposal (core.yaml chaincode.executetimeout, default 30 s) */
  executeTimeoutMs?: number;
  /**
   * Orderer.BatchTimeout: how long the orderer waits after the first transaction of a block for more
   * (default 0: a block holds what was submitted in the same turn of the event loop; Fabric's sample
   * configuration uses 2 s, the network of docs/consent.md §11 100 ms).
   */
  batchTimeoutMs?: number;
  /** Orderer.BatchSize.MaxMessageCount (default 500) */
  maxMessageCount?: number;
  /** Orderer.BatchSize.PreferredMaxBytes (default 2 MiB): a transaction larger than this gets a block of its own */
  preferredMaxBytes?: number;
  /** Orderer.BatchSize.AbsoluteMaxBytes (default 10 MiB): a larger transaction envelope is refused at submit */
  absoluteMaxBytes?: number;
  /** the peer host's clock in milliseconds (default Date.now), handed to the chaincode */
  clock?: () => number;
  /**
   * Instead of `clock`: the peer host's clock as an offset (ms) from Date.now() in shared memory (a Float64Array
   * over a SharedArrayBuffer, as LedgerClock keeps it), which a chaincode worker reads as exactly as the peer.
   */
  clockOffset?: Float64Array;
}

interface Submission {
  endorsement: Endorsement;
  bytes: number;
  resolve: (status: CommitStatus) => void;
  reject: (error: Error) => void;
}

/** Writes of the valid transactions of the block being validated, over the committed state. */
class BlockUpdates {
  readonly public = new Map<string, { value: Buffer | null; version: Version }>();
  readonly metadata = new Map<string, Map<string, Buffer>>();
  /** collection -> sha256(key) hex -> version (or null when deleted) */
  readonly hashes = new Map<string, Map<string, Version | null>>();
  readonly txIds = new Set<string>();
}

/** The in-process peer (and orderer) of one channel. */
export class InProcessPeer {
  readonly channelName: string;
  readonly executeTimeoutMs: number;
  readonly batchTimeoutMs: number;
  readonly maxMessageCount: number;
  readonly preferredMaxBytes: number;
  readonly absoluteMaxBytes: number;
  readonly clock: () => number;
  private readonly clockOffset: Float64Array | undefined;
  readonly state = new WorldState();
  private pending: Submission[] = [];
  private pendingBytes = 0;
  private batchTimer: { cancel(): void } | null = null;
  private delivered: Promise<void> = Promise.resolve();
  private readonly lock = new StateLock();
  private readonly authorities = new Map<string, CertificateAuthority>();
  private sortedOrganisations: string[] | null = null;
  private readonly chaincodes = new Map<string, ChaincodeConnection[]>();
  private readonly verifiedCertificates = new Map<string, boolean>();
  private readonly eventLog: ChaincodeEventRecord[] = [];
  private readonly eventListeners = new Set<(event: ChaincodeEventRecord) => void>();

  constructor(options: PeerOptions = {}) {
    this.channelName = options.channelName ?? "consent";
    this.executeTimeoutMs = options.executeTimeoutMs ?? 30_000;
    this.batchTimeoutMs = options.batchTimeoutMs ?? 0;
    this.maxMessageCount = options.maxMessageCount ?? 500;
    this.preferredMaxBytes = options.preferredMaxBytes ?? 2 * 1024 * 1024;
    this.absoluteMaxBytes = options.absoluteMaxBytes ?? 10 * 1024 * 1024;
    if (options.clock && options.clockOffset) {
      throw new Error("give the peer either clock or clockOffset, not both");
    }
    const offset = options.clockOffset;
    this.clockOffset = offset;
    this.clock = offset ? () => Date.now() + offset[0] : (options.clock ?? Date.now);
    this.state.height = 1; // block 0 is the channel's genesis block
  }

  /** Joins an organisation's MSP to the channel (its CA's root certificate). */
  addOrganisation(authority: CertificateAuthority): void {
    this.authorities.set(authority.mspId, authority);
    this.sortedOrganisations = null;
  }

  get organisations(): string[] {
    this.sortedOrganisations ??= [...this.authorities.keys()].sort();
    return [...this.sortedOrganisations];
  }

  /** Installs and starts a chaincode (lifecycle approve + commit in one step). */
  deployChaincode(definition: ChaincodeDefinition): void {
    if (this.chaincodes.has(definition.name)) {
      throw new Error(`chaincode ${definition.name} is already deployed`);
    }
    for (const collection of definition.collections ?? []) {
      this.state.defineCollection(definition.name, collection);
    }
    const host: ChaincodeHost = { clock: () => this.clock(), env: { ...process.env, ...definition.environment } };
    const instances = (definition.runtime ?? "inline") === "worker" ? (definition.workers ?? 1) : 1;
    if (!Number.isInteger(instances) || instances < 1 || instances > 64) {
      throw new Error(`chaincode ${definition.name}: workers must be a whole number in 1..64, got ${definition.workers}`);
    }
    this.chaincodes.set(
      definition.name,
      Array.from({ length: instances }, () => new ChaincodeConnection(definition, this.channelName, host, this.clockOffset)),
    );
  }

  /**
   * Resolves once every instance of the chaincode has started and registered, as a peer reports a chaincode
   * launched; rejects with the error of one that failed to start (e.g. a bad setting in its environment).
   */
  async chaincodeStarted(name: string): Promise<void> {
    const instances = this.chaincodes.get(name);
    if (!instances) {
      throw new Error(`chaincode ${name} is not deployed`);
    }
    await Promise.all(instances.map((instance) => instance.started()));
  }

  /** Stops the chaincodes (terminates their worker threads); the peer endorses nothing after. */
  async close(): Promise<void> {
    await Promise.all([...this.chaincodes.values()].flat().map((connection) => connection.close()));
  }

  /**
   * Checks, executes and simulates a SignedProposal; the ledger is not changed. The result stands for
   * the endorsements of `endorsingOrganizations` (default: every organisation on the channel), since
   * every peer computes the same read/write set.
   */
  async endorse(signedProposalBytes: Uint8Array, endorsingOrganizations?: string[]): Promise<Endorsement> {
    const signedProposal = peer.SignedProposal.deserializeBinary(signedProposalBytes);
    const proposal = peer.Proposal.deserializeBinary(signedProposal.getProposalBytes_asU8());
    const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const signatureHeader = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    const creator = msp.SerializedIdentity.deserializeBinary(signatureHeader.getCreator_asU8());
    const txId = channelHeader.getTxId();

    if (channelHeader.getChannelId() !== this.channelName) {
      throw new EndorsementFailure(`channel ${channelHeader.getChannelId()} not found`, txId);
    }
    const expectedTxId = sha256(Buffer.concat([signatureHeader.getNonce_asU8(), signatureHeader.getCreator_asU8()])).toString("hex");
    if (txId !== expectedTxId) {
      throw new EndorsementFailure(`invalid txID. It must be ${expectedTxId}`, txId);
    }
    const certificatePem = Buffer.from(creator.getIdBytes_asU8()).toString("utf8");
    await this.authenticate(creator.getMspid(), certificatePem, txId);
    if (!verifySignature(certificatePem, signedProposal.getProposalBytes_asU8(), signedProposal.getSignature_asU8())) {
      throw new EndorsementFailure("access denied: the creator's signature over the proposal is not valid", txId);
    }
    if (this.state.committedTxIds.has(txId)) {
      throw new EndorsementFailure(`duplicate transaction found [${txId}]. Creator [${creator.getMspid()}]`, txId);
    }
    const endorsers = [...new Set(endorsingOrganizations ?? this.organisations)].sort();
    const unknown = endorsers.filter((mspId) => !this.authorities.has(mspId));
    if (endorsers.length === 0 || unknown.length > 0) {
      throw new EndorsementFailure(`no endorsing peers for organisations [${unknown.join(", ")}] on channel ${this.channelName}`, txId);
    }
    const extension = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
    const chaincodeName = extension.getChaincodeId()?.getName() ?? "";
    // the instance with the fewest transactions in progress (the first of them)
    const connection = this.chaincodes.get(chaincodeName)?.reduce((least, instance) => (instance.executing < least.executing ? instance : least));
    if (!connection) {
      throw new EndorsementFailure(`chaincode ${chaincodeName} not found`, txId);
    }
    const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
    const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
    const input = invocation.getChaincodeSpec()?.getInput();
    if (!input) {
      throw new EndorsementFailure("proposal has no chaincode input", txId);
    }
    const timestamp = channelHeader.getTimestamp();
    // what the transaction carries: the proposal payload without the transient map (built when first asked for)
    const payloadBytes = proposal.getPayload_asU8();
    let proposalPayload: Uint8Array | undefined;
    return this.lock.read(async () => {
      const simulator = new TxSimulator(this.state, chaincodeName, txId, creator.getMspid());
      const completed = await connection.execute(txId, input.serializeBinary(), signedProposal, simulator, this.executeTimeoutMs);
      const response = peer.Response.deserializeBinary(completed.getPayload_asU8());
      const chaincodeResponse: ChaincodeResponse = {
        status: response.getStatus(),
        message: response.getMessage(),
        payload: response.getPayload_asU8(),
      };
      if (chaincodeResponse.status >= 400) {
        throw new EndorsementFailure(`chaincode response ${chaincodeResponse.status}, ${chaincodeResponse.message}`, txId, chaincodeResponse.status);
      }
      const event = completed.getChaincodeEvent();
      const simulation = simulator.finish();
      let readWriteSet: Uint8Array | undefined;
      return {
        transactionId: txId,
        channelName: this.channelName,
        chaincodeName,
        creatorMspId: creator.getMspid(),
        timestamp: { seconds: timestamp?.getSeconds() ?? 0, nanos: timestamp?.getNanos() ?? 0 },
        response: chaincodeResponse,
        // serialized when first asked for: an evaluation or an ordinary submit never needs the bytes
        get readWriteSet() {
          readWriteSet ??= readWriteSetBytes(simulation);
          return readWriteSet;
        },
        proposalHeader: proposal.getHeader_asU8(),
        get proposalPayload() {
          if (proposalPayload === undefined) {
            payload.getTransientmapMap().clear();
            proposalPayload = payload.serializeBinary();
          }
          return proposalPayload;
        },
        proposalPayloadBound: payloadBytes.length,
        event: event && event.getEventName() !== "" ? { eventName: event.getEventName(), payload: event.getPayload_asU8() } : null,
        endorsers,
        simulation,
      };
    });
  }

  /**
   * Broadcasts the endorsed transaction to the orderer; resolves once the block that holds it has been
   * validated and committed. Throws OrderingFailure at once when its envelope exceeds AbsoluteMaxBytes.
   */
  submit(endorsement: Endorsement): Promise<CommitStatus> {
    // the exact size is built only when a generous bound on it could reach a limit
    const bound = envelopeSizeBound(endorsement);
    const bytes = bound <= Math.min(this.preferredMaxBytes, this.absoluteMaxBytes) ? bound : this.envelope(endorsement).length;
    if (bytes > this.absoluteMaxBytes) {
      throw new OrderingFailure(
        `the transaction envelope is ${bytes} bytes, over the orderer's AbsoluteMaxBytes of ${this.absoluteMaxBytes}`,
        endorsement.transactionId,
      );
    }
    return new Promise((resolve, reject) => {
      // as Fabric's block cutter: a transaction that would overflow PreferredMaxBytes cuts the pending batch first
      if (this.pending.length > 0 && this.pendingBytes + bytes > this.preferredMaxBytes) {
        this.cutBlock();
      }
      this.pending.push({ endorsement, bytes, resolve, reject });
      this.pendingBytes += bytes;
      if (this.pending.length >= this.maxMessageCount || bytes > this.preferredMaxBytes) {
        this.cutBlock();
      } else if (this.batchTimer === null) {
        this.batchTimer = this.startBatchTimer();
      }
    });
  }

  /** Serialized common.Envelope of the endorsed transaction, as the gateway would broadcast it. */
  envelope(endorsement: Endorsement): Uint8Array {
    return transactionEnvelope(endorsement, this.endorserIdentities(endorsement.endorsers));
  }

  /** BatchTimeout 0 cuts after the current turn of the event loop (setImmediate: no 1 ms timer floor). */
  private startBatchTimer(): { cancel(): void } {
    if (this.batchTimeoutMs === 0) {
      const immediate = setImmediate(() => this.cutBlock());
      return { cancel: () => clearImmediate(immediate) };
    }
    const timer = setTimeout(() => this.cutBlock(), this.batchTimeoutMs);
    return { cancel: () => clearTimeout(timer) };
  }

  /** Blocks commit in the order they were cut, one at a time, while no proposal is being simulated. */
  private cutBlock(): void {
    if (this.batchTimer !== null) {
      this.batchTimer.cancel();
      this.batchTimer = null;
    }
    const block = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (block.length === 0) {
      return;
    }
    this.delivered = this.delivered
      .then(() => this.lock.write(() => this.commitBlock(block.map((submission) => submission.endorsement))))
      .then(
        (statuses) => block.forEach((submission, i) => submission.resolve(statuses[i])),
        (error: Error) => block.forEach((submission) => submission.reject(error)),
      );
  }

  /** Chaincode events of valid transactions from `startBlock` on, then live ones. */
  subscribe(chaincodeName: string, startBlock: bigint | undefined, listener: (event: ChaincodeEventRecord) => void): () => void {
    const filtered = (event: ChaincodeEventRecord) => {
      if (event.chaincodeName === chaincodeName) {
        listener(event);
      }
    };
    const from = startBlock ?? BigInt(this.state.height);
    for (const event of this.eventLog) {
      if (event.blockNumber >= from) {
        filtered(event);
      }
    }
    this.eventListeners.add(filtered);
    return () => this.eventListeners.delete(filtered);
  }

  private async authenticate(mspId: string, certificatePem: string, txId: string): Promise<void> {
    const authority = this.authorities.get(mspId);
    if (!authority) {
      throw new EndorsementFailure(`access denied: MSP ${mspId} is not a member of channel ${this.channelName}`, txId);
    }
    const cacheKey = `${mspId}\n${certificatePem}`;
    let issued = this.verifiedCertificates.get(cacheKey);
    if (issued === undefined) {
      issued = await authority.issued(certificatePem);
      this.verifiedCertificates.set(cacheKey, issued);
    }
    if (!issued) {
      throw new EndorsementFailure(`access denied: the creator certificate was not issued by ${mspId}`, txId);
    }
  }

  /** The identities that sign endorsements: each endorsing organisation's (CA certificate as a stand-in for its peer's). */
  private endorserIdentities(endorsers: string[]): Uint8Array[] {
    return endorsers.map((mspId) => {
      const identity = new msp.SerializedIdentity();
      identity.setMspid(mspId);
      identity.setIdBytes(Buffer.from(this.authorities.get(mspId)?.certificatePem ?? "", "utf8"));
      return identity.serializeBinary();
    });
  }

  /**
   * Validates a transaction as Fabric's committer does, against the committed state plus the writes of the
   * valid transactions before it in the same block.
   */
  private validate(endorsement: Endorsement, updates: BlockUpdates): number {
    const { simulation } = endorsement;
    if (this.state.committedTxIds.has(endorsement.transactionId) || updates.txIds.has(endorsement.transactionId)) {
      return TxValidationCode.DUPLICATE_TXID;
    }
    // key-level (state-based) endorsement: the policy in force for every key written must be met
    const endorsers = new Set(endorsement.endorsers);
    for (const key of new Set([...simulation.writes.keys(), ...simulation.metadataWrites.keys()])) {
      const policy = updates.metadata.get(key)?.get(VALIDATION_PARAMETER) ?? this.state.getMetadata(simulation.namespace, key).get(VALIDATION_PARAMETER);
      if (policy && !policySatisfied(policy, endorsers)) {
        return TxValidationCode.ENDORSEMENT_POLICY_FAILURE;
      }
    }
    const store = this.state.namespace(simulation.namespace);
    for (const [key, version] of simulation.reads) {
      // a key written earlier in the block is a conflict whatever its new version
      if (updates.public.has(key) || !sameVersion(store.get(key)?.version ?? null, version)) {
        return TxValidationCode.MVCC_READ_CONFLICT;
      }
    }
    for (const range of simulation.rangeReads) {
      // a range left before its end is checked up to and including the last key the chaincode saw
      const end = range.itrExhausted ? range.endKey : `${range.endKey}\u0000`;
      if (!sameRangeReads(range.info, this.rangeNow(store.range(range.startKey, end), updates, range.startKey, end))) {
        return TxValidationCode.PHANTOM_READ_CONFLICT;
      }
    }
    for (const [collection, reads] of simulation.hashedReads) {
      const hashes = this.state.collection(simulation.namespace, collection)?.hashes;
      const pending = updates.hashes.get(collection);
      for (const [keyHash, version] of reads) {
        if (pending?.has(keyHash) || !sameVersion(hashes?.get(keyHash)?.version ?? null, version)) {
          return TxValidationCode.MVCC_READ_CONFLICT;
        }
      }
    }
    return TxValidationCode.VALID;
  }

  /** A range's keys and versions over the committed state and the block's earlier writes. */
  private rangeNow(committed: Array<{ key: string } & VersionedValue>, updates: BlockUpdates, start: string, end: string): KeyVersion[] {
    const inRange = [...updates.public].filter(([key]) => compareUtf8(key, start) >= 0 && (end === "" || compareUtf8(key, end) < 0));
    if (inRange.length === 0) {
      return committed;
    }
    const merged = new Map<string, Version>(committed.map((entry) => [entry.key, entry.version]));
    for (const [key, write] of inRange) {
      if (write.value === null) {
        merged.delete(key);
      } else {
        merged.set(key, write.version);
      }
    }
    return [...merged].sort(([a], [b]) => compareUtf8(a, b)).map(([key, version]) => ({ key, version }));
  }

  private commitBlock(endorsements: Endorsement[]): CommitStatus[] {
    const blockNum = this.state.height;
    const updates = new BlockUpdates();
    const valid: Array<{ endorsement: Endorsement; txNum: number }> = [];
    const statuses = endorsements.map((endorsement, txNum): CommitStatus => {
      const code = this.validate(endorsement, updates);
      if (code !== TxValidationCode.DUPLICATE_TXID) {
        updates.txIds.add(endorsement.transactionId);
      }
      if (code === TxValidationCode.VALID) {
        const { simulation } = endorsement;
        const version = { blockNum, txNum };
        for (const [key, write] of simulation.writes) {
          updates.public.set(key, { value: write.value, version });
        }
        for (const [key, entries] of simulation.metadataWrites) {
          const current = updates.metadata.get(key) ?? new Map<string, Buffer>();
          entries.forEach((value, name) => current.set(name, value));
          updates.metadata.set(key, current);
        }
        for (const [collection, writes] of simulation.privateWrites) {
          const hashes = updates.hashes.get(collection) ?? new Map<string, Version | null>();
          writes.forEach((write, key) => hashes.set(sha256(key).toString("hex"), write.value === null ? null : version));
          updates.hashes.set(collection, hashes);
        }
        valid.push({ endorsement, txNum });
      }
      return { transactionId: endorsement.transactionId, blockNumber: BigInt(blockNum), code, successful: code === TxValidationCode.VALID };
    });
    for (const txId of updates.txIds) {
      this.state.committedTxIds.add(txId);
    }
    valid.forEach(({ endorsement, txNum }) => this.apply(endorsement, blockNum, txNum));
    for (const collection of this.state.collections.values()) {
      collection.expire(blockNum);
    }
    this.state.height += 1;
    for (const { endorsement } of valid) {
      if (endorsement.event) {
        const event: ChaincodeEventRecord = {
          blockNumber: BigInt(blockNum),
          transactionId: endorsement.transactionId,
          chaincodeName: endorsement.simulation.namespace,
          eventName: endorsement.event.eventName,
          payload: endorsement.event.payload,
        };
        this.eventLog.push(event);
        for (const listener of this.eventListeners) {
          listener(event);
        }
      }
    }
    return statuses;
  }

  /** Applies a valid transaction's writes to the committed state at height (blockNum, txNum). */
  private apply(endorsement: Endorsement, blockNum: number, txNum: number): void {
    const { simulation, timestamp } = endorsement;
    const version = { blockNum, txNum };
    const store = this.state.namespace(simulation.namespace);
    store.applyWrites(
      [...simulation.writes].map(([key, write]) => [key, write.value] as [string, Buffer | null]),
      version,
    );
    for (const [key, write] of simulation.writes) {
      this.state.appendHistory(simulation.namespace, key, {
        txId: endorsement.transactionId,
        seconds: timestamp.seconds,
        nanos: timestamp.nanos,
        value: write.value ?? Buffer.alloc(0),
        isDelete: write.value === null,
      });
    }
    for (const [key, entries] of simulation.metadataWrites) {
      for (const [name, value] of entries) {
        this.state.setMetadata(simulation.namespace, key, name, value);
      }
    }
    for (const [name, writes] of simulation.privateWrites) {
      const collection = this.state.collection(simulation.namespace, name);
      if (!collection) {
        continue;
      }
      for (const [key, write] of writes) {
        const keyHash = sha256(key).toString("hex");
        if (write.value === null) {
          collection.values.delete(key);
          collection.hashes.delete(keyHash);
        } else {
          collection.values.set(key, { value: write.value, version, committedBlock: blockNum });
          collection.hashes.set(keyHash, { value: sha256(write.value), version });
        }
      }
    }
  }
}

/**
 * More than the envelope of this endorsement can be: its parts plus, for each endorsement, a certificate
 * and a signature, and generous room for the protobuf framing.
 */
function envelopeSizeBound(endorsement: Endorsement): number {
  return (
    readWriteSetSizeBound(endorsement.simulation) +
    endorsement.response.payload.length +
    endorsement.response.message.length +
    (endorsement.event ? endorsement.event.payload.length + endorsement.event.eventName.length : 0) +
    2 * endorsement.proposalHeader.length +
    (endorsement.proposalPayloadBound ?? endorsement.proposalPayload.length) +
    endorsement.endorsers.length * 4096 +
    4096
  );
}

/** More bytes than the serialized read/write set of `simulation` takes (3 bytes a UTF-16 unit, 24 a read or write). */
function readWriteSetSizeBound(simulation: Simulation): number {
  let bytes = 64 + simulation.namespace.length * 3;
  simulation.reads.forEach((_, key) => {
    bytes += key.length * 3 + 24;
  });
  for (const range of simulation.rangeReads) {
    bytes += (range.startKey.length + range.endKey.length) * 3 + 32;
    bytes += range.info.merkle ? range.info.merkle.maxLevelHashes.length * 40 + 16 : range.info.raw.reduce((sum, read) => sum + read.key.length * 3 + 24, 0);
  }
  simulation.writes.forEach((write, key) => {
    bytes += key.length * 3 + (write.value?.length ?? 0) + 24;
  });
  simulation.metadataWrites.forEach((entries, key) => {
    bytes += key.length * 3 + 24;
    entries.forEach((value, name) => {
      bytes += name.length * 3 + value.length + 24;
    });
  });
  simulation.hashedReads.forEach((reads, collection) => {
    bytes += collection.length * 3 + reads.size * 64;
  });
  simulation.privateWrites.forEach((writes, collection) => {
    bytes += collection.length * 3 + writes.size * 96;
  });
  return bytes;
}

/** A DER ECDSA P-256 signature's usual length: what the size of an envelope counts for each signature. */
const SIGNATURE_PLACEHOLDER = new Uint8Array(72);

/**
 * The common.Envelope a Fabric gateway broadcasts for this endorsement: Payload(Header, Transaction(
 * TransactionAction(SignatureHeader, ChaincodeActionPayload(ChaincodeProposalPayload, ChaincodeEndorsedAction(
 * ProposalResponsePayload(proposal hash, ChaincodeAction(rwset, event, response, chaincode id)), endorsements))))).
 * The in-process peer does not sign proposal responses and the client's envelope signature is not needed
 * here, so every signature is a 72-byte placeholder: the bytes are those of the real envelope, the size exact
 * to within a byte or two per signature.
 */
export function transactionEnvelope(endorsement: Endorsement, endorserIdentities: Uint8Array[]): Uint8Array {
  const header = common.Header.deserializeBinary(endorsement.proposalHeader);
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(endorsement.chaincodeName);
  const action = new peer.ChaincodeAction();
  action.setResults(endorsement.readWriteSet);
  if (endorsement.event) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(endorsement.chaincodeName);
    event.setTxId(endorsement.transactionId);
    event.setEventName(endorsement.event.eventName);
    event.setPayload(endorsement.event.payload);
    action.setEvents(event.serializeBinary());
  }
  const response = new peer.Response();
  response.setStatus(endorsement.response.status);
  response.setMessage(endorsement.response.message);
  response.setPayload(endorsement.response.payload);
  action.setResponse(response);
  action.setChaincodeId(chaincodeId);
  const responsePayload = new peer.ProposalResponsePayload();
  responsePayload.setProposalHash(sha256(Buffer.concat([endorsement.proposalHeader, endorsement.proposalPayload])));
  responsePayload.setExtension$(action.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(responsePayload.serializeBinary());
  endorsed.setEndorsementsList(
    endorserIdentities.map((identity) => {
      const out = new peer.Endorsement();
      out.setEndorser(identity);
      out.setSignature(SIGNATURE_PLACEHOLDER);
      return out;
    }),
  );
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(endorsement.proposalPayload);
  actionPayload.setAction(endorsed);
  const transactionAction = new peer.TransactionAction();
  transactionAction.setHeader(header.getSignatureHeader_asU8());
  transactionAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([transactionAction]);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  const envelope = new common.Envelope();
  envelope.setPayload(payload.serializeBinary());
  envelope.setSignature(SIGNATURE_PLACEHOLDER);
  return envelope.serializeBinary();
}
