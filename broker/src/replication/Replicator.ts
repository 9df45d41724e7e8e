// Replication within a network partition (docs/network.md §13, docs/protocol.md §10), among
// operators who do not trust each other:
// - every broker keeps one authenticated link to each other assignee of the partitions it serves
//   (a WebSocket sign-in with its operator key; the peer checks the address against the
//   coordinator's assignment);
// - an event a publisher gives this broker is forwarded over those links once it is in the log; the
//   publisher's acknowledgement waits for the local fdatasync and for w - 1 replicas (replication.acks);
// - catch-up: at start, when a link to a peer (re)opens, and when a chain shows a hole, the broker
//   pulls from its peers what it lacks (pages of verified frames, resumable by the peer's log
//   position), and answers resends of a partition only once that is done (or says what is missing).

import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { BrokerError, ErrorCodes } from "../errors";
import { BrokerClient, type BrokerReply } from "../client/BrokerClient";
import type { PartitionAssignmentSource } from "../network/PartitionAssignment";
import type { Hole } from "../storage/PartitionLog";
import type { GapNotice } from "@datamarket/protocol";
import type { SignedEvent } from "../wire";
import type { EventStore } from "../storage/EventStore";

/** How many replicas must hold an event before its publisher is acknowledged. */
export type AcksPolicy = "majority" | "all" | number;

export type { GapNotice };

/** What the Replicator needs from the node (BrokerNode implements it). */
export interface ReplicaNode {
  /** Verifies and stores frames another replica holds (catch-up); returns how many were new. */
  ingestReplica(frames: Buffer[], networkPartition: number): Promise<number>;
  readonly store: EventStore;
}

export interface ReplicatorOptions {
  /** This broker's operator address (lowercase) and key (signs in to peers). */
  self: string;
  operatorKey: Buffer;
  assignment: PartitionAssignmentSource;
  dataDir: string;
  acks: AcksPolicy;
  /** How long a publish waits for its replicas' acknowledgements (ms). */
  ackTimeoutMs: number;
  /** How long a resend waits for the partition's catch-up before answering with a gap notice (ms). */
  catchUpWaitMs: number;
  /** Catch-up starts this long before the last moment a peer was heard (ms): the clock-skew bound plus a margin. */
  lookbackMs: number;
  /** Events per catch-up page. */
  pageEvents: number;
  logger?: Logger;
  /** Opens a link (tests replace it). */
  connect?: (url: string) => Promise<BrokerClient>;
}

interface PersistedState {
  /** Per peer: the last time its link to this broker was open (ms). */
  lastHeard: Record<string, number>;
  /** The last time this broker was running (ms), and the partitions it served then. */
  aliveAt: number;
  served: number[];
}

class PeerLink {
  client?: BrokerClient;
  private connecting = false;
  private retryMs = 50;
  private timer?: NodeJS.Timeout;
  closed = false;

  constructor(
    readonly address: string,
    public url: string,
    private readonly replicator: Replicator,
  ) {}

  get ready(): boolean {
    return !!this.client?.open;
  }

  ensure(): void {
    if (this.closed || this.connecting || this.ready || this.timer) return;
    this.connecting = true;
    void this.open().finally(() => (this.connecting = false));
  }

  private async open(): Promise<void> {
    try {
      const client = await this.replicator.connectTo(this.url);
      await client.signIn(this.replicator.options.operatorKey, { uri: this.url });
      if (this.closed) {
        await client.close();
        return;
      }
      this.client = client;
      this.retryMs = 50;
      client.onClose = () => {
        this.client = undefined;
        this.retry();
      };
      this.replicator.onLinkUp(this);
    } catch (err) {
      this.replicator.options.logger?.debug({ err, peer: this.address }, "replication link failed");
      this.retry();
    }
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ensure();
    }, this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(1000, this.retryMs * 2);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    void this.client?.close();
    this.client = undefined;
  }
}

