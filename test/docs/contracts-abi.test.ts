// docs/contracts.md against the compiled contracts: the Functions tables and the combined error ABI
// are exactly what `npm run docs:contracts` generates from the artifacts (so an ABI change without
// the regenerated page fails here), and the error-decoding example of §5 runs as written.
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { Interface } from "ethers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { CONTRACTS } from "../../tasks/deployment";
import { LINKED_LIBRARIES, PROTOCOL_CONTRACTS, combinedErrorAbi, protocolErrors } from "../../scripts/contract-abi";
import { CONTRACTS_DOC, DOCUMENTED_CONTRACTS, renderContractsDoc } from "../../scripts/contracts-doc";
import { marketFixture, order } from "../market/helpers";

const DOC = fs.readFileSync(CONTRACTS_DOC, "utf8");

/** The rows of the generated error table: the `error` column of each. */
function documentedErrors(): string[] {
  const block = DOC.slice(DOC.indexOf("<!-- generated:errors -->"), DOC.indexOf("<!-- /generated -->", DOC.indexOf("<!-- generated:errors -->")));
  return [...block.matchAll(/^\| `([^`]+)` \| `0x[0-9a-f]{8}` \|/gm)].map((m) => m[1]);
}

describe("docs/contracts.md and the ABIs", function () {
  it("lists every external function and every error exactly as the compiled ABIs have them (npm run docs:contracts)", function () {
    const generated = renderContractsDoc(DOC);
    if (generated !== DOC) {
      const ours = DOC.split("\n");
      const theirs = generated.split("\n");
      const line = ours.findIndex((l, i) => l !== theirs[i]);
      expect.fail(`docs/contracts.md differs from the ABIs from line ${line + 1} on ("${ours[line]}" should be "${theirs[line]}"): run npm run docs:contracts`);
    }
  });

  it("covers every contract a deployment creates: the callable ones with a Functions table, the libraries in the error ABI", function () {
    expect(Object.keys(PROTOCOL_CONTRACTS).sort()).to.deep.equal(Object.keys(CONTRACTS).sort());
    expect([...DOCUMENTED_CONTRACTS, ...LINKED_LIBRARIES].sort()).to.deep.equal(Object.keys(PROTOCOL_CONTRACTS).sort());
    expect(DOC).to.include("| `createStream(string,uint16,string)` | `0x");
  });

  it("gives a combined error ABI with one entry per selector, which the table reproduces as a human-readable ABI", function () {
    const errors = protocolErrors();
    expect(new Set(errors.map((e) => e.selector)).size).to.equal(errors.length);
    const fromTable = new Interface(documentedErrors().map((e) => `error ${e}`));
    const selectors: string[] = [];
    fromTable.forEachError((e) => void selectors.push(e.selector));
    expect(selectors.sort()).to.deep.equal(errors.map((e) => e.selector).sort());
    // Errors of the token, the registry and a market library are all in it.
    const combined = new Interface(combinedErrorAbi());
    for (const name of ["ERC20InsufficientAllowance", "NotAuthorized", "NotSeller", "InvalidParameter", "AlreadyDelivered"]) {
      expect(combined.getError(name), name).to.not.equal(null);
    }
  });

  it("§5: decodes the token's ERC20InsufficientAllowance raised inside a market purchase, as written", async function () {
    const f = await loadFixture(marketFixture);
    const [, , , , , , , , stranger] = await ethers.getSigners();
    await f.token.mint(stranger.address, 10n ** 24n);
    const market = f.market.connect(stranger);
    const duration = 3_600n;
    const cost = await f.market.quote(f.productId, duration);
    const maxPricePerSecond = (await f.market.getProduct(f.productId)).pricePerSecond;

    const block = /<!-- decode-errors -->\s*```ts\n([\s\S]*?)\n```/.exec(DOC);
    expect(block, "the §5 example").to.not.equal(null);
    const code = block![1]
      .split("\n")
      .filter((line) => !line.startsWith("import "))
      .join("\n");
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;
    const run = new AsyncFunction("Interface", "combinedErrorAbi", "market", "order", "maxPricePerSecond", `${code}\nreturn decoded;`);
    const decoded = (await run(Interface, combinedErrorAbi, market, order(f.productId, duration), maxPricePerSecond)) as ReturnType<Interface["parseError"]>;

    expect(decoded?.name).to.equal("ERC20InsufficientAllowance");
    expect([...decoded!.args]).to.deep.equal([await f.market.getAddress(), 0n, cost]);
    // and the market's own ABI cannot name it, as the comment says
    const failure = await market.buy(order(f.productId, duration), maxPricePerSecond).then(
      () => expect.fail("bought without an allowance"),
      (error: { data: string }) => error,
    );
    expect(f.market.interface.parseError(failure.data)).to.equal(null);
  });
});
