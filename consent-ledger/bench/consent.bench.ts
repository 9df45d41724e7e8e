// Benchmark of the consent ledger on the in-process peer: access decisions per second (single-subject
// stream, submitted and evaluated) and the time of one dataset access request over 1,000 and 10,000
// subjects. Bounded: fixed counts, and each phase stops at its time budget.
//   npm run bench -w consent-ledger            (or: cd consent-ledger && npm run bench)
//   BENCH_SIZES=1000 npm run bench ...          to skip the 10,000-subject dataset
import { Wallet } from 'ethers';
import { ConsentLedgerClient, ConsentTermsInput, InProcessConsentLedger } from '../src';

const STREAM = '0x' + '11'.repeat(32);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 300);
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const PHASE_BUDGET_MS = 300_000;
const CONCURRENCY = 16;
const wallet = new Wallet('0x' + '61'.repeat(32));
const buyerAddress = wallet.address.toLowerCase();

function terms(ledger: InProcessConsentLedger, subjectId: string, resource: string, purposes: string[]): ConsentTermsInput {
    return {
        subjectId, controller: 'University Hospital', resources: [resource], purposes, dataCategories: ['HealthRecord'],
        buyerTypes: ['PublicResearch'], jurisdictions: ['EEA'], legalBasis: 'A9-2-a', validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
        noticeHash: '0x' + 'ab'.repeat(32),
    };
}

/** CPU time of this process since `since` (user + system), in ms: less sensitive to a loaded machine than wall time. */
function cpuMillis(since: NodeJS.CpuUsage): number {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
}

function cpuNote(since: NodeJS.CpuUsage, count: number): string {
    const ms = cpuMillis(since);
    return ` (CPU ${(ms / count).toFixed(2)} ms each = ${(count / (ms / 1000)).toFixed(0)}/s of CPU)`;
}

async function inBatches<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
    const started = Date.now();
    for (let i = 0; i < items.length; i += CONCURRENCY) {
        await Promise.all(items.slice(i, i + CONCURRENCY).map(work));
        if (Date.now() - started > PHASE_BUDGET_MS) {
            throw new Error(`set-up exceeded its ${PHASE_BUDGET_MS} ms budget after ${i} items`);
        }
    }
}

async function decisionsPerSecond(ledger: InProcessConsentLedger, custodian: ConsentLedgerClient, buyer: ConsentLedgerClient): Promise<void> {
    await custodian.registerResource(STREAM, 'stream');
    await custodian.addResourceSubjects(STREAM, ['subj-stream']);
    await custodian.giveConsent(terms(ledger, 'subj-stream', STREAM, ['ResearchAndDevelopment']));
    const request = { resourceId: STREAM, purpose: 'ScientificResearch', ethAddress: buyerAddress };
    for (let i = 0; i < 20; i++) {
        await buyer.requestAccess(request); // warm-up
    }
    let started = process.hrtime.bigint();
    let cpu = process.cpuUsage();
    let done = 0;
    while (done < DECISIONS && Number(process.hrtime.bigint() - started) / 1e6 < PHASE_BUDGET_MS) {
        const decision = await buyer.requestAccess(request);
        if (decision.decision !== 'approved') throw new Error('unexpected denial');
        done += 1;
    }
    let seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`access decisions, submitted one at a time (endorse + validate + commit, grant written): ${done} in ${seconds.toFixed(2)} s = ${(done / seconds).toFixed(0)} decisions/s${cpuNote(cpu, done)}`);
    started = process.hrtime.bigint();
    cpu = process.cpuUsage();
    done = 0;
    while (done < DECISIONS && Number(process.hrtime.bigint() - started) / 1e6 < PHASE_BUDGET_MS) {
        await buyer.previewAccess(request);
        done += 1;
    }
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`access decisions, evaluated (endorse only, nothing committed):                     ${done} in ${seconds.toFixed(2)} s = ${(done / seconds).toFixed(0)} decisions/s${cpuNote(cpu, done)}`);
}

