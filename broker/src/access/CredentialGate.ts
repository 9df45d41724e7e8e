// Credential sign-in (docs/protocol.md §6.1, docs/identity.md §11): where a stream's policy asks for a
// proven claim ("accredited public researchers only", even on a free research stream), a subscriber signs
// in with EIP-4361 *and* an SD-JWT VC presentation bound to the session's nonce and this broker's audience,
// held by the signed-in account. The broker verifies it at sign-in (trust list, signature, validity, status
// list, key binding) and keeps what it proved for that address until the session or the credential ends;
// subscribe, resend and the chain tip of a stream with a policy then need such a proof (AccessPolicy hook).
import type { CredentialPolicy, IdentityError, PresentationVerifier, ProvenClaims } from "@datamarket/identity";
import { BrokerError, ErrorCodes } from "../errors";

let identityPackage: typeof import("@datamarket/identity") | undefined;
/**
 * The identity package, loaded on first use: a broker without credential policies never loads it (it
 * brings the SD-JWT, DID and consent-ledger modules, which doubled the broker's start time).
 */
export function identity(): typeof import("@datamarket/identity") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (identityPackage ??= require("@datamarket/identity") as typeof import("@datamarket/identity"));
}

/** A credential proven at sign-in, for one address. */
export interface ProvenCredential extends ProvenClaims {
  issuer: string;
  /** unix ms: the end of the session it was presented in, or of the credential's validity if earlier */
  until: number;
}

export interface CredentialGateOptions {
  /** verifies presentations: its audience is this broker's client_id, its trust list the issuers it accepts */
  verifier: PresentationVerifier;
  /** stream id (0x, 64 hex) -> the credential policy subscribing to it needs */
  policies: Readonly<Record<string, CredentialPolicy>>;
  /** most addresses with proofs remembered (oldest dropped first). Default 100,000. */
  maxAddresses?: number;
  /** ms clock (default Date.now) */
  clock?: () => number;
}

/** A presentation's key-binding JWT is at most this old when verified (the verifier's own bound), seconds. */
const SESSION_NONCE_TTL_SECONDS = 300;

export class CredentialGate {
  private readonly policies = new Map<string, CredentialPolicy>();
  private readonly proofs = new Map<string, ProvenCredential[]>();
  private readonly maxAddresses: number;
  private readonly clock: () => number;
  /** every credential type and claim some policy asks for: what a sign-in presentation is verified for */
  private readonly credentialTypes: string[];
  private readonly claims: string[];

  constructor(private readonly options: CredentialGateOptions) {
    for (const [streamId, policy] of Object.entries(options.policies)) this.policies.set(streamId.toLowerCase(), policy);
    this.maxAddresses = options.maxAddresses ?? 100_000;
    this.clock = options.clock ?? Date.now;
    const policies = [...this.policies.values()];
    this.credentialTypes = [...new Set(policies.flatMap((policy) => policy.credentialTypes))];
    this.claims = [...new Set(policies.flatMap((policy) => Object.keys(policy.claims)))];
  }

  /** The client_id presentations must name as `aud` (sent in the WebSocket hello). */
  get audience(): string {
    return this.options.verifier.audience;
  }

  policyOf(streamId: string): CredentialPolicy | undefined {
    return this.policies.get(streamId.toLowerCase());
  }

  /**
   * Verifies a presentation made at sign-in by `address` on the session `nonce`, and keeps what it proves
   * until `sessionEndsAt` (ms). Refusals are AUTHENTICATION_FAILED with the identity code in
   * `details.credentialCode` (CREDENTIAL_REVOKED, HOLDER_NOT_SIGNED_IN, PRESENTATION_REPLAYED, …).
   */
  async prove(address: string, nonce: string, presentation: unknown, sessionEndsAt: number): Promise<ProvenCredential> {
    const { IdentityError, verifySignInPresentation } = identity();
    let proven: ProvenCredential;
    try {
      if (typeof presentation !== "string")
        throw new IdentityError("MALFORMED_PRESENTATION", "presentation must be a string (an SD-JWT VC with a key-binding JWT)");
      this.admitNonce(nonce);
      const verified = await verifySignInPresentation(this.options.verifier, {
        address,
        nonce,
        presentation,
        credentialTypes: this.credentialTypes,
        optionalClaims: this.claims,
      });
      proven = { vct: verified.vct, issuer: verified.issuer, claims: verified.claims, until: Math.min(sessionEndsAt, verified.validUntil * 1000) };
    } catch (error) {
      const cause = error instanceof IdentityError ? error : new IdentityError("MALFORMED_PRESENTATION", (error as Error)?.message ?? String(error));
      throw new BrokerError(ErrorCodes.AUTHENTICATION_FAILED, `the credential presentation was refused: ${cause.message}`, {
        credentialCode: cause.code,
        ...cause.details,
      });
    }
    this.remember(address.toLowerCase(), proven);
    return proven;
  }

