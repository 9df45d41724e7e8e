// Property tests of the registry's permission logic (fast-check, bounded runs): expiry boundaries,
// delegation cannot escalate, ownership transfer leaves no implicit rights behind, and a model-based
// test that runs random operation sequences against the contract and a plain TypeScript model.
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { StreamRegistry } from "../../typechain-types";
import { Capability, NEVER, PermissionRecord, asTuple, permission, resourceIdOf } from "../helpers/registry";

// Bounded so that the whole file stays well under a minute on a shared 2-core machine.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 50);

async function fixture() {
  const [admin, alice, bob, carol, dave] = await ethers.getSigners();
  const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
  await registry.connect(alice).createStream("/hr", 2, "");
  const id = resourceIdOf(alice.address, "/hr");
  return { registry, id, alice, bob, carol, dave, users: [alice, bob, carol, dave] };
}

/** An empty registry: the model-based test models every resource from its creation. */
async function emptyFixture() {
  const [admin, alice, bob, carol, dave] = await ethers.getSigners();
  const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
  return { registry, users: [alice, bob, carol, dave] };
}

/** Sets the timestamp of the next block and mines it, so that views are evaluated at exactly `at`. */
async function mineAt(at: bigint): Promise<void> {
  await time.setNextBlockTimestamp(at);
  await mine();
}

