// The broker's chain follower on a separate node (anvil, from npm) with real reorgs: evm_snapshot /
// evm_revert and anvil_reorg remove blocks the follower applied; it finds the fork point, its
// consumers undo what the removed logs did, and a licence purchase that a reorg removes does not
// leave the buyer admitted. Confirmation depth and the persisted checkpoint are tested here too, and
// what a poll, a provider and a gate's question ask of the node.

import { expect } from "chai";
import pino from "pino";
import { id as keccakUtf8, keccak256, toUtf8Bytes, ZeroHash, Wallet, JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult, type Provider } from "ethers";
import { BrokerClient, type BrokerReply } from "../src/client/BrokerClient";
import { ChainFollower, type Reorg } from "../src/chain/ChainFollower";
import { FileCheckpointStore } from "../src/chain/Checkpoint";
import { ContractAccessGate } from "../src/access/ContractAccessGate";
import { chainProvider } from "../src/chain/ChainBackend";
import { ViewReader } from "../src/chain/ViewReader";
import { RegistryStreamFeeder } from "../src/streams/RegistryStreamFeeder";
import { InMemoryStreamIndex } from "../src/streams/StreamIndex";
import { DEFAULT_CONFIG, type BrokerConfig } from "../src/config";
import { startBroker } from "../src/Broker";
import { streamIdOf } from "../src/wire";
import { ALICE_KEY, MALLORY_KEY, TestPublisher, expectBrokerError, sleep, tempDir, waitFor } from "./helpers";
import { deployMarket, type Deployed } from "./chain-fixture";
import { startAnvil, type Anvil } from "./anvil";
import type { DataLicenseMarket } from "../../typechain-types";

const ETH = 10n ** 18n;

