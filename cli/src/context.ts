// What a command works with, each part created on first use (so that `--help` and commands that
// need no chain load neither ethers nor the SDK): the JSON-RPC provider, the wallet, the deployment
// record and its contracts, the SDK's clients.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { HDNodeWallet, JsonRpcProvider, Wallet, ContractTransactionResponse, ContractTransactionReceipt } from "ethers";
import type { DeploymentRecord } from "@datamarket/contracts";
import type * as Typechain from "@datamarket/contracts/typechain";
import type * as Sdk from "@datamarket/sdk";
import { CliError, ExitCode, config } from "./errors";
import { loadWallet } from "./wallet";
import type { Output } from "./output";
import { loadModule } from "./load";

export interface GlobalOptions {
  rpc: string;
  deployment?: string;
  broker?: string;
  keystore?: string;
  json: boolean;
  quiet: boolean;
  confirmations: number;
}

export const DEFAULT_RPC = "http://127.0.0.1:8545";

export interface Contracts {
  registry: Typechain.IStreamRegistry;
  market: Typechain.IDataLicenseMarket;
  token: Typechain.DATAToken;
  coordinator: Typechain.INetworkCoordinator;
}

export class Context {
  private providerValue?: JsonRpcProvider;
  private walletValue?: Promise<Wallet | HDNodeWallet>;
  private deploymentValue?: Promise<{ record: DeploymentRecord; file: string }>;
  private readonly closers: (() => unknown)[] = [];
  /** Set by a command that ends normally on Ctrl-C (subscribe): called instead of exiting with 130. */
  interruptHandler?: () => void;
  /** A command that printed its result but did not succeed (a failed check) sets its exit code here. */
  exitCode?: number;

  constructor(
    readonly options: GlobalOptions,
    readonly out: Output,
  ) {}

  sdk(): typeof Sdk {
    return loadModule<typeof Sdk>("@datamarket/sdk");
  }

  /** The node, without ethers' 250 ms cache of answers: a nonce read twice in a row is read twice. */
  provider(): JsonRpcProvider {
    if (!this.providerValue) {
      // Node keeps HTTP connections alive by default; a node closing an idle one while a request is
      // sent on it answers "socket hang up". A command makes few requests: one connection each.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const http = require("node:http") as typeof import("node:http");
      http.globalAgent = new http.Agent({ keepAlive: false });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { JsonRpcProvider } = require("ethers") as typeof import("ethers");
      this.providerValue = new JsonRpcProvider(this.options.rpc, undefined, { cacheTimeout: -1, pollingInterval: 250 });
      const provider = this.providerValue;
      this.closers.push(() => provider.destroy());
    }
    return this.providerValue;
  }

  async chainId(): Promise<bigint> {
    try {
      return (await this.provider().getNetwork()).chainId;
    } catch (error) {
      throw new CliError(
        ExitCode.UNAVAILABLE,
        "UNAVAILABLE",
        `no JSON-RPC node answers at ${this.options.rpc} (--rpc, DATAMARKET_RPC_URL)`,
        { rpc: this.options.rpc },
        { cause: error },
      );
    }
  }

  /** The wallet, connected to the provider. */
  wallet(): Promise<Wallet | HDNodeWallet> {
    this.walletValue ??= loadWallet(this.options.keystore, this.out).then((w) => w.connect(this.provider()));
    return this.walletValue;
  }

  async address(): Promise<string> {
    return (await this.wallet()).address;
  }

