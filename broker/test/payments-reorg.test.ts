// The broker's payment-channel view on anvil (a separate node with real reorgs): a deposit or top-up
// that a reorg removes is undone in the broker's view, so the broker does not serve against it; at a
// confirmation depth of 2 a deposit counts only once 2 deep.

import { expect } from "chai";
import pino from "pino";
import { Wallet } from "ethers";
import { PaymentChannels__factory, type PaymentChannels } from "../../typechain-types";
import { ChainFollower } from "../src/chain/ChainFollower";
import { BrokerError } from "../src/errors";
import { contractPayments, paymentTerms, type Payments } from "../src/payments";
import { deployMarket, type Deployed } from "./chain-fixture";
import { startAnvil, type Anvil } from "./anvil";

const ETH = 10n ** 18n;
const PRICE = 10n ** 15n;

describe("payment channels on anvil: deposits removed by reorgs", function () {
  this.timeout(180_000);
  let anvil: Anvil;
  let d: Deployed;
  let channels: PaymentChannels;
  let channelsAddress: string;
  let operator: Wallet;
  let fromBlock: number;
  const stops: (() => void | Promise<void>)[] = [];

  before(async () => {
    anvil = await startAnvil();
    fromBlock = (await anvil.provider.getBlockNumber()) + 1;
    d = await deployMarket(anvil.admin);
    channels = await new PaymentChannels__factory(anvil.admin).deploy(d.addresses.token, 86_400);
    await channels.waitForDeployment();
    channelsAddress = await channels.getAddress();
    operator = Wallet.createRandom().connect(anvil.provider) as unknown as Wallet;
  });
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });
  after(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await anvil?.stop();
  });

  async function setUp(confirmations: number) {
    const follower = new ChainFollower(anvil.provider, { fromBlock, confirmations, pollMs: 60_000 });
    const terms = paymentTerms({ publishPrice: String(PRICE), voucherPeriodEvents: 1000 });
    const payments = contractPayments({ terms, channels: channelsAddress, operator, follower, chainId: 31337, logger: pino({ level: "silent" }) });
    await follower.start();
    stops.push(async () => {
      follower.stop();
      await payments.close();
    });
    return { follower, payments };
  }

  async function newPayer(): Promise<Wallet> {
    const wallet = Wallet.createRandom().connect(anvil.provider) as unknown as Wallet;
    await (await anvil.admin.sendTransaction({ to: wallet.address, value: ETH })).wait();
    await (await d.token.mint(wallet.address, 100n * PRICE)).wait();
    await (await d.token.connect(wallet).approve(channelsAddress, 100n * PRICE)).wait();
    return wallet;
  }

  const deposit = async (payer: Wallet, events: number) => (await (await channels.connect(payer).deposit(operator.address, BigInt(events) * PRICE)).wait())!;
  const reason = (payments: Payments, payer: string) => (payments.ledger.refusal(payer.toLowerCase(), "publish") as BrokerError | undefined)?.details?.reason;

  it("undoes a deposit and a top-up a reorg removed: the broker stops serving against them", async () => {
    const { follower, payments } = await setUp(0);
    const payer = await newPayer();
    const p = payer.address.toLowerCase();

    // A deposit of 5 events, read at first use, then removed by a reorg.
    const beforeDeposit = await anvil.snapshot();
    await deposit(payer, 5);
    await follower.poll();
    await payments.preparePublish(p);
    expect(payments.status(p).account).to.include({ deposited: String(5n * PRICE) });
    for (let i = 0; i < 3; i++) payments.chargePublish(p);
    await anvil.revert(beforeDeposit);
    await follower.poll();
    expect(follower.reorgs).to.equal(1);
    expect(payments.status(p).account, "the removed deposit no longer counts").to.include({ deposited: "0" });
    expect(reason(payments, p)).to.equal("NO_CHANNEL");

    // The canonical deposit (5), then a top-up (5) that a reorg removes: 7 events served on 10 are over the 5 left.
    await deposit(payer, 5);
    await follower.poll();
    expect(payments.status(p).account).to.include({ deposited: String(5n * PRICE) });
    const beforeTopUp = await anvil.snapshot();
    await deposit(payer, 5);
    await follower.poll();
    expect(payments.status(p).account).to.include({ deposited: String(10n * PRICE) });
    for (let i = 0; i < 4; i++) payments.chargePublish(p); // owed: 3 (before the first reorg) + 4 = 7 events
    expect(reason(payments, p)).to.equal(undefined);
    await anvil.revert(beforeTopUp);
    await follower.poll();
    expect(payments.status(p).account, "the removed top-up no longer counts").to.include({ deposited: String(5n * PRICE) });
    expect(reason(payments, p)).to.equal("DEPOSIT_EXHAUSTED");
    expect(() => payments.checkPublish(p)).to.throw(/does not cover/);

    // anvil_reorg: the top-up again, then a reorg of depth 1 that replaces its block with an empty one.
    await deposit(payer, 5);
    await follower.poll();
    expect(payments.status(p).account).to.include({ deposited: String(10n * PRICE) });
    await anvil.send("anvil_reorg", [1, []]);
    await follower.poll();
    expect(payments.status(p).account).to.include({ deposited: String(5n * PRICE) });
  });

  it("at depth 2 counts a deposit only once it is 2 blocks deep", async () => {
    const { follower, payments } = await setUp(2);
    const payer = await newPayer();
    const p = payer.address.toLowerCase();
    await deposit(payer, 5);
    await follower.poll();
    await payments.preparePublish(p);
    expect(reason(payments, p), "0 deep").to.equal("NO_CHANNEL");
    await anvil.mine();
    await follower.poll();
    expect(reason(payments, p), "1 deep").to.equal("NO_CHANNEL");
    await anvil.mine();
    await follower.poll();
    expect(payments.status(p).account).to.include({ deposited: String(5n * PRICE) });
    expect(reason(payments, p), "2 deep").to.equal(undefined);
  });
});
