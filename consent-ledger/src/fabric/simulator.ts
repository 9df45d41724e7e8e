// The peer side of the chaincode shim protocol for one transaction: answers the ChaincodeMessages the
// real fabric-shim handler sends (GET_STATE, PUT_STATE, GET_STATE_BY_RANGE, ...) from committed state
// only (no read-your-writes, as on a peer) and records the read/write set that validation checks.
import { ledger, peer } from "@hyperledger/fabric-protos";
import { Timestamp } from "google-protobuf/google/protobuf/timestamp_pb";
import { KeyVersion, RangeReadsInfo, protoKvRead, summarizeRangeReads } from "./rangequery";
import { Version, VersionedValue, WorldState, compareUtf8, sha256 } from "./worldstate";

const MsgType = peer.ChaincodeMessage.Type;
/** Results per QueryResponse batch, core.yaml `totalQueryLimit`-independent `maxResultsPerBatch` default. */
export const MAX_RESULTS_PER_BATCH = 100;
/** Peer limit on results of one range query (core.yaml ledger.state.totalQueryLimit default). */
export const TOTAL_QUERY_LIMIT = 100_000;

/**
 * A range query as the read/write set records it: the keys the peer fetched for the chaincode (all of the
 * range when the chaincode iterated to the end; else up to the last key fetched, and `endKey` is that key),
 * kept raw or as a Merkle summary (see rangequery.ts).
 */
export interface RangeRead {
  startKey: string;
  endKey: string;
  itrExhausted: boolean;
  reads: KeyVersion[];
  info: RangeReadsInfo;
}

interface Write {
  value: Buffer | null;
}

interface PrivateWrite {
  value: Buffer | null;
  purge: boolean;
}

interface OpenIterator {
  /** the results, as of the query (commits wait for running simulations, so they cannot change) */
  results: Array<() => Uint8Array>;
  position: number;
  /** the range read this iterator feeds, for a non-paginated state range query */
  range?: RangeIteration;
}

/** A state range query in progress: what the peer has fetched from the ledger for the chaincode so far. */
interface RangeIteration {
  startKey: string;
  endKey: string;
  entries: KeyVersion[];
  /** results fetched from the ledger iterator: the ones sent plus the one a peer reads ahead to set has_more */
  fetched: number;
  exhausted: boolean;
}

export class SimulationError extends Error {}

/** Read/write set of one simulated transaction, in the shape validation and commit need. */
export interface Simulation {
  namespace: string;
  reads: Map<string, Version | null>;
  rangeReads: RangeRead[];
  writes: Map<string, Write>;
  metadataWrites: Map<string, Map<string, Buffer>>;
  /** collection -> sha256(key) hex -> version read */
  hashedReads: Map<string, Map<string, Version | null>>;
  /** collection -> key -> write */
  privateWrites: Map<string, Map<string, PrivateWrite>>;
}

export class TxSimulator {
  readonly simulation: Simulation;
  private paginated = false;
  private readonly iterators = new Map<string, OpenIterator>();
  private readonly ranges: RangeIteration[] = [];
  private nextIteratorId = 0;

  constructor(
    private readonly state: WorldState,
    namespace: string,
    private readonly txId: string,
    private readonly creatorMspId: string,
  ) {
    this.simulation = {
      namespace,
      reads: new Map(),
      rangeReads: [],
      writes: new Map(),
      metadataWrites: new Map(),
      hashedReads: new Map(),
      privateWrites: new Map(),
    };
  }

  /** Closes the simulation: records every state range query as the read/write set holds it. */
  finish(): Simulation {
    this.simulation.rangeReads = this.ranges.map((range) => {
      const reads = range.entries.slice(0, range.fetched);
      return {
        startKey: range.startKey,
        // a range the chaincode left before its end is recorded up to the last key fetched
        endKey: range.exhausted || reads.length === 0 ? range.endKey : reads[reads.length - 1].key,
        itrExhausted: range.exhausted,
        reads,
        info: summarizeRangeReads(reads),
      };
    });
    return this.simulation;
  }

