// An issuer the deployment trusts (an accreditation body, a hospital, a university): issues SD-JWT VC
// credentials (`typ: dc+sd-jwt`, ES256) to a holder DID with the holder's key as `cnf.jwk`, every
// claim selectively disclosable, an index in its status list; revokes and suspends through that list.
// The JWS is built by @sd-jwt/sd-jwt-vc; this class only decides what goes into it.
import { randomUUID } from "node:crypto";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { digest, generateSalt } from "@sd-jwt/crypto-nodejs";
import { IdentityError } from "./errors";
import { verifyHolderBinding } from "./did";
import { jwsSigner, publicJwk, type PrivateJwk, type PublicJwk } from "./keys";
import { credentialReference, type CredentialReference } from "./reference";
import { CredentialStatus, IssuerStatusList } from "./status-list";
import { schemaOf, validateClaims } from "./schemas";
import type { TrustedIssuerConfig } from "./trust-list";

export interface CredentialIssuerOptions {
  /** issuer identifier (https URL): the credentials' `iss` and its trust-list id */
  id: string;
  name: string;
  /** its ES256 signing key, with the kid the trust list names */
  signingKey: PrivateJwk & { kid: string };
  /** credential types it issues */
  credentialTypes: string[];
  statusList: IssuerStatusList;
  /** for hospitals and universities: the MSP its subject links name as custodian */
  custodianMspId?: string;
  /** ms clock (default Date.now) */
  clock?: () => number;
  /** decoy digests added to each credential so that the number of claims does not show (default 2) */
  decoys?: number;
}

export interface IssueRequest {
  vct: string;
  /** the holder DID (did:pkh or did:key) */
  holder: string;
  /** the holder's public key, bound as cnf.jwk: the key of `holder` (checked) */
  holderKey: PublicJwk;
  claims: Record<string, unknown>;
  /** unix seconds (default now) */
  validFrom?: number;
  /** seconds (default: the type's) */
  validitySeconds?: number;
}

export interface IssuedCredential {
  /** the SD-JWT VC: issuer-signed JWT ~ every disclosure ~ */
  credential: string;
  reference: CredentialReference;
}

export class CredentialIssuer {
  readonly id: string;
  readonly statusList: IssuerStatusList;
  private readonly sdJwt: SDJwtVcInstance;
  private readonly signer: (data: string) => string;
  private readonly clock: () => number;
  private readonly issued = new Map<string, number>();

  constructor(private readonly options: CredentialIssuerOptions) {
    this.id = options.id;
    this.statusList = options.statusList;
    this.clock = options.clock ?? Date.now;
    this.signer = jwsSigner(options.signingKey);
    for (const vct of options.credentialTypes) schemaOf(vct);
    this.sdJwt = new SDJwtVcInstance({ signer: this.signer, signAlg: "ES256", hasher: digest, hashAlg: "sha-256", saltGenerator: generateSalt });
  }

  /** What the deployment writes into its trust list for this issuer (public key only). */
  trustListEntry(): TrustedIssuerConfig {
    const prefix = this.statusList.uri.slice(0, this.statusList.uri.lastIndexOf("/") + 1);
    return {
      id: this.id,
      name: this.options.name,
      credentialTypes: [...this.options.credentialTypes],
      keys: [{ ...publicJwk(this.options.signingKey), kid: this.options.signingKey.kid }],
      statusListPrefixes: [prefix],
      ...(this.options.custodianMspId ? { custodianMspId: this.options.custodianMspId } : {}),
    };
  }

