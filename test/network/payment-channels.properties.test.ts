// Property tests of PaymentChannels: random sequences of deposits (approve and transferAndCall),
// vouchers signed for rising cumulative amounts, redemptions of the latest or of an older voucher,
// closes, time and finished closes, by two payers on channels to two brokers. After every step the
// contract must agree with a plain model of the channels, and:
// - a broker never received more than was deposited into its channels (redeemed <= deposited, per
//   generation and in all);
// - a voucher pays min(amount, deposited) - redeemed, once: the same or an older voucher pays nothing;
// - the contract's DATA balance equals the sum over channels of deposited - redeemed.
import { expect } from "chai";
import { ethers } from "hardhat";
import fc from "fast-check";
import { takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployFoundation } from "../helpers/foundation";
import { CHALLENGE_PERIOD, deployChannels, signVoucher } from "../helpers/channels";
import { propertyRuns } from "../helpers/runs";

const DATA = 10n ** 18n;

type Op =
  | { kind: "deposit"; payer: number; broker: number; amount: number; viaTransferAndCall: boolean }
  | { kind: "sign"; payer: number; broker: number; increment: number }
  | { kind: "redeem"; payer: number; broker: number; which: number }
  | { kind: "startClose"; payer: number; broker: number }
  | { kind: "wait"; fraction: number }
  | { kind: "finishClose"; payer: number; broker: number };

const who = { payer: fc.nat(1), broker: fc.nat(1) };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("deposit" as const), ...who, amount: fc.integer({ min: 1, max: 50 }), viaTransferAndCall: fc.boolean() }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("sign" as const), ...who, increment: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("redeem" as const), ...who, which: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("startClose" as const), ...who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("wait" as const), fraction: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("finishClose" as const), ...who }) },
);

interface ModelChannel {
  generation: number;
  deposited: bigint;
  redeemed: bigint;
  closesAt: bigint;
  /** Vouchers signed in the current generation: [amount, signature], oldest first. */
  vouchers: [bigint, string][];
}

