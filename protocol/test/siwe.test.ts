// The EIP-4361 sign-in message both ends share: built by a client, parsed and verified by a broker.
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { buildSiweMessage, parseSiweMessage, toChecksumAddress, verifySiwe } from "../src/siwe";
import { PrivateKeySigner } from "../src/signer";
import { ProtocolError } from "../src/errors";

const now = Date.parse("2026-01-01T00:00:00Z");
const fields = (address: string) => ({
  domain: "broker.example",
  address,
  statement: "Sign in to the broker.",
  uri: "ws://broker.example/",
  chainId: 31337,
  nonce: "abcdef0123456789",
  issuedAt: new Date(now).toISOString(),
  expirationTime: new Date(now + 60_000).toISOString(),
});
const expectations = { domain: "broker.example", chainId: 31337, nonce: "abcdef0123456789", now, defaultSessionMs: 3_600_000 };

describe("EIP-4361 sign-in", () => {
  it("checksums addresses as EIP-55 (as ethers does)", () => {
    for (let i = 0; i < 10; i++) {
      const a = Wallet.createRandom().address;
      expect(toChecksumAddress(a.toLowerCase())).to.equal(getAddress(a));
    }
  });

  it("builds a message that parses back to its fields", () => {
    const w = Wallet.createRandom();
    const parsed = parseSiweMessage(buildSiweMessage(fields(w.address.toLowerCase())));
    expect(parsed).to.deep.include({ ...fields(w.address.toLowerCase()), version: "1" });
  });

  it("verifies an ethers wallet's signature and a PrivateKeySigner's alike", async () => {
    const w = Wallet.createRandom();
    const message = buildSiweMessage(fields(w.address.toLowerCase()));
    expect(verifySiwe(message, await w.signMessage(message), expectations)).to.deep.equal({ address: w.address.toLowerCase(), expiresAt: now + 60_000 });
    const s = new PrivateKeySigner(w.privateKey);
    expect(await s.signMessage(message)).to.equal(await w.signMessage(message));
  });

  it("refuses another domain, an expired message and a signature by someone else with AUTHENTICATION_FAILED", async () => {
    const w = Wallet.createRandom();
    const message = buildSiweMessage(fields(w.address.toLowerCase()));
    const signature = await w.signMessage(message);
    const attempts = [
      () => verifySiwe(message, signature, { ...expectations, domain: "other.example" }),
      () => verifySiwe(message, signature, { ...expectations, now: now + 120_000 }),
      async () => verifySiwe(message, await Wallet.createRandom().signMessage(message), expectations),
    ];
    for (const attempt of attempts) {
      let caught: unknown;
      try {
        await attempt();
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ProtocolError).with.property("code", "AUTHENTICATION_FAILED");
    }
  });
});
