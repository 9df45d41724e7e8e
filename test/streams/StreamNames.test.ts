// StreamNames against the real ENS registry and public resolver on the local chain: a stream's owner
// names it with an ENS name it controls (owner, approved operator, wrapped-name owner, or the address
// the name resolves to); anyone resolves the name; the record goes stale as soon as control of the
// name or ownership of the stream moves. Names are checked and hashed on chain exactly as ENS does.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Contract } from "ethers";
import { deployFoundation } from "../helpers/foundation";
import { deployEns } from "../helpers/ens";
import type { NameWrapperMock, StreamNames } from "../../typechain-types";

const NAME = "heart-rate.kraken.eth";
const NODE = ethers.namehash(NAME);

async function fixture() {
  const [admin, kraken, bob, mallory, operator] = await ethers.getSigners();
  const { registry } = await deployFoundation(admin);
  const ens = await deployEns(admin);
  const wrapper = (await ethers.deployContract("NameWrapperMock")) as unknown as NameWrapperMock;
  const names = (await ethers.deployContract("StreamNames", [
    await ens.registry.getAddress(),
    await wrapper.getAddress(),
    await registry.getAddress(),
  ])) as unknown as StreamNames;
  await ens.claim("kraken.eth", kraken.address);
  // Kraken creates its subname itself, as a name owner does.
  await ens.registry.connect(kraken).getFunction("setSubnodeOwner")(ethers.namehash("kraken.eth"), ethers.id("heart-rate"), kraken.address);
  await registry.connect(kraken).createStream("/health/heart-rate", 1, "{}");
  const streamId = await registry.resourceId(kraken.address, "/health/heart-rate");
  return { admin, kraken, bob, mallory, operator, registry, ens, wrapper, names, streamId };
}

function ensCall(contract: Contract, signer: { address: string }, fn: string, ...args: unknown[]) {
  return contract.connect(signer as never).getFunction(fn)(...args);
}

