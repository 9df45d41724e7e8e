// The relying party's verification of an SD-JWT VC presentation, as OpenID4VP and the EUDI wallet's
// architecture expect of a verifier: the issuer is in the trust list for this credential type and
// signed with a listed key; the credential is within its validity period and not revoked or suspended
// in its issuer's status list; the key-binding JWT is signed by the credential's cnf key, hashes the
// disclosures presented (sd_hash), names this verifier as `aud`, carries a nonce this verifier issued
// and has not seen used, and is fresh; cnf is the key of the holder DID; the required claims are
// disclosed and valid. Parsing, digests and the JWS checks are @sd-jwt/core's; the status list is
// @sd-jwt/jwt-status-list's, decoded once per token by the StatusListResolver (SDJwtVcInstance.verify
// would inflate the whole list again for every presentation: 30 ms for 65,536 entries). Each refusal
// is an IdentityError with its own code.
import { SDJwt, SDJwtInstance, type SdJwtPayload } from "@sd-jwt/core";
import { digest } from "@sd-jwt/crypto-nodejs";
import { IdentityError, asIdentityError } from "./errors";
import { verifyHolderBinding, type HolderBinding } from "./did";
import { algorithmOf, jwsVerifier, publicJwk, type PublicJwk } from "./keys";
import type { NonceStore } from "./nonces";
import { credentialReference, type CredentialReference } from "./reference";
import { REGISTERED_CLAIMS, validateDisclosedClaims } from "./schemas";
import { refuseStatus, type StatusListResolver } from "./status-list";
import type { TrustList, TrustedIssuer } from "./trust-list";

/** Longest presentation accepted, characters (an SD-JWT VC with a few claims is ~1-2 KB). */
export const MAX_PRESENTATION_LENGTH = 64 * 1024;
/** `typ` values of an SD-JWT VC: `dc+sd-jwt` (current), `vc+sd-jwt` (drafts before 06). */
const CREDENTIAL_TYPES = ["dc+sd-jwt", "vc+sd-jwt"];

export interface PresentationVerifierOptions {
  trustList: TrustList;
  /** this relying party's client_id: the key-binding JWT's `aud` must be exactly this */
  audience: string;
  statusLists: StatusListResolver;
  nonces: NonceStore;
  /** ms clock (default Date.now) */
  clock?: () => number;
  /** clock difference tolerated with issuers and holders, seconds (default 60) */
  clockSkewSeconds?: number;
  /** oldest key-binding JWT accepted, seconds (default 300) */
  maxPresentationAgeSeconds?: number;
}

/** What one request asks for (OpenID4VP: the DCQL credential query and the nonce of the request). */
export interface PresentationRequirements {
  /** accepted credential types (vct) */
  credentialTypes: readonly string[];
  /** claims that must be disclosed */
  requiredClaims: readonly string[];
  /** claims that may be disclosed and are returned too; any other disclosed claim is dropped */
  optionalClaims?: readonly string[];
  /** the nonce this verifier issued for the request */
  nonce: string;
  /** sign-in: the account that signed EIP-4361, which must hold the credential (HOLDER_NOT_SIGNED_IN otherwise) */
  holderAddress?: string;
}

export interface VerifiedPresentation {
  issuer: string;
  issuerName: string;
  vct: string;
  credentialId: string;
  holder: HolderBinding;
  /** the requested claims that were disclosed, each checked against the type's schema */
  claims: Record<string, unknown>;
  /** unix seconds */
  validFrom: number;
  /** unix seconds */
  validUntil: number;
  /** when the holder signed the presentation (key-binding iat), unix seconds */
  presentedAt: number;
  reference: CredentialReference;
}

interface CredentialPayload {
  iss?: unknown;
  sub?: unknown;
  vct?: unknown;
  jti?: unknown;
  iat?: unknown;
  nbf?: unknown;
  exp?: unknown;
  cnf?: { jwk?: unknown };
  status?: { status_list?: { uri?: unknown; idx?: unknown } };
}

function malformed(message: string, details: Record<string, unknown> = {}): IdentityError {
  return new IdentityError("MALFORMED_PRESENTATION", message, details);
}

export class PresentationVerifier {
  readonly audience: string;
  private readonly clock: () => number;
  private readonly skew: number;
  private readonly maxAge: number;
  /** issuer keys imported once (the trust list's key objects are stable) */
  private readonly issuerVerifiers = new WeakMap<PublicJwk, (data: string, signature: string) => boolean>();
  /** holder keys imported once, most recent last; bounded */
  private readonly holderVerifiers = new Map<string, (data: string, signature: string) => boolean>();

  constructor(private readonly options: PresentationVerifierOptions) {
    if (typeof options.audience !== "string" || options.audience.length === 0) {
      throw new IdentityError("INVALID_CONFIG", "the verifier's audience (client_id) must be a non-empty string", { field: "audience" });
    }
    this.audience = options.audience;
    this.clock = options.clock ?? Date.now;
    this.skew = options.clockSkewSeconds ?? 60;
    this.maxAge = options.maxPresentationAgeSeconds ?? 300;
  }