export class Replicator {
  private readonly links = new Map<string, PeerLink>();
  private state: PersistedState;
  private readonly stateFile: string;
  private timer?: NodeJS.Timeout;
  /** Catch-up in progress per network partition. */
  private readonly catchingUp = new Map<number, { since: number; done: Promise<void> }>();
  /** Pulls queued or running per (peer, partition), so that one trigger never runs twice at once. */
  private readonly pulls = new Map<string, Promise<void>>();
  private readonly holeFills = new Map<string, Promise<void>>();
  private readonly inbound = new Map<string, number>();
  private node?: ReplicaNode;
  private readonly startedAt = Date.now();
  private closed = false;
  /** Counters for /health, metrics and tests. */
  readonly stats = { forwarded: 0, acked: 0, pulledEvents: 0, pulls: 0, holesOpened: 0, refusedNotEnough: 0 };

  constructor(readonly options: ReplicatorOptions) {
    this.stateFile = join(options.dataDir, "replication.json");
    this.state = existsSync(this.stateFile) ? (JSON.parse(readFileSync(this.stateFile, "utf8")) as PersistedState) : { lastHeard: {}, aliveAt: 0, served: [] };
  }

  /** Starts the links and the catch-up of every served partition. */
  start(node: ReplicaNode): void {
    this.node = node;
    node.store.on("hole", ({ streamId, key, hole }) => {
      this.stats.holesOpened++;
      void this.fillHole(streamId, Number(key.split("-")[1]), hole);
    });
    const previouslyServed = new Set(this.state.served);
    for (const np of this.options.assignment.served()) {
      // A partition served before catches up from the last moment this broker ran; one newly
      // assigned from the peers' whole retention.
      this.beginCatchUp(np, previouslyServed.has(np) ? this.state.aliveAt - this.options.lookbackMs : 0);
    }
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  async connectTo(url: string): Promise<BrokerClient> {
    return (this.options.connect ?? BrokerClient.connect)(url);
  }

  /** w for a partition with R assignees. */
  required(networkPartition: number): number {
    const r = this.peersOf(networkPartition).length + 1;
    const acks = this.options.acks;
    const w = acks === "majority" ? Math.floor(r / 2) + 1 : acks === "all" ? r : acks;
    return Math.max(1, Math.min(w, r));
  }

  /** The other assignees of a partition (address, ws URL), as the coordinator says now. */
  peersOf(networkPartition: number): { address: string; ws: string }[] {
    return this.options.assignment
      .brokersOf(networkPartition)
      .filter((b) => b.address.toLowerCase() !== this.options.self)
      .map((b) => ({ address: b.address.toLowerCase(), ws: b.ws }));
  }

  /** Whether `address` is another assignee of `networkPartition` (replica-to-replica requests). */
  isPeer(address: string, networkPartition: number): boolean {
    return this.peersOf(networkPartition).some((p) => p.address === address.toLowerCase());
  }

  /** Whether `address` is another assignee of any partition this broker serves. */
  isAnyPeer(address: string): boolean {
    return this.options.assignment.served().some((np) => this.isPeer(address, np)) || this.links.has(address.toLowerCase());
  }

  /** Refuses at once (nothing stored) when fewer than w replicas can be reached. */
  checkAvailable(networkPartition: number): void {
    const w = this.required(networkPartition);
    if (w <= 1) return;
    const ready = this.peersOf(networkPartition).filter((p) => this.links.get(p.address)?.ready).length;
    if (ready + 1 < w) {
      this.stats.refusedNotEnough++;
      throw new BrokerError(ErrorCodes.NOT_ENOUGH_REPLICAS, `${ready + 1} of the partition's replicas can be reached, the acknowledgement needs ${w}`, {
        networkPartition,
        reachable: ready + 1,
        required: w,
        replicas: this.peersOf(networkPartition).length + 1,
      });
    }
  }

  /**
   * Forwards an event this broker stored for its publisher to the partition's other replicas;
   * resolves once w - 1 of them hold it durably. A replica that refuses or cannot be reached does
   * not count; NOT_ENOUGH_REPLICAS when w - 1 acknowledgements cannot come (the event stays stored
   * here and reaches the others by catch-up; the publisher may republish it, idempotently).
   */
  forward(networkPartition: number, event: SignedEvent): Promise<void> {
    const peers = this.peersOf(networkPartition);
    const needed = this.required(networkPartition) - 1;
    const sends: Promise<BrokerReply>[] = [];
    for (const p of peers) {
      const link = this.links.get(p.address);
      if (!link?.ready) continue;
      sends.push(link.client!.replicate(event.frame));
    }
    this.stats.forwarded += sends.length;
    if (needed <= 0) {
      for (const s of sends) s.catch(() => undefined);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let acked = 0;
      let failed = 0;
      const refusals: string[] = [];
      const timer = setTimeout(
        () =>
          finish(
            new BrokerError(ErrorCodes.NOT_ENOUGH_REPLICAS, `${acked} of ${needed} replica acknowledgements within ${this.options.ackTimeoutMs} ms`, {
              networkPartition,
              acked,
              required: needed + 1,
              timeoutMs: this.options.ackTimeoutMs,
            }),
          ),
        this.options.ackTimeoutMs,
      );
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      if (sends.length < needed)
        finish(
          new BrokerError(
            ErrorCodes.NOT_ENOUGH_REPLICAS,
            `${sends.length + 1} of the partition's replicas can be reached, the acknowledgement needs ${needed + 1}`,
            { networkPartition, reachable: sends.length + 1, required: needed + 1 },
          ),
        );
      for (const s of sends) {
        s.then(
          () => {
            acked++;
            this.stats.acked++;
            if (acked >= needed) finish();
          },
          (err: Error & { code?: string }) => {
            failed++;
            refusals.push(err.code ?? err.message);
            if (sends.length - failed < needed)
              finish(
                new BrokerError(ErrorCodes.NOT_ENOUGH_REPLICAS, `${acked} replica acknowledgements, ${needed} needed: ${refusals.join(", ")}`, {
                  networkPartition,
                  acked,
                  required: needed + 1,
                  refusals,
                }),
              );
          },
        );
      }
    });
  }

