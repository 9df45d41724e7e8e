// Per-event fees end to end (docs/network.md §14): a broker with prices, the real PaymentChannels on
// Hardhat's in-process network, clients over the WebSocket API. A publisher that signs the vouchers it
// is asked for publishes on; one that stops signing is stopped after one voucher period, never more;
// a subscriber that stops signing is cut with a PAYMENT_REQUIRED notice; the broker redeems the latest
// voucher in one transaction and receives exactly what it covers. Prices 0: nothing changes.

import { expect } from "chai";
import pino from "pino";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet } from "ethers";
import { PaymentChannels__factory, type PaymentChannels } from "../../typechain-types";
import { ChainFollower } from "../src/chain/ChainFollower";
import { BrokerClient, BrokerRequestError, type BrokerReply } from "../src/client/BrokerClient";
import { contractPayments, paymentTerms, VOUCHER_TYPES, type Payments, type PaymentsConfig } from "../src/payments";
import { ALICE_KEY, BOB_KEY, STREAM, TestPublisher, startTestBroker, tempDir, waitFor, type TestBroker } from "./helpers";
import { DATA, deployMarket, fundedWallet } from "./chain-fixture";

const PUBLISH_PRICE = 10n ** 15n; // 0.001 DATA an event
const DELIVERY_PRICE = 10n ** 14n;
const PERIOD = 10; // events

interface Setup {
  broker: TestBroker;
  payments: Payments;
  channels: PaymentChannels;
  operator: Wallet;
  follower: ChainFollower;
  token: Awaited<ReturnType<typeof deployMarket>>["token"];
  stop(): Promise<void>;
}

async function setUp(config: Partial<PaymentsConfig> = {}): Promise<Setup> {
  const d = await deployMarket();
  const [admin] = await hre.ethers.getSigners();
  const channels = await new PaymentChannels__factory(admin).deploy(d.addresses.token, 86_400);
  const operator = await fundedWallet(Wallet.createRandom().privateKey);
  const follower = new ChainFollower(hre.ethers.provider, { pollMs: 50, fromBlock: await hre.ethers.provider.getBlockNumber() });
  const dir = tempDir();
  const terms = paymentTerms({ publishPrice: String(PUBLISH_PRICE), deliveryPrice: String(DELIVERY_PRICE), voucherPeriodEvents: PERIOD, ...config });
  const payments = contractPayments({
    terms,
    channels: await channels.getAddress(),
    operator,
    follower,
    chainId: 31337,
    stateFile: `${dir.dir}/payments.json`,
    logger: pino({ level: "silent" }),
  });
  await follower.start();
  const running = await startTestBroker({}, undefined, undefined, { payments });
  return {
    broker: running,
    payments,
    channels,
    operator,
    follower,
    token: d.token,
    stop: async () => {
      follower.stop();
      await running.stop();
      dir.remove();
    },
  };
}

/** A payer: deposits into its channel to the broker, and (while `signing`) answers voucher requests. */
async function payer(s: Setup, key: Buffer, deposit: bigint) {
  const wallet = await fundedWallet(key);
  const [admin] = await hre.ethers.getSigners();
  await (await s.token.connect(admin).mint(wallet.address, deposit)).wait();
  await (await s.token.connect(wallet).approve(await s.channels.getAddress(), deposit)).wait();
  await (await s.channels.connect(wallet).deposit(s.operator.address, deposit)).wait();
  const client = await BrokerClient.connect(s.broker.wsUrl);
  await client.signIn(key);
  const state = { signing: true, signed: [] as bigint[], requests: [] as BrokerReply[] };
  const domain = { name: "PaymentChannels", version: "1", chainId: 31337, verifyingContract: await s.channels.getAddress() };
  client.onNotice = (n) => {
    if (n.type !== "voucherRequest") return;
    state.requests.push(n);
    if (!state.signing) return;
    const message = { payer: wallet.address, broker: String(n.broker), generation: Number(n.generation), amount: BigInt(String(n.amount)) };
    void wallet.signTypedData(domain, VOUCHER_TYPES, message).then((signature) => {
      state.signed.push(message.amount);
      return client.voucher({ payer: wallet.address.toLowerCase(), generation: message.generation, amount: String(message.amount), signature });
    });
  };
  return { wallet, client, state };
}

/** Runs `test` on a fresh broker with prices and its chain, stopped whatever happens. */
async function withPayments(test: (s: Setup) => Promise<void>): Promise<void> {
  const s = await setUp();
  try {
    await test(s);
  } finally {
    await s.stop();
  }
}

