// @datamarket/contracts: ABIs (`as const`, so viem and wagmi infer types), the combined custom errors
// of the protocol, contract names, and the deployment records with their format. Bytecode:
// `@datamarket/contracts/bytecode`; typechain ethers-v6 factories: `@datamarket/contracts/typechain`;
// JSON: `@datamarket/contracts/abi/<Contract>.json`, `.../artifacts/<Contract>.json`.
export * from "./deployment.js";
export * from "./errors.js";
export * from "./generated/abis.js";
export { deployments, getDeployment } from "./deployments.js";
