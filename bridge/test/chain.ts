// The repository's contracts on the in-process Hardhat network for the bridge's tests: the market
// with a consent-gated dataset product (2 of 3 attestors), and a JSON-RPC endpoint on 127.0.0.1 for
// bridges started as a separate process.
import hre from "hardhat";
import "@nomicfoundation/hardhat-ethers/internal/type-extensions"; // types of hre.ethers (the root config loads the plugin)
import { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import { Contract, Wallet, id, type Signer } from "ethers";
import { ATTESTOR_KEYS, PURPOSE } from "./fixtures";

const { ethers } = hre;
const DAY = 86_400n;
const UNIT = 10n ** 18n;
export const PRICE = 10n ** 12n;
const LICENSE_ENDED = 3n;

/**
 * Deploys on the in-process Hardhat network, or, given [admin, seller, buyer] connected to another
 * node (anvil), there.
 */
export async function deployMarket(signers?: (Signer & { address: string })[]) {
  await hre.run("compile", { quiet: true });
  const [admin, seller, buyer]: (Signer & { address: string })[] = signers ?? (await ethers.getSigners());
  const token = await ethers.deployContract("DATAToken", [admin.address, admin.address, 10n ** 27n], admin);
  const registry = await ethers.deployContract("StreamRegistry", [admin.address], admin);
  const karma = await ethers.deployContract("Karma", [admin.address, 30n * DAY, 2_500n], admin);
  const libraries: Record<string, string> = {};
  for (const name of ["ProductCatalog", "AttestorSet", "LicenseTermination"]) {
    libraries[name] = await (await ethers.deployContract(name, admin)).getAddress();
  }
  const factory = await ethers.getContractFactory("DataLicenseMarket", { signer: admin, libraries });
  const market = (await factory.deploy(admin.address, await token.getAddress(), await registry.getAddress(), await karma.getAddress())) as unknown as Contract;
  await market.waitForDeployment();
  const marketAddress = (await market.getAddress()).toLowerCase();
  await (await karma.getFunction("grantRole")(await karma.getFunction("REPORTER_ROLE")(), marketAddress)).wait();
  await (await registry.getFunction("grantRole")(await registry.getFunction("KEY_REGISTRAR_ROLE")(), marketAddress)).wait();
  for (const key of ATTESTOR_KEYS) await (await market.getFunction("addAttestor")(new Wallet(key).address)).wait();
  await (await market.getFunction("setAttestorThreshold")(2)).wait();

  await (await registry.connect(seller).getFunction("createDataset")("/health/labs", id("labs file"), "ipfs://labs", "{}")).wait();
  const datasetId: string = await registry.getFunction("resourceId")(seller.address, "/health/labs");
  await (await registry.connect(seller).getFunction("setSubscribeDelegate")(datasetId, marketAddress, true)).wait();
  const salt = id("bridge-e2e");
  await (
    await market.connect(seller).getFunction("createProduct")(salt, {
      beneficiary: seller.address,
      pricePerSecond: PRICE,
      minSeconds: 3_600,
      maxSeconds: 365 * 86_400,
      requiresConsent: true,
      requiresKyc: false,
      termsHash: id("terms v1"),
      termsUri: "ipfs://terms",
      resources: [datasetId],
    })
  ).wait();
  const productId: string = await market.getFunction("productIdOf")(seller.address, salt);
  await (await market.connect(seller).getFunction("setPurposes")(productId, [id(PURPOSE)], true)).wait();
  await (await token.getFunction("mint")(buyer.address, 1_000n * UNIT)).wait();
  return { token, registry, market, marketAddress, datasetId, productId, buyer };
}

/** Serves the in-process Hardhat network over JSON-RPC on 127.0.0.1 (a free port) to other processes. */
export async function rpcServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new JsonRpcServer({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
