// The worked example of docs/network.md §10, step by step, with its exact figures.
import { expect } from "chai";
import { ethers } from "hardhat";
import { DATA, EPOCH, Outcome, Status, commitment, deployCoordinator, fund, register, toPhase } from "./fixtures";
import { networkPartitionOf, streamPartitionKey } from "@datamarket/protocol";

describe("docs/network.md worked example", () => {
  it("runs as documented", async () => {
    const { token, coordinator, admin } = await deployCoordinator(); // R 3, epoch 3600 s, P 4, 2 per broker
    const [, A, B, C, keeper, D] = await ethers.getSigners();
    await fund(token, coordinator, admin, DATA(1000));
    await coordinator.fundRewards(DATA(1000));

    // 1. Three brokers; the third grows P to 6 from epoch 1; 18 fill moves, 1 DATA each.
    await register(token, coordinator, A);
    await register(token, coordinator, B);
    await expect(register(token, coordinator, C))
      .to.emit(coordinator, "PartitionCountIncreased")
      .withArgs(6, 1);
    await expect(coordinator.connect(keeper).rebalance(50)).to.emit(coordinator, "Rebalanced").withArgs(keeper.address, 18, DATA(18));
    for (let p = 0; p < 6; p++) expect(await coordinator.assigneesOf(p)).to.have.length(3);
    await expect(coordinator.connect(keeper).rebalance(50)).not.to.emit(coordinator, "Rebalanced");

    // 2. The heart-rate stream's partitions 1 and 0.
    const stream = ethers.keccak256(ethers.solidityPacked(["address", "string"], ["0x8ba1f109551bd432803012645ac136ddd64dba72", "/health/heart-rate"]));
    expect(stream).to.equal("0x27e6686651c1f9b2150160c7e6f5b8154d06522c8c676f783d9d3c232649c2d6");
    expect(streamPartitionKey(stream, 1)).to.equal(0xcfe1ee599ffda3a3n);
    expect([4, 6, 8].map((n) => networkPartitionOf(stream, 1, n))).to.deep.equal([3, 4, 6]);
    expect(streamPartitionKey(stream, 0)).to.equal(0xd7193cd841efad90n);
    expect([4, 6, 8, 10].map((n) => networkPartitionOf(stream, 0, n))).to.deep.equal([3, 3, 3, 3]);
    expect(await coordinator.networkPartitionOf(stream, 1)).to.equal(3); // epoch 0: P = 4

    // 3.-5. Reports for epoch 0, network partition 3: A and B agree, C deviates; 2/3 < 90 %.
    const X = ethers.id("X");
    const Y = ethers.id("Y");
    const salt = ethers.id("salt");
    const reports = new Map([
      [A.address, [1500n, X]],
      [B.address, [1500n, X]],
      [C.address, [1499n, Y]],
    ] as [string, [bigint, string]][]);
    await toPhase(coordinator, 0n, "commit");
    for (const s of [A, B, C]) {
      const [count, checksum] = reports.get(s.address)!;
      await coordinator.connect(s).commitReport(0, 3, commitment(0, 3, count, checksum, salt, s.address));
    }
    expect((await coordinator.roundState(0, 3))[1]).to.equal(3); // roster [A, B, C]
    await toPhase(coordinator, 0n, "reveal");
    for (const s of [A, B, C]) {
      const [count, checksum] = reports.get(s.address)!;
      await coordinator.connect(s).revealReport(0, 3, count, checksum, salt);
    }
    await toPhase(coordinator, 0n, "final");
    await expect(coordinator.finalizeRound(0, 3)).to.emit(coordinator, "RoundFinalized").withArgs(0, 3, Outcome.NoAgreement, 0, ethers.ZeroHash, 0, 0);
    expect((await coordinator.brokerState(C.address)).reputation).to.equal(4000);
    expect((await coordinator.brokerState(A.address)).reputation).to.equal(5000);

    // 6. C signed (1500, X) off chain too: slashed 50 %, 10 % of that to the prover, suspended,
    //    drained to D.
    const { chainId } = await ethers.provider.getNetwork();
    const domain = { name: "NetworkCoordinator", version: "1", chainId, verifyingContract: await coordinator.getAddress() };
    const types = {
      BrokerReport: [
        { name: "epoch", type: "uint64" },
        { name: "partition", type: "uint32" },
        { name: "eventCount", type: "uint64" },
        { name: "checksum", type: "bytes32" },
      ],
    };
    const signed = async (eventCount: bigint, checksum: string) => ({
      eventCount,
      checksum,
      signature: await C.signTypedData(domain, types, { epoch: 0, partition: 3, eventCount, checksum }),
    });
    await register(token, coordinator, D);
    await expect(coordinator.connect(A).slashConflictingReports(C.address, 0, 3, await signed(1500n, X), await signed(1499n, Y)))
      .to.emit(coordinator, "BrokerSlashed")
      .withArgs(C.address, 0, 3, DATA(500), A.address, DATA(50));
    expect((await coordinator.brokerState(C.address)).status).to.equal(Status.Suspended);
    while ((await coordinator.rebalance.staticCall(50)) > 0n) await coordinator.rebalance(50);
    expect(await coordinator.partitionsOf(C.address)).to.deep.equal([]);
    expect(await coordinator.isAssigned(3, D.address)).to.equal(true);
    expect(await coordinator.epochLength()).to.equal(EPOCH);
  });
});