  /**
   * Before a resend of a stream partition: waits (bounded) for the partition's catch-up and for
   * the fill of holes in the range, then returns what is still missing in [from, to].
   */
  async settle(networkPartition: number, streamId: string, streamPartition: number, from: number, to: number, publisher?: string): Promise<GapNotice[]> {
    const deadline = Date.now() + this.options.catchUpWaitMs;
    const catching = this.catchingUp.get(networkPartition);
    if (catching) await Promise.race([catching.done, sleep(deadline - Date.now())]);
    const overlapping = () =>
      (this.node?.store.holesOf(streamId, streamPartition, publisher) ?? []).filter((h) => h.beforeTimestamp >= from && h.afterTimestamp <= to);
    const fills = [...this.holeFills.entries()].filter(([k]) => k.startsWith(`${streamId}|${streamPartition}|`)).map(([, p]) => p);
    if (overlapping().length > 0 && fills.length > 0) await Promise.race([Promise.all(fills), sleep(Math.max(0, deadline - Date.now()))]);
    const gaps: GapNotice[] = overlapping().map((h) => ({
      reason: "MISSING_EVENTS",
      publisher: h.publisher,
      fromSequence: h.afterSequence,
      toSequence: h.beforeSequence,
      fromTimestamp: h.afterTimestamp,
      toTimestamp: h.beforeTimestamp,
    }));
    const still = this.catchingUp.get(networkPartition);
    if (still && still.since <= to) gaps.push({ reason: "CATCHING_UP", fromTimestamp: Math.max(from, still.since), toTimestamp: to });
    return gaps;
  }

  /** Fetches the events of a publisher chain in [from, to] from every reachable peer (a continuation this broker lacks). */
  async fetchChain(networkPartition: number, streamId: string, streamPartition: number, publisher: string, from: number, to: number): Promise<void> {
    const peers = this.peersOf(networkPartition)
      .map((p) => this.links.get(p.address))
      .filter((l): l is PeerLink => !!l?.ready);
    await Promise.all(peers.map((link) => this.pull(link, networkPartition, from, { streamId, streamPartition, publisher, to }).catch(() => undefined)));
  }