  /**
   * The deployment record: --deployment / DATAMARKET_DEPLOYMENT (a file), else
   * ./deployments/<chainId>.json, else the record @datamarket/contracts ships for the chain.
   */
  deployment(): Promise<{ record: DeploymentRecord; file: string }> {
    this.deploymentValue ??= (async () => {
      const contracts = loadModule<typeof import("@datamarket/contracts")>("@datamarket/contracts");
      const chainId = await this.chainId();
      const tried: string[] = [];
      const candidates = this.options.deployment ? [path.resolve(this.options.deployment)] : [path.resolve("deployments", `${chainId}.json`)];
      for (const file of candidates) {
        tried.push(file);
        if (!existsSync(file)) continue;
        let json: unknown;
        try {
          json = JSON.parse(readFileSync(file, "utf8"));
        } catch (error) {
          throw config(`${file}: not JSON (${(error as Error).message})`);
        }
        const record = contracts.parseDeploymentRecord(json, file);
        if (BigInt(record.chainId) !== chainId)
          throw config(`${file} records chain ${record.chainId}, but ${this.options.rpc} is chain ${chainId}`, { file, chainId: record.chainId });
        return { record, file };
      }
      if (this.options.deployment) throw config(`deployment record ${tried[0]}: no such file`);
      if (contracts.deployments[Number(chainId)]) return { record: contracts.getDeployment(chainId), file: `@datamarket/contracts deployments[${chainId}]` };
      throw config(
        `no deployment record for chain ${chainId}: none at ${tried.join(", ")} and @datamarket/contracts ships none for it (--deployment FILE, DATAMARKET_DEPLOYMENT)`,
        { chainId },
      );
    })();
    return this.deploymentValue;
  }

  /** Typed contracts of the record, connected to the wallet (`write`) or the provider. */
  async contracts(write: boolean): Promise<Contracts> {
    const { record } = await this.deployment();
    const f = loadModule<typeof Typechain>("@datamarket/contracts/typechain");
    const runner = write ? await this.wallet() : this.provider();
    const c = record.contracts;
    return {
      registry: f.IStreamRegistry__factory.connect(c.StreamRegistry.address, runner),
      market: f.IDataLicenseMarket__factory.connect(c.DataLicenseMarket.address, runner),
      token: f.DATAToken__factory.connect(c.DATAToken.address, runner),
      coordinator: f.INetworkCoordinator__factory.connect(c.NetworkCoordinator.address, runner),
    };
  }

  /** The SDK's registry client (writes from the wallet; reads through the provider when `write` is false). */
  async registryClient(write = true): Promise<Sdk.StreamRegistryClient> {
    const { record } = await this.deployment();
    return new (this.sdk().StreamRegistryClient)(record.contracts.StreamRegistry.address, write ? await this.wallet() : this.provider());
  }

  /**
   * A DataClient: on the fixed broker of --broker / DATAMARKET_BROKER, else on the brokers the
   * coordinator assigns to each stream partition.
   */
  async dataClient(encryptionPrivateKey?: Uint8Array): Promise<Sdk.DataClient> {
    const sdk = this.sdk();
    const wallet = await this.wallet();
    const access = await this.registryClient(false);
    const broker = this.options.broker;
    const options: Sdk.DataClientOptions = broker
      ? { signer: wallet, access, connect: () => sdk.WsTransport.connect({ url: broker, signer: wallet }) }
      : { signer: wallet, access, coordinator: (await this.contracts(false)).coordinator as unknown as NonNullable<Sdk.DataClientOptions["coordinator"]> };
    const client = new sdk.DataClient({
      ...options,
      partitionsOf: (id: string) => access.partitionsOf(id),
      ...(encryptionPrivateKey ? { encryptionPrivateKey } : {}),
    });
    this.closers.push(() => client.close());
    return client;
  }

  /** Sends a transaction and waits for --confirmations, saying so on stderr. */
  async send(what: string, tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
    this.out.progress(`${what}: signing and sending`);
    const sent = await tx;
    this.out.progress(`${what}: ${sent.hash} sent, waiting for ${this.options.confirmations} confirmation${this.options.confirmations === 1 ? "" : "s"}`);
    const receipt = await sent.wait(this.options.confirmations);
    if (!receipt) throw new CliError(ExitCode.REFUSED, "DROPPED", `${what}: transaction ${sent.hash} was dropped`);
    this.out.progress(`${what}: confirmed in block ${receipt.blockNumber}`);
    return receipt;
  }

  /** Runs `close` when the command ends (a connection it opened). */
  onClose(close: () => unknown): void {
    this.closers.push(close);
  }

  onInterrupt(handler: () => void): void {
    this.interruptHandler = handler;
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        /* closing is best effort */
      }
    }
  }
}

/** The receipt fields a command reports. */
export const receiptOf = (receipt: ContractTransactionReceipt) => ({ transaction: receipt.hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed });
