// Gas scenario for the payment channels (docs/network.md §14) and the stream names (docs/contracts.md §7).
// The bar: redeeming a voucher costs <= 60,000 gas however many events it covers. A voucher is one
// signature over a cumulative amount, so the redemption of a voucher that covers 1 event and of one
// that covers 1,000,000 run the same code; both are measured, and must be equal.
import { ethers } from "hardhat";
import { deployFoundation, gasOf } from "../test/helpers/foundation";
import { deployChannels, signVoucher } from "../test/helpers/channels";
import { deployEns } from "../test/helpers/ens";

const REDEEM_BAR = 60_000n;

export default async function (record: (operation: string, gasUsed: bigint) => void): Promise<void> {
  const [admin, payer, broker, freshBroker, kraken] = await ethers.getSigners();
  const { token, registry } = await deployFoundation(admin);
  const channels = await deployChannels(await token.getAddress());
  const channelsAddress = await channels.getAddress();
  const unit = 10n ** 18n;
  const pricePerEvent = 10n ** 12n; // 0.000001 DATA an event
  await token.mint(payer.address, 1_000_000n * unit);
  await token.mint(broker.address, unit); // a broker that holds DATA already (the usual case)
  await token.connect(payer).approve(channelsAddress, ethers.MaxUint256);

  record("PaymentChannels::deposit(open)", await gasOf(channels.connect(payer).deposit(broker.address, 1_000n * unit)));
  record("PaymentChannels::deposit(top-up)", await gasOf(channels.connect(payer).deposit(broker.address, 1_000n * unit)));
  const data = ethers.AbiCoder.defaultAbiCoder().encode(["address"], [broker.address]);
  record(
    "PaymentChannels::transferAndCall-deposit(top-up)",
    await gasOf(token.connect(payer)["transferAndCall(address,uint256,bytes)"](channelsAddress, unit, data)),
  );

  // Gas beyond the calldata's (4 a zero byte, 16 another): a larger amount has more non-zero bytes.
  const calldataGas = (data: string) => ethers.getBytes(data).reduce((sum, byte) => sum + (byte === 0 ? 4n : 16n), 0n);
  const redeem = async (label: string, who: typeof broker, events: bigint, alreadyCovered: bigint) => {
    const amount = (alreadyCovered + events) * pricePerEvent;
    const signature = await signVoucher(channels, payer, who.address, 0, amount);
    const tx = channels.connect(who).redeem(payer.address, 0, amount, signature);
    const gas = await gasOf(tx);
    if (gas > REDEEM_BAR) throw new Error(`${label}: ${gas} gas, above the bar of ${REDEEM_BAR}`);
    record(label, gas);
    return gas - calldataGas((await tx).data);
  };
  const first = await redeem("PaymentChannels::redeem(first voucher, 1 event)[bar<=60000]", broker, 1n, 0n);
  const small = await redeem("PaymentChannels::redeem(1 event)[bar<=60000]", broker, 1n, 1n);
  const large = await redeem("PaymentChannels::redeem(1,000,000 events)[bar<=60000]", broker, 1_000_000n, 2n);
  if (small !== large) throw new Error(`a redemption's execution cost depends on what it covers: ${small} vs ${large}`);
  void first;
  // A broker whose first DATA ever this is pays the token's new-holder write (+17,100): a one-off.
  await channels.connect(payer).deposit(freshBroker.address, unit);
  const amount = 1_000n * pricePerEvent;
  const signature = await signVoucher(channels, payer, freshBroker.address, 0, amount);
  record("PaymentChannels::redeem(broker's first DATA ever)", await gasOf(channels.connect(freshBroker).redeem(payer.address, 0, amount, signature)));

  record("PaymentChannels::startClose", await gasOf(channels.connect(payer).startClose(broker.address)));
  await ethers.provider.send("evm_increaseTime", [86_400]);
  record("PaymentChannels::finishClose(refund)", await gasOf(channels.connect(payer).finishClose(broker.address)));

  // Stream names on the real ENS registry and public resolver.
  const ens = await deployEns(admin);
  const names = await ethers.deployContract("StreamNames", [await ens.registry.getAddress(), ethers.ZeroAddress, await registry.getAddress()]);
  await ens.claim("kraken.eth", kraken.address);
  await ens.registry.connect(kraken).getFunction("setSubnodeOwner")(ethers.namehash("kraken.eth"), ethers.id("heart-rate"), kraken.address);
  await registry.connect(kraken).createStream("/health/heart-rate", 1, "{}");
  const streamId = await registry.resourceId(kraken.address, "/health/heart-rate");
  record(
    "StreamNames::setName(heart-rate.kraken.eth, by the ENS owner)",
    await gasOf(names.connect(kraken).getFunction("setName")("heart-rate.kraken.eth", streamId)),
  );
  const node = ethers.namehash("heart-rate.kraken.eth");
  record("StreamNames::resolve(eth_call)", await names.getFunction("resolve").estimateGas(node));
}
