// The stream registry: every external function, every revert path with its exact custom error and
// arguments, every event with its arguments, and the id derivation and storage layout that
// docs/contracts.md documents for integrators and auditors.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { StreamRegistry } from "../../typechain-types";
import {
  Capability,
  KEY_REGISTRAR_ROLE,
  Kind,
  NEVER,
  PERMISSIONS_NAMESPACE,
  addresses,
  asTuple,
  eventArgs,
  permission,
  permissionSlot,
  permissionWord,
  resourceIdOf,
  resourceSlot,
  resourceWord,
} from "../helpers/registry";

const METADATA = JSON.stringify({ description: "heart rate, 1 Hz", unit: "bpm" });
const CONTENT = ethers.sha256(ethers.toUtf8Bytes("encrypted file v1"));
const CONTENT_2 = ethers.sha256(ethers.toUtf8Bytes("encrypted file v2"));
const KEY_02 = "0x02" + "11".repeat(32);
const KEY_03 = "0x03" + "22".repeat(32);

async function registryFixture() {
  const [admin, alice, bob, carol, dave, market] = await ethers.getSigners();
  const registry = (await ethers.deployContract("StreamRegistry", [admin.address])) as unknown as StreamRegistry;
  await registry.connect(alice).createStream("/hr", 3, METADATA);
  const id = resourceIdOf(alice.address, "/hr");
  await registry.connect(alice).createDataset("/labs", CONTENT, "ipfs://bafy-v1", METADATA);
  const datasetId = resourceIdOf(alice.address, "/labs");
  return { registry, id, datasetId, admin, alice, bob, carol, dave, market };
}

/** Alice's stream with bob as grant holder, carol as subscribe delegate, dave as edit+delete holder. */
async function rolesFixture() {
  const f = await registryFixture();
  const { registry, id, alice, bob, carol, dave } = f;
  await registry.connect(alice).setPermission(id, bob.address, permission({ canGrant: true }));
  await registry.connect(alice).setSubscribeDelegate(id, carol.address, true);
  await registry.connect(alice).setPermission(id, dave.address, permission({ canEdit: true, canDelete: true }));
  return f;
}

