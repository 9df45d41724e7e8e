// Subscriber side of the key exchange: opens the responses addressed to it with its private
// encryption key and keeps the group keys, each checked against its id.

import { publicKeyOf } from "../crypto";
import { ProtocolError, ProtocolErrorCodes } from "../errors";
import { GroupKey } from "./groupKey";
import { decodeKeyExchangeMessage, openResponse, type SignedKeyExchangeMessage } from "./messages";

export class GroupKeyStore {
  private readonly keys = new Map<string, GroupKey>();
  readonly address: string;
  readonly publicKey: Uint8Array;

  constructor(
    address: string,
    private readonly privateKey: Uint8Array,
  ) {
    this.address = address.toLowerCase();
    this.publicKey = publicKeyOf(privateKey);
  }

  /**
   * Ingests a signed response. Returns the keys it gave this client, or [] when this client is not
   * among its recipients (e.g. after it lost access). `expectedPublisher` (if given) must have signed it.
   */
  ingest(bytes: Uint8Array, expectedPublisher?: string): GroupKey[] {
    const msg: SignedKeyExchangeMessage = decodeKeyExchangeMessage(bytes);
    if (msg.type === "error") {
      throw new ProtocolError(ProtocolErrorCodes.UNKNOWN_GROUP_KEY, `the publisher refused the key request: ${msg.message}`, {
        kxCode: msg.code,
        groupKeyIds: msg.groupKeyIds,
      });
    }
    if (msg.type !== "response") throw new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, `expected a key response, got a ${msg.type}`);
    if (expectedPublisher && msg.signer !== expectedPublisher.toLowerCase()) {
      throw new ProtocolError(ProtocolErrorCodes.INVALID_SIGNATURE, `key response signed by ${msg.signer}, expected ${expectedPublisher}`);
    }
    if (!msg.entries.some((e) => e.address === this.address)) return [];
    const keys = openResponse(msg, this.address, this.privateKey);
    for (const k of keys) this.keys.set(k.id, k);
    return keys;
  }

  has(groupKeyId: string): boolean {
    return this.keys.has(groupKeyId.toLowerCase());
  }

  get(groupKeyId: string): GroupKey {
    const key = this.keys.get(groupKeyId.toLowerCase());
    if (!key) throw new ProtocolError(ProtocolErrorCodes.UNKNOWN_GROUP_KEY, `no group key ${groupKeyId}`, { groupKeyId });
    return key;
  }

  /** Adds a key obtained another way (e.g. the publisher's own). */
  add(key: GroupKey): void {
    this.keys.set(key.id, key);
  }
}
