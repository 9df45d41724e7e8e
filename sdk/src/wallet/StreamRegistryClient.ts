// Stream management from the user's wallet, through IStreamRegistry's ABI (./abi.ts), each
// transaction with an SDK-assigned nonce (./transactions.ts). A broker never holds user keys:
// creating streams, setting permissions and registering encryption keys are the user's transactions.
// Also the registry-backed StreamAccess that the DataClient uses to verify events and hand out keys.

import { assertCompressedPublicKey, streamIdOf } from "@datamarket/protocol";
import { getBytes, hexlify, type ContractRunner, type ContractTransactionReceipt, type ContractTransactionResponse } from "ethers";
import type { StreamAccess } from "../client/access";
import { SdkError, SdkErrorCodes } from "../errors";
import { streamRegistryAt, type BoundContract } from "./contracts";
import { sendWithNonce } from "./transactions";

/** Permission fields of the registry (expiries in unix seconds; valid while now < expiry). */
export interface PermissionInput {
  publishExpiry?: bigint | number;
  subscribeExpiry?: bigint | number;
  canGrant?: boolean;
  canEdit?: boolean;
  canDelete?: boolean;
  canGrantSubscribe?: boolean;
}

/** The largest uint64: "no expiry". */
export const NEVER = (1n << 64n) - 1n;

export interface StreamRegistryClientOptions {
  /**
   * Blocks a grant (a permission, a licence's subscribe right) must be under before canPublish and
   * canSubscribe count it: it must hold at the head and at head - confirmations, so a purchase that a
   * reorg shallower than this removes never made the SDK hand out a key. A revocation counts at the
   * head (0 blocks). Default 0: the head alone, as a dev node needs (docs/network.md §15).
   */
  confirmations?: number;
}

export class StreamRegistryClient implements StreamAccess {
  /** IStreamRegistry (ethers Contract over the SDK's ABI, ./abi.ts). */
  readonly registry: BoundContract;
  readonly confirmations: number;

