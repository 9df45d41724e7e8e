// The sign-in rules of docs/protocol.md §6.1, one test each: the message layout the broker accepts
// (EIP-55 address, LF line endings, required fields in order), its times (Expiration Time, Not
// Before, the longest session), and signing in again on one connection.

import { expect } from "chai";
import { BrokerClient } from "../src/client/BrokerClient";
import { MAX_SESSION_MS, buildSiweMessage, toChecksumAddress, verifySiwe } from "../src/wire";
import { personalMessageHash, signDigest, toHex } from "../src/wire";
import { ALICE, ALICE_KEY, BOB, BOB_KEY, STREAM, TestBroker, expectBrokerError, startTestBroker, waitFor } from "./helpers";

const NOW = Date.parse("2026-06-01T12:00:00.000Z");
const NONCE = "a1b2c3d4e5f60718";
const expectations = { domain: "broker.example", chainId: 31337, nonce: NONCE, now: NOW, defaultSessionMs: 3_600_000 };
const sign = (message: string, key = ALICE_KEY) => toHex(signDigest(personalMessageHash(Buffer.from(message, "utf8")), key));
const iso = (ms: number) => new Date(ms).toISOString();

function message(fields: Partial<Parameters<typeof buildSiweMessage>[0]> = {}): string {
  return buildSiweMessage({
    domain: "broker.example",
    address: ALICE,
    uri: "wss://broker.example",
    chainId: 31337,
    nonce: NONCE,
    issuedAt: iso(NOW),
    ...fields,
  });
}

/** The AUTHENTICATION_FAILED refusal of a message signed by Alice. */
function refused(text: string, expect_ = expectations): { message: string; details: Record<string, unknown> } {
  try {
    verifySiwe(text, sign(text), expect_);
  } catch (err) {
    // the reason without the code prefix (DataMarketError: message is "CODE: shortMessage")
    const e = err as { code: string; shortMessage: string; details: Record<string, unknown> };
    expect(e.code).to.equal("AUTHENTICATION_FAILED");
    return { message: e.shortMessage, details: e.details };
  }
  throw new Error("the message was accepted");
}

describe("sign-in rules (EIP-4361, docs/protocol.md §6.1)", () => {
  it("accepts the documented layout, with and without a statement, and answers the address and the session's end", () => {
    for (const text of [
      message(),
      message({ statement: "Sign in to the broker.", expirationTime: iso(NOW + 600_000), notBefore: iso(NOW - 1), requestId: "7", resources: ["ipfs://x"] }),
    ]) {
      const session = verifySiwe(text, sign(text), expectations);
      expect(session.address).to.equal(ALICE);
      expect(session.expiresAt).to.equal(text.includes("Expiration Time") ? NOW + 600_000 : NOW + 3_600_000);
    }
    expect(message({ statement: "Hi" }).split("\n").slice(0, 5)).to.deep.equal([
      "broker.example wants you to sign in with your Ethereum account:",
      toChecksumAddress(ALICE),
      "",
      "Hi",
      "",
    ]);
  });

  it("requires the address line in EIP-55 checksum form", () => {
    const text = message();
    expect(refused(text.replace(toChecksumAddress(ALICE), ALICE)).message).to.equal("the address must be EIP-55 checksummed");
  });

  it("requires LF line endings and no trailing newline", () => {
    expect(refused(message().replace(/\n/g, "\r\n")).message).to.equal("not an EIP-4361 message: bad first line");
    expect(refused(message() + "\n").message).to.match(/^unexpected or out-of-order line/);
  });

  it("requires URI, Version, Chain ID, Nonce and Issued At, in that order", () => {
    const text = message();
    for (const field of ["URI", "Version", "Chain ID", "Nonce", "Issued At"]) {
      const without = text
        .split("\n")
        .filter((line) => !line.startsWith(`${field}: `))
        .join("\n");
      expect(refused(without).message).to.equal(`missing field ${field}`);
    }
    const swapped = text.replace(/(URI: .*)\n(Version: 1)/, "$2\n$1");
    expect(refused(swapped).message).to.match(/^unexpected or out-of-order line: "URI: /);
  });

  it("refuses another domain, chain or nonce than the broker's", () => {
    expect(refused(message({ domain: "evil.example" })).details).to.deep.equal({ domain: "evil.example", expected: "broker.example" });
    expect(refused(message({ chainId: 1 })).details).to.deep.equal({ chainId: 1, expected: 31337 });
    expect(refused(message({ nonce: "ffffffffffffffff" })).details).to.deep.equal({ nonce: "ffffffffffffffff" });
  });

  it("refuses a message whose Expiration Time has passed, or whose Not Before has not come", () => {
    expect(refused(message({ expirationTime: iso(NOW) })).message).to.equal("the sign-in message has expired");
    expect(refused(message({ notBefore: iso(NOW + 1) })).message).to.equal("the sign-in message is not valid yet");
  });

  it(`accepts an Expiration Time at most ${MAX_SESSION_MS / 3_600_000} h ahead, and refuses one further`, () => {
    const longest = message({ expirationTime: iso(NOW + MAX_SESSION_MS) });
    expect(verifySiwe(longest, sign(longest), expectations).expiresAt).to.equal(NOW + MAX_SESSION_MS);
    const e = refused(message({ expirationTime: iso(NOW + MAX_SESSION_MS + 1) }));
    expect(e.details).to.deep.equal({ expirationTime: iso(NOW + MAX_SESSION_MS + 1), maxSessionMs: MAX_SESSION_MS });
  });

  it("refuses a signature by another key than the address line's", () => {
    const text = message();
    try {
      verifySiwe(text, sign(text, BOB_KEY), expectations);
      expect.fail("accepted");
    } catch (err) {
      expect((err as { details: unknown }).details).to.deep.equal({ address: ALICE, recovered: BOB });
    }
  });

  describe("signing in again on one connection", () => {
    let broker: TestBroker;
    let client: BrokerClient;
    beforeEach(async () => {
      broker = await startTestBroker();
      broker.gate.grantSubscribe(STREAM, ALICE);
      client = await BrokerClient.connect(broker.wsUrl);
    });
    afterEach(async () => {
      await client.close();
      await broker.stop();
    });

    it("as the same address keeps the subscriptions and takes the new Expiration Time", async () => {
      await client.signIn(ALICE_KEY, { expirationTime: iso(Date.now() + 60_000) });
      await client.subscribe(STREAM);
      const again = await client.signIn(ALICE_KEY, { expirationTime: iso(Date.now() + 120_000) });
      expect(again.expiresAt as number).to.be.greaterThan(Date.now() + 60_000);
      expect(broker.node.subscriptionCount()).to.equal(1);
    });

    it("as another address drops the previous address's subscriptions (without a notice)", async () => {
      await client.signIn(ALICE_KEY);
      await client.subscribe(STREAM);
      expect(await client.signIn(BOB_KEY)).to.include({ type: "authenticated", address: BOB });
      await waitFor(() => broker.node.subscriptionCount() === 0);
      expect(client.notices).to.deep.equal([]);
      await expectBrokerError(() => client.subscribe(STREAM), "SUBSCRIBE_NOT_ALLOWED");
    });

    it("with a refused message keeps the current session", async () => {
      await client.signIn(ALICE_KEY);
      await client.subscribe(STREAM);
      await expectBrokerError(() => client.signIn(BOB_KEY, { nonce: "0123456789abcdef" }), "AUTHENTICATION_FAILED");
      expect(broker.node.subscriptionCount()).to.equal(1);
      expect(await client.unsubscribe(STREAM)).to.include({ wasSubscribed: true });
    });
  });
});