  /** Answers one request from the chaincode: a payload for RESPONSE, or a SimulationError for ERROR. */
  handle(type: number, payload: Uint8Array): Uint8Array {
    switch (type) {
      case MsgType.GET_STATE: {
        const request = peer.GetState.deserializeBinary(payload);
        return this.getState(request.getCollection(), request.getKey());
      }
      case MsgType.PUT_STATE: {
        const request = peer.PutState.deserializeBinary(payload);
        this.putState(request.getCollection(), request.getKey(), Buffer.from(request.getValue_asU8()));
        return new Uint8Array();
      }
      case MsgType.DEL_STATE: {
        const request = peer.DelState.deserializeBinary(payload);
        this.putState(request.getCollection(), request.getKey(), Buffer.alloc(0));
        return new Uint8Array();
      }
      case MsgType.PURGE_PRIVATE_DATA: {
        const request = peer.PurgePrivateState.deserializeBinary(payload);
        this.privateWrite(request.getCollection(), request.getKey(), null, true);
        return new Uint8Array();
      }
      case MsgType.GET_PRIVATE_DATA_HASH: {
        const request = peer.GetState.deserializeBinary(payload);
        const entry = this.hashedRead(request.getCollection(), request.getKey());
        return entry ? entry.value : new Uint8Array();
      }
      case MsgType.PUT_STATE_METADATA: {
        const request = peer.PutStateMetadata.deserializeBinary(payload);
        this.requireWritable();
        if (request.getCollection() !== "") {
          throw new SimulationError("private data key-level endorsement is not supported by the in-process ledger");
        }
        const metadata = request.getMetadata() as peer.StateMetadata;
        const entries = this.simulation.metadataWrites.get(request.getKey()) ?? new Map<string, Buffer>();
        entries.set(metadata.getMetakey(), Buffer.from(metadata.getValue_asU8()));
        this.simulation.metadataWrites.set(request.getKey(), entries);
        return new Uint8Array();
      }
      case MsgType.GET_STATE_METADATA: {
        const request = peer.GetStateMetadata.deserializeBinary(payload);
        this.recordRead(request.getKey());
        const result = new peer.StateMetadataResult();
        for (const [name, value] of [...this.state.getMetadata(this.simulation.namespace, request.getKey())].sort()) {
          const entry = new peer.StateMetadata();
          entry.setMetakey(name);
          entry.setValue(value);
          result.addEntries(entry);
        }
        return result.serializeBinary();
      }
      case MsgType.GET_STATE_BY_RANGE: {
        const request = peer.GetStateByRange.deserializeBinary(payload);
        return this.getStateByRange(request.getCollection(), request.getStartkey(), request.getEndkey(), request.getMetadata_asU8());
      }
      case MsgType.QUERY_STATE_NEXT: {
        const request = peer.QueryStateNext.deserializeBinary(payload);
        return this.nextBatch(request.getId());
      }
      case MsgType.QUERY_STATE_CLOSE: {
        const request = peer.QueryStateClose.deserializeBinary(payload);
        this.iterators.delete(request.getId());
        const response = new peer.QueryResponse();
        response.setId(request.getId());
        return response.serializeBinary();
      }
      case MsgType.GET_HISTORY_FOR_KEY: {
        const request = peer.GetHistoryForKey.deserializeBinary(payload);
        return this.getHistory(request.getKey());
      }
      case MsgType.GET_QUERY_RESULT:
        throw new SimulationError("ExecuteQuery not supported for leveldb");
      case MsgType.INVOKE_CHAINCODE:
        throw new SimulationError("chaincode-to-chaincode invocation is not supported by the in-process ledger");
      default:
        throw new SimulationError(`unexpected chaincode message type ${type}`);
    }
  }

  private recordRead(key: string): VersionedValue | undefined {
    const entry = this.state.namespace(this.simulation.namespace).get(key);
    if (!this.simulation.reads.has(key)) {
      this.simulation.reads.set(key, entry ? entry.version : null);
    }
    return entry;
  }

  private getState(collection: string, key: string): Uint8Array {
    if (collection === "") {
      // committed state only: a peer does not show a transaction its own writes
      return this.recordRead(key)?.value ?? new Uint8Array();
    }
    const privateCollection = this.requireCollection(collection);
    if (!privateCollection.config.memberMspIds.includes(this.creatorMspId)) {
      throw new SimulationError(
        `tx creator does not have read access permission on privatedata in chaincodeName:${this.simulation.namespace} collectionName: ${collection}`,
      );
    }
    this.hashedRead(collection, key);
    return privateCollection.values.get(key)?.value ?? new Uint8Array();
  }

  private hashedRead(collection: string, key: string): VersionedValue | undefined {
    const privateCollection = this.requireCollection(collection);
    const keyHash = sha256(key).toString("hex");
    const entry = privateCollection.hashes.get(keyHash);
    const reads = this.simulation.hashedReads.get(collection) ?? new Map<string, Version | null>();
    if (!reads.has(keyHash)) {
      reads.set(keyHash, entry ? entry.version : null);
    }
    this.simulation.hashedReads.set(collection, reads);
    return entry;
  }

