// docs/identity.md against the code: the claims of every schema, every error code with its HTTP
// status, the credential reference example and the fabric-ca commands it shows.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  IdentityErrorCodes,
  SCHEMAS,
  claimNames,
  credentialReference,
  fabricCaEnrollArgs,
  fabricCaRegisterArgs,
  httpStatusOf,
  shellLine,
  CredentialType,
  type IdentityErrorCode,
} from "../src";

const doc = readFileSync(path.join(__dirname, "..", "..", "docs", "identity.md"), "utf8");

/** The first column (a `code` cell) of the table that follows `heading`, up to the next heading. */
function firstColumn(heading: string): string[] {
  const start = doc.indexOf(heading);
  expect(start, `heading ${heading}`).to.be.greaterThan(-1);
  const section = doc.slice(start + heading.length).split(/\n#{2,3} /)[0];
  return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((match) => match[1]);
}

describe("docs/identity.md", () => {
  it("lists exactly the claims of each credential type (§3)", () => {
    for (const schema of Object.values(SCHEMAS)) {
      expect(firstColumn(`### ${schema.title} — \`${schema.vct}\``), schema.vct).to.deep.equal(claimNames(schema.vct));
    }
  });

  it("lists every error code with the HTTP status the service answers (§12)", () => {
    const start = doc.indexOf("## 12. Errors");
    const rows = [
      ...doc
        .slice(start)
        .split("\n## ")[0]
        .matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm),
    ].map((m) => [m[1], Number(m[2])]);
    expect(rows.map(([code]) => code)).to.have.members(Object.values(IdentityErrorCodes));
    for (const [code, status] of rows) expect(httpStatusOf(code as IdentityErrorCode), String(code)).to.equal(status);
  });

  it("shows the credential reference and the fabric-ca commands the code produces (§7, §8)", () => {
    const reference = credentialReference({
      issuer: "https://accreditation.example.eu",
      credentialId: "urn:uuid:6f1c2a9e-3b7d-4e0a-9c55-1d2e3f405162",
      vct: CredentialType.BuyerAccreditation,
      statusListUri: "https://accreditation.example.eu/status/1",
      statusListIndex: 40917,
    });
    expect(doc).to.include(JSON.stringify(reference));
    const address = "0x8ba1f109551bd432803012645ac136ddd64dba72";
    const plan = {
      enrollmentId: "vc-3f9a51c07be24d6e8a1b92c4d5e6f708",
      mspId: "ResearchMSP",
      holder: `did:pkh:eip155:1:${address}`,
      credential: reference,
      attributes: {
        "consent.role": "buyer",
        "consent.buyerType": "PublicResearch",
        "consent.jurisdiction": "DE",
        "consent.ethAddress": address,
        "consent.credentialRef": reference.hash,
      },
    };
    const options = {
      mspId: "ResearchMSP",
      caUrl: "https://ca.research.example.com:7054",
      caName: "ca-research",
      tlsCertFile: "/etc/hyperledger/research/tls-ca.pem",
      registrarHome: "/var/lib/onboarding/registrar",
    };
    expect(doc).to.include(shellLine("fabric-ca-client", fabricCaRegisterArgs(plan, options, "<one-time secret>")));
    expect(doc).to.include(shellLine("fabric-ca-client", fabricCaEnrollArgs(plan, options, "SECRET", "/home/buyer/.fabric-ca-client")));
  });
});