describe("StreamRegistry properties", function () {
  this.timeout(600_000);

  describe("expiry boundaries", function () {
    it("a permission with expiry E is valid exactly while block.timestamp < E (publish and subscribe)", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("publish" as const, "subscribe" as const),
          // E relative to the block that writes it: in the past, at it, or ahead
          fc.integer({ min: -50, max: 5_000 }),
          // the instants at which to ask, relative to E
          fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { minLength: 1, maxLength: 4 }),
          async (right, relativeExpiry, probes) => {
            const { registry, id, alice, bob } = await loadFixture(fixture);
            const writeAt = BigInt(await time.latest()) + 100n;
            const expiry = writeAt + BigInt(relativeExpiry);
            await time.setNextBlockTimestamp(writeAt);
            if (right === "publish") await registry.connect(alice).setPublishExpiry(id, bob.address, expiry);
            else await registry.connect(alice).setSubscribeExpiry(id, bob.address, expiry);
            const ask = (user: string) => (right === "publish" ? registry.canPublish(id, user) : registry.canSubscribe(id, user));
            const other = (user: string) => (right === "publish" ? registry.canSubscribe(id, user) : registry.canPublish(id, user));
            // ask right after the write, at E-1 and E exactly, and at the random instants, in increasing order
            const instants = [...new Set([writeAt + 1n, expiry - 1n, expiry, ...probes.map((p) => expiry + BigInt(p))])]
              .filter((t) => t > writeAt)
              .sort((a, b) => (a < b ? -1 : 1));
            for (const at of instants) {
              await mineAt(at);
              expect(await ask(bob.address), `${right} at ${at}, expiry ${expiry}`).to.equal(at < expiry);
              expect(await other(bob.address)).to.equal(false);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("type(uint64).max never expires and 0 never grants", async function () {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 10 ** 9 }), async (later) => {
          const { registry, id, alice, bob, carol } = await loadFixture(fixture);
          await registry.connect(alice).setSubscribeExpiry(id, bob.address, NEVER);
          await registry.connect(alice).setSubscribeExpiry(id, carol.address, 0n);
          await mineAt(BigInt(await time.latest()) + BigInt(later));
          expect(await registry.canSubscribe(id, bob.address)).to.equal(true);
          expect(await registry.canSubscribe(id, carol.address)).to.equal(false);
        }),
        { numRuns: Math.min(RUNS, 20) },
      );
    });
  });

  describe("delegation cannot escalate", function () {
    // Actions a subscribe delegate (carol) or its buyers (bob, dave) try; t = target index into users.
    type Action =
      | { kind: "subscribe"; actor: number; target: number; expiry: bigint }
      | { kind: "subscribeBatch"; actor: number; targets: number[]; expiry: bigint }
      | { kind: "publish"; actor: number; target: number }
      | { kind: "setPermission"; actor: number; target: number; record: PermissionRecord }
      | { kind: "setPermissionBatch"; actor: number; target: number; record: PermissionRecord }
      | { kind: "delegate"; actor: number; target: number; allowed: boolean }
      | { kind: "edit"; actor: number; what: "metadata" | "partitions" | "public" }
      | { kind: "delete"; actor: number }
      | { kind: "transfer"; actor: number; target: number };

    const actor = fc.constantFrom(1, 2, 3); // bob, carol (the delegate), dave
    const target = fc.integer({ min: 0, max: 3 }); // alice (the owner) included
    const expiry = fc.constantFrom(0n, 1n, NEVER, 2n ** 40n);
    const record = fc.record({
      publishExpiry: expiry,
      subscribeExpiry: expiry,
      canGrant: fc.boolean(),
      canEdit: fc.boolean(),
      canDelete: fc.boolean(),
      canGrantSubscribe: fc.boolean(),
    });
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.record({ kind: fc.constant("subscribe" as const), actor, target, expiry }),
      fc.record({ kind: fc.constant("subscribeBatch" as const), actor, targets: fc.uniqueArray(target, { minLength: 1, maxLength: 3 }), expiry }),
      fc.record({ kind: fc.constant("publish" as const), actor, target }),
      fc.record({ kind: fc.constant("setPermission" as const), actor, target, record }),
      fc.record({ kind: fc.constant("setPermissionBatch" as const), actor, target, record }),
      fc.record({ kind: fc.constant("delegate" as const), actor, target, allowed: fc.boolean() }),
      fc.record({ kind: fc.constant("edit" as const), actor, what: fc.constantFrom("metadata" as const, "partitions" as const, "public" as const) }),
      fc.record({ kind: fc.constant("delete" as const), actor }),
      fc.record({ kind: fc.constant("transfer" as const), actor, target }),
    );

    it("a delegate and its buyers, whatever they do, get no publish, grant, edit, delete or owner power", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 12 }), async (actions) => {
          const { registry, id, alice, carol, users } = await loadFixture(fixture);
          await registry.connect(alice).setSubscribeDelegate(id, carol.address, true);
          const DELEGATE = 2;
          for (const a of actions) {
            const caller = users[a.actor];
            const s = registry.connect(caller);
            const refused = (capability: number) => ({ capability });
            let expected: { capability: number } | "ok" | { target: string };
            let tx: Promise<unknown>;
            switch (a.kind) {
              case "subscribe":
                tx = s.setSubscribeExpiry(id, users[a.target].address, a.expiry);
                expected = a.actor !== DELEGATE ? refused(Capability.GrantSubscribe) : a.target === 0 ? { target: alice.address } : "ok";
                break;
              case "subscribeBatch":
                tx = s.setSubscribeExpiryBatch(
                  id,
                  a.targets.map((t) => users[t].address),
                  a.targets.map(() => a.expiry),
                );
                expected = a.actor !== DELEGATE ? refused(Capability.GrantSubscribe) : a.targets.includes(0) ? { target: alice.address } : "ok";
                break;
              case "publish":
                tx = s.setPublishExpiry(id, users[a.target].address, NEVER);
                expected = refused(Capability.Grant);
                break;
              case "setPermission":
                tx = s.setPermission(id, users[a.target].address, a.record);
                expected = refused(Capability.Grant);
                break;
              case "setPermissionBatch":
                tx = s.setPermissionBatch(id, [users[a.target].address], [a.record]);
                expected = refused(Capability.Grant);
                break;
              case "delegate":
                tx = s.setSubscribeDelegate(id, users[a.target].address, a.allowed);
                expected = refused(Capability.Grant);
                break;
              case "edit":
                tx = a.what === "metadata" ? s.updateMetadata(id, "x") : a.what === "partitions" ? s.setPartitions(id, 5) : s.setPublicAccess(id, true, true);
                expected = refused(Capability.Edit);
                break;
              case "delete":
                tx = s.deleteResource(id);
                expected = refused(Capability.Delete);
                break;
              case "transfer":
                tx = s.transferOwnership(id, users[a.target].address);
                expected = refused(Capability.Owner);
                break;
            }
            if (expected === "ok") await expect(tx).to.not.be.reverted;
            else if ("capability" in expected)
              await expect(tx).to.be.revertedWithCustomError(registry, "NotAuthorized").withArgs(id, caller.address, expected.capability);
            else await expect(tx).to.be.revertedWithCustomError(registry, "InvalidPermissionTarget").withArgs(expected.target);
          }
          // nothing but subscribe expiries moved
          const resource = await registry.getResource(id);
          expect([resource.owner, resource.partitions, resource.publicPublish, resource.publicSubscribe]).to.deep.equal([alice.address, 2n, false, false]);
          expect(await registry.pendingOwnerOf(id)).to.equal(ethers.ZeroAddress);
          for (const user of users.slice(1)) {
            const held = await registry.getPermission(id, user.address);
            expect(held.publishExpiry).to.equal(0n);
            expect([held.canGrant, held.canEdit, held.canDelete]).to.deep.equal([false, false, false]);
            expect(held.canGrantSubscribe).to.equal(user.address === carol.address);
            expect(await registry.canPublish(id, user.address)).to.equal(false);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe("ownership transfer", function () {
    type Step =
      | { kind: "propose"; actor: number; byOwner: boolean; to: number } // to = 4 means address(0), a cancellation
      | { kind: "accept"; actor: number; byPending: boolean }
      | { kind: "grant"; to: number; publish: boolean; subscribe: boolean };
    const step: fc.Arbitrary<Step> = fc.oneof(
      // half of the proposals come from the current owner (a random caller is refused 3 times in 4)
      fc.record({ kind: fc.constant("propose" as const), actor: fc.integer({ min: 0, max: 3 }), byOwner: fc.boolean(), to: fc.integer({ min: 0, max: 4 }) }),
      // half of the acceptances come from the pending owner, if any (a random caller rarely is)
      fc.record({ kind: fc.constant("accept" as const), actor: fc.integer({ min: 0, max: 3 }), byPending: fc.boolean() }),
      fc.record({ kind: fc.constant("grant" as const), to: fc.integer({ min: 0, max: 3 }), publish: fc.boolean(), subscribe: fc.boolean() }),
    );

    it("after any transfer sequence only the current owner has implicit rights; former owners only what was granted to them", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
          const { registry, id, users } = await loadFixture(fixture);
          const address = (i: number) => (i === 4 ? ethers.ZeroAddress : users[i].address);
          let owner = 0;
          let pending = 4;
          const formerOwners = new Set<number>();
          // explicit publish/subscribe grants, per user index
          const granted = users.map(() => ({ publish: false, subscribe: false }));
          for (const s of steps) {
            if (s.kind === "propose") {
              const caller = s.byOwner ? owner : s.actor;
              const tx = registry.connect(users[caller]).transferOwnership(id, address(s.to));
              if (caller !== owner)
                await expect(tx).to.be.revertedWithCustomError(registry, "NotAuthorized").withArgs(id, users[caller].address, Capability.Owner);
              else if (s.to === owner) await expect(tx).to.be.revertedWithCustomError(registry, "InvalidNewOwner").withArgs(address(s.to));
              else {
                await expect(tx).to.emit(registry, "OwnershipTransferStarted").withArgs(id, users[owner].address, address(s.to));
                pending = s.to;
              }
            } else if (s.kind === "accept") {
              const caller = s.byPending && pending !== 4 ? pending : s.actor;
              const tx = registry.connect(users[caller]).acceptOwnership(id);
              if (caller !== pending) await expect(tx).to.be.revertedWithCustomError(registry, "NotPendingOwner").withArgs(id, users[caller].address);
              else {
                await expect(tx).to.emit(registry, "OwnershipTransferred").withArgs(id, users[owner].address, users[caller].address);
                formerOwners.add(owner);
                formerOwners.delete(caller);
                owner = caller;
                pending = 4;
                granted[owner] = { publish: false, subscribe: false }; // an owner's record is cleared
              }
            } else {
              const tx = registry
                .connect(users[owner])
                .setPermission(id, users[s.to].address, permission({ publishExpiry: s.publish ? NEVER : 0n, subscribeExpiry: s.subscribe ? NEVER : 0n }));
              if (s.to === owner) await expect(tx).to.be.revertedWithCustomError(registry, "InvalidPermissionTarget").withArgs(users[s.to].address);
              else {
                await tx;
                granted[s.to] = { publish: s.publish, subscribe: s.subscribe };
              }
            }
          }
          expect((await registry.getResource(id)).owner).to.equal(users[owner].address);
          expect(await registry.pendingOwnerOf(id)).to.equal(address(pending));
          for (let u = 0; u < users.length; u++) {
            const isOwner = u === owner;
            expect(await registry.canPublish(id, users[u].address), `publish of ${u}, owner ${owner}`).to.equal(isOwner || granted[u].publish);
            expect(await registry.canSubscribe(id, users[u].address), `subscribe of ${u}, owner ${owner}`).to.equal(isOwner || granted[u].subscribe);
            if (isOwner) expect(asTuple(await registry.getPermission(id, users[u].address))).to.deep.equal(asTuple(permission()));
          }
          for (const former of formerOwners) {
            // no implicit power left: neither ownership nor grant
            await expect(registry.connect(users[former]).setPublishExpiry(id, users[former].address, NEVER))
              .to.be.revertedWithCustomError(registry, "NotAuthorized")
              .withArgs(id, users[former].address, Capability.Grant);
            await expect(registry.connect(users[former]).transferOwnership(id, users[former].address))
              .to.be.revertedWithCustomError(registry, "NotAuthorized")
              .withArgs(id, users[former].address, Capability.Owner);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe("model-based: the contract against a TypeScript model", function () {
    // The universe: 4 actors, 2 creators x 2 paths = 4 resource ids, expiries near the current time.
    const CREATORS = [0, 1];
    const PATHS = ["/a", "/b"];
    const ZERO = 4; // user index meaning address(0)

    interface ModelResource {
      owner: number | null;
      generation: number;
      partitions: number;
      publicPublish: boolean;
      publicSubscribe: boolean;
      pending: number | null;
    }
    type Expiry = { kind: "never" } | { kind: "zero" } | { kind: "relative"; seconds: number };
    type Op =
      | { kind: "create"; creator: number; path: number; partitions: number }
      | { kind: "delete"; actor: number; res: number }
      | { kind: "setPermission"; actor: number; res: number; user: number; publish: Expiry; subscribe: Expiry; flags: boolean[] }
      | { kind: "setPublishExpiry"; actor: number; res: number; user: number; expiry: Expiry }
      | { kind: "setSubscribeExpiry"; actor: number; res: number; user: number; expiry: Expiry }
      | { kind: "setSubscribeDelegate"; actor: number; res: number; user: number; allowed: boolean }
      | { kind: "setPublicAccess"; actor: number; res: number; pub: boolean; sub: boolean }
      | { kind: "setPartitions"; actor: number; res: number; partitions: number }
      | { kind: "transferOwnership"; actor: number; res: number; user: number }
      | { kind: "acceptOwnership"; actor: number; res: number; byPending: boolean }
      | { kind: "wait"; seconds: number };

    // OWNER_OF_RES stands for "the current owner of the resource the operation names": two calls in
    // five come from it, so that sequences reach deep states instead of stopping at NotAuthorized.
    const OWNER_OF_RES = 5;
    const actor = fc.oneof({ weight: 2, arbitrary: fc.constant(OWNER_OF_RES) }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }) });
    const res = fc.integer({ min: 0, max: 3 });
    const user = fc.integer({ min: 0, max: 4 });
    const expiry: fc.Arbitrary<Expiry> = fc.oneof(
      fc.constant({ kind: "never" as const }),
      fc.constant({ kind: "zero" as const }),
      fc.record({ kind: fc.constant("relative" as const), seconds: fc.integer({ min: -5, max: 40 }) }),
    );
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("create" as const),
          creator: fc.constantFrom(...CREATORS),
          path: fc.integer({ min: 0, max: 1 }),
          partitions: fc.constantFrom(0, 1, 3, 100, 101),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), actor, res }) },
      {
        weight: 3,
        arbitrary: fc.record({
          kind: fc.constant("setPermission" as const),
          actor,
          res,
          user,
          publish: expiry,
          subscribe: expiry,
          flags: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("setPublishExpiry" as const), actor, res, user, expiry }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("setSubscribeExpiry" as const), actor, res, user, expiry }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("setSubscribeDelegate" as const), actor, res, user, allowed: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("setPublicAccess" as const), actor, res, pub: fc.boolean(), sub: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("setPartitions" as const), actor, res, partitions: fc.constantFrom(0, 2, 100, 101) }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("transferOwnership" as const), actor, res, user }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant("acceptOwnership" as const), actor, res, byPending: fc.boolean() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("wait" as const), seconds: fc.integer({ min: 1, max: 30 }) }) },
    );

    const handOver = fc.record({ kind: fc.constant("handOver" as const), res, to: fc.integer({ min: 0, max: 3 }) });

    it("agrees with the model on every outcome, error and view over random operation sequences", async function () {
      // Guards against a vacuous run: the sequences must reach every operation's success path and
      // end with explicit (non-owner) rights alive, or the comparison proves little.
      const succeeded = new Set<string>();
      let explicitRightsSeen = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof({ weight: 12, arbitrary: op }, { weight: 1, arbitrary: handOver }), { minLength: 5, maxLength: 25, size: "max" }),
          async (randomOps) => {
            // every run starts with the four resources created (as modelled operations), then goes random;
            // a hand-over is the owner's proposal followed by the proposed owner's acceptance
            const ops: Op[] = [
              ...[0, 1].flatMap((creator) => [0, 1].map((path) => ({ kind: "create" as const, creator, path, partitions: 1 }))),
              ...randomOps.flatMap((o): Op[] =>
                o.kind === "handOver"
                  ? [
                      { kind: "transferOwnership", actor: OWNER_OF_RES, res: o.res, user: o.to },
                      { kind: "acceptOwnership", actor: o.to, res: o.res, byPending: false },
                    ]
                  : [o],
              ),
            ];
            const { registry, users: signers } = await loadFixture(emptyFixture);
            const address = (u: number) => (u === ZERO ? ethers.ZeroAddress : signers[u].address);
            const ids = CREATORS.flatMap((c) => PATHS.map((p) => resourceIdOf(signers[c].address, p)));
            const resources: ModelResource[] = ids.map(() => ({
              owner: null,
              generation: 0,
              partitions: 0,
              publicPublish: false,
              publicSubscribe: false,
              pending: null,
            }));
            const records = new Map<string, PermissionRecord>(); // key: res/generation/user
            const key = (r: number, u: number) => `${r}/${resources[r].generation}/${u}`;
            const recordOf = (r: number, u: number) => records.get(key(r, u)) ?? permission();

            type Outcome = "ok" | { error: string; args: unknown[] };
            const fail = (error: string, ...args: unknown[]): Outcome => ({ error, args });
            const authorize = (r: number, a: number, needed: number): Outcome => {
              const resource = resources[r];
              if (resource.owner === null) return fail("ResourceNotFound", ids[r]);
              if (resource.owner === a) return "ok";
              const held = recordOf(r, a);
              const ok =
                (needed === Capability.Grant && held.canGrant) ||
                (needed === Capability.GrantSubscribe && (held.canGrant || held.canGrantSubscribe)) ||
                (needed === Capability.Edit && held.canEdit) ||
                (needed === Capability.Delete && held.canDelete);
              return ok ? "ok" : fail("NotAuthorized", ids[r], address(a), needed);
            };
            const target = (r: number, u: number): Outcome => (u === ZERO || u === resources[r].owner ? fail("InvalidPermissionTarget", address(u)) : "ok");
            const validPartitions = (p: number) => p >= 1 && p <= 100;

            for (const o of ops) {
              if (o.kind === "wait") {
                await time.increase(o.seconds);
                continue;
              }
              // expiries are taken relative to the timestamp of the block that will hold the transaction
              const nextTimestamp = BigInt(await time.latest()) + 1n;
              await time.setNextBlockTimestamp(nextTimestamp);
              const toSeconds = (e: Expiry): bigint =>
                e.kind === "never" ? NEVER : e.kind === "zero" ? 0n : BigInt(Math.max(0, Number(nextTimestamp) + e.seconds));

              let outcome: Outcome;
              let apply: () => void = () => {};
              let touched: number | null = "res" in o ? o.res : null;
              // the calling signer (OWNER_OF_RES resolved; an absent resource's calls come from user 0)
              const caller = "actor" in o ? (o.actor === OWNER_OF_RES ? (resources[o.res].owner ?? 0) : o.actor) : 0;
              let tx: () => Promise<unknown>;
              switch (o.kind) {
                case "create": {
                  const r = o.creator * 2 + o.path;
                  touched = r;
                  tx = () => registry.connect(signers[o.creator]).createStream(PATHS[o.path], o.partitions, "");
                  outcome = !validPartitions(o.partitions)
                    ? fail("InvalidPartitionCount", o.partitions)
                    : resources[r].owner !== null
                      ? fail("ResourceExists", ids[r])
                      : "ok";
                  apply = () =>
                    Object.assign(resources[r], { owner: o.creator, partitions: o.partitions, publicPublish: false, publicSubscribe: false, pending: null });
                  break;
                }
                case "delete":
                  tx = () => registry.connect(signers[caller]).deleteResource(ids[o.res]);
                  outcome = authorize(o.res, caller, Capability.Delete);
                  apply = () =>
                    Object.assign(resources[o.res], {
                      owner: null,
                      generation: resources[o.res].generation + 1,
                      partitions: 0,
                      publicPublish: false,
                      publicSubscribe: false,
                      pending: null,
                    });
                  break;
                case "setPermission": {
                  const record = permission({
                    publishExpiry: toSeconds(o.publish),
                    subscribeExpiry: toSeconds(o.subscribe),
                    canGrant: o.flags[0],
                    canEdit: o.flags[1],
                    canDelete: o.flags[2],
                    canGrantSubscribe: o.flags[3],
                  });
                  tx = () => registry.connect(signers[caller]).setPermission(ids[o.res], address(o.user), record);
                  const auth = authorize(o.res, caller, Capability.Grant);
                  outcome = auth !== "ok" ? auth : target(o.res, o.user);
                  apply = () => records.set(key(o.res, o.user), record);
                  break;
                }
                case "setPublishExpiry":
                case "setSubscribeExpiry": {
                  const seconds = toSeconds(o.expiry);
                  const publish = o.kind === "setPublishExpiry";
                  tx = () =>
                    publish
                      ? registry.connect(signers[caller]).setPublishExpiry(ids[o.res], address(o.user), seconds)
                      : registry.connect(signers[caller]).setSubscribeExpiry(ids[o.res], address(o.user), seconds);
                  const auth = authorize(o.res, caller, publish ? Capability.Grant : Capability.GrantSubscribe);
                  outcome = auth !== "ok" ? auth : target(o.res, o.user);
                  apply = () =>
                    records.set(key(o.res, o.user), { ...recordOf(o.res, o.user), ...(publish ? { publishExpiry: seconds } : { subscribeExpiry: seconds }) });
                  break;
                }
                case "setSubscribeDelegate": {
                  tx = () => registry.connect(signers[caller]).setSubscribeDelegate(ids[o.res], address(o.user), o.allowed);
                  const auth = authorize(o.res, caller, Capability.Grant);
                  outcome = auth !== "ok" ? auth : target(o.res, o.user);
                  apply = () => records.set(key(o.res, o.user), { ...recordOf(o.res, o.user), canGrantSubscribe: o.allowed });
                  break;
                }
                case "setPublicAccess":
                  tx = () => registry.connect(signers[caller]).setPublicAccess(ids[o.res], o.pub, o.sub);
                  outcome = authorize(o.res, caller, Capability.Edit);
                  apply = () => Object.assign(resources[o.res], { publicPublish: o.pub, publicSubscribe: o.sub });
                  break;
                case "setPartitions": {
                  tx = () => registry.connect(signers[caller]).setPartitions(ids[o.res], o.partitions);
                  const auth = authorize(o.res, caller, Capability.Edit);
                  outcome = auth !== "ok" ? auth : validPartitions(o.partitions) ? "ok" : fail("InvalidPartitionCount", o.partitions);
                  apply = () => (resources[o.res].partitions = o.partitions);
                  break;
                }
                case "transferOwnership": {
                  tx = () => registry.connect(signers[caller]).transferOwnership(ids[o.res], address(o.user));
                  const auth = authorize(o.res, caller, Capability.Owner);
                  outcome = auth !== "ok" ? auth : o.user === resources[o.res].owner ? fail("InvalidNewOwner", address(o.user)) : "ok";
                  apply = () => (resources[o.res].pending = o.user === ZERO ? null : o.user);
                  break;
                }
                case "acceptOwnership": {
                  // Half of the attempts come from a pending owner, if any resource has one (a random
                  // caller on a random resource rarely is); the others from the drawn actor.
                  const withPending = [0, 1, 2, 3].map((k) => (o.res + k) % 4).find((r) => resources[r].pending !== null);
                  const r = o.byPending && withPending !== undefined ? withPending : o.res;
                  const resource = resources[r];
                  const acceptor = o.byPending && resource.pending !== null ? resource.pending : caller;
                  touched = r;
                  tx = () => registry.connect(signers[acceptor]).acceptOwnership(ids[r]);
                  outcome =
                    resource.owner === null
                      ? fail("ResourceNotFound", ids[r])
                      : resource.pending !== acceptor
                        ? fail("NotPendingOwner", ids[r], address(acceptor))
                        : "ok";
                  apply = () => {
                    records.delete(key(r, acceptor));
                    Object.assign(resource, { owner: acceptor, pending: null });
                  };
                  break;
                }
              }
              if (outcome === "ok") {
                await expect(
                  tx(),
                  JSON.stringify(o, (_, v) => (typeof v === "bigint" ? v.toString() : v)),
                ).to.not.be.reverted;
                apply();
                succeeded.add(o.kind);
                // the touched resource's stored state must match at once (a later delete would hide it)
                if (touched !== null) {
                  const m = resources[touched];
                  expect((await registry.getResource(ids[touched])).owner).to.equal(m.owner === null ? ethers.ZeroAddress : address(m.owner));
                  for (let u = 0; u < 4; u++) {
                    expect(asTuple(await registry.getPermission(ids[touched], address(u))), `record ${touched}/${u} after ${o.kind}`).to.deep.equal(
                      asTuple(recordOf(touched, u)),
                    );
                  }
                }
              } else {
                await expect(tx())
                  .to.be.revertedWithCustomError(registry, outcome.error)
                  .withArgs(...outcome.args);
                await mine(); // the reverted transaction's block used nextTimestamp already
              }
            }

            // compare every view of every resource and user with the model, at the latest block's time
            const now = BigInt(await time.latest());
            for (let r = 0; r < ids.length; r++) {
              const m = resources[r];
              const resource = await registry.getResource(ids[r]);
              expect(resource.owner).to.equal(m.owner === null ? ethers.ZeroAddress : address(m.owner));
              expect(resource.generation).to.equal(BigInt(m.generation));
              expect(resource.partitions).to.equal(BigInt(m.partitions));
              expect([resource.publicPublish, resource.publicSubscribe]).to.deep.equal([m.publicPublish, m.publicSubscribe]);
              expect(await registry.pendingOwnerOf(ids[r])).to.equal(m.pending === null ? ethers.ZeroAddress : address(m.pending));
              for (let u = 0; u < 4; u++) {
                const record = recordOf(r, u);
                expect(asTuple(await registry.getPermission(ids[r], address(u))), `record ${r}/${u}`).to.deep.equal(asTuple(record));
                const exists = m.owner !== null;
                const isOwner = exists && m.owner === u;
                if (exists && !isOwner && (now < record.publishExpiry || now < record.subscribeExpiry)) explicitRightsSeen++;
                expect(await registry.canPublish(ids[r], address(u)), `canPublish ${r}/${u}`).to.equal(
                  exists && (isOwner || m.publicPublish || now < record.publishExpiry),
                );
                expect(await registry.canSubscribe(ids[r], address(u)), `canSubscribe ${r}/${u}`).to.equal(
                  exists && (isOwner || m.publicSubscribe || now < record.subscribeExpiry),
                );
              }
              expect(await registry.canSubscribe(ids[r], ethers.ZeroAddress)).to.equal(m.owner !== null && m.publicSubscribe);
            }
          },
        ),
        { numRuns: RUNS },
      );
      expect([...succeeded].sort()).to.deep.equal(
        [
          "acceptOwnership",
          "create",
          "delete",
          "setPartitions",
          "setPermission",
          "setPublicAccess",
          "setPublishExpiry",
          "setSubscribeDelegate",
          "setSubscribeExpiry",
          "transferOwnership",
        ].sort(),
      );
      expect(explicitRightsSeen).to.be.greaterThan(0);
    });
  });
});
