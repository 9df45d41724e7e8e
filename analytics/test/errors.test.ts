// AnalyticsError is a DataMarketError (the protocol's error base class): a code, details, the
// original error as `cause`; aggregators answer toJSON() (message without the code prefix).
import { expect } from "chai";
import { Wallet } from "ethers";
import { DataMarketError } from "@datamarket/protocol";
import { AnalyticsError } from "../src";
import { collectionDomain, verifyCollectionSignature, type SignedCollectionRequest } from "../src/wire";

describe("AnalyticsError extends DataMarketError", () => {
  it("a collection request whose signature does not decode: BAD_SIGNATURE, the decoder's error kept as cause", () => {
    const collector = Wallet.createRandom().address;
    const signed = {
      request: { studyId: "s", collector, grantId: "0x" + "11".repeat(32), batch: { start: 0, duration: 3600 }, collectorKey: { id: 1 }, issuedAt: 0 },
      subjects: [],
      signature: "0x1234",
    } as unknown as SignedCollectionRequest;
    let caught: unknown;
    try {
      verifyCollectionSignature(collectionDomain(31337n, "0x" + "22".repeat(20)), signed);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(AnalyticsError).and.instanceOf(DataMarketError);
    const error = caught as AnalyticsError;
    expect(error.name).to.equal("AnalyticsError");
    expect(error.code).to.equal("BAD_SIGNATURE");
    expect(error.cause).to.be.instanceOf(Error);
    expect(error.shortMessage).to.contain((error.cause as Error).message);
    expect(error.message).to.equal(`BAD_SIGNATURE: ${error.shortMessage}`);
    expect(error.toJSON()).to.deep.equal({ code: "BAD_SIGNATURE", message: error.shortMessage, details: {} });
  });

  it("details travel in toJSON", () => {
    const error = new AnalyticsError("BATCH_TOO_SMALL", "3 reports, the minimum is 10", { reports: 3, minimum: 10 });
    expect(error).to.be.instanceOf(DataMarketError);
    expect(error.toJSON()).to.deep.equal({ code: "BATCH_TOO_SMALL", message: "3 reports, the minimum is 10", details: { reports: 3, minimum: 10 } });
  });
});
