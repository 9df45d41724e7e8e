// The consent grant follower on a scripted ledger: grants issued and invalidated by chaincode
// events, expiry by timer (no event), a broken event stream makes it stale at once and is reopened,
// and an unreachable ledger stops its sync clock; and on the in-process ledger, a grant issued while a
// withdrawal was being ordered.

import { expect } from "chai";
import type { CloseableEvents, ConsentLedgerEventBatch } from "@datamarket/consent-ledger";
import { ConsentGrantFollower, consentSourceOf, type ConsentChange, type ConsentSource } from "../src/access/ConsentGrantFollower";
// The bridge's ledger fixture: a consented resource sold as PRODUCT, a buyer that obtains grants.
import { ledgerFixture } from "../../bridge/test/fixtures";
import { grantIssuedEvent, sleep, waitFor } from "./helpers";

const PRODUCT = "0x" + "44".repeat(32);
const BUYER = "0x" + "51".repeat(20);

/** A ledger whose events and reachability the test scripts. */
class ScriptedLedger implements ConsentSource {
  reachable = true;
  opened: bigint[] = [];
  private push?: (b: ConsentLedgerEventBatch | Error) => void;
  async events(startBlock?: bigint): Promise<CloseableEvents<ConsentLedgerEventBatch>> {
    this.opened.push(startBlock ?? 0n);
    const queue: (ConsentLedgerEventBatch | Error)[] = [];
    let wake: (() => void) | undefined;
    this.push = (b) => {
      queue.push(b);
      wake?.();
    };
    return {
      close: () => undefined,
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length === 0) await new Promise<void>((r) => (wake = r));
          const next = queue.shift()!;
          if (next instanceof Error) throw next;
          yield next;
        }
      },
    };
  }
  async ping(): Promise<void> {
    if (!this.reachable) throw new Error("connection refused (test)");
  }
  emit(blockNumber: number, events: ConsentLedgerEventBatch["events"]): void {
    this.push!({ blockNumber: BigInt(blockNumber), transactionId: `tx${blockNumber}`, timestamp: 0, events });
  }
  breakStream(): void {
    this.push!(new Error("stream reset (test)"));
  }
}

const issued = (grantId: string, expiresAt: number) => grantIssuedEvent(grantId, PRODUCT, BUYER, expiresAt);

