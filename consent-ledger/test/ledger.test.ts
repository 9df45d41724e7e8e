// The in-process peer behaves as a Fabric peer where it matters: committed-state reads only, MVCC and
// phantom validation, LevelDB key order, pagination, history, private data, identities, one event per tx.
import { expect } from "chai";
import { fabric } from "../src";
import { ProbeContract } from "./probe";

const { CertificateAuthority, InProcessPeer, connect, EndorseError, CommitError, TxValidationCode } = fabric;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("in-process Fabric peer", () => {
  let peer: fabric.InProcessPeer;
  let org1: fabric.CertificateAuthority;
  let contract: fabric.Contract;
  let alice: fabric.EnrolledIdentity;

  beforeEach(async () => {
    peer = new InProcessPeer({ channelName: "mychannel" });
    org1 = await CertificateAuthority.create("Org1MSP");
    peer.addOrganisation(org1);
    peer.deployChaincode({ name: "probe", contracts: [ProbeContract], collections: [{ name: "secrets", memberMspIds: ["Org1MSP"], blockToLive: 2 }] });
    alice = await org1.enroll("alice", { role: "tester" });
    contract = connect(peer, alice).getNetwork("mychannel").getContract("probe", "probe");
  });

  it("runs the real fabric-shim stub with the caller's X.509 identity, MSP id, attributes and the proposal timestamp", async () => {
    const clock = () => Date.UTC(2030, 0, 1, 12, 0, 0);
    const who = JSON.parse(text(await connect(peer, alice, clock).getNetwork("mychannel").getContract("probe", "probe").evaluateTransaction("Whoami")));
    expect(who).to.deep.equal({
      mspId: "Org1MSP",
      role: "tester",
      seconds: Date.UTC(2030, 0, 1, 12) / 1000,
      id: "x509::/CN=alice/OU=client/O=Org1/C=DE::/CN=ca.org1.example.com/O=Org1/C=DE",
    });
    expect(fabric.fabricClientId(alice.certificatePem)).to.equal(who.id);
  });

  it("does not show a transaction its own writes", async () => {
    await contract.submitTransaction("Put", "k", "committed");
    expect(text(await contract.submitTransaction("PutThenGet", "k", "pending"))).to.equal("committed");
    expect(text(await contract.submitTransaction("PutThenGet", "fresh", "pending"))).to.equal("");
    expect(text(await contract.evaluateTransaction("Get", "k"))).to.equal("pending");
  });

  it("invalidates the second of two transactions that read and write the same key (MVCC_READ_CONFLICT)", async () => {
    await contract.submitTransaction("Increment", "counter");
    const first = await contract.newProposal("Increment", { arguments: ["counter"] }).endorse();
    const second = await contract.newProposal("Increment", { arguments: ["counter"] }).endorse();
    expect(text(first.getResult())).to.equal("2");
    expect(text(second.getResult())).to.equal("2");
    const firstStatus = await (await first.submit()).getStatus();
    const secondStatus = await (await second.submit()).getStatus();
    expect(firstStatus).to.deep.include({ successful: true, code: TxValidationCode.VALID });
    expect(secondStatus).to.deep.include({ successful: false, code: TxValidationCode.MVCC_READ_CONFLICT });
    expect(secondStatus.blockNumber).to.equal(firstStatus.blockNumber + 1n);
    expect(text(await contract.evaluateTransaction("Get", "counter"))).to.equal("2");
  });

  it("throws CommitError from submit when the transaction is invalidated", async () => {
    const pending = await contract.newProposal("Increment", { arguments: ["c2"] }).endorse();
    await contract.submitTransaction("Increment", "c2");
    try {
      await (await pending.submit()).getStatus().then((status) => {
        if (!status.successful) throw new CommitError(status.code, status.transactionId);
      });
      expect.fail("expected a CommitError");
    } catch (error) {
      expect(error).to.be.instanceOf(CommitError);
      expect((error as InstanceType<typeof CommitError>).code).to.equal(TxValidationCode.MVCC_READ_CONFLICT);
      expect((error as Error).message).to.contain("MVCC_READ_CONFLICT");
    }
  });

  it("invalidates a transaction whose range read changed before commit (PHANTOM_READ_CONFLICT)", async () => {
    await contract.submitTransaction("PutComposite", "member", "ds1", "s1", "x");
    const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
    await contract.submitTransaction("PutComposite", "member", "ds1", "s2", "x");
    const status = await (await counting.submit()).getStatus();
    expect(status.code).to.equal(TxValidationCode.PHANTOM_READ_CONFLICT);
  });

  it("refuses to commit the same transaction twice (DUPLICATE_TXID) and to endorse a committed one", async () => {
    const proposal = contract.newProposal("Put", { arguments: ["d", "1"] });
    const transaction = await proposal.endorse();
    expect((await (await transaction.submit()).getStatus()).successful).to.equal(true);
    expect((await (await transaction.submit()).getStatus()).code).to.equal(TxValidationCode.DUPLICATE_TXID);
    try {
      await proposal.endorse();
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect((error as Error).message).to.contain("duplicate transaction found");
    }
  });

  it("executes the same signed proposal twice to byte-identical read/write sets", async () => {
    await contract.submitTransaction("PutComposite", "member", "ds1", "s1", "x");
    await contract.submitTransaction("Put", "other", "y");
    const proposal = contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] });
    const a = await peer.endorse(await proposal.getSignedProposal());
    const b = await peer.endorse(await proposal.getSignedProposal());
    expect(a.readWriteSet.length).to.be.greaterThan(50);
    expect(Buffer.compare(Buffer.from(a.readWriteSet), Buffer.from(b.readWriteSet))).to.equal(0);
    expect(Buffer.from(a.response.payload).equals(Buffer.from(b.response.payload))).to.equal(true);
  });

  it("orders keys as LevelDB does and keeps composite keys out of plain ranges", async () => {
    for (const key of ["b", "a", "\uffff", "\u{1F600}", "a1"]) {
      await contract.submitTransaction("Put", key, "v");
    }
    await contract.submitTransaction("PutComposite", "member", "ds1", "s1", "x");
    expect(JSON.parse(text(await contract.evaluateTransaction("Range", "", "")))).to.deep.equal(["a", "a1", "b", "\uffff", "\u{1F600}"]);
    expect(JSON.parse(text(await contract.evaluateTransaction("Range", "a", "b")))).to.deep.equal(["a", "a1"]);
    expect(fabric.compareUtf8("\uffff", "\u{1F600}")).to.be.lessThan(0);
  });

  it("pages through a composite-key range with bookmarks, across result batches", async () => {
    const total = fabric.MAX_RESULTS_PER_BATCH + 30;
    const subjects = Array.from({ length: total }, (_, i) => `s${i.toString().padStart(4, "0")}`);
    for (let i = 0; i < subjects.length; i += 1) {
      await contract.submitTransaction("PutComposite", "member", "ds1", subjects[i], "x");
    }
    await contract.submitTransaction("PutComposite", "member", "ds2", "zz", "x");
    const seen: string[] = [];
    let bookmark = "";
    do {
      const page = JSON.parse(text(await contract.evaluateTransaction("Page", "member", "ds1", "120", bookmark)));
      seen.push(...page.keys);
      expect(page.count).to.equal(page.keys.length);
      bookmark = page.bookmark;
    } while (bookmark !== "");
    expect(seen).to.deep.equal(subjects.map((s) => `ds1/${s}`));
    expect(text(await contract.submitTransaction("CountInto", "member", "ds1", "n"))).to.equal(String(total));
  });

  it("refuses writes after a paginated query, as a peer does", async () => {
    try {
      await contract.submitTransaction("PageThenWrite");
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect(error).to.be.instanceOf(EndorseError);
      expect((error as Error).message).to.contain("Transaction has already performed a paginated query. Writes are not allowed");
    }
  });

  it("answers rich queries as LevelDB does: not supported", async () => {
    try {
      await contract.evaluateTransaction("RichQuery");
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect((error as Error).message).to.contain("ExecuteQuery not supported for leveldb");
    }
  });

  it("keeps the history of a key, newest first, including deletes", async () => {
    await contract.submitTransaction("Put", "h", "one");
    await contract.submitTransaction("Put", "h", "two");
    await contract.submitTransaction("Delete", "h");
    const history = JSON.parse(text(await contract.evaluateTransaction("History", "h")));
    expect(history.map((entry: { value: string; isDelete: boolean }) => [entry.value, entry.isDelete])).to.deep.equal([
      ["", true],
      ["two", false],
      ["one", false],
    ]);
    expect(text(await contract.evaluateTransaction("Get", "h"))).to.equal("");
  });

  it("keeps private data off the channel: hashes in the read/write set, values to members only, purged after blockToLive", async () => {
    const proposal = contract.newProposal("PutPrivate", { arguments: ["secrets", "p1"], transientData: { value: "top secret" } });
    const transaction = await proposal.endorse();
    expect(Buffer.from(transaction.endorsement.readWriteSet).includes(Buffer.from("top secret"))).to.equal(false);
    expect(Buffer.from(proposal.getBytes()).includes(Buffer.from("top secret"))).to.equal(true); // transient, never committed
    await (await transaction.submit()).getStatus();
    expect(text(await contract.evaluateTransaction("GetPrivate", "secrets", "p1"))).to.equal("top secret");
    const hash = text(await contract.evaluateTransaction("GetPrivateHash", "secrets", "p1"));
    expect(hash).to.equal(Buffer.from(fabric.sha256Digest(Buffer.from("top secret"))).toString("hex"));
    const org2 = await CertificateAuthority.create("Org2MSP");
    peer.addOrganisation(org2);
    const outsider = connect(peer, await org2.enroll("bob"))
      .getNetwork("mychannel")
      .getContract("probe", "probe");
    try {
      await outsider.evaluateTransaction("GetPrivate", "secrets", "p1");
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect((error as Error).message).to.contain("does not have read access permission");
    }
    expect(text(await outsider.evaluateTransaction("GetPrivateHash", "secrets", "p1"))).to.equal(hash);
    // blockToLive 2: committed in block b, purged once block b + 3 is committed
    for (let i = 0; i < 3; i++) {
      await contract.submitTransaction("Put", `filler${i}`, "x");
    }
    expect(text(await contract.evaluateTransaction("GetPrivate", "secrets", "p1"))).to.equal("");
  });

  it("refuses proposals from unknown MSPs, certificates of another CA and bad signatures", async () => {
    const stranger = await CertificateAuthority.create("StrangerMSP");
    const mallory = await stranger.enroll("mallory");
    const expectEndorseError = async (run: () => Promise<unknown>, part: string) => {
      try {
        await run();
        expect.fail("expected an EndorseError");
      } catch (error) {
        expect(error).to.be.instanceOf(EndorseError);
        expect((error as Error).message).to.contain(part);
      }
    };
    await expectEndorseError(
      () => connect(peer, mallory).getNetwork("mychannel").getContract("probe", "probe").evaluateTransaction("Whoami"),
      "StrangerMSP is not a member",
    );
    const forged = { ...mallory, mspId: "Org1MSP" };
    await expectEndorseError(
      () => connect(peer, forged).getNetwork("mychannel").getContract("probe", "probe").evaluateTransaction("Whoami"),
      "not issued by Org1MSP",
    );
    const wrongKey = { ...alice, signer: mallory.signer, signMessage: mallory.signMessage };
    await expectEndorseError(
      () => connect(peer, wrongKey).getNetwork("mychannel").getContract("probe", "probe").evaluateTransaction("Whoami"),
      "signature over the proposal is not valid",
    );
    await expectEndorseError(() => connect(peer, alice).getNetwork("mychannel").getContract("nothing").evaluateTransaction("X"), "chaincode nothing not found");
  });

  it("fails a proposal whose chaincode runs past the execution timeout, and answers its late requests", async () => {
    const slowPeer = new InProcessPeer({ channelName: "mychannel", executeTimeoutMs: 100 });
    slowPeer.addOrganisation(org1);
    slowPeer.deployChaincode({ name: "probe", contracts: [ProbeContract] });
    const slow = connect(slowPeer, alice).getNetwork("mychannel").getContract("probe", "probe");
    try {
      await slow.evaluateTransaction("SlowGet", "300", "k");
      expect.fail("expected an EndorseError");
    } catch (error) {
      expect(error).to.be.instanceOf(EndorseError);
      expect((error as Error).message).to.contain("timeout expired while executing transaction");
    }
    // the chaincode's late getState (300 ms in) is answered with an error: waited for, not slept on
    for (let i = 0; i < 500 && !ProbeContract.lateErrors.some((message) => message.includes("not found")); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(ProbeContract.lateErrors.some((message) => message.includes("not found"))).to.equal(true);
    expect(text(await slow.evaluateTransaction("SlowGet", "1", "k"))).to.equal("");
  });

  it("evaluates key-level endorsement policies as fabric-shim's KeyEndorsementPolicy writes them", () => {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { KeyEndorsementPolicy } = require("fabric-shim");
    const both = new KeyEndorsementPolicy();
    both.addOrgs("MEMBER", "Org1MSP", "Org2MSP");
    const policy = both.getPolicy();
    expect(fabric.policySatisfied(policy, new Set(["Org1MSP"]))).to.equal(false);
    expect(fabric.policySatisfied(policy, new Set(["Org1MSP", "Org2MSP", "Org3MSP"]))).to.equal(true);
    const peerRole = new KeyEndorsementPolicy();
    peerRole.addOrgs("PEER", "Org3MSP");
    expect(fabric.policySatisfied(peerRole.getPolicy(), new Set(["Org3MSP"]))).to.equal(true);
    expect(fabric.policySatisfied(peerRole.getPolicy(), new Set(["Org1MSP"]))).to.equal(false);
  });

  it("delivers one chaincode event per transaction (the last one set), for valid transactions only, replayable from a block", async () => {
    const network = connect(peer, alice).getNetwork("mychannel");
    await contract.submitTransaction("Emit", "first", "second");
    const stale = await contract.newProposal("Emit", { arguments: ["x", "stale"] }).endorse();
    await contract.submitTransaction("Emit", "a", "third");
    expect((await (await stale.submit()).getStatus()).successful).to.equal(false);
    const events = await network.getChaincodeEvents("probe", { startBlock: 0n });
    const received: Array<[string, string]> = [];
    for await (const event of events) {
      received.push([event.eventName, text(event.payload)]);
      if (received.length === 2) break;
    }
    events.close();
    expect(received).to.deep.equal([
      ["second", "two"],
      ["third", "two"],
    ]);
  });
});