  /**
   * The AccessPolicy hook: refuses (SUBSCRIBE_NOT_ALLOWED, reason "credential-required", the policy and
   * why in the details) a subscriber of a stream with a policy that no live proof of its address satisfies;
   * otherwise returns when the longest satisfying proof ends (ms), so that a live subscription is cut then.
   */
  checkSubscribe(streamId: string, subscriber: string, now = this.clock()): number | undefined {
    const policy = this.policyOf(streamId);
    if (!policy) return undefined;
    const live = (this.proofs.get(subscriber.toLowerCase()) ?? []).filter((proof) => proof.until > now);
    const refusals = live.map((proof) => identity().policyRefusal(proof, policy));
    const satisfying = live.filter((_, i) => refusals[i] === null);
    if (satisfying.length > 0) return Math.max(...satisfying.map((proof) => proof.until));
    const why = refusals.find((refusal) => refusal?.code === "POLICY_NOT_SATISFIED") ?? refusals[0];
    throw new BrokerError(
      ErrorCodes.SUBSCRIBE_NOT_ALLOWED,
      why
        ? `${subscriber} proved no credential ${streamId} accepts: ${why.message}`
        : `${streamId} needs a credential (${policy.credentialTypes.join(", ")}): sign in with a presentation for audience ${this.audience}`,
      {
        streamId,
        subscriber,
        reason: "credential-required",
        policy,
        ...(why ? { credentialCode: why.code } : {}),
      },
    );
  }

  /** The session nonce as one of the verifier's: registered once, single use (a second presentation on it is a replay). */
  private admitNonce(nonce: string): void {
    try {
      this.options.verifier.nonces.check(nonce);
    } catch (error) {
      if ((error as IdentityError).code !== "NONCE_UNKNOWN") throw error;
      this.options.verifier.nonces.register(nonce, SESSION_NONCE_TTL_SECONDS);
    }
  }

  private remember(address: string, proven: ProvenCredential): void {
    const now = this.clock();
    // one proof per (issuer, type) and address: the latest replaces the earlier
    const kept = (this.proofs.get(address) ?? []).filter((proof) => proof.until > now && !(proof.issuer === proven.issuer && proof.vct === proven.vct));
    this.proofs.delete(address);
    if (this.proofs.size >= this.maxAddresses) this.proofs.delete(this.proofs.keys().next().value!);
    this.proofs.set(address, [...kept, proven]);
  }
}

/** What the broker answers at sign-in about a proven credential (`credential` of the `authenticated` reply). */
export interface CredentialSignInReply {
  vct: string;
  issuer: string;
  claims: Readonly<Record<string, unknown>>;
  /** unix ms: until when the proof opens the streams whose policy it satisfies */
  expiresAt: number;
}

/**
 * The `presentation` of a sign-in (WebSocket `auth` or HTTP `POST /auth/session`), verified by `gate`:
 * BAD_REQUEST when this broker has no credential policy, AUTHENTICATION_FAILED when refused.
 */
export async function proveAtSignIn(
  gate: CredentialGate | undefined,
  address: string,
  nonce: string,
  presentation: unknown,
  sessionEndsAt: number,
): Promise<CredentialSignInReply> {
  if (!gate) throw new BrokerError(ErrorCodes.BAD_REQUEST, "this broker takes no credential presentations (no stream asks for one)", { field: "presentation" });
  const proven = await gate.prove(address, nonce, presentation, sessionEndsAt);
  return { vct: proven.vct, issuer: proven.issuer, claims: proven.claims, expiresAt: proven.until };
}
