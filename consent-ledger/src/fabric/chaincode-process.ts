// The chaincode side of the in-process ledger: what runs in a chaincode's own process on a real network
// (fabric-shim's ChaincodeMessageHandler over fabric-contract-api dispatch), fed with the serialized
// ChaincodeMessages the peer sends and answering with serialized ones. The peer runs it either in its own
// thread ("inline") or in a worker thread ("worker", see chaincode-worker.ts), as a peer runs a chaincode in
// a separate process: only bytes cross between the two, in both runtimes.
import "reflect-metadata";
import "./quiet-logs";
import { peer } from "@hyperledger/fabric-protos";
import { EventEmitter } from "node:events";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ChaincodeMessageHandler } = require("fabric-shim/lib/handler");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const ChaincodeFromContract = require("fabric-shim/lib/contract-spi/chaincodefromcontract");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { JSONSerializer } = require("fabric-contract-api");

/**
 * What a chaincode process reads from the machine it runs on: its clock and its environment. A chaincode
 * on a real peer reads the host's; in process, the peer hands its own (test-movable) clock and the
 * chaincode's environment to every contract instance that has a `configureHost(host)` method.
 */
export interface ChaincodeHost {
  /** the host's clock, milliseconds since the epoch */
  clock: () => number;
  env: Record<string, string | undefined>;
}

export interface ChaincodeProcessOptions {
  name: string;
  version: string;
  /** the chaincode module's `contracts` export */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  contracts: any[];
  host: ChaincodeHost;
  /** carries a serialized ChaincodeMessage from the chaincode to the peer */
  toPeer: (bytes: Uint8Array) => void;
}

/**
 * Sends the messages written in one turn of the event loop as one batch (posting each to the other thread
 * on its own costs a wake-up there per message), in the order written, as a gRPC stream packs writes into
 * frames: a decision exchanges some twenty messages with the chaincode, and concurrent ones interleave.
 */
export function batchedSender(post: (batch: Uint8Array[]) => void): (bytes: Uint8Array) => void {
  let batch: Uint8Array[] = [];
  const flush = () => {
    const sent = batch;
    batch = [];
    post(sent);
  };
  return (bytes) => {
    batch.push(bytes);
    if (batch.length === 1) {
      setImmediate(flush);
    }
  };
}

/**
 * Starts the chaincode: builds it from its contracts as `fabric-chaincode-node start` does, and has
 * fabric-shim's handler register with the peer. Returns the function that delivers a serialized
 * ChaincodeMessage from the peer to the chaincode.
 */
export function startChaincode(options: ChaincodeProcessOptions): (bytes: Uint8Array) => void {
  const serializers = { transaction: "jsonSerializer", serializers: { jsonSerializer: JSONSerializer } };
  const chaincode = new ChaincodeFromContract(options.contracts, serializers, {}, options.name, options.version);
  for (const { contractInstance } of Object.values(chaincode.contractImplementations as Record<string, { contractInstance?: unknown }>)) {
    const configurable = contractInstance as { configureHost?: (host: ChaincodeHost) => void } | undefined;
    if (typeof configurable?.configureHost === "function") {
      configurable.configureHost(options.host);
    }
  }
  // the gRPC stream fabric-shim's handler chats over: it writes ChaincodeMessage objects and listens for 'data'
  const stream = new (class extends EventEmitter {
    write(message: peer.ChaincodeMessage): void {
      options.toPeer(message.serializeBinary());
    }
    end(): void {
      this.removeAllListeners();
    }
  })();
  const register = new peer.ChaincodeMessage();
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(`${options.name}:${options.version}`);
  register.setType(peer.ChaincodeMessage.Type.REGISTER);
  register.setPayload(chaincodeId.serializeBinary());
  new ChaincodeMessageHandler(stream, chaincode).chat(register);
  return (bytes) => {
    stream.emit("data", peer.ChaincodeMessage.deserializeBinary(bytes));
  };
}
