// The publish cache of AccessPolicy: a permission change that names one user on one stream drops
// that user's cached decision only; a change that names no user (ownership, public access, a reorg)
// drops them all. A subscribe asks the permission and the licence at once and still decides as before.

import { expect } from "chai";
import { AccessPolicy } from "../src/access/AccessPolicy";
import { InMemoryAccessGate } from "../src/access/InMemoryAccessGate";
import type { AccessChange } from "../src/access/AccessGate";
import { ALICE, BOB, STREAM } from "./helpers";

/** An in-memory gate that counts its publish questions and lets the test emit any change. */
class CountingGate extends InMemoryAccessGate {
  asked = 0;
  override async canPublish(streamId: string, address: string): Promise<boolean> {
    this.asked += 1;
    return super.canPublish(streamId, address);
  }
  change(c: AccessChange): void {
    (this as unknown as { emit(c: AccessChange): void }).emit(c);
  }
}

describe("AccessPolicy publish cache", () => {
  const setup = () => {
    const gate = new CountingGate();
    gate.grantPublish(STREAM, ALICE);
    return { gate, policy: new AccessPolicy(gate, 60_000, 60_000) };
  };

  it("keeps a publisher's decision when another user's permission on the stream changes", async () => {
    const { gate, policy } = setup();
    await policy.checkPublish(STREAM, ALICE);
    gate.change({ streamId: STREAM, address: BOB.toLowerCase(), kind: "permission" });
    await policy.checkPublish(STREAM, ALICE);
    expect(gate.asked).to.equal(1);
  });

  it("drops the publisher's own decision at once when its permission changes (any letter case)", async () => {
    const { gate, policy } = setup();
    await policy.checkPublish(STREAM, ALICE);
    gate.revokePublish(STREAM.toUpperCase().replace("0X", "0x"), ALICE.toUpperCase().replace("0X", "0x"));
    await expectRefused(() => policy.checkPublish(STREAM, ALICE));
    expect(gate.asked).to.equal(2);
  });

  it("drops every decision on a permission change that names no user", async () => {
    const { gate, policy } = setup();
    await policy.checkPublish(STREAM, ALICE);
    gate.change({ streamId: STREAM, kind: "permission" });
    await policy.checkPublish(STREAM, ALICE);
    gate.change({ kind: "permission" });
    await policy.checkPublish(STREAM, ALICE);
    expect(gate.asked).to.equal(3);
  });
});

describe("AccessPolicy subscribe (permission and licence asked at once)", () => {
  /** A gate whose licence question fails: the chain node is gone. */
  class LicenceDown extends InMemoryAccessGate {
    override async licenceOf(): Promise<never> {
      throw new Error("node down");
    }
  }

  it("admits a permission holder whatever the licence question does", async () => {
    const gate = new LicenceDown().grantSubscribe(STREAM, BOB);
    expect(await new AccessPolicy(gate, 60_000).checkSubscribe(STREAM, BOB)).to.deep.equal({ via: "permission" });
  });

  it("fails closed when there is no permission and the licence question fails", async () => {
    let error: unknown;
    try {
      await new AccessPolicy(new LicenceDown(), 60_000).checkSubscribe(STREAM, BOB);
    } catch (e) {
      error = e;
    }
    expect((error as Error | undefined)?.message).to.equal("node down");
  });
});

async function expectRefused(call: () => Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect((error as { code?: string } | undefined)?.code).to.equal("PUBLISH_NOT_ALLOWED");
}
