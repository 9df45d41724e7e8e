// A bridge configured for a real Fabric gateway (fabric-gateway 1.11) when no peer is reachable (there is
// none on this machine): it starts, serves, reports the outage on /health and keeps reconnecting.
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fabric } from '@datamarket/consent-ledger';
import { loadConfig } from '../src/config';
import { memoryLogger } from '../src/log';
import { startFromConfig } from '../src/start';
import { ATTESTOR_KEYS, HARDHAT_MARKET, getJson, temporaryDirectory, waitFor } from './fixtures';

describe('consent bridge on a Fabric gateway (no peer reachable)', () => {
    it('starts from a fabric-gateway config, answers 503 with the gateway error, and stops cleanly', async () => {
        const dir = temporaryDirectory();
        const authority = await fabric.CertificateAuthority.create('AuditMSP');
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        writeFileSync(join(dir, 'tls-ca.pem'), authority.certificatePem);
        writeFileSync(join(dir, 'cert.pem'), (await authority.enroll('consent-bridge', { 'consent.role': 'auditor' })).certificatePem);
        writeFileSync(join(dir, 'key.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
        writeFileSync(join(dir, 'bridge.json'), JSON.stringify({
            http: { port: 0 }, stateDir: './state', chain: { market: HARDHAT_MARKET },
            ledger: {
                kind: 'fabric-gateway', endpoint: '127.0.0.1:1', mspId: 'AuditMSP', channelName: 'consent',
                tlsCaCertificateFile: 'tls-ca.pem', certificateFile: 'cert.pem', privateKeyFile: 'key.pem',
            },
        }));
        const config = loadConfig(join(dir, 'bridge.json'), { BRIDGE_ATTESTOR_KEY: ATTESTOR_KEYS[0] });
        expect(config.ledger).to.include({ kind: 'fabric-gateway', certificateFile: join(dir, 'cert.pem') });
        const log = memoryLogger();
        const bridge = await startFromConfig(config, log);
        try {
            await waitFor(() => bridge.follower.lastError !== null, 'the gateway error', 30_000);
            const health = await getJson(`${bridge.url}/health`);
            expect(health.status).to.equal(503);
            expect(health.body.ledger.connected).to.equal(false);
            expect(health.body.ledger.lastError).to.match(/UNAVAILABLE|DEADLINE|ECONNREFUSED|No connection/i);
        } finally {
            await bridge.stop();
        }
        expect(log.records.at(-1)).to.include({ msg: 'consent bridge stopped' });
    });
});
