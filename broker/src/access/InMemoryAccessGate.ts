// An AccessGate held in memory: for tests, and for a broker configured with static permissions.
// Every mutation that can take access away notifies the listeners, as contract events would.

import type { AccessChange, AccessGate, Licence } from "./AccessGate";

export class InMemoryAccessGate implements AccessGate {
  private readonly publishers = new Map<string, Set<string>>();
  private readonly subscribers = new Map<string, Set<string>>();
  private readonly publicStreams = new Set<string>();
  private readonly licences = new Map<string, Licence>();
  private readonly consents = new Set<string>();
  private readonly listeners = new Set<(c: AccessChange) => void>();
  private syncedAt = Date.now();
  /** When false, lastSyncedAt() stops advancing (simulates an unreachable chain). */
  reachable = true;

  private static key(a: string, b: string): string {
    return `${a.toLowerCase()}|${b.toLowerCase()}`;
  }

  grantPublish(streamId: string, address: string): this {
    this.setOf(this.publishers, streamId).add(address.toLowerCase());
    return this;
  }

  grantSubscribe(streamId: string, address: string): this {
    this.setOf(this.subscribers, streamId).add(address.toLowerCase());
    return this;
  }

  makePublic(streamId: string): this {
    this.publicStreams.add(streamId.toLowerCase());
    return this;
  }

  revokePublish(streamId: string, address: string): void {
    this.publishers.get(streamId.toLowerCase())?.delete(address.toLowerCase());
    this.emit({ streamId, address, kind: "permission" });
  }

  revokeSubscribe(streamId: string, address: string): void {
    this.subscribers.get(streamId.toLowerCase())?.delete(address.toLowerCase());
    this.emit({ streamId, address, kind: "permission" });
  }

  setLicence(streamId: string, address: string, licence: Licence): this {
    this.licences.set(InMemoryAccessGate.key(streamId, address), licence);
    return this;
  }

  endLicence(streamId: string, address: string): void {
    this.licences.delete(InMemoryAccessGate.key(streamId, address));
    this.emit({ streamId, address, kind: "licence" });
  }

  grantConsent(productId: string, address: string): this {
    this.consents.add(InMemoryAccessGate.key(productId, address));
    return this;
  }

  withdrawConsent(productId: string, address: string): void {
    this.consents.delete(InMemoryAccessGate.key(productId, address));
    this.emit({ address, kind: "consent" });
  }

  async canPublish(streamId: string, address: string): Promise<boolean> {
    return this.publishers.get(streamId.toLowerCase())?.has(address.toLowerCase()) ?? false;
  }

  async canSubscribe(streamId: string, address: string): Promise<boolean> {
    return this.publicStreams.has(streamId.toLowerCase()) || (this.subscribers.get(streamId.toLowerCase())?.has(address.toLowerCase()) ?? false);
  }

  async licenceOf(streamId: string, address: string): Promise<Licence | null> {
    return this.licences.get(InMemoryAccessGate.key(streamId, address)) ?? null;
  }

  async consentValid(productId: string, address: string): Promise<boolean> {
    return this.consents.has(InMemoryAccessGate.key(productId, address));
  }

  onChange(listener: (change: AccessChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lastSyncedAt(): number {
    if (this.reachable) this.syncedAt = Date.now();
    return this.syncedAt;
  }

  private setOf(map: Map<string, Set<string>>, streamId: string): Set<string> {
    const k = streamId.toLowerCase();
    let s = map.get(k);
    if (!s) map.set(k, (s = new Set()));
    return s;
  }

  private emit(change: AccessChange): void {
    for (const l of this.listeners) l(change);
  }
}
