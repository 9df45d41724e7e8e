#!/usr/bin/env node
// Builds @datamarket/contracts from the Hardhat artifacts of the repository (`npx hardhat compile`,
// run by the package's prebuild): nothing of it is committed, because the contracts change under it.
//
//   build/src/        generated TypeScript: an `as const` ABI per contract, the combined custom
//                     errors, bytecode, the typechain ethers-v6 bindings, the shipped deployment
//                     records; plus the hand-written src/ (deployment record format, helpers)
//   dist/esm, dist/cjs  that TypeScript compiled twice (ES modules and CommonJS), with .d.ts
//   dist/abi/<Contract>.json, dist/artifacts/<Contract>.json   the same as plain JSON
//
// Published: every contract, interface and library under contracts/ except test helpers, mocks and
// examples (contracts/test/, */mocks/, */examples/).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const PACKAGE = path.resolve(__dirname, "..");
const ROOT = path.resolve(PACKAGE, "..", "..");
const ARTIFACTS = path.join(ROOT, "artifacts", "contracts");
const DEPLOYMENTS = path.join(ROOT, "deployments");
const BUILD = path.join(PACKAGE, "build");
const GEN = path.join(BUILD, "src");
const DIST = path.join(PACKAGE, "dist");
const EXCLUDED = /(^|\/)(test|mocks|examples)\//;
/** Chains whose records are never shipped: the local node and the in-process network. */
const LOCAL_CHAINS = new Set(["31337"]);

function fail(message) {
  process.stderr.write(`@datamarket/contracts build: ${message}\n`);
  process.exit(1);
}

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

/** DATAToken -> dataToken, IStreamRegistry -> iStreamRegistry, Karma -> karma (wagmi's naming). */
function camel(name) {
  if (/^[A-Z0-9]+$/.test(name)) return name.toLowerCase();
  const run = /^[A-Z]+/.exec(name)[0];
  const keep = run.length > 1 ? run.length - 1 : run.length;
  return name.slice(0, keep).toLowerCase() + name.slice(keep);
}

