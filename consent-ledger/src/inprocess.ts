// The embedded consent ledger: an in-process peer with the consent chaincode deployed, organisations
// with run-time certificate authorities, and clients connected with enrolled identities.
import './fabric/quiet-logs';
import { contracts } from '@datamarket/consent-chaincode/src';
import { SUBJECT_DETAILS_COLLECTION } from '@datamarket/consent-chaincode/src/keys';
import { ConsentLedgerClient, DEFAULT_CHAINCODE_NAME } from './client/client';
import { Gateway, connect } from './fabric/gateway';
import { CertificateAuthority, EnrolledIdentity } from './fabric/identity';
import { InProcessPeer } from './fabric/peer';

/** A clock the tests can move: proposals are timestamped with it, and the chaincode trusts only that. */
export class LedgerClock {
    private offsetMillis = 0;

    now(): number {
        return Date.now() + this.offsetMillis;
    }

    nowSeconds(): number {
        return Math.floor(this.now() / 1000);
    }

    advance(seconds: number): void {
        this.offsetMillis += seconds * 1000;
    }
}

export interface InProcessConsentLedgerOptions {
    channelName?: string;
    chaincodeName?: string;
    /** organisations holding subjects' data: members of the subjectDetails collection */
    custodianMspIds?: string[];
    /** other organisations on the channel (buyers, auditors) */
    otherMspIds?: string[];
    /** blockToLive of the subjectDetails collection (0 = until purged) */
    subjectDetailsBlockToLive?: number;
}

export class InProcessConsentLedger {
    readonly clock = new LedgerClock();
    private readonly authorities = new Map<string, CertificateAuthority>();

    private constructor(readonly peer: InProcessPeer, readonly chaincodeName: string) {}

    static async create(options: InProcessConsentLedgerOptions = {}): Promise<InProcessConsentLedger> {
        const custodians = options.custodianMspIds ?? ['HospitalMSP'];
        const others = options.otherMspIds ?? ['ResearchMSP', 'AuditMSP'];
        const peer = new InProcessPeer({ channelName: options.channelName ?? 'consent' });
        const ledger = new InProcessConsentLedger(peer, options.chaincodeName ?? DEFAULT_CHAINCODE_NAME);
        for (const mspId of [...custodians, ...others]) {
            await ledger.addOrganisation(mspId);
        }
        peer.deployChaincode({
            name: ledger.chaincodeName,
            contracts,
            collections: [{
                name: SUBJECT_DETAILS_COLLECTION, memberMspIds: custodians, blockToLive: options.subjectDetailsBlockToLive ?? 0,
            }],
        });
        return ledger;
    }

    async addOrganisation(mspId: string): Promise<CertificateAuthority> {
        const authority = await CertificateAuthority.create(mspId);
        this.authorities.set(mspId, authority);
        this.peer.addOrganisation(authority);
        return authority;
    }

    authority(mspId: string): CertificateAuthority {
        const authority = this.authorities.get(mspId);
        if (!authority) {
            throw new Error(`organisation ${mspId} is not on the channel`);
        }
        return authority;
    }

    /** Issues a certificate for `name` in `mspId` carrying the given fabric-ca attributes. */
    enroll(mspId: string, name: string, attributes: Record<string, string> = {}): Promise<EnrolledIdentity> {
        return this.authority(mspId).enroll(name, attributes);
    }

    /** A fabric-gateway-shaped Gateway for this identity. */
    connect(identity: EnrolledIdentity): Gateway {
        return connect(this.peer, identity, () => this.clock.now());
    }

    /** A typed consent client acting as `identity`. */
    client(identity: EnrolledIdentity): ConsentLedgerClient {
        return new ConsentLedgerClient(this.connect(identity).getNetwork(this.peer.channelName), this.chaincodeName);
    }
}
