// X.509 identities generated at run time: one ECDSA P-256 certificate authority per organisation (MSP)
// and client certificates carrying Fabric CA attributes (extension 1.2.3.4.5.6.7.8.1), exactly what
// fabric-shim's ClientIdentity parses on a real peer.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { p256 } from "@noble/curves/p256";
import { sha256 } from "@noble/hashes/sha256";
import { KeyObject, createPublicKey, sign as nodeSign, verify as nodeVerify, webcrypto } from "node:crypto";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
x509.cryptoProvider.set(webcrypto as any);

type KeyPair = webcrypto.CryptoKeyPair;

/** OID under which fabric-ca writes `{"attrs": {...}}` into enrollment certificates. */
export const FABRIC_ATTRS_OID = "1.2.3.4.5.6.7.8.1";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A client identity: what a Fabric wallet holds (certificate + private key) and the MSP it belongs to. */
export interface Identity {
  mspId: string;
  /** PEM-encoded X.509 certificate */
  credentials: Uint8Array;
}

/** Signs SHA-256 digests with the identity's key (DER, low-S), like fabric-gateway's Signer. */
export type Signer = (digest: Uint8Array) => Promise<Uint8Array>;

/** Signs a message (SHA-256 and ECDSA in one native call) with the identity's key: DER, low-S. */
export type MessageSigner = (message: Uint8Array) => Promise<Uint8Array>;

export interface EnrolledIdentity extends Identity {
  /** enrollment id (the certificate's CN) */
  name: string;
  /** certificate attributes as fabric-ca wrote them */
  attributes: Record<string, string>;
  certificatePem: string;
  signer: Signer;
  /** the same key, signing whole messages natively (the in-process gateway's proposals) */
  signMessage: MessageSigner;
}

let serial = 1;
function nextSerial(): string {
  serial += 1;
  return serial.toString(16).padStart(16, "0");
}

async function exportRawPrivateKey(key: webcrypto.CryptoKey): Promise<Uint8Array> {
  const jwk = await webcrypto.subtle.exportKey("jwk", key);
  return Buffer.from(jwk.d as string, "base64url");
}

/** Signer over a raw P-256 private key; returns DER with low S, as Fabric peers require. */
export function p256Signer(privateKey: Uint8Array): Signer {
  return async (digest: Uint8Array) => p256.sign(digest, privateKey, { lowS: true }).toDERRawBytes();
}

/**
 * Native (OpenSSL) ECDSA over SHA-256 of the message, with S made low as Fabric requires: an order of
 * magnitude less CPU than signing the digest in JavaScript, which a submitted decision paid in process.
 */
export function nativeMessageSigner(privateKey: KeyObject): MessageSigner {
  return async (message: Uint8Array) => {
    const signature = nodeSign("sha256", message, { key: privateKey, dsaEncoding: "der" });
    const parsed = p256.Signature.fromDER(signature);
    return parsed.hasHighS() ? parsed.normalizeS().toDERRawBytes() : signature;
  };
}

/** An organisation's certificate authority: issues enrollment certificates for its MSP. */
export class CertificateAuthority {
  private constructor(
    readonly mspId: string,
    readonly certificate: x509.X509Certificate,
    private readonly keys: KeyPair,
    readonly publicKey: KeyObject,
  ) {}

  static async create(mspId: string, organisation = mspId.replace(/MSP$/, "")): Promise<CertificateAuthority> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as KeyPair;
    const name = `CN=ca.${organisation.toLowerCase()}.example.com, O=${organisation}, C=DE`;
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: nextSerial(),
      name,
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2099, 0, 1)),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 1, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    return new CertificateAuthority(mspId, certificate, keys, createPublicKey(certificate.toString("pem")));
  }

  get certificatePem(): string {
    return this.certificate.toString("pem");
  }

  /**
   * Enrolls a client: a fresh P-256 key and a certificate signed by this CA with the given
   * attributes in the fabric-ca extension.
   */
  async enroll(name: string, attributes: Record<string, string> = {}): Promise<EnrolledIdentity> {
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as KeyPair;
    const organisation = this.mspId.replace(/MSP$/, "");
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    ];
    if (Object.keys(attributes).length > 0) {
      extensions.push(new x509.Extension(FABRIC_ATTRS_OID, false, Buffer.from(JSON.stringify({ attrs: attributes }), "utf8")));
    }
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject: `CN=${name}, OU=client, O=${organisation}, C=DE`,
      issuer: this.certificate.subject,
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2099, 0, 1)),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions,
    });
    const certificatePem = certificate.toString("pem");
    return {
      mspId: this.mspId,
      name,
      attributes: { ...attributes },
      certificatePem,
      credentials: Buffer.from(certificatePem, "utf8"),
      signer: p256Signer(await exportRawPrivateKey(keys.privateKey)),
      signMessage: nativeMessageSigner(KeyObject.from(keys.privateKey)),
    };
  }

  /** True when `certificatePem` was issued by this CA (signature check of the certificate). */
  async issued(certificatePem: string): Promise<boolean> {
    try {
      const certificate = new x509.X509Certificate(certificatePem);
      return certificate.issuer === this.certificate.subject && (await certificate.verify({ publicKey: this.certificate.publicKey, signatureOnly: true }));
    } catch {
      return false;
    }
  }
}

/** Public keys of the certificates seen, parsed once (a peer caches its MSP identities the same way). */
const publicKeys = new Map<string, KeyObject>();

/** Verifies a DER ECDSA signature over sha256(message) with the certificate's public key, requiring low S. */
export function verifySignature(certificatePem: string, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const parsed = p256.Signature.fromDER(signature);
    if (parsed.hasHighS()) {
      return false;
    }
    let key = publicKeys.get(certificatePem);
    if (!key) {
      key = createPublicKey(certificatePem);
      publicKeys.set(certificatePem, key);
    }
    return nodeVerify("sha256", message, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}

export function sha256Digest(message: Uint8Array): Uint8Array {
  return sha256(message);
}

/**
 * The id fabric-shim's ClientIdentity.getID() gives this certificate on a peer:
 * "x509::<subject DN>::<issuer DN>" with /SHORTNAME=value components in certificate order.
 */
export function fabricClientId(certificatePem: string): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Certificate } = require("@fidm/x509");
  const certificate = Certificate.fromPEM(Buffer.from(certificatePem, "utf8"));
  const format = (dn: { attributes: Array<{ shortName: string; value: string }> }) =>
    dn.attributes.map((attribute) => `/${attribute.shortName}=${attribute.value.replace("/", "\\/")}`).join("");
  return `x509::${format(certificate.subject)}::${format(certificate.issuer)}`;
}
