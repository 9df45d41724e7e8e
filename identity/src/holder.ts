// The holder's side (what a wallet does): keep the key a credential is bound to, and present a
// credential disclosing only the claims asked for, with a key-binding JWT over the relying party's
// nonce and audience (its client_id). Used by the tests, the bench and the demo; a real holder
// uses its own wallet (an EUDI wallet, or the portal for did:pkh holders).
import { computeAddress } from "ethers";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { didKey, didPkh } from "./did";
import { algorithmOf, ethereumKeyJwk, generateP256Key, jwsSigner, publicJwk, type PrivateJwk, type PublicJwk } from "./keys";

export interface PresentOptions {
  /** names of the claims to disclose; every other claim stays hidden */
  disclose: string[];
  /** the relying party's nonce (from its request) */
  nonce: string;
  /** the relying party's client_id */
  audience: string;
  /** unix seconds (default now) */
  issuedAt?: number;
}

export class Holder {
  private readonly sdJwt: SDJwtVcInstance;

  private constructor(
    readonly did: string,
    private readonly key: PrivateJwk,
  ) {
    this.sdJwt = new SDJwtVcInstance({
      hasher: digest,
      hashAlg: "sha-256",
      saltGenerator: generateSalt,
      kbSigner: jwsSigner(key),
      kbSignAlg: algorithmOf(key),
    });
  }

  /** A did:pkh holder whose key is its Ethereum account key (presentations signed ES256K). */
  static fromEthereumKey(privateKeyHex: string, chainId = 1): Holder {
    const key = ethereumKeyJwk(privateKeyHex);
    return new Holder(didPkh(computeAddress(privateKeyHex), chainId), key);
  }

  /** A did:key holder with a fresh P-256 key (presentations signed ES256). */
  static withNewDidKey(): Holder {
    const key = generateP256Key();
    return new Holder(didKey(publicJwk(key)), key);
  }

  /** The public key to bind into credentials (cnf.jwk). */
  get publicKey(): PublicJwk {
    return publicJwk(this.key);
  }

  /** A presentation of `credential` disclosing `options.disclose`, bound to nonce and audience. */
  present(credential: string, options: PresentOptions): Promise<string> {
    const frame = Object.fromEntries(options.disclose.map((name) => [name, true]));
    return this.sdJwt.present(credential, frame as never, {
      kb: { payload: { iat: options.issuedAt ?? Math.floor(Date.now() / 1000), aud: options.audience, nonce: options.nonce } },
    });
  }
}