function write(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** evm.deployedBytecode.immutableReferences of an artifact, from its build-info (not in the artifact itself). */
const buildInfos = new Map();
function immutableReferences(file, artifact) {
  const debug = JSON.parse(fs.readFileSync(file.replace(/\.json$/, ".dbg.json"), "utf8"));
  const buildInfoFile = path.resolve(path.dirname(file), debug.buildInfo);
  if (!buildInfos.has(buildInfoFile)) buildInfos.set(buildInfoFile, JSON.parse(fs.readFileSync(buildInfoFile, "utf8")));
  const output = buildInfos.get(buildInfoFile).output.contracts[artifact.sourceName][artifact.contractName];
  return output.evm.deployedBytecode.immutableReferences ?? {};
}

/** The artifacts to publish, by contract name. */
function selectArtifacts() {
  if (!fs.existsSync(ARTIFACTS)) fail(`${path.relative(process.cwd(), ARTIFACTS)} is missing: run npx hardhat compile in ${ROOT}`);
  const byName = new Map();
  for (const file of walk(ARTIFACTS)) {
    if (!file.endsWith(".json") || file.endsWith(".dbg.json")) continue;
    const artifact = JSON.parse(fs.readFileSync(file, "utf8"));
    if (EXCLUDED.test(artifact.sourceName)) continue;
    const other = byName.get(artifact.contractName);
    if (other) fail(`two contracts named ${artifact.contractName} (${other.artifact.sourceName}, ${artifact.sourceName}): names must be unique`);
    byName.set(artifact.contractName, { file, artifact: { ...artifact, immutableReferences: immutableReferences(file, artifact) } });
  }
  return new Map([...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function canonicalType(p) {
  return p.type.startsWith("tuple") ? `(${(p.components ?? []).map(canonicalType).join(",")})${p.type.slice(5)}` : p.type;
}

/** Every custom error of the published contracts, once per signature (= once per selector). */
function combinedErrors(selected) {
  const bySignature = new Map();
  for (const { artifact } of selected.values()) {
    for (const item of artifact.abi) {
      if (item.type !== "error") continue;
      const signature = `${item.name}(${item.inputs.map(canonicalType).join(",")})`;
      if (!bySignature.has(signature)) bySignature.set(signature, item);
    }
  }
  return [...bySignature.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, item]) => item);
}

function shippedDeployments() {
  const records = {};
  if (!fs.existsSync(DEPLOYMENTS)) return records;
  for (const entry of fs.readdirSync(DEPLOYMENTS)) {
    const match = /^(\d+)\.json$/.exec(entry);
    if (!match || LOCAL_CHAINS.has(match[1])) continue;
    const record = JSON.parse(fs.readFileSync(path.join(DEPLOYMENTS, entry), "utf8"));
    if (record.format !== "datamarket-deployment/1") fail(`deployments/${entry} is not a datamarket-deployment/1 record: deploy again`);
    records[match[1]] = record;
  }
  return records;
}

function generateSources(selected) {
  fs.rmSync(BUILD, { recursive: true, force: true });
  fs.mkdirSync(GEN, { recursive: true });
  for (const file of fs.readdirSync(path.join(PACKAGE, "src"))) fs.copyFileSync(path.join(PACKAGE, "src", file), path.join(GEN, file));
  const header = "// Generated by packages/contracts/scripts/build.js from the Hardhat artifacts. Do not edit.\n";
  const abiExports = [];
  const bytecodeLines = [header];
  for (const [name, { artifact }] of selected) {
    const id = camel(name);
    write(
      path.join(GEN, "generated", "abis", `${name}.ts`),
      `${header}/** ABI of ${artifact.sourceName}:${name}. */\nexport const ${id}Abi = ${JSON.stringify(artifact.abi, null, 2)} as const;\n`,
    );
    abiExports.push(`export { ${id}Abi } from "./abis/${name}.js";`);
    bytecodeLines.push(
      `/** Creation code of ${name}${Object.keys(artifact.linkReferences).length ? " (link the libraries of linkReferences first)" : ""}; "0x" for an interface or abstract contract. */`,
      `export const ${id}Bytecode = ${JSON.stringify(artifact.bytecode)} as const;`,
      `/** Runtime code of ${name} as compiled (immutables zeroed, library placeholders unlinked). */`,
      `export const ${id}DeployedBytecode = ${JSON.stringify(artifact.deployedBytecode)} as const;`,
      `export const ${id}LinkReferences = ${JSON.stringify(artifact.linkReferences)} as const;`,
      `export const ${id}DeployedLinkReferences = ${JSON.stringify(artifact.deployedLinkReferences)} as const;`,
      `/** Byte ranges of the runtime code that the constructor fills (immutables): mask them to compare with code on chain. */`,
      `export const ${id}ImmutableReferences = ${JSON.stringify(artifact.immutableReferences)} as const;`,
    );
  }
  const names = [...selected.keys()];
  abiExports.push(
    "",
    "/** Every contract of the package (contracts, interfaces, libraries), by Solidity name. */",
    `export const contractNames = ${JSON.stringify(names)} as const;`,
    "export type ContractName = (typeof contractNames)[number];",
  );
  write(path.join(GEN, "generated", "abis.ts"), header + abiExports.join("\n") + "\n");
  write(path.join(GEN, "bytecode.ts"), bytecodeLines.join("\n") + "\n");
  const errors = combinedErrors(selected);
  write(
    path.join(GEN, "generated", "protocolErrors.ts"),
    `${header}/** Every custom error of the protocol's contracts (${errors.length}), once per selector. */\nexport const protocolErrorsAbi = ${JSON.stringify(errors, null, 2)} as const;\n`,
  );
  write(
    path.join(GEN, "generated", "deployments.ts"),
    `${header}import type { DeploymentRecord } from "../deployment.js";\n\nexport const deploymentRecords: Record<number, DeploymentRecord> = ${JSON.stringify(shippedDeployments(), null, 2)} as Record<number, DeploymentRecord>;\n`,
  );
  return errors.length;
}

async function generateTypechain(selected) {
  const { runTypeChain } = require("typechain");
  const files = [...selected.values()].map(({ file }) => file);
  const result = await runTypeChain({
    cwd: ROOT,
    filesToProcess: files,
    allFiles: files,
    outDir: path.join(GEN, "typechain"),
    target: "ethers-v6",
    flags: { alwaysGenerateOverloads: false, discriminateTypes: false, node16Modules: true, environment: undefined },
  });
  return result.filesGenerated;
}

function compile(outDir, module) {
  const ts = require("typescript");
  const entries = ["index.ts", "bytecode.ts", "typechain/index.ts"].map((f) => path.join(GEN, f));
  const options = {
    target: ts.ScriptTarget.ES2022,
    module: module === "esm" ? ts.ModuleKind.ES2022 : ts.ModuleKind.CommonJS,
    moduleResolution: module === "esm" ? ts.ModuleResolutionKind.Bundler : ts.ModuleResolutionKind.Node10,
    lib: ["lib.es2022.d.ts"],
    types: [],
    strict: true,
    declaration: true,
    skipLibCheck: true,
    esModuleInterop: true,
    outDir,
    rootDir: GEN,
  };
  const program = ts.createProgram(entries, options);
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => PACKAGE, getNewLine: () => "\n" };
    fail(`TypeScript errors (${module}):\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
  write(path.join(outDir, "package.json"), JSON.stringify({ type: module === "esm" ? "module" : "commonjs" }) + "\n");
}

async function main() {
  const started = Date.now();
  const selected = selectArtifacts();
  const errorCount = generateSources(selected);
  const typechainFiles = await generateTypechain(selected);
  fs.rmSync(DIST, { recursive: true, force: true });
  compile(path.join(DIST, "esm"), "esm");
  compile(path.join(DIST, "cjs"), "cjs");
  for (const [name, { artifact }] of selected) {
    write(path.join(DIST, "abi", `${name}.json`), JSON.stringify(artifact.abi, null, 2) + "\n");
    // Hardhat's artifact format, plus immutableReferences (from the build-info) for bytecode checks
    write(path.join(DIST, "artifacts", `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
  }
  process.stdout.write(
    `@datamarket/contracts: ${selected.size} contracts, ${errorCount} custom errors, ${typechainFiles} typechain files -> dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

main().catch((error) => fail(error.stack ?? String(error)));
