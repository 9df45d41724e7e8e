// Paying brokers (docs/sdk.md, "Paying brokers") and stream names (docs/contracts.md §7), on the
// protocol deployed by the repository's deploy task (Hardhat in-process; "ens": "local" deploys the ENS
// registry and public resolver from npm): the VoucherSigner signs what a broker asks within its limit,
// a DataClient with it publishes through a broker that charges, and the broker redeems what it signed;
// resolveStreamName turns `heart-rate.kraken.eth` into the stream id.
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import hre from "hardhat";
import type {} from "@nomicfoundation/hardhat-ethers/internal/type-extensions";
import { Wallet, namehash, id as keccakId, recoverAddress, type Signer } from "ethers";
import {
  ChainFollower,
  DEFAULT_CONFIG,
  InMemoryAccessGate,
  InMemoryStreamIndex,
  contractPayments,
  paymentTerms,
  startBroker,
  streamIdOf,
} from "@datamarket/broker";
import { DataClient } from "../src/client/DataClient";
import { WsTransport } from "../src/client/transport";
import { VoucherSigner, type VoucherRequest } from "../src/client/payments";
import { StreamNamesClient, normalizeStreamName, resolveStreamName } from "../src/wallet/StreamNames";
import { SdkErrorCodes, type SdkError } from "../src/errors";
import { IPaymentChannels__factory, DATAToken__factory } from "@datamarket/contracts/typechain";
import { deployedProtocol, type DeployedProtocol } from "./chain";

async function refusal(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  expect.fail("expected a refusal");
}

async function funded(): Promise<Wallet> {
  const wallet = Wallet.createRandom().connect(hre.ethers.provider);
  const [admin] = await hre.ethers.getSigners();
  await (await admin.sendTransaction({ to: wallet.address, value: 10n ** 19n })).wait();
  return wallet as unknown as Wallet;
}

