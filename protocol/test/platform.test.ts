// The browser's platform module must compute what Node's does (the browser bundle swaps one for
// the other): hex, and AES-256-GCM through @noble/ciphers against OpenSSL.
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import * as browser from "../src/_browser/platform";
import * as node from "../src/_nodejs/platform";

describe("platform modules", () => {
  it("encode and decode hex alike", () => {
    for (const n of [0, 1, 31, 32, 257]) {
      const b = randomBytes(n);
      expect(browser.hexSlice(b)).to.equal(node.hexSlice(b)).and.to.equal(b.toString("hex"));
      expect(browser.hexSlice(b, 1, Math.max(1, n - 1))).to.equal(node.hexSlice(b, 1, Math.max(1, n - 1)));
      expect(Buffer.from(browser.hexDecode(b.toString("hex")))).to.deep.equal(b);
      expect(Buffer.from(node.hexDecode(b.toString("hex")))).to.deep.equal(b);
    }
  });

  it("seal and open AES-256-GCM interchangeably, and both refuse a tampered tag", () => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const aad = randomBytes(64);
    const plaintext = randomBytes(1000);
    const sealedByNode = node.aesGcm.seal(key, nonce, plaintext, aad);
    const sealedByBrowser = browser.aesGcm.seal(key, nonce, plaintext, aad);
    expect(Buffer.from(sealedByBrowser)).to.deep.equal(Buffer.from(sealedByNode));
    expect(Buffer.from(browser.aesGcm.open(key, nonce, sealedByNode, aad)!)).to.deep.equal(plaintext);
    expect(Buffer.from(node.aesGcm.open(key, nonce, sealedByBrowser, aad)!)).to.deep.equal(plaintext);
    sealedByNode[sealedByNode.length - 1] ^= 1;
    expect(browser.aesGcm.open(key, nonce, sealedByNode, aad)).to.equal(null);
    expect(node.aesGcm.open(key, nonce, sealedByNode, aad)).to.equal(null);
  });

  it("has no native addons in the browser module", () => {
    expect(browser.loadNativeCrypto()).to.have.property("error");
  });
});
