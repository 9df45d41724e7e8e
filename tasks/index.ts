// Hardhat tasks of the deployment: `deploy-protocol` (npm run deploy) and `verify-deployment`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { task, types } from "hardhat/config";

task("deploy-protocol", "Deploy the protocol with Ignition from deploy/parameters/<network>.json and export deployments/<chainId>.json")
  .addOptionalParam("parameters", "parameters file (default deploy/parameters/<network>.json)", undefined, types.string)
  .setAction(async (args: { parameters?: string }, hre) => {
    const { deployProtocol, exportPath } = await import("./deployment");
    const { parametersPath } = await import("../deploy/parameters");
    const parametersFile = path.resolve(args.parameters ?? parametersPath(hre.network.name));
    // The in-process network vanishes with this process: its export must not overwrite the record of
    // a local node, which has the same chain id (31337).
    const exportDir = hre.network.name === "hardhat" ? fs.mkdtempSync(path.join(os.tmpdir(), "datamarket-deploy-")) : undefined;
    const record = await deployProtocol(hre, { parametersFile, exportDir, displayUi: true });
    console.log(
      `\nDeployed on chain ${record.chainId} (${record.network}); governance ${record.governance}` +
        (record.governanceHandedOver ? " (every admin role handed over, deployer renounced)" : " (= deployer: no hand-over)"),
    );
    for (const [name, c] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(22)} ${c.address}  block ${c.deployBlock}`);
    console.log(`Export: ${exportDir ? exportPath(record.chainId, exportDir) : path.relative(hre.config.paths.root, exportPath(record.chainId))}`);
  });

task("verify-deployment", "Check a deployment against the build and its parameters file; prints a pass/fail table")
  .addOptionalParam("export", "deployment export (default deployments/<chainId>.json)", undefined, types.string)
  .addOptionalParam("parameters", "parameters file (default: the one recorded in the export)", undefined, types.string)
  .addOptionalParam("logChunk", "blocks per eth_getLogs request", 10_000, types.int)
  .addFlag("json", "print the checks as JSON on stdout instead of the table")
  .setAction(async (args: { export?: string; parameters?: string; logChunk: number; json: boolean }, hre) => {
    const { verifyDeploymentTask } = await import("./verify");
    return verifyDeploymentTask(hre, args);
  });
