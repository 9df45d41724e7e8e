// What the buyer's pages need beyond reading the chain: an ethers signer over the injected wallet (for
// the SDK's MarketClient, which does permit + buy in one signature and one transaction), the buyer's
// encryption key, and the consent bridges' progress on a grant's attestation. Only the pages that
// send transactions import this module, so Discover, Audit and My consents do not ship ethers'
// provider code.
import { BrowserProvider, JsonRpcProvider, type JsonRpcSigner } from "ethers";
import { MarketClient, StreamRegistryClient, generateKeyPair, publicKeyOf } from "@datamarket/sdk";
import type { App } from "./app";

/** An ethers signer of the connected account, over the wallet's own provider (transactions go through the wallet). */
export async function walletSigner(app: App): Promise<JsonRpcSigner> {
  const address = app.wallet.address ?? (await app.wallet.connect());
  // a local chain mines at once: poll receipts every 250 ms rather than ethers' default 4 s
  const provider = new BrowserProvider(app.wallet.eip1193(), app.config.chainId, { pollingInterval: 250, cacheTimeout: -1 });
  return provider.getSigner(address);
}

/** The market from the connected wallet, with the deployment's consent bridges for attested purchases. */
export async function marketClient(app: App): Promise<MarketClient> {
  const { DataLicenseMarket, DATAToken } = app.config.contracts;
  return new MarketClient(DataLicenseMarket, DATAToken, await walletSigner(app), { urls: app.config.bridgeUrls ?? [], timeoutMs: 5_000 });
}

let readProvider: JsonRpcProvider | undefined;
/** A read-only provider on the deployment's RPC endpoint (the SDK's registry and coordinator reads). */
export function chainProvider(app: App): JsonRpcProvider {
  readProvider ??= new JsonRpcProvider(app.config.rpcUrl, app.config.chainId, { staticNetwork: true, pollingInterval: 1_000 });
  return readProvider;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text: string) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
const keyName = (app: App, address: string) =>
  `datamarket/encryption-key/${app.config.chainId}/${app.config.contracts.StreamRegistry.toLowerCase()}/${address.toLowerCase()}`;

/**
 * The buyer's encryption key pair (secp256k1, the key the publisher's group keys are wrapped for),
 * kept in this browser's localStorage per chain, registry and account. A new one is made on the first
 * purchase and registered in the purchase's own transaction; another browser makes (and registers) its own.
 */
export function encryptionKey(app: App, address: string): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const stored = localStorage.getItem(keyName(app, address));
  if (stored && /^[0-9a-f]{64}$/.test(stored)) {
    const privateKey = unhex(stored);
    return { privateKey, publicKey: publicKeyOf(privateKey) };
  }
  const pair = generateKeyPair();
  localStorage.setItem(keyName(app, address), hex(pair.privateKey));
  return pair;
}

/** This browser's key if it is the one registered for `address` in the registry, else null. */
export async function registeredEncryptionKey(app: App, address: string): Promise<{ privateKey: Uint8Array; publicKey: Uint8Array } | null> {
  const stored = localStorage.getItem(keyName(app, address));
  if (!stored) return null;
  const mine = encryptionKey(app, address);
  const registered = await new StreamRegistryClient(app.config.contracts.StreamRegistry, chainProvider(app)).encryptionKeyOf(address);
  return registered && hex(registered) === hex(mine.publicKey) ? mine : null;
}

export interface AttestationProgress {
  /** bridges that have signed the grant's attestation */
  signed: number;
  /** bridges asked */
  bridges: number;
  /** signatures the market needs (its attestorThreshold) */
  needed: number;
}

/**
 * Polls every bridge for its signature of the grant's attestation until `needed` have signed,
 * reporting each change; the SDK checks each signature against the registered attestors when it buys.
 * Rejects after `timeoutMs` with how many signed, or when `signal` aborts.
 */
export async function awaitAttestations(
  urls: string[],
  grantId: string,
  needed: number,
  onProgress: (p: AttestationProgress) => void,
  options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<AttestationProgress> {
  const signed = new Set<string>();
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let last = -1;
  for (;;) {
    await Promise.all(
      urls
        .filter((u) => !signed.has(u))
        .map(async (url) => {
          try {
            const response = await fetch(`${url.replace(/\/+$/, "")}/v1/attestations/${grantId}`, { signal: AbortSignal.timeout(5_000) });
            if (response.ok) signed.add(url);
          } catch {
            // unreachable for now: asked again on the next round
          }
        }),
    );
    const progress = { signed: signed.size, bridges: urls.length, needed };
    if (signed.size !== last) onProgress(progress);
    last = signed.size;
    if (signed.size >= needed) return progress;
    if (options.signal?.aborted) throw new Error("stopped waiting for the bridges");
    if (Date.now() > deadline)
      throw new Error(
        `only ${signed.size} of ${urls.length} consent bridges signed the grant in ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s; ${needed} are needed`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
}
