// Hardhat configuration: the Solidity compiler comes from the pinned npm package `solc`
// (no compiler download ever happens), Ignition modules live in deploy/.
import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks";

// The exact compiler version. It must equal the version of the `solc` npm package in
// package.json: the subtask below refuses to run if they ever drift apart.
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackage = require("solc/package.json") as { version: string };
  if (args.solcVersion !== SOLC_VERSION || solcPackage.version !== SOLC_VERSION) {
    throw new Error(
      `compiler ${args.solcVersion} requested, but only solc ${solcPackage.version} from npm is available ` +
        `(hardhat.config.ts pins ${SOLC_VERSION}); no compiler is ever downloaded`,
    );
  }
  const compilerPath = path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return { version: SOLC_VERSION, longVersion: solc.version(), compilerPath, isSolcJs: true };
});

const rpcUrl = process.env.RPC_URL;
const deployerKey = process.env.DEPLOYER_PRIVATE_KEY;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      // Cancun: the EVM of Ethereum mainnet since March 2024 (transient storage, MCOPY).
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 10_000 },
    },
  },
  networks: {
    hardhat: {},
    // LOCALHOST_RPC_URL: a node on another port (npm run demo starts its own on a free one).
    localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
    ...(rpcUrl
      ? { remote: { url: rpcUrl, accounts: deployerKey ? [deployerKey] : [] } }
      : {}),
  },
  paths: {
    sources: "./contracts",
    tests: "./test",
    cache: "./cache",
    artifacts: "./artifacts",
    ignition: "./deploy",
  },
  // Explorer verification (hardhat-verify, part of the toolbox): docs/deployment.md.
  etherscan: { apiKey: process.env.ETHERSCAN_API_KEY ?? "" },
  sourcify: { enabled: false },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  gasReporter: { enabled: process.env.REPORT_GAS === "true", offline: true },
  mocha: { timeout: 120_000 },
};

export default config;
