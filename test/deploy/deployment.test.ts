// The deployment as auditors see it: the Protocol/Governance Ignition modules on the in-process
// Hardhat network, the integrators' export, and verify-deployment catching every kind of drift.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployProtocol, exportPath, readExport, type DeploymentExport } from "../../tasks/deployment";
import { verifyDeployment, EIP1967_SLOTS, type Check } from "../../tasks/verify";
import { ROLES } from "../../deploy/modules/Protocol";
import { loadParameters, parametersPath } from "../../deploy/parameters";

const HARDHAT_PARAMETERS = parametersPath("hardhat");
const LOCALHOST_PARAMETERS = parametersPath("localhost");

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "deploy-test-"));
}

/** A copy of a parameters file with one edit, for the checks that must fail. */
function editedParameters(source: string, edit: (json: Record<string, Record<string, unknown>>) => void): string {
  const json = JSON.parse(fs.readFileSync(source, "utf8")) as Record<string, Record<string, unknown>>;
  edit(json);
  const file = path.join(tempDir(), "parameters.json");
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
  return file;
}

const failures = (checks: Check[]) => checks.filter((c) => !c.ok);

async function deployWithHandOver() {
  const exportDir = tempDir();
  const record = await deployProtocol(hre, { parametersFile: HARDHAT_PARAMETERS, exportDir });
  return { record, exportDir };
}

/** The local demo's parameters (governance = deployer), with the delivery oracle off (release by time). */
const TIME_ONLY_LOCAL_PARAMETERS = editedParameters(LOCALHOST_PARAMETERS, (json) => {
  json.Protocol.deliveryOracle = ethers.ZeroAddress;
});

async function deployWithoutHandOver() {
  const exportDir = tempDir();
  const record = await deployProtocol(hre, { parametersFile: TIME_ONLY_LOCAL_PARAMETERS, exportDir });
  return { record, exportDir };
}

async function contracts(record: DeploymentExport) {
  return {
    token: await ethers.getContractAt("DATAToken", record.contracts.DATAToken.address),
    registry: await ethers.getContractAt("StreamRegistry", record.contracts.StreamRegistry.address),
    karma: await ethers.getContractAt("Karma", record.contracts.Karma.address),
    market: await ethers.getContractAt("DataLicenseMarket", record.contracts.DataLicenseMarket.address),
    coordinator: await ethers.getContractAt("NetworkCoordinator", record.contracts.NetworkCoordinator.address),
  };
}

