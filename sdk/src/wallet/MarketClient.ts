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
   * Gas is estimated before the wallet's turn, at the latest block, for the purchase as the wallet's
   * next one there (see estimateAhead: an upper bound of its cost after the purchases in flight), and
   * the DATA the wallet holds must cover it and every purchase in flight, or it is refused before
   * anything is sent (TRANSACTION_FAILED). A purchase that fails on chain takes those signed after
   * it with it (their permit nonces are no longer next): they fail too, and the next purchase reads
   * the token's nonce again.
   *
   * Round trips: the quote, the product, the attestation (the bridges and the market's attestors,
   * read at once), the token's EIP-712 domain, the wallet's token nonce and balance and, for a wallet
   * that signs here, the fee suggestion are read together, then the estimate; the wallet's turn (see
   * PermitSequence) holds only the permit's signature and the send. A wallet that signs here (ethers' Wallet) sends the signed
   * bytes itself and gets ethers' own response without recovering its key (see sendSignedHere); any
   * other signer (a browser wallet) sends as ethers does and chooses its own fees.
   */
  async buyWithPermit(args: BuyArgs): Promise<BuyResult> {
    const token = tokenAt(this.tokenAddress, this.signer);
    // the reads a purchase needs are independent: made at once, they cost the wallet one round trip
    // to the node and one to the bridges instead of seven in a row
    const [owner, cost, product, consent, domain, held] = await Promise.all([
      this.signer.getAddress(),
      this.market.quote(args.productId, args.duration) as Promise<bigint>,
      args.maxPricePerSecond === undefined ? this.market.getProduct(args.productId) : undefined,
      args.grantId ? this.collectConsent(args.grantId, args.productId) : undefined,
      token.eip712Domain(),
      this.signer.getAddress().then((address) => heldAt(token, address)),
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
    // in the wallet's turn, which later purchases of the wallet wait for.
    const fees = signsLocally(this.signer) ? feeOverrides(this.signer.provider!) : Promise.resolve({});
    fees.catch(() => undefined);
    // The estimate, before the wallet's turn: this purchase as the wallet's next one at the latest
    // block, with a permit for the nonce the token takes there (see estimateAhead).
    const ahead = await estimateAhead(
      held,
      async (nonce) => {
        const permit = await permitOf(nonce);
        return { permit, gas: await estimateGasAt(this.signer, await buy.populateTransaction(order, maxPricePerSecond, permit), "latest") };
      },
      () => heldAt(token, owner),
    );
    const { tx, nonce } = await permits.send(async (known) => {
      const nonce = known.next ?? (await known.onChain());
      const permit = nonce === ahead.nonce ? ahead.permit : await permitOf(nonce);
      // The DATA held at the latest block must cover this purchase and the wallet's purchases still in
      // flight, which the estimate at that block did not run: read again at one block when it seems not
      // to (a purchase mined since the first read counts in both), and refused before anything is sent.
      if (held.balance < cost + known.spendingFrom(held.nonce)) {
        const at = await heldAtOneBlock(token, owner);
        const inFlight = known.spendingFrom(at.nonce);
        if (at.balance < cost + inFlight) {
          throw new SdkError(
            SdkErrorCodes.TRANSACTION_FAILED,
            `the wallet holds ${at.balance} DATA: not enough for this purchase (${cost}) and its purchases in flight (${inFlight})`,
            { balance: at.balance, cost, inFlight },
          );
        }
      }
      const gasLimit = ahead.gas + SIGNATURE_GAS_MARGIN;
      const fee = await fees;
      const provider = this.signer.provider;
      const tx = await sendWithNonce(this.signer, async (overrides): Promise<ContractTransactionResponse> => {
        if (this.signer instanceof BaseWallet && provider instanceof JsonRpcApiProvider && overrides.nonce !== undefined) {
          const call = await buy.populateTransaction(order, maxPricePerSecond, permit);
          return sendSignedHere(this.signer, provider, { ...call, ...overrides, ...fee, gasLimit, chainId: domain.chainId }, this.market.interface);
        }
        return buy(order, maxPricePerSecond, permit, { ...overrides, ...fee, gasLimit }) as Promise<ContractTransactionResponse>;
      });
      return { tx, nonce, value: cost };
    });
    let receipt: ContractTransactionReceipt | null;
    try {
      receipt = await tx.wait();
    } catch (error) {
      permits.failed(nonce);
      throw error;
    } finally {
      permits.settled(nonce);
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
  /** The value of each permit sent whose purchase is still in flight, by permit nonce. */
  private readonly inFlight = new Map<bigint, bigint>();

  constructor(
    private readonly token: BoundContract,
    private readonly owner: string,
  ) {}

  /**
   * Runs `send(known)` after every earlier one has sent its transaction. `known.next` is the nonce
   * after the last permit still in flight (undefined when none is, or when one of them failed);
   * `known.onChain()` reads the token's nonce at the latest block, on demand; `known.spendingFrom(n)`
   * is the DATA of the purchases in flight whose permit nonce is n or more (those a block at which the
   * token's nonce is n has not run). While the wallet's earlier purchases are in flight their permits
   * are the only ones this process knows of, so their count is next: the node is not asked in the turn
   * that later purchases wait for. A permit used meanwhile by another client of the wallet makes this
   * purchase fail; `failed()` then makes the next one read the token again.
   */
  send<T extends { nonce: bigint; value: bigint }>(
    send: (known: { next?: bigint; onChain: () => Promise<bigint>; spendingFrom: (nonce: bigint) => bigint }) => Promise<T>,
  ): Promise<T> {
    const run = this.tail.then(async () => {
      const onChain = () => this.token.nonces(this.owner) as Promise<bigint>;
      const next = this.inFlight.size > 0 && this.next > 0n ? this.next : undefined;
      const spendingFrom = (nonce: bigint) => [...this.inFlight].reduce((sum, [n, value]) => (n >= nonce ? sum + value : sum), 0n);
      const sent = await send({ next, onChain, spendingFrom });
      this.next = sent.nonce + 1n;
      this.inFlight.set(sent.nonce, sent.value);
      return sent;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The purchase sent by send() with permit `nonce` is mined or failed. */
  settled(nonce: bigint): void {
    this.inFlight.delete(nonce);
  }

  /** The purchase with permit `nonce` failed on chain: its nonce was not used, so none after it is next. */
  failed(nonce: bigint): void {
    if (this.next > nonce) this.next = 0n;
  }
}

/**
 * Gas added to an estimate made with another permit signature than the one sent. A signature's 64
 * bytes of r and s cost 4 gas each when zero and 16 when not (EIP-2028), so two signatures' calldata
 * differs by at most 64 x 12 = 768 gas; the market calls the permit in a try with 63/64 of the gas
 * left (EIP-150), which the margin must also cover: 768 x 64/63 = 781, rounded up.
 */
const SIGNATURE_GAS_MARGIN = 1_000n;

/** The token's nonce of `owner` and its DATA balance, at the latest block (read at once). */
async function heldAt(token: BoundContract, owner: string): Promise<{ nonce: bigint; balance: bigint }> {
  const [nonce, balance] = await Promise.all([token.nonces(owner) as Promise<bigint>, token.balanceOf(owner) as Promise<bigint>]);
  return { nonce, balance };
}

/** The same, both at one block (two reads at "latest" may straddle a block). */
async function heldAtOneBlock(token: BoundContract, owner: string): Promise<{ nonce: bigint; balance: bigint }> {
  const blockTag = await token.runner!.provider!.getBlockNumber();
  const [nonce, balance] = await Promise.all([token.nonces(owner, { blockTag }) as Promise<bigint>, token.balanceOf(owner, { blockTag }) as Promise<bigint>]);
  return { nonce, balance };
}

/**
 * A purchase's gas, estimated before the wallet's turn: at the latest block, with a permit for the
 * nonce the token takes next there. While the wallet's earlier purchases are in flight the permit it
 * will send has a later nonce, which the latest block would refuse, and only the node's pending block
 * (which holds them) could run it; but a pending estimate costs the node an execution of its whole
 * pool (anvil, 150 purchases pending: tens of ms a request), and made in the wallet's turn it holds
 * the wallet's later purchases behind it. The purchase run as the wallet's next one at the latest
 * block costs at least what it costs after the earlier ones: the market's and token's storage they
 * write first (the seller's revenue, the wallet's nonce and records) only makes it cheaper, and the
 * permit's signature is covered by SIGNATURE_GAS_MARGIN. A refusal because a block moved the nonce
 * meanwhile (the wallet's earlier purchase mined) is estimated again at the nonce now, at most three
 * times; any other refusal is the purchase's own, thrown before the turn.
 */
async function estimateAhead<P>(
  held: { nonce: bigint },
  estimateWith: (nonce: bigint) => Promise<{ permit: P; gas: bigint }>,
  reread: () => Promise<{ nonce: bigint }>,
): Promise<{ nonce: bigint; permit: P; gas: bigint }> {
  let nonce = held.nonce;
  for (let attempt = 1; ; attempt++) {
    try {
      return { nonce, ...(await estimateWith(nonce)) };
    } catch (refused) {
      const now = attempt < 3 ? (await reread()).nonce : nonce;
      if (now === nonce) throw refused;
      nonce = now;
    }
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
