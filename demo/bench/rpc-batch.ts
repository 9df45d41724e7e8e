// What a JSON-RPC client spends, in its own CPU, on many contract reads at once (the broker's burst
// of subscribes after each block): through an ethers Contract, through the broker's ViewReader (the
// same Interface encoding, sent as a plain eth_call), by the size of ethers' batches. Each figure is
// 3,000 balanceOf reads sent 300 at a time to anvil, after a warm-up round.
//   ts-node --transpile-only bench/rpc-batch.ts
import { readFileSync } from "node:fs";
import { Contract, ContractFactory, JsonRpcProvider, Network, Wallet } from "ethers";
import { ViewReader } from "@datamarket/broker";
import { startAnvil } from "@datamarket/broker/test/anvil";

const READS = 3000;
const AT_ONCE = 300;

async function perRead(read: () => Promise<unknown>): Promise<{ cpuMs: number; wallMs: number }> {
  const round = async () => {
    for (let k = 0; k < READS / AT_ONCE; k++) await Promise.all(Array.from({ length: AT_ONCE }, read));
  };
  await round();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await round();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / READS, wallMs: (performance.now() - w0) / READS };
}

(async () => {
  const anvil = await startAnvil({ blockTime: 2 } as never);
  try {
    const network = Network.from(31337);
    const setup = new JsonRpcProvider(anvil.url, network, { staticNetwork: network });
    const admin = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", setup);
    const art = JSON.parse(readFileSync("../artifacts/contracts/token/DATAToken.sol/DATAToken.json", "utf8"));
    const deployed = await (await new ContractFactory(art.abi, art.bytecode, admin).deploy(admin.address, admin.address, 10n ** 30n)).waitForDeployment();
    const address = await deployed.getAddress();
    setup.destroy();
    const rows: string[] = [];
    for (const batchMaxCount of [1, 10, 25, 50, 100]) {
      for (const staticNetwork of batchMaxCount === 100 ? [false, true] : [true]) {
        const provider = new JsonRpcProvider(anvil.url, network, { cacheTimeout: -1, batchMaxCount, ...(staticNetwork ? { staticNetwork: network } : {}) });
        const token = new Contract(address, art.abi, provider);
        const reader = new ViewReader(provider, address, token.interface, ["balanceOf"]);
        const viaContract = await perRead(() => token.balanceOf(admin.address));
        const viaReader = await perRead(() => reader.read("balanceOf", [admin.address]));
        provider.destroy();
        rows.push(
          `| ${batchMaxCount} | ${staticNetwork ? "yes" : "no"} | ${viaContract.cpuMs.toFixed(3)} | ${viaContract.wallMs.toFixed(3)} | ${viaReader.cpuMs.toFixed(3)} | ${viaReader.wallMs.toFixed(3)} |`,
        );
      }
    }
    console.log(`${READS} balanceOf reads, ${AT_ONCE} at a time, per read (ms); load ${(await import("node:os")).loadavg()[0].toFixed(2)}`);
    console.log("| batchMaxCount | staticNetwork | Contract CPU | Contract wall | ViewReader CPU | ViewReader wall |");
    console.log("| -: | - | -: | -: | -: | -: |");
    for (const r of rows) console.log(r);
  } finally {
    await anvil.stop();
  }
})();
