// A broker network for process-level tests: Hardhat's in-process chain served over JSON-RPC behind a
// proxy the test can freeze (requests hang, as on a stalled node), a StreamRegistry and a
// NetworkCoordinator (R = 3, one network partition), and three `broker start` processes registered
// on it, each with its operator key. Everything started is killed by stop(), whatever happened.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { JsonRpcProvider, Wallet } from "ethers";
import { StreamRegistry__factory, type NetworkCoordinator, type StreamRegistry } from "../../typechain-types";
import { DATA, deployCoordinator } from "../../broker/test/chain-fixture";
import { freePort, spawnBroker } from "../../broker/test/process";

/** A TCP proxy in front of the chain node; freeze() stops every byte both ways until unfreeze(). */
export class FreezableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  private readonly waiting: (() => void)[] = [];

  async start(targetPort: number): Promise<number> {
    this.server = createServer((client) => {
      const open = () => {
        const upstream = connect(targetPort, "127.0.0.1");
        for (const s of [client, upstream]) {
          this.sockets.add(s);
          s.on("close", () => this.sockets.delete(s));
          s.on("error", () => undefined);
        }
        client.pipe(upstream);
        upstream.pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
        if (this.frozen) {
          client.pause();
          upstream.pause();
        }
      };
      if (this.frozen) {
        client.pause();
        this.waiting.push(open);
      } else open();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return (this.server!.address() as { port: number }).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  unfreeze(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
    for (const open of this.waiting.splice(0)) open();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface BrokerProcess {
  index: number;
  operator: Wallet;
  address: string;
  wsPort: number;
  httpPort: number;
  wsUrl: string;
  httpUrl: string;
  dataDir: string;
  configFile: string;
  child?: ChildProcess;
  /** When the current process logged "broker listening" (ms). */
  readyAt: number;
}

export interface TestNetwork {
  proxy: FreezableProxy;
  rpcUrl: string;
  provider: JsonRpcProvider;
  registry: StreamRegistry;
  coordinator: NetworkCoordinator;
  brokers: BrokerProcess[];
  start(b: BrokerProcess): Promise<void>;
  kill(b: BrokerProcess): void;
  health(b: BrokerProcess): Promise<Record<string, any>>;
  stop(): Promise<void>;
}

/** Starts the chain, deploys, registers three operators and starts their brokers (separate processes). */
export async function startNetwork(options: { maxStalenessMs: number; log?: (line: string) => void }): Promise<TestNetwork> {
  const scratch = mkdtempSync(path.join(tmpdir(), "sdk-network-"));
  const children = new Set<ChildProcess>();
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
  const { port } = await server.listen();
  const proxy = new FreezableProxy();
  const rpcUrl = `http://127.0.0.1:${await proxy.start(port)}`;
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
  const stop = async () => {
    for (const c of children) c.kill("SIGKILL");
    provider.destroy();
    await proxy.stop();
    await server.close();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    const [admin] = await hre.ethers.getSigners();
    const fromBlock = (await hre.ethers.provider.getBlockNumber()) + 1;
    const registry = await new StreamRegistry__factory(admin).deploy(admin.address);
    // One network partition (P cannot grow), R = 3: every broker holds every event.
    const { coordinator, token, address: coordinatorAddress } = await deployCoordinator(1, { maxPartitions: 1 });
    const record = {
      chainId: 31337,
      contracts: {
        StreamRegistry: { address: await registry.getAddress(), deployBlock: fromBlock },
        NetworkCoordinator: { address: coordinatorAddress, deployBlock: fromBlock },
      },
    };
    const deployment = path.join(scratch, "31337.json");
    writeFileSync(deployment, JSON.stringify(record));
    const brokers: BrokerProcess[] = [];
    for (let i = 0; i < 3; i++) {
      const operator = Wallet.createRandom() as unknown as Wallet;
      const wsPort = await freePort();
      const httpPort = await freePort();
      const dataDir = path.join(scratch, `broker-${i}`);
      const configFile = path.join(scratch, `broker-${i}.json`);
      writeFileSync(
        configFile,
        JSON.stringify({
          host: "127.0.0.1",
          wsPort,
          httpPort,
          dataDir,
          chainId: 31337,
          verifyThreads: 0,
          access: { maxStalenessMs: options.maxStalenessMs },
          chain: { mode: "on", rpcUrl, deployment, pollMs: 100 },
          consentLedger: { kind: "off" },
          replication: { acks: "majority", ackTimeoutMs: 2000, catchUpWaitMs: 5000, pageEvents: 2000, peers: [] },
        }),
      );
      await hre.network.provider.send("hardhat_setBalance", [operator.address, "0x" + (10n ** 20n).toString(16)]);
      await (await token.mint(operator.address, DATA(1000))).wait();
      const signer = operator.connect(hre.ethers.provider);
      await (await token.connect(signer).approve(coordinatorAddress, DATA(1000))).wait();
      await (
        await coordinator
          .connect(signer)
          .registerBroker(DATA(1000), `ws://127.0.0.1:${wsPort}`, `http://127.0.0.1:${httpPort}`, operator.signingKey.compressedPublicKey)
      ).wait();
      brokers.push({
        index: i,
        operator,
        address: operator.address.toLowerCase(),
        wsPort,
        httpPort,
        wsUrl: `ws://127.0.0.1:${wsPort}`,
        httpUrl: `http://127.0.0.1:${httpPort}`,
        dataDir,
        configFile,
        readyAt: 0,
      });
    }
    for (let i = 0; i < 16 && (await coordinator.rebalanceNeeded()); i++) await (await coordinator.rebalance(64)).wait();

    const start = async (b: BrokerProcess) => {
      b.readyAt = 0;
      const started = await spawnBroker(b.configFile, {
        env: { BROKER__CHAIN__OPERATOR_KEY: b.operator.privateKey, BROKER__LOG__LEVEL: "info" },
        onLine: options.log && ((line) => options.log!(`[broker ${b.index}] ${line}`)),
      });
      children.add(started.child);
      started.child.once("exit", () => children.delete(started.child));
      b.child = started.child;
      b.readyAt = started.readyAt;
    };
    const health = async (b: BrokerProcess) => (await (await fetch(`${b.httpUrl}/health`)).json()) as Record<string, any>;
    await Promise.all(brokers.map(start));
    return {
      proxy,
      rpcUrl,
      provider,
      registry: registry.connect(admin) as StreamRegistry,
      coordinator,
      brokers,
      start,
      health,
      stop,
      kill: (b) => {
        b.child?.kill("SIGKILL");
        b.child = undefined;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
