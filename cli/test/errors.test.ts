// CliError is a DataMarketError (the protocol's error base class): a code, details, the error it was
// made from as `cause`; the command prints `shortMessage` (`datamarket: <message> [CODE]`).
import { expect } from "chai";
import { DataMarketError } from "@datamarket/protocol";
import { SdkError } from "@datamarket/sdk";
import { CliError, ExitCode, toCliError } from "../src/errors";

describe("CliError extends DataMarketError", () => {
  it("an SDK error: its code, details and exit code, the SdkError kept as cause, its message without the code prefix", () => {
    const sdk = new SdkError("NOT_LICENSED", "0xabc holds no valid licence of the product", { buyer: "0xabc" });
    const error = toCliError(sdk);
    expect(error).to.be.instanceOf(CliError).and.instanceOf(DataMarketError);
    expect(error.name).to.equal("CliError");
    expect(error.code).to.equal("NOT_LICENSED");
    expect(error.exitCode).to.equal(ExitCode.REFUSED);
    expect(error.details).to.deep.equal({ buyer: "0xabc" });
    expect(error.cause).to.equal(sdk);
    expect(error.shortMessage).to.equal("0xabc holds no valid licence of the product");
    expect(error.message).to.equal("NOT_LICENSED: 0xabc holds no valid licence of the product");
  });

  it("any other error: FAILURE with the original as cause; a CliError passes through", () => {
    const original = new TypeError("x is not a function");
    const error = toCliError(original);
    expect(error).to.be.instanceOf(DataMarketError);
    expect(error.code).to.equal("FAILURE");
    expect(error.exitCode).to.equal(ExitCode.FAILURE);
    expect(error.cause).to.equal(original);
    expect(error.shortMessage).to.equal("x is not a function");
    expect(toCliError(error)).to.equal(error);
  });
});
