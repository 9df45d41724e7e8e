// The consent grant follower's checkpoint: a restart resumes after the last block it applied (the
// ledger's events are not replayed from the start block), and a checkpoint whose blocks the ledger no
// longer holds as recorded (a ledger recreated, another channel's past) rewinds the grants to the
// newest block that still matches, the fork point, and applies the ledger from there.

import { expect } from "chai";
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import { ConsentGrantFollower, consentSourceOf, type ConsentChange, type ConsentSource } from "../src/access/ConsentGrantFollower";
import { FileCheckpointStore } from "../src/chain/Checkpoint";
// The bridge's ledger fixture: a consented resource sold as PRODUCT, a buyer that obtains grants.
import { ledgerFixture } from "../../bridge/test/fixtures";
import { grantIssuedEvent, tempDir, waitFor } from "./helpers";

const PRODUCT = "0x" + "44".repeat(32);
const BUYER = "0x" + "51".repeat(20);
const grantId = (n: number) => "0x" + n.toString(16).padStart(64, "0");

/** A ledger with a history the test writes (and may rewrite): events(start) replays it from `start`, then live batches. */
class HistoryLedger implements ConsentSource {
  history: ConsentLedgerEventBatch[] = [];
  opened: bigint[] = [];
  private live = new Set<(b: ConsentLedgerEventBatch) => void>();

  async events(startBlock = 0n): Promise<CloseableEvents<ConsentLedgerEventBatch>> {
    this.opened.push(startBlock);
    const queue = this.history.filter((b) => b.blockNumber >= startBlock);
    let wake: (() => void) | undefined;
    let closed = false;
    const push = (b: ConsentLedgerEventBatch) => {
      queue.push(b);
      wake?.();
    };
    this.live.add(push);
    return {
      close: () => {
        closed = true;
        this.live.delete(push);
        wake?.();
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
          if (closed) return;
          yield queue.shift()!;
        }
      },
    };
  }

  async ping(): Promise<void> {}

  append(blockNumber: number, tx: string, events: ConsentLedgerEventBatch["events"]): void {
    const batch = { blockNumber: BigInt(blockNumber), transactionId: tx, timestamp: 0, events };
    this.history.push(batch);
    for (const l of this.live) l(batch);
  }
}

const issued = (id: string) => grantIssuedEvent(id, PRODUCT, BUYER, Math.floor(Date.now() / 1000) + 3600);

const invalidated = (...ids: string[]) => ({
  type: "GrantsInvalidated" as const,
  consentId: "c1",
  grantIds: ids,
  cause: "ConsentWithdrawn" as const,
  invalidatedAt: 0,
});

