// The contract-backed access gate on the real StreamRegistry and DataLicenseMarket (Hardhat's
// in-process network) and the in-process consent ledger: a licence purchase opens a subscription;
// its expiry, a relayed consent revocation and a consent withdrawn on the ledger cut it; a chain
// that cannot be reached fails the broker closed after the bound.

import { expect } from "chai";
import pino from "pino";
import { id as keccakUtf8, keccak256, toUtf8Bytes, Wallet, ZeroAddress, ZeroHash, type Provider } from "ethers";
import { InProcessConsentLedger, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import { BrokerClient, type BrokerReply } from "../src/client/BrokerClient";
import { ContractAccessGate } from "../src/access/ContractAccessGate";
import { AccessPolicy } from "../src/access/AccessPolicy";
import { ChainFollower } from "../src/chain/ChainFollower";
import { BrokerError } from "../src/errors";
import { ConsentGrantFollower, consentSourceOf } from "../src/access/ConsentGrantFollower";
import { InMemoryStreamIndex } from "../src/streams/StreamIndex";
import { DEFAULT_CONFIG, type BrokerConfig } from "../src/config";
import { startBroker, type RunningBroker } from "../src/Broker";
import { ALICE, ALICE_KEY, MALLORY_KEY, STREAM, TestPublisher, expectBrokerError, sleep, tempDir, waitFor } from "./helpers";
import { deployMarket, fundedWallet, increaseTime, mine, provider, chainNow, type Deployed } from "./chain-fixture";
import type { DataLicenseMarket } from "../../typechain-types";

const PURPOSE = "ScientificResearch";
const ATTESTATION_TYPES = {
  ConsentAttestation: [
    { name: "grantId", type: "bytes32" },
    { name: "buyer", type: "address" },
    { name: "productId", type: "bytes32" },
    { name: "purpose", type: "bytes32" },
    { name: "expiresAt", type: "uint64" },
  ],
};
const REVOCATION_TYPES = {
  ConsentRevocation: [
    { name: "grantId", type: "bytes32" },
    { name: "revokedAt", type: "uint64" },
  ],
};

/** A provider that can be cut off, as a chain node that stops answering. */
function severable(inner: Provider): { provider: Provider; cut: () => void } {
  let cut = false;
  const p = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        if (cut) return Promise.reject(new Error("connection refused (test)"));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { provider: p, cut: () => (cut = true) };
}

describe("contract-backed access gate", function () {
  this.timeout(120_000);
  let d: Deployed;
  let alice: Wallet;
  let buyer: Wallet;
  let ledger: InProcessConsentLedger;
  let ledgerBuyer: ConsentLedgerClient;
  let custodian: ConsentLedgerClient;
  let consentId: string;
  let plainProduct: string;
  let gatedProduct: string;
  const stops: (() => Promise<void> | void)[] = [];

  before(async () => {
    d = await deployMarket();
    alice = await fundedWallet(ALICE_KEY);
    buyer = await fundedWallet(MALLORY_KEY);
    const registry = d.registry.connect(alice);
    if ((await d.registry.getResource(STREAM)).owner === ZeroAddress) {
      await (await registry.createStream("/prices/eth-usd", 2, '{"description":"ETH/USD"}')).wait();
    }
    await (await registry.setSubscribeDelegate(STREAM, d.addresses.market, true)).wait();
    const market = d.market.connect(alice);
    const params = (requiresConsent: boolean) => ({
      beneficiary: ALICE,
      pricePerSecond: 1n,
      minSeconds: 60,
      maxSeconds: 30 * 24 * 3600,
      requiresConsent,
      requiresKyc: false,
      termsHash: keccak256(toUtf8Bytes("terms")),
      termsUri: "https://example.org/terms",
      resources: [STREAM],
    });
    plainProduct = await market.productIdOf(ALICE, keccakUtf8("plain"));
    await (await market.createProduct(keccakUtf8("plain"), params(false))).wait();
    gatedProduct = await market.productIdOf(ALICE, keccakUtf8("gated"));
    await (await market.createProduct(keccakUtf8("gated"), params(true))).wait();
    await (await market.setPurposes(gatedProduct, [keccakUtf8(PURPOSE)], true)).wait();
    await (await d.market.addAttestor(await d.admin.getAddress())).wait();
    await (await d.market.setAttestorThreshold(1)).wait();
    await (await d.token.mint(buyer.address, 10n ** 24n)).wait();
    await (await d.token.connect(buyer).approve(d.addresses.market, 2n ** 255n)).wait();

    // The consent ledger: one consented subject on the stream, sold as the gated product.
    ledger = await InProcessConsentLedger.create();
    custodian = ledger.client(await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" }));
    ledgerBuyer = ledger.client(
      await ledger.enroll("ResearchMSP", "lab", {
        "consent.role": "buyer",
        "consent.buyerType": "PublicResearch",
        "consent.jurisdiction": "NL",
        "consent.ethAddress": buyer.address.toLowerCase(),
      }),
    );
    await custodian.registerResource(STREAM, "stream", [gatedProduct]);
    const consent = await custodian.giveConsent({
      subjectId: "subj-0001",
      controller: "University Hospital",
      resources: [STREAM],
      purposes: [PURPOSE],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
      noticeHash: "0x" + "cd".repeat(32),
    });
    consentId = consent.consentId;
    await custodian.addResourceSubjects(STREAM, ["subj-0001"]);
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function startGatedBroker(opts: { provider?: Provider; maxStalenessMs?: number; withConsent?: boolean; follower?: ChainFollower } = {}) {
    const auditor = ledger.client(await ledger.enroll("AuditMSP", `broker-${Math.random()}`, { "consent.role": "auditor" }));
    const consent =
      opts.withConsent === false ? undefined : new ConsentGrantFollower(consentSourceOf(auditor), { probeMs: 100, now: () => ledger.clock.now() });
    await consent?.start();
    const gate = new ContractAccessGate({
      provider: opts.provider ?? provider(),
      registry: d.addresses.registry,
      market: d.addresses.market,
      consent,
      pollMs: 50,
      follower: opts.follower,
    });
    await gate.start();
    await opts.follower?.start();
    if (opts.follower) stops.push(() => opts.follower!.stop());
    const index = new InMemoryStreamIndex();
    index.apply({ type: "created", stream: { id: STREAM, creator: ALICE, path: "/prices/eth-usd", partitions: 2, metadata: {} } });
    const tmp = tempDir();
    const config: BrokerConfig = {
      ...structuredClone(DEFAULT_CONFIG),
      wsPort: 0,
      httpPort: 0,
      dataDir: tmp.dir,
      verifyThreads: 0,
      access: { ...DEFAULT_CONFIG.access, maxStalenessMs: opts.maxStalenessMs ?? 5000, static: { publicStreams: [], publishers: {}, subscribers: {} } },
    };
    const running: RunningBroker = await startBroker(config, { gate, streams: index, logger: pino({ level: "silent" }) });
    const url = `ws://127.0.0.1:${running.wsPort}`;
    stops.push(
      () => tmp.remove(),
      () => running.close(),
      () => gate.stop(),
      () => consent?.stop(),
    );
    const publisherClient = await BrokerClient.connect(url);
    await publisherClient.signIn(ALICE_KEY);
    const sub = await BrokerClient.connect(url);
    await sub.signIn(MALLORY_KEY);
    stops.push(
      () => publisherClient.close(),
      () => sub.close(),
    );
    const received: Buffer[] = [];
    const notices: BrokerReply[] = [];
    sub.onEvent = (f) => received.push(f);
    sub.onNotice = (n) => notices.push(n);
    return { running, gate, url, pub: publisherClient, sub, received, notices, publisher: new TestPublisher(ALICE_KEY) };
  }

  async function signAttestation(grantId: string, expiresAt: number, productId: string) {
    const attestation = { grantId, buyer: buyer.address, productId, purpose: keccakUtf8(PURPOSE), expiresAt: BigInt(expiresAt) };
    const domain = { name: "DataLicenseMarket", version: "1", chainId: 31337, verifyingContract: d.addresses.market };
    return { attestation, signatures: await d.admin.signTypedData(domain, ATTESTATION_TYPES, attestation) };
  }

  async function buy(
    market: DataLicenseMarket,
    productId: string,
    seconds: number,
    consent?: { attestation: object; signatures: string },
    who: Wallet = buyer,
  ) {
    const order = {
      productId,
      duration: seconds,
      attestation: consent?.attestation ?? { grantId: ZeroHash, buyer: "0x" + "00".repeat(20), productId: ZeroHash, purpose: ZeroHash, expiresAt: 0n },
      signatures: consent?.signatures ?? "0x",
      encryptionKey: "0x",
    };
    await (await market.connect(who).buy(order as Parameters<DataLicenseMarket["buy"]>[0], 10n)).wait();
  }

  /** A buyer of its own (no licence yet), with DATA approved to the market. */
  async function newBuyer(): Promise<Wallet> {
    const wallet = await fundedWallet(Wallet.createRandom().privateKey);
    await (await d.token.mint(wallet.address, 10n ** 24n)).wait();
    await (await d.token.connect(wallet).approve(d.addresses.market, 2n ** 255n)).wait();
    return wallet;
  }

  async function requestGrant(ttlSeconds: number): Promise<{ grantId: string; expiresAt: number }> {
    const decision = await ledgerBuyer.requestAccess({ productId: gatedProduct, purpose: PURPOSE, ethAddress: buyer.address.toLowerCase(), ttlSeconds });
    if (decision.decision !== "approved" || !decision.grant) throw new Error(`access denied: ${decision.reasons.join(", ")}`);
    return { grantId: decision.grant.grantId, expiresAt: decision.grant.expiresAt };
  }

  it("refuses a subscriber without licence, admits it once a licence is bought, and cuts it within one block of the licence's expiry", async () => {
    const b = await startGatedBroker({ withConsent: false });
    const refused = await expectBrokerError(() => b.sub.subscribe(STREAM, 0), "SUBSCRIBE_NOT_ALLOWED");
    expect(refused).to.include({ reason: "no-permission-or-licence" });
    await buy(d.market, plainProduct, 120);
    await b.sub.subscribe(STREAM, 0);
    await b.pub.publish(b.publisher.next().frame);
    await waitFor(() => b.received.length === 1, 3000, "delivery under the licence");
    await increaseTime(121); // one block whose timestamp is past the licence's end
    const expiringBlock = await provider().getBlockNumber();
    await waitFor(() => b.notices.length === 1, 3000, "the cut after the expiring block");
    expect(await provider().getBlockNumber()).to.equal(expiringBlock); // cut by that very block
    expect(b.notices[0]).to.include({ type: "revoked", code: "ACCESS_REVOKED", streamId: STREAM, streamPartition: 0 });
    await b.pub.publish(b.publisher.next().frame);
    await sleep(100);
    expect(b.received).to.have.length(1);
    expect(b.notices, "one notice, though several events re-checked the subscription").to.have.length(1);
    expect(b.running.node.subscriptionCount()).to.equal(0);
  });

  it("admits a consent-gated licence only while its grant is valid on the consent ledger, and cuts it on withdrawal", async () => {
    const b = await startGatedBroker();
    const grant = await requestGrant(7 * 86_400);
    await buy(d.market, gatedProduct, 3600, await signAttestation(grant.grantId, grant.expiresAt, gatedProduct));
    await b.sub.subscribe(STREAM, 1);
    await b.pub.publish(new TestPublisher(ALICE_KEY, STREAM, 1).next().frame);
    await waitFor(() => b.received.length === 1, 3000, "delivery under the consent-gated licence");
    const blockBefore = await provider().getBlockNumber();
    await custodian.withdrawConsent(consentId);
    await waitFor(() => b.notices.length === 1, 2000, "the cut after GrantsInvalidated");
    expect(await provider().getBlockNumber()).to.equal(blockBefore); // cut by the ledger's event alone, no chain transaction
    expect(b.notices[0]).to.include({ type: "revoked", code: "ACCESS_REVOKED", streamId: STREAM, streamPartition: 1 });
    expect(b.notices[0].details).to.include({ cause: "SUBSCRIBE_NOT_ALLOWED", reason: "no-consent", productId: gatedProduct });
    await expectBrokerError(() => b.sub.subscribe(STREAM, 1), "SUBSCRIBE_NOT_ALLOWED");
    // consent given again for later tests
    const again = await custodian.giveConsent({
      subjectId: "subj-0001",
      controller: "University Hospital",
      resources: [STREAM],
      purposes: [PURPOSE],
      dataCategories: ["PhysicalHealth"],
      buyerTypes: ["PublicResearch"],
      jurisdictions: ["EU"],
      legalBasis: "A9-2-a",
      validUntil: ledger.clock.nowSeconds() + 365 * 86_400,
      noticeHash: "0x" + "cd".repeat(32),
    });
    consentId = again.consentId;
  });

  it("judges the consent grant a licence was read with, without reading the licence again", async () => {
    // The market's licence of the buyer still runs under the grant the previous test withdrew; a new
    // grant is valid on the ledger but bought under by nobody.
    const b = await startGatedBroker();
    const grant = await requestGrant(7 * 86_400);
    const tag = parseInt(grant.grantId.slice(-4), 16);
    const read = (t: number) => ({ productId: gatedProduct, expiresAt: 0, consentGated: true, grant: { tag: t, expiresAt: grant.expiresAt } });
    for (const deadline = Date.now() + 5000; !(await b.gate.consentValid(gatedProduct, buyer.address, read(tag)));) {
      if (Date.now() > deadline) throw new Error("the grant the licence was read with was never judged valid");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await b.gate.consentValid(gatedProduct, buyer.address, read(tag ^ 1)), "another grant, as read").to.equal(false);
    // without a read, or with another product's, the market's licence is read: its grant is withdrawn
    expect(await b.gate.consentValid(gatedProduct, buyer.address), "the market's licence, read now").to.equal(false);
    expect(await b.gate.consentValid(gatedProduct, buyer.address, { ...read(tag), productId: plainProduct })).to.equal(false);
  });

  it("cuts a consent-gated subscription within one block of a relayed consent revocation on the market", async () => {
    const b = await startGatedBroker();
    const grant = await requestGrant(8 * 86_400); // a newer grant must expire later than the last one used
    const consent = await signAttestation(grant.grantId, grant.expiresAt, gatedProduct);
    await buy(d.market, gatedProduct, 3600, consent);
    await b.sub.subscribe(STREAM, 0);
    const revocation = { grantId: grant.grantId, revokedAt: BigInt(await chainNow()) };
    const domain = { name: "DataLicenseMarket", version: "1", chainId: 31337, verifyingContract: d.addresses.market };
    const revocationSignature = await d.admin.signTypedData(domain, REVOCATION_TYPES, revocation);
    await (await d.market.revokeConsent(revocation, revocationSignature, consent.attestation as never, consent.signatures)).wait();
    const revokingBlock = await provider().getBlockNumber();
    await waitFor(() => b.notices.length === 1, 3000, "the cut after ConsentRevoked");
    expect(await provider().getBlockNumber()).to.equal(revokingBlock); // cut by that very block
    expect(b.notices[0]).to.include({ type: "revoked", code: "ACCESS_REVOKED", streamId: STREAM });
    expect(b.running.node.subscriptionCount()).to.equal(0);
  });

  it("fails closed once the chain has not been reached for longer than the bound", async () => {
    const s = severable(provider());
    // 2 s: the gate polls every 50 ms, but on a busy machine a read of the in-process chain can take
    // several hundred ms, and the subscription below must find the gate fresh (400 ms did not)
    const maxStalenessMs = 2000;
    const b = await startGatedBroker({ provider: s.provider, maxStalenessMs, withConsent: false });
    await buy(d.market, plainProduct, 3600);
    await mine();
    await b.sub.subscribe(STREAM, 0);
    s.cut();
    // Staleness counts from the gate's last read of the chain, which on a busy machine may be well
    // before the cut: measured from that read, the cut comes no earlier than the bound.
    const lastRead = b.gate.lastSyncedAt();
    await waitFor(() => b.notices.length === 1, maxStalenessMs + 10_000, "the fail-closed cut");
    expect(Date.now() - lastRead, "not before the bound").to.be.at.least(maxStalenessMs);
    expect(b.notices[0]).to.include({ code: "ACCESS_GATE_UNAVAILABLE" });
    await expectBrokerError(() => b.sub.subscribe(STREAM, 0), "ACCESS_GATE_UNAVAILABLE");
  });

  // A subscribe right after the purchase's receipt reaches the broker before its chain follower has
  // applied the purchase's block: the gate waits for the follower's next applied block (no polling,
  // no refusal), bounded by the policy's answer bound. The follower here polls only when told to.
  it("admits a subscribe that arrives before the follower applied the purchase's block, once it applies it", async () => {
    const follower = new ChainFollower(provider(), { pollMs: 600_000 });
    const b = await startGatedBroker({ withConsent: false, follower });
    const late = await newBuyer();
    await follower.poll();
    const appliedBefore = follower.confirmedBlock()!;
    await buy(d.market, plainProduct, 3600, undefined, late);
    expect(await provider().getBlockNumber()).to.be.greaterThan(appliedBefore);
    const client = await BrokerClient.connect(b.url);
    stops.push(() => client.close());
    await client.signIn(Buffer.from(late.privateKey.slice(2), "hex"));
    let outcome: string | undefined;
    const subscribed = client.subscribe(STREAM, 0).then(
      () => (outcome = "admitted"),
      (err) => (outcome = String((err as Error).message)),
    );
    await sleep(150);
    expect(outcome, "waits for the block rather than answering from the older one").to.equal(undefined);
    expect(follower.confirmedBlock()).to.equal(appliedBefore);
    await follower.poll();
    await subscribed;
    expect(outcome).to.equal("admitted");
    expect(b.running.node.subscriptionCount()).to.be.greaterThanOrEqual(1);
  });

  it("fails closed within the answer bound when the follower never applies the purchase's block, and drops its wait", async () => {
    const follower = new ChainFollower(provider(), { pollMs: 600_000 });
    const gate = new ContractAccessGate({ provider: provider(), registry: d.addresses.registry, market: d.addresses.market, follower });
    await follower.start();
    stops.push(
      () => gate.stop(),
      () => follower.stop(),
    );
    const late = await newBuyer();
    await buy(d.market, plainProduct, 3600, undefined, late);
    const policy = new AccessPolicy(gate, 30_000, 1000, 300);
    const t0 = Date.now();
    const err = await policy.checkSubscribe(STREAM, late.address).then(
      () => undefined,
      (e: unknown) => e,
    );
    const took = Date.now() - t0;
    expect(err).to.be.instanceOf(BrokerError);
    expect((err as BrokerError).code).to.equal("ACCESS_GATE_UNAVAILABLE");
    expect(took, "refused at the bound, not before").to.be.greaterThanOrEqual(290);
    expect(took, "and not long after it").to.be.lessThan(5000);
    expect((follower as unknown as { appliedWaiters: Set<unknown> }).appliedWaiters.size, "the wait went with the question").to.equal(0);
    // Asked without a bound of its own, the gate stops waiting at applyWaitMs and answers no.
    const bounded = new ContractAccessGate({ provider: provider(), registry: d.addresses.registry, market: d.addresses.market, follower, applyWaitMs: 100 });
    stops.push(() => bounded.stop());
    expect(await bounded.licenceOf(STREAM, late.address)).to.equal(null);
    // Once the follower applies the block, the same question is admitted.
    await follower.poll();
    expect((await policy.checkSubscribe(STREAM, late.address)).via).to.equal("licence");
  });
});
