// The data-license market from the user's wallet, through the ABIs of IDataLicenseMarket and
// DATAToken (./abi.ts): list a product, and buy a licence with an EIP-2612 permit in one
// transaction, with the consent attestation and its k attestor signatures collected from the
// consent bridges by @datamarket/consent-attestation (one HTTP route, one EIP-712 definition,
// shared with the bridges that sign).

import {
  BaseWallet,
  getBytes,
  isHexString,
  JsonRpcApiProvider,
  NonceManager,
  Signature,
  type ContractTransaction,
  type ContractTransactionReceipt,
  type Provider,
  type Signer,
} from "ethers";
import { BridgeClientError, ClientErrorCode, collectAttestation, type CollectedAttestation, type ConsentAttestation } from "@datamarket/consent-attestation";
import type { ContractTransactionResponse } from "ethers";
import { SdkError, SdkErrorCodes } from "../errors";
import { marketAt, tokenAt, type BoundContract } from "./contracts";
import { sendSignedHere, sendWithNonce } from "./transactions";

/** IDataLicenseMarket.ProductParams, as createProduct takes it (docs/market.md). */
export type ProductParams = Record<string, unknown>;

/** Where to reach the consent bridges (one per attestor organisation) and how long to wait for each. */
export interface ConsentBridges {
  /** Bridge base URLs, e.g. http://127.0.0.1:8701; the client asks `GET {url}/v1/attestations/{grantId}`. */
  urls: string[];
  /** Per-bridge request timeout, milliseconds (default 5,000). */
  timeoutMs?: number;
  /** Injectable fetch (default: the global fetch). */
  fetch?: typeof fetch;
}

const ZERO32 = "0x" + "00".repeat(32);
/** The attestation a product without a consent gate is bought with (the market ignores it). */
const NO_ATTESTATION: ConsentAttestation = { grantId: ZERO32, buyer: "0x" + "00".repeat(20), productId: ZERO32, purpose: ZERO32, expiresAt: 0 };

export interface BuyArgs {
  productId: string;
  /** Seconds of licence. */
  duration: number;
  /** The consent grant to buy under (products with a consent gate); its attestation comes from the bridges. */
  grantId?: string;
  /** 33-byte compressed key to register for the buyer in the same transaction (or empty). */
  encryptionKey?: Uint8Array;
  /** Highest accepted price, DATA wei per second. Default: the current price. */
  maxPricePerSecond?: bigint;
  /** Permit deadline, unix seconds. Default: now + 1 h. */
  deadline?: bigint;
}

export interface BuyResult {
  /** DATA wei paid. */
  cost: bigint;
  receipt: ContractTransactionReceipt;
  /** For a purchase under a grant: the attestation bought with, its k signers, and the bridges that did not contribute. */
  consent?: CollectedAttestation;
}

export class MarketClient {
  /** IDataLicenseMarket (ethers Contract over the SDK's ABI, ./abi.ts), decoding the token's and registry's custom errors too. */
  readonly market: BoundContract;
  private readonly bridges?: ConsentBridges;

  /**
   * @param bridges the consent bridges to collect attestations from (needed to buy under a grant):
   *   their base URLs, or the URLs with a timeout and a fetch implementation.
   */
  constructor(
    readonly marketAddress: string,
    readonly tokenAddress: string,
    private readonly signer: Signer,
    bridges?: ConsentBridges | string[],
  ) {
    this.market = marketAt(marketAddress, signer);
    this.bridges = Array.isArray(bridges) ? { urls: bridges } : bridges;
  }

  /** Sends `method(...args)` with an SDK-assigned nonce (./transactions.ts) and waits for its receipt. */
  private async wait(method: string, ...args: unknown[]): Promise<ContractTransactionReceipt> {
    const tx = await sendWithNonce(this.signer, (overrides) => this.market.getFunction(method)(...args, overrides) as Promise<ContractTransactionResponse>);
    const receipt = await tx.wait();
    if (!receipt) throw new SdkError(SdkErrorCodes.TRANSACTION_FAILED, `${method} was dropped before it was mined`, { hash: tx.hash });
    return receipt;
  }