  private requireCollection(collection: string) {
    const privateCollection = this.state.collection(this.simulation.namespace, collection);
    if (!privateCollection) {
      throw new SimulationError(`collection ${collection} not defined for chaincode ${this.simulation.namespace}`);
    }
    return privateCollection;
  }

  private requireWritable(): void {
    if (this.paginated) {
      throw new SimulationError(`txid [${this.txId}]: Transaction has already performed a paginated query. Writes are not allowed`);
    }
  }

  private putState(collection: string, key: string, value: Buffer): void {
    this.requireWritable();
    if (key === "") {
      throw new SimulationError("key must not be an empty string");
    }
    if (collection !== "") {
      this.privateWrite(collection, key, value.length === 0 ? null : value, false);
      return;
    }
    // as in Fabric's rwset builder, an empty value is a delete
    this.simulation.writes.set(key, { value: value.length === 0 ? null : value });
  }

  private privateWrite(collection: string, key: string, value: Buffer | null, purge: boolean): void {
    this.requireWritable();
    this.requireCollection(collection);
    const writes = this.simulation.privateWrites.get(collection) ?? new Map<string, PrivateWrite>();
    writes.set(key, { value, purge });
    this.simulation.privateWrites.set(collection, writes);
  }

  private getStateByRange(collection: string, startKey: string, endKey: string, metadataBytes: Uint8Array): Uint8Array {
    if (collection !== "") {
      throw new SimulationError("private data range queries are not supported by the in-process ledger");
    }
    let pageSize = 0;
    let start = startKey;
    if (metadataBytes.length > 0) {
      const metadata = peer.QueryMetadata.deserializeBinary(metadataBytes);
      pageSize = metadata.getPagesize();
      if (metadata.getBookmark() !== "") {
        start = metadata.getBookmark();
      }
      this.paginated = true;
    }
    const namespace = this.simulation.namespace;
    const all = this.state.namespace(namespace).range(start, endKey);
    if (all.length > TOTAL_QUERY_LIMIT) {
      all.length = TOTAL_QUERY_LIMIT;
    }
    const page = pageSize > 0 ? all.slice(0, pageSize) : all;
    let range: RangeIteration | undefined;
    if (pageSize === 0) {
      range = { startKey: start, endKey, entries: page.map((entry) => ({ key: entry.key, version: entry.version })), fetched: 0, exhausted: false };
      this.ranges.push(range);
    }
    const results = page.map((entry) => () => {
      const kv = new ledger.queryresult.KV();
      kv.setNamespace(namespace);
      kv.setKey(entry.key);
      kv.setValue(entry.value);
      return kv.serializeBinary();
    });
    const id = `${this.txId}-${this.nextIteratorId++}`;
    this.iterators.set(id, { results, position: 0, range });
    const response = this.batch(id);
    if (pageSize > 0) {
      const metadata = new peer.QueryResponseMetadata();
      metadata.setFetchedRecordsCount(page.length);
      metadata.setBookmark(all.length > pageSize ? all[pageSize].key : "");
      response.setMetadata(metadata.serializeBinary());
    }
    return response.serializeBinary();
  }

  private getHistory(key: string): Uint8Array {
    // newest first, as Fabric 2.x returns history
    const entries = [...this.state.history(this.simulation.namespace, key)].reverse();
    const results = entries.map((entry) => () => {
      const modification = new ledger.queryresult.KeyModification();
      modification.setTxId(entry.txId);
      modification.setValue(entry.value);
      modification.setIsDelete(entry.isDelete);
      const timestamp = new Timestamp();
      timestamp.setSeconds(entry.seconds);
      timestamp.setNanos(entry.nanos);
      modification.setTimestamp(timestamp);
      return modification.serializeBinary();
    });
    const id = `${this.txId}-${this.nextIteratorId++}`;
    this.iterators.set(id, { results, position: 0 });
    return this.batch(id).serializeBinary();
  }

  private nextBatch(id: string): Uint8Array {
    if (!this.iterators.has(id)) {
      throw new SimulationError(`query iterator not found: ${id}`);
    }
    return this.batch(id).serializeBinary();
  }

  private batch(id: string): peer.QueryResponse {
    const iterator = this.iterators.get(id) as OpenIterator;
    const slice = iterator.results.slice(iterator.position, iterator.position + MAX_RESULTS_PER_BATCH);
    iterator.position += slice.length;
    const total = iterator.results.length;
    if (iterator.range) {
      // a peer reads one result ahead of the batch it sends, to know whether there are more
      iterator.range.exhausted = iterator.position >= total;
      iterator.range.fetched = iterator.range.exhausted ? total : iterator.position + 1;
    }
    const response = new peer.QueryResponse();
    response.setId(id);
    response.setHasMore(iterator.position < total);
    response.setResultsList(
      slice.map((serialize) => {
        const result = new peer.QueryResultBytes();
        result.setResultbytes(serialize());
        return result;
      }),
    );
    return response;
  }
}

