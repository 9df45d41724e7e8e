// The in-process peer orders transactions into blocks and validates them as a Fabric committer does:
// each transaction against the committed state and the valid transactions before it in its block, every
// range query re-run for phantom reads, large ranges recorded as Fabric's Merkle summary.
import { expect } from "chai";
import { ledger } from "@hyperledger/fabric-protos";
import { fabric } from "../src";
import { ProbeContract } from "./probe";

const { CertificateAuthority, InProcessPeer, connect, SubmitError, TxValidationCode } = fabric;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

/** The RangeQueryInfo list of a serialized TxReadWriteSet (first namespace). */
function rangeQueries(readWriteSet: Uint8Array): ledger.rwset.kvrwset.RangeQueryInfo[] {
  const tx = ledger.rwset.TxReadWriteSet.deserializeBinary(readWriteSet);
  return ledger.rwset.kvrwset.KVRWSet.deserializeBinary(tx.getNsRwsetList()[0].getRwset_asU8()).getRangeQueriesInfoList();
}

describe("in-process ordering service and committer", () => {
  let peer: fabric.InProcessPeer;
  let contract: fabric.Contract;

  const setUp = async (options: fabric.PeerOptions = {}) => {
    peer = new InProcessPeer({ channelName: "mychannel", ...options });
    const org1 = await CertificateAuthority.create("Org1MSP");
    peer.addOrganisation(org1);
    peer.deployChaincode({ name: "probe", contracts: [ProbeContract] });
    contract = connect(peer, await org1.enroll("alice"))
      .getNetwork("mychannel")
      .getContract("probe", "probe");
  };
  const members = async (count: number, group = "ds1") => {
    for (let i = 0; i < count; i += 1) {
      await contract.submitTransaction("PutComposite", "member", group, `s${i.toString().padStart(4, "0")}`, "x");
    }
  };

  beforeEach(() => setUp());

  it("puts transactions submitted together into one block and validates each against the ones before it", async () => {
    await contract.submitTransaction("Put", "counter", "1");
    const first = await contract.newProposal("Increment", { arguments: ["counter"] }).endorse();
    const second = await contract.newProposal("Increment", { arguments: ["counter"] }).endorse();
    const blind = await contract.newProposal("Put", { arguments: ["counter", "9"] }).endorse();
    const [a, b, c] = await Promise.all([first, second, blind].map(async (tx) => (await tx.submit()).getStatus()));
    expect(a.blockNumber).to.equal(b.blockNumber);
    expect(c.blockNumber).to.equal(a.blockNumber);
    expect(a.code).to.equal(TxValidationCode.VALID);
    // the second read the counter at the version before the block: the first's write conflicts with it
    expect(b.code).to.equal(TxValidationCode.MVCC_READ_CONFLICT);
    // a blind write (no read) never conflicts; the last valid write of the block wins
    expect(c.code).to.equal(TxValidationCode.VALID);
    expect(text(await contract.evaluateTransaction("Get", "counter"))).to.equal("9");
    expect(peer.state.namespace("probe").get("counter")?.version).to.deep.equal({ blockNum: Number(a.blockNumber), txNum: 2 });
  });

  it("re-runs a range query over the block's earlier writes: a key added before it in the same block is a phantom", async () => {
    await members(2);
    const adding = await contract.newProposal("PutComposite", { arguments: ["member", "ds1", "s0001a", "x"] }).endorse();
    const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
    const elsewhere = await contract.newProposal("PutComposite", { arguments: ["member", "ds2", "s0001a", "x"] }).endorse();
    const [added, counted, other] = await Promise.all([adding, counting, elsewhere].map(async (tx) => (await tx.submit()).getStatus()));
    expect(added.blockNumber).to.equal(counted.blockNumber);
    expect(added.code).to.equal(TxValidationCode.VALID);
    expect(counted.code).to.equal(TxValidationCode.PHANTOM_READ_CONFLICT);
    expect(other.code).to.equal(TxValidationCode.VALID);
  });

  it("records a range of more than 50 results as Fabric's Merkle summary, and still detects phantoms with it", async () => {
    await members(120);
    const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
    const [info] = rangeQueries(counting.endorsement.readWriteSet);
    expect(info.hasRawReads()).to.equal(false);
    const summary = info.getReadsMerkleHashes()!;
    // 120 reads: leaves of 51, 51 and 18 reads, three hashes at level 1
    expect([summary.getMaxDegree(), summary.getMaxLevel(), summary.getMaxLevelHashesList().length]).to.deep.equal([50, 1, 3]);
    expect(counting.endorsement.readWriteSet.length).to.be.lessThan(400);
    const unchanged = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total2"] }).endorse();
    await members(1, "ds2");
    expect((await (await unchanged.submit()).getStatus()).code).to.equal(TxValidationCode.VALID);
    // a new version of one key in the middle of the range changes its leaf hash
    await contract.submitTransaction("PutComposite", "member", "ds1", "s0060", "y");
    expect((await (await counting.submit()).getStatus()).code).to.equal(TxValidationCode.PHANTOM_READ_CONFLICT);
  });

  it("builds the Merkle summary as rwsetutil.RangeQueryResultsHelper does (groups of maxDegree + 1, hashed upwards)", () => {
    const reads = Array.from({ length: 7 }, (_, i) => ({ key: `k${i}`, version: { blockNum: 1, txNum: i } }));
    const leaf = (group: typeof reads) => {
      const query = new ledger.rwset.kvrwset.QueryReads();
      query.setKvReadsList(group.map(fabric.protoKvRead));
      return fabric.sha256Digest(query.serializeBinary());
    };
    const leaves = [leaf(reads.slice(0, 3)), leaf(reads.slice(3, 6)), leaf(reads.slice(6))];
    // maxDegree 2: three leaves exceed it, so they are combined one level up
    const summary = fabric.summarizeRangeReads(reads, 2);
    expect(summary.merkle?.maxLevel).to.equal(2);
    expect(summary.merkle?.maxLevelHashes.map((hash) => hash.toString("hex"))).to.deep.equal([
      Buffer.from(fabric.sha256Digest(Buffer.concat(leaves))).toString("hex"),
    ]);
    expect(fabric.summarizeRangeReads(reads.slice(0, 2), 2)).to.deep.equal({ raw: reads.slice(0, 2) });
    expect(fabric.sameRangeReads(summary, reads)).to.equal(true);
    expect(fabric.sameRangeReads(summary, [...reads.slice(0, 6), { key: "k6", version: { blockNum: 2, txNum: 0 } }])).to.equal(false);
    expect(fabric.sameRangeReads(summary, reads.slice(0, 2))).to.equal(false);
  });

  it("records a range the chaincode left early only up to the last key the peer fetched", async () => {
    await members(150);
    const first = await contract.newProposal("FirstInto", { arguments: ["member", "ds1", "first"] }).endorse();
    const [info] = rangeQueries(first.endorsement.readWriteSet);
    expect(info.getItrExhausted()).to.equal(false);
    // the peer sent a batch of 100 and read one more to set has_more: 101 keys, up to s0100
    expect(info.getEndKey()).to.contain("s0100");
    await contract.submitTransaction("PutComposite", "member", "ds1", "s0149a", "x");
    expect((await (await first.submit()).getStatus()).code).to.equal(TxValidationCode.VALID);
    const again = await contract.newProposal("FirstInto", { arguments: ["member", "ds1", "first"] }).endorse();
    await contract.submitTransaction("PutComposite", "member", "ds1", "s0050a", "x");
    expect((await (await again.submit()).getStatus()).code).to.equal(TxValidationCode.PHANTOM_READ_CONFLICT);
  });

  it("starves a transaction that range-scans a key range other transactions keep adding to (the phantom-read starvation)", async () => {
    await setUp({ batchTimeoutMs: 5 });
    await members(3);
    let appending = true;
    let appended = 0;
    const appenders = Array.from({ length: 4 }, async (_, worker) => {
      while (appending) {
        await contract.submitTransaction("PutComposite", "member", "ds1", `w${worker}-${appended++}`, "x");
      }
    });
    const outcomes: number[] = [];
    try {
      for (let attempt = 0; attempt < 10; attempt += 1) {
        const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
        outcomes.push((await (await counting.submit()).getStatus()).code);
      }
    } finally {
      appending = false;
      await Promise.all(appenders);
    }
    expect(outcomes.filter((code) => code === TxValidationCode.PHANTOM_READ_CONFLICT).length, JSON.stringify(outcomes)).to.be.at.least(9);
    // once the appends stop, the same transaction commits at its first try
    expect(text(await contract.submitTransaction("CountInto", "member", "ds1", "total"))).to.equal(String(3 + appended));
  });

  it("cuts a block at MaxMessageCount and refuses an envelope over AbsoluteMaxBytes at submit", async () => {
    await setUp({ maxMessageCount: 2, absoluteMaxBytes: 6_000 });
    const txs = await Promise.all(["a", "b", "c"].map((key) => contract.newProposal("Put", { arguments: [key, "v"] }).endorse()));
    const statuses = await Promise.all(txs.map(async (tx) => (await tx.submit()).getStatus()));
    expect(statuses.map((status) => status.successful)).to.deep.equal([true, true, true]);
    expect(statuses[1].blockNumber).to.equal(statuses[0].blockNumber);
    expect(statuses[2].blockNumber).to.equal(statuses[0].blockNumber + 1n);
    const big = await contract.newProposal("Put", { arguments: ["big", "x".repeat(8_000)] }).endorse();
    expect(big.getEnvelope().length).to.be.greaterThan(8_000);
    try {
      await big.submit();
      expect.fail("expected a SubmitError");
    } catch (error) {
      expect(error).to.be.instanceOf(SubmitError);
      expect((error as Error).message).to.contain("AbsoluteMaxBytes of 6000");
    }
  });
});
