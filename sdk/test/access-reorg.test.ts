// The SDK's access checks on anvil (a separate node with real reorgs; the broker's anvil helper,
// imported): with `confirmations: 2` a subscribe permission (what a licence purchase writes) counts
// only once 2 deep and a revocation at once; a permission a reorg removes makes watchAccess rekey
// without its holder; a revocation a reorg removes gives the access back.

import { expect } from "chai";
import { Wallet } from "ethers";
import { StreamRegistry__factory } from "@datamarket/contracts/typechain";
import { startAnvil, type Anvil } from "@datamarket/broker/test/anvil";
import { StreamRegistryClient, NEVER } from "../src/wallet/StreamRegistryClient";
import type { StreamAccess } from "../src/client/access";
import { SdkError } from "../src/errors";
import { createStream, makeClient, startTestNet, waitFor, type TestClient, type TestNet } from "./helpers";

const ETH = 10n ** 18n;

describe("SDK access at a confirmation depth on anvil: reorgs", function () {
  this.timeout(120_000);
  let anvil: Anvil;
  let net: TestNet;
  let registry: string;
  let owner: Wallet;
  const clients: TestClient[] = [];

  before(async () => {
    anvil = await startAnvil();
    const deployed = await new StreamRegistry__factory(anvil.admin).deploy(anvil.admin.address);
    await deployed.waitForDeployment();
    registry = await deployed.getAddress();
    owner = Wallet.createRandom().connect(anvil.provider) as unknown as Wallet;
    await (await anvil.admin.sendTransaction({ to: owner.address, value: ETH })).wait();
    net = await startTestNet();
  });
  after(async () => {
    for (const c of clients.splice(0)) await c.client.close();
    await net?.stop();
    await anvil?.stop();
  });

  it("refuses a negative or fractional depth, and a depth without a provider to read the head", () => {
    expect(() => new StreamRegistryClient(registry, anvil.provider, { confirmations: -1 })).to.throw(SdkError, /confirmations must be an integer >= 0/);
    expect(() => new StreamRegistryClient(registry, anvil.provider, { confirmations: 1.5 })).to.throw(SdkError, /confirmations/);
    expect(() => new StreamRegistryClient(registry, Wallet.createRandom(), { confirmations: 2 })).to.throw(SdkError, /needs a runner with a provider/);
  });

  it("counts a permission 2 deep, a revocation at once, and rekeys without a subscriber whose permission a reorg removed", async () => {
    const asOwner = new StreamRegistryClient(registry, owner);
    const atHead = new StreamRegistryClient(registry, anvil.provider);
    const deep = new StreamRegistryClient(registry, anvil.provider, { confirmations: 2 });
    const { streamId } = await asOwner.createStream("/reorg/heart-rate", 1);
    // Permissions through the contract binding: ethers reads the nonce from the node, which a revert
    // has rewound (the SDK's sender never goes below a nonce it used, as a real reorg returns the
    // removed transactions to the pool).
    const contract = StreamRegistry__factory.connect(registry, owner);
    const setSubscribe = async (user: string, subscribeExpiry: bigint) =>
      (
        await contract.setPermission(streamId, user, {
          publishExpiry: 0,
          subscribeExpiry,
          canGrant: false,
          canEdit: false,
          canDelete: false,
          canGrantSubscribe: false,
        })
      ).wait();
    // The publisher hands keys out, and watches access, on the depth-2 answer.
    const access: StreamAccess = { ...net.access, canSubscribe: (s, a) => deep.canSubscribe(s, a) };
    const publisher = makeClient(net, { wallet: owner, access });
    const subscriber = makeClient(net);
    clients.push(publisher, subscriber);
    expect(createStream(net, owner.address, "/reorg/heart-rate")).to.equal(streamId);
    net.gate.grantPublish(streamId, owner.address);

    // Granted (as a licence purchase grants it): at the head at once, at depth 2 only 2 blocks later.
    const beforeGrant = await anvil.snapshot();
    await setSubscribe(subscriber.address, NEVER);
    expect(await atHead.canSubscribe(streamId, subscriber.address)).to.equal(true);
    expect(await deep.canSubscribe(streamId, subscriber.address), "0 deep").to.equal(false);
    await anvil.mine();
    expect(await deep.canSubscribe(streamId, subscriber.address), "1 deep").to.equal(false);
    await anvil.mine();
    expect(await deep.canSubscribe(streamId, subscriber.address), "2 deep").to.equal(true);

    const watched = publisher.client;
    await watched.shareGroupKey(streamId, [subscriber.address]);
    expect(await watched.rekeyIfAccessLost(streamId), "nobody lost access").to.deep.equal([]);

    // A reorg deeper than 2 removes the grant: the SDK no longer believes in it, and the watch rekeys.
    await anvil.revert(beforeGrant);
    await anvil.mine(3);
    expect(await deep.canSubscribe(streamId, subscriber.address)).to.equal(false);
    const rekeys: string[][] = [];
    const stop = watched.watchAccess(streamId, { intervalMs: 20, onRekey: (removed) => rekeys.push(removed) });
    try {
      await waitFor(() => rekeys.length === 1, "the watch's rekey");
    } finally {
      stop();
    }
    expect(rekeys).to.deep.equal([[subscriber.address]]);

    // A revocation counts at the head at once; a reorg that removes it gives the access back.
    await setSubscribe(subscriber.address, NEVER);
    await anvil.mine(2);
    expect(await deep.canSubscribe(streamId, subscriber.address)).to.equal(true);
    const beforeRevoke = await anvil.snapshot();
    await setSubscribe(subscriber.address, 0n);
    expect(await deep.canSubscribe(streamId, subscriber.address), "revoked at the head: refused at once").to.equal(false);
    await anvil.revert(beforeRevoke);
    expect(await deep.canSubscribe(streamId, subscriber.address), "the revocation a reorg removed no longer counts").to.equal(true);
  });
});
