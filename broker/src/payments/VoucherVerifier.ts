// Checks vouchers' EIP-712 signatures, fast: the vouchers that arrive in one event-loop turn are
// verified together on the next, like events (protocol/VerifierPool.ts), with libsecp256k1 (the native
// path of protocol/crypto.ts; @noble/curves when it is not available).
//
// A payer's public key is recovered once, from its first voucher, and kept; every later voucher is an
// ECDSA verification against that key (libsecp256k1's verify, which also refuses high s), which costs
// less than a recovery and needs no keccak of the key. Verification does not bind v (the recovery id),
// which the contract's ecrecover needs: a payer could send (r, s) with the wrong v. The broker therefore
// never trusts v: `redeemable()` computes the v that recovers the payer when it redeems (one recovery per
// redemption, not per voucher), so such a voucher is still worth its amount.

import { secp256k1 as nobleSecp } from "@noble/curves/secp256k1";
import { addressOfPublicKey, cryptoBackend, isLowS, toHex } from "@datamarket/protocol";
import { voucherDigest, type Voucher } from "./voucher";

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, publicKey: Uint8Array): boolean;
}

function loadNative(): NativeSecp256k1 | undefined {
  if (cryptoBackend.backend !== "native") return undefined;
  // The same compiled addon protocol/crypto.ts loaded (the module cache returns it).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("secp256k1/bindings") as NativeSecp256k1;
}

/** Most payers' public keys kept (memory bound: 65 bytes each); the oldest are forgotten first. */
const MAX_KEYS = 100_000;

export class VoucherVerifier {
  private readonly native: NativeSecp256k1 | undefined;
  private readonly keys = new Map<string, Uint8Array>();
  private queue: { voucher: Voucher; resolve: (ok: boolean) => void }[] = [];
  private scheduled = false;
  /** Vouchers checked, and how many of them needed a recovery (a payer's first). */
  readonly stats = { verified: 0, recovered: 0, batches: 0 };

  /**
   * @param domainSeparator the EIP-712 domain separator of the PaymentChannels deployment
   * @param backend "native" (default when the addon loads) or "noble" (pure JS)
   */
  constructor(
    readonly domainSeparator: Buffer,
    backend: "native" | "noble" = cryptoBackend.backend,
  ) {
    this.native = backend === "native" ? loadNative() : undefined;
  }

  get backend(): "native" | "noble" {
    return this.native ? "native" : "noble";
  }

  /** Resolves with whether the voucher is its payer's signature; batched with the turn's others. */
  verify(voucher: Voucher): Promise<boolean> {
    return new Promise((resolve) => {
      this.queue.push({ voucher, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.queue;
        this.queue = [];
        const results = this.verifyBatch(batch.map((b) => b.voucher));
        batch.forEach((b, i) => b.resolve(results[i]));
      });
    });
  }

  /** Verifies a batch at once (synchronously); true where the voucher is its payer's signature. */
  verifyBatch(vouchers: Voucher[]): boolean[] {
    this.stats.batches++;
    return vouchers.map((v) => this.verifyOne(v));
  }

  private verifyOne(v: Voucher): boolean {
    this.stats.verified++;
    const sig = v.signature;
    if (sig.length !== 65 || !isLowS(sig)) return false;
    const digest = voucherDigest(this.domainSeparator, v);
    const rs = sig.subarray(0, 64);
    const key = this.keys.get(v.payer);
    if (key) {
      try {
        return this.native ? this.native.ecdsaVerify(rs, digest, key) : nobleSecp.verify(rs, digest, key, { lowS: true, prehash: false });
      } catch {
        return false;
      }
    }
    // A payer's first voucher: recover its key (either recovery id: v is not trusted, see above).
    this.stats.recovered++;
    for (const recid of [sig[64] - 27, 28 - sig[64]]) {
      const pub = this.recover(rs, recid, digest);
      if (pub && toHex(addressOfPublicKey(pub)) === v.payer) {
        if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
        this.keys.set(v.payer, pub);
        return true;
      }
    }
    return false;
  }

  private recover(rs: Uint8Array, recid: number, digest: Buffer): Uint8Array | undefined {
    try {
      if (this.native) return this.native.ecdsaRecover(rs, recid, digest, false);
      return nobleSecp.Signature.fromCompact(rs).addRecoveryBit(recid).recoverPublicKey(digest).toRawBytes(false);
    } catch {
      return undefined;
    }
  }

  /**
   * The voucher's signature with the v that recovers its payer (what the contract's ecrecover needs), or
   * undefined if neither does (a voucher that never verified).
   */
  redeemable(v: Voucher): Buffer | undefined {
    const digest = voucherDigest(this.domainSeparator, v);
    const rs = v.signature.subarray(0, 64);
    for (const recid of [v.signature[64] - 27, 28 - v.signature[64]]) {
      const pub = this.recover(rs, recid, digest);
      if (pub && toHex(addressOfPublicKey(pub)) === v.payer) return Buffer.concat([rs, Buffer.from([27 + recid])]);
    }
    return undefined;
  }
}
