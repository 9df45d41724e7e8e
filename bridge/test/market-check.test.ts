// The market check at start (docs/market.md §10.2): the bridge signs for the configured address only
// if it is the DataLicenseMarket of the configured chain; bridge.example.json names the market of a
// fresh local deployment, not the DATA token.
// (the reference below gives tasks/deployment the types of hre.ignition; the root config loads the plugin)
/// <reference types="@nomicfoundation/hardhat-ignition-ethers" />
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hre from "hardhat";
import { Wallet } from "ethers";
import { deployProtocol } from "../../tasks/deployment";
import { parametersPath } from "../../deploy/parameters";
import { loadConfig } from "../src/config";
import { BridgeConfigError } from "../src/errors";
import { memoryLogger } from "../src/log";
import { checkMarket } from "../src/market-check";
import { deployMarket } from "./chain";
import { ATTESTOR_KEYS } from "./fixtures";

const ATTESTOR = new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase();

async function refusal(check: Promise<void>): Promise<string> {
  try {
    await check;
  } catch (error) {
    expect(error).to.be.instanceOf(BridgeConfigError);
    return (error as BridgeConfigError).shortMessage;
  }
  throw new Error("the check passed");
}

describe("consent bridge: the market check at start", () => {
  let chain: Awaited<ReturnType<typeof deployMarket>>;
  before(async () => {
    chain = await deployMarket();
  });
  const provider = () => hre.ethers.provider;

  it("accepts the DataLicenseMarket of the configured chain, quietly when this attestor is registered", async () => {
    const log = memoryLogger();
    await checkMarket(provider(), { market: chain.marketAddress, chainId: 31337n, attestor: ATTESTOR }, log);
    expect(log.records).to.deep.equal([]);
  });

  it("warns when the market does not list this attestor (its signatures do not count yet)", async () => {
    const log = memoryLogger();
    const stranger = Wallet.createRandom().address.toLowerCase();
    await checkMarket(provider(), { market: chain.marketAddress, chainId: 31337n, attestor: stranger }, log);
    expect(log.records).to.have.length(1);
    expect(log.records[0]).to.include({
      level: 40,
      attestor: stranger,
      msg: "this attestor is not registered on the market: its signatures do not count until governance adds it",
    });
  });

  it("refuses the DATA token, naming it", async () => {
    const token = (await chain.token.getAddress()).toLowerCase();
    expect(await refusal(checkMarket(provider(), { market: token, chainId: 31337n, attestor: ATTESTOR }, memoryLogger()))).to.equal(
      `chain.market: ${token} is not the DataLicenseMarket: its EIP-712 domain is "Streamr DATA" version "1" (that is the DATA token)`,
    );
  });

  it("refuses a contract without an EIP-712 domain (the stream registry) and an address without code", async () => {
    const registry = (await chain.registry.getAddress()).toLowerCase();
    expect(await refusal(checkMarket(provider(), { market: registry, chainId: 31337n, attestor: ATTESTOR }, memoryLogger()))).to.equal(
      `chain.market: ${registry} is not the DataLicenseMarket: the contract there does not answer eip712Domain()`,
    );
    const nobody = Wallet.createRandom().address.toLowerCase();
    expect(await refusal(checkMarket(provider(), { market: nobody, chainId: 31337n, attestor: ATTESTOR }, memoryLogger()))).to.equal(
      `chain.market: ${nobody} is not the DataLicenseMarket: there is no contract at that address on chain 31337`,
    );
  });

  it("refuses a chain id the RPC endpoint does not serve", async () => {
    expect(await refusal(checkMarket(provider(), { market: chain.marketAddress, chainId: 1n, attestor: ATTESTOR }, memoryLogger()))).to.equal(
      "chain.chainId: the RPC endpoint serves chain 31337, the configuration says 1",
    );
  });
});

describe("bridge.example.json", () => {
  it("names the market that `npm run deploy -- --network localhost` deploys on a fresh node, which passes the check", async () => {
    await hre.network.provider.request({ method: "hardhat_reset", params: [] });
    const record = await deployProtocol(hre, { parametersFile: parametersPath("localhost"), exportDir: mkdtempSync(join(tmpdir(), "bridge-example-")) });
    const market = record.contracts.DataLicenseMarket.address.toLowerCase();
    const config = loadConfig(join(__dirname, "..", "bridge.example.json"), { BRIDGE__ATTESTOR_KEY: ATTESTOR_KEYS[0] });
    expect(config.chain.market).to.equal(market);
    expect(config.chain.market).to.not.equal(record.contracts.DATAToken.address.toLowerCase());
    await checkMarket(hre.ethers.provider, { market: config.chain.market, chainId: BigInt(config.chain.chainId), attestor: ATTESTOR }, memoryLogger());
  });
});
