// What a JSON-RPC request costs anvil, in its own CPU (from /proc/<pid>/stat), with and without
// transactions waiting in its pool: a request at the pending block (eth_call "pending", and
// eth_estimateGas, which anvil runs at pending when no block is named) executes the whole pool first.
// This is why the SDK names the block it estimates at (sdk/src/wallet/MarketClient.ts, estimateGasAt).
//   ts-node --transpile-only bench/anvil-rpc.ts            (nothing pending)
//   FILL=150 ts-node --transpile-only bench/anvil-rpc.ts   (150 token transfers pending)
import { readFileSync } from "node:fs";
import { ContractFactory, JsonRpcProvider, Wallet, Contract } from "ethers";
import { startAnvil } from "@datamarket/broker/test/anvil";
const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
(async () => {
  const anvil = await startAnvil({ blockTime: 2 } as never);
  const pid = Number(require("node:child_process").execSync(`pgrep -f "anvil.*--port ${anvil.port}"`).toString().trim().split("\n")[0]);
  const provider = new JsonRpcProvider(anvil.url, undefined, { pollingInterval: 20, cacheTimeout: -1, staticNetwork: true });
  const admin = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", provider);
  const art = JSON.parse(readFileSync("../artifacts/contracts/token/DATAToken.sol/DATAToken.json", "utf8"));
  const token = (await (
    await new ContractFactory(art.abi, art.bytecode, admin).deploy(admin.address, admin.address, 10n ** 30n)
  ).waitForDeployment()) as Contract;
  await (await token.mint(admin.address, 10n ** 24n)).wait();
  // fill some blocks with 150 txs each
  const ws = Array.from({ length: 150 }, () => Wallet.createRandom(provider));
  for (const w of ws) await provider.send("anvil_setBalance", [w.address, "0xDE0B6B3A7640000"]);
  await Promise.all(ws.map((w) => w.sendTransaction({ to: admin.address, value: 1n, gasLimit: 21000n }).then((t) => t.wait())));
  const hashes = (await provider.send("eth_getBlockByNumber", ["latest", false])).transactions as string[];
  if (process.env.FILL) {
    // token holders with pending transfers in the pool (not mined before the measurement ends)
    const holders = Array.from({ length: Number(process.env.FILL) }, () => Wallet.createRandom(provider));
    for (const w of holders) {
      await provider.send("anvil_setBalance", [w.address, "0xDE0B6B3A7640000"]);
    }
    await provider.send("evm_setAutomine", [false]);
    await provider.send("evm_setIntervalMining", [0]);
    for (const w of holders) await await token.transfer(w.address, 10n ** 18n, { gasLimit: 100000n });
    await provider.send("evm_mine", []);
    await Promise.all(
      holders.map(async (w) => {
        const t = token.connect(w) as Contract;
        await t.transfer(admin.address, 1n, { gasLimit: 100000n });
      }),
    );
    console.log("pool", JSON.stringify(await provider.send("txpool_status", [])));
  }
  console.log("txs in latest", hashes.length);
  const data = token.interface.encodeFunctionData("balanceOf", [admin.address]);
  const tdata = token.interface.encodeFunctionData("transfer", [ws[0].address, 1n]);
  const cases: Array<[string, () => unknown[]]> = [
    ["eth_blockNumber", () => []],
    ["eth_chainId", () => []],
    ["eth_call", () => [{ to: token.target, data }, "latest"]],
    ["eth_call", () => [{ to: token.target, data }, "pending"]],
    ["eth_estimateGas", () => [{ from: admin.address, to: token.target, data: tdata }]],
    ["eth_estimateGas", () => [{ from: admin.address, to: token.target, data: tdata }, "latest"]],
    ["eth_getBlockByNumber", () => ["latest", false]],
    ["eth_getTransactionReceipt", () => [hashes[0]]],
    ["eth_getTransactionCount", () => [admin.address, "pending"]],
    ["eth_gasPrice", () => []],
    ["eth_maxPriorityFeePerGas", () => []],
  ];
  for (const [m, p] of cases) {
    const n = 400;
    const c0 = cpu(pid);
    const t0 = performance.now();
    // 8 concurrent, no batching (provider.send batches: use _send directly per request)
    let i = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (i++ < n) await provider._send({ method: m, params: p(), id: i, jsonrpc: "2.0" });
      }),
    );
    const c1 = cpu(pid);
    const t1 = performance.now();
    console.log(`${m.padEnd(28)} ${JSON.stringify(p()[1] ?? "")} anvil CPU ${((c1 - c0) / n).toFixed(3)} ms/req, wall ${((t1 - t0) / n).toFixed(3)} ms/req`);
  }
  provider.destroy();
  await anvil.stop();
})();
