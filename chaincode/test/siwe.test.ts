// EIP-4361 messages: the EIP's own example parses to its fields and builds back to the same text; the
// grammar's violations are refused naming the field; a wallet's personal_sign over a built message
// recovers with the chaincode's verifier.
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { SiweParseError, buildSiweMessage, parseSiweMessage, recoverPersonalSignAddress, toChecksumAddress } from "../src";

// the example message of EIP-4361 ("Example message"), byte for byte
const EIP_EXAMPLE = [
  "service.org wants you to sign in with your Ethereum account:",
  "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
  "",
  "I accept the ServiceOrg Terms of Service: https://service.org/tos",
  "",
  "URI: https://service.org/login",
  "Version: 1",
  "Chain ID: 1",
  "Nonce: 32891756",
  "Issued At: 2021-09-30T16:25:24Z",
  "Resources:",
  "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
  "- https://example.com/my-web2-claim.json",
].join("\n");

describe("Sign-In with Ethereum (EIP-4361) messages", () => {
  it("parses the EIP's example into its fields and builds the same text back", () => {
    const m = parseSiweMessage(EIP_EXAMPLE);
    expect(m).to.deep.equal({
      domain: "service.org",
      address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
      statement: "I accept the ServiceOrg Terms of Service: https://service.org/tos",
      uri: "https://service.org/login",
      version: "1",
      chainId: 1,
      nonce: "32891756",
      issuedAt: "2021-09-30T16:25:24Z",
      resources: ["ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/", "https://example.com/my-web2-claim.json"],
    });
    expect(buildSiweMessage(m)).to.equal(EIP_EXAMPLE);
  });

  it("writes every optional field in the ABNF's order, and none when absent (two empty lines without a statement)", () => {
    const full = {
      scheme: "https",
      domain: "portal.example:8443",
      address: toChecksumAddress("0x" + "ab".repeat(20)),
      statement: "Read my consents.",
      uri: "https://portal.example:8443/consent",
      version: "1",
      chainId: 31337,
      nonce: "AbCd1234efgh",
      issuedAt: "2026-12-05T03:00:00.000Z",
      expirationTime: "2026-12-05T03:15:00.000Z",
      notBefore: "2026-12-05T03:00:00Z",
      requestId: "req-1",
      resources: ["urn:datamarket:consent-ledger:consent"],
    };
    const text = buildSiweMessage(full);
    expect(text.split("\n").slice(0, 1)[0]).to.equal("https://portal.example:8443 wants you to sign in with your Ethereum account:");
    expect(text.split("\n").slice(-6)).to.deep.equal([
      "Issued At: 2026-12-05T03:00:00.000Z",
      "Expiration Time: 2026-12-05T03:15:00.000Z",
      "Not Before: 2026-12-05T03:00:00Z",
      "Request ID: req-1",
      "Resources:",
      "- urn:datamarket:consent-ledger:consent",
    ]);
    expect(parseSiweMessage(text)).to.deep.equal(full);
    const bare = {
      domain: "a.example",
      address: full.address,
      uri: "https://a.example",
      version: "1",
      chainId: 1,
      nonce: "12345678",
      issuedAt: "2026-12-05T03:00:00Z",
    };
    const bareText = buildSiweMessage(bare);
    expect(bareText).to.equal(
      `a.example wants you to sign in with your Ethereum account:\n${full.address}\n\n\nURI: https://a.example\nVersion: 1\nChain ID: 1\nNonce: 12345678\nIssued At: 2026-12-05T03:00:00Z`,
    );
    expect(parseSiweMessage(bareText)).to.deep.equal(bare);
  });

  it("checksums addresses as EIP-55 does", () => {
    for (const seed of ["11", "ab", "c0", "fe"]) {
      const lower = "0x" + seed.repeat(20);
      expect(toChecksumAddress(lower)).to.equal(getAddress(lower));
    }
    expect(() => toChecksumAddress("0x1234")).to.throw(SiweParseError);
  });

  it("refuses what the grammar does not allow, naming it", () => {
    const refuse = (text: string, part: string) => expect(() => parseSiweMessage(text), part).to.throw(SiweParseError, part);
    refuse(EIP_EXAMPLE.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"), "EIP-55");
    refuse(EIP_EXAMPLE.replace("Version: 1", "Version: 2"), "version");
    refuse(EIP_EXAMPLE.replace("Nonce: 32891756", "Nonce: 1234"), "nonce");
    refuse(EIP_EXAMPLE.replace("Nonce: 32891756", "Nonce: 1234-5678"), "nonce");
    refuse(EIP_EXAMPLE.replace("2021-09-30T16:25:24Z", "yesterday"), "Issued At");
    refuse(EIP_EXAMPLE.replace("Chain ID: 1", "Chain ID: one"), "chain id");
    refuse(EIP_EXAMPLE.replace("URI: https://service.org/login", "URI: not a uri"), "URI");
    refuse(EIP_EXAMPLE.replace("wants you to sign in", "would like you to sign in"), "line 1");
    refuse(EIP_EXAMPLE.replace("Version: 1\n", ""), "Version");
    refuse(EIP_EXAMPLE + "\nsomething else", "not part of an EIP-4361 message");
    refuse(EIP_EXAMPLE.split("\n").slice(0, 2).join("\n"), "ends before");
    refuse(EIP_EXAMPLE.replace("service.org wants", "service.org/path wants"), "authority");
    expect(() => buildSiweMessage({ ...parseSiweMessage(EIP_EXAMPLE), statement: "two\nlines" })).to.throw(SiweParseError, "statement");
  });

  it("verifies a wallet's personal_sign over a built message with the chaincode's verifier", async () => {
    const wallet = new Wallet("0x" + "61".repeat(32));
    const text = buildSiweMessage({ ...parseSiweMessage(EIP_EXAMPLE), address: wallet.address });
    expect(recoverPersonalSignAddress(text, await wallet.signMessage(text))).to.equal(wallet.address.toLowerCase());
  });
});

describe("EIP-4361: the ledger's implementation and the broker's (@datamarket/protocol) agree", () => {
  it("build the same text from the same fields, and each parses the other's", async () => {
    const protocol = await import("@datamarket/protocol");
    const address = toChecksumAddress("0x" + "c3".repeat(20));
    const cases = [
      { domain: "portal.example", address, uri: "https://portal.example/", chainId: 31337, nonce: "abcdef123456", issuedAt: "2026-12-05T03:00:00Z" },
      {
        domain: "127.0.0.1:40901",
        address,
        statement: "Sign in to read my consents.",
        uri: "http://127.0.0.1:40901/",
        chainId: 1,
        nonce: "32891756",
        issuedAt: "2026-12-05T03:00:00Z",
        expirationTime: "2026-12-05T03:15:00Z",
        notBefore: "2026-12-05T03:00:00Z",
        requestId: "r1",
        resources: ["urn:datamarket:consent-ledger:consent", "https://example.com/a.json"],
      },
    ];
    for (const fields of cases) {
      const ours = buildSiweMessage({ ...fields, version: "1" });
      expect(protocol.buildSiweMessage(fields)).to.equal(ours);
      expect(protocol.parseSiweMessage(ours)).to.deep.include({ ...fields, address: address.toLowerCase() });
      expect(parseSiweMessage(protocol.buildSiweMessage(fields))).to.deep.equal({ ...fields, version: "1" });
    }
  });
});