  /**
   * Before answering a publisher's chain-tip query: waits (bounded) for the partition's catch-up,
   * asks the reachable peers for their tip of the chain and fetches what this broker lacks of it.
   */
  async syncChain(
    networkPartition: number,
    streamId: string,
    streamPartition: number,
    publisher: string,
    local?: { sequenceNumber: number; timestamp: number },
  ): Promise<void> {
    const catching = this.catchingUp.get(networkPartition);
    if (catching) await Promise.race([catching.done, sleep(this.options.catchUpWaitMs)]);
    const peers = this.peersOf(networkPartition)
      .map((p) => this.links.get(p.address))
      .filter((l): l is PeerLink => !!l?.ready);
    const tips = await Promise.all(
      peers.map((l) =>
        Promise.race([
          l.client!.chainTip(streamId, streamPartition, publisher).then(
            (r) => r.tip as { sequenceNumber: number; timestamp: number } | null,
            () => null,
          ),
          sleep(this.options.ackTimeoutMs).then(() => null),
        ]),
      ),
    );
    let best: { sequenceNumber: number; timestamp: number } | null = null;
    for (const t of tips) if (t && (!best || t.sequenceNumber > best.sequenceNumber)) best = t;
    if (best && (!local || best.sequenceNumber > local.sequenceNumber)) {
      await this.fetchChain(
        networkPartition,
        streamId,
        streamPartition,
        publisher,
        Math.min(local?.timestamp ?? best.timestamp, best.timestamp),
        best.timestamp,
      );
    }
  }

  /** A link from a peer to this broker opened or closed (WsServer). */
  inboundPeer(address: string, open: boolean): void {
    const a = address.toLowerCase();
    this.inbound.set(a, (this.inbound.get(a) ?? 0) + (open ? 1 : -1));
    this.state.lastHeard[a] = Date.now();
    if (open) {
      const link = this.links.get(a);
      if (link?.ready) this.pullAll(link);
    }
  }

  onLinkUp(link: PeerLink): void {
    this.options.logger?.info({ peer: link.address, url: link.url }, "replication link up");
    this.pullAll(link);
  }

  private pullAll(link: PeerLink): void {
    const heard = this.state.lastHeard[link.address];
    for (const np of this.options.assignment.served()) {
      if (!this.isPeer(link.address, np)) continue;
      const catching = this.catchingUp.get(np);
      const from = catching ? catching.since : heard !== undefined ? heard - this.options.lookbackMs : this.startedAt - this.options.lookbackMs;
      this.schedulePull(link, np, from);
    }
  }