  get nonces(): NonceStore {
    return this.options.nonces;
  }

  /** Verifies `presentation` against `requirements`; consumes its nonce when, and only when, it is accepted. */
  async verify(presentation: string, requirements: PresentationRequirements): Promise<VerifiedPresentation> {
    if (typeof presentation !== "string" || presentation.length === 0 || presentation.length > MAX_PRESENTATION_LENGTH) {
      throw malformed(`a presentation is a string of 1 to ${MAX_PRESENTATION_LENGTH} characters`);
    }
    let decoded: SDJwt;
    try {
      decoded = await SDJwt.fromEncode(presentation, digest);
    } catch (error) {
      throw asIdentityError(error, "MALFORMED_PRESENTATION", "the presentation is not an SD-JWT");
    }
    const header = decoded.jwt?.header ?? {};
    const payload = (decoded.jwt?.payload ?? {}) as CredentialPayload;
    if (!CREDENTIAL_TYPES.includes(String(header.typ))) throw malformed(`the credential's typ is ${String(header.typ)}, not dc+sd-jwt`);
    if (header.alg !== "ES256") throw malformed(`the credential is signed ${String(header.alg)}; issuers sign ES256`);
    if (typeof payload.vct !== "string") throw malformed("the credential has no vct");
    if (!requirements.credentialTypes.includes(payload.vct)) {
      throw new IdentityError("WRONG_CREDENTIAL_TYPE", `a ${payload.vct} was presented; the request accepts ${requirements.credentialTypes.join(", ")}`, {
        vct: payload.vct,
      });
    }

    const issuer = this.options.trustList.issuerFor(payload.iss, payload.vct);
    const issuerKey = issuer.keyFor(typeof header.kid === "string" ? header.kid : undefined);
    if (!issuerKey)
      throw new IdentityError("ISSUER_NOT_TRUSTED", `issuer ${issuer.id} has no trusted key ${String(header.kid)}`, { issuer: issuer.id, kid: header.kid });

    const { jti, sub, status } = payload;
    if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) throw malformed("the credential has no jti (credential id)");
    if (typeof sub !== "string") throw malformed("the credential has no sub (holder DID)");
    const statusUri = status?.status_list?.uri;
    const statusIndex = status?.status_list?.idx;
    if (typeof statusUri !== "string" || !Number.isSafeInteger(statusIndex) || (statusIndex as number) < 0) {
      throw malformed("the credential has no status list entry: this deployment accepts only revocable credentials");
    }
    let holderKey: PublicJwk;
    try {
      holderKey = publicJwk((payload.cnf?.jwk ?? {}) as PublicJwk);
    } catch (error) {
      throw asIdentityError(error, "MALFORMED_PRESENTATION", "the credential's cnf.jwk is not an accepted key");
    }

    const now = Math.floor(this.clock() / 1000);
    this.checkValidity(payload, now);

    const kb = decoded.kbJwt;
    if (!kb?.header || !kb.payload) throw malformed("the presentation has no key-binding JWT");
    if (kb.header.alg !== algorithmOf(holderKey))
      throw new IdentityError("KEY_BINDING_INVALID", `the key-binding JWT is ${String(kb.header.alg)}, the holder key is ${algorithmOf(holderKey)}`);
    const { aud, nonce, iat } = kb.payload;
    if (aud !== this.audience)
      throw new IdentityError("WRONG_AUDIENCE", `the presentation is for ${String(aud)}, this verifier is ${this.audience}`, { audience: aud });
    if (typeof nonce !== "string") throw malformed("the key-binding JWT has no nonce");
    this.options.nonces.check(nonce);
    if (nonce !== requirements.nonce) throw new IdentityError("NONCE_UNKNOWN", "the presentation's nonce is not the one of this request", { nonce });
    if (typeof iat !== "number" || iat > now + this.skew || iat < now - this.maxAge - this.skew) {
      throw new IdentityError("KEY_BINDING_INVALID", `the key-binding JWT's iat ${String(iat)} is outside [now - ${this.maxAge} s, now]`, { iat, now });
    }

    let verified: Awaited<ReturnType<SDJwtInstance<SdJwtPayload>["verify"]>>;
    try {
      verified = await this.library(issuer, issuerKey, holderKey).verify(presentation, { currentDate: now, skewSeconds: this.skew, keyBindingNonce: nonce });
    } catch (error) {
      throw classify(error);
    }
    // the status, once the issuer's signature has made the (uri, idx) trustworthy
    refuseStatus(await this.options.statusLists.status(statusUri, statusIndex as number, issuer), { uri: statusUri, idx: statusIndex as number });

