// The client surface of the in-process ledger, shaped like @hyperledger/fabric-gateway 1.x
// (Gateway -> Network -> Contract, submit / evaluate / newProposal, chaincode events), so that code
// written against it switches to a real Fabric network by configuration only.
import { EnrolledIdentity, Identity, MessageSigner, Signer } from "./identity";
import { ChaincodeEventRecord, CommitStatus, Endorsement, EndorsementFailure, InProcessPeer, OrderingFailure, TxValidationCode } from "./peer";
import { UnsignedProposal, buildProposal, signProposal } from "./proposal";

export interface ProposalOptions {
  arguments?: Array<string | Uint8Array>;
  transientData?: Record<string, string | Uint8Array>;
  /** MSP ids whose peers must endorse (default: every organisation on the channel) */
  endorsingOrganizations?: string[];
}

/** Same fields as fabric-gateway's ChaincodeEvent. */
export type ChaincodeEvent = ChaincodeEventRecord;

export interface ChaincodeEventsOptions {
  /** first block to deliver events from; default: the next block */
  startBlock?: bigint;
}

/** An async iterable that must be closed (or disposed), as fabric-gateway's CloseableAsyncIterable. */
export interface CloseableAsyncIterable<T> extends AsyncIterable<T> {
  close(): void;
  [Symbol.dispose](): void;
}

/** Same fields as fabric-gateway's Status. */
export type Status = CommitStatus;

/** Endorsement failed (fabric-gateway: EndorseError). `message` carries the chaincode's error text. */
export class EndorseError extends Error {
  constructor(
    message: string,
    readonly transactionId: string,
  ) {
    super(message);
    this.name = "EndorseError";
  }
}

/** The orderer refused the transaction (fabric-gateway: SubmitError). */
export class SubmitError extends Error {
  constructor(
    message: string,
    readonly transactionId: string,
  ) {
    super(message);
    this.name = "SubmitError";
  }
}

/** The transaction was ordered but invalidated at commit (fabric-gateway: CommitError). */
export class CommitError extends Error {
  constructor(
    readonly code: number,
    readonly transactionId: string,
  ) {
    super(`Transaction ${transactionId} failed to commit with status code ${code} (${validationCodeName(code)})`);
    this.name = "CommitError";
  }
}

export function validationCodeName(code: number): string {
  return Object.entries(TxValidationCode).find(([, value]) => value === code)?.[0] ?? String(code);
}

export class SubmittedTransaction {
  constructor(
    private readonly result: Uint8Array,
    private readonly status: Promise<Status>,
    private readonly transactionId: string,
  ) {}

  getResult(): Uint8Array {
    return this.result;
  }

  getTransactionId(): string {
    return this.transactionId;
  }

  getStatus(): Promise<Status> {
    return this.status;
  }
}

export class Transaction {
  constructor(
    private readonly peer: InProcessPeer,
    readonly endorsement: Endorsement,
  ) {}

  getTransactionId(): string {
    return this.endorsement.transactionId;
  }

  getResult(): Uint8Array {
    return this.endorsement.response.payload;
  }

  async submit(): Promise<SubmittedTransaction> {
    let status: Promise<Status>;
    try {
      status = this.peer.submit(this.endorsement);
    } catch (error) {
      throw error instanceof OrderingFailure ? new SubmitError(error.message, error.transactionId) : error;
    }
    status.catch(() => undefined);
    return new SubmittedTransaction(this.getResult(), status, this.getTransactionId());
  }

  /** The serialized transaction envelope the orderer receives (signatures as placeholders). */
  getEnvelope(): Uint8Array {
    return this.peer.envelope(this.endorsement);
  }
}

export class Proposal {
  private signed: Promise<Uint8Array> | undefined;

  constructor(
    private readonly peer: InProcessPeer,
    private readonly unsigned: UnsignedProposal,
    private readonly signer: Signer | { message: MessageSigner },
    private readonly endorsingOrganizations?: string[],
  ) {}

  getTransactionId(): string {
    return this.unsigned.transactionId;
  }

  /** The serialized peer.Proposal (what the client signs). */
  getBytes(): Uint8Array {
    return this.unsigned.proposalBytes;
  }

  /** The serialized SignedProposal sent to the peer; signed once, on first use. */
  getSignedProposal(): Promise<Uint8Array> {
    this.signed = this.signed ?? signProposal(this.unsigned, this.signer);
    return this.signed;
  }

  async evaluate(): Promise<Uint8Array> {
    return (await this.execute()).response.payload;
  }

  async endorse(): Promise<Transaction> {
    return new Transaction(this.peer, await this.execute());
  }

  private async execute(): Promise<Endorsement> {
    try {
      return await this.peer.endorse(await this.getSignedProposal(), this.endorsingOrganizations);
    } catch (error) {
      if (error instanceof EndorsementFailure) {
        throw new EndorseError(error.message, error.transactionId);
      }
      throw error;
    }
  }
}

