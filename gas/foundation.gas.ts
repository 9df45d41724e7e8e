// Gas scenario for the foundation contracts: the DATA token and the stream registry.
import { ethers } from "hardhat";
import { deployFoundation, gasOf, signPermit } from "../test/helpers/foundation";

export default async function (record: (operation: string, gasUsed: bigint) => void): Promise<void> {
  const [admin, alice, bob, carol] = await ethers.getSigners();
  const { token, registry } = await deployFoundation(admin);
  const unit = 10n ** 18n;

  await token.mint(alice.address, 1_000n * unit);
  await token.mint(bob.address, 1n * unit);
  record("DATAToken::mint(new holder)", await gasOf(token.mint(carol.address, unit)));
  record("DATAToken::transfer(existing holder)", await gasOf(token.connect(alice).transfer(bob.address, unit)));
  const plain = await ethers.deployContract("PlainERC20", [alice.address, 1_000n * unit]);
  await plain.connect(alice).transfer(bob.address, unit);
  record("PlainERC20::transfer(existing holder) [reference]", await gasOf(plain.connect(alice).transfer(bob.address, unit)));
  const receiver = await ethers.deployContract("TokenReceiverMock");
  await token.connect(alice).transfer(await receiver.getAddress(), 1n);
  record(
    "DATAToken::transferAndCall(existing holder)",
    await gasOf(token.connect(alice)["transferAndCall(address,uint256,bytes)"](await receiver.getAddress(), unit, "0x")),
  );
  const permit = await signPermit(token, alice, bob.address, unit, ethers.MaxUint256);
  record("DATAToken::permit", await gasOf(token.permit(alice.address, bob.address, unit, ethers.MaxUint256, permit.v, permit.r, permit.s)));
  record("DATAToken::burn", await gasOf(token.connect(alice).burn(unit)));

  const metadata = JSON.stringify({ description: "heart rate, 1 Hz", unit: "bpm" });
  record("StreamRegistry::createStream(short path)", await gasOf(registry.connect(alice).createStream("/hr", 1, metadata)));
  const id = await registry.resourceId(alice.address, "/hr");
  record("StreamRegistry::createDataset", await gasOf(registry.connect(alice).createDataset("/labs", ethers.id("file"), "ipfs://bafy", metadata)));
  record("StreamRegistry::setPublishExpiry(new address)", await gasOf(registry.connect(alice).setPublishExpiry(id, bob.address, 2n ** 40n)));
  record("StreamRegistry::setSubscribeExpiry(new address)", await gasOf(registry.connect(alice).setSubscribeExpiry(id, carol.address, 2n ** 40n)));
  record(
    "StreamRegistry::setSubscribeExpiry(existing, by delegate)",
    await (async () => {
      await registry.connect(alice).setSubscribeDelegate(id, bob.address, true);
      return gasOf(registry.connect(bob).setSubscribeExpiry(id, carol.address, 2n ** 41n));
    })(),
  );
  const users = Array.from({ length: 10 }, (_, i) => ethers.getAddress(ethers.toBeHex(0x1000 + i, 20)));
  record(
    "StreamRegistry::setSubscribeExpiryBatch(10 new addresses)",
    await gasOf(
      registry.connect(alice).setSubscribeExpiryBatch(
        id,
        users,
        users.map(() => 2n ** 40n),
      ),
    ),
  );
  record(
    "StreamRegistry::setPermission(new address, all)",
    await gasOf(
      registry.connect(alice).setPermission(id, users[0].replace(/.$/, "f"), {
        publishExpiry: 2n ** 40n,
        subscribeExpiry: 2n ** 40n,
        canGrant: true,
        canEdit: true,
        canDelete: true,
        canGrantSubscribe: false,
      }),
    ),
  );
  const probe = await ethers.deployContract("AccessCheckProbe");
  const receipt = await (await probe.measureSubscribe(await registry.getAddress(), id, carol.address)).wait();
  const event = probe.interface.parseLog(receipt!.logs[0])!;
  // The figure only counts for the real answer: carol holds an unexpired subscribe permission.
  if (event.args.allowed !== true) throw new Error("canSubscribe answered false for a subscriber");
  record("StreamRegistry::canSubscribe(cold, from a contract)", event.args.gasUsed as bigint);
  const key = "0x02" + "11".repeat(32);
  record("StreamRegistry::registerEncryptionKey(first)", await gasOf(registry.connect(carol).registerEncryptionKey(key)));
  record("StreamRegistry::updateMetadata", await gasOf(registry.connect(alice).updateMetadata(id, metadata)));
  record("StreamRegistry::transferOwnership", await gasOf(registry.connect(alice).transferOwnership(id, bob.address)));
  record("StreamRegistry::acceptOwnership", await gasOf(registry.connect(bob).acceptOwnership(id)));
  record("StreamRegistry::deleteResource", await gasOf(registry.connect(bob).deleteResource(id)));
}
