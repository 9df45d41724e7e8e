// PaymentChannels: deposits (approve + deposit, and ERC-1363 transferAndCall), EIP-712 vouchers for
// cumulative amounts redeemed by the broker, top-ups, the close with its challenge period, and every
// refusal: replayed, older, cross-channel, cross-generation, cross-contract and cross-chain vouchers,
// malformed and high-s signatures. Reentrancy through ERC-777-like token hooks gets nothing.
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployFoundation } from "../helpers/foundation";
import { CHALLENGE_PERIOD, VOUCHER_TYPES, deployChannels, signVoucher } from "../helpers/channels";
import type { HookERC20, PaymentChannels, ReentrantChannelParty } from "../../typechain-types";

const DATA = 10n ** 18n;
const HALF_N = BigInt("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
const N = 2n * HALF_N + 1n;

async function fixture() {
  const [admin, payer, broker, other, otherBroker] = await ethers.getSigners();
  const { token } = await deployFoundation(admin);
  const channels = await deployChannels(await token.getAddress());
  for (const s of [payer, other]) {
    await token.mint(s.address, 1_000n * DATA);
    await token.connect(s).approve(await channels.getAddress(), ethers.MaxUint256);
  }
  return { admin, payer, broker, other, otherBroker, token, channels };
}

describe("PaymentChannels", () => {
  describe("deployment", () => {
    it("refuses a challenge period outside [1 hour, 30 days]", async () => {
      const { token } = await loadFixture(fixture);
      const factory = await ethers.getContractFactory("PaymentChannels");
      for (const period of [3_599n, 30n * 86_400n + 1n]) {
        await expect(ethers.deployContract("PaymentChannels", [await token.getAddress(), period]))
          .to.be.revertedWithCustomError(factory, "InvalidChallengePeriod")
          .withArgs(period);
      }
      const shortest = await deployChannels(await token.getAddress(), 3_600n);
      expect(await shortest.challengePeriod()).to.equal(3_600n);
    });

    it("exposes its token, challenge period and EIP-712 domain", async () => {
      const { token, channels } = await loadFixture(fixture);
      expect(await channels.token()).to.equal(await token.getAddress());
      expect(await channels.challengePeriod()).to.equal(CHALLENGE_PERIOD);
      expect(await channels.VOUCHER_TYPEHASH()).to.equal(ethers.id("Voucher(address payer,address broker,uint32 generation,uint256 amount)"));
      const { chainId } = await ethers.provider.getNetwork();
      const domain = { name: "PaymentChannels", version: "1", chainId, verifyingContract: await channels.getAddress() };
      expect(await channels.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));
      const eip5267 = await channels.eip712Domain();
      expect([eip5267.name, eip5267.version, eip5267.chainId, eip5267.verifyingContract]).to.deep.equal([
        "PaymentChannels",
        "1",
        chainId,
        await channels.getAddress(),
      ]);
      const [payer, broker] = [ethers.Wallet.createRandom().address, ethers.Wallet.createRandom().address];
      expect(await channels.voucherDigest(payer, broker, 3, 7n)).to.equal(
        ethers.TypedDataEncoder.hash(domain, VOUCHER_TYPES, { payer, broker, generation: 3, amount: 7n }),
      );
    });
  });

  describe("deposits", () => {
    it("opens a channel and tops it up, with an event carrying the total", async () => {
      const { payer, broker, token, channels } = await loadFixture(fixture);
      await expect(channels.connect(payer).deposit(broker.address, 10n * DATA))
        .to.emit(channels, "ChannelFunded")
        .withArgs(payer.address, broker.address, 0, 10n * DATA, 10n * DATA);
      await expect(channels.connect(payer).deposit(broker.address, 5n * DATA))
        .to.emit(channels, "ChannelFunded")
        .withArgs(payer.address, broker.address, 0, 5n * DATA, 15n * DATA);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(15n * DATA);
      const state = await channels.channel(payer.address, broker.address);
      expect([state.generation, state.deposited, state.redeemed, state.closesAt]).to.deep.equal([0n, 15n * DATA, 0n, 0n]);
    });

    it("takes a deposit in one transaction through ERC-1363 transferAndCall, credited to the holder", async () => {
      const { payer, broker, token, channels } = await loadFixture(fixture);
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [broker.address]);
      await expect(token.connect(payer)["transferAndCall(address,uint256,bytes)"](await channels.getAddress(), 3n * DATA, data))
        .to.emit(channels, "ChannelFunded")
        .withArgs(payer.address, broker.address, 0, 3n * DATA, 3n * DATA);
      expect((await channels.channel(payer.address, broker.address)).deposited).to.equal(3n * DATA);
    });

    it("refuses onTransferReceived from anyone but the token, and data that is not one address", async () => {
      const { payer, broker, token, channels } = await loadFixture(fixture);
      const data = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [broker.address]);
      await expect(channels.connect(payer).onTransferReceived(payer.address, payer.address, DATA, data))
        .to.be.revertedWithCustomError(channels, "NotToken")
        .withArgs(payer.address);
      // The token bubbles the receiver's revert up.
      for (const bad of ["0x", data + "00"]) {
        await expect(token.connect(payer)["transferAndCall(address,uint256,bytes)"](await channels.getAddress(), DATA, bad))
          .to.be.revertedWithCustomError(channels, "InvalidDepositData")
          .withArgs(ethers.dataLength(bad));
      }
      const toSelf = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [payer.address]);
      await expect(token.connect(payer)["transferAndCall(address,uint256,bytes)"](await channels.getAddress(), DATA, toSelf))
        .to.be.revertedWithCustomError(channels, "InvalidBroker")
        .withArgs(payer.address);
    });

    it("refuses a zero amount, a zero broker and the payer as its own broker", async () => {
      const { payer, broker, channels } = await loadFixture(fixture);
      await expect(channels.connect(payer).deposit(broker.address, 0)).to.be.revertedWithCustomError(channels, "ZeroAmount");
      await expect(channels.connect(payer).deposit(ethers.ZeroAddress, DATA))
        .to.be.revertedWithCustomError(channels, "InvalidBroker")
        .withArgs(ethers.ZeroAddress);
      await expect(channels.connect(payer).deposit(payer.address, DATA)).to.be.revertedWithCustomError(channels, "InvalidBroker").withArgs(payer.address);
    });

    it("refuses deposits of one generation beyond 2^112 - 1 wei", async () => {
      const [, payer, broker] = await ethers.getSigners();
      const big = await ethers.deployContract("PlainERC20", [payer.address, 2n ** 113n]);
      const channels = await deployChannels(await big.getAddress());
      await big.connect(payer).approve(await channels.getAddress(), ethers.MaxUint256);
      await channels.connect(payer).deposit(broker.address, 2n ** 112n - 2n);
      await expect(channels.connect(payer).deposit(broker.address, 2n))
        .to.be.revertedWithCustomError(channels, "DepositTooLarge")
        .withArgs(2n ** 112n - 2n, 2n);
      await channels.connect(payer).deposit(broker.address, 1n);
      expect((await channels.channel(payer.address, broker.address)).deposited).to.equal(2n ** 112n - 1n);
    });
  });

  describe("redeeming vouchers", () => {
    async function funded() {
      const f = await loadFixture(fixture);
      await f.channels.connect(f.payer).deposit(f.broker.address, 10n * DATA);
      return f;
    }

    it("pays the broker a voucher's cumulative amount, then only the difference of a later one", async () => {
      const { payer, broker, token, channels } = await funded();
      const first = await signVoucher(channels, payer, broker.address, 0, 2n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 2n * DATA, first))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 0, 2n * DATA, 2n * DATA)
        .and.to.emit(token, "Transfer")
        .withArgs(await channels.getAddress(), broker.address, 2n * DATA);
      const later = await signVoucher(channels, payer, broker.address, 0, 7n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 7n * DATA, later))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 0, 5n * DATA, 7n * DATA);
      expect(await token.balanceOf(broker.address)).to.equal(7n * DATA);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(3n * DATA);
    });

    it("refuses a replayed voucher and an older one", async () => {
      const { payer, broker, channels } = await funded();
      const older = await signVoucher(channels, payer, broker.address, 0, 2n * DATA);
      const latest = await signVoucher(channels, payer, broker.address, 0, 4n * DATA);
      await channels.connect(broker).redeem(payer.address, 0, 4n * DATA, latest);
      await expect(channels.connect(broker).redeem(payer.address, 0, 4n * DATA, latest))
        .to.be.revertedWithCustomError(channels, "VoucherAlreadyRedeemed")
        .withArgs(4n * DATA, 4n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 2n * DATA, older))
        .to.be.revertedWithCustomError(channels, "VoucherAlreadyRedeemed")
        .withArgs(2n * DATA, 4n * DATA);
    });

    it("never pays more than the deposit: a voucher above it pays the deposit, the rest after a top-up", async () => {
      const { payer, broker, token, channels } = await funded();
      const voucher = await signVoucher(channels, payer, broker.address, 0, 25n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 25n * DATA, voucher))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 0, 10n * DATA, 10n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 25n * DATA, voucher))
        .to.be.revertedWithCustomError(channels, "DepositExhausted")
        .withArgs(10n * DATA);
      await channels.connect(payer).deposit(broker.address, 30n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 25n * DATA, voucher))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 0, 15n * DATA, 25n * DATA);
      expect(await token.balanceOf(broker.address)).to.equal(25n * DATA);
    });

    it("refuses a voucher signed for another broker, another payer's, or a forged one", async () => {
      const { payer, broker, other, otherBroker, channels } = await funded();
      await channels.connect(other).deposit(otherBroker.address, 10n * DATA);
      await channels.connect(payer).deposit(otherBroker.address, 10n * DATA);
      // Signed for `broker`, redeemed by `otherBroker` on the payer's channel to it: another channel.
      const forBroker = await signVoucher(channels, payer, broker.address, 0, DATA);
      await expect(channels.connect(otherBroker).redeem(payer.address, 0, DATA, forBroker)).to.be.revertedWithCustomError(channels, "InvalidVoucherSignature");
      // The other payer's voucher presented as the payer's: it recovers to someone else.
      const otherPayers = await signVoucher(channels, other, otherBroker.address, 0, DATA);
      await expect(channels.connect(otherBroker).redeem(payer.address, 0, DATA, otherPayers)).to.be.revertedWithCustomError(
        channels,
        "InvalidVoucherSignature",
      );
      // A voucher that names the payer but that another key signed: the error names that signer.
      const { chainId } = await ethers.provider.getNetwork();
      const domain = { name: "PaymentChannels", version: "1", chainId, verifyingContract: await channels.getAddress() };
      const impostor = await other.signTypedData(domain, VOUCHER_TYPES, { payer: payer.address, broker: otherBroker.address, generation: 0, amount: DATA });
      await expect(channels.connect(otherBroker).redeem(payer.address, 0, DATA, impostor))
        .to.be.revertedWithCustomError(channels, "InvalidVoucherSignature")
        .withArgs(payer.address, other.address);
      // Signed by the broker itself.
      const selfSigned = await signVoucher(channels, broker, broker.address, 0, DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, selfSigned)).to.be.revertedWithCustomError(channels, "InvalidVoucherSignature");
      // A valid voucher with another amount than it was signed for.
      const one = await signVoucher(channels, payer, broker.address, 0, DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 2n * DATA, one)).to.be.revertedWithCustomError(channels, "InvalidVoucherSignature");
    });

    it("refuses vouchers of another chain and of another deployment", async () => {
      const { payer, broker, token, channels } = await funded();
      const otherChain = await signVoucher(channels, payer, broker.address, 0, DATA, { chainId: 1n });
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, otherChain)).to.be.revertedWithCustomError(channels, "InvalidVoucherSignature");
      const twin = await deployChannels(await token.getAddress());
      const forTwin = await signVoucher(twin, payer, broker.address, 0, DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, forTwin)).to.be.revertedWithCustomError(channels, "InvalidVoucherSignature");
      // The same voucher is good on its own contract, once the payer funded a channel there.
      await token.connect(payer).approve(await twin.getAddress(), DATA);
      await twin.connect(payer).deposit(broker.address, DATA);
      await expect(twin.connect(broker).redeem(payer.address, 0, DATA, forTwin)).to.emit(twin, "VoucherRedeemed");
    });

    it("refuses malformed and high-s signatures", async () => {
      const { payer, broker, channels } = await funded();
      const good = await signVoucher(channels, payer, broker.address, 0, DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, ethers.dataSlice(good, 0, 64)))
        .to.be.revertedWithCustomError(channels, "InvalidVoucherSignature")
        .withArgs(payer.address, ethers.ZeroAddress);
      const sig = ethers.Signature.from(good);
      const highS = ethers.concat([sig.r, ethers.toBeHex(N - BigInt(sig.s), 32), ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, highS))
        .to.be.revertedWithCustomError(channels, "InvalidVoucherSignature")
        .withArgs(payer.address, ethers.ZeroAddress);
      await expect(channels.connect(broker).redeem(payer.address, 0, DATA, good)).to.emit(channels, "VoucherRedeemed");
    });

    it("refuses a voucher on a channel that was never funded", async () => {
      const { payer, other, channels } = await funded();
      const voucher = await signVoucher(channels, payer, other.address, 0, DATA);
      await expect(channels.connect(other).redeem(payer.address, 0, DATA, voucher))
        .to.be.revertedWithCustomError(channels, "DepositExhausted")
        .withArgs(0);
    });
  });

  describe("closing", () => {
    async function open() {
      const f = await loadFixture(fixture);
      await f.channels.connect(f.payer).deposit(f.broker.address, 10n * DATA);
      return f;
    }

    it("lets the broker redeem during the challenge period, then refunds the rest and ends the generation", async () => {
      const { payer, broker, token, channels } = await open();
      const voucher = await signVoucher(channels, payer, broker.address, 0, 4n * DATA);
      // The blocks' times are pinned: on a loaded machine a second may pass between two transactions.
      const startedAt = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(startedAt);
      const tx = channels.connect(payer).startClose(broker.address);
      const closesAt = startedAt + CHALLENGE_PERIOD;
      await expect(tx).to.emit(channels, "ChannelCloseStarted").withArgs(payer.address, broker.address, 0, closesAt);
      expect((await channels.channel(payer.address, broker.address)).closesAt).to.equal(closesAt);
      await time.setNextBlockTimestamp(startedAt + 1n);
      await expect(channels.connect(payer).finishClose(broker.address))
        .to.be.revertedWithCustomError(channels, "ChallengePeriodNotOver")
        .withArgs(closesAt, closesAt - CHALLENGE_PERIOD + 1n);
      await channels.connect(broker).redeem(payer.address, 0, 4n * DATA, voucher);
      await time.increaseTo(closesAt);
      const before = await token.balanceOf(payer.address);
      await expect(channels.connect(payer).finishClose(broker.address))
        .to.emit(channels, "ChannelClosed")
        .withArgs(payer.address, broker.address, 0, 6n * DATA);
      expect(await token.balanceOf(payer.address)).to.equal(before + 6n * DATA);
      const state = await channels.channel(payer.address, broker.address);
      expect([state.generation, state.deposited, state.redeemed, state.closesAt]).to.deep.equal([1n, 0n, 0n, 0n]);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(0n);
    });

    it("still lets the broker redeem after the challenge period while the payer has not finished", async () => {
      const { payer, broker, channels } = await open();
      await channels.connect(payer).startClose(broker.address);
      await time.increase(CHALLENGE_PERIOD * 2n);
      const voucher = await signVoucher(channels, payer, broker.address, 0, 10n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 10n * DATA, voucher))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 0, 10n * DATA, 10n * DATA);
      // Nothing left: the close returns nothing and moves no token.
      await expect(channels.connect(payer).finishClose(broker.address)).to.emit(channels, "ChannelClosed").withArgs(payer.address, broker.address, 0, 0);
    });

    it("voids the vouchers of a closed generation; the next generation starts from zero", async () => {
      const { payer, broker, token, channels } = await open();
      const old = await signVoucher(channels, payer, broker.address, 0, 3n * DATA);
      await channels.connect(payer).startClose(broker.address);
      await time.increase(CHALLENGE_PERIOD);
      await channels.connect(payer).finishClose(broker.address);
      await channels.connect(payer).deposit(broker.address, 5n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 0, 3n * DATA, old))
        .to.be.revertedWithCustomError(channels, "WrongGeneration")
        .withArgs(payer.address, broker.address, 0, 1);
      const fresh = await signVoucher(channels, payer, broker.address, 1, 2n * DATA);
      await expect(channels.connect(broker).redeem(payer.address, 1, 2n * DATA, fresh))
        .to.emit(channels, "VoucherRedeemed")
        .withArgs(payer.address, broker.address, 1, 2n * DATA, 2n * DATA);
      expect(await token.balanceOf(broker.address)).to.equal(2n * DATA);
    });

    it("refuses to close an unfunded channel, to close twice, to top up while closing, and to finish without a close", async () => {
      const { payer, broker, other, channels } = await open();
      await expect(channels.connect(payer).startClose(other.address))
        .to.be.revertedWithCustomError(channels, "ChannelNotFunded")
        .withArgs(payer.address, other.address);
      await expect(channels.connect(payer).finishClose(broker.address))
        .to.be.revertedWithCustomError(channels, "ChannelNotClosing")
        .withArgs(payer.address, broker.address);
      await channels.connect(payer).startClose(broker.address);
      const { closesAt } = await channels.channel(payer.address, broker.address);
      await expect(channels.connect(payer).startClose(broker.address))
        .to.be.revertedWithCustomError(channels, "ChannelClosing")
        .withArgs(payer.address, broker.address, closesAt);
      await expect(channels.connect(payer).deposit(broker.address, DATA))
        .to.be.revertedWithCustomError(channels, "ChannelClosing")
        .withArgs(payer.address, broker.address, closesAt);
    });

    it("closes only the caller's own channel", async () => {
      const { payer, broker, other, channels } = await open();
      // `other` has no channel to `broker`: its close is refused, the payer's channel is untouched.
      await expect(channels.connect(other).startClose(broker.address)).to.be.revertedWithCustomError(channels, "ChannelNotFunded");
      expect((await channels.channel(payer.address, broker.address)).closesAt).to.equal(0n);
    });
  });

  describe("reentrancy through token hooks (ERC-777-like)", () => {
    async function hooked() {
      const [admin, payer] = await ethers.getSigners();
      const token = (await ethers.deployContract("HookERC20", [admin.address, 1_000n * DATA])) as unknown as HookERC20;
      const channels = await deployChannels(await token.getAddress());
      const party = (await ethers.deployContract("ReentrantChannelParty", [await channels.getAddress()])) as unknown as ReentrantChannelParty;
      return { admin, payer, token, channels, party };
    }

    it("a broker that calls redeem again from the payment's hook is refused: paid once", async () => {
      const { payer, token, channels, party } = await hooked();
      const broker = await party.getAddress();
      await token.transfer(payer.address, 10n * DATA);
      await token.connect(payer).approve(await channels.getAddress(), 10n * DATA);
      await channels.connect(payer).deposit(broker, 10n * DATA);
      await registerHooks(token, party);
      const voucher = await signVoucher(channels, payer, broker, 0, 4n * DATA);
      const call = channels.interface.encodeFunctionData("redeem", [payer.address, 0, 4n * DATA, voucher]);
      await party.setReentry(call);
      await party.act(call);
      expect(await party.hooksRun()).to.equal(1n);
      expect(await party.reentrySucceeded()).to.equal(false);
      expect(await party.reentryRevert()).to.equal(channels.interface.encodeErrorResult("VoucherAlreadyRedeemed", [4n * DATA, 4n * DATA]));
      expect(await token.balanceOf(broker)).to.equal(4n * DATA);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(6n * DATA);
    });

    it("a payer that calls finishClose again from the refund's hook is refused: refunded once", async () => {
      const { token, channels, party } = await hooked();
      const payer = await party.getAddress();
      const [, , broker] = await ethers.getSigners();
      await token.transfer(payer, 10n * DATA);
      await party.approve(await token.getAddress(), 10n * DATA);
      await party.act(channels.interface.encodeFunctionData("deposit", [broker.address, 10n * DATA]));
      await party.act(channels.interface.encodeFunctionData("startClose", [broker.address]));
      await time.increase(CHALLENGE_PERIOD);
      await registerHooks(token, party);
      const finish = channels.interface.encodeFunctionData("finishClose", [broker.address]);
      await party.setReentry(finish);
      await party.act(finish);
      expect(await party.reentrySucceeded()).to.equal(false);
      expect(await party.reentryRevert()).to.equal(channels.interface.encodeErrorResult("ChannelNotClosing", [payer, broker.address]));
      expect(await token.balanceOf(payer)).to.equal(10n * DATA);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(0n);
    });

    it("a payer that deposits again from the deposit's hook is credited exactly what it paid", async () => {
      const { token, channels, party } = await hooked();
      const payer = await party.getAddress();
      const [, , broker] = await ethers.getSigners();
      await token.transfer(payer, 10n * DATA);
      await party.approve(await token.getAddress(), 10n * DATA);
      await registerHooks(token, party);
      const deposit = channels.interface.encodeFunctionData("deposit", [broker.address, 3n * DATA]);
      await party.setReentry(deposit);
      await party.act(deposit);
      expect(await party.reentrySucceeded()).to.equal(true);
      expect((await channels.channel(payer, broker.address)).deposited).to.equal(6n * DATA);
      expect(await token.balanceOf(await channels.getAddress())).to.equal(6n * DATA);
      expect(await token.balanceOf(payer)).to.equal(4n * DATA);
    });
  });
});

async function registerHooks(token: HookERC20, party: ReentrantChannelParty): Promise<void> {
  await party.registerHooks(await token.getAddress());
  expect(await token.hooked(await party.getAddress())).to.equal(true);
}