  constructor(address: string, runner: ContractRunner, options: StreamRegistryClientOptions = {}) {
    this.registry = streamRegistryAt(address, runner);
    this.confirmations = options.confirmations ?? 0;
    if (!Number.isInteger(this.confirmations) || this.confirmations < 0)
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, `confirmations must be an integer >= 0, not ${options.confirmations}`, { field: "confirmations" });
    if (this.confirmations > 0 && !runner.provider)
      throw new SdkError(SdkErrorCodes.INVALID_ARGUMENT, "confirmations > 0 needs a runner with a provider (to read the head)", { field: "confirmations" });
  }

  /**
   * A grant at depth `confirmations`: true when `ask` holds at the head and at head - confirmations.
   * Both are read at one head number, so a reorg between the two reads cannot mix two heads.
   */
  private async atDepth(ask: (overrides: { blockTag?: number }) => Promise<boolean>): Promise<boolean> {
    if (this.confirmations === 0) return ask({});
    const head = await this.registry.runner!.provider!.getBlockNumber();
    const [now, deep] = await Promise.all([ask({ blockTag: head }), ask({ blockTag: Math.max(0, head - this.confirmations) })]);
    return now && deep;
  }

  /** The resource id of `path` created by `creator` (computed locally, as the registry does). */
  static resourceId(creator: string, path: string): string {
    return streamIdOf(creator.toLowerCase(), path);
  }

  /** Sends `method(...args)` with an SDK-assigned nonce (./transactions.ts) and waits for its receipt. */
  private async wait(method: string, ...args: unknown[]): Promise<ContractTransactionReceipt> {
    const tx = await sendWithNonce(
      this.registry.runner,
      (overrides) => this.registry.getFunction(method)(...args, overrides) as Promise<ContractTransactionResponse>,
    );
    const receipt = await tx.wait();
    if (!receipt) throw new SdkError(SdkErrorCodes.TRANSACTION_FAILED, `${method} was dropped before it was mined`, { hash: tx.hash });
    return receipt;
  }

  /** Creates a stream owned by the signer; returns its id and the receipt. */
  async createStream(path: string, partitions = 1, metadata = ""): Promise<{ streamId: string; receipt: ContractTransactionReceipt }> {
    const signer = this.registry.runner as unknown as { getAddress(): Promise<string> };
    const receipt = await this.wait("createStream", path, partitions, metadata);
    return { streamId: StreamRegistryClient.resourceId(await signer.getAddress(), path), receipt };
  }

  /** Creates a dataset whose content hash is the one encryptDataset returned. */
  async createDataset(path: string, contentHash: string, location: string, metadata = ""): Promise<{ datasetId: string; receipt: ContractTransactionReceipt }> {
    const signer = this.registry.runner as unknown as { getAddress(): Promise<string> };
    const receipt = await this.wait("createDataset", path, contentHash, location, metadata);
    return { datasetId: StreamRegistryClient.resourceId(await signer.getAddress(), path), receipt };
  }

  async setPermission(resourceId: string, user: string, p: PermissionInput): Promise<ContractTransactionReceipt> {
    return this.wait("setPermission", resourceId, user, {
      publishExpiry: p.publishExpiry ?? 0,
      subscribeExpiry: p.subscribeExpiry ?? 0,
      canGrant: p.canGrant ?? false,
      canEdit: p.canEdit ?? false,
      canDelete: p.canDelete ?? false,
      canGrantSubscribe: p.canGrantSubscribe ?? false,
    });
  }

  async setPublicAccess(resourceId: string, publicPublish: boolean, publicSubscribe: boolean): Promise<ContractTransactionReceipt> {
    return this.wait("setPublicAccess", resourceId, publicPublish, publicSubscribe);
  }

  /** Lets `delegate` (e.g. the data-license market) grant subscribe rights on the resource: needed before listing it. */
  async setSubscribeDelegate(resourceId: string, delegate: string, allowed = true): Promise<ContractTransactionReceipt> {
    return this.wait("setSubscribeDelegate", resourceId, delegate, allowed);
  }

  /** Registers the signer's 33-byte compressed encryption key (DataClient.encryptionPublicKey). */
  async registerEncryptionKey(publicKey: Uint8Array): Promise<ContractTransactionReceipt> {
    assertCompressedPublicKey(publicKey, "encryption key");
    return this.wait("registerEncryptionKey", hexlify(publicKey));
  }

  async encryptionKeyOf(user: string): Promise<Uint8Array | null> {
    const key = getBytes((await this.registry.encryptionKeyOf(user)) as string);
    return key.length === 0 ? null : key;
  }

  /** The registry's publish permission, at the client's confirmation depth. */
  canPublish(streamId: string, publisher: string): Promise<boolean> {
    return this.atDepth((o) => this.registry.canPublish(streamId, publisher, o) as Promise<boolean>);
  }

  /**
   * The registry's subscribe permission (a licence bought on the market writes one), at the client's
   * confirmation depth: DataClient hands out keys and watchAccess rekeys on this answer.
   */
  canSubscribe(streamId: string, subscriber: string): Promise<boolean> {
    return this.atDepth((o) => this.registry.canSubscribe(streamId, subscriber, o) as Promise<boolean>);
  }

  async partitionsOf(streamId: string): Promise<number> {
    return Number((await this.registry.getResource(streamId)).partitions);
  }

  /** The resource's owner (lowercase), or null when the registry has no such resource. */
  async ownerOf(resourceId: string): Promise<string | null> {
    const owner = String((await this.registry.getResource(resourceId)).owner).toLowerCase();
    return /^0x0{40}$/.test(owner) ? null : owner;
  }

  async isPublic(streamId: string): Promise<boolean> {
    return Boolean((await this.registry.getResource(streamId)).publicSubscribe);
  }

  async datasetContentHash(datasetId: string): Promise<string> {
    return this.registry.datasetContentHash(datasetId) as Promise<string>;
  }
}
