// docs/contracts.md §2.10 run as written (only the provider differs: the in-process Hardhat network
// instead of a browser wallet), and the numbers that page states, recomputed.
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { ethers as hardhatEthers } from "hardhat";
import { ethers } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { PERMISSIONS_NAMESPACE, permission, permissionWord } from "../helpers/registry";

const DOC = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "contracts.md"), "utf8");
const registryArtifact = JSON.parse(
  fs.readFileSync(path.join(__dirname, "..", "..", "artifacts", "contracts", "streams", "StreamRegistry.sol", "StreamRegistry.json"), "utf8"),
) as { abi: ethers.InterfaceAbi };

async function walkthroughFixture() {
  const [admin, owner, publisher, subscriber, market, coAdmin, newOwner, a, b, c] = await hardhatEthers.getSigners();
  const deployed = await hardhatEthers.deployContract("StreamRegistry", [admin.address]);
  return { REGISTRY_ADDRESS: await deployed.getAddress(), owner, publisher, subscriber, market, coAdmin, newOwner, a, b, c };
}

describe("docs/contracts.md", function () {
  it("states the worked example, the namespace and the permission word that the code computes", function () {
    const creator = "0x8ba1f109551bd432803012645ac136ddd64dba72";
    const id = ethers.solidityPackedKeccak256(["address", "string"], [creator, "/health/heart-rate"]);
    expect(DOC).to.include(`| id | \`${id}\` |`);
    expect(DOC).to.include(`\`${creator}/health/heart-rate\``);
    const packed = ethers.solidityPacked(["address", "string"], [creator, "/health/heart-rate"]);
    expect(DOC).to.include(`\`${packed.slice(0, 42)}\` \`${packed.slice(42)}\``);
    expect(DOC).to.include(PERMISSIONS_NAMESPACE);
    const word = permissionWord(permission({ publishExpiry: 0x1122334455667788n, subscribeExpiry: 2n ** 64n - 2n, canGrant: true, canDelete: true }));
    expect(DOC).to.include(`\`${ethers.toBeHex(word, 32)}\``);
  });

  it("§2.10: creates, configures, queries, hands over and deletes from a wallet with ethers v6", async function () {
    const { REGISTRY_ADDRESS, owner, publisher, subscriber, market, coAdmin, newOwner, a, b, c } = await loadFixture(walkthroughFixture);
    const provider = hardhatEthers.provider;
    const signer = owner;
    const [publisherAddress, subscriberAddress, MARKET_ADDRESS, coAdminAddress, newOwnerAddress] = [publisher, subscriber, market, coAdmin, newOwner].map(
      (s) => s.address,
    );
    const newOwnerSigner = newOwner;
    const encryptedFileBytes = ethers.toUtf8Bytes("an encrypted file");

    // --- the snippets, as in the doc ---
    const registry = new ethers.Contract(REGISTRY_ADDRESS, registryArtifact.abi, signer);
    const me = await signer.getAddress();

    const streamPath = "/health/heart-rate";
    const id = ethers.solidityPackedKeccak256(["address", "string"], [me, streamPath]);
    const metadata = JSON.stringify({ description: "heart rate, 1 Hz", unit: "bpm" });
    const receipt = await (await registry.createStream(streamPath, 3, metadata)).wait();
    const created = receipt.logs
      .map((log: ethers.Log) => registry.interface.parseLog(log))
      .find((event: ethers.LogDescription | null) => event?.name === "ResourceCreated");
    expect(created.args.id).to.equal(id);
    expect(created.args.owner).to.equal(me);

    await (await registry.setPartitions(id, 5)).wait();
    const forever = 2n ** 64n - 1n;
    await (await registry.setPublishExpiry(id, publisherAddress, forever)).wait();
    const now = BigInt((await provider.getBlock("latest"))!.timestamp);
    await (await registry.setSubscribeExpiry(id, subscriberAddress, now + 30n * 86_400n)).wait();
    await (await registry.setSubscribeExpiryBatch(id, [a.address, b.address, c.address], [forever, forever, now + 3_600n])).wait();
    await (await registry.setSubscribeDelegate(id, MARKET_ADDRESS, true)).wait();
    await (
      await registry.setPermission(id, coAdminAddress, {
        publishExpiry: 0n,
        subscribeExpiry: 0n,
        canGrant: false,
        canEdit: true,
        canDelete: false,
        canGrantSubscribe: false,
      })
    ).wait();

    const mayPublish = await registry.canPublish(id, publisherAddress);
    const maySubscribe = await registry.canSubscribe(id, subscriberAddress);
    expect([mayPublish, maySubscribe]).to.deep.equal([true, true]);
    expect(await registry.canSubscribe(id, c.address)).to.equal(true);
    expect((await registry.getResource(id)).partitions).to.equal(5n);
    expect((await registry.getPermission(id, MARKET_ADDRESS)).canGrantSubscribe).to.equal(true);
    expect((await registry.getPermission(id, coAdminAddress)).canEdit).to.equal(true);

    await (await registry.setPublicAccess(id, false, true)).wait();
    expect(await registry.canSubscribe(id, ethers.Wallet.createRandom().address)).to.equal(true);

    const encryptionKey = ethers.Wallet.createRandom();
    const compressed = ethers.SigningKey.computePublicKey(encryptionKey.publicKey, true);
    await (await registry.registerEncryptionKey(compressed)).wait();
    expect(await registry.encryptionKeyOf(me)).to.equal(compressed);

    let decoded: ethers.ErrorDescription | null = null;
    try {
      await registry.setPartitions(id, 101);
    } catch (error) {
      decoded = registry.interface.parseError((error as { data: string }).data);
    }

    const contentHash = ethers.sha256(encryptedFileBytes);
    await (await registry.createDataset("/labs/2026-q1", contentHash, "ipfs://bafy…", "{}")).wait();
    await (await registry.transferOwnership(id, newOwnerAddress)).wait();
    await (await (registry.connect(newOwnerSigner) as ethers.Contract).acceptOwnership(id)).wait();
    const datasetId = ethers.solidityPackedKeccak256(["address", "string"], [me, "/labs/2026-q1"]);
    expect(await registry.datasetContentHash(datasetId)).to.equal(contentHash);
    await (await registry.deleteResource(datasetId)).wait();

    // --- end of the snippets ---

    expect((await registry.getResource(id)).owner).to.equal(newOwnerAddress);
    expect((await registry.getResource(datasetId)).owner).to.equal(ethers.ZeroAddress);
    expect(decoded?.name).to.equal("InvalidPartitionCount");
    expect(decoded?.args[0]).to.equal(101n);
  });
});
