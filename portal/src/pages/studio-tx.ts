// The seller studio's transactions: each call is first simulated with eth_call from the seller's
// address (a revert is shown, decoded, before the wallet asks for anything), then sent through the
// injected EIP-1193 wallet (eth_sendTransaction: the key never reaches the page), then followed to its
// receipt with the elapsed time in the status line. A receipt with status 0 is replayed at its block
// so that its custom error can be decoded in words too.
import { Interface, type InterfaceAbi } from "ethers";
import type { App } from "../app";
import { describeError } from "../errors";
import type { RawLog } from "../rpc";

export interface Receipt {
  transactionHash: string;
  blockNumber: string;
  status: string;
  logs: RawLog[];
}

/** A failed step: `message` is the reason in words (a decoded custom error, a refusal in the wallet…). */
export class StepError extends Error {
  constructor(
    readonly step: string,
    reason: string,
  ) {
    super(`${step} failed: ${reason}`);
    this.name = "StepError";
  }
}

const RECEIPT_POLL_MS = 250;
const RECEIPT_TIMEOUT_MS = 120_000;

export interface Transactor {
  /** Sends `name(args)` to `to` from the connected wallet and waits for its receipt; `step` names it in the status line and errors. */
  send(step: string, to: string, abi: InterfaceAbi, name: string, args: unknown[]): Promise<Receipt>;
}

export function transactor(app: App): Transactor {
  return {
    async send(step, to, abi, name, args) {
      const from = app.wallet.address;
      if (!from) throw new StepError(step, "connect a wallet first");
      if (!window.ethereum) throw new StepError(step, "no wallet found");
      const data = new Interface(abi).encodeFunctionData(name, args);
      const tx = { from, to, data };
      app.status(`${step}: checking the transaction…`);
      try {
        await app.chain.request("eth_call", [tx, "latest"]);
      } catch (error) {
        throw new StepError(step, describeError(error));
      }
      app.status(`${step}: confirm in your wallet…`);
      let hash: string;
      try {
        hash = (await window.ethereum.request({ method: "eth_sendTransaction", params: [tx] })) as string;
      } catch (error) {
        throw new StepError(step, describeError(error));
      }
      const started = Date.now();
      for (;;) {
        const receipt = await app.chain.request<Receipt | null>("eth_getTransactionReceipt", [hash]);
        if (receipt) {
          if (receipt.status === "0x1") return receipt;
          // replay at the block it failed in to learn why
          try {
            await app.chain.request("eth_call", [tx, receipt.blockNumber]);
          } catch (error) {
            throw new StepError(step, describeError(error));
          }
          throw new StepError(step, `transaction ${hash} reverted without a reason`);
        }
        const waited = Date.now() - started;
        if (waited > RECEIPT_TIMEOUT_MS) throw new StepError(step, `transaction ${hash} was not mined within ${RECEIPT_TIMEOUT_MS / 1000} s`);
        app.status(`${step}: sent ${hash.slice(0, 10)}…, waiting for a block (${Math.floor(waited / 1000)} s)`);
        await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
      }
    },
  };
}
