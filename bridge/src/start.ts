// Starts a bridge from a validated configuration: opens the consent ledger (in-process or a Fabric
// gateway), the state directory, the chain connection of the relayer, then the service.
import { readFileSync } from 'node:fs';
import { connectFabricGateway, InProcessConsentLedger } from '@datamarket/consent-ledger';
import { JsonRpcProvider, SigningKey, Wallet, WebSocketProvider, computeAddress } from 'ethers';
import { ConsentBridge } from './bridge';
import type { BridgeConfig } from './config';
import { BridgeConfigError } from './errors';
import { jsonLogger, Logger } from './log';
import { BridgeStore } from './store';

export async function startFromConfig(config: BridgeConfig, log: Logger = jsonLogger(config.logLevel)): Promise<ConsentBridge> {
    const attestor = computeAddress(new SigningKey(config.attestorKey).publicKey).toLowerCase();
    const store = BridgeStore.open(config.stateDir, { chainId: config.chain.chainId.toString(), market: config.chain.market, attestor });
    const closers: Array<() => void | Promise<void>> = [() => store.close()];
    try {
        let events;
        if (config.ledger.kind === 'in-process') {
            // an empty ledger in this process: for local runs and demos that drive the ledger themselves
            const ledger = await InProcessConsentLedger.create();
            events = ledger.client(await ledger.enroll('AuditMSP', 'consent-bridge', { 'consent.role': 'auditor' }));
            log.warn('following an in-process consent ledger (local development only)');
        } else {
            const read = (file: string) => readFileSync(file);
            const connection = connectFabricGateway({
                endpoint: config.ledger.endpoint,
                tlsCaCertificate: read(config.ledger.tlsCaCertificateFile),
                certificate: read(config.ledger.certificateFile),
                privateKey: read(config.ledger.privateKeyFile),
                hostnameOverride: config.ledger.hostnameOverride,
                mspId: config.ledger.mspId,
                channelName: config.ledger.channelName,
                chaincodeName: config.ledger.chaincodeName,
            });
            closers.push(() => connection.close());
            events = connection.client;
        }
        let relayer;
        if (config.relayer) {
            // the chain id is fixed by configuration (it is in every signature): never let the provider guess it
            const provider = config.chain.rpcUrl.startsWith('ws')
                ? new WebSocketProvider(config.chain.rpcUrl, config.chain.chainId, { staticNetwork: true })
                : new JsonRpcProvider(config.chain.rpcUrl, config.chain.chainId, { staticNetwork: true });
            closers.push(() => provider.destroy());
            const served = await Promise.race([
                provider.send('eth_chainId', []).then((hex: string) => BigInt(hex)),
                new Promise<never>((_resolve, reject) => setTimeout(() => reject(new BridgeConfigError('chain.rpcUrl', `no answer from ${config.chain.rpcUrl} within 10 s`)), 10_000).unref()),
            ]);
            if (served !== config.chain.chainId) {
                throw new BridgeConfigError('chain.chainId', `${config.chain.rpcUrl} serves chain ${served}, the config says ${config.chain.chainId}`);
            }
            relayer = {
                signer: new Wallet(config.relayer.key, provider), peers: config.relayer.peers, maxAttempts: config.relayer.maxAttempts,
                retryDelayMs: config.relayer.retryDelayMs, httpTimeoutMs: config.relayer.httpTimeoutMs, logsFromBlock: config.chain.logsFromBlock,
            };
        }
        return await ConsentBridge.start({
            events, attestorKey: config.attestorKey, domain: { chainId: config.chain.chainId, market: config.chain.market }, store,
            http: config.http, relayer, startBlock: config.ledger.startBlock, maxClockSkewSeconds: config.ledger.maxClockSkewSeconds, log,
            onStop: async () => { for (const close of closers.slice(1).reverse()) await close(); },
        });
    } catch (error) {
        for (const close of closers.reverse()) await close();
        throw error;
    }
}