describe("paying brokers and stream names", function () {
  this.timeout(120_000);
  let deployed: DeployedProtocol;
  before(async () => {
    deployed = await deployedProtocol();
  });

  describe("VoucherSigner", () => {
    function request(payer: string, amount: bigint, over: Partial<VoucherRequest> = {}): VoucherRequest {
      return {
        type: "voucherRequest",
        channels: deployed.record.contracts.PaymentChannels.address,
        chainId: 31337,
        broker: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
        payer,
        generation: 0,
        amount: String(amount),
        owed: String(amount),
        paid: "0",
        ...over,
      };
    }

    it("signs the voucher the contract checks, within its limit, and never below what it signed", async () => {
      const wallet = Wallet.createRandom();
      const payer = wallet.address.toLowerCase();
      const signer = new VoucherSigner(wallet, { maxAmount: 1_000n, chainId: 31337 });
      const v = await signer.answer(request(payer, 400n));
      const channels = IPaymentChannels__factory.connect(deployed.record.contracts.PaymentChannels.address, hre.ethers.provider);
      const digest = await channels.voucherDigest(payer, "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", 0, 400n);
      expect(recoverAddress(digest, v.signature)).to.equal(wallet.address);
      // A lower request (a broker that restarted) gets the higher voucher again, not a new one.
      expect(await signer.answer(request(payer, 100n))).to.deep.equal(v);
      expect(signer.signedFor(deployed.record.contracts.PaymentChannels.address, "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", 0)).to.equal(400n);
      const over = await refusal(signer.answer(request(payer, 1_001n)));
      expect(over.code).to.equal(SdkErrorCodes.PAYMENT_LIMIT);
      expect(over.details).to.include({ amount: "1001", maxAmount: "1000" });
      expect((await refusal(signer.answer(request(Wallet.createRandom().address, 1n)))).code).to.equal(SdkErrorCodes.INVALID_ARGUMENT);
      expect((await refusal(signer.answer(request(payer, 1n, { chainId: 1 })))).code).to.equal(SdkErrorCodes.INVALID_ARGUMENT);
    });
  });

  describe("a DataClient paying a broker that charges", () => {
    it("publishes through voucher periods without a refusal; the broker redeems what the client signed", async () => {
      const [admin] = await hre.ethers.getSigners();
      const channelsAddress = deployed.record.contracts.PaymentChannels.address;
      const token = DATAToken__factory.connect(deployed.record.contracts.DATAToken.address, admin);
      const operator = await funded();
      const publisher = await funded();
      await (await token.mint(publisher.address, 10n ** 18n)).wait();
      await (await token.connect(publisher as unknown as Signer).approve(channelsAddress, 10n ** 18n)).wait();
      await (await IPaymentChannels__factory.connect(channelsAddress, publisher as unknown as Signer).deposit(operator.address, 10n ** 18n)).wait();

      const dir = mkdtempSync(path.join(tmpdir(), "sdk-payments-"));
      const follower = new ChainFollower(hre.ethers.provider, { pollMs: 50, fromBlock: await hre.ethers.provider.getBlockNumber() });
      const broker = operator.address.toLowerCase();
      const price = 10n ** 12n;
      const terms = paymentTerms({ publishPrice: String(price), voucherPeriodEvents: 10 });
      const payments = contractPayments({ terms, channels: channelsAddress, operator, follower, chainId: 31337, logger: pino({ level: "silent" }) });
      await follower.start();
      const gate = new InMemoryAccessGate();
      const index = new InMemoryStreamIndex();
      const streamId = streamIdOf(publisher.address.toLowerCase(), "/paid");
      index.apply({ type: "created", stream: { id: streamId, creator: publisher.address.toLowerCase(), path: "/paid", partitions: 1, metadata: {} } });
      gate.grantPublish(streamId, publisher.address.toLowerCase());
      gate.makePublic(streamId);
      const running = await startBroker(
        { ...structuredClone(DEFAULT_CONFIG), host: "127.0.0.1", wsPort: 0, httpPort: 0, dataDir: dir },
        { gate, streams: index, payments, logger: pino({ level: "silent" }) },
      );
      const vouchers = new VoucherSigner(publisher, { maxAmount: 10n ** 16n });
      const client = new DataClient({
        signer: publisher,
        access: { canPublish: (s, a) => gate.canPublish(s, a), canSubscribe: async () => true, encryptionKeyOf: async () => null, isPublic: async () => true },
        connect: () => WsTransport.connect({ url: `ws://127.0.0.1:${running.wsPort}`, signer: publisher }),
        payments: vouchers,
      });
      try {
        for (let i = 0; i < 35; i++) await client.publish(streamId, { n: i }, { encrypt: false });
        const paid = () => payments.ledger.state(publisher.address.toLowerCase())!.paid;
        // a liveness bound: the vouchers' round trips take longer on a loaded machine
        const deadline = Date.now() + 30_000;
        while (paid() < 30n * price && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(payments.stats.vouchersAccepted).to.be.at.least(6);
        expect(payments.stats.vouchersRefused).to.equal(0);
        const signed = vouchers.signedFor(channelsAddress, broker, 0);
        expect(paid()).to.equal(signed);
        const before = await token.balanceOf(operator.address);
        await payments.redeemDue(true);
        expect(await token.balanceOf(operator.address)).to.equal(before + signed);
      } finally {
        await client.close();
        follower.stop();
        await running.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("stream names", () => {
    it("resolves a name the stream's owner set, normalises it as ENS does, and says why a name does not resolve", async () => {
      const [admin] = await hre.ethers.getSigners();
      const kraken = await funded();
      const c = deployed.record.contracts;
      const ens = await hre.ethers.getContractAt("ENSRegistry", c.ENSRegistry!.address, admin);
      // The deployer owns the local ENS root: it hands out eth and kraken.eth; Kraken creates its subname.
      const setSubnodeOwner = (who: Signer, parent: string, label: string, owner: string) =>
        (ens.connect(who) as typeof ens)
          .getFunction("setSubnodeOwner")(parent, keccakId(label), owner)
          .then((tx) => tx.wait());
      await setSubnodeOwner(admin, hre.ethers.ZeroHash, "eth", admin.address);
      await setSubnodeOwner(admin, namehash("eth"), "kraken", kraken.address);
      await setSubnodeOwner(kraken as unknown as Signer, namehash("kraken.eth"), "heart-rate", kraken.address);
      const registry = await hre.ethers.getContractAt("StreamRegistry", c.StreamRegistry.address, kraken as unknown as Signer);
      await (await registry.createStream("/health/heart-rate", 1, "{}")).wait();
      const streamId = streamIdOf(kraken.address.toLowerCase(), "/health/heart-rate");

      const names = new StreamNamesClient(c.StreamNames.address, kraken as unknown as Signer);
      await names.setName("heart-rate.kraken.eth", streamId);
      expect(await resolveStreamName(hre.ethers.provider, c.StreamNames.address, "heart-rate.kraken.eth")).to.equal(streamId);
      expect(await resolveStreamName(hre.ethers.provider, c.StreamNames.address, "Heart-Rate.Kraken.ETH")).to.equal(streamId);
      expect(normalizeStreamName("Heart-Rate.Kraken.ETH")).to.equal("heart-rate.kraken.eth");

      const unset = await refusal(resolveStreamName(hre.ethers.provider, c.StreamNames.address, "other.kraken.eth"));
      expect(unset.code).to.equal(SdkErrorCodes.NAME_NOT_FOUND);
      expect(unset.details).to.include({ reason: "NameNotSet", name: "other.kraken.eth" });
      // Kraken gives the name away: the record no longer resolves.
      await (await (ens.connect(kraken as unknown as Signer) as typeof ens).getFunction("setOwner")(namehash("heart-rate.kraken.eth"), admin.address)).wait();
      const stale = await refusal(resolveStreamName(hre.ethers.provider, c.StreamNames.address, "heart-rate.kraken.eth"));
      expect(stale.details).to.include({ reason: "NameStale", streamId, owner: kraken.address.toLowerCase() });
      expect((await refusal(resolveStreamName(hre.ethers.provider, c.StreamNames.address, "kräken_x.eth"))).code).to.equal(SdkErrorCodes.INVALID_ARGUMENT);
    });
  });
});
