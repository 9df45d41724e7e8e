// The protocol test vectors (test-vectors/*.json) checked against this implementation, and
// against ethers' independent abi.encodePacked (solidityPacked) and EIP-191 recovery, which is
// what a Solidity subscriber computes with abi.encodePacked + ecrecover.

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { solidityPacked, verifyMessage, getBytes, keccak256 as ethersKeccak, hashMessage } from "ethers";
import { decodeFrame, encodeCanonical, eventHash, signEvent, signingDigest, verifyEvent, streamIdOf } from "../src/event";
import { cryptoBackend, recoverAddressNoble, keccak256Noble } from "../src/crypto";
import { EpochAccumulator, epochChecksum, epochOf } from "../src/checksum";
import { ProtocolError } from "../src/errors";

const root = join(__dirname, "..", "..", "test-vectors");
const events = JSON.parse(readFileSync(join(root, "events.json"), "utf8"));
const checksums = JSON.parse(readFileSync(join(root, "checksum.json"), "utf8"));

const bytes = (h: string) => Buffer.from(h.slice(2), "hex");
const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");

function fieldsOf(v: any) {
  return { ...v.fields, content: bytes(v.fields.content) };
}

describe("protocol test vectors (test-vectors/events.json)", () => {
  it("loads the native secp256k1 and keccak bindings from their prebuilds (not the JS fallback)", () => {
    if ((process.env.DATAMARKET_CRYPTO ?? process.env.BROKER_CRYPTO) === "noble") return; // the fallback run
    expect({ ...cryptoBackend }).to.deep.equal({ backend: "native", platform: "node", nativeLoadError: undefined });
  });

  it("derives the stream ids as keccak256(creator ‖ path)", () => {
    for (const [readable, id] of Object.entries(events.streams as Record<string, string>)) {
      const creator = readable.slice(0, 42);
      const path = readable.slice(42);
      expect(streamIdOf(creator, path)).to.equal(id);
      expect(ethersKeccak(solidityPacked(["address", "string"], [creator, path]))).to.equal(id);
    }
  });

  for (const v of events.valid) {
    describe(v.name, () => {
      it("encodes the canonical bytes exactly as abi.encodePacked of the fields", () => {
        const f = v.fields;
        const packed = solidityPacked(
          ["uint8", "bytes32", "uint32", "uint64", "uint64", "bytes32", "address", "uint8", "uint8", "bytes32", "uint32", "bytes"],
          [
            1,
            f.streamId,
            f.streamPartition,
            f.timestamp,
            f.sequenceNumber,
            f.previousEventHash,
            f.publisher,
            f.contentType,
            f.encryptionType,
            f.groupKeyId,
            bytes(f.content).length,
            f.content,
          ],
        );
        expect(packed).to.equal(v.canonicalHex);
        expect(hex(encodeCanonical(fieldsOf(v)))).to.equal(v.canonicalHex);
      });

      it("hashes and builds the EIP-191 signing digest as stated", () => {
        expect(hex(eventHash(bytes(v.canonicalHex)))).to.equal(v.eventHash);
        expect(ethersKeccak(v.canonicalHex)).to.equal(v.eventHash);
        expect(hex(signingDigest(bytes(v.canonicalHex)))).to.equal(v.signingDigest);
        expect(hashMessage(getBytes(v.eventHash))).to.equal(v.signingDigest);
      });

      it("signs deterministically to the vector's signature and frame", () => {
        const ev = signEvent(fieldsOf(v), bytes(v.privateKey));
        expect(hex(ev.signature)).to.equal(v.signature);
        expect(hex(ev.frame)).to.equal(v.frameHex);
      });

      it("recovers the publisher with ethers, with @noble, and with the broker's verifier", () => {
        expect(verifyMessage(getBytes(v.eventHash), v.signature).toLowerCase()).to.equal(v.fields.publisher);
        expect(hex(recoverAddressNoble(bytes(v.signingDigest), bytes(v.signature)))).to.equal(v.fields.publisher);
        const decoded = decodeFrame(bytes(v.frameHex));
        expect(hex(verifyEvent(decoded))).to.equal(v.eventHash);
      });

      it("decodes the frame back to the fields", () => {
        const d = decodeFrame(bytes(v.frameHex));
        const { content, ...rest } = v.fields;
        for (const [k, val] of Object.entries(rest)) expect((d as any)[k], k).to.equal(val);
        expect(hex(d.content)).to.equal(content);
        expect(d.signatureType).to.equal(v.signatureType);
      });
    });
  }

  for (const v of events.invalid) {
    it(`refuses ${v.name} with ${v.error} at ${v.stage}`, () => {
      let caught: unknown;
      try {
        const d = decodeFrame(bytes(v.frameHex));
        if (v.stage === "decode") throw new Error("decoded a frame that the vector says is malformed");
        verifyEvent(d);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(ProtocolError);
      expect((caught as ProtocolError).code).to.equal(v.error);
    });
  }
});

describe("epoch checksum test vectors (test-vectors/checksum.json)", () => {
  for (const c of checksums.cases) {
    it(`reproduces "${c.name}" in every order of its events`, () => {
      const orders = [c.eventHashes, [...c.eventHashes].reverse()];
      for (const order of orders) {
        const acc = new EpochAccumulator();
        for (const h of order) acc.add(bytes(h));
        expect(acc.count).to.equal(c.count);
        expect("0x" + acc.sum.toString(16).padStart(64, "0")).to.equal(c.sum);
        expect(acc.checksum(c.epoch, c.networkPartition)).to.equal(c.checksum);
      }
      // Independent: ethers' abi.encodePacked and keccak.
      const expected = ethersKeccak(solidityPacked(["uint64", "uint32", "uint64", "bytes32"], [c.epoch, c.networkPartition, c.count, c.sum]));
      expect(expected).to.equal(c.checksum);
      expect(epochChecksum(c.epoch, c.networkPartition, c.count, BigInt(c.sum))).to.equal(c.checksum);
    });
  }

  it("maps the example timestamp to its epoch", () => {
    const r = checksums.epochRule;
    expect(epochOf(r.example.timestampMs, r.epochLengthMs, r.genesisMs)).to.equal(r.example.epoch);
  });

  it("agrees with pure-JS keccak for the checksum preimage", () => {
    const buf = Buffer.from("00".repeat(52), "hex");
    expect(hex(keccak256Noble(buf))).to.equal(ethersKeccak(buf));
  });
});
