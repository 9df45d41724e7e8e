// The built package (dist/, as `npm pack` ships it) against the Hardhat artifacts it was generated
// from, and against a protocol deployed by the repository's deploy task on the in-process network.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ignition-ethers";
import { Interface, id, keccak256, toUtf8Bytes, type ContractTransactionResponse } from "ethers";
import {
  DEPLOYED_CONTRACT_NAMES,
  DeploymentRecordError,
  contractNames,
  dataLicenseMarketAbi,
  dataTokenAbi,
  errorSignature,
  parseDeploymentRecord,
  protocolErrorsAbi,
  streamRegistryAbi,
  withProtocolErrors,
  type DeploymentRecord,
} from "@datamarket/contracts";
import { dataLicenseMarketBytecode, dataTokenBytecode, dataLicenseMarketLinkReferences } from "@datamarket/contracts/bytecode";
import { DATAToken__factory, DataLicenseMarket__factory, StreamRegistry__factory } from "@datamarket/contracts/typechain";
import { deployProtocol, exportPath } from "../../../tasks/deployment";
import { parametersPath } from "../../../deploy/parameters";

const PACKAGE = path.resolve(__dirname, "..");
const ROOT = path.resolve(PACKAGE, "..", "..");
const artifact = (source: string, name: string) =>
  JSON.parse(readFileSync(path.join(ROOT, "artifacts", source, `${name}.json`), "utf8")) as { abi: unknown[]; bytecode: string };

function sourcesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourcesOf(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("@datamarket/contracts", function () {
  describe("generated from the artifacts", function () {
    it("publishes every contract, interface and library of contracts/ except test helpers, mocks and examples", function () {
      const expected = sourcesOf(path.join(ROOT, "artifacts", "contracts"))
        .filter((f) => f.endsWith(".json") && !f.endsWith(".dbg.json") && !/\/(test|mocks|examples)\//.test(f))
        .map((f) => path.basename(f, ".json"))
        .sort();
      expect([...contractNames]).to.deep.equal(expected);
      for (const name of DEPLOYED_CONTRACT_NAMES) expect(contractNames).to.include(name);
    });

    it("ships each ABI as the artifact has it, in TypeScript and in JSON", function () {
      const market = artifact("contracts/market/DataLicenseMarket.sol", "DataLicenseMarket");
      expect(dataLicenseMarketAbi).to.deep.equal(market.abi);
      expect(JSON.parse(readFileSync(path.join(PACKAGE, "dist", "abi", "DataLicenseMarket.json"), "utf8"))).to.deep.equal(market.abi);
      expect(dataTokenAbi).to.deep.equal(artifact("contracts/token/DATAToken.sol", "DATAToken").abi);
      expect(dataTokenBytecode).to.equal(artifact("contracts/token/DATAToken.sol", "DATAToken").bytecode);
      // the market links its libraries: the placeholders stay, and where they are is shipped
      expect(dataLicenseMarketBytecode).to.match(/__\$[0-9a-f]{34}\$__/);
      expect(Object.keys(dataLicenseMarketLinkReferences)).to.include("contracts/market/AttestorSet.sol");
    });

    it("combines every custom error once, each selector unique", function () {
      const all = contractNames.flatMap((name) => {
        const file = sourcesOf(path.join(ROOT, "artifacts", "contracts")).find((f) => path.basename(f) === `${name}.json`)!;
        return (JSON.parse(readFileSync(file, "utf8")).abi as { type: string; name: string; inputs: { type: string }[] }[]).filter((i) => i.type === "error");
      });
      const signatures = new Set(all.map(errorSignature));
      expect(protocolErrorsAbi.map(errorSignature).sort()).to.deep.equal([...signatures].sort());
      const selectors = protocolErrorsAbi.map((e) => id(errorSignature(e)).slice(0, 10));
      expect(new Set(selectors).size).to.equal(selectors.length);
      expect(signatures).to.include("ERC20InsufficientAllowance(address,uint256,uint256)");
      expect(signatures).to.include("InvalidEncryptionKey(bytes)");
    });

    it("loads as CommonJS and as an ES module with the same exports", function () {
      const script = (kind: "cjs" | "esm") =>
        kind === "cjs"
          ? `const m = require("@datamarket/contracts"); const t = require("@datamarket/contracts/typechain"); console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(t).sort()]))`
          : `const m = await import("@datamarket/contracts"); const t = await import("@datamarket/contracts/typechain"); console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(t).sort()]))`;
      // run from the package's own directory: Node resolves the package's name to itself through its exports
      const run = (kind: "cjs" | "esm") =>
        JSON.parse(
          execFileSync(process.execPath, [`--input-type=${kind === "esm" ? "module" : "commonjs"}`, "-e", script(kind)], { cwd: PACKAGE, encoding: "utf8" }),
        );
      const [esm, cjs] = [run("esm"), run("cjs")];
      expect(esm).to.deep.equal(cjs);
      expect(cjs[0]).to.include.members(["dataLicenseMarketAbi", "protocolErrorsAbi", "withProtocolErrors", "parseDeploymentRecord", "getDeployment"]);
      expect(cjs[1]).to.include.members(["DataLicenseMarket__factory", "IStreamRegistry__factory", "DATAToken__factory"]);
    });
  });

  describe("on a deployed protocol", function () {
    let record: DeploymentRecord;
    let file: string;

    before(async function () {
      await hre.run("compile", { quiet: true });
      const dir = mkdtempSync(path.join(tmpdir(), "contracts-package-"));
      record = await deployProtocol(hre, { parametersFile: parametersPath("localhost"), exportDir: dir });
      file = exportPath(record.chainId, dir);
    });

    it("reads the deploy task's record through parseDeploymentRecord: decimal strings, deploy blocks, addresses", function () {
      const json = JSON.parse(readFileSync(file, "utf8"));
      expect(parseDeploymentRecord(json, file)).to.deep.equal(record);
      expect(json.format).to.equal("datamarket-deployment/1");
      expect(json.parameters.Foundation.tokenCap).to.equal("1000000000000000000000000000");
      expect(json.parameters.Network.replication).to.equal("3");
      expect(JSON.stringify(json)).to.not.match(/"\d+n"/);
      for (const name of DEPLOYED_CONTRACT_NAMES) expect(json.contracts[name].deployBlock).to.be.a("number");
    });

    it('refuses an older record with "123n" integers, and names the field', function () {
      const old = JSON.parse(readFileSync(file, "utf8"));
      old.parameters.Foundation.tokenCap = "1000000000000000000000000000n";
      expect(() => parseDeploymentRecord(old, "old.json")).to.throw(
        DeploymentRecordError,
        /old\.json: \$\.parameters\.Foundation\.tokenCap must be an unsigned integer as a decimal string.*"123n" form/,
      );
      delete old.format;
      expect(() => parseDeploymentRecord(old, "old.json")).to.throw(/\$\.format must be "datamarket-deployment\/1", got nothing/);
    });

    it("decodes through the market the errors raised by the token and the registry it calls", async function () {
      const [, seller, buyer] = await hre.ethers.getSigners();
      const a = (name: (typeof DEPLOYED_CONTRACT_NAMES)[number]) => record.contracts[name].address;
      const registry = StreamRegistry__factory.connect(a("StreamRegistry"), seller);
      const market = DataLicenseMarket__factory.connect(a("DataLicenseMarket"), seller);
      const token = DATAToken__factory.connect(a("DATAToken"), (await hre.ethers.getSigners())[0]);
      const wait = async (tx: Promise<ContractTransactionResponse>) => (await tx).wait();
      await wait(registry.createStream("/errors", 1, ""));
      const streamId = await registry.resourceId(seller.address, "/errors");
      await wait(registry.setSubscribeDelegate(streamId, a("DataLicenseMarket"), true));
      const salt = id("errors");
      await wait(
        market.createProduct(salt, {
          beneficiary: seller.address,
          pricePerSecond: 10n ** 12n,
          minSeconds: 60,
          maxSeconds: 86_400,
          requiresConsent: false,
          requiresKyc: false,
          termsHash: keccak256(toUtf8Bytes("terms")),
          termsUri: "https://terms.example",
          resources: [streamId],
        }),
      );
      const productId = await market.productIdOf(seller.address, salt);
      await wait(token.mint(buyer.address, 10n ** 18n));
      const order = (encryptionKey: string) => ({
        productId,
        duration: 3_600,
        signatures: "0x",
        encryptionKey,
        attestation: { grantId: `0x${"00".repeat(32)}`, buyer: buyer.address, productId, purpose: `0x${"00".repeat(32)}`, expiresAt: 0 },
      });
      const revertData = async (encryptionKey: string): Promise<string> => {
        try {
          await market.connect(buyer).buy.staticCall(order(encryptionKey), 10n ** 12n);
        } catch (error) {
          return (error as { data: string }).data;
        }
        throw new Error("the purchase did not revert");
      };

      const marketOnly = new Interface(dataLicenseMarketAbi);
      const combined = new Interface(withProtocolErrors(dataLicenseMarketAbi));
      // no allowance: the token reverts inside the market's transferFrom
      const allowance = await revertData("0x");
      expect(marketOnly.parseError(allowance)).to.equal(null);
      const decoded = combined.parseError(allowance)!;
      expect(decoded.name).to.equal("ERC20InsufficientAllowance");
      expect(decoded.args.toArray()).to.deep.equal([a("DataLicenseMarket"), 0n, 3_600n * 10n ** 12n]);
      // an encryption key that is not a compressed point: the registry reverts
      await wait(token.connect(buyer).approve(a("DataLicenseMarket"), 10n ** 18n));
      const badKey = `0x04${"11".repeat(32)}`;
      const key = await revertData(badKey);
      expect(marketOnly.parseError(key)).to.equal(null);
      expect(combined.parseError(key)!.name).to.equal("InvalidEncryptionKey");
      expect(combined.parseError(key)!.args[0]).to.equal(badKey);
      // the combined ABI alone decodes both as well (viem: decodeErrorResult({ abi: protocolErrorsAbi, data }))
      expect(new Interface(protocolErrorsAbi).parseError(key)!.name).to.equal("InvalidEncryptionKey");
      expect(new Interface(streamRegistryAbi).parseError(key)!.name).to.equal("InvalidEncryptionKey");
    });
  });
});
