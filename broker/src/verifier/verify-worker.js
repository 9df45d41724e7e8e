// Verifier process of VerifierPool (plain JavaScript so that it starts without a TypeScript loader).
// A child process, not a worker thread: the secp256k1@4 addon keeps its constructor in a
// process-wide static, so loading it in two threads of one process corrupts the heap.
// Input: frames concatenated, with their lengths. Output per frame: 1 byte ok flag ‖ 32-byte eventHash.
// Same rules as protocol/crypto.ts + event.ts verifyEvent: EIP-191 digest, v 27/28, low s.
"use strict";
const { dirname } = require("node:path");
const secp = require("secp256k1/bindings");
const keccakDir = dirname(require.resolve("keccak/package.json"));
const KeccakState = require(require.resolve("node-gyp-build", { paths: [keccakDir] }))(keccakDir);
const state = new KeccakState();
const PREFIX = Buffer.from("\x19Ethereum Signed Message:\n32", "utf8");
const HALF_N = Buffer.from("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", "hex");
const ZERO = Buffer.alloc(32);

function keccak(data) {
  state.initialize(1088, 512);
  state.absorb(data);
  state.absorbLastFewBits(0x01);
  return state.squeeze(32);
}

// Exit with the broker (also when it is killed with -9).
process.on("disconnect", () => process.exit(0));

process.on("message", ({ id, frames, lengths }) => {
  const all = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength);
  const out = Buffer.alloc(lengths.length * 33);
  let pos = 0;
  for (let i = 0; i < lengths.length; i++) {
    const frame = all.subarray(pos, pos + lengths[i]);
    pos += lengths[i];
    const canonical = frame.subarray(0, frame.length - 66);
    const signature = frame.subarray(frame.length - 65);
    const hash = keccak(canonical);
    hash.copy(out, i * 33 + 1);
    const v = signature[64];
    const s = signature.subarray(32, 64);
    if ((v !== 27 && v !== 28) || Buffer.compare(s, HALF_N) > 0 || s.equals(ZERO)) continue;
    try {
      const digest = keccak(Buffer.concat([PREFIX, hash]));
      const pub = secp.ecdsaRecover(signature.subarray(0, 64), v - 27, digest, false);
      const address = keccak(Buffer.from(pub.subarray(1))).subarray(12);
      if (address.equals(canonical.subarray(85, 105))) out[i * 33] = 1;
    } catch {
      /* unrecoverable: stays 0 */
    }
  }
  process.send({ id, result: out });
});
