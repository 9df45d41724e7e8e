// Contract views read as plain eth_call requests. The calldata is encoded, and the answer decoded,
// with the contract's own ethers Interface; what is left out is the rest of an ethers Contract call:
// resolving each argument and the request again, checking the network, copying the request twice.
// That rest costs several times the CPU of the request itself (demo/bench/rpc-batch.ts), and a broker
// asks a dozen views a subscribe, most of them in the burst of subscribes that follows each block.

import { toQuantity, type FunctionFragment, type Interface, type Provider, type Result } from "ethers";

/** A block to read at: a number, or the node's latest when absent. */
export interface ReadAt {
  blockTag?: number;
}

type Send = (method: string, params: unknown[]) => Promise<unknown>;

export class ViewReader {
  private readonly fragments = new Map<string, FunctionFragment>();
  private readonly send?: Send;
  readonly address: string;

  /**
   * `views`: the functions this reader may call, resolved now, so a name the ABI lacks fails at
   * construction rather than at the first question.
   */
  constructor(
    readonly provider: Provider,
    address: string,
    readonly iface: Interface,
    views: readonly string[],
  ) {
    this.address = address.toLowerCase();
    for (const name of views) {
      const fragment = iface.getFunction(name);
      if (!fragment) throw new Error(`the ABI has no function ${name}`);
      if (!fragment.constant) throw new Error(`${name} is not a view`);
      this.fragments.set(name, fragment);
    }
    // JSON-RPC providers take the request as it goes on the wire; any other provider goes through call().
    const send = (provider as Provider & { send?: Send }).send;
    if (typeof send === "function") this.send = (method, params) => send.call(provider, method, params);
  }

  /**
   * The view's outputs at `at` (the latest block when none is named). A view that reverts rejects with
   * ethers' CALL_EXCEPTION, as a Contract call does.
   */
  async read(name: string, args: readonly unknown[], at: ReadAt = {}): Promise<Result> {
    const fragment = this.fragments.get(name);
    if (!fragment) throw new Error(`${name} is not one of this reader's views`);
    const data = this.iface.encodeFunctionData(fragment, args);
    const result = this.send
      ? ((await this.send("eth_call", [{ to: this.address, data }, at.blockTag === undefined ? "latest" : toQuantity(at.blockTag)])) as string)
      : await this.provider.call({ to: this.address, data, blockTag: at.blockTag });
    return this.iface.decodeFunctionResult(fragment, result);
  }
}
