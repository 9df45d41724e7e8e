// docs/protocol.md, Key exchange, "Vectors": the error vector states only its code and message, and
// its other fields are the request vector's. Decoded here from the bytes by the documented layout.
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";

const VECTORS = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "test-vectors", "key-exchange.json"), "utf8")) as {
  request: { fields: Record<string, unknown>; bytes: string };
  error: { fields: Record<string, unknown>; bytes: string };
};

const hex = (bytes: Buffer) => "0x" + bytes.toString("hex");

describe("docs/protocol.md key-exchange vectors", function () {
  it("the error vector's fields other than code and message are the request vector's (GroupKeyError layout)", function () {
    const b = Buffer.from(VECTORS.error.bytes.slice(2), "hex");
    expect(b.subarray(0, 4).toString("latin1")).to.equal("DMKX");
    expect([b[4], b[5]]).to.deep.equal([1, 3]); // version 1, type 3 (error)
    const k = b.readUInt16BE(103);
    const m = b.readUInt16BE(105 + 32 * k);
    const groupKeyIds = Array.from({ length: k }, (_, i) => hex(b.subarray(105 + 32 * i, 137 + 32 * i)));
    expect(b.length).to.equal(107 + 32 * k + m + 65);
    const decoded = {
      requestId: hex(b.subarray(6, 22)),
      streamId: hex(b.subarray(22, 54)),
      publisher: hex(b.subarray(54, 74)),
      subscriber: hex(b.subarray(74, 94)),
      timestamp: Number(b.readBigUInt64BE(94)),
      groupKeyIds,
    };
    const { subscriberPublicKey: _key, ...request } = VECTORS.request.fields;
    expect(decoded).to.deep.equal(request);
    expect(Object.keys(VECTORS.error.fields).sort()).to.deep.equal(["code", "message"]);
    expect(b[102]).to.equal(VECTORS.error.fields.code);
    expect(b.subarray(107 + 32 * k, 107 + 32 * k + m).toString("utf8")).to.equal(VECTORS.error.fields.message);
  });
});
