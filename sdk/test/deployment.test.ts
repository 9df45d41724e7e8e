// Loading the record `npm run deploy` writes (deployments/<chainId>.json) into typed contracts, on a
// protocol deployed by the repository's deploy task on Hardhat's in-process network.
import { expect } from "chai";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet } from "ethers";
import type { DeploymentExport } from "../../tasks/deployment";
import { SdkErrorCodes, type SdkError } from "../src/errors";
import { loadDeployment, type DeploymentRecord } from "../src/wallet/Deployment";
import { deployedProtocol, type DeployedProtocol } from "./chain";

// Compile-time check: the deploy task's export is what the SDK reads.
const exportIsReadable = (record: DeploymentExport): DeploymentRecord => record;
void exportIsReadable;

async function refusal(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  expect.fail("the record was accepted");
}

describe("loadDeployment", function () {
  this.timeout(120_000);
  let deployed: DeployedProtocol;
  before(async () => {
    deployed = await deployedProtocol();
  });

  /** A copy of the record with one edit, as <name>.json in a fresh directory. */
  function edited(name: string, edit: (record: Record<string, any>) => void): { dir: string; file: string } {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const record = JSON.parse(readFileSync(deployed.file, "utf8"));
    edit(record);
    const dir = mkdtempSync(path.join(tmpdir(), "sdk-record-"));
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(record));
    return { dir, file };
  }

  it("connects typed registry, market, token and coordinator instances at the recorded addresses, by chain id or by path", async () => {
    const [deployer] = await hre.ethers.getSigners();
    const byChain = await loadDeployment(31337, deployer, { dir: deployed.dir });
    const byPath = await loadDeployment(deployed.file, deployer);
    const c = deployed.record.contracts;
    for (const d of [byChain, byPath]) {
      expect(d.chainId).to.equal(31337n);
      expect(d.file).to.equal(deployed.file);
      expect(d.addresses).to.deep.equal({
        registry: c.StreamRegistry.address,
        market: c.DataLicenseMarket.address,
        token: c.DATAToken.address,
        coordinator: c.NetworkCoordinator.address,
      });
      expect(await d.registry.getAddress()).to.equal(c.StreamRegistry.address);
      expect(await d.market.getAddress()).to.equal(c.DataLicenseMarket.address);
      expect(await d.token.getAddress()).to.equal(c.DATAToken.address);
      expect(await d.coordinator.getAddress()).to.equal(c.NetworkCoordinator.address);
    }
    // each instance talks to the contract the parameters file (deploy/parameters/localhost.json) describes
    const d = byChain;
    expect(await d.token.cap()).to.equal(10n ** 27n);
    expect(await d.token.symbol()).to.equal("DATA");
    expect(await d.market.attestorThreshold()).to.equal(2n);
    expect((await d.market.attestors()).length).to.equal(3);
    expect(await d.coordinator.replication()).to.equal(3n);
    expect(await d.coordinator.partitionCount()).to.equal(16n);
    expect(await d.market.registry()).to.equal(d.addresses.registry);
    // and sends the signer's transactions
    const receipt = await (await d.registry.createStream("/sdk/deployment-test", 3, "{}")).wait();
    expect(receipt?.status).to.equal(1);
    const streamId = await d.registry.resourceId(deployer.address, "/sdk/deployment-test");
    expect((await d.registry.getResource(streamId)).partitions).to.equal(3n);
  });

  it("connects nothing to send with when given no runner, and instances connect later", async () => {
    const d = await loadDeployment(deployed.file);
    expect(d.token.runner).to.equal(null);
    expect(await d.token.connect(hre.ethers.provider).symbol()).to.equal("DATA");
  });

  it("refuses a chain id without a record, naming the file and the command that writes it", async () => {
    const error = await refusal(loadDeployment(5, hre.ethers.provider, { dir: deployed.dir }));
    expect(error.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(error.message).to.contain(path.join(deployed.dir, "5.json")).and.contain("npm run deploy");
  });

  it("refuses a record of another chain than the one asked for", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sdk-record-"));
    copyFileSync(deployed.file, path.join(dir, "7.json"));
    const error = await refusal(loadDeployment(7, hre.ethers.provider, { dir }));
    expect(error.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(error.details).to.include({ chainId: 31337n, expected: 7n });
  });

  it("refuses a record whose chain is not the provider's", async () => {
    const { file } = edited("5", (r) => {
      r.chainId = 5;
    });
    const error = await refusal(loadDeployment(file, hre.ethers.provider));
    expect(error.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(error.details).to.include({ chainId: 5n, providerChainId: 31337n });
  });

  it("refuses a stale record whose contract has no code on the chain", async () => {
    const stranger = Wallet.createRandom().address;
    const { file } = edited("31337", (r) => {
      r.contracts.DataLicenseMarket.address = stranger;
    });
    const error = await refusal(loadDeployment(file, hre.ethers.provider));
    expect(error.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(error.details).to.include({ contract: "DataLicenseMarket", address: stranger });
  });

  it("refuses a missing or mistyped address, a bad chain id and a file that is not JSON", async () => {
    const missing = edited("31337", (r) => {
      delete r.contracts.NetworkCoordinator;
    });
    expect((await refusal(loadDeployment(missing.file))).details).to.include({ contract: "NetworkCoordinator" });
    const badChecksum = edited("31337", (r) => {
      r.contracts.DATAToken.address = r.contracts.DATAToken.address.replace(/[a-f]/, (ch: string) => ch.toUpperCase());
    });
    const checksumError = await refusal(loadDeployment(badChecksum.file));
    expect(checksumError.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(checksumError.details).to.include({ contract: "DATAToken" });
    const badChain = edited("31337", (r) => {
      r.chainId = "31337";
    });
    expect((await refusal(loadDeployment(badChain.file))).message).to.contain('chainId must be a positive integer, got "31337"');
    const notJson = edited("31337", () => undefined);
    writeFileSync(notJson.file, "{ not json");
    const parseError = await refusal(loadDeployment(notJson.file));
    expect(parseError.code).to.equal(SdkErrorCodes.INVALID_DEPLOYMENT);
    expect(parseError.message).to.contain("not a JSON deployment record");
  });
});
