// The stream index follows the real StreamRegistry's events (Hardhat's in-process network):
// creation, metadata, partitions, deletion; datasets stay out; a feeder resumes from a block.

import { expect } from "chai";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { keccak256, toUtf8Bytes } from "ethers";
import { RegistryStreamFeeder } from "../src/streams/RegistryStreamFeeder";
import { InMemoryStreamIndex } from "../src/streams/StreamIndex";
import { streamIdOf } from "../src/wire";
import { StreamRegistry__factory } from "../../typechain-types";
import { waitFor } from "./helpers";

describe("stream index fed by the registry's events", function () {
  this.timeout(60_000);

  it("indexes created streams, follows metadata, partitions and deletion, and leaves datasets out", async () => {
    const [admin, creator] = await hre.ethers.getSigners();
    const registry = await new StreamRegistry__factory(admin).deploy(await admin.getAddress());
    const deployBlock = (await registry.deploymentTransaction()!.wait())!.blockNumber;
    const mine = registry.connect(creator);
    const creatorAddress = (await creator.getAddress()).toLowerCase();
    await (await mine.createStream("/weather/temperature", 3, '{"description":"Temperature in Delft"}')).wait();
    await (await mine.createDataset("/weather/archive", keccak256(toUtf8Bytes("file")), "ipfs://archive", "{}")).wait();

    const index = new InMemoryStreamIndex();
    const feeder = new RegistryStreamFeeder(index, {
      provider: hre.ethers.provider,
      registry: await registry.getAddress(),
      fromBlock: deployBlock,
      pollMs: 50,
    });
    await feeder.start();
    try {
      const temperature = streamIdOf(creatorAddress, "/weather/temperature");
      expect(index.get(temperature)).to.deep.equal({
        id: temperature,
        creator: creatorAddress,
        path: "/weather/temperature",
        partitions: 3,
        metadata: { description: "Temperature in Delft" },
      });
      expect(index.get(streamIdOf(creatorAddress, "/weather/archive"))).to.equal(undefined);
      expect(index.find({ text: "delft", limit: 10, offset: 0 }).total).to.equal(1);

      await (await mine.updateMetadata(temperature, "not json")).wait();
      await waitFor(() => index.get(temperature)?.metadata.text === "not json", 3000, "metadata update");
      await (await mine.setPartitions(temperature, 5)).wait();
      await waitFor(() => index.get(temperature)?.partitions === 5, 3000, "partitions update");
      await (await mine.createStream("/weather/wind", 1, "")).wait();
      const wind = streamIdOf(creatorAddress, "/weather/wind");
      await waitFor(() => index.get(wind) !== undefined, 3000, "second stream");
      await (await mine.deleteResource(temperature)).wait();
      await waitFor(() => index.get(temperature) === undefined, 3000, "deletion");
      expect(index.find({ creator: creatorAddress, limit: 10, offset: 0 }).streams.map((s) => s.path)).to.deep.equal(["/weather/wind"]);

      // A second feeder resuming from the first one's cursor sees only what comes after.
      const resumed = new InMemoryStreamIndex();
      const later = new RegistryStreamFeeder(resumed, {
        provider: hre.ethers.provider,
        registry: await registry.getAddress(),
        fromBlock: feeder.cursor,
        pollMs: 50,
      });
      await later.start();
      await (await mine.createStream("/weather/rain", 2, "{}")).wait();
      const rain = streamIdOf(creatorAddress, "/weather/rain");
      await waitFor(() => resumed.get(rain) !== undefined, 3000, "stream created after the resume point");
      later.stop();
      expect(resumed.get(wind)).to.equal(undefined);
      expect(resumed.get(rain)!.partitions).to.equal(2);
    } finally {
      feeder.stop();
    }
  });
});
