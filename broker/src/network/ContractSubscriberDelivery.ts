// Optional delivery of durable events to smart-contract subscribers (EventSubscriptions,
// docs/network.md §8): the broker follows Subscribed / Unsubscribed, and for each durable event of
// a subscribed stream calls deliver(subscriber, event, signature) with the operator's key when the
// bounty pays (min(bounty, balance) >= minBounty), then claims the bounties it earned.
// Deliveries run one at a time from a bounded queue (oldest dropped first, counted), and each is
// simulated before it is sent, so a replay (another broker was first) or a refusal costs no gas.

import type { Signer } from "ethers";
import type { Logger } from "pino";
import { IEventSubscriptions__factory, type IEventSubscriptions } from "@datamarket/contracts/typechain";
import type { ChainFollower, ChainLog } from "../chain/ChainFollower";
import type { BrokerNode, Delivery } from "../node/BrokerNode";
import type { SignedEvent } from "../wire";

export interface ContractSubscriberDeliveryOptions {
  operator: Signer;
  subscriptions: string;
  /** Follows Subscribed / Unsubscribed (shared with the gate, or the caller's). */
  follower: ChainFollower;
  /** Deliver only when the bounty paid is at least this (DATA wei). Default 1: never for free. */
  minBounty?: bigint;
  /** Deliveries waiting at most; beyond, the oldest are dropped. Default 10,000. */
  maxQueue?: number;
  logger?: Logger;
}

export class ContractSubscriberDelivery {
  readonly subscriptions: IEventSubscriptions;
  private readonly subscribers = new Map<string, Set<string>>();
  private readonly queue: { subscriber: string; event: SignedEvent }[] = [];
  private draining?: Promise<void>;
  private readonly idleWaiters: (() => void)[] = [];
  readonly stats = { delivered: 0, skipped: 0, dropped: 0, failed: 0, claimed: 0n };

  constructor(private readonly options: ContractSubscriberDeliveryOptions) {
    this.subscriptions = IEventSubscriptions__factory.connect(options.subscriptions, options.operator);
    options.follower.watch(options.subscriptions, this.subscriptions.interface, (logs) => this.onLogs(logs), {
      snapshot: {
        name: `contract-subscribers:${options.subscriptions.toLowerCase()}`,
        save: () => [...this.subscribers].map(([streamId, set]) => [streamId, [...set]]),
        load: (state) => {
          for (const [streamId, list] of (state ?? []) as [string, string[]][]) this.subscribers.set(streamId, new Set(list));
        },
      },
    });
  }

  /** Hooks into a node's durable events; returns the unhook. */
  attach(node: BrokerNode): () => void {
    return node.onDurableEvent((d) => this.onDurable(d));
  }

  /** The contracts subscribed to a stream, as followed from the events. */
  subscribersOf(streamId: string): string[] {
    return [...(this.subscribers.get(streamId.toLowerCase()) ?? [])];
  }

  /** Resolves once every queued delivery has been tried. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Claims the bounties credited to the operator; returns the amount. */
  async claim(): Promise<bigint> {
    const me = await this.options.operator.getAddress();
    const amount = await this.subscriptions.claimableBounties(me);
    if (amount === 0n) return 0n;
    await (await this.subscriptions.claimBounties(me)).wait();
    this.stats.claimed += amount;
    return amount;
  }

  private onLogs(logs: ChainLog[]): void {
    for (const log of logs) {
      const streamId = String(log.args.streamId).toLowerCase();
      const subscriber = String(log.args.subscriber).toLowerCase();
      if (log.name === "Subscribed") {
        let set = this.subscribers.get(streamId);
        if (!set) this.subscribers.set(streamId, (set = new Set()));
        this.options.follower.journal.recordMembership(log.blockNumber, set, subscriber);
        set.add(subscriber);
      } else if (log.name === "Unsubscribed") {
        const set = this.subscribers.get(streamId);
        if (set) this.options.follower.journal.recordMembership(log.blockNumber, set, subscriber);
        set?.delete(subscriber);
      }
    }
  }

  private onDurable(d: Delivery): void {
    const subs = this.subscribers.get(d.event.streamId);
    if (!subs || subs.size === 0) return;
    for (const subscriber of subs) {
      this.queue.push({ subscriber, event: d.event });
      if (this.queue.length > (this.options.maxQueue ?? 10_000)) {
        this.queue.shift();
        this.stats.dropped++;
      }
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      try {
        await this.deliverOne(next.subscriber, next.event);
      } catch (err) {
        this.stats.failed++;
        this.options.logger?.warn({ err, subscriber: next.subscriber, streamId: next.event.streamId }, "contract delivery failed");
      }
    }
  }

  private async deliverOne(subscriber: string, e: SignedEvent): Promise<void> {
    const sub = await this.subscriptions.subscriptionOf(subscriber, e.streamId);
    const bounty = sub.bountyPerEvent < sub.balance ? sub.bountyPerEvent : sub.balance;
    if (!sub.active || bounty < (this.options.minBounty ?? 1n)) {
      this.stats.skipped++;
      return;
    }
    const streamEvent = {
      streamId: e.streamId,
      streamPartition: e.streamPartition,
      timestamp: e.timestamp,
      sequenceNumber: e.sequenceNumber,
      previousEventHash: e.previousEventHash,
      publisher: e.publisher,
      contentType: e.contentType,
      encryptionType: e.encryptionType,
      groupKeyId: e.groupKeyId,
      content: e.content,
    };
    const signature = "0x" + e.signature.toString("hex");
    try {
      await this.subscriptions.deliver.staticCall(subscriber, streamEvent, signature);
    } catch {
      this.stats.skipped++; // delivered already, refused by the subscriber, or no publish permission now
      return;
    }
    await (await this.subscriptions.deliver(subscriber, streamEvent, signature)).wait();
    this.stats.delivered++;
  }
}
