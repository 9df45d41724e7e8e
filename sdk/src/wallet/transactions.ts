// Sending a wallet's transactions with nonces the SDK assigns. ethers' JsonRpcProvider shares
// identical requests made within 250 ms (cacheTimeout), so two transactions sent back to back by
// one wallet both read the same "pending" count and the second fails with NONCE_EXPIRED (the
// docs/sdk.md quick start did, 3 times of 3, against `npm run node`). Here each wallet's sends are
// serialised per provider and address, the pending count is read past that cache for the first send
// (and after a refusal), later sends take the next after the last nonce this process used, and a
// nonce taken by someone else is retried once with a fresh count.

import {
  BaseWallet,
  ContractTransactionResponse,
  JsonRpcApiProvider,
  NonceManager,
  Transaction,
  TransactionResponse,
  type ContractRunner,
  type Interface,
  type Provider,
  type TransactionRequest,
} from "ethers";

interface Sequence {
  tail: Promise<unknown>;
  /** The next nonce this process may use (-1: ask the node). */
  next: number;
}

const sequences = new WeakMap<object, Map<string, Sequence>>();

/** True for a node's "this nonce is used" refusal (ethers' NONCE_EXPIRED, or the node's own words). */
export function isNonceError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; error?: { message?: unknown } } | undefined;
  if (e?.code === "NONCE_EXPIRED") return true;
  return /nonce too low|nonce has already been used|nonce is too low|already known/i.test(`${String(e?.message ?? "")} ${String(e?.error?.message ?? "")}`);
}

/** The wallet's pending transaction count, read from the node (not from ethers' 250 ms request cache). */
async function pendingNonce(provider: Provider, address: string): Promise<number> {
  const rpc = provider as Provider & { send?: (method: string, params: unknown[]) => Promise<string> };
  if (typeof rpc.send === "function") return Number(BigInt(await rpc.send("eth_getTransactionCount", [address, "pending"])));
  return provider.getTransactionCount(address, "pending");
}

/**
 * Sends one transaction of `runner` through `send(overrides)`, with `overrides.nonce` set when the
 * runner is a signer with a provider (a NonceManager keeps its own count and gets none).
 * Resolves once the node has accepted the transaction (not mined).
 */
export async function sendWithNonce<T>(runner: ContractRunner | null | undefined, send: (overrides: { nonce?: number }) => Promise<T>): Promise<T> {
  const signer = runner as (ContractRunner & { getAddress?: () => Promise<string> }) | null | undefined;
  const provider = signer?.provider;
  if (!signer || !provider || typeof signer.getAddress !== "function" || signer instanceof NonceManager) return send({});
  const address = (await signer.getAddress()).toLowerCase();
  let byAddress = sequences.get(provider);
  if (!byAddress) sequences.set(provider, (byAddress = new Map()));
  let sequence = byAddress.get(address);
  if (!sequence) byAddress.set(address, (sequence = { tail: Promise.resolve(), next: -1 }));
  const seq = sequence;
  const run = seq.tail.then(async () => {
    for (let attempt = 0; ; attempt++) {
      // After this process's first send the node is asked again only when a send was refused for its
      // nonce: the count it would give is this process's own unless another sender used the wallet,
      // which the refusal and the retry below cover, so later sends do not wait a round trip for it.
      const nonce = seq.next >= 0 ? seq.next : Math.max(await pendingNonce(provider, address), seq.next);
      try {
        const sent = await send({ nonce });
        seq.next = nonce + 1;
        return sent;
      } catch (err) {
        if (attempt > 0 || !isNonceError(err)) throw err;
        seq.next = -1; // another sender used it: ask the node again
      }
    }
  });
  seq.tail = run.catch(() => undefined);
  return run;
}

/**
 * Signs `tx` (complete: nonce, gas limit and fees set) with a wallet that signs in this process and
 * sends the signed bytes with eth_sendRawTransaction; the result is ethers' own
 * ContractTransactionResponse (its wait() as ever: the receipt with `iface`'s events parsed, ethers'
 * CALL_EXCEPTION for a reverted one), built from the transaction just signed and the wallet's
 * address. ethers' signer.sendTransaction sends the same bytes, but then builds the response by
 * recovering the sender's public key from the signature, in JavaScript, and asks the node for the
 * block number: measured in the flow bench, that was 15 % of a buyer thread's CPU
 * (docs/benchmarks.md). The response cannot tell a replacement by another transaction of the same
 * nonce (ethers' replaceableTransaction needs the block it was sent at); the SDK's senders never
 * replace one.
 */
export async function sendSignedHere(
  wallet: BaseWallet,
  provider: JsonRpcApiProvider,
  tx: TransactionRequest,
  iface: Interface,
): Promise<ContractTransactionResponse> {
  const signed = await wallet.signTransaction(await wallet.populateTransaction(tx));
  const sent = Transaction.from(signed);
  const hash = String(await provider.send("eth_sendRawTransaction", [signed]));
  const response = new TransactionResponse(
    {
      blockNumber: null,
      blockHash: null,
      hash,
      index: 0,
      type: sent.type ?? 0,
      to: sent.to,
      from: wallet.address,
      nonce: sent.nonce,
      gasLimit: sent.gasLimit,
      gasPrice: sent.gasPrice ?? sent.maxFeePerGas ?? 0n,
      maxPriorityFeePerGas: sent.maxPriorityFeePerGas,
      maxFeePerGas: sent.maxFeePerGas,
      maxFeePerBlobGas: null,
      data: sent.data,
      value: sent.value,
      chainId: sent.chainId,
      signature: sent.signature!,
      accessList: sent.accessList,
      blobVersionedHashes: null,
      authorizationList: null,
    },
    provider,
  );
  return new ContractTransactionResponse(iface, provider, response);
}