describe("Deployment (Ignition modules, export, verify-deployment)", function () {
  describe("a deployment whose governance is not the deployer", function () {
    it("hands every admin role to governance and leaves the deployer none", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const parameters = loadParameters(HARDHAT_PARAMETERS);
      const [deployer] = await ethers.getSigners();
      const governance = parameters.Protocol.governance;
      expect(record.governanceHandedOver).to.equal(true);
      expect(record.deployer).to.equal(deployer.address);
      const { token, registry, karma, market, coordinator } = await contracts(record);
      for (const contract of [token, registry, karma, market, coordinator]) {
        expect(await contract.hasRole(ROLES.DEFAULT_ADMIN_ROLE, governance)).to.equal(true);
        expect(await contract.hasRole(ROLES.DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(false);
      }
      expect(await coordinator.hasRole(ROLES.PARAMETER_ROLE, governance)).to.equal(true);
      expect(await coordinator.hasRole(ROLES.PARAMETER_ROLE, deployer.address)).to.equal(false);
    });

    it("wires the market as key registrar and karma reporter, with the attestors, k, arbiter, KYC provider and fee", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const p = loadParameters(HARDHAT_PARAMETERS).Protocol;
      const { registry, karma, market } = await contracts(record);
      const marketAddress = record.contracts.DataLicenseMarket.address;
      expect(await registry.hasRole(ROLES.KEY_REGISTRAR_ROLE, marketAddress)).to.equal(true);
      expect(await karma.hasRole(ROLES.REPORTER_ROLE, marketAddress)).to.equal(true);
      expect(await market.attestors()).to.deep.equal(p.attestors);
      expect(await market.attestorThreshold()).to.equal(p.attestorThreshold);
      expect(await market.hasRole(ROLES.ARBITER_ROLE, p.arbiter)).to.equal(true);
      expect(await market.hasRole(ROLES.KYC_PROVIDER_ROLE, p.kycProviders[0])).to.equal(true);
      expect(await market.protocolFee()).to.deep.equal([p.feeBps, p.feeRecipient]);
      expect(await market.deliveryOracle()).to.equal(record.contracts.ProductDeliveryAdapter.address);
    });

    it("exports every contract with its address, ABI file and deploy block for integrators", async function () {
      const { record, exportDir } = await loadFixture(deployWithHandOver);
      const written = readExport(exportPath(31337, exportDir));
      expect(written).to.deep.equal(record);
      // The 14 contracts of the protocol, and the development ENS registry and resolver ("ens": "local").
      expect(Object.keys(written.contracts)).to.have.length(16);
      for (const [name, entry] of Object.entries(written.contracts)) {
        expect(await ethers.provider.getCode(entry.address, entry.deployBlock), name).to.not.equal("0x");
        expect(await ethers.provider.getCode(entry.address, entry.deployBlock - 1), name).to.equal("0x");
        const abi = JSON.parse(fs.readFileSync(path.join(exportDir, entry.abi), "utf8")) as unknown[];
        expect(abi.length, name).to.be.greaterThan(0);
      }
      expect(written.parametersFile).to.equal(path.join("deploy", "parameters", "hardhat.json"));
    });

    it("passes every check of verify-deployment right after deployment", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const checks = await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS });
      expect(failures(checks)).to.deep.equal([]);
      const count = (area: string) => checks.filter((c) => c.area === area).length;
      expect(count("bytecode")).to.equal(16);
      expect(count("proxy")).to.equal(16);
      // 5 access-controlled contracts: 11 roles plus one RoleAdminChanged row each.
      expect(count("role")).to.equal(16);
      expect(count("parameter")).to.equal(42);
    });

    it("deploys the payment channels and the stream names wired to the token, the registry and the local ENS", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const channels = await ethers.getContractAt("PaymentChannels", record.contracts.PaymentChannels.address);
      expect(await channels.token()).to.equal(record.contracts.DATAToken.address);
      expect(await channels.challengePeriod()).to.equal(loadParameters(HARDHAT_PARAMETERS).Network.channelChallengePeriod);
      const names = await ethers.getContractAt("StreamNames", record.contracts.StreamNames.address);
      expect(await names.ens()).to.equal(record.contracts.ENSRegistry!.address);
      expect(await names.registry()).to.equal(record.contracts.StreamRegistry.address);
      expect(await names.nameWrapper()).to.equal(ethers.ZeroAddress);
      const ens = await ethers.getContractAt("ENSRegistry", record.contracts.ENSRegistry!.address);
      expect(await ens.owner(ethers.ZeroHash)).to.equal(record.deployer);
      const resolver = await ethers.getContractAt("PublicResolver", record.contracts.PublicResolver!.address);
      expect(await resolver.supportsInterface("0x3b3b57de")).to.equal(true);
    });

    it("catches stream names wired to another ENS, and a local ENS missing from the record", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const otherEns = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Names.ens = record.contracts.PublicResolver!.address;
        json.Names.nameWrapper = record.contracts.Karma.address;
      });
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: otherEns }));
      expect(failed.map((c) => `${c.contract} ${c.item}`)).to.deep.equal(["StreamNames ens", "StreamNames nameWrapper"]);
      const forged: DeploymentExport = JSON.parse(JSON.stringify(record));
      delete forged.contracts.ENSRegistry;
      const missing = failures(await verifyDeployment(hre, { record: forged, parametersFile: HARDHAT_PARAMETERS }));
      expect(missing.map((c) => `${c.area} ${c.contract} ${c.item}`)).to.deep.equal([
        "bytecode ENSRegistry in the export",
        "parameter StreamNames ens (the local ENSRegistry)",
        "parameter StreamNames ENS registry has code",
      ]);
    });

    it("catches a channel challenge period that differs from the parameters file", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Network.channelChallengePeriod = 3_600;
      });
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: file }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ contract: "PaymentChannels", item: "challengePeriod (channelChallengePeriod)", expected: "3600", actual: "86400" });
    });

    it("catches an extra minter granted after deployment (a holder no expectation names)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const [, governance, , intruder] = await ethers.getSigners();
      const { token } = await contracts(record);
      await token.connect(governance).grantRole(ROLES.MINTER_ROLE, intruder.address);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ area: "role", contract: "DATAToken", item: "MINTER_ROLE" });
      expect(failed[0].actual).to.contain(intruder.address);
    });

    it("catches a holder of a role the deployment never uses", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const [, governance, , intruder] = await ethers.getSigners();
      const { registry } = await contracts(record);
      const unusedRole = ethers.id("SOME_OTHER_ROLE");
      await registry.connect(governance).grantRole(unusedRole, intruder.address);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ area: "role", contract: "StreamRegistry", item: unusedRole, expected: "(none)", actual: intruder.address });
    });

    it("catches an expected holder whose role was revoked (the arbiter)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const [, governance] = await ethers.getSigners();
      const { market } = await contracts(record);
      const arbiter = loadParameters(HARDHAT_PARAMETERS).Protocol.arbiter;
      await market.connect(governance).revokeRole(ROLES.ARBITER_ROLE, arbiter);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ contract: "DataLicenseMarket", item: "ARBITER_ROLE", expected: arbiter, actual: "(none)" });
    });

    it("catches a parameter changed on chain after deployment (the protocol fee)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const [, governance] = await ethers.getSigners();
      const { market } = await contracts(record);
      await market.connect(governance).setProtocolFee(250, governance.address);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ area: "parameter", item: "protocolFee.feeBps", expected: "100", actual: "250" });
    });

    it("catches a parameters file that differs from the chain (coherence threshold, attestors)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        (json.Network.parameters as Record<string, unknown>).coherenceBps = 7500;
        (json.Protocol.attestors as string[])[2] = "0x0000000000000000000000000000000000000001";
      });
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: file }));
      expect(failed.map((c) => `${c.contract} ${c.item}`)).to.deep.equal(["DataLicenseMarket attestors", "NetworkCoordinator parameters.coherenceBps"]);
      expect(failed[1]).to.include({ expected: "7500", actual: "6666" });
    });

    it("catches runtime code that is not the build's (a record pointing at the wrong contract)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const forged: DeploymentExport = JSON.parse(JSON.stringify(record));
      forged.contracts.AttestorSet.address = record.contracts.ProductCatalog.address;
      const failed = failures(await verifyDeployment(hre, { record: forged, parametersFile: HARDHAT_PARAMETERS }));
      const bytecode = failed.filter((c) => c.area === "bytecode").map((c) => c.contract);
      // The library itself differs, and so does the market, which links the recorded library address.
      expect(bytecode).to.deep.equal(["DataLicenseMarket", "AttestorSet"]);
    });

    it("catches runtime code modified at an address (not only a different length)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const address = record.contracts.Karma.address;
      const code = await ethers.provider.getCode(address);
      const tampered = code.slice(0, 100) + (code.slice(100, 102) === "00" ? "01" : "00") + code.slice(102);
      await ethers.provider.send("hardhat_setCode", [address, tampered]);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed[0]).to.include({ area: "bytecode", contract: "Karma" });
      expect(failed[0].actual).to.contain("first difference at byte 49");
      // The tampered dispatcher also breaks every read of Karma: each is a failed row, none aborts the run.
      expect(failed.every((c) => c.contract === "Karma")).to.equal(true);
    });

    it("catches a value in an EIP-1967 proxy slot (no contract of the protocol is a proxy)", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const address = record.contracts.DataLicenseMarket.address;
      await ethers.provider.send("hardhat_setStorageAt", [address, EIP1967_SLOTS.implementation, ethers.zeroPadValue("0x01", 32)]);
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: HARDHAT_PARAMETERS }));
      expect(failed).to.have.length(1);
      expect(failed[0]).to.include({ area: "proxy", contract: "DataLicenseMarket", actual: "set: implementation" });
    });

    it("refuses a record of another chain", async function () {
      const { record } = await loadFixture(deployWithHandOver);
      const checks = await verifyDeployment(hre, { record: { ...record, chainId: 1 }, parametersFile: HARDHAT_PARAMETERS });
      expect(checks).to.have.length(1);
      expect(checks[0]).to.include({ area: "chain", ok: false, expected: "1", actual: "31337" });
    });

    it("runs as the verify-deployment task: returns the checks, and sets exit status 1 when one fails", async function () {
      const { record, exportDir } = await loadFixture(deployWithHandOver);
      const args = { export: exportPath(31337, exportDir), parameters: HARDHAT_PARAMETERS };
      const log = console.log;
      const exitCode = process.exitCode;
      const printed: string[] = [];
      console.log = (...parts: unknown[]) => void printed.push(parts.join(" "));
      try {
        const checks = (await hre.run("verify-deployment", args)) as Check[];
        expect(failures(checks)).to.deep.equal([]);
        expect(process.exitCode).to.equal(exitCode);
        const [, governance, , intruder] = await ethers.getSigners();
        const { token } = await contracts(record);
        await token.connect(governance).grantRole(ROLES.MINTER_ROLE, intruder.address);
        expect(failures((await hre.run("verify-deployment", args)) as Check[])).to.have.length(1);
        expect(process.exitCode).to.equal(1);
        // The table clips long cells; the failed row is repeated in full under it.
        const table = printed.at(-1)!;
        expect(table).to.match(/^FAIL\s+role\s+DATAToken\s+MINTER_ROLE/m);
        expect(table).to.contain(`FAIL DATAToken MINTER_ROLE\n  expected: ${record.deployer}\n  actual:   `);
        expect(table).to.contain(intruder.address);
        expect(table).to.match(/\d+ passed, 1 failed$/);
      } finally {
        console.log = log;
        process.exitCode = exitCode;
      }
    });
  });

  describe("a deployment whose governance is the deployer (the local demo)", function () {
    it("skips the hand-over: the deployer keeps every admin role, and verify-deployment passes (oracle off)", async function () {
      const { record } = await loadFixture(deployWithoutHandOver);
      const [deployer] = await ethers.getSigners();
      expect(record.governanceHandedOver).to.equal(false);
      const { token, market, coordinator } = await contracts(record);
      expect(await token.hasRole(ROLES.DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(true);
      expect(await market.hasRole(ROLES.DEFAULT_ADMIN_ROLE, deployer.address)).to.equal(true);
      expect(await coordinator.hasRole(ROLES.PARAMETER_ROLE, deployer.address)).to.equal(true);
      expect(await market.deliveryOracle()).to.equal(ethers.ZeroAddress);
      const checks = await verifyDeployment(hre, { record, parametersFile: TIME_ONLY_LOCAL_PARAMETERS });
      expect(failures(checks)).to.deep.equal([]);
      // Against the file that asks for the adapter, the oracle row fails.
      const failed = failures(await verifyDeployment(hre, { record, parametersFile: LOCALHOST_PARAMETERS }));
      expect(failed.map((c) => c.item)).to.deep.equal(["deliveryOracle"]);
      expect(failed[0]).to.include({ expected: record.contracts.ProductDeliveryAdapter.address, actual: ethers.ZeroAddress });
    });
  });

  describe("parameters files", function () {
    it("names a threshold larger than the attestor set", function () {
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Protocol.attestorThreshold = 4;
      });
      expect(() => loadParameters(file)).to.throw(/Protocol\.attestorThreshold must be in \[1, 3\] \(the attestor count\), got 4/);
    });

    it("names a malformed address", function () {
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Protocol.arbiter = "0xARBITER";
      });
      expect(() => loadParameters(file)).to.throw(/Protocol\.arbiter must be a 0x address, got "0xARBITER"/);
    });

    it('names a delivery oracle that is neither "adapter" nor an address', function () {
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Protocol.deliveryOracle = "adaptor";
      });
      expect(() => loadParameters(file)).to.throw(/Protocol\.deliveryOracle must be a 0x address, got "adaptor"/);
    });

    it('names a channel challenge period outside [1 hour, 30 days] and an ENS that is neither "local" nor an address', function () {
      const short = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Network.channelChallengePeriod = 60;
      });
      expect(() => loadParameters(short)).to.throw(/Network\.channelChallengePeriod must be in \[3600, 2592000\] seconds \(1 hour to 30 days\), got 60/);
      const ens = editedParameters(HARDHAT_PARAMETERS, (json) => {
        json.Names.ens = "mainnet";
      });
      expect(() => loadParameters(ens)).to.throw(/Names\.ens must be a 0x address, got "mainnet"/);
    });

    it("names a missing coordinator parameter", function () {
      const file = editedParameters(HARDHAT_PARAMETERS, (json) => {
        delete (json.Network.parameters as Record<string, unknown>).slashBps;
      });
      expect(() => loadParameters(file)).to.throw(/Network\.parameters\.slashBps must be a non-negative integer/);
    });

    it("keeps the example for remote networks in the same shape (placeholders fail as addresses only)", function () {
      expect(() => loadParameters(parametersPath("remote.example"))).to.throw(/must be a 0x address, got "0x/);
      const file = editedParameters(parametersPath("remote.example"), (json) => {
        const a = "0x0000000000000000000000000000000000000001";
        json.Foundation.minter = a;
        Object.assign(json.Protocol, {
          governance: a,
          attestors: [a, "0x0000000000000000000000000000000000000002", "0x0000000000000000000000000000000000000003"],
          arbiter: a,
          kycProviders: [a],
          feeRecipient: a,
        });
      });
      expect(loadParameters(file).Network.epochLength).to.equal(86_400n);
    });
  });
});