async function datasetRequest(ledger: InProcessConsentLedger, custodian: ConsentLedgerClient, buyer: ConsentLedgerClient, size: number): Promise<void> {
    const dataset = '0x' + size.toString(16).padStart(64, '0');
    await custodian.registerResource(dataset, 'dataset');
    const subjects = Array.from({ length: size }, (_, i) => `ds${size}-subj-${i.toString().padStart(6, '0')}`);
    const setupStarted = Date.now();
    for (let i = 0; i < subjects.length; i += 1000) {
        await custodian.addResourceSubjects(dataset, subjects.slice(i, i + 1000));
    }
    // 80 % consent to research, 10 % only to marketing, 10 % never consented
    await inBatches(subjects.filter((_, i) => i % 10 !== 9), (subjectId) => {
        const purposes = Number(subjectId.slice(-6)) % 10 === 8 ? ['Marketing'] : ['ResearchAndDevelopment'];
        return custodian.giveConsent(terms(ledger, subjectId, dataset, purposes));
    });
    const setupSeconds = (Date.now() - setupStarted) / 1000;
    const contract = ledger.connect(buyerIdentity).getNetwork('consent').getContract('consent', 'access');
    const args = [JSON.stringify({ resourceId: dataset, purpose: 'ScientificResearch', ethAddress: buyerAddress })];

    const evaluateStarted = process.hrtime.bigint();
    await contract.evaluate('RequestAccess', { arguments: args });
    const evaluateMs = Number(process.hrtime.bigint() - evaluateStarted) / 1e6;

    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const proposal = contract.newProposal('RequestAccess', { arguments: args });
    const transaction = await proposal.endorse();
    const endorsedAt = process.hrtime.bigint();
    const status = await (await transaction.submit()).getStatus();
    const committedAt = process.hrtime.bigint();
    const cpuMs = cpuMillis(cpu);
    if (!status.successful) throw new Error(`dataset request invalidated with code ${status.code}`);
    const decision = JSON.parse(Buffer.from(transaction.getResult()).toString());
    const endorseMs = Number(endorsedAt - started) / 1e6;
    const commitMs = Number(committedAt - endorsedAt) / 1e6;
    const rwsetKiB = transaction.endorsement.readWriteSet.length / 1024;
    const simulation = transaction.endorsement.simulation;
    console.log(`dataset of ${size} subjects (set-up ${setupSeconds.toFixed(1)} s): request ${(endorseMs + commitMs).toFixed(0)} ms `
        + `(endorse ${endorseMs.toFixed(0)} ms + commit ${commitMs.toFixed(0)} ms; CPU ${cpuMs.toFixed(0)} ms; evaluate-only ${evaluateMs.toFixed(0)} ms); `
        + `${decision.approvedSubjects.length} released, denied ${JSON.stringify(decision.deniedByReason)}; `
        + `${simulation.reads.size} reads, ${simulation.writes.size} writes, read/write set ${rwsetKiB.toFixed(0)} KiB, response ${(transaction.getResult().length / 1024).toFixed(0)} KiB`);
}

let buyerIdentity: Awaited<ReturnType<InProcessConsentLedger['enroll']>>;

async function main(): Promise<void> {
    const ledger = await InProcessConsentLedger.create();
    const custodian = ledger.client(await ledger.enroll('HospitalMSP', 'registrar', { 'consent.role': 'custodian' }));
    buyerIdentity = await ledger.enroll('ResearchMSP', 'lab', {
        'consent.role': 'buyer', 'consent.buyerType': 'PublicResearch', 'consent.jurisdiction': 'DE', 'consent.ethAddress': buyerAddress,
    });
    const buyer = ledger.client(buyerIdentity);
    console.log(`consent ledger benchmark: in-process peer, node ${process.version}, ${new Date().toISOString()}`);
    await decisionsPerSecond(ledger, custodian, buyer);
    for (const size of SIZES) {
        await datasetRequest(ledger, custodian, buyer, size);
    }
}

main().then(() => process.exit(0), (error) => {
    console.error(error);
    process.exit(1);
});