describe("PaymentChannels properties", () => {
  it("agrees with the model; a broker never gets more than the deposit; the balance equals what is unredeemed", async () => {
    const signers = await ethers.getSigners();
    const [admin] = signers;
    const payers = signers.slice(1, 3);
    const brokers = signers.slice(3, 5);
    const { token } = await deployFoundation(admin);
    const channels = await deployChannels(await token.getAddress());
    const channelsAddress = await channels.getAddress();
    for (const p of payers) {
      await token.mint(p.address, 100_000n * DATA);
      await token.connect(p).approve(channelsAddress, ethers.MaxUint256);
    }
    const start = await takeSnapshot();

    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 25 }), async (ops) => {
        await start.restore();
        const model = new Map<string, ModelChannel>();
        const received = brokers.map(() => 0n);
        const depositedInAll = brokers.map(() => 0n);
        const key = (p: HardhatEthersSigner, b: HardhatEthersSigner) => `${p.address}/${b.address}`;
        const get = (p: HardhatEthersSigner, b: HardhatEthersSigner) => {
          let c = model.get(key(p, b));
          if (!c) model.set(key(p, b), (c = { generation: 0, deposited: 0n, redeemed: 0n, closesAt: 0n, vouchers: [] }));
          return c;
        };
        const brokerBalances0 = await Promise.all(brokers.map((b) => token.balanceOf(b.address)));

        for (const op of ops) {
          const now = BigInt(await time.latest());
          // The op's transaction (if any) is mined at now + 1, which the model predicts: pinned, since on a
          // loaded machine a second may pass before it is sent ("wait" sets its own time).
          await time.setNextBlockTimestamp(now + 1n);
          if (op.kind === "wait") {
            await time.increase((CHALLENGE_PERIOD * BigInt(op.fraction)) / 2n);
            continue;
          }
          const payer = payers[op.payer];
          const broker = brokers[op.broker];
          const c = get(payer, broker);
          switch (op.kind) {
            case "deposit": {
              const amount = BigInt(op.amount) * DATA;
              const tx = op.viaTransferAndCall
                ? token
                    .connect(payer)
                    ["transferAndCall(address,uint256,bytes)"](channelsAddress, amount, ethers.AbiCoder.defaultAbiCoder().encode(["address"], [broker.address]))
                : channels.connect(payer).deposit(broker.address, amount);
              if (c.closesAt !== 0n) {
                await expect(tx).to.be.revertedWithCustomError(channels, "ChannelClosing");
              } else {
                await tx;
                c.deposited += amount;
                depositedInAll[op.broker] += amount;
              }
              break;
            }
            case "sign": {
              const last = c.vouchers.length > 0 ? c.vouchers[c.vouchers.length - 1][0] : 0n;
              const amount = last + BigInt(op.increment) * DATA;
              c.vouchers.push([amount, await signVoucher(channels, payer, broker.address, c.generation, amount)]);
              break;
            }
            case "redeem": {
              if (c.vouchers.length === 0) break;
              // which = 0: the latest voucher; otherwise an older one (or the latest again).
              const [amount, signature] = c.vouchers[Math.max(0, c.vouchers.length - 1 - op.which)];
              const tx = channels.connect(broker).redeem(payer.address, c.generation, amount, signature);
              if (amount <= c.redeemed) {
                await expect(tx).to.be.revertedWithCustomError(channels, "VoucherAlreadyRedeemed");
              } else if (c.deposited === c.redeemed) {
                await expect(tx).to.be.revertedWithCustomError(channels, "DepositExhausted");
              } else {
                const next = amount < c.deposited ? amount : c.deposited;
                await expect(tx)
                  .to.emit(channels, "VoucherRedeemed")
                  .withArgs(payer.address, broker.address, c.generation, next - c.redeemed, next);
                received[op.broker] += next - c.redeemed;
                c.redeemed = next;
              }
              break;
            }
            case "startClose": {
              const tx = channels.connect(payer).startClose(broker.address);
              if (c.closesAt !== 0n) await expect(tx).to.be.revertedWithCustomError(channels, "ChannelClosing");
              else if (c.deposited === 0n) await expect(tx).to.be.revertedWithCustomError(channels, "ChannelNotFunded");
              else {
                await tx;
                c.closesAt = now + 1n + CHALLENGE_PERIOD;
              }
              break;
            }
            case "finishClose": {
              const tx = channels.connect(payer).finishClose(broker.address);
              if (c.closesAt === 0n) await expect(tx).to.be.revertedWithCustomError(channels, "ChannelNotClosing");
              else if (now + 1n < c.closesAt) await expect(tx).to.be.revertedWithCustomError(channels, "ChallengePeriodNotOver");
              else {
                await expect(tx)
                  .to.emit(channels, "ChannelClosed")
                  .withArgs(payer.address, broker.address, c.generation, c.deposited - c.redeemed);
                Object.assign(c, { generation: c.generation + 1, deposited: 0n, redeemed: 0n, closesAt: 0n, vouchers: [] });
              }
              break;
            }
          }

          // The contract agrees with the model, channel by channel; its balance is what is unredeemed.
          let unredeemed = 0n;
          for (const p of payers) {
            for (const b of brokers) {
              const m = get(p, b);
              const state = await channels.channel(p.address, b.address);
              expect([state.generation, state.deposited, state.redeemed, state.closesAt]).to.deep.equal([
                BigInt(m.generation),
                m.deposited,
                m.redeemed,
                m.closesAt,
              ]);
              expect(m.redeemed <= m.deposited).to.equal(true);
              unredeemed += m.deposited - m.redeemed;
            }
          }
          expect(await token.balanceOf(channelsAddress)).to.equal(unredeemed);
          for (let i = 0; i < brokers.length; i++) {
            expect(await token.balanceOf(brokers[i].address)).to.equal(brokerBalances0[i] + received[i]);
            expect(received[i] <= depositedInAll[i]).to.equal(true);
          }
        }
      }),
      { numRuns: propertyRuns(20) },
    );
  });
});
