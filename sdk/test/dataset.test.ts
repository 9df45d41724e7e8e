import { expect } from "chai";
import { generateKeyPair } from "@datamarket/protocol";
import { createRelease, decodeManifest, encryptDataset, openRelease, type ConsentDecision } from "../src/dataset/Dataset";
import { SdkErrorCodes } from "../src/errors";

const datasetId = "0x" + "d5".repeat(32);
const buyer = { address: "0x" + "b0".repeat(20), ...generateKeyPair() };
const records = [
  { subjectId: "subject-1", data: Buffer.from('{"bpm":61}') },
  { subjectId: "subject-2", data: Buffer.from('{"bpm":72}') },
  { subjectId: "subject-1", data: Buffer.from('{"bpm":64}') },
  { subjectId: "subject-3", data: Buffer.from('{"bpm":80}') },
  { subjectId: "subject-4", data: Buffer.from('{"bpm":55}') },
  { subjectId: "subject-5", data: Buffer.from('{"bpm":90}') },
];
// As the consent ledger's AccessDecision reports a dataset request.
const decision: ConsentDecision = {
  decision: "approved",
  approvedSubjects: ["subject-1", "subject-4"],
  deniedByReason: { WITHDRAWN: 2, PURPOSE_NOT_COVERED: 1 },
};

describe("batch datasets", () => {
  const ds = encryptDataset(datasetId, records);

  it("encrypts one chunk per subject and hashes the manifest as the registry's content hash", () => {
    const m = decodeManifest(ds.file);
    expect(m.rows.map((r) => r.recordCount)).to.deep.equal([2, 1, 1, 1, 1]);
    expect(ds.contentHash).to.match(/^0x[0-9a-f]{64}$/);
    for (const r of records) expect(Buffer.from(ds.file).includes(r.data)).to.equal(false);
  });

  it("a download returns exactly the consenting subjects' records and says how many were left out and why", () => {
    const release = createRelease(ds, decision, buyer);
    const opened = openRelease(release, ds.contentHash, buyer.privateKey);
    expect(opened.subjects.map((s) => ({ subjectId: s.subjectId, records: s.records.map(String) }))).to.deep.equal([
      { subjectId: "subject-1", records: ['{"bpm":61}', '{"bpm":64}'] },
      { subjectId: "subject-4", records: ['{"bpm":55}'] },
    ]);
    expect(opened.leftOut).to.deep.equal({ total: 3, byReason: { WITHDRAWN: 2, PURPOSE_NOT_COVERED: 1 } });
  });

  it("gives the buyer no key for a left-out subject's chunk", () => {
    const release = createRelease(ds, decision, buyer);
    // Smuggle in subject-2's chunk under subject-1's key slot: its hash row check fails first.
    const full = decodeManifest(ds.file);
    let offset = full.length;
    const bodies = full.rows.map((r) => {
      const b = ds.file.subarray(offset, offset + r.bodyLength);
      offset += r.bodyLength;
      return b;
    });
    const forged = { ...release, bodies: [bodies[1], release.bodies[1]] };
    expect(() => openRelease(forged, ds.contentHash, buyer.privateKey))
      .to.throw()
      .with.property("code", SdkErrorCodes.CONTENT_HASH_MISMATCH);
    const relabelled = { ...release, released: [1, 3] };
    expect(() => openRelease(relabelled, ds.contentHash, buyer.privateKey))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("refuses a release whose manifest is not the registered one", () => {
    const release = createRelease(ds, decision, buyer);
    expect(() => openRelease(release, "0x" + "00".repeat(32), buyer.privateKey))
      .to.throw()
      .with.property("code", SdkErrorCodes.CONTENT_HASH_MISMATCH);
  });

  it("a release wrapped for one buyer does not open for another", () => {
    const release = createRelease(ds, decision, buyer);
    expect(() => openRelease(release, ds.contentHash, generateKeyPair().privateKey))
      .to.throw()
      .with.property("code", SdkErrorCodes.DECRYPTION_FAILED);
  });

  it("refuses a download the consent ledger denied, with its reasons", () => {
    expect(() => createRelease(ds, { decision: "denied", reasons: ["EXPIRED"], approvedSubjects: [], deniedByReason: { EXPIRED: 5 } }, buyer))
      .to.throw(/EXPIRED/)
      .with.property("code", SdkErrorCodes.NOT_LICENSED);
  });

  it("counts subjects the decision does not mention as NOT_IN_DECISION", () => {
    const release = createRelease(ds, { decision: "approved", approvedSubjects: ["subject-2"], deniedByReason: { EXPIRED: 1 } }, buyer);
    expect(release.leftOut).to.deep.equal({ total: 4, byReason: { EXPIRED: 1, NOT_IN_DECISION: 3 } });
  });
});
