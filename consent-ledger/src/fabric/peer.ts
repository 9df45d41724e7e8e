// An in-process Fabric peer for one channel: it runs chaincode through the real fabric-shim
// ChaincodeMessageHandler and fabric-contract-api dispatch over an in-memory chat stream, endorses
// signed proposals, orders each submitted transaction into its own block, validates it (duplicate txId,
// MVCC, phantom reads) and commits it, and delivers chaincode events of valid transactions.
import 'reflect-metadata';
import './quiet-logs';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { EventEmitter } from 'node:events';
import { CertificateAuthority, verifySignature } from './identity';
import { Simulation, SimulationError, TxSimulator, readWriteSetBytes } from './simulator';
import { CollectionConfig, WorldState, sameVersion, sha256 } from './worldstate';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ChaincodeMessageHandler } = require('fabric-shim/lib/handler');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { JSONSerializer } = require('fabric-contract-api');

const MsgType = peer.ChaincodeMessage.Type;
export const TxValidationCode = peer.TxValidationCode;

export interface ChaincodeDefinition {
    name: string;
    version?: string;
    /** the chaincode module's `contracts` export */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    contracts: any[];
    collections?: CollectionConfig[];
}

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
    event: { eventName: string; payload: Uint8Array } | null;
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

/** Thrown when a proposal cannot be endorsed (bad signature, unknown MSP, chaincode error). */
export class EndorsementFailure extends Error {
    constructor(message: string, readonly transactionId: string, readonly chaincodeStatus?: number) {
        super(message);
        this.name = 'EndorsementFailure';
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

/** One chaincode running in process, chatting with the peer over an in-memory stream. */
class ChaincodeConnection extends EventEmitter {
    private readonly pending = new Map<string, PendingTransaction>();
    private readonly ready: Promise<void>;
    private markReady!: () => void;

    constructor(readonly definition: ChaincodeDefinition, private readonly channelName: string) {
        super();
        this.ready = new Promise((resolve) => { this.markReady = resolve; });
        const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
        const chaincode = new ChaincodeFromContract(definition.contracts, serializers, {}, definition.name, definition.version ?? '1.0');
        const register = new peer.ChaincodeMessage();
        const chaincodeId = new peer.ChaincodeID();
        chaincodeId.setName(`${definition.name}:${definition.version ?? '1.0'}`);
        register.setType(MsgType.REGISTER);
        register.setPayload(chaincodeId.serializeBinary());
        const handler = new ChaincodeMessageHandler(this, chaincode);
        handler.chat(register);
    }

    /** Called by fabric-shim's handler with every message the chaincode sends to the peer. */
    write(message: peer.ChaincodeMessage): void {
        // cross the "wire": the peer only ever sees the serialized bytes
        const wire = peer.ChaincodeMessage.deserializeBinary(message.serializeBinary());
        queueMicrotask(() => this.receive(wire));
    }

    end(): void {
        this.removeAllListeners();
    }

    private send(message: peer.ChaincodeMessage): void {
        const wire = peer.ChaincodeMessage.deserializeBinary(message.serializeBinary());
        queueMicrotask(() => this.emit('data', wire));
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
            return;
        }
        if (type === MsgType.COMPLETED) {
            this.pending.delete(message.getTxid());
            pending.resolve(message);
            return;
        }
        if (type === MsgType.ERROR) {
            this.pending.delete(message.getTxid());
            pending.reject(new Error(Buffer.from(message.getPayload_asU8()).toString('utf8')));
            return;
        }
        try {
            this.reply(message, MsgType.RESPONSE, pending.simulator.handle(type, message.getPayload_asU8()));
        } catch (error) {
            // a peer answers any failure to serve a request with ERROR; the shim turns it into a rejection
            const text = error instanceof SimulationError ? error.message : `peer failed to serve the request: ${(error as Error).message}`;
            this.reply(message, MsgType.ERROR, Buffer.from(text, 'utf8'));
        }
    }

    /** Sends TRANSACTION and resolves with the chaincode's COMPLETED message. */
    async execute(txId: string, input: Uint8Array, signedProposal: peer.SignedProposal, simulator: TxSimulator): Promise<peer.ChaincodeMessage> {
        await this.ready;
        if (this.pending.has(txId)) {
            throw new Error(`transaction ${txId} is already executing`);
        }
        return new Promise((resolve, reject) => {
            this.pending.set(txId, { simulator, resolve, reject });
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
}

/** The in-process peer (and orderer) of one channel. */
export class InProcessPeer {
    readonly channelName: string;
    readonly state = new WorldState();
    private readonly lock = new StateLock();
    private readonly authorities = new Map<string, CertificateAuthority>();
    private readonly chaincodes = new Map<string, ChaincodeConnection>();
    private readonly verifiedCertificates = new Map<string, boolean>();
    private readonly eventLog: ChaincodeEventRecord[] = [];
    private readonly eventListeners = new Set<(event: ChaincodeEventRecord) => void>();

    constructor(options: PeerOptions = {}) {
        this.channelName = options.channelName ?? 'consent';
        this.state.height = 1; // block 0 is the channel's genesis block
    }

    /** Joins an organisation's MSP to the channel (its CA's root certificate). */
    addOrganisation(authority: CertificateAuthority): void {
        this.authorities.set(authority.mspId, authority);
    }

    get organisations(): string[] {
        return [...this.authorities.keys()].sort();
    }

    /** Installs and starts a chaincode (lifecycle approve + commit in one step). */
    deployChaincode(definition: ChaincodeDefinition): void {
        if (this.chaincodes.has(definition.name)) {
            throw new Error(`chaincode ${definition.name} is already deployed`);
        }
        for (const collection of definition.collections ?? []) {
            this.state.defineCollection(definition.name, collection);
        }
        this.chaincodes.set(definition.name, new ChaincodeConnection(definition, this.channelName));
    }

    /** Checks, executes and simulates a SignedProposal; the ledger is not changed. */
    async endorse(signedProposalBytes: Uint8Array): Promise<Endorsement> {
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
        const expectedTxId = sha256(Buffer.concat([signatureHeader.getNonce_asU8(), signatureHeader.getCreator_asU8()])).toString('hex');
        if (txId !== expectedTxId) {
            throw new EndorsementFailure(`invalid txID. It must be ${expectedTxId}`, txId);
        }
        const certificatePem = Buffer.from(creator.getIdBytes_asU8()).toString('utf8');
        await this.authenticate(creator.getMspid(), certificatePem, txId);
        if (!verifySignature(certificatePem, signedProposal.getProposalBytes_asU8(), signedProposal.getSignature_asU8())) {
            throw new EndorsementFailure('access denied: the creator\'s signature over the proposal is not valid', txId);
        }
        if (this.state.committedTxIds.has(txId)) {
            throw new EndorsementFailure(`duplicate transaction found [${txId}]. Creator [${creator.getMspid()}]`, txId);
        }
        const extension = peer.ChaincodeHeaderExtension.deserializeBinary(channelHeader.getExtension_asU8());
        const chaincodeName = extension.getChaincodeId()?.getName() ?? '';
        const connection = this.chaincodes.get(chaincodeName);
        if (!connection) {
            throw new EndorsementFailure(`chaincode ${chaincodeName} not found`, txId);
        }
        const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
        const invocation = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8());
        const input = invocation.getChaincodeSpec()?.getInput();
        if (!input) {
            throw new EndorsementFailure('proposal has no chaincode input', txId);
        }
        const timestamp = channelHeader.getTimestamp();
        return this.lock.read(async () => {
            const simulator = new TxSimulator(this.state, chaincodeName, txId, creator.getMspid());
            const completed = await connection.execute(txId, input.serializeBinary(), signedProposal, simulator);
            const response = peer.Response.deserializeBinary(completed.getPayload_asU8());
            const chaincodeResponse: ChaincodeResponse = {
                status: response.getStatus(), message: response.getMessage(), payload: response.getPayload_asU8(),
            };
            if (chaincodeResponse.status >= 400) {
                throw new EndorsementFailure(`chaincode response ${chaincodeResponse.status}, ${chaincodeResponse.message}`, txId, chaincodeResponse.status);
            }
            const event = completed.getChaincodeEvent();
            return {
                transactionId: txId,
                channelName: this.channelName,
                chaincodeName,
                creatorMspId: creator.getMspid(),
                timestamp: { seconds: timestamp?.getSeconds() ?? 0, nanos: timestamp?.getNanos() ?? 0 },
                response: chaincodeResponse,
                readWriteSet: readWriteSetBytes(simulator.simulation),
                event: event && event.getEventName() !== '' ? { eventName: event.getEventName(), payload: event.getPayload_asU8() } : null,
                simulation: simulator.simulation,
            };
        });
    }

    /** Orders the endorsed transaction into the next block, validates it and commits it if valid. */
    async submit(endorsement: Endorsement): Promise<CommitStatus> {
        return this.lock.write(() => this.commitBlock(endorsement));
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

    private validate(endorsement: Endorsement): number {
        const { simulation } = endorsement;
        if (this.state.committedTxIds.has(endorsement.transactionId)) {
            return TxValidationCode.DUPLICATE_TXID;
        }
        const store = this.state.namespace(simulation.namespace);
        for (const [key, version] of simulation.reads) {
            if (!sameVersion(store.get(key)?.version ?? null, version)) {
                return TxValidationCode.MVCC_READ_CONFLICT;
            }
        }
        for (const range of simulation.rangeReads) {
            const now = store.range(range.startKey, range.endKey);
            if (now.length !== range.reads.length
                || now.some((entry, i) => entry.key !== range.reads[i].key || !sameVersion(entry.version, range.reads[i].version))) {
                return TxValidationCode.PHANTOM_READ_CONFLICT;
            }
        }
        for (const [collection, reads] of simulation.hashedReads) {
            const hashes = this.state.collection(simulation.namespace, collection)?.hashes;
            for (const [keyHash, version] of reads) {
                if (!sameVersion(hashes?.get(keyHash)?.version ?? null, version)) {
                    return TxValidationCode.MVCC_READ_CONFLICT;
                }
            }
        }
        return TxValidationCode.VALID;
    }

    private commitBlock(endorsement: Endorsement): CommitStatus {
        const blockNum = this.state.height;
        const code = this.validate(endorsement);
        const status: CommitStatus = {
            transactionId: endorsement.transactionId, blockNumber: BigInt(blockNum), code, successful: code === TxValidationCode.VALID,
        };
        this.state.height += 1;
        if (code === TxValidationCode.DUPLICATE_TXID) {
            return status;
        }
        this.state.committedTxIds.add(endorsement.transactionId);
        if (!status.successful) {
            return status;
        }
        const { simulation, timestamp } = endorsement;
        const version = { blockNum, txNum: 0 };
        const store = this.state.namespace(simulation.namespace);
        store.applyWrites([...simulation.writes].map(([key, write]) => [key, write.value] as [string, Buffer | null]), version);
        for (const [key, write] of simulation.writes) {
            this.state.appendHistory(simulation.namespace, key, {
                txId: endorsement.transactionId, seconds: timestamp.seconds, nanos: timestamp.nanos,
                value: write.value ?? Buffer.alloc(0), isDelete: write.value === null,
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
                const keyHash = sha256(key).toString('hex');
                if (write.value === null) {
                    collection.values.delete(key);
                    collection.hashes.delete(keyHash);
                } else {
                    collection.values.set(key, { value: write.value, version, committedBlock: blockNum });
                    collection.hashes.set(keyHash, { value: sha256(write.value), version });
                }
            }
        }
        for (const collection of this.state.collections.values()) {
            collection.expire(blockNum);
        }
        if (endorsement.event) {
            const event: ChaincodeEventRecord = {
                blockNumber: BigInt(blockNum), transactionId: endorsement.transactionId, chaincodeName: simulation.namespace,
                eventName: endorsement.event.eventName, payload: endorsement.event.payload,
            };
            this.eventLog.push(event);
            for (const listener of this.eventListeners) {
                listener(event);
            }
        }
        return status;
    }
}
