// src/wallet/abi.ts is generated from the compiled artifacts (npm run abi -w sdk): this fails when
// a contract's interface changed and the SDK's copy did not follow.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Interface } from "ethers";
import { render } from "../scripts/generate-abi";
import { marketInterface } from "../src/wallet/contracts";

describe("the SDK's contract ABIs", () => {
  it("equal the compiled artifacts (regenerate with npm run abi -w sdk)", () => {
    expect(readFileSync(path.join(__dirname, "..", "src", "wallet", "abi.ts"), "utf8")).to.equal(render());
  });

  it("decode a token error raised inside a market call by name", () => {
    const token = new Interface(["error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)"]);
    const data = token.encodeErrorResult("ERC20InsufficientAllowance", ["0x" + "11".repeat(20), 1n, 2n]);
    expect(marketInterface.parseError(data)?.name).to.equal("ERC20InsufficientAllowance");
  });
});