/** Alice as a paying publisher on STREAM. */
async function alicePublishing(s: Setup) {
  const alice = await payer(s, ALICE_KEY, DATA(1));
  const address = alice.wallet.address.toLowerCase();
  s.broker.gate.grantPublish(STREAM, address);
  return { ...alice, address, publisher: new TestPublisher(ALICE_KEY) };
}

describe("payments: per-event fees through payment channels", function () {
  this.timeout(60_000);

  it("announces its prices in the hello and serves a publisher that signs the vouchers it is asked for", async () => {
    await withPayments(async (s) => {
      const alice = await payer(s, ALICE_KEY, DATA(1));
      s.broker.gate.grantPublish(STREAM, alice.wallet.address.toLowerCase());
      expect(alice.client.hello!.payments).to.deep.equal({
        channels: (await s.channels.getAddress()).toLowerCase(),
        chainId: 31337,
        broker: s.operator.address.toLowerCase(),
        publishPrice: String(PUBLISH_PRICE),
        deliveryPrice: String(DELIVERY_PRICE),
        voucherPeriodEvents: PERIOD,
        voucherPeriodAmount: "0",
      });
      const publisher = new TestPublisher(ALICE_KEY);
      for (let i = 0; i < 5 * PERIOD; i++) await alice.client.publish(publisher.next().frame);
      await waitFor(() => s.payments.ledger.state(alice.wallet.address.toLowerCase())!.unpaidEvents < PERIOD / 2 + 1, 5000, "vouchers to arrive");
      // A request every half period, each signed; never refused.
      expect(alice.state.requests.length).to.be.at.least(9);
      expect(s.payments.stats.vouchersAccepted).to.equal(alice.state.signed.length);
      expect(s.payments.stats.vouchersRefused).to.equal(0);
      await alice.client.close();
    });
  });

  it("stops a publisher that stops signing after one voucher period, then redeems its latest voucher in one transaction", async () => {
    await withPayments(async (s) => {
      const alice = await alicePublishing(s);
      const { address, publisher } = alice;
      for (let i = 0; i < 2 * PERIOD; i++) await alice.client.publish(publisher.next().frame);
      await waitFor(
        () =>
          alice.state.signed.length === alice.state.requests.length &&
          s.payments.ledger.state(address)!.paid === alice.state.signed[alice.state.signed.length - 1],
        5000,
        "the last voucher",
      );
      alice.state.signing = false;
      const paidEvents = Number(s.payments.ledger.state(address)!.paid / PUBLISH_PRICE);
      let stored = 2 * PERIOD;
      let refusal: BrokerRequestError | undefined;
      let refused: Buffer | undefined;
      for (let i = 0; i < 3 * PERIOD && !refusal; i++) {
        const event = publisher.next();
        try {
          await alice.client.publish(event.frame);
          stored++;
        } catch (err) {
          refusal = err as BrokerRequestError;
          refused = event.frame;
        }
      }
      // The bar: never more than one voucher period served unpaid.
      expect(refusal?.code).to.equal("PAYMENT_REQUIRED");
      expect(refusal!.details).to.include({ reason: "VOUCHERS_BEHIND", payer: address });
      expect(stored - paidEvents).to.equal(PERIOD);
      const owed = BigInt(stored) * PUBLISH_PRICE;
      expect(refusal!.details!.owed).to.equal(String(owed));
      expect(refusal!.details!.request).to.equal(String(owed));

      // Redemption: what the latest voucher covers, in one transaction.
      const before = await s.token.balanceOf(s.operator.address);
      await s.payments.redeemDue(true);
      expect(s.payments.stats.redemptions).to.equal(1);
      const paid = BigInt(paidEvents) * PUBLISH_PRICE;
      expect(await s.token.balanceOf(s.operator.address)).to.equal(before + paid);
      expect((await s.channels.channel(alice.wallet.address, s.operator.address)).redeemed).to.equal(paid);

      // Signing again (the payer answers the outstanding request) lets it publish again.
      alice.state.signing = true;
      const last = alice.state.requests[alice.state.requests.length - 1];
      const signature = await alice.wallet.signTypedData(
        { name: "PaymentChannels", version: "1", chainId: 31337, verifyingContract: await s.channels.getAddress() },
        VOUCHER_TYPES,
        { payer: alice.wallet.address, broker: s.operator.address, generation: 0, amount: BigInt(String(last.amount)) },
      );
      const accepted = await alice.client.voucher({ payer: address, generation: 0, amount: String(last.amount), signature });
      expect(accepted).to.include({ type: "voucherAccepted", accepted: true, amount: String(owed), paid: String(owed) });
      // The refused event was not stored: the same signed event goes through now.
      await alice.client.publish(refused!);
      await alice.client.close();
    });
  });

  it("cuts a subscriber that stops signing after one voucher period, with a PAYMENT_REQUIRED notice", async () => {
    await withPayments(async (s) => {
      const alice = await payer(s, ALICE_KEY, DATA(1));
      const bob = await payer(s, BOB_KEY, DATA(1));
      bob.state.signing = false;
      s.broker.gate.grantPublish(STREAM, alice.wallet.address.toLowerCase());
      s.broker.gate.grantSubscribe(STREAM, bob.wallet.address.toLowerCase());
      let received = 0;
      bob.client.onEvent = () => received++;
      await bob.client.subscribe(STREAM, 0);
      const publisher = new TestPublisher(ALICE_KEY);
      for (let i = 0; i < 3 * PERIOD; i++) await alice.client.publish(publisher.next().frame);
      await waitFor(() => bob.client.notices.some((n) => n.type === "revoked"), 5000, "the cut");
      expect(received).to.equal(PERIOD);
      const notice = bob.client.notices.find((n) => n.type === "revoked")!;
      expect(notice).to.include({ code: "PAYMENT_REQUIRED", streamId: STREAM, streamPartition: 0 });
      expect(notice.details).to.include({ reason: "VOUCHERS_BEHIND", payer: bob.wallet.address.toLowerCase() });
      // And it cannot subscribe again until it pays.
      await expectCode(bob.client.subscribe(STREAM, 0), "PAYMENT_REQUIRED");
      await alice.client.close();
      await bob.client.close();
    });
  });

  it("refuses a payer without a funded channel, forged vouchers, and vouchers for another broker", async () => {
    await withPayments(async (s) => {
      const client = await BrokerClient.connect(s.broker.wsUrl);
      await client.signIn(BOB_KEY);
      const bob = new Wallet("0x" + BOB_KEY.toString("hex"));
      s.broker.gate.grantPublish(STREAM, bob.address.toLowerCase());
      const err = await expectCode(client.publish(new TestPublisher(BOB_KEY).next().frame), "PAYMENT_REQUIRED");
      expect(err.details).to.include({ reason: "NO_CHANNEL" });
      const domain = { name: "PaymentChannels", version: "1", chainId: 31337, verifyingContract: await s.channels.getAddress() };
      const forOther = await bob.signTypedData(domain, VOUCHER_TYPES, { payer: bob.address, broker: bob.address, generation: 0, amount: 5n });
      const refused = await expectCode(
        client.voucher({ payer: bob.address.toLowerCase(), generation: 0, amount: "5", signature: forOther }),
        "INVALID_VOUCHER",
      );
      expect(refused.details).to.include({ field: "signature" });
      const mallory = Wallet.createRandom();
      const forged = await mallory.signTypedData(domain, VOUCHER_TYPES, { payer: bob.address, broker: s.operator.address, generation: 0, amount: 5n });
      await expectCode(client.voucher({ payer: bob.address.toLowerCase(), generation: 0, amount: "5", signature: forged }), "INVALID_VOUCHER");
      await expectCode(
        client.voucher({ payer: bob.address.toLowerCase(), generation: 3, amount: "5", signature: forged.slice(0, -2) + "1b" }),
        "INVALID_VOUCHER",
      );
      await client.close();
    });
  });

  it("redeems at once when a payer starts closing, and keeps the best vouchers across a restart", async () => {
    await withPayments(async (s) => {
      const alice = await alicePublishing(s);
      const { address, publisher } = alice;
      for (let i = 0; i < PERIOD; i++) await alice.client.publish(publisher.next().frame);
      await waitFor(() => s.payments.stats.vouchersAccepted >= 2, 5000, "vouchers");
      const covered = s.payments.ledger.state(address)!.paid;
      // The state file keeps it (written within a second, and at close).
      await s.payments.close();
      const kept = JSON.parse(require("node:fs").readFileSync(s.payments.options.stateFile!, "utf8"));
      expect(kept.vouchers).to.have.length(1);
      expect(kept.vouchers[0]).to.include({ payer: address, amount: String(covered) });
      // The payer starts closing: the follower sees it and the broker redeems without waiting.
      await (await s.channels.connect(alice.wallet).startClose(s.operator.address)).wait();
      await waitFor(() => s.payments.stats.redemptions === 1, 10_000, "the redemption on close");
      expect((await s.channels.channel(alice.wallet.address, s.operator.address)).redeemed).to.equal(covered);
      await expectCode(alice.client.publish(publisher.next().frame), "PAYMENT_REQUIRED");
      await alice.client.close();
    });
  });
});

async function expectCode(p: Promise<unknown>, code: string): Promise<BrokerRequestError> {
  try {
    await p;
  } catch (err) {
    expect((err as BrokerRequestError).code, (err as Error).message).to.equal(code);
    return err as BrokerRequestError;
  }
  throw new Error(`expected ${code}`);
}