describe("StreamRegistry", function () {
  describe("deployment and constants", function () {
    it("gives the admin DEFAULT_ADMIN_ROLE, which administers KEY_REGISTRAR_ROLE", async function () {
      const { registry, admin } = await loadFixture(registryFixture);
      expect(await registry.DEFAULT_ADMIN_ROLE()).to.equal(ethers.ZeroHash);
      expect(await registry.hasRole(ethers.ZeroHash, admin.address)).to.equal(true);
      expect(await registry.KEY_REGISTRAR_ROLE()).to.equal(KEY_REGISTRAR_ROLE);
      expect(await registry.getRoleAdmin(KEY_REGISTRAR_ROLE)).to.equal(ethers.ZeroHash);
      expect(await registry.hasRole(KEY_REGISTRAR_ROLE, admin.address)).to.equal(false);
    });

    it("caps partitions at 100 and batches at 100", async function () {
      const { registry } = await loadFixture(registryFixture);
      expect(await registry.MAX_PARTITIONS()).to.equal(100n);
      expect(await registry.MAX_BATCH()).to.equal(100n);
    });

    it("supports IAccessControl and IERC165 and nothing else", async function () {
      const { registry } = await loadFixture(registryFixture);
      expect(await registry.supportsInterface("0x7965db0b")).to.equal(true);
      expect(await registry.supportsInterface("0x01ffc9a7")).to.equal(true);
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
    });

    it("gives the admin no power over resources (the admin is a stranger to alice's stream)", async function () {
      const { registry, id, admin } = await loadFixture(registryFixture);
      await expect(registry.connect(admin).deleteResource(id))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, admin.address, Capability.Delete);
      await expect(registry.connect(admin).setPermission(id, admin.address, permission({ publishExpiry: NEVER })))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, admin.address, Capability.Grant);
    });
  });

  describe("resource ids", function () {
    it("derives id = keccak256(abi.encodePacked(creator, path)), for paths that do not exist too", async function () {
      const { registry, alice, bob } = await loadFixture(registryFixture);
      for (const [creator, path] of [
        [alice.address, "/hr"],
        [bob.address, "/hr"],
        [alice.address, "/not/created/yet"],
      ]) {
        expect(await registry.resourceId(creator, path)).to.equal(ethers.keccak256(ethers.solidityPacked(["address", "string"], [creator, path])));
      }
    });

    it("matches the worked example of docs/contracts.md", async function () {
      const { registry } = await loadFixture(registryFixture);
      const creator = "0x8ba1f109551bd432803012645ac136ddd64dba72";
      const path = "/health/heart-rate";
      // The 20 address bytes followed by the UTF-8 path bytes, no padding, no separator.
      expect(ethers.solidityPacked(["address", "string"], [creator, path])).to.equal(
        "0x8ba1f109551bd432803012645ac136ddd64dba722f6865616c74682f68656172742d72617465",
      );
      expect(await registry.resourceId(creator, path)).to.equal("0x27e6686651c1f9b2150160c7e6f5b8154d06522c8c676f783d9d3c232649c2d6");
    });

    it("namespaces ids by creator: bob's /hr is another resource than alice's /hr", async function () {
      const { registry, id, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).createStream("/hr", 1, ""))
        .to.emit(registry, "ResourceCreated")
        .withArgs(resourceIdOf(bob.address, "/hr"), bob.address, Kind.Stream, "/hr", 1, "");
      expect(resourceIdOf(bob.address, "/hr")).to.not.equal(id);
      expect((await registry.getResource(id)).owner).to.not.equal(bob.address);
    });
  });

  describe("createStream", function () {
    it("creates a stream owned by the caller, returns its id and emits ResourceCreated with the metadata", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      const id = resourceIdOf(bob.address, "/gps/raw");
      expect(await registry.connect(bob).createStream.staticCall("/gps/raw", 7, "{}")).to.equal(id);
      await expect(registry.connect(bob).createStream("/gps/raw", 7, "{}"))
        .to.emit(registry, "ResourceCreated")
        .withArgs(id, bob.address, Kind.Stream, "/gps/raw", 7, "{}");
      const resource = await registry.getResource(id);
      expect(resource.owner).to.equal(bob.address);
      expect(resource.generation).to.equal(0n);
      expect(resource.partitions).to.equal(7n);
      expect(resource.kind).to.equal(BigInt(Kind.Stream));
      expect(resource.publicPublish).to.equal(false);
      expect(resource.publicSubscribe).to.equal(false);
      expect(await registry.pendingOwnerOf(id)).to.equal(ethers.ZeroAddress);
      expect(await registry.datasetContentHash(id)).to.equal(ethers.ZeroHash);
    });

    it("accepts 1 and MAX_PARTITIONS (100) partitions", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      await registry.connect(bob).createStream("/one", 1, "");
      await registry.connect(bob).createStream("/hundred", 100, "");
      expect((await registry.getResource(resourceIdOf(bob.address, "/one"))).partitions).to.equal(1n);
      expect((await registry.getResource(resourceIdOf(bob.address, "/hundred"))).partitions).to.equal(100n);
    });

    it("refuses 0 and 101 partitions with InvalidPartitionCount", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      for (const partitions of [0, 101]) {
        await expect(registry.connect(bob).createStream("/p", partitions, ""))
          .to.be.revertedWithCustomError(registry, "InvalidPartitionCount")
          .withArgs(partitions);
      }
    });

    it("refuses an empty path with InvalidPath", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).createStream("", 1, ""))
        .to.be.revertedWithCustomError(registry, "InvalidPath")
        .withArgs("");
    });

    it("refuses a path without a leading '/' with InvalidPath", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      for (const path of ["hr", "hr/", "~/hr", "0x/hr"]) {
        await expect(registry.connect(bob).createStream(path, 1, ""))
          .to.be.revertedWithCustomError(registry, "InvalidPath")
          .withArgs(path);
      }
    });

    it("refuses the 1-byte path '/' (minimum 2 bytes) with InvalidPath", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).createStream("/", 1, ""))
        .to.be.revertedWithCustomError(registry, "InvalidPath")
        .withArgs("/");
    });

    it("accepts a 128-byte path and refuses a 129-byte one with InvalidPath", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      const longest = "/" + "a".repeat(127);
      await registry.connect(bob).createStream(longest, 1, "");
      expect((await registry.getResource(resourceIdOf(bob.address, longest))).owner).to.equal(bob.address);
      const tooLong = "/" + "a".repeat(128);
      expect(ethers.toUtf8Bytes(tooLong).length).to.equal(129);
      await expect(registry.connect(bob).createStream(tooLong, 1, ""))
        .to.be.revertedWithCustomError(registry, "InvalidPath")
        .withArgs(tooLong);
    });

    it("refuses any character outside [A-Za-z0-9._~/-] with InvalidPath", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      for (const path of ["/a b", "/a?b", "/a%20", "/a:b", "/a@b", "/a+b", "/a\\b", "/a\u0000", "/caf\u00e9", "/a`", "/a{", "/a[", "/a\n"]) {
        await expect(registry.connect(bob).createStream(path, 1, ""), JSON.stringify(path))
          .to.be.revertedWithCustomError(registry, "InvalidPath")
          .withArgs(path);
      }
    });

    it("accepts every character of the set, including the range ends", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      const path = "/azAZ09._~/-" + "Mm5";
      await registry.connect(bob).createStream(path, 1, "");
      expect((await registry.getResource(resourceIdOf(bob.address, path))).owner).to.equal(bob.address);
    });

    it("refuses an id that exists, as stream or dataset, with ResourceExists", async function () {
      const { registry, id, datasetId, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).createStream("/hr", 1, ""))
        .to.be.revertedWithCustomError(registry, "ResourceExists")
        .withArgs(id);
      await expect(registry.connect(alice).createStream("/labs", 1, ""))
        .to.be.revertedWithCustomError(registry, "ResourceExists")
        .withArgs(datasetId);
    });
  });

  describe("createDataset", function () {
    it("creates a dataset with one partition and emits ResourceCreated then DatasetContentUpdated", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      const id = resourceIdOf(bob.address, "/sleep/2026");
      expect(await registry.connect(bob).createDataset.staticCall("/sleep/2026", CONTENT, "ipfs://x", "m")).to.equal(id);
      const tx = registry.connect(bob).createDataset("/sleep/2026", CONTENT, "ipfs://x", "m");
      await expect(tx).to.emit(registry, "ResourceCreated").withArgs(id, bob.address, Kind.Dataset, "/sleep/2026", 1, "m");
      await expect(tx).to.emit(registry, "DatasetContentUpdated").withArgs(id, CONTENT, "ipfs://x");
      const receipt = await (await tx).wait();
      const names = receipt!.logs.map((log) => registry.interface.parseLog(log)!.name);
      expect(names).to.deep.equal(["ResourceCreated", "DatasetContentUpdated"]);
      const resource = await registry.getResource(id);
      expect(resource.kind).to.equal(BigInt(Kind.Dataset));
      expect(resource.partitions).to.equal(1n);
      expect(await registry.datasetContentHash(id)).to.equal(CONTENT);
    });

    it("refuses a zero content hash with EmptyContentHash", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).createDataset("/d", ethers.ZeroHash, "", "")).to.be.revertedWithCustomError(registry, "EmptyContentHash");
    });

    it("validates the path like createStream (InvalidPath) and refuses an existing id (ResourceExists)", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).createDataset("d", CONTENT, "", ""))
        .to.be.revertedWithCustomError(registry, "InvalidPath")
        .withArgs("d");
      await expect(registry.connect(alice).createDataset("/hr", CONTENT, "", ""))
        .to.be.revertedWithCustomError(registry, "ResourceExists")
        .withArgs(id);
    });
  });

  describe("updateMetadata", function () {
    it("emits MetadataUpdated for the owner and for an edit holder", async function () {
      const { registry, id, alice, dave } = await loadFixture(rolesFixture);
      await expect(registry.connect(alice).updateMetadata(id, "v2")).to.emit(registry, "MetadataUpdated").withArgs(id, "v2");
      await expect(registry.connect(dave).updateMetadata(id, "v3")).to.emit(registry, "MetadataUpdated").withArgs(id, "v3");
    });

    it("refuses a caller without edit with NotAuthorized(id, caller, Edit), even a grant holder", async function () {
      const { registry, id, bob, market } = await loadFixture(rolesFixture);
      for (const caller of [bob, market]) {
        await expect(registry.connect(caller).updateMetadata(id, "x"))
          .to.be.revertedWithCustomError(registry, "NotAuthorized")
          .withArgs(id, caller.address, Capability.Edit);
      }
    });

    it("refuses an unknown id with ResourceNotFound", async function () {
      const { registry, alice } = await loadFixture(registryFixture);
      const unknown = resourceIdOf(alice.address, "/nope");
      await expect(registry.connect(alice).updateMetadata(unknown, "x")).to.be.revertedWithCustomError(registry, "ResourceNotFound").withArgs(unknown);
    });
  });

  describe("setPartitions", function () {
    it("changes a stream's partitions and emits PartitionsUpdated (owner and edit holder)", async function () {
      const { registry, id, alice, dave } = await loadFixture(rolesFixture);
      await expect(registry.connect(alice).setPartitions(id, 100)).to.emit(registry, "PartitionsUpdated").withArgs(id, 100);
      await expect(registry.connect(dave).setPartitions(id, 1)).to.emit(registry, "PartitionsUpdated").withArgs(id, 1);
      expect((await registry.getResource(id)).partitions).to.equal(1n);
    });

    it("refuses 0 and 101 with InvalidPartitionCount, keeping the count", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      for (const partitions of [0, 101]) {
        await expect(registry.connect(alice).setPartitions(id, partitions))
          .to.be.revertedWithCustomError(registry, "InvalidPartitionCount")
          .withArgs(partitions);
      }
      expect((await registry.getResource(id)).partitions).to.equal(3n);
    });

    it("refuses a dataset with WrongResourceKind(id, Dataset)", async function () {
      const { registry, datasetId, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setPartitions(datasetId, 2))
        .to.be.revertedWithCustomError(registry, "WrongResourceKind")
        .withArgs(datasetId, Kind.Dataset);
    });

    it("refuses a caller without edit (NotAuthorized Edit) and an unknown id (ResourceNotFound)", async function () {
      const { registry, id, alice, carol } = await loadFixture(rolesFixture);
      await expect(registry.connect(carol).setPartitions(id, 2))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Edit);
      const unknown = resourceIdOf(alice.address, "/nope");
      await expect(registry.connect(alice).setPartitions(unknown, 2)).to.be.revertedWithCustomError(registry, "ResourceNotFound").withArgs(unknown);
    });
  });

  describe("updateDatasetContent", function () {
    it("replaces a dataset's content hash and emits DatasetContentUpdated", async function () {
      const { registry, datasetId, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).updateDatasetContent(datasetId, CONTENT_2, "ipfs://bafy-v2"))
        .to.emit(registry, "DatasetContentUpdated")
        .withArgs(datasetId, CONTENT_2, "ipfs://bafy-v2");
      expect(await registry.datasetContentHash(datasetId)).to.equal(CONTENT_2);
    });

    it("lets an edit holder replace the content", async function () {
      const { registry, datasetId, alice, dave } = await loadFixture(registryFixture);
      await registry.connect(alice).setPermission(datasetId, dave.address, permission({ canEdit: true }));
      await expect(registry.connect(dave).updateDatasetContent(datasetId, CONTENT_2, "")).to.emit(registry, "DatasetContentUpdated");
    });

    it("refuses a stream with WrongResourceKind(id, Stream)", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).updateDatasetContent(id, CONTENT, ""))
        .to.be.revertedWithCustomError(registry, "WrongResourceKind")
        .withArgs(id, Kind.Stream);
    });

    it("refuses a zero hash with EmptyContentHash, keeping the old one", async function () {
      const { registry, datasetId, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).updateDatasetContent(datasetId, ethers.ZeroHash, "")).to.be.revertedWithCustomError(registry, "EmptyContentHash");
      expect(await registry.datasetContentHash(datasetId)).to.equal(CONTENT);
    });

    it("refuses a caller without edit with NotAuthorized(Edit)", async function () {
      const { registry, datasetId, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).updateDatasetContent(datasetId, CONTENT_2, ""))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(datasetId, bob.address, Capability.Edit);
    });
  });

  describe("setPublicAccess", function () {
    it("opens publishing and subscribing to anyone, independently, with PublicAccessUpdated", async function () {
      const { registry, id, alice, market } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setPublicAccess(id, false, true))
        .to.emit(registry, "PublicAccessUpdated")
        .withArgs(id, false, true);
      expect(await registry.canSubscribe(id, market.address)).to.equal(true);
      expect(await registry.canPublish(id, market.address)).to.equal(false);
      await expect(registry.connect(alice).setPublicAccess(id, true, false))
        .to.emit(registry, "PublicAccessUpdated")
        .withArgs(id, true, false);
      expect(await registry.canSubscribe(id, market.address)).to.equal(false);
      expect(await registry.canPublish(id, market.address)).to.equal(true);
      const resource = await registry.getResource(id);
      expect([resource.publicPublish, resource.publicSubscribe]).to.deep.equal([true, false]);
    });

    it("lets an edit holder set it and refuses others with NotAuthorized(Edit)", async function () {
      const { registry, id, bob, dave } = await loadFixture(rolesFixture);
      await expect(registry.connect(dave).setPublicAccess(id, true, true)).to.emit(registry, "PublicAccessUpdated");
      await expect(registry.connect(bob).setPublicAccess(id, false, false))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, bob.address, Capability.Edit);
    });
  });

  describe("ownership (two-step)", function () {
    it("proposes with OwnershipTransferStarted, and the pending owner accepts with OwnershipTransferred", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).transferOwnership(id, bob.address))
        .to.emit(registry, "OwnershipTransferStarted")
        .withArgs(id, alice.address, bob.address);
      expect(await registry.pendingOwnerOf(id)).to.equal(bob.address);
      expect((await registry.getResource(id)).owner).to.equal(alice.address);
      await expect(registry.connect(bob).acceptOwnership(id)).to.emit(registry, "OwnershipTransferred").withArgs(id, alice.address, bob.address);
      expect((await registry.getResource(id)).owner).to.equal(bob.address);
      expect(await registry.pendingOwnerOf(id)).to.equal(ethers.ZeroAddress);
    });

    it("takes every implicit right from the previous owner on acceptance", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await registry.connect(bob).acceptOwnership(id);
      expect(await registry.canPublish(id, alice.address)).to.equal(false);
      expect(await registry.canSubscribe(id, alice.address)).to.equal(false);
      expect(await registry.canPublish(id, bob.address)).to.equal(true);
      await expect(registry.connect(alice).transferOwnership(id, alice.address))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, alice.address, Capability.Owner);
      await expect(registry.connect(alice).setSubscribeExpiry(id, alice.address, NEVER))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, alice.address, Capability.GrantSubscribe);
      // the new owner may now set the old owner's permissions like anyone else's
      await registry.connect(bob).setSubscribeExpiry(id, alice.address, NEVER);
      expect(await registry.canSubscribe(id, alice.address)).to.equal(true);
    });

    it("keeps the rights of other addresses across a transfer", async function () {
      const { registry, id, alice, bob, carol } = await loadFixture(rolesFixture);
      await registry.connect(alice).transferOwnership(id, carol.address);
      await registry.connect(carol).acceptOwnership(id);
      expect((await registry.getPermission(id, bob.address)).canGrant).to.equal(true);
    });

    it("cancels a proposal with address(0): the proposed owner can no longer accept", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await expect(registry.connect(alice).transferOwnership(id, ethers.ZeroAddress))
        .to.emit(registry, "OwnershipTransferStarted")
        .withArgs(id, alice.address, ethers.ZeroAddress);
      expect(await registry.pendingOwnerOf(id)).to.equal(ethers.ZeroAddress);
      await expect(registry.connect(bob).acceptOwnership(id)).to.be.revertedWithCustomError(registry, "NotPendingOwner").withArgs(id, bob.address);
    });

    it("replaces an earlier proposal with a later one", async function () {
      const { registry, id, alice, bob, carol } = await loadFixture(registryFixture);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await registry.connect(alice).transferOwnership(id, carol.address);
      await expect(registry.connect(bob).acceptOwnership(id)).to.be.revertedWithCustomError(registry, "NotPendingOwner").withArgs(id, bob.address);
      await expect(registry.connect(carol).acceptOwnership(id)).to.emit(registry, "OwnershipTransferred");
    });

    it("refuses a proposal from anyone but the owner with NotAuthorized(Owner), even a holder of every permission", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry
        .connect(alice)
        .setPermission(
          id,
          bob.address,
          permission({ publishExpiry: NEVER, subscribeExpiry: NEVER, canGrant: true, canEdit: true, canDelete: true, canGrantSubscribe: true }),
        );
      await expect(registry.connect(bob).transferOwnership(id, bob.address))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, bob.address, Capability.Owner);
    });

    it("refuses the current owner as new owner with InvalidNewOwner", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).transferOwnership(id, alice.address))
        .to.be.revertedWithCustomError(registry, "InvalidNewOwner")
        .withArgs(alice.address);
    });

    it("refuses acceptance by anyone but the pending owner, and for an unknown id", async function () {
      const { registry, id, alice, bob, carol } = await loadFixture(registryFixture);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await expect(registry.connect(carol).acceptOwnership(id)).to.be.revertedWithCustomError(registry, "NotPendingOwner").withArgs(id, carol.address);
      await expect(registry.connect(alice).acceptOwnership(id)).to.be.revertedWithCustomError(registry, "NotPendingOwner").withArgs(id, alice.address);
      const unknown = resourceIdOf(alice.address, "/nope");
      await expect(registry.connect(bob).acceptOwnership(unknown)).to.be.revertedWithCustomError(registry, "ResourceNotFound").withArgs(unknown);
      await expect(registry.connect(alice).transferOwnership(unknown, bob.address))
        .to.be.revertedWithCustomError(registry, "ResourceNotFound")
        .withArgs(unknown);
    });

    it("clears the stored record of an address that becomes owner, so it cannot keep rights after passing ownership on", async function () {
      // Bob held grant+delete rights, became owner (his record can then not be changed: he is the
      // owner), and sold the stream to carol. Bob must not get his old delete right back.
      const { registry, id, alice, bob, carol } = await loadFixture(registryFixture);
      const old = permission({ subscribeExpiry: NEVER, canGrant: true, canDelete: true });
      await registry.connect(alice).setPermission(id, bob.address, old);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await expect(registry.connect(bob).acceptOwnership(id))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, bob.address, permission()));
      // the interface: "the owner's implicit permissions are not stored and read as empty here"
      expect(asTuple(await registry.getPermission(id, bob.address))).to.deep.equal(asTuple(permission()));
      await registry.connect(bob).transferOwnership(id, carol.address);
      await registry.connect(carol).acceptOwnership(id);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(false);
      await expect(registry.connect(bob).deleteResource(id))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, bob.address, Capability.Delete);
    });

    it("emits no PermissionUpdated on acceptance when the new owner had no stored record", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await expect(registry.connect(bob).acceptOwnership(id)).to.not.emit(registry, "PermissionUpdated");
    });
  });

  describe("deleteResource", function () {
    it("deletes, emits ResourceDeleted(id, ended generation) and clears everything but the generation", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).setPublicAccess(id, true, true);
      await registry.connect(alice).transferOwnership(id, bob.address);
      await expect(registry.connect(alice).deleteResource(id)).to.emit(registry, "ResourceDeleted").withArgs(id, 0);
      const resource = await registry.getResource(id);
      expect(resource.owner).to.equal(ethers.ZeroAddress);
      expect(resource.generation).to.equal(1n);
      expect(resource.partitions).to.equal(0n);
      expect(resource.kind).to.equal(BigInt(Kind.Stream));
      expect(resource.publicPublish).to.equal(false);
      expect(resource.publicSubscribe).to.equal(false);
      expect(await registry.pendingOwnerOf(id)).to.equal(ethers.ZeroAddress);
      expect(await registry.canPublish(id, alice.address)).to.equal(false);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(false);
      await expect(registry.connect(bob).acceptOwnership(id)).to.be.revertedWithCustomError(registry, "ResourceNotFound").withArgs(id);
    });

    it("clears a dataset's content hash", async function () {
      const { registry, datasetId, alice } = await loadFixture(registryFixture);
      await registry.connect(alice).deleteResource(datasetId);
      expect(await registry.datasetContentHash(datasetId)).to.equal(ethers.ZeroHash);
      const resource = await registry.getResource(datasetId);
      expect(resource.kind).to.equal(BigInt(Kind.Stream));
    });

    it("lets a delete holder delete and refuses others with NotAuthorized(Delete)", async function () {
      const { registry, id, bob, carol, dave } = await loadFixture(rolesFixture);
      for (const caller of [bob, carol]) {
        await expect(registry.connect(caller).deleteResource(id))
          .to.be.revertedWithCustomError(registry, "NotAuthorized")
          .withArgs(id, caller.address, Capability.Delete);
      }
      await expect(registry.connect(dave).deleteResource(id)).to.emit(registry, "ResourceDeleted").withArgs(id, 0);
    });

    it("makes every operation on the deleted id fail with ResourceNotFound", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).deleteResource(id);
      const calls = [
        () => registry.connect(alice).deleteResource(id),
        () => registry.connect(alice).updateMetadata(id, ""),
        () => registry.connect(alice).setPartitions(id, 1),
        () => registry.connect(alice).updateDatasetContent(id, CONTENT, ""),
        () => registry.connect(alice).setPublicAccess(id, true, true),
        () => registry.connect(alice).transferOwnership(id, bob.address),
        () => registry.connect(alice).setPermission(id, bob.address, permission()),
        () => registry.connect(alice).setPermissionBatch(id, [bob.address], [permission()]),
        () => registry.connect(alice).setPublishExpiry(id, bob.address, 1),
        () => registry.connect(alice).setSubscribeExpiry(id, bob.address, 1),
        () => registry.connect(alice).setSubscribeExpiryBatch(id, [bob.address], [1]),
        () => registry.connect(alice).setSubscribeDelegate(id, bob.address, true),
      ];
      for (const call of calls) {
        await expect(call()).to.be.revertedWithCustomError(registry, "ResourceNotFound").withArgs(id);
      }
    });
  });

  describe("generations: delete then re-create", function () {
    it("gives the re-created resource no permissions of the deleted one", async function () {
      const { registry, id, alice, bob, carol, dave } = await loadFixture(rolesFixture);
      await registry.connect(alice).setSubscribeExpiry(id, dave.address, NEVER);
      await registry.connect(alice).setPublishExpiry(id, dave.address, NEVER);
      await registry.connect(alice).deleteResource(id);
      await expect(registry.connect(alice).createStream("/hr", 1, ""))
        .to.emit(registry, "ResourceCreated")
        .withArgs(id, alice.address, Kind.Stream, "/hr", 1, "");
      expect((await registry.getResource(id)).generation).to.equal(1n);
      for (const user of [bob, carol, dave]) {
        expect(asTuple(await registry.getPermission(id, user.address))).to.deep.equal(asTuple(permission()));
      }
      expect(await registry.canSubscribe(id, dave.address)).to.equal(false);
      expect(await registry.canPublish(id, dave.address)).to.equal(false);
      await expect(registry.connect(bob).setSubscribeExpiry(id, bob.address, NEVER))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, bob.address, Capability.GrantSubscribe);
      await expect(registry.connect(dave).deleteResource(id))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, dave.address, Capability.Delete);
    });

    it("counts generations up over several deletions and grants work on the new generation", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      for (let generation = 0; generation < 3; generation++) {
        await expect(registry.connect(alice).deleteResource(id)).to.emit(registry, "ResourceDeleted").withArgs(id, generation);
        await registry.connect(alice).createStream("/hr", 2, "");
      }
      expect((await registry.getResource(id)).generation).to.equal(3n);
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, NEVER);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(true);
    });

    it("may re-create a deleted stream as a dataset", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await registry.connect(alice).deleteResource(id);
      await registry.connect(alice).createDataset("/hr", CONTENT, "", "");
      const resource = await registry.getResource(id);
      expect(resource.kind).to.equal(BigInt(Kind.Dataset));
      expect(resource.generation).to.equal(1n);
    });
  });

  describe("setPermission", function () {
    it("sets the full record of an address and emits PermissionUpdated with all of it", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      const record = permission({ publishExpiry: 1234n, subscribeExpiry: NEVER, canGrant: true, canEdit: false, canDelete: true, canGrantSubscribe: true });
      await expect(registry.connect(alice).setPermission(id, bob.address, record))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, bob.address, record));
      expect(asTuple(await registry.getPermission(id, bob.address))).to.deep.equal(asTuple(record));
      // overwriting replaces every field
      await registry.connect(alice).setPermission(id, bob.address, permission({ canEdit: true }));
      expect(asTuple(await registry.getPermission(id, bob.address))).to.deep.equal(asTuple(permission({ canEdit: true })));
    });

    it("lets a grant holder set any other address's permissions, including grant", async function () {
      const { registry, id, bob, market } = await loadFixture(rolesFixture);
      const record = permission({ publishExpiry: NEVER, canGrant: true });
      await expect(registry.connect(bob).setPermission(id, market.address, record))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, market.address, record));
    });

    it("lets a grant holder give itself every right but ownership (grant is co-administration)", async function () {
      const { registry, id, bob } = await loadFixture(rolesFixture);
      const everything = permission({ publishExpiry: NEVER, subscribeExpiry: NEVER, canGrant: true, canEdit: true, canDelete: true, canGrantSubscribe: true });
      await registry.connect(bob).setPermission(id, bob.address, everything);
      expect(asTuple(await registry.getPermission(id, bob.address))).to.deep.equal(asTuple(everything));
      await expect(registry.connect(bob).deleteResource(id)).to.emit(registry, "ResourceDeleted");
    });

    it("refuses a caller without grant with NotAuthorized(Grant): stranger, delegate, edit/delete holder", async function () {
      const { registry, id, carol, dave, market } = await loadFixture(rolesFixture);
      for (const caller of [market, carol, dave]) {
        await expect(registry.connect(caller).setPermission(id, market.address, permission({ publishExpiry: NEVER })))
          .to.be.revertedWithCustomError(registry, "NotAuthorized")
          .withArgs(id, caller.address, Capability.Grant);
      }
    });

    it("refuses the owner and address(0) as target with InvalidPermissionTarget", async function () {
      const { registry, id, alice, bob } = await loadFixture(rolesFixture);
      for (const caller of [alice, bob]) {
        await expect(registry.connect(caller).setPermission(id, alice.address, permission()))
          .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
          .withArgs(alice.address);
        await expect(registry.connect(caller).setPermission(id, ethers.ZeroAddress, permission()))
          .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
          .withArgs(ethers.ZeroAddress);
      }
    });

    it("refuses an unknown id with ResourceNotFound", async function () {
      const { registry, alice, bob } = await loadFixture(registryFixture);
      const unknown = resourceIdOf(bob.address, "/hr");
      await expect(registry.connect(alice).setPermission(unknown, bob.address, permission()))
        .to.be.revertedWithCustomError(registry, "ResourceNotFound")
        .withArgs(unknown);
    });
  });

  describe("setPermissionBatch", function () {
    it("sets one record per address with one PermissionUpdated each", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      const users = addresses(3);
      const records = users.map((_, i) => permission({ publishExpiry: BigInt(1000 + i), subscribeExpiry: BigInt(2000 + i), canEdit: i === 1 }));
      const tx = registry.connect(alice).setPermissionBatch(id, users, records);
      for (let i = 0; i < users.length; i++) {
        await expect(tx)
          .to.emit(registry, "PermissionUpdated")
          .withArgs(...eventArgs(id, users[i], records[i]));
      }
      for (let i = 0; i < users.length; i++) {
        expect(asTuple(await registry.getPermission(id, users[i]))).to.deep.equal(asTuple(records[i]));
      }
    });

    it("accepts exactly MAX_BATCH (100) entries", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      const users = addresses(100);
      await registry.connect(alice).setPermissionBatch(
        id,
        users,
        users.map(() => permission({ subscribeExpiry: NEVER })),
      );
      expect(await registry.canSubscribe(id, users[99])).to.equal(true);
    });

    it("refuses an empty batch, 101 entries and a length mismatch with InvalidBatch(length, otherLength)", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setPermissionBatch(id, [], []))
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(0, 0);
      const many = addresses(101);
      await expect(
        registry.connect(alice).setPermissionBatch(
          id,
          many,
          many.map(() => permission()),
        ),
      )
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(101, 101);
      await expect(registry.connect(alice).setPermissionBatch(id, addresses(2), [permission()]))
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(2, 1);
      await expect(registry.connect(alice).setPermissionBatch(id, addresses(1), [permission(), permission()]))
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(1, 2);
    });

    it("reverts the whole batch when one target is invalid (no partial write)", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      const [first] = addresses(1);
      await expect(registry.connect(alice).setPermissionBatch(id, [first, alice.address], [permission({ canEdit: true }), permission()]))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(alice.address);
      expect((await registry.getPermission(id, first)).canEdit).to.equal(false);
    });

    it("refuses a caller without grant with NotAuthorized(Grant)", async function () {
      const { registry, id, carol } = await loadFixture(rolesFixture);
      await expect(registry.connect(carol).setPermissionBatch(id, [carol.address], [permission({ publishExpiry: NEVER })]))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
    });
  });

  describe("setPublishExpiry", function () {
    it("sets only the publish expiry, keeping the rest, and emits the full new record", async function () {
      const { registry, id, alice, bob } = await loadFixture(rolesFixture);
      await expect(registry.connect(alice).setPublishExpiry(id, bob.address, 777n))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, bob.address, permission({ publishExpiry: 777n, canGrant: true })));
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, 888n);
      await registry.connect(alice).setPublishExpiry(id, bob.address, 0n);
      expect(asTuple(await registry.getPermission(id, bob.address))).to.deep.equal(asTuple(permission({ subscribeExpiry: 888n, canGrant: true })));
    });

    it("lets a grant holder set it and refuses the subscribe delegate with NotAuthorized(Grant)", async function () {
      const { registry, id, bob, carol, market } = await loadFixture(rolesFixture);
      await registry.connect(bob).setPublishExpiry(id, market.address, NEVER);
      expect(await registry.canPublish(id, market.address)).to.equal(true);
      await expect(registry.connect(carol).setPublishExpiry(id, carol.address, NEVER))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
    });

    it("refuses the owner and address(0) with InvalidPermissionTarget", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setPublishExpiry(id, alice.address, 1))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(alice.address);
      await expect(registry.connect(alice).setPublishExpiry(id, ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("setSubscribeExpiry", function () {
    it("sets only the subscribe expiry for owner, grant holder and subscribe delegate", async function () {
      const { registry, id, alice, bob, carol, market } = await loadFixture(rolesFixture);
      await registry.connect(alice).setPublishExpiry(id, market.address, 5n);
      for (const [caller, expiry] of [
        [alice, 10n],
        [bob, 20n],
        [carol, 30n],
      ] as const) {
        await expect(registry.connect(caller).setSubscribeExpiry(id, market.address, expiry))
          .to.emit(registry, "PermissionUpdated")
          .withArgs(...eventArgs(id, market.address, permission({ publishExpiry: 5n, subscribeExpiry: expiry })));
      }
    });

    it("refuses a stranger and an edit/delete holder with NotAuthorized(GrantSubscribe)", async function () {
      const { registry, id, dave, market } = await loadFixture(rolesFixture);
      for (const caller of [dave, market]) {
        await expect(registry.connect(caller).setSubscribeExpiry(id, market.address, NEVER))
          .to.be.revertedWithCustomError(registry, "NotAuthorized")
          .withArgs(id, caller.address, Capability.GrantSubscribe);
      }
    });

    it("refuses the owner and address(0) with InvalidPermissionTarget", async function () {
      const { registry, id, alice, carol } = await loadFixture(rolesFixture);
      await expect(registry.connect(carol).setSubscribeExpiry(id, alice.address, 1))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(alice.address);
      await expect(registry.connect(carol).setSubscribeExpiry(id, ethers.ZeroAddress, 1))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("setSubscribeExpiryBatch", function () {
    it("sets the subscribe expiry of many addresses, one event each, also by the delegate", async function () {
      const { registry, id, carol } = await loadFixture(rolesFixture);
      const users = addresses(4);
      const expiries = users.map((_, i) => BigInt(10_000 + i));
      const tx = registry.connect(carol).setSubscribeExpiryBatch(id, users, expiries);
      for (let i = 0; i < users.length; i++) {
        await expect(tx)
          .to.emit(registry, "PermissionUpdated")
          .withArgs(...eventArgs(id, users[i], permission({ subscribeExpiry: expiries[i] })));
      }
      expect((await registry.getPermission(id, users[3])).subscribeExpiry).to.equal(10_003n);
    });

    it("refuses an empty batch, 101 entries and a length mismatch with InvalidBatch", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setSubscribeExpiryBatch(id, [], []))
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(0, 0);
      const many = addresses(101);
      await expect(
        registry.connect(alice).setSubscribeExpiryBatch(
          id,
          many,
          many.map(() => 1n),
        ),
      )
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(101, 101);
      await expect(registry.connect(alice).setSubscribeExpiryBatch(id, addresses(3), [1n, 2n]))
        .to.be.revertedWithCustomError(registry, "InvalidBatch")
        .withArgs(3, 2);
    });

    it("accepts exactly MAX_BATCH entries", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      const users = addresses(100);
      await registry.connect(alice).setSubscribeExpiryBatch(
        id,
        users,
        users.map(() => NEVER),
      );
      expect(await registry.canSubscribe(id, users[0])).to.equal(true);
    });

    it("refuses a caller without grant or delegation, and a batch naming the owner", async function () {
      const { registry, id, alice, dave } = await loadFixture(rolesFixture);
      await expect(registry.connect(dave).setSubscribeExpiryBatch(id, [dave.address], [NEVER]))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, dave.address, Capability.GrantSubscribe);
      await expect(registry.connect(alice).setSubscribeExpiryBatch(id, [dave.address, alice.address], [1n, 1n]))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(alice.address);
    });
  });

  describe("setSubscribeDelegate", function () {
    it("gives and takes the delegation, keeping the delegate's other permissions, with PermissionUpdated", async function () {
      const { registry, id, alice, market } = await loadFixture(registryFixture);
      await registry.connect(alice).setPublishExpiry(id, market.address, 99n);
      await expect(registry.connect(alice).setSubscribeDelegate(id, market.address, true))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, market.address, permission({ publishExpiry: 99n, canGrantSubscribe: true })));
      await expect(registry.connect(alice).setSubscribeDelegate(id, market.address, false))
        .to.emit(registry, "PermissionUpdated")
        .withArgs(...eventArgs(id, market.address, permission({ publishExpiry: 99n })));
      await expect(registry.connect(market).setSubscribeExpiry(id, market.address, NEVER))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, market.address, Capability.GrantSubscribe);
    });

    it("lets a grant holder delegate, and refuses a delegate re-delegating with NotAuthorized(Grant)", async function () {
      const { registry, id, bob, carol, market } = await loadFixture(rolesFixture);
      await registry.connect(bob).setSubscribeDelegate(id, market.address, true);
      expect((await registry.getPermission(id, market.address)).canGrantSubscribe).to.equal(true);
      await expect(registry.connect(carol).setSubscribeDelegate(id, market.address, false))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
    });

    it("refuses the owner and address(0) as delegate with InvalidPermissionTarget", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).setSubscribeDelegate(id, alice.address, true))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(alice.address);
      await expect(registry.connect(alice).setSubscribeDelegate(id, ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(registry, "InvalidPermissionTarget")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("a subscribe delegate (the data-license market) can grant subscribe rights and nothing else", function () {
    it("sets subscribe expiries of buyers and of itself", async function () {
      const { registry, id, carol, market } = await loadFixture(rolesFixture);
      await registry.connect(carol).setSubscribeExpiry(id, market.address, NEVER);
      await registry.connect(carol).setSubscribeExpiry(id, carol.address, NEVER);
      expect(await registry.canSubscribe(id, market.address)).to.equal(true);
      expect(await registry.canSubscribe(id, carol.address)).to.equal(true);
    });

    it("cannot publish, nor grant publish, nor set full records, nor delegate", async function () {
      const { registry, id, carol, market } = await loadFixture(rolesFixture);
      expect(await registry.canPublish(id, carol.address)).to.equal(false);
      await expect(registry.connect(carol).setPublishExpiry(id, carol.address, NEVER))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
      await expect(registry.connect(carol).setPermission(id, market.address, permission({ subscribeExpiry: NEVER })))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
      await expect(registry.connect(carol).setPermissionBatch(id, [market.address], [permission()]))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
      await expect(registry.connect(carol).setSubscribeDelegate(id, market.address, true))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Grant);
    });

    it("cannot edit, delete or transfer the resource", async function () {
      const { registry, id, carol } = await loadFixture(rolesFixture);
      await expect(registry.connect(carol).updateMetadata(id, "x"))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Edit);
      await expect(registry.connect(carol).setPartitions(id, 1))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Edit);
      await expect(registry.connect(carol).setPublicAccess(id, true, true))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Edit);
      await expect(registry.connect(carol).deleteResource(id))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Delete);
      await expect(registry.connect(carol).transferOwnership(id, carol.address))
        .to.be.revertedWithCustomError(registry, "NotAuthorized")
        .withArgs(id, carol.address, Capability.Owner);
    });
  });

  describe("NotAuthorized names each capability", function () {
    it("Owner, Grant, GrantSubscribe, Edit and Delete, for a stranger", async function () {
      const { registry, id, market } = await loadFixture(registryFixture);
      const s = registry.connect(market);
      const cases: [() => Promise<unknown>, number][] = [
        [() => s.transferOwnership(id, market.address), Capability.Owner],
        [() => s.setPermission(id, market.address, permission()), Capability.Grant],
        [() => s.setSubscribeExpiry(id, market.address, 1), Capability.GrantSubscribe],
        [() => s.updateMetadata(id, ""), Capability.Edit],
        [() => s.deleteResource(id), Capability.Delete],
      ];
      for (const [call, capability] of cases) {
        await expect(call()).to.be.revertedWithCustomError(registry, "NotAuthorized").withArgs(id, market.address, capability);
      }
    });
  });

  describe("canPublish and canSubscribe", function () {
    it("answer false for an id that does not exist, for anyone", async function () {
      const { registry, alice } = await loadFixture(registryFixture);
      const unknown = resourceIdOf(alice.address, "/nope");
      expect(await registry.canPublish(unknown, alice.address)).to.equal(false);
      expect(await registry.canSubscribe(unknown, alice.address)).to.equal(false);
      expect(await registry.canSubscribe(unknown, ethers.ZeroAddress)).to.equal(false);
    });

    it("answer true for the owner without any stored permission", async function () {
      const { registry, id, alice } = await loadFixture(registryFixture);
      expect(await registry.canPublish(id, alice.address)).to.equal(true);
      expect(await registry.canSubscribe(id, alice.address)).to.equal(true);
      expect(asTuple(await registry.getPermission(id, alice.address))).to.deep.equal(asTuple(permission()));
    });

    it("keep publish and subscribe apart", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).setPublishExpiry(id, bob.address, NEVER);
      expect(await registry.canPublish(id, bob.address)).to.equal(true);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(false);
      await registry.connect(alice).setPermission(id, bob.address, permission({ subscribeExpiry: NEVER }));
      expect(await registry.canPublish(id, bob.address)).to.equal(false);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(true);
    });

    it("grant, edit, delete and delegation flags give no publish or subscribe right", async function () {
      const { registry, id, bob, carol, dave } = await loadFixture(rolesFixture);
      for (const user of [bob, carol, dave]) {
        expect(await registry.canPublish(id, user.address)).to.equal(false);
        expect(await registry.canSubscribe(id, user.address)).to.equal(false);
      }
    });

    it("honour an expiry E exactly while block.timestamp < E", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      const expiry = BigInt(await time.latest()) + 100n;
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, expiry);
      await time.setNextBlockTimestamp(expiry - 1n);
      await ethers.provider.send("evm_mine", []);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(true);
      await time.setNextBlockTimestamp(expiry);
      await ethers.provider.send("evm_mine", []);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(false);
    });

    it("an expiry of 0 revokes", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, NEVER);
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, 0);
      expect(await registry.canSubscribe(id, bob.address)).to.equal(false);
    });
  });

  describe("encryption keys", function () {
    it("registers and rotates the caller's compressed key with EncryptionKeyRegistered(user, key, user)", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      expect(await registry.encryptionKeyOf(bob.address)).to.equal("0x");
      await expect(registry.connect(bob).registerEncryptionKey(KEY_02)).to.emit(registry, "EncryptionKeyRegistered").withArgs(bob.address, KEY_02, bob.address);
      expect(await registry.encryptionKeyOf(bob.address)).to.equal(KEY_02);
      await expect(registry.connect(bob).registerEncryptionKey(KEY_03)).to.emit(registry, "EncryptionKeyRegistered").withArgs(bob.address, KEY_03, bob.address);
      expect(await registry.encryptionKeyOf(bob.address)).to.equal(KEY_03);
    });

    it("accepts a real secp256k1 compressed public key byte for byte", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      const key = ethers.SigningKey.computePublicKey(ethers.id("bob's encryption key"), true);
      await registry.connect(bob).registerEncryptionKey(key);
      expect(await registry.encryptionKeyOf(bob.address)).to.equal(key);
    });

    it("refuses a key of the wrong length with InvalidEncryptionKey(key)", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      for (const key of ["0x", "0x02" + "11".repeat(31), "0x02" + "11".repeat(33), "0x04" + "11".repeat(64)]) {
        await expect(registry.connect(bob).registerEncryptionKey(key)).to.be.revertedWithCustomError(registry, "InvalidEncryptionKey").withArgs(key);
      }
      expect(await registry.encryptionKeyOf(bob.address)).to.equal("0x");
    });

    it("refuses a 33-byte key whose prefix is not 0x02 or 0x03 with InvalidEncryptionKey(key)", async function () {
      const { registry, bob } = await loadFixture(registryFixture);
      await registry.connect(bob).registerEncryptionKey(KEY_02);
      for (const prefix of ["00", "01", "04", "ff"]) {
        const key = "0x" + prefix + "11".repeat(32);
        await expect(registry.connect(bob).registerEncryptionKey(key)).to.be.revertedWithCustomError(registry, "InvalidEncryptionKey").withArgs(key);
      }
      expect(await registry.encryptionKeyOf(bob.address)).to.equal(KEY_02);
    });

    it("lets a KEY_REGISTRAR_ROLE holder register for another address, naming itself as registrar", async function () {
      const { registry, admin, bob, market } = await loadFixture(registryFixture);
      await expect(registry.connect(admin).grantRole(KEY_REGISTRAR_ROLE, market.address))
        .to.emit(registry, "RoleGranted")
        .withArgs(KEY_REGISTRAR_ROLE, market.address, admin.address);
      await expect(registry.connect(market).registerEncryptionKeyFor(bob.address, KEY_03))
        .to.emit(registry, "EncryptionKeyRegistered")
        .withArgs(bob.address, KEY_03, market.address);
      expect(await registry.encryptionKeyOf(bob.address)).to.equal(KEY_03);
      await expect(registry.connect(market).registerEncryptionKeyFor(bob.address, "0x03"))
        .to.be.revertedWithCustomError(registry, "InvalidEncryptionKey")
        .withArgs("0x03");
    });

    it("refuses registerEncryptionKeyFor from anyone without the role, the admin included, with NotKeyRegistrar", async function () {
      const { registry, admin, bob, market } = await loadFixture(registryFixture);
      for (const caller of [admin, market, bob]) {
        await expect(registry.connect(caller).registerEncryptionKeyFor(bob.address, KEY_02))
          .to.be.revertedWithCustomError(registry, "NotKeyRegistrar")
          .withArgs(caller.address);
      }
      await registry.connect(admin).grantRole(KEY_REGISTRAR_ROLE, market.address);
      await registry.connect(admin).revokeRole(KEY_REGISTRAR_ROLE, market.address);
      await expect(registry.connect(market).registerEncryptionKeyFor(bob.address, KEY_02))
        .to.be.revertedWithCustomError(registry, "NotKeyRegistrar")
        .withArgs(market.address);
    });

    it("only the admin grants KEY_REGISTRAR_ROLE", async function () {
      const { registry, bob, market } = await loadFixture(registryFixture);
      await expect(registry.connect(bob).grantRole(KEY_REGISTRAR_ROLE, market.address))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(bob.address, ethers.ZeroHash);
    });
  });

  describe("storage layout (for auditors)", function () {
    it("keeps PERMISSIONS_NAMESPACE = keccak256('datamarket.StreamRegistry.permissions') inlined in the bytecode", async function () {
      const { registry } = await loadFixture(registryFixture);
      expect(PERMISSIONS_NAMESPACE).to.equal("0xf341d6b971962632078439a9fcd36493c638e9931c2cc1922110fb2199f095a6");
      const code = await ethers.provider.getCode(await registry.getAddress());
      expect(code.includes(PERMISSIONS_NAMESPACE.slice(2))).to.equal(true);
    });

    it("stores the record of (id, generation, user) at keccak256(abi.encode(id, generation, user, namespace)), packed", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      const address = await registry.getAddress();
      const record = permission({ publishExpiry: 0x1122334455667788n, subscribeExpiry: NEVER - 1n, canGrant: true, canDelete: true });
      expect(await ethers.provider.getStorage(address, permissionSlot(id, 0, bob.address))).to.equal(ethers.ZeroHash);
      await registry.connect(alice).setPermission(id, bob.address, record);
      const word = BigInt(await ethers.provider.getStorage(address, permissionSlot(id, 0, bob.address)));
      expect(word).to.equal(permissionWord(record));
      expect(ethers.toBeHex(word, 32)).to.equal(
        // canGrantSubscribe | canDelete | canEdit | canGrant | subscribeExpiry | publishExpiry
        "0x00000000000000000000000000" + "01" + "00" + "01" + "fffffffffffffffe" + "1122334455667788",
      );
      const delegate = permission({ canGrantSubscribe: true, canEdit: true });
      await registry.connect(alice).setPermission(id, bob.address, delegate);
      expect(BigInt(await ethers.provider.getStorage(address, permissionSlot(id, 0, bob.address)))).to.equal(permissionWord(delegate));
    });

    it("moves the records to a new slot in a new generation", async function () {
      const { registry, id, alice, bob } = await loadFixture(registryFixture);
      const address = await registry.getAddress();
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, 500n);
      await registry.connect(alice).deleteResource(id);
      await registry.connect(alice).createStream("/hr", 1, "");
      await registry.connect(alice).setSubscribeExpiry(id, bob.address, 600n);
      expect(BigInt(await ethers.provider.getStorage(address, permissionSlot(id, 0, bob.address)))).to.equal(500n << 64n);
      expect(BigInt(await ethers.provider.getStorage(address, permissionSlot(id, 1, bob.address)))).to.equal(600n << 64n);
    });

    it("keeps the other mappings at slots 2 (content hash), 3 (pending owner) and 4 (encryption key: x, then prefix)", async function () {
      const { registry, datasetId, id, alice, bob } = await loadFixture(registryFixture);
      const address = await registry.getAddress();
      const coder = ethers.AbiCoder.defaultAbiCoder();
      const slotOf = (keyType: string, key: string, slot: number) => ethers.keccak256(coder.encode([keyType, "uint256"], [key, slot]));
      expect(await ethers.provider.getStorage(address, slotOf("bytes32", datasetId, 2))).to.equal(CONTENT);
      await registry.connect(alice).transferOwnership(id, bob.address);
      expect(BigInt(await ethers.provider.getStorage(address, slotOf("bytes32", id, 3)))).to.equal(BigInt(bob.address));
      await registry.connect(bob).registerEncryptionKey(KEY_03);
      const keySlot = BigInt(slotOf("address", bob.address, 4));
      expect(await ethers.provider.getStorage(address, keySlot)).to.equal("0x" + "22".repeat(32));
      expect(BigInt(await ethers.provider.getStorage(address, keySlot + 1n))).to.equal(3n);
    });

    it("stores a Resource in one word of the _resources mapping (slot 1): owner | generation | partitions | kind | public flags", async function () {
      const { registry, id, datasetId, alice } = await loadFixture(registryFixture);
      const address = await registry.getAddress();
      await registry.connect(alice).setPublicAccess(id, false, true);
      expect(BigInt(await ethers.provider.getStorage(address, resourceSlot(id)))).to.equal(
        resourceWord({ owner: alice.address, generation: 0, partitions: 3, kind: Kind.Stream, publicPublish: false, publicSubscribe: true }),
      );
      expect(BigInt(await ethers.provider.getStorage(address, resourceSlot(datasetId)))).to.equal(
        resourceWord({ owner: alice.address, generation: 0, partitions: 1, kind: Kind.Dataset, publicPublish: false, publicSubscribe: false }),
      );
      await registry.connect(alice).deleteResource(id);
      expect(BigInt(await ethers.provider.getStorage(address, resourceSlot(id)))).to.equal(1n << 160n);
    });
  });
});