function version(v: Version | null): ledger.rwset.kvrwset.Version | undefined {
  if (v === null) {
    return undefined;
  }
  const out = new ledger.rwset.kvrwset.Version();
  out.setBlockNum(v.blockNum);
  out.setTxNum(v.txNum);
  return out;
}

/**
 * The TxReadWriteSet protobuf of a simulation, built as Fabric's rwset builder does (reads, writes
 * and metadata writes sorted by key; collections sorted by name; private data only as hashes).
 */
export function readWriteSetBytes(simulation: Simulation): Uint8Array {
  const byKey = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => compareUtf8(a, b));
  const kv = new ledger.rwset.kvrwset.KVRWSet();
  kv.setReadsList(
    byKey(simulation.reads).map(([key, v]) => {
      const read = new ledger.rwset.kvrwset.KVRead();
      read.setKey(key);
      read.setVersion(version(v));
      return read;
    }),
  );
  kv.setRangeQueriesInfoList(
    simulation.rangeReads.map((range) => {
      const info = new ledger.rwset.kvrwset.RangeQueryInfo();
      info.setStartKey(range.startKey);
      info.setEndKey(range.endKey);
      info.setItrExhausted(range.itrExhausted);
      if (range.info.merkle) {
        const summary = new ledger.rwset.kvrwset.QueryReadsMerkleSummary();
        summary.setMaxDegree(range.info.merkle.maxDegree);
        summary.setMaxLevel(range.info.merkle.maxLevel);
        summary.setMaxLevelHashesList(range.info.merkle.maxLevelHashes);
        info.setReadsMerkleHashes(summary);
      } else {
        const reads = new ledger.rwset.kvrwset.QueryReads();
        reads.setKvReadsList(range.info.raw.map(protoKvRead));
        info.setRawReads(reads);
      }
      return info;
    }),
  );
  kv.setWritesList(
    byKey(simulation.writes).map(([key, write]) => {
      const out = new ledger.rwset.kvrwset.KVWrite();
      out.setKey(key);
      out.setIsDelete(write.value === null);
      out.setValue(write.value ?? new Uint8Array());
      return out;
    }),
  );
  kv.setMetadataWritesList(
    byKey(simulation.metadataWrites).map(([key, entries]) => {
      const out = new ledger.rwset.kvrwset.KVMetadataWrite();
      out.setKey(key);
      out.setEntriesList(
        [...entries.entries()]
          .sort(([a], [b]) => compareUtf8(a, b))
          .map(([name, value]) => {
            const entry = new ledger.rwset.kvrwset.KVMetadataEntry();
            entry.setName(name);
            entry.setValue(value);
            return entry;
          }),
      );
      return out;
    }),
  );
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(simulation.namespace);
  ns.setRwset(kv.serializeBinary());
  const collections = new Set([...simulation.hashedReads.keys(), ...simulation.privateWrites.keys()]);
  for (const collection of [...collections].sort(compareUtf8)) {
    const hashed = new ledger.rwset.kvrwset.HashedRWSet();
    hashed.setHashedReadsList(
      byKey(simulation.hashedReads.get(collection) ?? new Map()).map(([keyHash, v]) => {
        const read = new ledger.rwset.kvrwset.KVReadHash();
        read.setKeyHash(Buffer.from(keyHash, "hex"));
        read.setVersion(version(v));
        return read;
      }),
    );
    const writes = [...(simulation.privateWrites.get(collection) ?? new Map<string, PrivateWrite>()).entries()]
      .map(([key, write]) => ({ keyHash: sha256(key), write }))
      .sort((a, b) => Buffer.compare(a.keyHash, b.keyHash));
    hashed.setHashedWritesList(
      writes.map(({ keyHash, write }) => {
        const out = new ledger.rwset.kvrwset.KVWriteHash();
        out.setKeyHash(keyHash);
        out.setIsDelete(write.value === null);
        out.setIsPurge(write.purge);
        out.setValueHash(write.value === null ? new Uint8Array() : sha256(write.value));
        return out;
      }),
    );
    const collectionSet = new ledger.rwset.CollectionHashedReadWriteSet();
    collectionSet.setCollectionName(collection);
    collectionSet.setHashedRwset(hashed.serializeBinary());
    ns.addCollectionHashedRwset(collectionSet);
  }
  const tx = new ledger.rwset.TxReadWriteSet();
  tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
  tx.setNsRwsetList([ns]);
  return tx.serializeBinary();
}