describe("consent grant follower", () => {
  it("holds a grant valid from GrantIssued until GrantsInvalidated, and tells its listeners", async () => {
    const ledger = new ScriptedLedger();
    const follower = new ConsentGrantFollower(ledger, { probeMs: 20 });
    const changes: ConsentChange[] = [];
    follower.onChange((c) => changes.push(c));
    await follower.start();
    const grant = "0x" + "ab".repeat(32);
    ledger.emit(1, [issued(grant, Math.floor(Date.now() / 1000) + 3600)]);
    await waitFor(() => follower.isValid(PRODUCT, BUYER), 10_000, "the grant");
    expect(follower.isValid(PRODUCT, BUYER, (g) => g.grantId === grant)).to.equal(true);
    expect(follower.isValid(PRODUCT, "0x" + "99".repeat(20))).to.equal(false);
    ledger.emit(2, [{ type: "GrantsInvalidated", consentId: "c1", grantIds: [grant], cause: "ConsentWithdrawn", invalidatedAt: 0 }]);
    await waitFor(() => changes.length === 1, 10_000, "the invalidation");
    expect(changes[0]).to.deep.equal({ productId: PRODUCT, buyer: BUYER, grantId: grant, cause: "invalidated" });
    expect(follower.isValid(PRODUCT, BUYER)).to.equal(false);
    follower.stop();
  });

  it("ends a grant at its expiresAt by timer, since expiry emits no event", async () => {
    const ledger = new ScriptedLedger();
    let now = Date.now();
    const follower = new ConsentGrantFollower(ledger, { probeMs: 20, now: () => now });
    const changes: ConsentChange[] = [];
    follower.onChange((c) => changes.push(c));
    await follower.start();
    const expiresAt = Math.floor(now / 1000) + 1;
    ledger.emit(1, [issued("0x" + "cd".repeat(32), expiresAt)]);
    await waitFor(() => follower.isValid(PRODUCT, BUYER), 10_000, "the grant");
    await waitFor(() => changes.length === 1, 10_000, "the expiry");
    now = expiresAt * 1000;
    expect(changes[0].cause).to.equal("expired");
    expect(follower.isValid(PRODUCT, BUYER)).to.equal(false);
    follower.stop();
  });

  it("is stale at once when its event stream breaks, and resumes from the last block applied", async () => {
    const ledger = new ScriptedLedger();
    const follower = new ConsentGrantFollower(ledger, { probeMs: 400 });
    await follower.start(5n);
    ledger.emit(7, [issued("0x" + "ef".repeat(32), Math.floor(Date.now() / 1000) + 3600)]);
    await waitFor(() => follower.isValid(PRODUCT, BUYER), 10_000, "the grant");
    // The ledger stops answering as the stream breaks, so that no probe can reconnect (or make the
    // follower stale) meanwhile: only the break itself can. A timed "before the next probe" raced the
    // probe's timer on a busy machine.
    ledger.reachable = false;
    ledger.breakStream();
    await waitFor(() => follower.lastSyncedAt() === 0, 5000, "the break to make it stale");
    expect(ledger.opened).to.have.length(1);
    ledger.reachable = true;
    await waitFor(() => ledger.opened.length === 2 && follower.lastSyncedAt() > 0, 5000, "the reconnection at the next probe");
    expect(ledger.opened).to.deep.equal([5n, 7n]);
    expect(follower.isValid(PRODUCT, BUYER)).to.equal(true);
    follower.stop();
  });

  it("stops advancing its sync time while the ledger does not answer", async () => {
    const ledger = new ScriptedLedger();
    const follower = new ConsentGrantFollower(ledger, { probeMs: 20 });
    await follower.start();
    ledger.reachable = false;
    await sleep(60);
    const frozen = follower.lastSyncedAt();
    await sleep(100);
    expect(follower.lastSyncedAt()).to.equal(frozen);
    ledger.reachable = true;
    await waitFor(() => follower.lastSyncedAt() > frozen, 10_000, "the sync time to advance again");
    follower.stop();
  });

  it("ends, at the withdrawal, a grant issued between the withdrawal's endorsement and its commit (in-process ledger)", async () => {
    const { ledger, custodianIdentity, bridgeClient, consentId, requestGrant } = await ledgerFixture({ productId: PRODUCT, buyerAddress: BUYER });
    const follower = new ConsentGrantFollower(consentSourceOf(bridgeClient), { probeMs: 50, now: () => ledger.clock.now() });
    const changes: ConsentChange[] = [];
    follower.onChange((c) => changes.push(c));
    await follower.start();
    try {
      const before = await requestGrant();
      const withdrawal = await ledger
        .connect(custodianIdentity)
        .getNetwork("consent")
        .getContract("consent", "consent")
        .newProposal("WithdrawConsent", { arguments: [consentId] })
        .endorse();
      const between = await requestGrant();
      await waitFor(() => follower.grant(between) !== undefined, 10_000, "the grant issued in between");
      expect(follower.isValid(PRODUCT, BUYER)).to.equal(true);
      expect((await (await withdrawal.submit()).getStatus()).successful).to.equal(true);
      await waitFor(() => !follower.isValid(PRODUCT, BUYER), 10_000, "the withdrawal's invalidation");
      expect(changes.map((c) => [c.grantId, c.cause]).sort()).to.deep.equal(
        [
          [before, "invalidated"],
          [between, "invalidated"],
        ].sort(),
      );
    } finally {
      follower.stop();
    }
  });
});