export class Contract {
  constructor(
    private readonly gateway: Gateway,
    private readonly chaincodeName: string,
    private readonly contractName?: string,
  ) {}

  getChaincodeName(): string {
    return this.chaincodeName;
  }

  getContractName(): string | undefined {
    return this.contractName;
  }

  async evaluateTransaction(name: string, ...args: Array<string | Uint8Array>): Promise<Uint8Array> {
    return this.evaluate(name, { arguments: args });
  }

  async submitTransaction(name: string, ...args: Array<string | Uint8Array>): Promise<Uint8Array> {
    return this.submit(name, { arguments: args });
  }

  async evaluate(name: string, options: ProposalOptions = {}): Promise<Uint8Array> {
    return this.newProposal(name, options).evaluate();
  }

  async submit(name: string, options: ProposalOptions = {}): Promise<Uint8Array> {
    const submitted = await this.submitAsync(name, options);
    const status = await submitted.getStatus();
    if (!status.successful) {
      throw new CommitError(status.code, status.transactionId);
    }
    return submitted.getResult();
  }

  async submitAsync(name: string, options: ProposalOptions = {}): Promise<SubmittedTransaction> {
    const transaction = await this.newProposal(name, options).endorse();
    return transaction.submit();
  }

  /** Builds the proposal (synchronously, as fabric-gateway does); it is signed when first sent. */
  newProposal(name: string, options: ProposalOptions = {}): Proposal {
    const functionName = this.contractName ? `${this.contractName}:${name}` : name;
    const unsigned = buildProposal({
      channelName: this.gateway.peer.channelName,
      chaincodeName: this.chaincodeName,
      functionName,
      args: options.arguments ?? [],
      transientData: options.transientData,
      identity: this.gateway.identity,
      timestampMillis: this.gateway.clock(),
    });
    const signer = this.gateway.messageSigner ? { message: this.gateway.messageSigner } : this.gateway.signer;
    return new Proposal(this.gateway.peer, unsigned, signer, options.endorsingOrganizations);
  }
}

export class Network {
  constructor(private readonly gateway: Gateway) {}

  getName(): string {
    return this.gateway.peer.channelName;
  }

  getContract(chaincodeName: string, contractName?: string): Contract {
    return new Contract(this.gateway, chaincodeName, contractName);
  }

  /** Chaincode events of committed valid transactions, in block order. */
  async getChaincodeEvents(chaincodeName: string, options: ChaincodeEventsOptions = {}): Promise<CloseableAsyncIterable<ChaincodeEvent>> {
    const queue: ChaincodeEvent[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const unsubscribe = this.gateway.peer.subscribe(chaincodeName, options.startBlock, (event) => {
      queue.push(event);
      wake?.();
    });
    const close = (): void => {
      closed = true;
      unsubscribe();
      wake?.();
    };
    return {
      close,
      [Symbol.dispose]: close,
      async *[Symbol.asyncIterator](): AsyncIterator<ChaincodeEvent> {
        while (!closed) {
          const next = queue.shift();
          if (next) {
            yield next;
          } else {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = null;
          }
        }
      },
    };
  }
}

export interface ConnectOptions {
  identity: Identity;
  signer: Signer;
  /** signs whole proposals natively instead of `signer` signing their digest (same key) */
  messageSigner?: MessageSigner;
  /** proposal clock in milliseconds (default Date.now); tests move it to exercise expiry */
  clock?: () => number;
}

export class Gateway {
  readonly identity: Identity;
  readonly signer: Signer;
  readonly messageSigner?: MessageSigner;
  readonly clock: () => number;

  constructor(
    readonly peer: InProcessPeer,
    options: ConnectOptions,
  ) {
    this.identity = { mspId: options.identity.mspId, credentials: options.identity.credentials };
    this.signer = options.signer;
    this.messageSigner = options.messageSigner;
    this.clock = options.clock ?? Date.now;
  }

  getIdentity(): Identity {
    return this.identity;
  }

  getNetwork(channelName: string): Network {
    if (channelName !== this.peer.channelName) {
      throw new Error(`channel ${channelName} not found (the in-process peer serves ${this.peer.channelName})`);
    }
    return new Network(this);
  }

  close(): void {
    // nothing to release in process
  }
}

/**
 * Connects an enrolled identity to the in-process peer, as fabric-gateway's connect() does to a real one.
 * `clock` is the client's clock, which timestamps its proposals (default: the peer's).
 */
export function connect(peer: InProcessPeer, identity: EnrolledIdentity, clock: () => number = peer.clock): Gateway {
  return new Gateway(peer, { identity, signer: identity.signer, messageSigner: identity.signMessage, clock });
}
