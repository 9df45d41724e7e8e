// The `bridge` command: `bridge start --config FILE`. Stops gracefully on SIGINT / SIGTERM.
import { loadConfig } from './config';
import { BridgeConfigError } from './errors';
import { startFromConfig } from './start';

const USAGE = 'usage: bridge start --config FILE\n'
    + '  keys: BRIDGE_ATTESTOR_KEY (or the config\'s attestorKeyEnv); BRIDGE_RELAYER_KEY when a relayer is configured\n'
    + '  overrides: BRIDGE_HTTP_HOST, BRIDGE_HTTP_PORT, BRIDGE_RPC_URL, BRIDGE_CHAIN_ID, BRIDGE_MARKET, BRIDGE_STATE_DIR, BRIDGE_LOG_LEVEL\n';

export async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    const configIndex = rest.indexOf('--config');
    if (command !== 'start' || configIndex < 0 || !rest[configIndex + 1]) {
        process.stderr.write(USAGE);
        return 2;
    }
    let bridge;
    try {
        bridge = await startFromConfig(loadConfig(rest[configIndex + 1]));
    } catch (error) {
        process.stderr.write(`bridge: ${error instanceof BridgeConfigError ? 'configuration error: ' : ''}${(error as Error).message}\n`);
        return 1;
    }
    await new Promise<void>((resolve) => {
        const shutdown = (signal: string) => {
            bridge.log.info('shutting down', { signal });
            resolve();
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
    await bridge.stop();
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
        process.stderr.write(`bridge: ${(error as Error).stack ?? String(error)}\n`);
        process.exitCode = 1;
    });
}
