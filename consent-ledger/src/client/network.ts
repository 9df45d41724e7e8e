// The part of @hyperledger/fabric-gateway's Network / Contract that the consent client uses. Both the
// in-process ledger and a real fabric-gateway connection satisfy it structurally.

export interface TransactionOptions {
  arguments?: Array<string | Uint8Array>;
  transientData?: Record<string, string | Uint8Array>;
}

export interface ContractLike {
  submit(transactionName: string, options?: TransactionOptions): Promise<Uint8Array>;
  evaluate(transactionName: string, options?: TransactionOptions): Promise<Uint8Array>;
}

export interface ChaincodeEventLike {
  blockNumber: bigint;
  transactionId: string;
  chaincodeName: string;
  eventName: string;
  payload: Uint8Array;
}

export interface CloseableEvents<T> extends AsyncIterable<T> {
  close(): void;
}

export interface NetworkLike {
  getContract(chaincodeName: string, contractName?: string): ContractLike;
  getChaincodeEvents(chaincodeName: string, options?: { startBlock?: bigint }): Promise<CloseableEvents<ChaincodeEventLike>>;
}
