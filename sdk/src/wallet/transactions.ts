// Sending a wallet's transactions with nonces the SDK assigns. ethers' JsonRpcProvider shares
// identical requests made within 250 ms (cacheTimeout), so two transactions sent back to back by
// one wallet both read the same "pending" count and the second fails with NONCE_EXPIRED (the
// docs/sdk.md quick start did, 3 times of 3, against `npm run node`). Here each wallet's sends are
// serialised per provider and address, the pending count is read past that cache, never below the
// last nonce this process used, and a nonce taken by someone else is retried once with a fresh count.

import { NonceManager, type ContractRunner, type Provider } from "ethers";

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
      const nonce = Math.max(await pendingNonce(provider, address), seq.next);
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
