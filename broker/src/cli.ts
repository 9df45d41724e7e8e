// The `broker` command: `broker start [--config FILE] [--test]`, `-h`/`--help`, `--version`, parsed
// with node:util parseArgs as the bridge's command is. SIGINT/SIGTERM stop a broker gracefully
// (clients are told SHUTTING_DOWN, queued events are made durable, files are closed).
// Exit status: 0 stopped, help, version, or a configuration that passed --test; 1 a start-up failure
// (a port in use, a data directory it cannot write); 2 usage or configuration (a bad setting, a key in
// the file, chain.mode "on" without a node or a deployment record, a chain that is not chainId).

import { configErrorExit, parseStartCommand, processOutput, stopSignals, type Output } from "@datamarket/consent-ledger/config";
import { checkConfigFiles, ConfigError, describeConfig, loadConfig, type BrokerConfig } from "./config";
import { startConfiguredBroker } from "./Broker";

const USAGE = `usage: broker start [--config FILE] [--test]
       broker -h | --help | --version

  start           serve the WebSocket and HTTP APIs, following the contracts and the consent ledger
  -c, --config    the JSON configuration file (relative paths in it are relative to it)
  --test          check the configuration (file, environment, key, files it names) and exit, starting nothing

Every setting can come from the environment: BROKER__ and its path in UPPER_SNAKE_CASE joined by "__",
e.g. BROKER__WS_PORT, BROKER__STORAGE__MAX_RESEND_EVENTS. The operator key comes from the environment
only: BROKER__CHAIN__OPERATOR_KEY. Settings: docs/broker.md ("Configuration").
`;

export type { Output };

function version(): string {
  return (require("../package.json") as { version: string }).version;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = processOutput): Promise<number> {
  const command = parseStartCommand("broker", USAGE, version(), argv, out);
  if (typeof command === "number") return command;
  let config: BrokerConfig;
  try {
    config = loadConfig(command.config, env);
    const unreadable = checkConfigFiles(config);
    if (unreadable.length > 0) throw new ConfigError(unreadable);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return configErrorExit("broker", out, error);
  }
  if (command.test) {
    out.stdout(`${JSON.stringify(describeConfig(config), null, 2)}\n`);
    out.stderr("broker: the configuration is valid (nothing was started)\n");
    return 0;
  }
  // listening for SIGTERM before the start, which logs "broker listening" (see stopSignals)
  const stop = stopSignals();
  let running;
  try {
    running = await startConfiguredBroker(config);
  } catch (error) {
    stop.dispose();
    if (error instanceof ConfigError) return configErrorExit("broker", out, error);
    out.stderr(`broker: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  const signal = await stop.signal;
  running.logger.info({ signal }, "shutting down");
  try {
    await running.close();
  } catch (err) {
    running.logger.error({ err }, "shutdown failed");
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`broker failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
