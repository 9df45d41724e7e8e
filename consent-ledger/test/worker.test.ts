// The chaincode in worker threads (runtime "worker"), as a peer runs chaincode in a process of its own: the
// peer's validation (MVCC, phantom reads) and the chaincode's clock bound behave exactly as with the
// chaincode in the peer's thread. (CONSENT_LEDGER_CHAINCODE_RUNTIME=worker runs every other test this way.)
import { expect } from "chai";
import { ConsentClientError, InProcessConsentLedger, fabric } from "../src";
import { ProbeContract } from "./probe";

const { CertificateAuthority, InProcessPeer, connect, EndorseError, TxValidationCode } = fabric;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
const DAY = 86_400;

describe("chaincode in worker threads", () => {
  describe("two chaincode workers behind one peer", () => {
    let peer: fabric.InProcessPeer;
    let contract: fabric.Contract;

    before(async () => {
      peer = new InProcessPeer({ channelName: "mychannel" });
      const org1 = await CertificateAuthority.create("Org1MSP");
      peer.addOrganisation(org1);
      peer.deployChaincode({ name: "probe", contracts: [ProbeContract], module: require.resolve("./probe"), runtime: "worker", workers: 2 });
      contract = connect(peer, await org1.enroll("alice"))
        .getNetwork("mychannel")
        .getContract("probe", "probe");
    });

    after(() => peer.close());

    it("invalidates the second of two transactions endorsed at once that read and write the same key (MVCC_READ_CONFLICT)", async () => {
      await contract.submitTransaction("Increment", "counter");
      // endorsed concurrently: one by each worker
      const [first, second] = await Promise.all([1, 2].map(() => contract.newProposal("Increment", { arguments: ["counter"] }).endorse()));
      expect([text(first.getResult()), text(second.getResult())]).to.deep.equal(["2", "2"]);
      const firstStatus = await (await first.submit()).getStatus();
      const secondStatus = await (await second.submit()).getStatus();
      expect(firstStatus).to.deep.include({ successful: true, code: TxValidationCode.VALID });
      expect(secondStatus).to.deep.include({ successful: false, code: TxValidationCode.MVCC_READ_CONFLICT });
      expect(text(await contract.evaluateTransaction("Get", "counter"))).to.equal("2");
    });

    it("invalidates a transaction whose range read changed before commit (PHANTOM_READ_CONFLICT)", async () => {
      await contract.submitTransaction("PutComposite", "member", "ds1", "s1", "x");
      const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
      await contract.submitTransaction("PutComposite", "member", "ds1", "s2", "x");
      expect((await (await counting.submit()).getStatus()).code).to.equal(TxValidationCode.PHANTOM_READ_CONFLICT);
      const recount = await contract.newProposal("CountInto", { arguments: ["member", "ds1", "total"] }).endorse();
      expect(text(recount.getResult())).to.equal("2");
      expect((await (await recount.submit()).getStatus()).code).to.equal(TxValidationCode.VALID);
    });

    it("re-runs a range query over the earlier writes of the same block: a key added before it is a phantom", async () => {
      await contract.submitTransaction("PutComposite", "member", "ds2", "s1", "x");
      const adding = await contract.newProposal("PutComposite", { arguments: ["member", "ds2", "s2", "x"] }).endorse();
      const counting = await contract.newProposal("CountInto", { arguments: ["member", "ds2", "total2"] }).endorse();
      // submitted in the same turn: one block, the scan validated after the write before it
      const [added, counted] = await Promise.all([adding, counting].map(async (tx) => (await tx.submit()).getStatus()));
      expect(added.blockNumber).to.equal(counted.blockNumber);
      expect([added.code, counted.code]).to.deep.equal([TxValidationCode.VALID, TxValidationCode.PHANTOM_READ_CONFLICT]);
    });
  });

  describe("the consent chaincode in a worker", () => {
    let ledger: InProcessConsentLedger;

    before(async () => {
      ledger = await InProcessConsentLedger.create({ chaincodeRuntime: "worker" });
    });

    after(() => ledger.close());

    it("refuses a proposal timestamp outside the skew of the peer's clock, which the tests move, as the worker reads it", async () => {
      const identity = await ledger.enroll("HospitalMSP", "registrar", { "consent.role": "custodian" });
      const honest = ledger.client(identity);
      const ahead = ledger.client(identity, { clock: () => Date.now() + 20 * DAY * 1000 });
      const refusal = await ahead.registerResource("0x" + "31".repeat(32), "stream").then(
        () => null,
        (error: unknown) => error,
      );
      expect(refusal).to.be.instanceOf(ConsentClientError);
      expect((refusal as ConsentClientError).code).to.equal("TIMESTAMP_SKEW");
      expect((refusal as Error).message).to.contain("ahead of the endorsing peer's clock");
      await honest.registerResource("0x" + "32".repeat(32), "stream");

      // the peer's clock moves 20 days: the client 20 days ahead is now the honest one
      ledger.clock.advance(20 * DAY);
      await ahead.registerResource("0x" + "31".repeat(32), "stream");
      const late = await ledger
        .client(identity, { clock: () => Date.now() })
        .registerResource("0x" + "33".repeat(32), "stream")
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect((late as ConsentClientError).code).to.equal("TIMESTAMP_SKEW");
      expect((late as Error).message).to.contain("behind the endorsing peer's clock");
    });
  });

  it("fails the ledger's creation when the chaincode in its worker refuses to start, with the chaincode's reason", async () => {
    const failure = await InProcessConsentLedger.create({ chaincodeRuntime: "worker", chaincodeEnvironment: { CONSENT_MAX_CLOCK_SKEW_SECONDS: "0" } }).then(
      () => "",
      (error: Error) => error.message,
    );
    expect(failure).to.contain('CONSENT_MAX_CLOCK_SKEW_SECONDS must be a whole number of seconds in 1..86400, got "0"');
  });

  it("fails a proposal at endorsement once the chaincode worker is stopped", async () => {
    const peer = new InProcessPeer({ channelName: "mychannel" });
    const org1 = await CertificateAuthority.create("Org1MSP");
    peer.addOrganisation(org1);
    peer.deployChaincode({ name: "probe", contracts: [ProbeContract], module: require.resolve("./probe"), runtime: "worker" });
    const contract = connect(peer, await org1.enroll("bob"))
      .getNetwork("mychannel")
      .getContract("probe", "probe");
    await contract.submitTransaction("Put", "k", "v");
    await peer.close();
    const outcome = await contract.evaluateTransaction("Get", "k").then(
      () => null,
      (error: unknown) => error,
    );
    expect(outcome).to.be.instanceOf(EndorseError);
    expect((outcome as Error).message).to.contain("chaincode probe is not running: the chaincode was stopped");
  });

  it("needs the chaincode's module path to run it in a worker, and a sensible number of workers", async () => {
    const peer = new InProcessPeer({ channelName: "mychannel" });
    expect(() => peer.deployChaincode({ name: "probe", contracts: [ProbeContract], runtime: "worker" })).to.throw("ChaincodeDefinition.module");
    expect(() =>
      peer.deployChaincode({ name: "probe", contracts: [ProbeContract], module: require.resolve("./probe"), runtime: "worker", workers: 0 }),
    ).to.throw("workers must be a whole number in 1..64");
  });
});
