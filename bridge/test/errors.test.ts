// Every error of the bridge is a DataMarketError (the protocol's error base class): a code, details,
// the original error as `cause`, `message` "CODE: short message"; the HTTP API and the CLI still
// serve the short message.
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BridgeClientError as PublishedClientError } from "@datamarket/consent-attestation";
import { DataMarketError } from "@datamarket/protocol";
import { parseConfig } from "../src/config";
import { BridgeClientError, BridgeConfigError, BridgeStore, StoreError, collectAttestation } from "../src";
import { HttpError } from "../src/server";

const IDENTITY = { chainId: "31337", market: "0x" + "11".repeat(20), attestor: "0x" + "22".repeat(20) };

describe("bridge errors extend DataMarketError", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bridge-errors-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("StoreError: a corrupt state log is STATE_CORRUPT, naming file and line, the JSON error kept as cause", () => {
    BridgeStore.open(dir, IDENTITY).close();
    writeFileSync(join(dir, "signatures.jsonl"), 'not a record\n{"kind":\n');
    let caught: unknown;
    try {
      BridgeStore.open(dir, IDENTITY);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(StoreError).and.instanceOf(DataMarketError);
    const error = caught as StoreError;
    expect(error.name).to.equal("StoreError");
    expect(error.code).to.equal("STATE_CORRUPT");
    expect(error.details).to.deep.equal({ file: join(dir, "signatures.jsonl"), line: 1 });
    expect(error.cause).to.be.instanceOf(SyntaxError);
    expect(error.message).to.equal(`STATE_CORRUPT: ${error.shortMessage}`);
    expect(error.shortMessage).to.match(/signatures\.jsonl line 1 is not a record: /);
  });

  it("StoreError: a state directory of another market is STATE_MISMATCH with the values in details", () => {
    BridgeStore.open(dir, IDENTITY).close();
    const other = { ...IDENTITY, market: "0x" + "33".repeat(20) };
    expect(() => BridgeStore.open(dir, other))
      .to.throw(StoreError)
      .that.satisfies(
        (error: StoreError) =>
          error instanceof DataMarketError &&
          error.code === "STATE_MISMATCH" &&
          error.details.field === "market" &&
          error.details.stored === IDENTITY.market &&
          error.details.expected === other.market,
      );
  });

  it("BridgeConfigError: INVALID_CONFIG, one line per problem in shortMessage, the problems in details", () => {
    let caught: unknown;
    try {
      parseConfig({ http: { port: "eighty" } }, {}, dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(BridgeConfigError).and.instanceOf(DataMarketError);
    const error = caught as BridgeConfigError;
    expect(error.code).to.equal("INVALID_CONFIG");
    expect(error.problems.length).to.be.greaterThan(0);
    expect(error.details.problems).to.deep.equal(error.problems);
    expect(error.shortMessage.split("\n")).to.have.length(error.problems.length);
    expect(error.message).to.equal(`INVALID_CONFIG: ${error.shortMessage}`);
    const cause = new Error("execution reverted");
    expect(BridgeConfigError.of("chain.market", "not the market", undefined, { cause }).cause).to.equal(cause);
  });

  it("HttpError: the code, the status and the grant in details; served without the code prefix", () => {
    const error = new HttpError(404, "UNKNOWN_GRANT", "no event for 0xab has reached this bridge", { grantId: "0xab" });
    expect(error).to.be.instanceOf(DataMarketError);
    expect(error.code).to.equal("UNKNOWN_GRANT");
    expect(error.statusCode).to.equal(404);
    expect(error.details).to.deep.equal({ statusCode: 404, grantId: "0xab" });
    expect(error.shortMessage).to.equal("no event for 0xab has reached this bridge");
  });

  it("BridgeClientError is the published client's class (one class, one set of codes)", async () => {
    expect(BridgeClientError).to.equal(PublishedClientError);
    const domain = { chainId: 31337n, market: IDENTITY.market };
    const refused = await collectAttestation("0x12", { urls: ["http://127.0.0.1:1"], threshold: 1, domain }).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(BridgeClientError).and.instanceOf(DataMarketError);
    expect((refused as BridgeClientError).code).to.equal("INVALID_ARGUMENT");
  });
});
