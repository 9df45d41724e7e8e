// Holder DIDs: did:pkh for a holder with an Ethereum wallet (the DID is its account), did:key (P-256)
// for a holder without one. Resolution goes through `did-resolver` with the Ceramic `pkh-did-resolver`
// and `key-did-resolver` drivers; this module only checks that a credential's confirmation key
// (cnf.jwk) is a key of the DID it is issued to.
import { ECDH } from "node:crypto";
import { Resolver, type DIDDocument, type VerificationMethod } from "did-resolver";
import { getResolver as keyDidResolver } from "key-did-resolver";
import { getResolver as pkhDidResolver } from "pkh-did-resolver";
import { encodeBase58, isAddress } from "ethers";
import { IdentityError } from "./errors";
import { PublicJwk, ethereumAddressOf, publicJwk, publicKeyObject, sameKey } from "./keys";

/** Multicodec p256-pub (0x1200) as its unsigned varint: the prefix of a compressed P-256 key in a did:key. */
const P256_PUB_PREFIX = Uint8Array.from([0x80, 0x24]);

// no cache: both methods resolve by computation, and a cache would grow with every holder seen
const resolver = new Resolver({ ...keyDidResolver(), ...pkhDidResolver() });

/** Bindings already verified (deterministic for these two methods), most recent last; bounded. */
const verifiedBindings = new Map<string, HolderBinding>();
const MAX_CACHED_BINDINGS = 10_000;

/** What a verified holder binding tells: the DID, its method and, for did:pkh, the Ethereum address. */
export interface HolderBinding {
  did: string;
  method: "pkh" | "key";
  /** lowercase 0x address of a did:pkh holder (chain independent) */
  ethAddress?: string;
}

/** did:pkh of an Ethereum account (CAIP-10, eip155 namespace; the address in lowercase). */
export function didPkh(address: string, chainId = 1): string {
  if (!isAddress(address)) throw new IdentityError("UNSUPPORTED_DID", `"${address}" is not an Ethereum address`);
  if (!Number.isSafeInteger(chainId) || chainId < 1) throw new IdentityError("UNSUPPORTED_DID", `chain id ${chainId} is not a positive integer`);
  return `did:pkh:eip155:${chainId}:${address.toLowerCase()}`;
}

/** did:key of a P-256 public key: multibase base58btc of multicodec p256-pub ‖ compressed point. */
export function didKey(jwk: PublicJwk): string {
  if (jwk.crv !== "P-256") throw new IdentityError("UNSUPPORTED_DID", `did:key holders use P-256 keys, not ${jwk.crv}`);
  const spki = publicKeyObject(jwk).export({ format: "der", type: "spki" });
  const uncompressed = spki.subarray(spki.length - 65);
  const compressed = ECDH.convertKey(uncompressed, "prime256v1", undefined, undefined, "compressed") as Buffer;
  // multibase "z" = base58btc (the Bitcoin alphabet, ethers' encodeBase58)
  return `did:key:z${encodeBase58(Uint8Array.from([...P256_PUB_PREFIX, ...compressed]))}`;
}

/** Resolves `did` (did:pkh or did:key only) and returns its DID document. */
async function resolveDocument(did: string): Promise<DIDDocument> {
  if (typeof did !== "string" || !/^did:(pkh|key):/.test(did) || did.length > 512) {
    throw new IdentityError("UNSUPPORTED_DID", `holder DID "${String(did).slice(0, 80)}" is neither did:pkh nor did:key`, { did });
  }
  let document: DIDDocument | null = null;
  let error: string | undefined;
  try {
    const resolution = await resolver.resolve(did);
    document = resolution.didDocument;
    error = resolution.didResolutionMetadata.error;
  } catch (cause) {
    throw new IdentityError("UNSUPPORTED_DID", `holder DID ${did} does not resolve`, { did }, { cause });
  }
  if (!document || error) throw new IdentityError("UNSUPPORTED_DID", `holder DID ${did} does not resolve (${error ?? "no document"})`, { did, error });
  return document;
}

/**
 * Checks that `cnf` (the credential's confirmation key, which signs the key-binding JWT) is a key of
 * the holder DID `did`:
 *   did:key — the DID document's key is `cnf` (P-256);
 *   did:pkh (eip155) — `cnf` is the secp256k1 key whose Ethereum address is the DID's account.
 */
export async function verifyHolderBinding(did: string, cnf: PublicJwk): Promise<HolderBinding> {
  const cacheKey = `${did}|${cnf.crv}|${cnf.x}|${cnf.y}`;
  const cached = verifiedBindings.get(cacheKey);
  if (cached) return { ...cached };
  const binding = await resolveBinding(did, cnf);
  verifiedBindings.set(cacheKey, binding);
  if (verifiedBindings.size > MAX_CACHED_BINDINGS) verifiedBindings.delete(verifiedBindings.keys().next().value as string);
  return { ...binding };
}

async function resolveBinding(did: string, cnf: PublicJwk): Promise<HolderBinding> {
  const document = await resolveDocument(did);
  const methods: VerificationMethod[] = document.verificationMethod ?? [];
  if (did.startsWith("did:pkh:")) {
    const account = methods.map((method) => method.blockchainAccountId).find((id): id is string => typeof id === "string");
    const match = account ? /^eip155:[0-9]+:(0x[0-9a-fA-F]{40})$/.exec(account) : null;
    if (!match || !isAddress(match[1])) throw new IdentityError("UNSUPPORTED_DID", `did:pkh ${did} is not an eip155 account`, { did });
    const ethAddress = match[1].toLowerCase();
    if (cnf.crv !== "secp256k1" || ethereumAddressOf(cnf) !== ethAddress) {
      throw new IdentityError("HOLDER_BINDING_MISMATCH", `the credential's key is not the key of ${ethAddress}`, { did });
    }
    return { did, method: "pkh", ethAddress };
  }
  const keys = methods.map((method) => method.publicKeyJwk).filter((jwk) => jwk !== undefined);
  if (keys.length === 0) throw new IdentityError("UNSUPPORTED_DID", `did:key ${did} is not a P-256 key`, { did });
  if (!keys.some((jwk) => jwk.kty === "EC" && jwk.crv === "P-256" && sameKey(publicJwk(jwk), cnf))) {
    throw new IdentityError("HOLDER_BINDING_MISMATCH", `the credential's key is not the key of ${did}`, { did });
  }
  return { did, method: "key" };
}