describe("consent grant follower: checkpoint and fork point", function () {
  this.timeout(30_000);
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  function store(): FileCheckpointStore {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    return new FileCheckpointStore(join(dir.dir, "consent-checkpoint.json"), "fabric:consent/consent");
  }

  function follower(
    source: ConsentSource,
    checkpoint: FileCheckpointStore,
    extra: { verifyTimeoutMs?: number; now?: () => number; checkpointBlocks?: number } = {},
  ) {
    const f = new ConsentGrantFollower(source, { probeMs: 50, checkpoint, ...extra });
    cleanups.push(() => f.stop());
    return f;
  }

  it("resumes after a restart from its checkpoint on the in-process ledger: nothing applied before is read again", async () => {
    const { ledger, bridgeClient: auditor, requestGrant: request } = await ledgerFixture({ productId: PRODUCT, buyerAddress: BUYER });
    const checkpoint = store();
    const now = () => ledger.clock.now();
    const first = await request();

    const opened: bigint[] = [];
    const source = consentSourceOf(auditor);
    const counting: ConsentSource = { ping: () => source.ping(), events: (start) => (opened.push(start ?? 0n), source.events(start)) };
    const a = follower(counting, checkpoint, { now });
    await a.start();
    await waitFor(() => a.grant(first) !== undefined, 5000, "the first grant");
    expect(a.resumed).to.deep.include({ checkpoint: false, reason: "no checkpoint" });
    expect(a.applied).to.be.greaterThan(0);
    const lastBlock = a.lastBlock!;
    a.stop(); // writes the checkpoint
    expect(existsSync(checkpoint.file)).to.equal(true);

    const b = follower(counting, checkpoint, { now });
    await b.start();
    await waitFor(() => b.lastSyncedAt() > 0, 5000, "the checkpoint checked against the ledger");
    expect(b.resumed?.checkpoint).to.equal(true);
    expect(b.resumed?.reason, "the checkpoint is the ledger's").to.equal(undefined);
    expect(Number(opened[1]), "the second start reads from the checkpoint's blocks, not from block 0").to.be.greaterThan(0);
    expect(b.applied, "no batch applied before the restart is applied again").to.equal(0);
    expect(
      b.isValid(PRODUCT, BUYER, (g) => g.grantId === first.toLowerCase()),
      "the grant from the checkpoint",
    ).to.equal(true);
    expect(b.lastBlock).to.equal(lastBlock);

    // What the ledger commits after the restart is applied as usual.
    const second = await request();
    await waitFor(() => b.grant(second) !== undefined, 5000, "a grant issued after the restart");
    expect(b.applied).to.equal(1);
  });

  it("rewinds to the fork point when the ledger's blocks are not the checkpointed ones, and applies the ledger from there", async () => {
    const checkpoint = store();
    const ledger = new HistoryLedger();
    ledger.append(1, "t1", [issued(grantId(1))]);
    ledger.append(2, "t2", [issued(grantId(2))]);
    ledger.append(3, "t3", [issued(grantId(3)), invalidated(grantId(1))]);
    const a = follower(ledger, checkpoint);
    await a.start();
    await waitFor(() => a.applied === 3, 5000, "three blocks");
    a.stop();

    // Another past from block 3 on: block 3 holds another transaction, block 4 a new grant.
    const other = new HistoryLedger();
    other.history = ledger.history.slice(0, 2);
    other.append(3, "t3-other", [issued(grantId(4))]);
    const b = follower(other, checkpoint);
    const changes: ConsentChange[] = [];
    b.onChange((c) => changes.push(c));
    await b.start();
    await waitFor(() => b.grant(grantId(4)) !== undefined, 5000, "the new branch's grant");
    expect(b.resumed?.reason).to.match(/block 3 is not the checkpointed one.*rewound to block 2/);
    expect(b.grant(grantId(3)), "a grant of the removed block is gone").to.equal(undefined);
    expect(
      changes.map((c) => [c.grantId, c.cause]),
      "and access under it ends",
    ).to.deep.equal([[grantId(3), "invalidated"]]);
    expect(b.grant(grantId(1))!.invalidated, "an invalidation of the removed block is undone").to.equal(false);
    expect(b.isValid(PRODUCT, BUYER, (g) => g.grantId === grantId(2))).to.equal(true);
    expect(b.applied, "only the new branch is applied").to.equal(1);
    b.stop();

    // The checkpoint written after the rewind is the new branch's: a third start resumes without a rewind.
    const c = follower(other, checkpoint);
    await c.start();
    await waitFor(() => c.lastSyncedAt() > 0, 5000, "the checkpoint checked");
    expect(c.resumed?.checkpoint).to.equal(true);
    expect(c.resumed?.reason).to.equal(undefined);
    expect(c.applied).to.equal(0);
    expect(c.grant(grantId(4))).to.not.equal(undefined);
  });

  it("fails closed while the checkpoint is checked, and rewinds past blocks a shorter ledger does not have", async () => {
    const checkpoint = store();
    const ledger = new HistoryLedger();
    ledger.append(1, "t1", [issued(grantId(1))]);
    ledger.append(5, "t5", [issued(grantId(5))]);
    const a = follower(ledger, checkpoint);
    await a.start();
    await waitFor(() => a.applied === 2, 5000, "two blocks");
    a.stop();

    const shorter = new HistoryLedger();
    shorter.history = ledger.history.slice(0, 1);
    const b = follower(shorter, checkpoint, { verifyTimeoutMs: 300 });
    await b.start();
    expect(b.lastSyncedAt(), "not synced while block 5 is awaited").to.equal(0);
    await waitFor(() => b.lastSyncedAt() > 0, 5000, "the check to give up on block 5");
    expect(b.resumed?.reason).to.match(/has not served block 5.*rewound to block 1/);
    expect(b.grant(grantId(5))).to.equal(undefined);
    expect(b.grant(grantId(1))).to.not.equal(undefined);
    shorter.append(2, "t2", [issued(grantId(2))]);
    await waitFor(() => b.grant(grantId(2)) !== undefined, 5000, "the shorter ledger's next block");
  });

  it("leaves out of its checkpoint the grants that can never be valid again", async () => {
    const checkpoint = store();
    const ledger = new HistoryLedger();
    ledger.append(1, "t1", [issued(grantId(1))]);
    ledger.append(2, "t2", [invalidated(grantId(1))]);
    ledger.append(3, "t3", [issued(grantId(2))]);
    ledger.append(4, "t4", [issued(grantId(3)), invalidated(grantId(2))]);
    const a = follower(ledger, checkpoint, { checkpointBlocks: 2 });
    await a.start();
    await waitFor(() => a.applied === 4, 5000, "four blocks");
    a.stop();
    const saved = checkpoint.load()!;
    expect(saved.blocks.map((b) => b.number)).to.deep.equal([3, 4]);
    const kept = (saved.state.consent as { grants: { grantId: string }[] }).grants.map((g) => g.grantId);
    // Grant 1 was invalidated in block 2, under the checkpoint's blocks: no rewind can undo that.
    // Grant 2 was invalidated in block 4: a rewind to block 3 would undo it, so it is kept.
    expect(kept.sort()).to.deep.equal([grantId(2), grantId(3)]);
    const b = follower(ledger, checkpoint, { checkpointBlocks: 2 });
    await b.start();
    await waitFor(() => b.lastSyncedAt() > 0, 5000, "the checkpoint checked");
    expect(b.applied).to.equal(0);
    expect(b.grant(grantId(1))).to.equal(undefined);
    expect(b.isValid(PRODUCT, BUYER, (g) => g.grantId === grantId(3))).to.equal(true);
    expect(b.isValid(PRODUCT, BUYER, (g) => g.grantId === grantId(2))).to.equal(false);
  });
});
