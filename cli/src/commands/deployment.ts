// datamarket deployment show|verify
import type { Command } from "commander";
import type { DeploymentRecord } from "@datamarket/contracts";
import type { Context } from "../context";
import { ExitCode } from "../errors";
import { fields, table } from "../output";
import { loadModule } from "../load";
import type { Action } from "../main";

interface Artifact {
  sourceName: string;
  contractName: string;
  deployedBytecode: string;
  deployedLinkReferences: Record<string, Record<string, { start: number; length: number }[]>>;
  immutableReferences: Record<string, { start: number; length: number }[]>;
}

interface Check {
  contract: string;
  check: string;
  expected: string;
  actual: string;
  ok: boolean;
}

/** The runtime code the package's build predicts at `address`: libraries linked from the record, a library's call guard set, immutables zeroed. */
export function expectedRuntime(artifact: Artifact, address: string, libraries: Map<string, string>): string {
  let code = artifact.deployedBytecode.toLowerCase().replace(/^0x/, "");
  for (const [source, byName] of Object.entries(artifact.deployedLinkReferences)) {
    for (const [name, places] of Object.entries(byName)) {
      const linked = (libraries.get(`${source}:${name}`) ?? "0x" + "00".repeat(20)).slice(2).toLowerCase();
      for (const { start, length } of places) code = code.slice(0, start * 2) + linked + code.slice((start + length) * 2);
    }
  }
  if (code.startsWith("73" + "00".repeat(20))) code = "73" + address.slice(2).toLowerCase() + code.slice(42);
  return maskImmutables(code, artifact);
}

export function maskImmutables(code: string, artifact: Artifact): string {
  let masked = code;
  for (const { start, length } of Object.values(artifact.immutableReferences).flat()) {
    masked = masked.slice(0, start * 2) + "00".repeat(length) + masked.slice((start + length) * 2);
  }
  return masked;
}

async function verify(ctx: Context, record: DeploymentRecord): Promise<Check[]> {
  const provider = ctx.provider();
  const checks: Check[] = [];
  const check = (contract: string, what: string, expected: unknown, actual: unknown) =>
    checks.push({ contract, check: what, expected: String(expected), actual: String(actual), ok: String(expected) === String(actual) });
  const chainId = await ctx.chainId();
  check("-", "chain id", record.chainId, chainId);
  const libraries = new Map(Object.values(record.contracts).map((c) => [c.contract, c.address]));
  const { version } = loadModule<{ version: string }>("@datamarket/contracts/package.json");
  const { LOCAL_ENS_CONTRACT_NAMES } = loadModule<typeof import("@datamarket/contracts")>("@datamarket/contracts");
  for (const [name, entry] of Object.entries(record.contracts)) {
    ctx.out.progress(`checking ${name} at ${entry.address}`);
    const contractName = entry.contract.split(":")[1];
    if ((LOCAL_ENS_CONTRACT_NAMES as readonly string[]).includes(name)) {
      // the development ENS (Names.ens "local"): ENS's own contracts, which @datamarket/contracts does not ship
      const code = await provider.getCode(entry.address);
      checks.push({
        contract: name,
        check: "runtime code (development ENS, not in @datamarket/contracts)",
        expected: "contract code",
        actual: code === "0x" ? "no code at the address" : `${(code.length - 2) / 2} bytes`,
        ok: code !== "0x",
      });
      continue;
    }
    let artifact: Artifact;
    try {
      artifact = loadModule<Artifact>(`@datamarket/contracts/artifacts/${contractName}.json`);
    } catch {
      checks.push({
        contract: name,
        check: "runtime code",
        expected: `${contractName} in @datamarket/contracts ${version}`,
        actual: "not in this version of the package",
        ok: false,
      });
      continue;
    }
    const onChain = (await provider.getCode(entry.address)).toLowerCase().slice(2);
    if (onChain === "") {
      checks.push({ contract: name, check: "runtime code", expected: "contract code", actual: "no code at the address", ok: false });
      continue;
    }
    const expected = expectedRuntime(artifact, entry.address, libraries);
    const actual = maskImmutables(onChain, artifact);
    const same = expected === actual;
    checks.push({
      contract: name,
      check: `runtime code = @datamarket/contracts ${version}`,
      expected: `${expected.length / 2} bytes`,
      actual: same ? `${actual.length / 2} bytes, identical` : `${actual.length / 2} bytes, different`,
      ok: same,
    });
  }
  // The parameters the record says it was deployed with, read back from the chain.
  const p = record.parameters;
  const { market, token, coordinator } = await ctx.contracts(false);
  ctx.out.progress("checking the recorded parameters");
  check("DATAToken", "cap", p.Foundation.tokenCap, await token.cap());
  check(
    "DataLicenseMarket",
    "attestors",
    [...p.Protocol.attestors]
      .map((a) => a.toLowerCase())
      .sort()
      .join(","),
    [...(await market.attestors())]
      .map((a) => a.toLowerCase())
      .sort()
      .join(","),
  );
  check("DataLicenseMarket", "attestorThreshold", p.Protocol.attestorThreshold, await market.attestorThreshold());
  const [feeBps, recipient] = await market.protocolFee();
  check("DataLicenseMarket", "protocolFee.feeBps", p.Protocol.feeBps, feeBps);
  check("DataLicenseMarket", "protocolFee.recipient", p.Protocol.feeRecipient.toLowerCase(), recipient.toLowerCase());
  check("NetworkCoordinator", "replication", p.Network.replication, await coordinator.replication());
  check("NetworkCoordinator", "epochLength", p.Network.epochLength, await coordinator.epochLength());
  ctx.out.endProgress();
  return checks;
}

export function deploymentCommands(program: Command, action: Action): void {
  const deployment = program.command("deployment").description("the deployment record of the chain: its contracts, and a check of them against the chain");

  deployment
    .command("show")
    .description("the record (--deployment, ./deployments/<chainId>.json, or the one @datamarket/contracts ships)")
    .action(
      action(async (ctx: Context) => {
        const { record, file } = await ctx.deployment();
        if (ctx.options.json) return ctx.out.result(record, () => "");
        const rows = [
          ["contract", "address", "deploy block"],
          ...Object.entries(record.contracts).map(([name, c]) => [name, c.address, String(c.deployBlock)]),
        ];
        ctx.out.result(
          record,
          (r) =>
            `${fields([
              ["record", file],
              ["chain", r.chainId],
              ["network", r.network],
              ["governance", r.governance],
              ["handed over", r.governanceHandedOver],
            ])}\n\n${table(rows)}`,
        );
      }),
    );

  deployment
    .command("verify")
    .description(
      "check the record against the chain: chain id, every contract's runtime code against this package's build, the recorded parameters (exit 7 on a mismatch)",
    )
    .action(
      action(async (ctx: Context) => {
        const { record, file } = await ctx.deployment();
        const checks = await verify(ctx, record);
        const failed = checks.filter((c) => !c.ok);
        ctx.out.result({ record: file, passed: checks.length - failed.length, failed: failed.length, checks }, (r) =>
          [
            table([
              ["result", "contract", "check", "expected", "actual"],
              ...r.checks.map((c) => [c.ok ? "PASS" : "FAIL", c.contract, c.check, c.expected, c.actual]),
            ]),
            "",
            `${r.passed} passed, ${r.failed} failed`,
          ].join("\n"),
        );
        if (failed.length > 0) {
          ctx.out.note(`datamarket: ${failed.length} of ${checks.length} checks failed`);
          ctx.exitCode = ExitCode.CHECK_FAILED;
        }
      }),
    );
}