  /** Issues a credential after checking the claims against the type's schema and the holder's key against its DID. */
  async issue(request: IssueRequest): Promise<IssuedCredential> {
    if (!this.options.credentialTypes.includes(request.vct)) {
      throw new IdentityError("WRONG_CREDENTIAL_TYPE", `${this.id} does not issue ${request.vct}`, { vct: request.vct });
    }
    const schema = schemaOf(request.vct);
    const claims = validateClaims(request.vct, request.claims);
    const holderKey = publicJwk(request.holderKey);
    const binding = await verifyHolderBinding(request.holder, holderKey);
    if (!schema.holderMethods.includes(binding.method)) {
      throw new IdentityError("UNSUPPORTED_DID", `${request.vct} is not issued to did:${binding.method} holders`, { did: request.holder });
    }
    if (claims.ethereum_address !== undefined && claims.ethereum_address !== binding.ethAddress) {
      throw new IdentityError(
        "INVALID_CLAIMS",
        `ethereum_address ${String(claims.ethereum_address)} is not the holder's account ${binding.ethAddress ?? "(did:key: none)"}`,
        { did: request.holder },
      );
    }
    if (this.options.custodianMspId !== undefined && claims.custodian !== undefined && claims.custodian !== this.options.custodianMspId) {
      throw new IdentityError("INVALID_CLAIMS", `custodian ${String(claims.custodian)} is not this issuer's ${this.options.custodianMspId}`, {
        custodian: claims.custodian,
      });
    }
    const now = Math.floor(this.clock() / 1000);
    const validFrom = request.validFrom ?? now;
    const validitySeconds = request.validitySeconds ?? schema.defaultValiditySeconds;
    if (!Number.isSafeInteger(validFrom) || !Number.isSafeInteger(validitySeconds) || validitySeconds < 1) {
      throw new IdentityError("INVALID_CLAIMS", `validFrom ${validFrom} / validitySeconds ${validitySeconds} must be positive integers`);
    }
    const credentialId = `urn:uuid:${randomUUID()}`;
    const index = this.statusList.allocate();
    const payload = {
      iss: this.id,
      sub: request.holder,
      iat: now,
      nbf: validFrom,
      exp: validFrom + validitySeconds,
      vct: request.vct,
      jti: credentialId,
      cnf: { jwk: holderKey },
      status: { status_list: { idx: index, uri: this.statusList.uri } },
      ...claims,
    };
    const credential = await this.sdJwt.issue(payload, { _sd: Object.keys(claims), _sd_decoy: this.options.decoys ?? 2 } as never, {
      header: { kid: this.options.signingKey.kid },
    });
    this.issued.set(credentialId, index);
    return {
      credential,
      reference: credentialReference({ issuer: this.id, credentialId, vct: request.vct, statusListUri: this.statusList.uri, statusListIndex: index }),
    };
  }

  /** Marks the credential invalid in the status list (permanent). */
  revoke(credentialId: string): void {
    this.statusList.setStatus(this.indexOf(credentialId), CredentialStatus.Invalid);
  }

  /** Marks the credential suspended (reversible with reinstate). */
  suspend(credentialId: string): void {
    this.statusList.setStatus(this.indexOf(credentialId), CredentialStatus.Suspended);
  }

  reinstate(credentialId: string): void {
    const index = this.indexOf(credentialId);
    if (this.statusList.status(index) === CredentialStatus.Invalid) {
      throw new IdentityError("CREDENTIAL_REVOKED", `credential ${credentialId} is revoked: revocation is permanent`, { credentialId });
    }
    this.statusList.setStatus(index, CredentialStatus.Valid);
  }

  /** The current signed status list token (valid `validitySeconds`, cacheable `ttlSeconds`). */
  statusListToken(options: { validitySeconds?: number; ttlSeconds?: number } = {}): Promise<string> {
    return this.statusList.token({
      issuer: this.id,
      kid: this.options.signingKey.kid,
      signer: this.signer,
      now: Math.floor(this.clock() / 1000),
      validitySeconds: options.validitySeconds ?? 24 * 3600,
      ttlSeconds: options.ttlSeconds ?? 300,
    });
  }

  private indexOf(credentialId: string): number {
    const index = this.issued.get(credentialId);
    if (index === undefined) throw new IdentityError("UNKNOWN_CREDENTIAL", `${this.id} has not issued ${credentialId}`, { credentialId });
    return index;
  }
}