  /** Lists a product over registry resources the signer owns; returns its id (productIdOf(seller, salt)). */
  async listProduct(salt: string, params: ProductParams): Promise<{ productId: string; receipt: ContractTransactionReceipt }> {
    const receipt = await this.wait("createProduct", salt, params);
    return { productId: String(await this.market.productIdOf(await this.signer.getAddress(), salt)), receipt };
  }

  /** The EIP-712 domain of the market (for attestations). */
  async marketDomain() {
    const { chainId } = await this.signer.provider!.getNetwork();
    return { name: "DataLicenseMarket", version: "1", chainId, verifyingContract: this.marketAddress };
  }

  /**
   * The attestation of `grantId` with k signatures of distinct registered attestors, collected from
   * the bridges (each signature recovered against the market's domain before it counts), and
   * checked to be for this buyer and product and not expired at the latest block.
   */
  async collectConsent(grantId: string, productId: string): Promise<CollectedAttestation> {
    if (!this.bridges)
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "a grantId needs consent bridges to fetch its attestation (MarketClient's fourth argument)");
    if (!isHexString(grantId, 32)) throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `grantId must be 32 bytes of 0x-hex, got "${grantId}"`, { grantId });
    // The bridges are asked at once, beside the chain reads that judge their answers (one round
    // trip, not five in a row): collectAttestation then takes each bridge's answer from here. The
    // latest block is read before the bridges answer: an expiry judged at an earlier block is judged
    // again, exactly, by the market when the purchase runs.
    const bridgeFetch = this.bridges.fetch ?? fetch;
    const asked = new Map<string, Promise<Response>>();
    for (const base of this.bridges.urls) {
      const url = `${base.replace(/\/+$/, "")}/v1/attestations/${grantId.toLowerCase()}`;
      const answer = bridgeFetch(url, { signal: AbortSignal.timeout(this.bridges.timeoutMs ?? 5_000), headers: { accept: "application/json" } });
      answer.catch(() => undefined); // read (and its failure reported) by collectAttestation below
      asked.set(url, answer);
    }
    const [owner, attestors, threshold, { chainId }, latest] = await Promise.all([
      this.signer.getAddress().then((a) => a.toLowerCase()),
      this.market.attestors(),
      this.market.attestorThreshold(),
      this.signer.provider!.getNetwork(),
      this.signer.provider!.getBlock("latest"),
    ]);
    let collected: CollectedAttestation;
    try {
      collected = await collectAttestation(grantId.toLowerCase(), {
        urls: this.bridges.urls,
        threshold: Number(threshold),
        domain: { chainId, market: this.marketAddress.toLowerCase() },
        attestors: [...attestors],
        timeoutMs: this.bridges.timeoutMs,
        fetch: (url, init) => asked.get(String(url)) ?? bridgeFetch(url, init),
      });
    } catch (error) {
      if (!(error instanceof BridgeClientError)) throw error;
      const code = error.code === ClientErrorCode.INSUFFICIENT_SIGNATURES ? SdkErrorCodes.NOT_LICENSED : SdkErrorCodes.INVALID_ARGUMENT;
      throw new SdkError(code, error.shortMessage, { grantId, threshold: Number(threshold), failures: error.failures }, { cause: error });
    }
    const attestation = collected.value;
    if (attestation.buyer !== owner || attestation.productId !== productId.toLowerCase()) {
      throw new SdkError(
        SdkErrorCodes.NOT_LICENSED,
        `the attestation of grant ${grantId} is for buyer ${attestation.buyer} and product ${attestation.productId}, not ${owner} and ${productId.toLowerCase()}`,
        { grantId, buyer: attestation.buyer, productId: attestation.productId },
      );
    }
    if (latest && attestation.expiresAt <= latest.timestamp) {
      throw new SdkError(
        SdkErrorCodes.NOT_LICENSED,
        `the attestation of grant ${grantId} expired at ${attestation.expiresAt} (latest block: ${latest.timestamp})`,
        { grantId, expiresAt: attestation.expiresAt, blockTimestamp: latest.timestamp },
      );
    }
    return collected;
  }

  /**
   * Buys (or extends) a licence in one transaction: EIP-2612 permit of the DATA token for exactly
   * the quoted cost, and, for a consent-gated product, the attestation with k attestor signatures
   * collected from the consent bridges (collectConsent).
   *
   * A wallet may have several purchases in flight at once (a buyer licensing several streams): each
   * permit takes the token nonce after the previous one's, and the transactions are sent in the same
   * order (one after the other per wallet, see PermitSequence), so they can all be mined in one block.
   * Gas is estimated at the latest block when none of the wallet's purchases is in flight, and at
   * the node's pending block (which holds them) when one is; a node whose pending block does not,
   * estimates the permit at the nonce the chain has now (the same code; the earlier purchase's first
   * writes make it an upper bound) plus a fifth. A purchase that fails on chain takes those signed
   * after it with it (their permit nonces are no longer next): they fail too, and the next purchase
   * reads the token's nonce again.
   *
   * Round trips: the quote, the product, the attestation (the bridges and the market's attestors,
   * read at once), the token's EIP-712 domain and, for a wallet that signs here, the fee suggestion
   * are read together; the wallet's turn (see PermitSequence) then holds only the permit's
   * signature, one estimate and the send. A wallet that signs here (ethers' Wallet) sends the signed
   * bytes itself and gets ethers' own response without recovering its key (see sendSignedHere); any
   * other signer (a browser wallet) sends as ethers does and chooses its own fees.
   */
  async buyWithPermit(args: BuyArgs): Promise<BuyResult> {
    const token = tokenAt(this.tokenAddress, this.signer);
    // the reads a purchase needs are independent: made at once, they cost the wallet one round trip
    // to the node and one to the bridges instead of seven in a row
    const [owner, cost, product, consent, domain] = await Promise.all([
      this.signer.getAddress(),
      this.market.quote(args.productId, args.duration) as Promise<bigint>,
      args.maxPricePerSecond === undefined ? this.market.getProduct(args.productId) : undefined,
      args.grantId ? this.collectConsent(args.grantId, args.productId) : undefined,
      token.eip712Domain(),
    ]);
    const deadline = args.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 3600);
    const permitOf = async (nonce: bigint) => {
      const signature = Signature.from(
        await this.signer.signTypedData(
          { name: domain.name, version: domain.version, chainId: domain.chainId, verifyingContract: domain.verifyingContract },
          {
            Permit: [
              { name: "owner", type: "address" },
              { name: "spender", type: "address" },
              { name: "value", type: "uint256" },
              { name: "nonce", type: "uint256" },
              { name: "deadline", type: "uint256" },
            ],
          },
          { owner, spender: this.marketAddress, value: cost, nonce, deadline },
        ),
      );
      return { value: cost, deadline, v: signature.v, r: signature.r, s: signature.s };
    };
    const order = {
      productId: args.productId,
      duration: args.duration,
      attestation: consent?.value ?? NO_ATTESTATION,
      signatures: consent?.signatures ?? "0x",
      encryptionKey: args.encryptionKey ? getBytes(args.encryptionKey) : "0x",
    };
    const maxPricePerSecond = args.maxPricePerSecond ?? (product!.pricePerSecond as bigint);
    const buy = this.market.getFunction("buyWithPermit");
    const permits = permitSequence(this.signer, this.tokenAddress, owner);
    // A wallet that signs here (not a browser wallet, which chooses its own fees) gets the node's fee
    // suggestion read now, beside the purchase's other reads, instead of in a round trip of its own
    // between the estimate and the send, while later purchases of the wallet wait their turn.
    const fees = signsLocally(this.signer) ? feeOverrides(this.signer.provider!) : Promise.resolve({});
    fees.catch(() => undefined);
    const { tx, nonce } = await permits.send(async (known) => {
      // Estimated here, not by the signer as it sends: a NonceManager counts a nonce as used even
      // when the estimate fails, and every later transaction of the wallet would then wait on a gap.
      // With no earlier purchase of the wallet in flight, the permit's nonce is read at the latest
      // block and the purchase is estimated there too; with one in flight, only the node's pending
      // block (which holds the earlier purchases) can run this permit.
      const estimate = async (p: Awaited<ReturnType<typeof permitOf>>, blockTag: "latest" | "pending") =>
        estimateGasAt(this.signer, await buy.populateTransaction(order, maxPricePerSecond, p), blockTag);
      let nonce = known.next ?? (await known.onChain());
      let permit = await permitOf(nonce);
      let gasLimit: bigint | undefined;
      try {
        gasLimit = await estimate(permit, known.next === undefined ? "latest" : "pending");
      } catch (refused) {
        // The token's nonce is read again, at most three times, while a block moves under the
        // estimate. Nothing in flight: a nonce read before the block that mined the wallet's last
        // purchase became the latest is stale; signed again at the nonce now, else a real refusal.
        // In flight: the node's pending block did not run the earlier purchases (a node whose pending
        // block lags, or anvil between blocks, holding them in neither): if they are mined this
        // permit is next at the latest block; else the permit the chain has now is estimated, an
        // upper bound of the same code (the earlier purchases' first writes), plus a fifth.
        let error = refused;
        for (let attempt = 1; gasLimit === undefined; attempt++) {
          if (attempt > 3) throw error;
          const onChain = await known.onChain();
          try {
            if (known.next === undefined) {
              if (onChain <= nonce) throw error;
              nonce = onChain;
              permit = await permitOf(nonce);
              gasLimit = await estimate(permit, "latest");
            } else {
              if (onChain > nonce) throw error;
              gasLimit = onChain === nonce ? await estimate(permit, "latest") : ((await estimate(await permitOf(onChain), "latest")) * 6n) / 5n;
            }
          } catch (again) {
            if (again === error) throw error;
            error = again;
          }
        }
      }
      const fee = await fees;
      const provider = this.signer.provider;
      const tx = await sendWithNonce(this.signer, async (overrides): Promise<ContractTransactionResponse> => {
        if (this.signer instanceof BaseWallet && provider instanceof JsonRpcApiProvider && overrides.nonce !== undefined) {
          const call = await buy.populateTransaction(order, maxPricePerSecond, permit);
          return sendSignedHere(this.signer, provider, { ...call, ...overrides, ...fee, gasLimit, chainId: domain.chainId }, this.market.interface);
        }
        return buy(order, maxPricePerSecond, permit, { ...overrides, ...fee, gasLimit }) as Promise<ContractTransactionResponse>;
      });
      return { tx, nonce };
    });
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await tx.wait();
    } catch (error) {
      permits.failed(nonce);
      throw error;
    } finally {
      permits.settled();
    }
    if (!receipt) {
      permits.failed(nonce);
      throw new SdkError(SdkErrorCodes.TRANSACTION_FAILED, `buyWithPermit was dropped before it was mined`, { hash: tx.hash });
    }
    return { cost, receipt, ...(consent ? { consent } : {}) };
  }

  hasValidLicense(account: string, resourceId: string): Promise<boolean> {
    return this.market.hasValidLicense(account, resourceId) as Promise<boolean>;
  }
}

