// The deployment records shipped with this version of the package (deployments/<chainId>.json of the
// repository at build time; a local chain's record, 31337, is never shipped).
import { deploymentRecords } from "./generated/deployments.js";
import { DeploymentRecordError, parseDeploymentRecord, type DeploymentRecord } from "./deployment.js";

/** Every shipped record, by chain id. */
export const deployments: Readonly<Record<number, DeploymentRecord>> = deploymentRecords;

/**
 * The shipped record of a chain.
 * @throws DeploymentRecordError when this package ships no record for `chainId`
 */
export function getDeployment(chainId: number | bigint): DeploymentRecord {
  const record = deployments[Number(chainId)];
  if (!record) {
    const known = Object.keys(deployments);
    throw new DeploymentRecordError(
      `@datamarket/contracts`,
      `deployments[${chainId}]`,
      `is not shipped (known chains: ${known.length ? known.join(", ") : "none"}); read your own record with parseDeploymentRecord`,
    );
  }
  return parseDeploymentRecord(record, `@datamarket/contracts deployments[${chainId}]`);
}
