// Hardhat configuration: the Solidity compiler comes from the pinned npm package `solc`
// (no compiler download ever happens), Ignition modules live in deploy/.
import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks";

// The exact compiler versions, each served by a pinned npm package: `solc` for the protocol
// (0.8.28), and the alias `solc-0.7` (npm:solc@0.7.6) only for the ENS registry and resolver that the
// tests deploy from @ensdomains/ens and @ensdomains/resolver (contracts/test/ens/, docs/contracts.md).
// The subtask below refuses any other version, and a package whose version drifted from its pin.
const SOLC_VERSION = "0.8.28";
const SOLC_PACKAGES: Record<string, string> = { [SOLC_VERSION]: "solc", "0.7.6": "solc-0.7" };

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }) => {
  const packageName = SOLC_PACKAGES[args.solcVersion];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solcPackage = packageName ? (require(`${packageName}/package.json`) as { version: string }) : undefined;
  if (!packageName || solcPackage?.version !== args.solcVersion) {
    throw new Error(
      `compiler ${args.solcVersion} requested, but only ${Object.entries(SOLC_PACKAGES)
        .map(([v, p]) => `${v} (npm ${p})`)
        .join(" and ")} ` +
        `are available (hardhat.config.ts pins them; npm ${packageName ?? "-"} is ${solcPackage?.version ?? "absent"}); no compiler is ever downloaded`,
    );
  }
  const compilerPath = path.join(path.dirname(require.resolve(`${packageName}/package.json`)), "soljson.js");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require(packageName) as { version(): string };
  return { version: args.solcVersion, longVersion: solc.version(), compilerPath, isSolcJs: true };
});

const rpcUrl = process.env.RPC_URL;
const deployerKey = process.env.DEPLOYER_PRIVATE_KEY;

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          // Cancun: the EVM of Ethereum mainnet since March 2024 (transient storage, MCOPY).
          evmVersion: "cancun",
          optimizer: { enabled: true, runs: 10_000 },
        },
      },
      // Test fixtures only: the ENS registry and public resolver as ENS published them.
      { version: "0.7.6", settings: { evmVersion: "istanbul", optimizer: { enabled: true, runs: 200 } } },
    ],
  },
  networks: {
    hardhat: {},
    // LOCALHOST_RPC_URL: a node on another port (npm run demo starts its own on a free one).
    localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
    ...(rpcUrl ? { remote: { url: rpcUrl, accounts: deployerKey ? [deployerKey] : [] } } : {}),
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
  mocha: { timeout: 300_000 }, // a liveness bound: deployment and property tests took 50-60 s at load 15
};

export default config;
