// `broker start` on the contracts: the configured start finds the node (JSON-RPC) and the
// deployment record, follows the registry into its stream index, takes the coordinator's epoch
// definition and assignment, and runs the in-process consent ledger; without a node it runs static.
// A broker with no operator key routes as the coordinator does (single node, every partition), and a
// consent ledger that cannot be reached makes the gate stale, named in /health and /metrics.

import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
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
import { ContentType, EncryptionType, ZERO_HASH, signEvent, streamIdOf } from "../src/wire";
import { fabric } from "@datamarket/consent-ledger";
import { DATA, EPOCH_SECONDS, deployCoordinator, deployMarket } from "./chain-fixture";
import { tempDir, waitFor } from "./helpers";

/** A deployment record (docs/deployment.md §4) in `dir` naming `contracts`, each deployed from `deployBlock`. */
function writeDeployment(dir: string, deployBlock: number, contracts: Record<string, string>): string {
  const file = join(dir, "31337.json");
  writeFileSync(
    file,
    JSON.stringify({ chainId: 31337, contracts: Object.fromEntries(Object.entries(contracts).map(([name, address]) => [name, { address, deployBlock }])) }),
  );
  return file;
}

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
    const health = (await (await fetch(`http://127.0.0.1:${running.httpPort}/health`)).json()) as { chain: Record<string, unknown> };
    expect(health.chain).to.deep.include({ mode: "auto", connected: false, rpcUrl: "http://127.0.0.1:9" });
    expect(health.chain.reason).to.match(/^no Ethereum node answers at http:\/\/127\.0\.0\.1:9 /);
    await running.close();
    let error: Error | undefined;
    await startConfiguredBroker({ ...base, chain: { ...dead, mode: "on" } }, pino({ level: "silent" })).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^INVALID_CONFIG: chain\.rpcUrl: no Ethereum node answers at http:\/\/127\.0\.0\.1:9/);
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
    await (
      await coord.coordinator.connect(operator).registerBroker(DATA(1000), "ws://127.0.0.1:7170", "http://127.0.0.1:7171", "0x02" + "11".repeat(32))
    ).wait();
    while ((await coord.coordinator.rebalance.staticCall(50)) > 0n) await (await coord.coordinator.rebalance(50)).wait();
    const creator = signers[9];
    await (await market.registry.connect(creator).createStream("/city/parking", 4, '{"description":"Free parking places"}')).wait();

    const tmp = tempDir();
    const deployment = writeDeployment(tmp.dir, firstBlock, {
      StreamRegistry: market.addresses.registry,
      DataLicenseMarket: market.addresses.market,
      NetworkCoordinator: coord.address,
    });
    const operatorKey = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"; // Hardhat account #8
    expect(new (await import("ethers")).Wallet(operatorKey).address).to.equal(operator.address);
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
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

  it("persists its chain checkpoint under dataDir and resumes there at the next start, with the index and confirmations 0 on chain 31337", async () => {
    const firstBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const market = await deployMarket();
    const creator = (await hre.ethers.getSigners())[9];
    await (await market.registry.connect(creator).createStream("/checkpoint/first", 3, "{}")).wait();
    const tmp = tempDir();
    const deployment = writeDeployment(tmp.dir, firstBlock, { StreamRegistry: market.addresses.registry, DataLicenseMarket: market.addresses.market });
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      chain: { ...DEFAULT_CONFIG.chain, rpcUrl, deployment, pollMs: 100 },
      consentLedger: { ...DEFAULT_CONFIG.consentLedger, kind: "off" },
    };
    const first = await startConfiguredBroker(config, pino({ level: "silent" }));
    let tip: number;
    try {
      expect(first.chain!.follower.confirmations).to.equal(0);
      expect(first.chain!.follower.resumed).to.deep.include({ checkpoint: false, from: firstBlock, reason: "no checkpoint" });
      tip = first.chain!.follower.cursor - 1;
    } finally {
      await first.close();
    }
    const second = await startConfiguredBroker(config, pino({ level: "silent" }));
    try {
      expect(second.chain!.follower.resumed).to.deep.include({ checkpoint: true });
      expect(second.chain!.follower.resumed!.from).to.be.greaterThan(tip);
      const id = streamIdOf(creator.address.toLowerCase(), "/checkpoint/first");
      expect(second.chain!.feeder.index.get(id), "the stream comes from the checkpoint's index").to.deep.include({ partitions: 3 });
    } finally {
      await second.close();
      tmp.remove();
    }
  });

  it("finds a stream created after its last poll at once (polls on a miss), and still refuses an unknown one", async () => {
    const firstBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const market = await deployMarket();
    const tmp = tempDir();
    const deployment = writeDeployment(tmp.dir, firstBlock, { StreamRegistry: market.addresses.registry, DataLicenseMarket: market.addresses.market });
    // A poll interval far longer than the test: only the on-demand poll can find the new stream.
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      chain: { ...DEFAULT_CONFIG.chain, rpcUrl, deployment, pollMs: 600_000, operatorKey: "" },
    };
    const running = await startConfiguredBroker(config, pino({ level: "silent" }));
    try {
      const creator = (await hre.ethers.getSigners())[9];
      await (await market.registry.connect(creator).createStream("/just/created", 2, "")).wait();
      const created = streamIdOf(creator.address.toLowerCase(), "/just/created");
      expect(running.chain!.feeder.index.get(created), "not polled yet").to.equal(undefined);
      const res = await fetch(`http://127.0.0.1:${running.httpPort}/streams/${created}`);
      expect(res.status, await res.clone().text()).to.equal(200);
      expect(await res.json()).to.deep.include({ id: created, partitions: 2, path: "/just/created" });
      const unknown = streamIdOf(creator.address.toLowerCase(), "/never/created");
      const missing = await fetch(`http://127.0.0.1:${running.httpPort}/streams/${unknown}`);
      expect(missing.status).to.equal(404);
      expect(((await missing.json()) as { code: string }).code).to.equal("UNKNOWN_STREAM");
    } finally {
      await running.close();
      tmp.remove();
    }
  });

  it("without an operator key routes every stream partition as the coordinator does, serving them all as a single node", async () => {
    const firstBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const market = await deployMarket();
    const coord = await deployCoordinator(16); // no broker registered
    const creator = (await hre.ethers.getSigners())[9];
    const creatorKey = Buffer.from("2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6", "hex"); // Hardhat account #9
    await (await market.registry.connect(creator).createStream("/city/traffic", 4, "{}")).wait();
    const stream = streamIdOf(creator.address.toLowerCase(), "/city/traffic");
    const tmp = tempDir();
    const deployment = writeDeployment(tmp.dir, firstBlock, {
      StreamRegistry: market.addresses.registry,
      DataLicenseMarket: market.addresses.market,
      NetworkCoordinator: coord.address,
    });
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      chain: { ...DEFAULT_CONFIG.chain, rpcUrl, deployment, pollMs: 100 },
      consentLedger: { kind: "off", startBlock: 0 },
    };
    const running = await startConfiguredBroker(config, pino({ level: "silent" }));
    try {
      await waitFor(() => running.chain!.feeder.index.get(stream) !== undefined, 3000, "the stream in the index");
      const onChain = await Promise.all([0, 1, 2, 3].map(async (sp) => Number(await coord.coordinator.networkPartitionOf(stream, sp))));
      expect(
        onChain.some((np) => np !== 0),
        "the four stream partitions are not all in network partition 0",
      ).to.equal(true);
      const body = (await (await fetch(`http://127.0.0.1:${running.httpPort}/streams/${stream}`)).json()) as {
        assignment: string;
        routing: { streamPartition: number; networkPartition: number; servedHere: boolean; brokers: unknown[] }[];
      };
      expect(body.assignment).to.equal("single-node");
      expect(body.routing).to.deep.equal(
        onChain.map((networkPartition, streamPartition) => ({ streamPartition, networkPartition, servedHere: true, brokers: [] })),
      );
      const health = (await (await fetch(`http://127.0.0.1:${running.httpPort}/health`)).json()) as Record<string, unknown>;
      expect(health).to.deep.include({ status: "ok", assignment: "single-node" });
      expect(health.chain).to.deep.include({ mode: "auto", connected: true, consentLedger: "off" });
      // a publish to a stream partition whose network partition is not 0 is served here
      const sp = onChain.findIndex((np) => np !== 0);
      const event = signEvent(
        {
          streamId: stream,
          streamPartition: sp,
          timestamp: Date.now(),
          sequenceNumber: 0,
          previousEventHash: ZERO_HASH,
          publisher: creator.address.toLowerCase(),
          contentType: ContentType.JSON,
          encryptionType: EncryptionType.NONE,
          groupKeyId: ZERO_HASH,
          content: Buffer.from('{"cars":12}'),
        },
        creatorKey,
      );
      const published = await fetch(`http://127.0.0.1:${running.httpPort}/streams/${stream}/partitions/${sp}/events`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: event.frame,
      });
      expect(published.status, await published.clone().text()).to.equal(201);
    } finally {
      await running.close();
      tmp.remove();
    }
  });

  it("starts on a Fabric gateway that cannot be reached, fails closed, and names the consent ledger in /health and /metrics", async () => {
    const firstBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const market = await deployMarket();
    const tmp = tempDir();
    const authority = await fabric.CertificateAuthority.create("AuditMSP");
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(tmp.dir, "tls-ca.pem"), authority.certificatePem);
    writeFileSync(join(tmp.dir, "cert.pem"), (await authority.enroll("broker", { "consent.role": "auditor" })).certificatePem);
    writeFileSync(join(tmp.dir, "key.pem"), privateKey.export({ format: "pem", type: "pkcs8" }).toString());
    const deployment = writeDeployment(tmp.dir, firstBlock, { StreamRegistry: market.addresses.registry, DataLicenseMarket: market.addresses.market });
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      chain: { ...DEFAULT_CONFIG.chain, rpcUrl, deployment, pollMs: 100 },
      consentLedger: {
        kind: "fabric-gateway",
        startBlock: 0,
        fabric: {
          endpoint: "127.0.0.1:1",
          mspId: "AuditMSP",
          tlsCaCertificateFile: join(tmp.dir, "tls-ca.pem"),
          certificateFile: join(tmp.dir, "cert.pem"),
          privateKeyFile: join(tmp.dir, "key.pem"),
          channelName: "consent",
          chaincodeName: "consent",
        },
      },
    };
    const running = await startConfiguredBroker(config, pino({ level: "silent" }));
    try {
      const health = await fetch(`http://127.0.0.1:${running.httpPort}/health`);
      expect(health.status).to.equal(503);
      const body = (await health.json()) as {
        gate: { chain: { stale: boolean }; consentLedger: { stale: boolean; ageMs: number | null; error?: string } };
        chain: Record<string, unknown>;
      };
      expect(body.chain).to.deep.include({ connected: true, consentLedger: "fabric-gateway" });
      expect(body.gate.chain.stale).to.equal(false);
      expect(body.gate.consentLedger).to.deep.include({ stale: true, ageMs: null });
      await waitFor(() => running.chain!.consent!.lastError !== undefined, 30_000, "the gateway error");
      const metrics = await (await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).text();
      expect(metrics).to.match(/^broker_access_gate_stale 1$/m);
      expect(metrics).to.match(/^broker_consent_ledger_age_seconds \+Inf$/m);
      expect(metrics).to.match(/^broker_chain_head_age_seconds 0\.\d+$/m);
    } finally {
      await running.close();
      tmp.remove();
    }
  });
});
