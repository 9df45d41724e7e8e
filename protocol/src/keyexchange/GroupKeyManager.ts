// Publisher side of the key exchange: holds a stream's group keys, rekeys for the current set of
// authorised subscribers, and answers key requests after checking the requester's access.

import { equalBytes, hexToBytes, toHex } from "../bytes";
import { defaultRandom, type RandomSource } from "../crypto";
import { ProtocolError, ProtocolErrorCodes } from "../errors";
import type { MessageSigner } from "../signer";
import type { EciesRecipient } from "./ecies";
import { GroupKey } from "./groupKey";
import { buildResponse, decodeKeyExchangeMessage, encodeErrorBody, encodeRequestBody, KxErrorCode, signBody } from "./messages";

/** What the publisher consults before handing out a key (the stream registry and market, or a test double). */
export interface AccessOracle {
  /** True while `subscriber` may read `streamId` (subscribe permission, or valid licence and consent). */
  canSubscribe(streamId: string, subscriber: string): Promise<boolean>;
  /** The 33-byte compressed key registered for `user`, or null if none. */
  encryptionKeyOf(user: string): Promise<Uint8Array | null>;
}

export class GroupKeyManager {
  private readonly keys = new Map<string, GroupKey>();
  private current?: GroupKey;
  private readonly recipients = new Map<string, Uint8Array>();

  constructor(
    readonly streamId: string,
    private readonly signer: MessageSigner,
    readonly publisher: string,
    private readonly random: RandomSource = defaultRandom,
    private readonly now: () => number = Date.now,
  ) {
    this.streamId = streamId.toLowerCase();
    this.publisher = publisher.toLowerCase();
  }

  /** The key new events are encrypted with (created on first use). */
  currentKey(): GroupKey {
    if (!this.current) this.install(GroupKey.generate(this.streamId, this.random));
    return this.current!;
  }

  /** Addresses the current key has been (or will be) sent to. */
  recipientAddresses(): string[] {
    return [...this.recipients.keys()];
  }

  private install(key: GroupKey): void {
    this.keys.set(key.id, key);
    this.current = key;
  }

  /**
   * Announces the current key to `recipients` (added to the recipient set). Returns the signed
   * response to publish in the stream, or null if there is nobody to send it to.
   */
  async announce(recipients: readonly EciesRecipient[]): Promise<Uint8Array | null> {
    for (const r of recipients) this.recipients.set(r.address.toLowerCase(), r.publicKey);
    if (recipients.length === 0) return null;
    return buildResponse(
      { streamId: this.streamId, publisher: this.publisher, timestamp: this.now(), keys: [this.currentKey()], recipients },
      this.signer,
      this.random,
    );
  }

  /**
   * Rekey: a fresh group key becomes current and is wrapped only for `remaining` (which replaces the
   * recipient set). A removed subscriber never receives it, so it cannot read events published after.
   * Old keys are kept to answer authorised requests for history.
   */
  async rekey(remaining: readonly EciesRecipient[]): Promise<{ key: GroupKey; response: Uint8Array | null }> {
    const key = GroupKey.generate(this.streamId, this.random);
    this.install(key);
    this.recipients.clear();
    for (const r of remaining) this.recipients.set(r.address.toLowerCase(), r.publicKey);
    const response =
      remaining.length === 0
        ? null
        : await buildResponse(
            { streamId: this.streamId, publisher: this.publisher, timestamp: this.now(), keys: [key], recipients: remaining },
            this.signer,
            this.random,
          );
    return { key, response };
  }

  /**
   * Answers a signed request: the requester must currently be allowed to subscribe, its key must be
   * the registered one, and every asked key must be known; else a signed error message.
   */
  async handleRequest(requestBytes: Uint8Array, oracle: AccessOracle): Promise<Uint8Array> {
    const request = decodeKeyExchangeMessage(requestBytes);
    if (request.type !== "request") throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `expected a key request, got a ${request.type}`);
    if (request.streamId !== this.streamId || request.publisher !== this.publisher) {
      throw new ProtocolError(ProtocolErrorCodes.INVALID_ARGUMENT, "the request is for another stream or publisher", {
        streamId: request.streamId,
        publisher: request.publisher,
      });
    }
    const fail = (code: number, message: string) =>
      signBody(
        encodeErrorBody({
          requestId: request.requestId,
          streamId: this.streamId,
          publisher: this.publisher,
          subscriber: request.subscriber,
          timestamp: this.now(),
          code,
          groupKeyIds: request.groupKeyIds,
          message,
        }),
        this.signer,
      );
    if (!(await oracle.canSubscribe(this.streamId, request.subscriber)))
      return fail(KxErrorCode.NOT_AUTHORIZED, "the requester may not subscribe to this stream");
    const registered = await oracle.encryptionKeyOf(request.subscriber);
    if (!registered || registered.length === 0) return fail(KxErrorCode.NO_REGISTERED_KEY, "the requester has no registered encryption key");
    if (!equalBytes(registered, request.subscriberPublicKey)) return fail(KxErrorCode.ENCRYPTION_KEY_MISMATCH, "the request's key is not the registered one");
    const keys: GroupKey[] = [];
    for (const id of request.groupKeyIds) {
      const key = this.keys.get(id);
      if (!key) return fail(KxErrorCode.UNKNOWN_GROUP_KEY, `unknown group key ${id}`);
      keys.push(key);
    }
    return buildResponse(
      {
        requestId: request.requestId,
        streamId: this.streamId,
        publisher: this.publisher,
        timestamp: this.now(),
        keys,
        recipients: [{ address: request.subscriber, publicKey: registered }],
      },
      this.signer,
      this.random,
    );
  }
}

/** Builds a signed key request from a subscriber. */
export async function buildRequest(
  args: {
    streamId: string;
    publisher: string;
    subscriber: string;
    subscriberPublicKey: Uint8Array;
    groupKeyIds: string[];
    timestamp?: number;
    requestId?: string;
  },
  signer: MessageSigner,
  random: RandomSource = defaultRandom,
): Promise<Uint8Array> {
  return signBody(
    encodeRequestBody({
      requestId: args.requestId ?? toHex(random(16)),
      streamId: args.streamId.toLowerCase(),
      publisher: args.publisher.toLowerCase(),
      subscriber: args.subscriber.toLowerCase(),
      timestamp: args.timestamp ?? Date.now(),
      subscriberPublicKey: args.subscriberPublicKey,
      groupKeyIds: args.groupKeyIds.map((id) => toHex(hexToBytes(id, 32, "groupKeyId"))),
    }),
    signer,
  );
}
