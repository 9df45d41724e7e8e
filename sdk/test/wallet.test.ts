// Wallet helpers against the real StreamRegistry on Hardhat's in-process network, and the
// DataClient verifying events against the registry's publish permission and fetching the
// registered encryption keys from it.
import { expect } from "chai";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions"; // hre.ethers typings (the config loads the plugin)
import { DataClient } from "../src/client/DataClient";
import { WsTransport } from "../src/client/transport";
import { generateKeyPair } from "@datamarket/protocol";
import { SdkErrorCodes, type SdkError } from "../src/errors";
import { NEVER, StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import { createRelease, encryptDataset, openRelease } from "../src/dataset/Dataset";
import { startTestNet, waitFor, type TestNet } from "./helpers";

describe("wallet helpers on the stream registry", function () {
  this.timeout(60_000);
  let net: TestNet;
  after(async () => net?.stop());

  it("creates a stream, grants permissions, registers keys, and the client verifies and decrypts against the registry", async () => {
    const [admin, publisherSigner, subscriberSigner, strangerSigner] = await hre.ethers.getSigners();
    const registry = await (await hre.ethers.getContractFactory("StreamRegistry")).deploy(admin.address);
    const address = await registry.getAddress();
    const asPublisher = new StreamRegistryClient(address, publisherSigner);
    const asSubscriber = new StreamRegistryClient(address, subscriberSigner);

    const { streamId } = await asPublisher.createStream("/health/heart-rate", 2, '{"unit":"bpm"}');
    expect(streamId).to.equal(await registry.resourceId(publisherSigner.address, "/health/heart-rate"));
    expect(await asPublisher.partitionsOf(streamId)).to.equal(2);
    await asPublisher.setPermission(streamId, subscriberSigner.address, { subscribeExpiry: NEVER });
    expect(await asPublisher.canPublish(streamId, publisherSigner.address)).to.equal(true);
    expect(await asPublisher.canSubscribe(streamId, subscriberSigner.address)).to.equal(true);
    expect(await asPublisher.canPublish(streamId, strangerSigner.address)).to.equal(false);

    const encryption = generateKeyPair();
    await asSubscriber.registerEncryptionKey(encryption.publicKey);
    expect(Buffer.from((await asPublisher.encryptionKeyOf(subscriberSigner.address))!).equals(Buffer.from(encryption.publicKey))).to.equal(true);
    expect(await asPublisher.encryptionKeyOf(strangerSigner.address)).to.equal(null);
    try {
      await asSubscriber.registerEncryptionKey(Buffer.alloc(33));
      expect.fail("accepted a key that is not a curve point");
    } catch (err) {
      expect(err).to.have.property("code", SdkErrorCodes.INVALID_KEY);
    }

    // The broker's own gate is static here; the SDK's checks go to the chain.
    net = await startTestNet();
    net.index.apply({
      type: "created",
      stream: { id: streamId, creator: publisherSigner.address.toLowerCase(), path: "/health/heart-rate", partitions: 2, metadata: {} },
    });
    net.gate.grantPublish(streamId, publisherSigner.address).grantPublish(streamId, strangerSigner.address).grantSubscribe(streamId, subscriberSigner.address);
    const publisher = new DataClient({
      signer: publisherSigner,
      access: asPublisher,
      partitionsOf: (id) => asPublisher.partitionsOf(id),
      connect: () => WsTransport.connect({ url: net.url, signer: publisherSigner }),
    });
    const stranger = new DataClient({
      signer: strangerSigner,
      access: asPublisher,
      connect: () => WsTransport.connect({ url: net.url, signer: strangerSigner }),
    });
    const subscriber = new DataClient({
      signer: subscriberSigner,
      access: asSubscriber,
      encryptionPrivateKey: encryption.privateKey,
      connect: () => WsTransport.connect({ url: net.url, signer: subscriberSigner }),
    });
    try {
      const got: unknown[] = [];
      const errors: SdkError[] = [];
      await subscriber.subscribe(streamId, (m) => void got.push(m.parsed()), { partition: 1, onError: (e) => void errors.push(e) });
      await publisher.shareGroupKey(streamId, [subscriberSigner.address]);
      await publisher.publish(streamId, { bpm: 70 }, { partition: 1 });
      // A publisher the broker lets through but the registry does not know: refused by the SDK.
      await stranger.publish(streamId, { bpm: 0 }, { partition: 1, encrypt: false });
      await waitFor(() => got.length === 1 && errors.length === 1, "the event and the refusal");
      expect(got).to.deep.equal([{ bpm: 70 }]);
      expect(errors[0].code).to.equal(SdkErrorCodes.PUBLISHER_NOT_ALLOWED);
    } finally {
      await Promise.all([publisher.close(), stranger.close(), subscriber.close()]);
    }
  });

  it("registers a dataset's content hash and a buyer verifies a consent-filtered download against it", async () => {
    const [admin, seller, buyer] = await hre.ethers.getSigners();
    const registry = await (await hre.ethers.getContractFactory("StreamRegistry")).deploy(admin.address);
    const asSeller = new StreamRegistryClient(await registry.getAddress(), seller);
    const asBuyer = new StreamRegistryClient(await registry.getAddress(), buyer);
    const encryption = generateKeyPair();
    await asBuyer.registerEncryptionKey(encryption.publicKey);

    const datasetId = StreamRegistryClient.resourceId(seller.address, "/kraken/cohort-2026");
    const ds = encryptDataset(datasetId, [
      { subjectId: "patient-1", data: Buffer.from("a") },
      { subjectId: "patient-2", data: Buffer.from("b") },
      { subjectId: "patient-3", data: Buffer.from("c") },
    ]);
    const { datasetId: created } = await asSeller.createDataset("/kraken/cohort-2026", ds.contentHash, "https://seller.example/kraken/cohort-2026");
    expect(created).to.equal(datasetId);

    const release = createRelease(
      ds,
      { decision: "approved", approvedSubjects: ["patient-3"], deniedByReason: { WITHDRAWN: 1, EXPIRED: 1 } },
      { address: buyer.address, publicKey: (await asSeller.encryptionKeyOf(buyer.address))! },
    );
    const opened = openRelease(release, await asBuyer.datasetContentHash(datasetId), encryption.privateKey);
    expect(opened.subjects.map((x) => [x.subjectId, x.records.map(String)])).to.deep.equal([["patient-3", ["c"]]]);
    expect(opened.leftOut).to.deep.equal({ total: 2, byReason: { WITHDRAWN: 1, EXPIRED: 1 } });
  });
});
