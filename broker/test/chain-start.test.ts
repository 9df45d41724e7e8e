// `broker start` on the contracts: the configured start finds the node (JSON-RPC) and the
// deployment record, follows the registry into its stream index, takes the coordinator's epoch
// definition and assignment, and runs the in-process consent ledger; without a node it runs static.

import { expect } from "chai";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pino from "pino";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { DEFAULT_CONFIG, type BrokerConfig } from "../src/config";
import { startConfiguredBroker } from "../src/Broker";
import { deploymentCandidates } from "../src/chain/ChainBackend";
import { ContractAccessGate } from "../src/access/ContractAccessGate";
import { CoordinatorAssignment } from "../src/network/CoordinatorAssignment";
import { streamIdOf } from "../src/protocol/event";
import { DATA, EPOCH_SECONDS, deployCoordinator, deployMarket } from "./chain-fixture";
import { tempDir, waitFor } from "./helpers";

describe("configured start on the contracts", function () {
  this.timeout(120_000);
  let server: JsonRpcServer;
  let rpcUrl: string;
  before(async () => {
    server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
    const { port } = await server.listen();
    rpcUrl = `http://127.0.0.1:${port}`;
  });
  after(async () => server.close());

  it("looks for a local Hardhat node on 127.0.0.1:8545 and deployments/31337.json by default", () => {
    expect(DEFAULT_CONFIG.chain).to.include({ mode: "auto", rpcUrl: "http://127.0.0.1:8545", deployment: "" });
    expect(DEFAULT_CONFIG.consentLedger.kind).to.equal("in-process");
    const candidates = deploymentCandidates(31337, "/srv/app/broker");
    expect(candidates.slice(0, 3)).to.deep.equal(["/srv/app/broker/deployments/31337.json", "/srv/app/deployments/31337.json", "/srv/deployments/31337.json"]);
    expect(candidates).to.include(resolve(__dirname, "..", "..", "deployments", "31337.json")); // the repository's, where npm run deploy writes it
  });

  it("runs on its static configuration when no node answers (auto), and refuses to start when one is required (on)", async () => {
    const tmp = tempDir();
    const base: BrokerConfig = { ...structuredClone(DEFAULT_CONFIG), wsPort: 0, httpPort: 0, dataDir: tmp.dir, verifyThreads: 0 };
    const dead = { ...base.chain, rpcUrl: "http://127.0.0.1:9" }; // discard port: nothing answers
    const running = await startConfiguredBroker({ ...base, chain: { ...dead, mode: "auto" } }, pino({ level: "silent" }));
    expect(running.chain).to.equal(undefined);
    const health = await (await fetch(`http://127.0.0.1:${running.httpPort}/health`)).json() as { chain: Record<string, unknown> };
    expect(health.chain).to.deep.include({ mode: "auto", connected: false, rpcUrl: "http://127.0.0.1:9" });
    expect(health.chain.reason).to.match(/^no Ethereum node answers at http:\/\/127\.0\.0\.1:9 /);
    await running.close();
    let error: Error | undefined;
    await startConfiguredBroker({ ...base, chain: { ...dead, mode: "on" } }, pino({ level: "silent" })).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^chain\.rpcUrl: no Ethereum node answers at http:\/\/127\.0\.0\.1:9/);
    tmp.remove();
  });

  it("follows the deployed registry, market and coordinator named by the deployment record", async () => {
    const firstBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const market = await deployMarket();
    const coord = await deployCoordinator(4);
    const signers = await hre.ethers.getSigners();
    const operator = signers[8];
    await (await coord.token.mint(operator.address, DATA(1000))).wait();
    await (await coord.token.connect(operator).approve(coord.address, DATA(1000))).wait();
    await (await coord.coordinator.connect(operator).registerBroker(DATA(1000), "ws://127.0.0.1:7170", "http://127.0.0.1:7171", "0x02" + "11".repeat(32))).wait();
    while ((await coord.coordinator.rebalance.staticCall(50)) > 0n) await (await coord.coordinator.rebalance(50)).wait();
    const creator = signers[9];
    await (await market.registry.connect(creator).createStream("/city/parking", 4, '{"description":"Free parking places"}')).wait();

    const tmp = tempDir();
    const deployment = join(tmp.dir, "31337.json");
    writeFileSync(deployment, JSON.stringify({
      chainId: 31337,
      contracts: {
        StreamRegistry: { address: market.addresses.registry, deployBlock: firstBlock },
        DataLicenseMarket: { address: market.addresses.market, deployBlock: firstBlock },
        NetworkCoordinator: { address: coord.address, deployBlock: firstBlock },
      },
    }));
    const operatorKey = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"; // Hardhat account #8
    expect(new (await import("ethers")).Wallet(operatorKey).address).to.equal(operator.address);
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG), wsPort: 0, httpPort: 0, dataDir: tmp.dir, verifyThreads: 0,
      chain: { ...DEFAULT_CONFIG.chain, rpcUrl, deployment, pollMs: 100, operatorKey },
    };
    const running = await startConfiguredBroker(config, pino({ level: "silent" }));
    try {
      expect(running.chain?.gate).to.be.instanceOf(ContractAccessGate);
      expect(running.chain?.assignment).to.be.instanceOf(CoordinatorAssignment);
      expect(running.chain?.consentLedger, "the embedded consent ledger").to.not.equal(undefined);
      expect(running.chain?.reporter).to.not.equal(undefined);
      // The broker's epochs are the coordinator's.
      expect(running.epochs.epochLengthMs).to.equal(EPOCH_SECONDS * 1000);
      expect(running.epochs.genesisMs).to.equal(Number(await coord.coordinator.genesis()) * 1000);
      expect(running.chain!.assignment!.served()).to.deep.equal([0, 1, 2, 3]); // the only broker: every partition
      const parking = streamIdOf(creator.address.toLowerCase(), "/city/parking");
      const res = await fetch(`http://127.0.0.1:${running.httpPort}/streams/${parking}`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({ id: parking, partitions: 4, path: "/city/parking" });
      await (await market.registry.connect(creator).setPartitions(parking, 6)).wait();
      await waitFor(() => running.chain!.feeder.index.get(parking)?.partitions === 6, 3000, "the index to follow PartitionsUpdated");
    } finally {
      await running.close();
      tmp.remove();
    }
  });
});
