// The consent client over a real Fabric network: @hyperledger/fabric-gateway 1.11 on gRPC, configured by
// peer endpoint, TLS CA, client identity (certificate + private key) and MSP id.
import * as grpc from '@grpc/grpc-js';
import { Gateway, Network, connect, hash, signers } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { ConsentLedgerClient, DEFAULT_CHAINCODE_NAME } from './client';
import { NetworkLike } from './network';

export interface FabricGatewayConfig {
    /** gateway peer endpoint, host:port (e.g. "peer0.hospital.example.com:7051") */
    endpoint: string;
    /** PEM of the CA that signed the peer's TLS certificate */
    tlsCaCertificate: string | Uint8Array;
    /** TLS server name override when the endpoint host differs from the certificate's (optional) */
    hostnameOverride?: string;
    mspId: string;
    /** PEM of the client's enrollment certificate */
    certificate: string | Uint8Array;
    /** PEM (PKCS#8 or SEC1) of the client's private key */
    privateKey: string | Uint8Array;
    channelName: string;
    chaincodeName?: string;
    /** deadlines in milliseconds (defaults: evaluate 5 s, endorse 15 s, submit 5 s, commit status 60 s) */
    timeouts?: { evaluate?: number; endorse?: number; submit?: number; commitStatus?: number };
}

export interface FabricGatewayConnection {
    client: ConsentLedgerClient;
    gateway: Gateway;
    network: Network;
    close(): void;
}

const toBuffer = (value: string | Uint8Array): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value));

/** Validates a configuration and names the first bad field (no network access). */
export function validateFabricGatewayConfig(config: FabricGatewayConfig): void {
    if (!/^[A-Za-z0-9.-]+:[0-9]{1,5}$/.test(config.endpoint)) {
        throw new Error(`endpoint must be host:port, got "${config.endpoint}"`);
    }
    if (!config.mspId) {
        throw new Error('mspId must not be empty');
    }
    if (!config.channelName) {
        throw new Error('channelName must not be empty');
    }
    for (const field of ['tlsCaCertificate', 'certificate'] as const) {
        if (!toBuffer(config[field]).toString('utf8').includes('-----BEGIN CERTIFICATE-----')) {
            throw new Error(`${field} must be a PEM certificate`);
        }
    }
    try {
        createPrivateKey(toBuffer(config.privateKey));
    } catch (error) {
        throw new Error(`privateKey is not a PEM private key (${(error as Error).message})`);
    }
}

export function newGrpcClient(config: FabricGatewayConfig): grpc.Client {
    const credentials = grpc.credentials.createSsl(toBuffer(config.tlsCaCertificate));
    const options: grpc.ClientOptions = config.hostnameOverride ? { 'grpc.ssl_target_name_override': config.hostnameOverride } : {};
    return new grpc.Client(config.endpoint, credentials, options);
}

/**
 * Connects to a Fabric gateway peer. gRPC connects lazily: a bad endpoint surfaces on the first call
 * as ENDORSEMENT_FAILED (the gateway's "UNAVAILABLE").
 */
export function connectFabricGateway(config: FabricGatewayConfig): FabricGatewayConnection {
    validateFabricGatewayConfig(config);
    const grpcClient = newGrpcClient(config);
    const deadline = (millis: number) => () => ({ deadline: Date.now() + millis });
    const gateway = connect({
        client: grpcClient,
        identity: { mspId: config.mspId, credentials: toBuffer(config.certificate) },
        signer: signers.newPrivateKeySigner(createPrivateKey(toBuffer(config.privateKey))),
        hash: hash.sha256,
        evaluateOptions: deadline(config.timeouts?.evaluate ?? 5_000),
        endorseOptions: deadline(config.timeouts?.endorse ?? 15_000),
        submitOptions: deadline(config.timeouts?.submit ?? 5_000),
        commitStatusOptions: deadline(config.timeouts?.commitStatus ?? 60_000),
    });
    const network = gateway.getNetwork(config.channelName);
    // fabric-gateway's Network satisfies NetworkLike structurally; this line is the compile-time check.
    const networkLike: NetworkLike = network;
    return {
        client: new ConsentLedgerClient(networkLike, config.chaincodeName ?? DEFAULT_CHAINCODE_NAME),
        gateway,
        network,
        close(): void {
            gateway.close();
            grpcClient.close();
        },
    };
}
