// Entry point of a chaincode worker thread: the chaincode's own process on a real network. It loads the
// chaincode module, starts fabric-shim's handler over it (chaincode-process.ts) and exchanges serialized
// ChaincodeMessages with the peer's thread through the worker's message port; nothing else crosses.
import { parentPort, workerData } from "node:worker_threads";
import { batchedSender, startChaincode } from "./chaincode-process";

/** What the peer hands a chaincode worker at start. */
export interface ChaincodeWorkerData {
  name: string;
  version: string;
  /** path of the module whose `contracts` export is the chaincode */
  module: string;
  env: Record<string, string | undefined>;
  /** the peer host's clock as an offset (ms, one float64) from Date.now(), in memory shared with the peer */
  clockOffset: SharedArrayBuffer;
}

const data = workerData as ChaincodeWorkerData;
const port = parentPort;
if (!port) {
  throw new Error("chaincode-worker.ts runs only as a worker thread");
}
/** What a worker posts when its chaincode fails to start (else it posts batches of ChaincodeMessages). */
export interface ChaincodeStartFailure {
  startFailed: string;
}

const offset = new Float64Array(data.clockOffset);
try {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { contracts } = require(data.module);
  const deliver = startChaincode({
    name: data.name,
    version: data.version,
    contracts,
    host: { clock: () => Date.now() + offset[0], env: data.env },
    toPeer: batchedSender((batch) => port.postMessage(batch)),
  });
  port.on("message", (batch: Uint8Array[]) => batch.forEach(deliver));
} catch (error) {
  // told to the peer as such (fabric-shim's uncaught-exception handler would only exit with code 1)
  const failure: ChaincodeStartFailure = { startFailed: (error as Error).message };
  port.postMessage(failure);
}
