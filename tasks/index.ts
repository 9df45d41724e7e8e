// Hardhat tasks of the deployment: `deploy-protocol` (npm run deploy) and `verify-deployment`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { task, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";

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
    console.log(`\nDeployed on chain ${record.chainId} (${record.network}); governance ${record.governance}` +
      (record.governanceHandedOver ? " (every admin role handed over, deployer renounced)" : " (= deployer: no hand-over)"));
    for (const [name, c] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(22)} ${c.address}  block ${c.deployBlock}`);
    console.log(`Export: ${exportDir ? exportPath(record.chainId, exportDir) : path.relative(hre.config.paths.root, exportPath(record.chainId))}`);
  });

task("verify-deployment", "Check a deployment against the build and its parameters file; prints a pass/fail table")
  .addOptionalParam("export", "deployment export (default deployments/<chainId>.json)", undefined, types.string)
  .addOptionalParam("parameters", "parameters file (default: the one recorded in the export)", undefined, types.string)
  .addOptionalParam("logChunk", "blocks per eth_getLogs request", 10_000, types.int)
  .setAction(async (args: { export?: string; parameters?: string; logChunk: number }, hre) => {
    const { exportPath, readExport } = await import("./deployment");
    const { verifyDeployment, formatTable } = await import("./verify");
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    const record = readExport(path.resolve(args.export ?? exportPath(chainId)));
    const parametersFile = path.resolve(hre.config.paths.root, args.parameters ?? record.parametersFile);
    const checks = await verifyDeployment(hre, { record, parametersFile, logChunk: args.logChunk });
    console.log(formatTable(checks));
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      throw new HardhatPluginError("verify-deployment", `${failed.length} of ${checks.length} checks failed`);
    }
    return checks;
  });
