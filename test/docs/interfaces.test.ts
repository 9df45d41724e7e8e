// docs/INTERFACES.md against the code: every reference to it in the repository names a section that
// exists, every link between the pages of docs/ resolves, and every id, role, domain and type hash on
// the page is what the deployed contracts compute.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { TypedDataEncoder, id, solidityPackedKeccak256, type Contract } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployProtocol } from "../../tasks/deployment";
import { parametersPath } from "../../deploy/parameters";

const ROOT = path.join(__dirname, "..", "..");
const DOCS = path.join(ROOT, "docs");
const PAGE = fs.readFileSync(path.join(DOCS, "INTERFACES.md"), "utf8");

/** GitHub's heading anchor: lowercase, punctuation but "-" and "_" dropped, spaces to "-". */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
const withoutCode = (markdown: string) => markdown.replace(/```[\s\S]*?```/g, "");
const anchorsOf = (markdown: string) => new Set([...withoutCode(markdown).matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1])));

/** The `| \`NAME\` | \`0x…\` |` rows of the page. */
function hexRows(): Map<string, string> {
  return new Map([...PAGE.matchAll(/^\| `([A-Za-z0-9_]+)` \| `(0x[0-9a-f]{64})` \|$/gm)].map((m) => [m[1], m[2]]));
}

/** The full EIP-712 type string of `name` as the page writes it. */
function typeString(name: string): string {
  const match = new RegExp("`(" + name + "\\([^`\\n]*\\))`").exec(PAGE);
  expect(match, name).to.not.equal(null);
  return match![1];
}

async function deployed() {
  const record = await deployProtocol(hre, { parametersFile: parametersPath("hardhat"), exportDir: fs.mkdtempSync(path.join(os.tmpdir(), "interfaces-")) });
  const at = (name: string, address: string) => ethers.getContractAt(name, address) as Promise<unknown> as Promise<Contract>;
  return {
    token: await at("DATAToken", record.contracts.DATAToken.address),
    registry: await at("StreamRegistry", record.contracts.StreamRegistry.address),
    coordinator: await at("NetworkCoordinator", record.contracts.NetworkCoordinator.address),
    karma: await at("Karma", record.contracts.Karma.address),
    market: await at("DataLicenseMarket", record.contracts.DataLicenseMarket.address),
    channels: await at("PaymentChannels", record.contracts.PaymentChannels.address),
  };
}

