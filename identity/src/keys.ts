// Keys as JWKs and the signing / verifying callbacks the SD-JWT library calls (its `signer`,
// `verifier`, `kbSigner`, `kbVerifier` hooks). The JWS itself is built and parsed by @sd-jwt/core;
// these callbacks only sign / verify the bytes it hands over, with node:crypto.
//   ES256  (P-256):     issuers (HAIP's mandatory algorithm) and did:key holders
//   ES256K (secp256k1): did:pkh holders, who bind presentations with their Ethereum account key
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from "node:crypto";
import { SigningKey, computeAddress } from "ethers";
import { IdentityError } from "./errors";

/** A public EC key as a JWK (RFC 7517). */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256" | "secp256k1";
  x: string;
  y: string;
  kid?: string;
}

/** A private EC key as a JWK: the public members plus `d`. */
export interface PrivateJwk extends PublicJwk {
  d: string;
}

export type JwsAlgorithm = "ES256" | "ES256K";

/** The JWS algorithm of a key: ES256 for P-256, ES256K for secp256k1. */
export function algorithmOf(jwk: { kty?: string; crv?: string }): JwsAlgorithm {
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "EC" && jwk.crv === "secp256k1") return "ES256K";
  throw new IdentityError("UNSUPPORTED_DID", `keys of type ${jwk.kty ?? "?"}/${jwk.crv ?? "?"} are not accepted: P-256 (ES256) or secp256k1 (ES256K) only`, {
    kty: jwk.kty,
    crv: jwk.crv,
  });
}

/** Only the public members of a JWK (kty, crv, x, y), so that a private key never leaks into a credential. */
export function publicJwk(jwk: { kty?: string; crv?: string; x?: string; y?: string }): PublicJwk {
  algorithmOf(jwk);
  if (typeof jwk.x !== "string" || typeof jwk.y !== "string") throw new IdentityError("UNSUPPORTED_DID", "the JWK lacks x or y");
  return { kty: "EC", crv: jwk.crv as PublicJwk["crv"], x: jwk.x, y: jwk.y };
}

/** A fresh P-256 key pair (issuers, did:key holders). */
export function generateP256Key(): PrivateJwk {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return privateKey.export({ format: "jwk" }) as unknown as PrivateJwk;
}

/** The secp256k1 JWK of an Ethereum account's private key (0x-hex): what a did:pkh holder binds with. */
export function ethereumKeyJwk(privateKeyHex: string): PrivateJwk {
  const signingKey = new SigningKey(privateKeyHex);
  const uncompressed = Buffer.from(signingKey.publicKey.slice(2), "hex"); // 0x04 || x || y
  return {
    kty: "EC",
    crv: "secp256k1",
    x: uncompressed.subarray(1, 33).toString("base64url"),
    y: uncompressed.subarray(33, 65).toString("base64url"),
    d: Buffer.from(signingKey.privateKey.slice(2), "hex").toString("base64url"),
  };
}

/** The Ethereum address (lowercase 0x-hex) of a secp256k1 public key. */
export function ethereumAddressOf(jwk: PublicJwk): string {
  if (jwk.crv !== "secp256k1") throw new IdentityError("HOLDER_BINDING_MISMATCH", `a ${jwk.crv} key has no Ethereum address`);
  const uncompressed = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  return computeAddress("0x" + uncompressed.toString("hex")).toLowerCase();
}

/** The signing callback for a private JWK: base64url(r ‖ s) over SHA-256 of the JWS signing input. */
export function jwsSigner(jwk: PrivateJwk): (data: string) => string {
  algorithmOf(jwk);
  const key = createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, d: jwk.d }, format: "jwk" });
  return (data: string) => sign("sha256", Buffer.from(data, "utf8"), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
}

/** The verifying callback for a public JWK (the key is imported once). */
export function jwsVerifier(jwk: PublicJwk): (data: string, signature: string) => boolean {
  const key = publicKeyObject(jwk);
  return (data: string, signature: string) => {
    const bytes = Buffer.from(signature, "base64url");
    return bytes.length === 64 && verify("sha256", Buffer.from(data, "utf8"), { key, dsaEncoding: "ieee-p1363" }, bytes);
  };
}

/** A node:crypto public key of a JWK; refuses a JWK that is not a point of its curve. */
export function publicKeyObject(jwk: PublicJwk): KeyObject {
  const { kty, crv, x, y } = publicJwk(jwk);
  try {
    return createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
  } catch (error) {
    throw new IdentityError("UNSUPPORTED_DID", `the ${crv} JWK is not a valid public key`, {}, { cause: error });
  }
}

/** True when two JWKs are the same public key. */
export function sameKey(a: PublicJwk, b: PublicJwk): boolean {
  return a.crv === b.crv && publicKeyObject(a).equals(publicKeyObject(b));
}
