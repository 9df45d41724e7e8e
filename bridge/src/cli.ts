// The `bridge` command: `bridge start [--config FILE] [--test]`, `-h`/`--help`, `--version`.
// Exit status: 0 stopped (SIGINT/SIGTERM), help, version or a configuration that passed --test;
// 1 a start-up failure (chain or ledger unreachable, state directory refused); 2 usage or configuration.
import { configErrorExit, parseStartCommand, processOutput, stopSignals, type Output } from "@datamarket/consent-ledger/config";
import { checkConfigFiles, describeConfig, loadConfig, type BridgeConfig } from "./config";
import { BridgeConfigError } from "./errors";
import { startFromConfig } from "./start";

const USAGE = `usage: bridge start [--config FILE] [--test]
       bridge -h | --help | --version

  start           follow the consent ledger, sign attestations and revocations, serve them over HTTP
  -c, --config    the JSON configuration file (relative paths in it are relative to it)
  --test          check the configuration (file, environment, keys, files it names) and exit, starting nothing

Every setting can come from the environment: BRIDGE__ and its path in UPPER_SNAKE_CASE joined by "__",
e.g. BRIDGE__CHAIN__RPC_URL, BRIDGE__HTTP__PORT. The keys come from the environment only:
BRIDGE__ATTESTOR_KEY and, with relayer.enabled, BRIDGE__RELAYER__KEY. Settings: docs/market.md §10.2.
`;

export type { Output };

function version(): string {
  return (require("../package.json") as { version: string }).version;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = processOutput): Promise<number> {
  const command = parseStartCommand("bridge", USAGE, version(), argv, out);
  if (typeof command === "number") return command;
  let config: BridgeConfig;
  try {
    config = loadConfig(command.config, env);
    const missing = checkConfigFiles(config);
    if (missing.length > 0) throw new BridgeConfigError(missing);
  } catch (error) {
    if (!(error instanceof BridgeConfigError)) throw error;
    return configErrorExit("bridge", out, error);
  }
  if (command.test) {
    out.stdout(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    out.stderr("bridge: the configuration is valid (nothing was started)\n");
    return 0;
  }
  // listening for SIGTERM before the start, which logs "consent bridge started" (see stopSignals)
  const stop = stopSignals();
  let bridge;
  try {
    bridge = await startFromConfig(config);
  } catch (error) {
    stop.dispose();
    if (error instanceof BridgeConfigError) return configErrorExit("bridge", out, error);
    out.stderr(`bridge: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  bridge.log.info({ signal: await stop.signal }, "shutting down");
  await bridge.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`bridge: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
