// The broker's payment accounting (src/payments/PaymentLedger.ts) and voucher checks
// (src/payments/VoucherVerifier.ts), without a chain: requests at half a period, the stop at a full
// one, the bound that holds whatever a payer does (property test), vouchers of other channels,
// chains, contracts and generations refused, the wrong v repaired for redemption.

import { expect } from "chai";
import fc from "fast-check";
import { Wallet, TypedDataEncoder, Signature } from "ethers";
import { ErrorCodes } from "../src/errors";
import { PaymentLedger, type VoucherRequest } from "../src/payments/PaymentLedger";
import { VoucherVerifier } from "../src/payments/VoucherVerifier";
import { VOUCHER_TYPES, channelsDomainSeparator, parseVoucher, voucherDigest, type Voucher } from "../src/payments/voucher";
import { paymentTermsOf, DEFAULT_PAYMENTS_CONFIG, type PaymentTerms } from "../src/payments/config";
import { cryptoBackend } from "../src/wire";

const CHANNELS = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const CHAIN_ID = 31337;
const BROKER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const PAYER = new Wallet("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const OTHER = new Wallet("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a");

function terms(over: Partial<PaymentTerms> = {}): PaymentTerms {
  return { publishPrice: 10n, deliveryPrice: 3n, periodEvents: 10, periodAmount: 0n, redeemIntervalMs: 3_600_000, redeemMinAmount: 0n, ...over };
}

async function sign(
  wallet: Wallet,
  amount: bigint,
  opts: { generation?: number; broker?: string; chainId?: number; channels?: string; payer?: string } = {},
): Promise<Voucher> {
  const domain = { name: "PaymentChannels", version: "1", chainId: opts.chainId ?? CHAIN_ID, verifyingContract: opts.channels ?? CHANNELS };
  const payer = (opts.payer ?? wallet.address).toLowerCase();
  const message = { payer, broker: opts.broker ?? BROKER, generation: opts.generation ?? 0, amount };
  const signature = await wallet.signTypedData(domain, VOUCHER_TYPES, message);
  return parseVoucher({ payer, generation: message.generation, amount: String(amount), signature }, BROKER);
}

const payer = PAYER.address.toLowerCase();
const open = (deposited: bigint, generation = 0) => ({ generation, deposited, redeemed: 0n, closesAt: 0 });

describe("payments: the ledger", () => {
  it("asks for a voucher at half a period, and stops a payer at one full period unpaid", () => {
    const requests: VoucherRequest[] = [];
    const ledger = new PaymentLedger(terms(), (r) => requests.push(r));
    ledger.setChannel(payer, open(1_000n));
    for (let i = 0; i < 5; i++) ledger.charge(payer, "publish");
    expect(requests).to.deep.equal([{ payer, generation: 0, amount: 50n, owed: 50n, paid: 0n }]);
    for (let i = 0; i < 5; i++) ledger.charge(payer, "publish");
    // A second request for the next half period; then the 11th event would leave 11 unpaid.
    expect(requests.map((r) => r.amount)).to.deep.equal([50n, 100n]);
    const refused = ledger.refusal(payer, "publish")!;
    expect(refused.code).to.equal(ErrorCodes.PAYMENT_REQUIRED);
    expect(refused.details).to.include({ reason: "VOUCHERS_BEHIND", owed: "100", paid: "0", request: "100" });
    expect(() => ledger.charge(payer, "publish")).to.throw(/vouchers are behind/);
    expect(ledger.tryCharge(payer, "delivery")).to.equal(false);
    expect(ledger.state(payer)!.owed).to.equal(100n);
  });

  it("serves on once a voucher covers the requests; a voucher for the first request frees half a period", async () => {
    const ledger = new PaymentLedger(terms(), () => undefined);
    ledger.setChannel(payer, open(1_000n));
    for (let i = 0; i < 10; i++) ledger.charge(payer, "publish");
    expect(ledger.accept(await sign(PAYER, 50n))).to.equal(true);
    expect(ledger.state(payer)).to.include({ owed: 100n, paid: 50n, unpaidEvents: 5 });
    for (let i = 0; i < 5; i++) ledger.charge(payer, "publish");
    expect(ledger.refusal(payer, "publish")).to.not.equal(undefined);
    // An older voucher changes nothing; the latest covers everything.
    expect(ledger.accept(await sign(PAYER, 40n))).to.equal(false);
    expect(ledger.accept(await sign(PAYER, 150n))).to.equal(true);
    expect(ledger.state(payer)).to.include({ owed: 150n, paid: 150n, unpaidEvents: 0 });
  });

  it("bounds by amount too, prices publish and delivery apart, and lets free kinds through", () => {
    const requests: VoucherRequest[] = [];
    const ledger = new PaymentLedger(terms({ periodEvents: 0, periodAmount: 30n, deliveryPrice: 0n }), (r) => requests.push(r));
    ledger.setChannel(payer, open(1_000n));
    ledger.charge(payer, "publish");
    expect(requests).to.have.length(0);
    ledger.charge(payer, "publish"); // 20 >= 15: ask
    expect(requests.map((r) => r.amount)).to.deep.equal([20n]);
    ledger.charge(payer, "publish"); // 30: the bound itself is allowed
    expect(ledger.refusal(payer, "publish")?.details).to.include({ reason: "VOUCHERS_BEHIND" });
    for (let i = 0; i < 100; i++) ledger.charge(payer, "delivery"); // free
  });

  it("refuses a payer without a funded channel, with a closing one, and beyond its deposit", () => {
    const ledger = new PaymentLedger(terms(), () => undefined);
    expect(ledger.refusal(payer, "publish")?.details).to.include({ reason: "NO_CHANNEL" });
    ledger.setChannel(payer, open(0n));
    expect(ledger.refusal(payer, "publish")?.details).to.include({ reason: "NO_CHANNEL" });
    ledger.setChannel(payer, open(25n));
    ledger.charge(payer, "publish");
    ledger.charge(payer, "publish");
    expect(ledger.refusal(payer, "publish")?.details).to.include({ reason: "DEPOSIT_EXHAUSTED", deposited: "25" });
    expect(ledger.refusal(payer, "delivery")).to.equal(undefined); // 23 <= 25
    ledger.setChannel(payer, { generation: 0, deposited: 0n, redeemed: 0n, closesAt: 1_900_000_000 });
    expect(ledger.refusal(payer, "delivery")?.details).to.include({ reason: "CHANNEL_CLOSING", closesAt: 1_900_000_000 });
  });

  it("starts a new generation from zero and refuses vouchers of another generation", async () => {
    const ledger = new PaymentLedger(terms(), () => undefined);
    ledger.setChannel(payer, open(1_000n));
    for (let i = 0; i < 4; i++) ledger.charge(payer, "publish");
    ledger.accept(await sign(PAYER, 40n));
    ledger.setChannel(payer, open(500n, 1));
    expect(ledger.state(payer)).to.include({ owed: 0n, paid: 0n });
    await expectInvalid(async () => ledger.accept(await sign(PAYER, 60n)), "generation");
    expect(ledger.accept(await sign(PAYER, 60n, { generation: 1 }))).to.equal(true);
    // An older view (generation 0) arriving late changes nothing.
    ledger.setChannel(payer, open(9_999n, 0));
    expect(ledger.state(payer)!.channel).to.deep.equal(open(500n, 1));
  });

  it("restores a kept voucher after a restart and counts what the chain redeemed as paid", async () => {
    const kept = await sign(PAYER, 70n);
    const ledger = new PaymentLedger(terms(), () => undefined);
    ledger.setChannel(payer, { generation: 0, deposited: 1_000n, redeemed: 30n, closesAt: 0 }, kept);
    expect(ledger.state(payer)).to.include({ owed: 70n, paid: 70n });
    expect(ledger.redeemable()).to.deep.equal([{ voucher: kept, pays: 40n, closing: false }]);
    ledger.setChannel(payer, { generation: 0, deposited: 0n, redeemed: 70n, closesAt: 0 });
    expect(ledger.redeemable()).to.deep.equal([]);
  });

  it("never serves more than one voucher period unpaid, whatever the payer signs and when (property)", async () => {
    const v50 = await sign(PAYER, 0n); // signatures are not checked by the ledger: amounts only
    await fc.assert(
      fc.property(
        fc.record({
          periodEvents: fc.integer({ min: 2, max: 20 }),
          periodAmount: fc.integer({ min: 0, max: 200 }),
          publishPrice: fc.integer({ min: 1, max: 9 }),
          deliveryPrice: fc.integer({ min: 0, max: 9 }),
        }),
        fc.array(fc.oneof(fc.constantFrom("publish" as const, "delivery" as const), fc.record({ answer: fc.nat(3), shortBy: fc.nat(20) })), { maxLength: 300 }),
        (t, steps) => {
          const requests: VoucherRequest[] = [];
          const ledger = new PaymentLedger(
            terms({
              periodEvents: t.periodEvents,
              periodAmount: BigInt(t.periodAmount),
              publishPrice: BigInt(t.publishPrice),
              deliveryPrice: BigInt(t.deliveryPrice),
            }),
            (r) => requests.push(r),
          );
          ledger.setChannel(payer, open(1_000_000n));
          let served = 0n;
          let servedEvents = 0;
          let bestPaid = 0n;
          // Events covered by the vouchers the payer gave: a voucher for a request covers its events.
          const coveredAt = new Map<bigint, number>();
          let coveredEvents = 0;
          for (const step of steps) {
            if (typeof step === "string") {
              const price = step === "publish" ? BigInt(t.publishPrice) : BigInt(t.deliveryPrice);
              if (ledger.tryCharge(payer, step) && price > 0n) {
                served += price;
                servedEvents++;
                coveredAt.set(served, servedEvents);
              }
            } else if (requests.length > 0) {
              // The payer answers one of the requests, possibly an old one, possibly short of it.
              const r = requests[Math.max(0, requests.length - 1 - step.answer)];
              const amount = r.amount - BigInt(step.shortBy) > 0n ? r.amount - BigInt(step.shortBy) : 0n;
              ledger.accept({ ...v50, amount });
              if (amount > bestPaid) bestPaid = amount;
              for (const [a, e] of coveredAt) if (a <= bestPaid && e > coveredEvents) coveredEvents = e;
            }
            const unpaid = served - bestPaid;
            if (t.periodAmount > 0) expect(unpaid <= BigInt(t.periodAmount), `unpaid ${unpaid} > ${t.periodAmount}`).to.equal(true);
            expect(servedEvents - coveredEvents <= t.periodEvents, `unpaid events ${servedEvents - coveredEvents} > ${t.periodEvents}`).to.equal(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("checks the configuration: decimal wei strings, a bound on what is owed", () => {
    const fail = (field: string, message: string): never => {
      throw new Error(`${field}: ${message}`);
    };
    expect(paymentTermsOf(DEFAULT_PAYMENTS_CONFIG, fail)).to.include({ publishPrice: 0n, deliveryPrice: 0n, periodEvents: 1000 });
    expect(() => paymentTermsOf({ ...DEFAULT_PAYMENTS_CONFIG, publishPrice: "1e12" }, fail)).to.throw(/payments.publishPrice: must be a decimal string/);
    expect(() => paymentTermsOf({ ...DEFAULT_PAYMENTS_CONFIG, voucherPeriodEvents: 0 }, fail)).to.throw(/cannot both be 0/);
    expect(() => paymentTermsOf({ ...DEFAULT_PAYMENTS_CONFIG, voucherPeriodEvents: 1 }, fail)).to.throw(/at least 2/);
    expect(() => paymentTermsOf({ ...DEFAULT_PAYMENTS_CONFIG, redeemIntervalMs: 10 }, fail)).to.throw(/redeemIntervalMs/);
  });
});

describe(`payments: voucher signatures (${cryptoBackend.backend} and noble)`, () => {
  const domain = channelsDomainSeparator(CHAIN_ID, CHANNELS);

  it("computes the EIP-712 digest ethers signs", async () => {
    const v = await sign(PAYER, 12345n, { generation: 7 });
    const expected = TypedDataEncoder.hash({ name: "PaymentChannels", version: "1", chainId: CHAIN_ID, verifyingContract: CHANNELS }, VOUCHER_TYPES, {
      payer: v.payer,
      broker: BROKER,
      generation: 7,
      amount: 12345n,
    });
    expect("0x" + voucherDigest(domain, v).toString("hex")).to.equal(expected);
  });

  for (const backend of ["native", "noble"] as const) {
    it(`${backend}: accepts the payer's vouchers, refuses other channels, chains, contracts, amounts and signers`, async function () {
      if (backend === "native" && cryptoBackend.backend !== "native") this.skip();
      const verifier = new VoucherVerifier(domain, backend);
      expect(verifier.backend).to.equal(backend);
      const good = await sign(PAYER, 100n);
      expect(await verifier.verify(good)).to.equal(true); // first: recovers the key
      expect(await verifier.verify(await sign(PAYER, 200n))).to.equal(true); // then: verifies against it
      const bad = [
        { ...(await sign(PAYER, 100n, { broker: OTHER.address.toLowerCase() })), broker: BROKER }, // signed for another broker
        await sign(PAYER, 100n, { chainId: 1 }),
        await sign(PAYER, 100n, { channels: "0x" + "11".repeat(20) }),
        { ...good, amount: 101n },
        { ...good, generation: 1 },
        await sign(OTHER, 100n, { payer: payer }), // another key signing in the payer's name
      ];
      expect(await Promise.all(bad.map((v) => verifier.verify(v)))).to.deep.equal(bad.map(() => false));
      // High s is refused (the contract refuses it too).
      const sig = Signature.from("0x" + good.signature.toString("hex"));
      const n = BigInt("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
      const highS = Buffer.concat([
        Buffer.from(sig.r.slice(2), "hex"),
        Buffer.from((n - BigInt(sig.s)).toString(16).padStart(64, "0"), "hex"),
        Buffer.from([sig.v === 27 ? 28 : 27]),
      ]);
      expect(await verifier.verify({ ...good, signature: highS })).to.equal(false);
      expect(verifier.stats.verified).to.equal(2 + bad.length + 1);
    });

    it(`${backend}: a voucher with the wrong v still verifies, and is redeemed with the v that recovers the payer`, async function () {
      if (backend === "native" && cryptoBackend.backend !== "native") this.skip();
      const verifier = new VoucherVerifier(domain, backend);
      const good = await sign(PAYER, 100n);
      const flipped = Buffer.from(good.signature);
      flipped[64] = flipped[64] === 27 ? 28 : 27;
      expect(verifier.verifyBatch([{ ...good, signature: flipped }, good])).to.deep.equal([true, true]);
      expect(verifier.redeemable({ ...good, signature: flipped })!.equals(good.signature)).to.equal(true);
      expect(verifier.redeemable({ ...good, amount: 7n })).to.equal(undefined);
    });
  }

  it("parses the wire form and names what is wrong", async () => {
    const v = await sign(PAYER, 5n);
    const wire = { payer: v.payer, generation: 0, amount: "5", signature: "0x" + v.signature.toString("hex") };
    expect(parseVoucher(wire, BROKER)).to.deep.equal(v);
    for (const [field, value] of [
      ["payer", "0x12"],
      ["generation", -1],
      ["amount", "5.0"],
      ["amount", 5],
      ["signature", "0x00"],
      ["signature", "0x" + "00".repeat(64) + "01"],
    ] as const) {
      await expectInvalid(async () => parseVoucher({ ...wire, [field]: value }, BROKER), field);
    }
  });
});

async function expectInvalid(fn: () => Promise<unknown>, field: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    expect((err as { code?: string }).code).to.equal(ErrorCodes.INVALID_VOUCHER);
    expect((err as { details?: Record<string, unknown> }).details?.field).to.equal(field);
    return;
  }
  throw new Error(`expected INVALID_VOUCHER (${field})`);
}