describe("chain follower on anvil: confirmations, reorgs, checkpoints", function () {
  // Generous: anvil is a separate process on a shared 2-core machine.
  this.timeout(180_000);
  let anvil: Anvil;
  let d: Deployed;
  let alice: Wallet;
  let buyer: Wallet;
  let deployBlock: number;
  let product: string;
  let stream: string;
  const stops: (() => Promise<void> | void)[] = [];

  before(async () => {
    anvil = await startAnvil();
    deployBlock = (await anvil.provider.getBlockNumber()) + 1;
    d = await deployMarket(anvil.admin);
    alice = new Wallet("0x" + Buffer.from(ALICE_KEY).toString("hex"), anvil.provider);
    buyer = new Wallet("0x" + Buffer.from(MALLORY_KEY).toString("hex"), anvil.provider);
    for (const w of [alice, buyer]) await (await anvil.admin.sendTransaction({ to: w.address, value: 10n * ETH })).wait();
    const registry = d.registry.connect(alice);
    await (await registry.createStream("/reorg/prices", 1, "{}")).wait();
    stream = streamIdOf(alice.address.toLowerCase(), "/reorg/prices");
    await (await registry.setSubscribeDelegate(stream, d.addresses.market, true)).wait();
    const market = d.market.connect(alice);
    product = await market.productIdOf(alice.address, keccakUtf8("reorg"));
    await (
      await market.createProduct(keccakUtf8("reorg"), {
        beneficiary: alice.address,
        pricePerSecond: 1n,
        minSeconds: 60,
        maxSeconds: 30 * 86_400,
        requiresConsent: false,
        requiresKyc: false,
        termsHash: keccak256(toUtf8Bytes("terms")),
        termsUri: "https://example.org/terms",
        resources: [stream],
      })
    ).wait();
    await (await d.token.mint(buyer.address, 10n ** 24n)).wait();
    await (await d.token.connect(buyer).approve(d.addresses.market, 2n ** 255n)).wait();
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });
  after(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await anvil?.stop();
  });

  async function buy(market: DataLicenseMarket, seconds: number): Promise<number> {
    const order = {
      productId: product,
      duration: seconds,
      attestation: { grantId: ZeroHash, buyer: "0x" + "00".repeat(20), productId: ZeroHash, purpose: ZeroHash, expiresAt: 0n },
      signatures: "0x",
      encryptionKey: "0x",
    };
    return (await (await market.connect(buyer).buy(order as Parameters<DataLicenseMarket["buy"]>[0], 10n)).wait())!.blockNumber;
  }

  const mine = (n = 1) => anvil.mine(n);
  const snapshot = () => anvil.snapshot();
  const revert = (id: string) => anvil.revert(id);

  /** `provider` with every JSON-RPC request it sends recorded (method and params). */
  function recording<P extends JsonRpcProvider>(provider: P): P & { requests: Array<{ method: string; params: unknown[] }> } {
    const requests: Array<{ method: string; params: unknown[] }> = [];
    const send = provider._send.bind(provider);
    provider._send = async (payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> => {
      for (const p of Array.isArray(payload) ? payload : [payload]) requests.push({ method: p.method, params: p.params as unknown[] });
      return send(payload);
    };
    stops.push(() => provider.destroy());
    return Object.assign(provider, { requests });
  }

  function feederOn(follower: ChainFollower): InMemoryStreamIndex {
    const index = new InMemoryStreamIndex();
    new RegistryStreamFeeder(index, { provider: anvil.provider, registry: d.addresses.registry, follower });
    return index;
  }

  it("finds the fork point of evm_revert and anvil_reorg, undoes the removed logs and applies the canonical ones once", async () => {
    const follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, pollMs: 60_000 });
    const index = feederOn(follower);
    const reorgs: Reorg[] = [];
    follower.onReorg((r) => void reorgs.push(r));
    await follower.start();
    stops.push(() => follower.stop());
    const registry = d.registry.connect(alice);
    const id = (path: string) => streamIdOf(alice.address.toLowerCase(), path);

    // evm_revert: two blocks (a stream created, then renamed metadata) vanish; the chain is shorter.
    const forkBlock = await anvil.provider.getBlockNumber();
    const journalAtFork = follower.journal.size;
    const snapId = await snapshot();
    await (await registry.createStream("/reorg/gone", 1, '{"description":"gone"}')).wait();
    await follower.poll();
    await (await registry.updateMetadata(stream, '{"description":"changed"}')).wait();
    await follower.poll();
    expect(index.get(id("/reorg/gone"))).to.not.equal(undefined);
    expect(index.get(stream)!.metadata).to.deep.equal({ description: "changed" });
    await revert(snapId);
    await follower.poll();
    expect(reorgs).to.have.length(1);
    expect(reorgs[0].forkBlock).to.equal(forkBlock);
    expect(reorgs[0].removed.map((l) => l.name)).to.deep.equal(["ResourceCreated", "MetadataUpdated"]);
    expect(index.get(id("/reorg/gone")), "a stream the reorg removed is gone").to.equal(undefined);
    expect(index.get(stream)!.metadata, "metadata back to its value at the fork").to.deep.equal({});
    expect(follower.journal.size, "the undone entries are gone").to.equal(journalAtFork);

    // anvil_reorg: the last 2 blocks are replaced by 2 others at the same heights, one of which creates
    // a stream again: it is applied once, from its new block.
    await (await registry.createStream("/reorg/first", 1, "{}")).wait();
    await mine(2);
    await follower.poll();
    const head = await anvil.provider.getBlockNumber();
    const nonce = await alice.getNonce();
    const tx = await registry.createStream.populateTransaction("/reorg/second", 1, "{}");
    const signed = await alice.signTransaction({
      ...tx,
      nonce,
      gasLimit: 500_000,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
      chainId: 31337,
      type: 2,
    });
    await anvil.send("anvil_reorg", [2, [[signed, 0]]]);
    expect(await anvil.provider.getBlockNumber()).to.equal(head);
    await follower.poll();
    expect(reorgs).to.have.length(2);
    expect(reorgs[1].forkBlock).to.equal(head - 2);
    expect(reorgs[1].removed, "the removed blocks held no log of ours").to.deep.equal([]);
    expect(index.get(id("/reorg/first"))).to.not.equal(undefined);
    expect(index.get(id("/reorg/second")), "the log of the new branch is applied").to.not.equal(undefined);
    expect(follower.cursor).to.equal(head + 1);
  });

  it("cuts a subscriber whose licence purchase a reorg removed, and refuses it afterwards", async () => {
    const follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, pollMs: 50 });
    const gate = new ContractAccessGate({ provider: anvil.provider, registry: d.addresses.registry, market: d.addresses.market, follower });
    const index = feederOn(follower);
    await follower.start();
    const tmp = tempDir();
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      access: { ...DEFAULT_CONFIG.access, maxStalenessMs: 30_000, static: { publicStreams: [], publishers: {}, subscribers: {} } },
    };
    const running = await startBroker(config, { gate, streams: index, logger: pino({ level: "silent" }) });
    stops.push(
      () => tmp.remove(),
      () => running.close(),
      () => gate.stop(),
      () => follower.stop(),
    );
    const url = `ws://127.0.0.1:${running.wsPort}`;
    const pub = await BrokerClient.connect(url);
    await pub.signIn(ALICE_KEY);
    const sub = await BrokerClient.connect(url);
    await sub.signIn(MALLORY_KEY);
    stops.push(
      () => pub.close(),
      () => sub.close(),
    );
    const received: Buffer[] = [];
    const notices: BrokerReply[] = [];
    sub.onEvent = (f) => received.push(f);
    sub.onNotice = (n) => notices.push(n);
    const publisher = new TestPublisher(ALICE_KEY, stream, 0);

    await expectBrokerError(() => sub.subscribe(stream, 0), "SUBSCRIBE_NOT_ALLOWED");
    const snapId = await snapshot();
    await buy(d.market, 3600);
    await follower.poll();
    await sub.subscribe(stream, 0);
    await pub.publish(publisher.next().frame);
    await waitFor(() => received.length === 1, 10_000, "delivery under the licence");

    // The purchase's block is reorganised away (and the chain moves on without it).
    await revert(snapId);
    await mine(2);
    await waitFor(() => notices.length === 1, 15_000, "the cut after the reorg");
    expect(follower.reorgs).to.equal(1);
    expect(notices[0]).to.include({ type: "revoked", code: "ACCESS_REVOKED", streamId: stream, streamPartition: 0 });
    await pub.publish(publisher.next().frame);
    await sleep(200);
    expect(received, "nothing delivered after the cut").to.have.length(1);
    await expectBrokerError(() => sub.subscribe(stream, 0), "SUBSCRIBE_NOT_ALLOWED");
    expect(running.node.subscriptionCount()).to.equal(0);
  });

  it("with confirmations d, admits a purchase only once it is d blocks deep, and a reorg within d is never acted on", async () => {
    const follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, pollMs: 60_000, confirmations: 3 });
    // This follower polls only when told to: a question about a grant not yet 3 deep waits for its
    // next applied block only briefly (the default 2 s would only slow the test down).
    const gate = new ContractAccessGate({ provider: anvil.provider, registry: d.addresses.registry, market: d.addresses.market, follower, applyWaitMs: 100 });
    const licences: string[] = [];
    gate.onChange((c) => c.kind === "licence" && c.address && licences.push(c.address));
    await follower.start();
    stops.push(
      () => gate.stop(),
      () => follower.stop(),
    );
    const other = Wallet.createRandom().address; // a buyer with no licence ever: the head check alone refuses it
    expect(await gate.licenceOf(stream, other)).to.equal(null);

    // A purchase removed before it is 3 deep: the gate never admits it, and no reorg reaches the consumers.
    const snapId = await snapshot();
    const boughtIn = await buy(d.market, 3600);
    await mine(1);
    await follower.poll();
    expect(follower.confirmedBlock()).to.equal(boughtIn - 2);
    expect(await gate.licenceOf(stream, buyer.address), "1 block deep: not admitted").to.equal(null);
    await revert(snapId);
    await mine(3);
    await follower.poll();
    expect(follower.reorgs, "the reorg was under the confirmation depth").to.equal(0);
    expect(licences).to.deep.equal([]);

    // Bought again: admitted once 3 blocks are on top, not before.
    const block = await buy(d.market, 3600);
    await mine(2);
    await follower.poll();
    expect(await gate.licenceOf(stream, buyer.address)).to.equal(null);
    await mine(1);
    await follower.poll();
    expect(follower.confirmedBlock()).to.equal(block);
    expect(licences).to.deep.equal([buyer.address.toLowerCase()]);
    expect((await gate.licenceOf(stream, buyer.address))?.productId).to.equal(product);
  });

  it("resumes from its checkpoint; a checkpoint no longer canonical rewinds to the fork point, or replays state it cannot undo", async () => {
    const tmp = tempDir();
    stops.push(() => tmp.remove());
    const file = `${tmp.dir}/chain-checkpoint.json`;
    const registry = d.registry.connect(alice);
    const id = (path: string) => streamIdOf(alice.address.toLowerCase(), path);
    const run = async (stateless: boolean) => {
      const follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, pollMs: 60_000, checkpoint: new FileCheckpointStore(file, 31337) });
      const seen: number[] = [];
      const index = stateless ? new InMemoryStreamIndex() : feederOn(follower);
      const gate = stateless
        ? undefined
        : new ContractAccessGate({ provider: anvil.provider, registry: d.addresses.registry, market: d.addresses.market, follower });
      if (gate) stops.push(() => gate.stop());
      if (stateless)
        follower.watch(d.addresses.registry, d.registry.interface, (logs) => void seen.push(...logs.map((l) => l.blockNumber)), { stateless: true });
      await follower.start();
      stops.push(() => follower.stop());
      return { follower, index, seen, gate };
    };

    const first = await run(false);
    await (await registry.createStream("/cp/one", 1, "{}")).wait();
    await first.follower.poll();
    const tip = first.follower.cursor - 1;
    first.follower.stop();
    // A restart: the index comes from the checkpoint, and no block at or under it is read again.
    const second = await run(false);
    expect(second.follower.resumed).to.deep.include({ checkpoint: true, from: tip + 1 });
    expect(second.index.get(id("/cp/one"))).to.not.equal(undefined);
    expect(second.index.get(stream)).to.not.equal(undefined);
    // The gate's products come from the checkpoint too (ProductCreated is far under it): the licence
    // bought in the test before is found.
    expect((await second.gate!.licenceOf(stream, buyer.address))?.productId).to.equal(product);

    // The checkpoint's last block is reorganised away while the broker is down.
    const forkBlock = await anvil.provider.getBlockNumber();
    const snapId = await snapshot();
    await (await registry.createStream("/cp/gone", 1, "{}")).wait();
    await second.follower.poll();
    second.follower.stop();
    await revert(snapId);
    await mine(2);
    // A follower with stateless consumers rewinds to the fork point...
    const stateless = await run(true);
    expect(stateless.follower.resumed!.checkpoint).to.equal(true);
    expect(stateless.follower.resumed!.from).to.equal(forkBlock + 1);
    expect(stateless.follower.resumed!.reason).to.match(/no longer canonical/);
    stateless.follower.stop();
    // ...one whose snapshot holds what the removed block applied replays from the deployment block.
    await (await registry.createStream("/cp/gone", 1, "{}")).wait(); // (the stateless run saved its own checkpoint: make it stale again)
    const third = await run(false);
    expect(third.index.get(id("/cp/gone"))).to.not.equal(undefined);
    third.follower.stop();
    const reorgBlock = await anvil.provider.getBlockNumber();
    await anvil.send("anvil_reorg", [1, []]);
    const fourth = await run(false);
    expect(fourth.follower.resumed!.checkpoint).to.equal(false);
    expect(fourth.follower.resumed!.reason).to.match(new RegExp(`block ${reorgBlock} is no longer canonical`));
    expect(fourth.index.get(id("/cp/gone")), "the removed stream is not in the replayed index").to.equal(undefined);
    expect(fourth.index.get(id("/cp/one"))).to.not.equal(undefined);
  });

  it("a reorg deeper than the window fails the follower closed until a restart", async () => {
    const follower = new ChainFollower(anvil.provider, { fromBlock: deployBlock, pollMs: 60_000, reorgWindow: 2 });
    feederOn(follower);
    await follower.start();
    stops.push(() => follower.stop());
    const snapId = await snapshot();
    for (let i = 0; i < 5; i++) {
      await mine(1);
      await follower.poll();
    }
    await revert(snapId);
    await mine(6);
    await follower.poll();
    expect(follower.lastError?.message).to.match(/deeper than the follower's window/);
    const syncedAt = follower.lastSyncedAt();
    await follower.poll();
    expect(follower.lastSyncedAt(), "stays unsynced: the gate fails closed").to.equal(syncedAt);
  });

  it("polls a new block in two requests (the head, then its logs by hash) and an unchanged head in one", async () => {
    const provider = recording(chainProvider(anvil.url, 31337));
    const follower = new ChainFollower(provider, { fromBlock: deployBlock, pollMs: 60_000 });
    feederOn(follower);
    await follower.start();
    stops.push(() => follower.stop());
    await mine(1);
    provider.requests.length = 0;
    await follower.poll();
    const head = await anvil.provider.getBlock("latest");
    expect(provider.requests.map((r) => r.method)).to.deep.equal(["eth_getBlockByNumber", "eth_getLogs"]);
    expect(provider.requests[1].params[0], "the new block's logs, by its hash").to.include({ blockHash: head!.hash });
    expect(follower.confirmedBlock()).to.equal(head!.number);
    provider.requests.length = 0;
    await follower.poll();
    expect(
      provider.requests.map((r) => r.method),
      "the head is the applied tip",
    ).to.deep.equal(["eth_getBlockByNumber"]);
    // Two blocks at once (a range) and a replaced tip still take the careful path, and are right.
    await mine(2);
    await follower.poll();
    expect(follower.confirmedBlock()).to.equal(head!.number + 2);
    await anvil.send("anvil_reorg", [1, []]);
    await follower.poll();
    expect(follower.reorgs, "a tip replaced at the same height").to.equal(1);
  });

  it("the broker's provider asks no chain id beside its requests, and reuses no answer: logs read again after a reorg are the new branch's", async () => {
    const provider = recording(chainProvider(anvil.url, 31337));
    const snapId = await snapshot();
    const from = (await anvil.provider.getBlockNumber()) + 1;
    await (await d.registry.connect(alice).createStream("/reads/gone", 1, "{}")).wait();
    const filter = { address: d.addresses.registry, fromBlock: from, toBlock: from };
    expect(await provider.getLogs(filter)).to.have.length.greaterThan(0);
    await revert(snapId);
    await mine(1);
    expect(await provider.getLogs(filter), "the same range at once: the new, empty, block").to.deep.equal([]);
    await Promise.all([0, 1, 2].map(() => provider.getBlockNumber()));
    expect(provider.requests.map((r) => r.method)).to.not.include("eth_chainId");
  });

  it("reads views at a block or at the latest, fails a revert with CALL_EXCEPTION, and names an unknown view at once", async () => {
    const reader = new ViewReader(anvil.provider, d.addresses.market, d.market.interface, ["hasValidLicense", "quote"]);
    const balances = new ViewReader(anvil.provider, d.addresses.token, d.token.interface, ["balanceOf"]);
    const before = await anvil.provider.getBlockNumber();
    const bought = await buy(d.market, 3600);
    expect((await reader.read("hasValidLicense", [buyer.address, stream]))[0]).to.equal(true);
    const held = async (blockTag?: number) => (await balances.read("balanceOf", [buyer.address], { blockTag }))[0] as bigint;
    expect(await held(before), "before the purchase").to.equal(await d.token.balanceOf(buyer.address, { blockTag: before }));
    expect(await held(bought)).to.equal(await d.token.balanceOf(buyer.address));
    expect(await held(), "the latest").to.equal(await held(bought));
    expect((await held(before)) > (await held(bought)), "the purchase's block differs").to.equal(true);
    const error = await reader.read("quote", [keccakUtf8("no such product"), 3600]).then(
      () => expect.fail("a reverting view answered"),
      (e: { code?: string }) => e,
    );
    expect(error.code).to.equal("CALL_EXCEPTION");
    expect(() => new ViewReader(anvil.provider, d.addresses.market, d.market.interface, ["noSuchView"])).to.throw(/no function noSuchView/);
    expect(() => new ViewReader(anvil.provider, d.addresses.market, d.market.interface, ["buy"])).to.throw(/buy is not a view/);
  });

  it("asks a licensee's registry permission at the head only (the head refuses it), a permission holder's at depth too", async () => {
    const provider = recording(chainProvider(anvil.url, 31337));
    const follower = new ChainFollower(provider, { fromBlock: deployBlock, pollMs: 60_000 });
    const gate = new ContractAccessGate({ provider, registry: d.addresses.registry, market: d.addresses.market, follower });
    await follower.start();
    stops.push(
      () => gate.stop(),
      () => follower.stop(),
    );
    await buy(d.market, 3600);
    await follower.poll();
    const tags = () => provider.requests.filter((r) => r.method === "eth_call").map((r) => r.params[1]);
    provider.requests.length = 0;
    expect(await gate.canSubscribe(stream, buyer.address), "a licence's shadow permission is not the registry's own").to.equal(false);
    expect(tags(), "the four reads, at the head only").to.deep.equal(["latest", "latest", "latest", "latest"]);
    expect(await gate.licenceOf(stream, buyer.address)).to.not.equal(null);
    provider.requests.length = 0;
    expect(await gate.canSubscribe(stream, alice.address), "the owner").to.equal(true);
    expect(
      tags().filter((t) => t !== "latest"),
      "and at the follower's block",
    ).to.have.length(4);
  });
});

export type { Provider };
