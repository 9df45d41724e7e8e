// IdentityError is a DataMarketError (the protocol's error base class): a code, details, the
// original error as `cause`; the verifier service answers toJSON() (message without the code prefix).
import { expect } from "chai";
import { DataMarketError } from "@datamarket/protocol";
import { IdentityError, asIdentityError, httpStatusOf } from "../src";

describe("IdentityError extends DataMarketError", () => {
  it("wraps a failure with its code and details, keeps it as cause, and does not repeat its text", () => {
    const ledger = new Error("FORBIDDEN: the caller lacks the registrar role");
    const error = asIdentityError(ledger, "ENROLMENT_FAILED", "the ledger refused the enrolment of user7", { enrollmentId: "user7" });
    expect(error).to.be.instanceOf(IdentityError).and.instanceOf(DataMarketError);
    expect(error.name).to.equal("IdentityError");
    expect(error.code).to.equal("ENROLMENT_FAILED");
    expect(error.details).to.deep.equal({ enrollmentId: "user7" });
    expect(error.cause).to.equal(ledger);
    expect(error.message).to.equal("ENROLMENT_FAILED: the ledger refused the enrolment of user7: FORBIDDEN: the caller lacks the registrar role");
    expect(error.toJSON()).to.deep.equal({ code: "ENROLMENT_FAILED", message: error.shortMessage, details: { enrollmentId: "user7" } });
    expect(httpStatusOf(error.code)).to.equal(502);
    expect(asIdentityError(error, "INVALID_CONFIG", "unused")).to.equal(error);
  });

  it("an error without a cause: code, details, the documented page", () => {
    const error = new IdentityError("NONCE_UNKNOWN", "nonce n-1 was never issued", { nonce: "n-1" });
    expect(error).to.be.instanceOf(DataMarketError);
    expect(error.cause).to.equal(undefined);
    expect(error.message).to.equal("NONCE_UNKNOWN: nonce n-1 was never issued");
    expect(error.docsPath).to.equal("identity.md#12-errors");
  });
});
