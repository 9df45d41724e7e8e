// The wallet helpers against a separate `hardhat node` process (JSON-RPC on 127.0.0.1, port 0:
// the port it prints), as the docs/sdk.md quick start runs against `npm run node`. ethers'
// JsonRpcProvider shares identical requests for 250 ms, so two transactions of one wallet sent
// back to back read the same pending count: the control case shows the node refusing the second
// (NONCE_EXPIRED); the SDK's helpers assign nonces themselves and never hit it.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Contract, ContractFactory, JsonRpcProvider, Wallet } from "ethers";
import { StreamRegistryClient } from "../src/wallet/StreamRegistryClient";
import { isNonceError, sendWithNonce } from "../src/wallet/transactions";
import { generateKeyPair } from "@datamarket/protocol";

const ROOT = path.join(__dirname, "..", "..");
/** Hardhat's first default account (`npm run node` prints it). */
const ACCOUNT_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/** `hardhat node` in its own process on 127.0.0.1, port 0; resolves with the URL it prints once it listens. */
function startHardhatNode(): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const cli = require.resolve("hardhat/internal/cli/bootstrap", { paths: [ROOT] });
    const child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", "0"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
    });
    let out = "";
    const timer = setTimeout(() => reject(new Error(`hardhat node did not listen within 120 s: ${out.slice(-2000)}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const listening = /Started HTTP and WebSocket JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (listening) {
        clearTimeout(timer);
        resolve({ url: listening[1], child });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited (${code}): ${out.slice(-2000)}`));
    });
  });
}

describe("wallet helpers on a separate hardhat node (JSON-RPC)", function () {
  this.timeout(180_000);
  let node: { url: string; child: ChildProcess } | undefined;
  let registryAddress = "";
  /** A second funded key, for the control case. */
  const second = Wallet.createRandom().privateKey;

  before(async () => {
    node = await startHardhatNode();
    const artifact = JSON.parse(readFileSync(path.join(ROOT, "artifacts", "contracts", "streams", "StreamRegistry.sol", "StreamRegistry.json"), "utf8"));
    const deployer = new Wallet(ACCOUNT_0, new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 }));
    const registry = await new ContractFactory(artifact.abi, artifact.bytecode, deployer).deploy(deployer.address);
    await registry.waitForDeployment();
    registryAddress = await registry.getAddress();
    await (await deployer.sendTransaction({ to: new Wallet(second).address, value: 10n ** 18n })).wait();
  });

  after(() => {
    node?.child.kill("SIGKILL");
  });

  it("control: two plain ethers sends of one wallet at once reuse a nonce and the node refuses one (NONCE_EXPIRED)", async () => {
    const wallet = new Wallet(second, new JsonRpcProvider(node!.url)); // ethers' defaults, as the quick start
    const artifact = JSON.parse(readFileSync(path.join(ROOT, "artifacts", "contracts", "streams", "StreamRegistry.sol", "StreamRegistry.json"), "utf8"));
    const registry = new Contract(registryAddress, artifact.abi, wallet);
    const results = await Promise.allSettled([registry.createStream("/control/a", 1, ""), registry.createStream("/control/b", 1, "")]);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused, "the control must reproduce the failure, else this test proves nothing").to.have.length(1);
    expect(isNonceError((refused[0] as PromiseRejectedResult).reason)).to.equal(true);
  });

  it("runs the quick start's transactions back to back without NONCE_EXPIRED", async () => {
    const wallet = new Wallet(ACCOUNT_0, new JsonRpcProvider(node!.url)); // ethers' defaults
    const registry = new StreamRegistryClient(registryAddress, wallet);
    const { streamId } = await registry.createStream("/demo/hello", 1);
    await registry.setPublicAccess(streamId, false, true);
    await registry.setPermission(streamId, "0x" + "22".repeat(20), { subscribeExpiry: 2n ** 64n - 1n });
    await registry.registerEncryptionKey(generateKeyPair().publicKey);
    expect(await registry.isPublic(streamId)).to.equal(true);
  });

  it("sends concurrent transactions of one wallet through two clients with consecutive nonces", async () => {
    const provider = new JsonRpcProvider(node!.url);
    const wallet = new Wallet(ACCOUNT_0, provider);
    const [a, b] = [new StreamRegistryClient(registryAddress, wallet), new StreamRegistryClient(registryAddress, new Wallet(ACCOUNT_0, provider))];
    const before = await provider.getTransactionCount(wallet.address, "pending");
    const created = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).createStream(`/concurrent/${i}`, 1)));
    const nonces = await Promise.all(created.map(async (c) => (await provider.getTransaction(c.receipt.hash))!.nonce));
    expect([...nonces].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 6 }, (_, i) => before + i));
  });

  it("picks up a nonce used behind its back (another program sent with the same key)", async () => {
    const provider = new JsonRpcProvider(node!.url);
    const wallet = new Wallet(ACCOUNT_0, provider);
    const registry = new StreamRegistryClient(registryAddress, wallet);
    await registry.createStream("/behind/1", 1);
    const other = new Wallet(ACCOUNT_0, new JsonRpcProvider(node!.url, undefined, { cacheTimeout: -1 }));
    await (await other.sendTransaction({ to: other.address, value: 1n })).wait();
    await registry.createStream("/behind/2", 1);
    // And a send that fails before reaching the node does not leave a nonce gap behind.
    await sendWithNonce(wallet, async () => {
      throw new Error("refused by the wallet");
    }).catch(() => undefined);
    await registry.createStream("/behind/3", 1);
  });
});
