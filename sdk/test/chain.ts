// The protocol deployed once per test run on Hardhat's in-process network by the repository's own
// deploy task (Ignition modules, deploy/parameters/localhost.json: governance = deployer = minter),
// its record written to a temporary directory as `npm run deploy` writes deployments/<chainId>.json.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ignition-ethers";
import { deployProtocol, exportPath, type DeploymentExport } from "../../tasks/deployment";
import { parametersPath } from "../../deploy/parameters";

export interface DeployedProtocol {
  record: DeploymentExport;
  /** The directory holding <chainId>.json. */
  dir: string;
  file: string;
}

let deployed: Promise<DeployedProtocol> | undefined;

export function deployedProtocol(): Promise<DeployedProtocol> {
  deployed ??= (async () => {
    await hre.run("compile", { quiet: true });
    const dir = mkdtempSync(path.join(tmpdir(), "sdk-deployment-"));
    const record = await deployProtocol(hre, { parametersFile: parametersPath("localhost"), exportDir: dir });
    return { record, dir, file: exportPath(record.chainId, dir) };
  })();
  return deployed;
}
