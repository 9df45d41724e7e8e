// `broker start [--config FILE]`: starts a broker; SIGINT/SIGTERM stop it gracefully (clients are
// told SHUTTING_DOWN, queued events are made durable, files are closed).

import { loadConfig, ConfigError } from "./config";
import { startConfiguredBroker } from "./Broker";

const USAGE = "usage: broker start [--config FILE]\n  environment: BROKER_HOST, BROKER_WS_PORT, BROKER_HTTP_PORT, BROKER_DATA_DIR, BROKER_DOMAIN, BROKER_CHAIN_ID, BROKER_MAX_CONTENT_BYTES, BROKER_SEND_BUDGET_BYTES, BROKER_VERIFY_THREADS, BROKER_LOG_LEVEL, BROKER_CHAIN (auto|on|off), BROKER_RPC_URL, BROKER_DEPLOYMENT, BROKER_OPERATOR_KEY, BROKER_CONSENT (in-process|fabric|off)";

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== "start") {
    process.stderr.write(USAGE + "\n");
    return command === "--help" || command === "help" ? 0 : 2;
  }
  let file: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--config" && rest[i + 1]) file = rest[++i];
    else {
      process.stderr.write(`unknown argument ${rest[i]}\n${USAGE}\n`);
      return 2;
    }
  }
  let config;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      return 2;
    }
    throw err;
  }
  let broker;
  try {
    broker = await startConfiguredBroker(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + "\n");
      return 2;
    }
    throw err;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      broker.logger.info({ signal }, "shutting down");
      broker.close().then(resolve, (err) => {
        broker.logger.error({ err }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
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