    const holder = await verifyHolderBinding(sub, holderKey);
    if (requirements.holderAddress !== undefined && holder.ethAddress !== requirements.holderAddress.toLowerCase()) {
      throw new IdentityError(
        "HOLDER_NOT_SIGNED_IN",
        `the credential is held by ${holder.did}, not by the signed-in ${requirements.holderAddress.toLowerCase()}`,
        { holder: holder.did },
      );
    }
    const claims = this.disclosedClaims(verified.payload as Record<string, unknown>, payload.vct, requirements, issuer, holder);
    this.options.nonces.consume(nonce);
    return {
      issuer: issuer.id,
      issuerName: issuer.name,
      vct: payload.vct,
      credentialId: jti,
      holder,
      claims,
      validFrom: typeof payload.nbf === "number" ? payload.nbf : (payload.iat as number),
      validUntil: payload.exp as number,
      presentedAt: iat,
      reference: credentialReference({
        issuer: issuer.id,
        credentialId: jti,
        vct: payload.vct,
        statusListUri: statusUri,
        statusListIndex: statusIndex as number,
      }),
    };
  }

  /** exp is required; nbf and iat must not be in the future (with the tolerated skew). */
  private checkValidity(payload: CredentialPayload, now: number): void {
    if (typeof payload.exp !== "number") throw malformed("the credential has no exp: this deployment accepts only credentials that expire");
    if (payload.exp + this.skew < now)
      throw new IdentityError("CREDENTIAL_EXPIRED", `the credential expired at ${payload.exp} (now ${now})`, { exp: payload.exp, now });
    for (const field of ["nbf", "iat"] as const) {
      const value = payload[field];
      if (value !== undefined && (typeof value !== "number" || value - this.skew > now)) {
        throw new IdentityError("CREDENTIAL_NOT_YET_VALID", `the credential's ${field} ${String(value)} is in the future (now ${now})`, {
          [field]: value,
          now,
        });
      }
    }
  }

  /** An SD-JWT instance whose callbacks hold this issuer's key and this holder's key. */
  private library(issuer: TrustedIssuer, issuerKey: PublicJwk, holderKey: PublicJwk): SDJwtInstance<SdJwtPayload> {
    let issuerSignature = this.issuerVerifiers.get(issuerKey);
    if (!issuerSignature) {
      issuerSignature = jwsVerifier(issuerKey);
      this.issuerVerifiers.set(issuerKey, issuerSignature);
    }
    const holderSignature = this.holderVerifier(holderKey);
    return new SDJwtInstance<SdJwtPayload>({
      hasher: digest,
      verifier: (data, signature) => {
        if (!(issuerSignature as (data: string, signature: string) => boolean)(data, signature))
          throw new IdentityError("INVALID_SIGNATURE", `the credential's signature does not verify with ${issuer.id}'s key`, { issuer: issuer.id });
        return true;
      },
      kbVerifier: (data, signature) => {
        if (!holderSignature(data, signature))
          throw new IdentityError("KEY_BINDING_INVALID", "the key-binding JWT's signature does not verify with the credential's cnf key");
        return true;
      },
    });
  }

  private holderVerifier(key: PublicJwk): (data: string, signature: string) => boolean {
    const id = `${key.crv}|${key.x}|${key.y}`;
    let verifier = this.holderVerifiers.get(id);
    if (!verifier) {
      verifier = jwsVerifier(key);
      this.holderVerifiers.set(id, verifier);
      if (this.holderVerifiers.size > 10_000) this.holderVerifiers.delete(this.holderVerifiers.keys().next().value as string);
    }
    return verifier;
  }

  private disclosedClaims(
    all: Record<string, unknown>,
    vct: string,
    requirements: PresentationRequirements,
    issuer: TrustedIssuer,
    holder: HolderBinding,
  ): Record<string, unknown> {
    const registered = new Set<string>(REGISTERED_CLAIMS);
    const disclosed = Object.fromEntries(Object.entries(all).filter(([name]) => !registered.has(name) && !name.startsWith("_sd")));
    validateDisclosedClaims(vct, disclosed);
    const missing = requirements.requiredClaims.filter((name) => !(name in disclosed));
    if (missing.length > 0) throw new IdentityError("UNDISCLOSED_CLAIM", `the presentation does not disclose ${missing.join(", ")}`, { missing });
    if (disclosed.ethereum_address !== undefined && disclosed.ethereum_address !== holder.ethAddress) {
      throw new IdentityError("HOLDER_BINDING_MISMATCH", `ethereum_address ${String(disclosed.ethereum_address)} is not the holder's account`, {
        did: holder.did,
      });
    }
    if (disclosed.custodian !== undefined && issuer.custodianMspId !== undefined && disclosed.custodian !== issuer.custodianMspId) {
      throw new IdentityError("ISSUER_NOT_TRUSTED", `${issuer.id} speaks for custodian ${issuer.custodianMspId}, not ${String(disclosed.custodian)}`, {
        issuer: issuer.id,
      });
    }
    const wanted = new Set([...requirements.requiredClaims, ...(requirements.optionalClaims ?? [])]);
    return Object.fromEntries(Object.entries(disclosed).filter(([name]) => wanted.has(name)));
  }
}

/** The library's exceptions as typed errors (our callbacks already throw typed ones, which pass through). */
function classify(error: unknown): IdentityError {
  if (error instanceof IdentityError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/sd_hash|Key Binding|Invalid Nonce/i.test(message)) return asIdentityError(error, "KEY_BINDING_INVALID", "the key-binding JWT is not valid");
  return asIdentityError(error, "MALFORMED_PRESENTATION", "the presentation does not verify");
}
