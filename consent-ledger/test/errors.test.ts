// ConsentClientError is a DataMarketError (the protocol's error base class): the code the client
// names, the transaction id in details, the backend's error kept as `cause`; `message` keeps the
// chaincode's "CODE: detail" form.
import { expect } from "chai";
import { DataMarketError } from "@datamarket/protocol";
import { ConsentClientError, fabric, toClientError } from "../src";

describe("ConsentClientError extends DataMarketError", () => {
  it('a chaincode refusal: the chaincode\'s code, "CODE: detail" as before, the endorse error as cause', () => {
    const endorse = new fabric.EndorseError("FORBIDDEN: the caller lacks the custodian role", "tx-1");
    const error = toClientError(endorse);
    expect(error).to.be.instanceOf(ConsentClientError).and.instanceOf(DataMarketError);
    expect(error.name).to.equal("ConsentClientError");
    expect(error.code).to.equal("FORBIDDEN");
    expect(error.message).to.equal("FORBIDDEN: the caller lacks the custodian role");
    expect(error.shortMessage).to.equal("the caller lacks the custodian role");
    expect(error.transactionId).to.equal("tx-1");
    expect(error.details).to.deep.equal({ transactionId: "tx-1" });
    expect(error.cause).to.equal(endorse);
    expect(error.walk((e) => e instanceof fabric.EndorseError)).to.equal(endorse);
  });

  it("an invalidation at commit: the validation code named, the commit error as cause", () => {
    const commit = new fabric.CommitError(11, "tx-2");
    const error = toClientError(commit);
    expect(error).to.be.instanceOf(DataMarketError);
    expect(error.code).to.equal("MVCC_READ_CONFLICT");
    expect(error.details).to.deep.equal({ transactionId: "tx-2" });
    expect(error.cause).to.equal(commit);
    expect(error.message).to.equal(`MVCC_READ_CONFLICT: ${commit.message}`);
  });

  it("any other failure: ENDORSEMENT_FAILED with the original kept; a ConsentClientError passes through unchanged", () => {
    const original = new Error("14 UNAVAILABLE: No connection established");
    const error = toClientError(original);
    expect(error.code).to.equal("ENDORSEMENT_FAILED");
    expect(error.cause).to.equal(original);
    expect(error.details).to.deep.equal({});
    expect(toClientError(error)).to.equal(error);
  });
});