describe("docs/INTERFACES.md", function () {
  it("is referenced only with sections that exist, from docs and code alike", function () {
    const sections = new Set([...PAGE.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]));
    const anchors = anchorsOf(PAGE);
    const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((f) => /\.(md|ts|sol|js)$/.test(f));
    let references = 0;
    for (const file of files) {
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      for (const m of text.matchAll(/INTERFACES\.md(#[\w-]+)?\)?( §(\d+))?/g)) {
        if (file === "docs/INTERFACES.md" || file === "test/docs/interfaces.test.ts") continue;
        references++;
        if (m[1]) expect(anchors.has(m[1].slice(1)), `${file}: ${m[0]}`).to.equal(true);
        if (m[3]) expect(sections.has(m[3]), `${file}: ${m[0]}`).to.equal(true);
        // Source code cites a section, so a reader lands on the rule it relies on.
        if (!file.endsWith(".md")) expect(m[3], `${file} cites INTERFACES.md without a section`).to.not.equal(undefined);
      }
    }
    // docs/market.md, docs/protocol.md §1, the bridge, the broker and the chaincode at least.
    expect(references).to.be.greaterThanOrEqual(5);
  });

  it("every link between the pages of docs/ resolves to a page and a heading", function () {
    const pages = fs.readdirSync(DOCS).filter((f) => f.endsWith(".md"));
    const anchors = new Map(pages.map((p) => [p, anchorsOf(fs.readFileSync(path.join(DOCS, p), "utf8"))]));
    const broken: string[] = [];
    for (const page of pages) {
      for (const m of withoutCode(fs.readFileSync(path.join(DOCS, page), "utf8")).matchAll(/\]\(([\w.-]*\.md|)(#[^)\s]+)?\)/g)) {
        const target = m[1] || page;
        if (!anchors.has(target)) broken.push(`${page}: ${m[0]} (no page)`);
        else if (m[2] && !anchors.get(target)!.has(m[2].slice(1))) broken.push(`${page}: ${m[0]} (no heading)`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it("§1: the worked resource id and every role id", async function () {
    const { token, registry, coordinator, karma, market } = await loadFixture(deployed);
    const creator = "0x8ba1f109551bd432803012645ac136ddd64dba72";
    const resourceId = solidityPackedKeccak256(["address", "string"], [creator, "/health/heart-rate"]);
    expect(PAGE).to.include(`\`${creator}\`, path \`/health/heart-rate\` →\n\`${resourceId}\``);
    expect(await registry.resourceId(creator, "/health/heart-rate")).to.equal(resourceId);
    const rows = hexRows();
    const onChain: Record<string, string> = {
      DEFAULT_ADMIN_ROLE: await token.DEFAULT_ADMIN_ROLE(),
      MINTER_ROLE: await token.MINTER_ROLE(),
      KEY_REGISTRAR_ROLE: await registry.KEY_REGISTRAR_ROLE(),
      PARAMETER_ROLE: await coordinator.PARAMETER_ROLE(),
      ARBITER_ROLE: await market.ARBITER_ROLE(),
      KYC_PROVIDER_ROLE: await market.KYC_PROVIDER_ROLE(),
      REPORTER_ROLE: await karma.REPORTER_ROLE(),
    };
    for (const [role, value] of Object.entries(onChain)) {
      expect(rows.get(role), role).to.equal(value);
      if (role !== "DEFAULT_ADMIN_ROLE") expect(id(role), role).to.equal(value);
    }
  });

  it("§3: the domains, type strings and type hashes are the contracts' (the digests of each type agree)", async function () {
    const { token, coordinator, market, channels } = await loadFixture(deployed);
    const rows = hexRows();
    const { chainId } = await ethers.provider.getNetwork();
    for (const [contract, name] of [
      [token, "Streamr DATA"],
      [market, "DataLicenseMarket"],
      [coordinator, "NetworkCoordinator"],
      [channels, "PaymentChannels"],
    ] as const) {
      const domain = await contract.eip712Domain();
      expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([name, "1", chainId, await contract.getAddress()]);
      expect(PAGE).to.include(`| \`${name}\` | \`1\` |`);
      if (contract !== coordinator)
        expect(await contract.DOMAIN_SEPARATOR()).to.equal(
          TypedDataEncoder.hashDomain({ name, version: "1", chainId, verifyingContract: await contract.getAddress() }),
        );
    }
    const domainType = typeString("EIP712Domain");
    expect(rows.get("EIP712Domain")).to.equal(id(domainType));
    for (const name of ["Permit", "ConsentAttestation", "ConsentRevocation", "BrokerReport", "Voucher"])
      expect(rows.get(name), name).to.equal(id(typeString(name)));
    expect(await channels.VOUCHER_TYPEHASH()).to.equal(rows.get("Voucher"));
    expect(await market.CONSENT_ATTESTATION_TYPEHASH()).to.equal(rows.get("ConsentAttestation"));
    expect(await market.CONSENT_REVOCATION_TYPEHASH()).to.equal(rows.get("ConsentRevocation"));

    // The type strings of the page, used as EIP-712 types, give the contracts' digests.
    const typesOf = (name: string) => {
      const fields = /\((.*)\)/
        .exec(typeString(name))![1]
        .split(",")
        .map((f) => f.split(" "));
      return { [name]: fields.map(([type, field]) => ({ name: field, type })) };
    };
    const domainOf = async (contract: Contract, name: string) => ({ name, version: "1", chainId, verifyingContract: await contract.getAddress() });
    const attestation = {
      grantId: id("grant"),
      buyer: "0x8ba1f109551bd432803012645ac136ddd64dba72",
      productId: id("product"),
      purpose: id("ScientificResearch"),
      expiresAt: 1798761600n,
    };
    expect(await market.consentAttestationDigest(attestation)).to.equal(
      TypedDataEncoder.hash(await domainOf(market, "DataLicenseMarket"), typesOf("ConsentAttestation"), attestation),
    );
    const revocation = { grantId: id("grant"), revokedAt: 1785000000n };
    expect(await market.consentRevocationDigest(revocation)).to.equal(
      TypedDataEncoder.hash(await domainOf(market, "DataLicenseMarket"), typesOf("ConsentRevocation"), revocation),
    );
    const report = { epoch: 7n, partition: 3n, eventCount: 1500n, checksum: id("checksum") };
    expect(await coordinator.reportDigest(report.epoch, report.partition, report.eventCount, report.checksum)).to.equal(
      TypedDataEncoder.hash(await domainOf(coordinator, "NetworkCoordinator"), typesOf("BrokerReport"), report),
    );
    const voucher = { payer: attestation.buyer, broker: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", generation: 2n, amount: 10n ** 15n };
    expect(await channels.voucherDigest(voucher.payer, voucher.broker, voucher.generation, voucher.amount)).to.equal(
      TypedDataEncoder.hash(await domainOf(channels, "PaymentChannels"), typesOf("Voucher"), voucher),
    );
    const permit = { owner: attestation.buyer, spender: await market.getAddress(), value: 10n ** 18n, nonce: 0n, deadline: 1798761600n };
    const [owner] = await ethers.getSigners();
    const signature = await owner.signTypedData(await domainOf(token, "Streamr DATA"), typesOf("Permit"), { ...permit, owner: owner.address });
    const { v, r, s } = ethers.Signature.from(signature);
    await token.permit(owner.address, permit.spender, permit.value, permit.deadline, v, r, s);
    expect(await token.allowance(owner.address, permit.spender)).to.equal(permit.value);
  });
});