  /** Queues a pull of partition `np` from one peer (one at a time per peer and partition). */
  private schedulePull(link: PeerLink, np: number, from: number): void {
    const key = `${link.address}|${np}`;
    const previous = this.pulls.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => this.pull(link, np, Math.max(0, from)))
      .catch((err) => this.options.logger?.warn({ err, peer: link.address, networkPartition: np }, "catch-up from a peer failed"));
    this.pulls.set(key, next);
    void next.finally(() => {
      if (this.pulls.get(key) === next) this.pulls.delete(key);
    });
  }

  /** Marks a partition as catching up from `since` until every peer reachable within the wait has been pulled. */
  private beginCatchUp(np: number, since: number): void {
    if (this.catchingUp.has(np)) return;
    // Links already up (to peers of other partitions) do not open again: pull from them now.
    for (const p of this.peersOf(np)) {
      const link = this.links.get(p.address);
      if (link?.ready) this.schedulePull(link, np, since);
    }
    const done = (async () => {
      const deadline = Date.now() + this.options.catchUpWaitMs;
      // Wait (bounded) for the links to the partition's peers, then for their pulls.
      for (;;) {
        const peers = this.peersOf(np);
        const ready = peers.filter((p) => this.links.get(p.address)?.ready);
        if (peers.length === 0 || ready.length === peers.length || Date.now() > deadline || this.closed) break;
        await sleep(20);
      }
      await sleep(0);
      await Promise.all(this.peersOf(np).map((p) => this.pulls.get(`${p.address}|${np}`) ?? Promise.resolve()));
    })();
    this.catchingUp.set(np, { since: Math.max(0, since), done });
    void done.finally(() => {
      this.catchingUp.delete(np);
      this.options.logger?.info({ networkPartition: np, since }, "catch-up done");
    });
  }

  /** Whether a partition is still catching up (health, tests). */
  catchingUpPartitions(): number[] {
    return [...this.catchingUp.keys()];
  }

  /** Pulls from one peer, page by page, everything of partition `np` with a timestamp >= from. */
  private async pull(
    link: PeerLink,
    np: number,
    from: number,
    only?: { streamId: string; streamPartition: number; publisher: string; to: number },
  ): Promise<void> {
    this.stats.pulls++;
    let cursor: { streamId: string; streamPartition: number; after: number } | null = only
      ? { streamId: only.streamId, streamPartition: only.streamPartition, after: -1 }
      : null;
    for (;;) {
      if (!link.ready || this.closed) throw new Error(`link to ${link.address} closed`);
      const reply = await link.client!.sync({
        networkPartition: np,
        fromTimestamp: from,
        toTimestamp: only?.to,
        maxEvents: this.options.pageEvents,
        cursor,
        streamId: only?.streamId,
        streamPartition: only?.streamPartition,
        publisher: only?.publisher,
      });
      if (reply.frames.length > 0) this.stats.pulledEvents += await this.node!.ingestReplica(reply.frames, np);
      const next = reply.next as typeof cursor;
      if (!next) return;
      cursor = next;
    }
  }

  private fillHole(streamId: string, streamPartition: number, hole: Hole): Promise<void> {
    const key = `${streamId}|${streamPartition}|${hole.publisher}|${hole.afterSequence}`;
    const existing = this.holeFills.get(key);
    if (existing) return existing;
    const np = this.options.assignment.networkPartitionOf(streamId, streamPartition);
    const run = (async () => {
      // Soon after it opens, the events usually come by live replication or a running catch-up.
      await sleep(50);
      const stillOpen = () =>
        (this.node?.store.holesOf(streamId, streamPartition, hole.publisher) ?? []).some(
          (h) => h.beforeSequence === hole.beforeSequence || h.afterSequence === hole.afterSequence,
        );
      for (let attempt = 0; attempt < 3 && stillOpen() && !this.closed; attempt++) {
        await this.fetchChain(np, streamId, streamPartition, hole.publisher, Math.max(0, hole.afterTimestamp - 1), hole.beforeTimestamp);
        if (stillOpen()) await sleep(200 * (attempt + 1));
      }
    })().finally(() => this.holeFills.delete(key));
    this.holeFills.set(key, run);
    return run;
  }

  private tick(): void {
    if (this.closed) return;
    const wanted = new Map<string, string>();
    for (const np of this.options.assignment.served()) for (const p of this.peersOf(np)) if (p.ws) wanted.set(p.address, p.ws);
    for (const [address, link] of this.links) {
      if (!wanted.has(address)) {
        link.close();
        this.links.delete(address);
      }
    }
    for (const [address, url] of wanted) {
      let link = this.links.get(address);
      if (link && link.url !== url) {
        link.close();
        link = undefined;
      }
      if (!link) this.links.set(address, (link = new PeerLink(address, url, this)));
      link.ensure();
    }
    // Newly assigned partitions catch up from the peers' whole retention.
    const served = this.options.assignment.served();
    const known = new Set(this.state.served);
    for (const np of served) if (!known.has(np) && this.node) this.beginCatchUp(np, 0);
    const now = Date.now();
    for (const [a, n] of this.inbound) if (n > 0) this.state.lastHeard[a] = now;
    this.state.aliveAt = now;
    this.state.served = served;
    try {
      writeFileSync(this.stateFile + ".tmp", JSON.stringify(this.state));
      renameSync(this.stateFile + ".tmp", this.stateFile);
    } catch (err) {
      this.options.logger?.warn({ err }, "could not save the replication state");
    }
  }

  /** Links and their state (for /health). */
  status(): { peers: { address: string; url: string; linked: boolean }[]; catchingUp: number[] } {
    return { peers: [...this.links.values()].map((l) => ({ address: l.address, url: l.url, linked: l.ready })), catchingUp: this.catchingUpPartitions() };
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
