// The broker resolves ENS names of streams (GET /names/{name}) with the StreamNames contract, on the
// real ENS registry (from @ensdomains/ens) deployed on Hardhat's in-process network.

import { expect } from "chai";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { id as keccakId, namehash, ZeroAddress, ZeroHash } from "ethers";
import { StreamNameResolver } from "../src/streams/StreamNames";
import { startTestBroker } from "./helpers";
import { deployMarket } from "./chain-fixture";

describe("stream names (GET /names/{name})", function () {
  this.timeout(60_000);

  it("resolves a name its stream's owner set, names a stale or unknown name, and refuses what is not a name", async () => {
    const d = await deployMarket();
    const [admin, kraken] = await hre.ethers.getSigners();
    const ens = await hre.ethers.deployContract("ENSRegistry", []);
    const names = await hre.ethers.deployContract("StreamNames", [await ens.getAddress(), ZeroAddress, d.addresses.registry]);
    await (await ens.getFunction("setSubnodeOwner")(ZeroHash, keccakId("eth"), admin.address)).wait();
    await (await ens.getFunction("setSubnodeOwner")(namehash("eth"), keccakId("kraken"), kraken.address)).wait();
    await (await d.registry.connect(kraken).createStream("/names-test", 1, "{}")).wait();
    const streamId = (await d.registry.resourceId(kraken.address, "/names-test")).toLowerCase();
    await (await names.connect(kraken).getFunction("setName")("kraken.eth", streamId)).wait();

    const broker = await startTestBroker({}, undefined, undefined, { names: new StreamNameResolver(await names.getAddress(), hre.ethers.provider, 0) });
    try {
      const get = async (name: string) => {
        const res = await fetch(`${broker.httpUrl}/names/${encodeURIComponent(name)}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect(await get("kraken.eth")).to.deep.equal({ status: 200, body: { name: "kraken.eth", node: namehash("kraken.eth"), streamId } });
      expect((await get("KRAKEN.eth")).body.streamId).to.equal(streamId);
      const unknown = await get("nobody.eth");
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.deep.include({ code: "UNKNOWN_STREAM" });
      expect((unknown.body.details as Record<string, unknown>).reason).to.equal("NameNotSet");
      await (await ens.connect(kraken).getFunction("setOwner")(namehash("kraken.eth"), admin.address)).wait();
      const stale = await get("kraken.eth");
      expect(stale.status).to.equal(404);
      expect((stale.body.details as Record<string, unknown>).reason).to.equal("NameStale");
      const bad = await get("kra_ken.eth");
      expect(bad.status).to.equal(400);
      expect(bad.body).to.deep.include({ code: "BAD_REQUEST" });
    } finally {
      await broker.stop();
    }
  });
});