/**
 * The EIP-2612 nonces of one wallet's permits on one token, in the order its purchases are sent.
 * Shared by every MarketClient of the wallet on the same provider (WeakMap by provider), so that
 * clients made per purchase still number their permits one after the other.
 */
class PermitSequence {
  private tail: Promise<unknown> = Promise.resolve();
  /** The nonce after the last permit sent (0: none known). */
  private next = 0n;
  private inFlight = 0;

  constructor(
    private readonly token: BoundContract,
    private readonly owner: string,
  ) {}

  /**
   * Runs `send(known)` after every earlier one has sent its transaction. `known.next` is the nonce
   * after the last permit still in flight (undefined when none is, or when one of them failed);
   * `known.onChain()` reads the token's nonce at the latest block, on demand. While the wallet's earlier
   * purchases are in flight their permits are the only ones this process knows of, so their count is
   * next: the node is not asked in the turn that later purchases wait for. A permit used meanwhile by
   * another client of the wallet makes this purchase fail; `failed()` then makes the next one read the
   * token again.
   */
  send<T extends { nonce: bigint }>(send: (known: { next?: bigint; onChain: () => Promise<bigint> }) => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      const onChain = () => this.token.nonces(this.owner) as Promise<bigint>;
      const next = this.inFlight > 0 && this.next > 0n ? this.next : undefined;
      const sent = await send({ next, onChain });
      this.next = sent.nonce + 1n;
      this.inFlight += 1;
      return sent;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A purchase sent by send() is mined or failed. */
  settled(): void {
    this.inFlight -= 1;
  }

  /** The purchase with permit `nonce` failed on chain: its nonce was not used, so none after it is next. */
  failed(nonce: bigint): void {
    if (this.next > nonce) this.next = 0n;
  }
}

/**
 * eth_estimateGas of `tx` from the signer at `blockTag`. Nodes differ in the block they estimate at
 * when none is named (geth: latest since 1.12; anvil, Hardhat's EDR, Besu, Erigon: pending), and the
 * pending block costs the node an execution of its whole transaction pool for each request (anvil
 * with 150 token transfers pending: 1.4 ms of CPU a request instead of 0.1), so the SDK names the
 * block. ethers names none; a provider that is not a JSON-RPC one estimates at its own default.
 */
async function estimateGasAt(signer: Signer, tx: ContractTransaction, blockTag: "latest" | "pending"): Promise<bigint> {
  const provider = signer.provider;
  if (!(provider instanceof JsonRpcApiProvider)) return signer.estimateGas(tx);
  const request = provider.getRpcTransaction({ ...tx, from: await signer.getAddress() });
  return BigInt(await provider.send("eth_estimateGas", [request, blockTag]));
}

/** True for a signer whose transactions are signed in this process (ethers' Wallet, or a NonceManager over one). */
function signsLocally(signer: Signer): boolean {
  const inner = signer instanceof NonceManager ? signer.signer : signer;
  return inner instanceof BaseWallet && signer.provider != null;
}

/** The node's fee suggestion as transaction overrides, exactly as ethers' signer would fill them in. */
async function feeOverrides(provider: Provider): Promise<{ maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; gasPrice?: bigint }> {
  const fee = await provider.getFeeData();
  if (fee.maxFeePerGas != null && fee.maxPriorityFeePerGas != null) return { maxFeePerGas: fee.maxFeePerGas, maxPriorityFeePerGas: fee.maxPriorityFeePerGas };
  return fee.gasPrice != null ? { gasPrice: fee.gasPrice } : {};
}

const permitSequences = new WeakMap<object, Map<string, PermitSequence>>();

function permitSequence(signer: Signer, tokenAddress: string, owner: string): PermitSequence {
  const provider = signer.provider ?? signer;
  let byKey = permitSequences.get(provider);
  if (!byKey) permitSequences.set(provider, (byKey = new Map()));
  const key = `${tokenAddress.toLowerCase()}|${owner.toLowerCase()}`;
  let sequence = byKey.get(key);
  if (!sequence) byKey.set(key, (sequence = new PermitSequence(tokenAt(tokenAddress, signer), owner)));
  return sequence;
}
