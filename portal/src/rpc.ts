// The portal's chain reader: JSON-RPC over fetch (eth_blockNumber, eth_getLogs, eth_call) with ethers'
// ABI coder only. ethers' JsonRpcProvider and Contract would add about 75 KiB of gzip JavaScript to
// every page for features the portal does not use (ENS, polling, subscriptions, signers).
import { Interface, type InterfaceAbi, type LogDescription, type Result } from "ethers";

/** A JSON-RPC error; `data` is the revert data of a reverted eth_call when the node gives it. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export class ChainReader {
  private nextId = 1;

  constructor(readonly url: string) {}

  async request<T>(method: string, params: unknown[]): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
      });
    } catch (error) {
      throw new RpcError(`the chain's RPC endpoint ${this.url} did not answer (${(error as Error).message})`, -1);
    }
    if (!response.ok) throw new RpcError(`the chain's RPC endpoint answered HTTP ${response.status} to ${method}`, response.status);
    const body = (await response.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } };
    if (body.error) throw new RpcError(`${method}: ${body.error.message}`, body.error.code, body.error.data);
    return body.result as T;
  }

  async blockNumber(): Promise<number> {
    return Number(await this.request<string>("eth_blockNumber", []));
  }

  /** `topics` filters as eth_getLogs does (null: any value at that position). */
  getLogs(address: string[], fromBlock: number, toBlock: number | "latest", topics?: (string | null)[]): Promise<RawLog[]> {
    return this.request("eth_getLogs", [
      { address, fromBlock: hex(fromBlock), toBlock: toBlock === "latest" ? toBlock : hex(toBlock), ...(topics ? { topics } : {}) },
    ]);
  }

  /** A contract's views: `view("totalOwed")` returns the single output, or the Result when there are several. */
  contract(
    address: string,
    abi: InterfaceAbi,
  ): { view<T = unknown>(name: string, ...args: unknown[]): Promise<T>; parseLog(log: RawLog): LogDescription | null } {
    const iface = new Interface(abi);
    return {
      view: async <T>(name: string, ...args: unknown[]): Promise<T> => {
        const raw = await this.request<string>("eth_call", [{ to: address, data: iface.encodeFunctionData(name, args) }, "latest"]);
        const result: Result = iface.decodeFunctionResult(name, raw);
        return (result.length === 1 ? result[0] : result) as T;
      },
      parseLog: (log) => iface.parseLog(log),
    };
  }
}
