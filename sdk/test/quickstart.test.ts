// docs/sdk.md's quick start, line for line, against the protocol deployed by the deploy task on
// Hardhat's network (its record in a temporary directory instead of deployments/) and the broker
// package in-process. (The broker here is told about the stream by hand: its index of the registry's
// events is the broker's part.)
import { expect } from "chai";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { DataClient, StreamRegistryClient, WsTransport, loadDeployment, type ReceivedMessage } from "../src";
import { deployedProtocol } from "./chain";
import { startTestNet, waitFor, type TestNet } from "./helpers";

describe("quick start", function () {
  this.timeout(60_000);
  let net: TestNet;
  after(async () => net?.stop());

  it("publishes and subscribes on a public stream as the quick start shows", async () => {
    net = await startTestNet();
    const [, wallet] = await hre.ethers.getSigners();
    const { dir } = await deployedProtocol();
    const received: unknown[] = [];
    // --- as in docs/sdk.md
    const deployment = await loadDeployment(31337, wallet, { dir });
    const registry = new StreamRegistryClient(deployment.addresses.registry, wallet);
    const client = new DataClient({
      signer: wallet,
      access: registry,
      connect: () => WsTransport.connect({ url: net.url, signer: wallet }),
    });
    const { streamId } = await registry.createStream("/demo/hello", 1);
    await registry.setPublicAccess(streamId, false, true);
    // --- (the broker learns of the stream)
    net.index.apply({ type: "created", stream: { id: streamId, creator: wallet.address.toLowerCase(), path: "/demo/hello", partitions: 1, metadata: {} } });
    net.gate.makePublic(streamId).grantPublish(streamId, wallet.address);
    // ---
    const encrypted: boolean[] = [];
    await client.subscribe(streamId, (message: ReceivedMessage) => void (received.push(message.parsed()), encrypted.push(message.encrypted)));
    await client.publish(streamId, { hello: "world" });
    await waitFor(() => received.length === 1, "the event");
    expect(received).to.deep.equal([{ hello: "world" }]);
    expect(encrypted).to.deep.equal([false]); // a public stream is not encrypted
    await client.close();
  });
});