describe("StreamNames", () => {
  describe("names", () => {
    it("hashes names exactly as ENS (ethers namehash)", async () => {
      const { names } = await loadFixture(fixture);
      for (const name of ["eth", "kraken.eth", NAME, "a.b.c.d.e", "0x-1.sub-name.eth", "a--b.eth", "xn.eth", "x".repeat(255)]) {
        expect(await names.namehash(name), name).to.equal(ethers.namehash(name));
      }
    });

    it("refuses names that are empty, too long, not normalised ASCII, with empty labels or with -- in 3rd-4th place", async () => {
      const { names } = await loadFixture(fixture);
      const bad = [
        "",
        "x".repeat(256),
        ".eth",
        "kraken..eth",
        "kraken.eth.",
        "Kraken.eth",
        "kraken_x.eth",
        "kräken.eth",
        "kra ken.eth",
        "ab--c.eth",
        "xn--nxasmq6b.eth",
        "heart.ab--.eth",
      ];
      for (const name of bad) {
        await expect(names.namehash(name), JSON.stringify(name)).to.be.revertedWithCustomError(names, "InvalidName").withArgs(name);
      }
    });
  });

  describe("setting a name", () => {
    it("names a stream its owner owns with a name it owns in ENS; anyone resolves it", async () => {
      const { kraken, bob, names, streamId } = await loadFixture(fixture);
      await expect(names.connect(kraken).setName(NAME, streamId)).to.emit(names, "StreamNameSet").withArgs(NODE, streamId, kraken.address, NAME);
      expect(await names.connect(bob).resolve(NODE)).to.equal(streamId);
      const record = await names.nameRecord(NODE);
      expect([record.resourceId, record.owner]).to.deep.equal([streamId, kraken.address]);
    });

    it("refuses a caller that does not control the name, and one that does not own the stream", async () => {
      const { kraken, mallory, registry, names, streamId } = await loadFixture(fixture);
      // Mallory owns a stream but not the name.
      await registry.connect(mallory).createStream("/fake", 1, "{}");
      const fake = await registry.resourceId(mallory.address, "/fake");
      await expect(names.connect(mallory).setName(NAME, fake)).to.be.revertedWithCustomError(names, "NotNameController").withArgs(NODE, mallory.address);
      // Kraken owns the name but not Mallory's stream, nor a stream that does not exist.
      await expect(names.connect(kraken).setName(NAME, fake)).to.be.revertedWithCustomError(names, "NotResourceOwner").withArgs(fake, kraken.address);
      await expect(names.connect(kraken).setName(NAME, ethers.id("nothing")))
        .to.be.revertedWithCustomError(names, "NotResourceOwner")
        .withArgs(ethers.id("nothing"), kraken.address);
      // A name nobody owns is controlled by nobody.
      await expect(names.connect(kraken).setName("nobody.eth", streamId))
        .to.be.revertedWithCustomError(names, "NotNameController")
        .withArgs(ethers.namehash("nobody.eth"), kraken.address);
      expect(await names.controls(ethers.ZeroAddress, NODE)).to.equal(false);
    });

    it("accepts an operator the name's owner approved in the registry", async () => {
      const { kraken, operator, registry, ens, names } = await loadFixture(fixture);
      await ensCall(ens.registry, kraken, "setApprovalForAll", operator.address, true);
      await registry.connect(operator).createStream("/ops", 1, "{}");
      const ops = await registry.resourceId(operator.address, "/ops");
      expect(await names.controls(operator.address, NODE)).to.equal(true);
      await expect(names.connect(operator).setName(NAME, ops)).to.emit(names, "StreamNameSet");
      expect(await names.resolve(NODE)).to.equal(ops);
      await ensCall(ens.registry, kraken, "setApprovalForAll", operator.address, false);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale").withArgs(NODE, ops, operator.address);
    });

    it("accepts the address the name resolves to (its resolver's addr record), while it does", async () => {
      const { kraken, bob, registry, ens, names } = await loadFixture(fixture);
      await ensCall(ens.registry, kraken, "setResolver", NODE, await ens.resolver.getAddress());
      await ensCall(ens.resolver, kraken, "setAddr(bytes32,address)", NODE, bob.address);
      await registry.connect(bob).createStream("/bob", 1, "{}");
      const bobs = await registry.resourceId(bob.address, "/bob");
      await expect(names.connect(bob).setName(NAME, bobs)).to.emit(names, "StreamNameSet").withArgs(NODE, bobs, bob.address, NAME);
      expect(await names.resolve(NODE)).to.equal(bobs);
      // The owner points the name elsewhere: Bob's record is void.
      await ensCall(ens.resolver, kraken, "setAddr(bytes32,address)", NODE, kraken.address);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale").withArgs(NODE, bobs, bob.address);
    });

    it("reads wrapped names' owner and operators from the NameWrapper", async () => {
      const { kraken, bob, operator, registry, ens, wrapper, names, streamId } = await loadFixture(fixture);
      // The name is wrapped: the registry says the wrapper owns it, the wrapper says Kraken.
      await ensCall(ens.registry, kraken, "setOwner", NODE, await wrapper.getAddress());
      expect(await names.controls(kraken.address, NODE)).to.equal(false);
      await wrapper.setOwner(BigInt(NODE), kraken.address);
      expect(await names.controls(kraken.address, NODE)).to.equal(true);
      await expect(names.connect(kraken).setName(NAME, streamId)).to.emit(names, "StreamNameSet");
      expect(await names.resolve(NODE)).to.equal(streamId);
      // Its ERC-1155 operator controls it too; a registry operator of the wrapper's owner does not.
      await wrapper.connect(kraken).setApprovalForAll(operator.address, true);
      expect(await names.controls(operator.address, NODE)).to.equal(true);
      await ensCall(ens.registry, kraken, "setApprovalForAll", bob.address, true);
      expect(await names.controls(bob.address, NODE)).to.equal(false);
      // Expired in the wrapper (owner 0): nobody controls it, the record is stale.
      await wrapper.setOwner(BigInt(NODE), ethers.ZeroAddress);
      expect(await names.controls(kraken.address, NODE)).to.equal(false);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale");
      void registry;
    });

    it("does not let a hostile resolver break anything: no code, revert, gas burn, short or dirty answers", async () => {
      const { kraken, bob, registry, ens, names } = await loadFixture(fixture);
      await registry.connect(bob).createStream("/bob", 1, "{}");
      const bobs = await registry.resourceId(bob.address, "/bob");
      const resolvers = [
        bob.address, // an account without code
        ...(await Promise.all([0, 1, 2, 3].map(async (mode) => (await ethers.deployContract("HostileResolver", [mode, bob.address])).getAddress()))),
      ];
      for (const resolver of resolvers) {
        await ensCall(ens.registry, kraken, "setResolver", NODE, resolver);
        expect(await names.controls(bob.address, NODE), resolver).to.equal(false);
        await expect(names.connect(bob).setName(NAME, bobs)).to.be.revertedWithCustomError(names, "NotNameController");
        // The owner's own route is unaffected.
        expect(await names.controls(kraken.address, NODE)).to.equal(true);
      }
    });
  });

  describe("staleness and clearing", () => {
    async function named() {
      const f = await loadFixture(fixture);
      await f.names.connect(f.kraken).setName(NAME, f.streamId);
      return f;
    }

    it("goes stale when the name changes hands; the new owner can name its own stream", async () => {
      const { kraken, bob, registry, ens, names, streamId } = await named();
      await ensCall(ens.registry, kraken, "setOwner", NODE, bob.address);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale").withArgs(NODE, streamId, kraken.address);
      await registry.connect(bob).createStream("/bob", 1, "{}");
      const bobs = await registry.resourceId(bob.address, "/bob");
      await names.connect(bob).setName(NAME, bobs);
      expect(await names.resolve(NODE)).to.equal(bobs);
    });

    it("goes stale when the stream changes hands or is deleted", async () => {
      const { kraken, bob, registry, names, streamId } = await named();
      await registry.connect(kraken).transferOwnership(streamId, bob.address);
      expect(await names.resolve(NODE)).to.equal(streamId); // not yet accepted
      await registry.connect(bob).acceptOwnership(streamId);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale").withArgs(NODE, streamId, kraken.address);

      await registry.connect(kraken).createStream("/other", 1, "{}");
      const other = await registry.resourceId(kraken.address, "/other");
      await names.connect(kraken).setName(NAME, other);
      expect(await names.resolve(NODE)).to.equal(other);
      await registry.connect(kraken).deleteResource(other);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameStale").withArgs(NODE, other, kraken.address);
    });

    it("is cleared by the name's controller only; an unset name does not resolve", async () => {
      const { kraken, mallory, names } = await named();
      await expect(names.connect(mallory).clearName(NODE)).to.be.revertedWithCustomError(names, "NotNameController").withArgs(NODE, mallory.address);
      await expect(names.connect(kraken).clearName(NODE)).to.emit(names, "StreamNameCleared").withArgs(NODE, kraken.address);
      await expect(names.resolve(NODE)).to.be.revertedWithCustomError(names, "NameNotSet").withArgs(NODE);
      await expect(names.connect(kraken).clearName(NODE)).to.be.revertedWithCustomError(names, "NameNotSet").withArgs(NODE);
      const record = await names.nameRecord(NODE);
      expect([record.resourceId, record.owner]).to.deep.equal([ethers.ZeroHash, ethers.ZeroAddress]);
    });

    it("exposes the ENS registry, the wrapper and the stream registry it reads", async () => {
      const { ens, wrapper, registry, names } = await loadFixture(fixture);
      expect(await names.ens()).to.equal(await ens.registry.getAddress());
      expect(await names.nameWrapper()).to.equal(await wrapper.getAddress());
      expect(await names.registry()).to.equal(await registry.getAddress());
    });
  });
});
