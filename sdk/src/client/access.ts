// What the SDK asks the chain: publish permission (to verify events), subscribe access and
// registered encryption keys (to hand out group keys). The registry-backed implementation is in
// wallet/StreamRegistryAccess.ts; anything with these three calls works (e.g. the broker's InMemoryAccessGate).

export interface StreamAccess {
  /** The registry's publish permission of `publisher` on `streamId`, now. */
  canPublish(streamId: string, publisher: string): Promise<boolean>;
  /** True while `subscriber` may read `streamId` (permission, or licence and consent). */
  canSubscribe(streamId: string, subscriber: string): Promise<boolean>;
  /** The 33-byte compressed key registered for `user` in the stream registry, or null. */
  encryptionKeyOf(user: string): Promise<Uint8Array | null>;
  /** Whether anyone may subscribe (then events are not encrypted unless asked). Optional. */
  isPublic?(streamId: string): Promise<boolean>;
}

/**
 * Carries a key request to a publisher and brings back its signed answer (response or error).
 * The broker API of protocol version 1 relays no direct messages, so the channel is the
 * application's (HTTP endpoint of the publisher, a shared inbox, or in-process for tests).
 */
export interface KeyRequestChannel {
  request(publisher: string, requestBytes: Uint8Array): Promise<Uint8Array>;
}
