// The `bridge start --config FILE` command: starts on the in-process ledger with the key from the
// environment, serves /health, and stops gracefully on SIGTERM with its checkpoint written.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { ATTESTOR_KEYS, HARDHAT_MARKET, getJson, temporaryDirectory } from './fixtures';

const BIN = join(__dirname, '..', 'bin', 'bridge.js');

function run(args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
}

describe('bridge CLI', () => {
    it('starts from a config file on the in-process ledger and stops gracefully on SIGTERM', async () => {
        const dir = temporaryDirectory();
        const configPath = join(dir, 'bridge.json');
        writeFileSync(configPath, JSON.stringify({ http: { port: 0 }, stateDir: './state', chain: { market: HARDHAT_MARKET } }));
        const bridge = run(['start', '--config', configPath], { BRIDGE_ATTESTOR_KEY: ATTESTOR_KEYS[0] });
        try {
            const deadline = Date.now() + 60_000;
            while (!bridge.stderr().includes('"consent bridge started"')) {
                if (Date.now() > deadline) throw new Error(`the bridge did not start: ${bridge.stderr()}`);
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            const started = bridge.stderr().split('\n').map((line) => (line ? JSON.parse(line) : {})).find((record) => record.msg === 'consent bridge started');
            expect(started.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
            const health = await getJson(`${started.url}/health`);
            expect(health.status).to.equal(200);
            expect(health.body).to.include({ status: 'ok', attestor: new Wallet(ATTESTOR_KEYS[0]).address.toLowerCase(), chainId: '31337' });
        } finally {
            bridge.child.kill('SIGTERM');
        }
        expect(await bridge.exited).to.equal(0);
        expect(bridge.stderr()).to.contain('"msg":"consent bridge stopped"');
        expect(existsSync(join(dir, 'state', 'identity.json'))).to.equal(true);
    });

    it('exits with a configuration error naming the missing key variable, and usage on bad arguments', async () => {
        const dir = temporaryDirectory();
        const configPath = join(dir, 'bridge.json');
        writeFileSync(configPath, JSON.stringify({ chain: { market: HARDHAT_MARKET } }));
        const noKey = run(['start', '--config', configPath], {});
        expect(await noKey.exited).to.equal(1);
        expect(noKey.stderr()).to.contain('bridge: configuration error: BRIDGE_ATTESTOR_KEY: environment variable not set');
        const usage = run(['serve'], {});
        expect(await usage.exited).to.equal(2);
        expect(usage.stderr()).to.contain('usage: bridge start --config FILE');
    });
});
