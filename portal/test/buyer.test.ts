// The buyer's pieces that need no browser: the config's buyer fields, the bridges' progress, the release
// codec (a release through JSON still opens), the grant's released slots, and the reasons in words.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toUtf8Bytes } from "ethers";
import { createRelease, encryptDataset, generateKeyPair, openRelease } from "@datamarket/sdk";
import { parseConfig } from "../src/config";
import { reasonInWords } from "../src/decision";
import { releaseFromJson, releaseToJson } from "../src/release-codec";
import { awaitAttestations, type AttestationProgress } from "../src/tx";
import { slotsOf } from "../server/release-service";

const ADDRESS = "0x" + "11".repeat(20);
const BASE = {
  chainId: 31337,
  rpcUrl: "http://127.0.0.1:8545",
  consentApiUrl: "http://127.0.0.1:8600",
  fromBlock: 1,
  contracts: { DATAToken: ADDRESS, StreamRegistry: ADDRESS, DataLicenseMarket: ADDRESS, NetworkCoordinator: ADDRESS },
};

describe("portal: the buyer's pieces", () => {
  it("config.json: the bridges, release services and key-request endpoints are optional, and a wrong one is named", () => {
    expect(parseConfig({ ...BASE }).bridgeUrls).to.equal(undefined);
    const full = {
      ...BASE,
      bridgeUrls: ["http://127.0.0.1:1"],
      releaseUrls: { "0xab": "http://127.0.0.1:2" },
      keyRequestUrls: { [ADDRESS]: "https://k.example" },
    };
    expect(parseConfig(full)).to.deep.equal(full);
    expect(() => parseConfig({ ...BASE, bridgeUrls: "http://127.0.0.1:1" })).to.throw("config.json: bridgeUrls must be a list of http(s) URLs");
    expect(() => parseConfig({ ...BASE, bridgeUrls: ["ftp://x"] })).to.throw("bridgeUrls must be a list");
    expect(() => parseConfig({ ...BASE, releaseUrls: ["http://x"] })).to.throw("releaseUrls must map dataset ids to http(s) URLs");
    expect(() => parseConfig({ ...BASE, keyRequestUrls: { [ADDRESS]: 7 } })).to.throw("keyRequestUrls must map publisher addresses");
  });

  describe("waiting for k of n bridges", () => {
    const servers: Server[] = [];
    after(() => servers.forEach((s) => s.close()));
    /** A bridge that signs the grant from its `signsAt`-th poll on (never: Infinity). */
    async function bridge(signsAt: number): Promise<{ url: string; polls: () => number }> {
      let polls = 0;
      const server = createServer((req, res) => {
        polls++;
        const ok = polls >= signsAt && req.url?.startsWith("/v1/attestations/0x");
        res.writeHead(ok ? 200 : 404, { "content-type": "application/json" }).end(ok ? '{"attestation":{}}' : '{"code":"NOT_FOUND"}');
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      servers.push(server);
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, polls: () => polls };
    }
    const grant = "0x" + "ab".repeat(32);

    it("reports each change of the count and returns once k have signed", async () => {
      const [a, b, c] = await Promise.all([bridge(1), bridge(3), bridge(Infinity)]);
      const seen: AttestationProgress[] = [];
      const done = await awaitAttestations([a.url, b.url, c.url], grant, 2, (p) => seen.push(p), { intervalMs: 10 });
      expect(done).to.deep.equal({ signed: 2, bridges: 3, needed: 2 });
      expect(seen.map((p) => p.signed)).to.deep.equal([1, 2]);
      expect(a.polls(), "a bridge that signed is not asked again").to.equal(1);
    });

    it("says how many signed when k are not reached in time", async () => {
      const [a, b] = await Promise.all([bridge(1), bridge(Infinity)]);
      let error: Error | undefined;
      await awaitAttestations([a.url, b.url], grant, 2, () => undefined, { intervalMs: 10, timeoutMs: 100 }).catch((e: Error) => (error = e));
      expect(error?.message).to.equal("only 1 of 2 consent bridges signed the grant in 0 s; 2 are needed");
    });
  });

  it("a release through the JSON codec opens to the released subjects only", () => {
    const datasetId = "0x" + "cd".repeat(32);
    const subjects = ["s-1", "s-2", "s-3"];
    const dataset = encryptDataset(
      datasetId,
      subjects.map((subjectId) => ({ subjectId, data: toUtf8Bytes(`record of ${subjectId}`) })),
    );
    const buyer = generateKeyPair();
    const release = createRelease(
      dataset,
      { decision: "approved", approvedSubjects: ["s-1", "s-3"], deniedByReason: { NOT_IN_GRANT: 1 } },
      { address: ADDRESS, publicKey: buyer.publicKey },
    );
    const opened = openRelease(releaseFromJson(JSON.parse(JSON.stringify(releaseToJson(release)))), dataset.contentHash, buyer.privateKey);
    expect(opened.subjects.map((s) => s.subjectId)).to.deep.equal(["s-1", "s-3"]);
    expect(opened.leftOut).to.deep.equal({ total: 1, byReason: { NOT_IN_GRANT: 1 } });
    expect(() => releaseFromJson({ ...releaseToJson(release), manifest: undefined } as never)).to.throw(
      "the release service's answer has no valid manifest, bodies or released",
    );
  });

  it("reads a grant's released member slots from its bitmap", () => {
    // slots 0, 2 and 9: byte 0 = 0b101, byte 1 = 0b10
    expect(slotsOf(Buffer.from([0b101, 0b10]).toString("base64"))).to.deep.equal([0, 2, 9]);
    expect(slotsOf("")).to.deep.equal([]);
  });

  it("says each denial reason in words, with its code", () => {
    expect(reasonInWords("BUYER_TYPE_NOT_ALLOWED")).to.equal("the consents do not allow buyers of your organisation's type (BUYER_TYPE_NOT_ALLOWED)");
    expect(reasonInWords("SOMETHING_NEW")).to.equal("SOMETHING_NEW");
  });
});
