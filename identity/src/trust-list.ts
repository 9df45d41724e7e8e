// The trust list: which issuers the deployment trusts, for which credential types, with which keys,
// and where their status lists may live. It is configuration (docs/identity.md §5), not fetched: a
// verifier trusts exactly the keys its operator wrote down, like the EUDI trusted lists of issuers.
import { IdentityError } from "./errors";
import { publicJwk, publicKeyObject, type PublicJwk } from "./keys";
import { CredentialType, MSP_ID, schemaOf } from "./schemas";

/** Types that link a data subject to a custodian: their issuers must name the custodian MSP they speak for. */
const SUBJECT_LINK_TYPES: readonly string[] = [CredentialType.PatientCustodianLink, CredentialType.Enrolment];

/** One issuer as written in the deployment's configuration. */
export interface TrustedIssuerConfig {
  /** the issuer identifier, as in the credentials' `iss` (an https URL) */
  id: string;
  /** a display name */
  name: string;
  /** credential types (vct) this issuer is trusted for */
  credentialTypes: string[];
  /** its ES256 public keys; each with a unique `kid` (the credentials' header names it) */
  keys: Array<PublicJwk & { kid: string }>;
  /** URI prefixes its status lists must start with (empty: anywhere it signs) */
  statusListPrefixes?: string[];
  /** for issuers of subject links: the Fabric MSP of the custodian they speak for; a link naming another custodian is refused */
  custodianMspId?: string;
}

export interface TrustListConfig {
  issuers: TrustedIssuerConfig[];
}

export interface TrustedIssuer {
  id: string;
  name: string;
  credentialTypes: ReadonlySet<string>;
  statusListPrefixes: readonly string[];
  custodianMspId?: string;
  /** the key with this kid; with no kid, the issuer's only key (undefined when it has several) */
  keyFor(kid: string | undefined): PublicJwk | undefined;
}

function invalid(field: string, message: string): IdentityError {
  return new IdentityError("INVALID_CONFIG", `trust list ${field}: ${message}`, { field });
}

/** Validates a trust list and indexes it; every error names the field that is wrong. */
export class TrustList {
  private readonly issuers = new Map<string, TrustedIssuer>();

  constructor(config: TrustListConfig) {
    if (!config || !Array.isArray(config.issuers)) throw invalid("issuers", "must be an array");
    config.issuers.forEach((entry, i) => {
      const at = `issuers[${i}]`;
      if (!entry || typeof entry.id !== "string" || !/^https:\/\/[^\s]+$/.test(entry.id)) throw invalid(`${at}.id`, "must be an https URL");
      if (this.issuers.has(entry.id)) throw invalid(`${at}.id`, `${entry.id} is listed twice`);
      if (typeof entry.name !== "string" || entry.name.length === 0) throw invalid(`${at}.name`, "must be a non-empty string");
      if (!Array.isArray(entry.credentialTypes) || entry.credentialTypes.length === 0)
        throw invalid(`${at}.credentialTypes`, "must list at least one credential type");
      for (const vct of entry.credentialTypes) {
        try {
          schemaOf(vct);
        } catch {
          throw invalid(`${at}.credentialTypes`, `${String(vct)} is not a credential type of this deployment`);
        }
      }
      if (!Array.isArray(entry.keys) || entry.keys.length === 0) throw invalid(`${at}.keys`, "must list at least one key");
      const keys = new Map<string, PublicJwk>();
      entry.keys.forEach((key, k) => {
        if (typeof key?.kid !== "string" || key.kid.length === 0) throw invalid(`${at}.keys[${k}].kid`, "must be a non-empty string");
        if (keys.has(key.kid)) throw invalid(`${at}.keys[${k}].kid`, `${key.kid} is listed twice`);
        if (key.kty !== "EC" || key.crv !== "P-256") throw invalid(`${at}.keys[${k}]`, "issuer keys are P-256 (ES256)");
        if ("d" in key) throw invalid(`${at}.keys[${k}]`, "is a private key: the trust list holds public keys only");
        try {
          publicKeyObject(key);
          keys.set(key.kid, publicJwk(key));
        } catch {
          throw invalid(`${at}.keys[${k}]`, "is not a valid P-256 public key");
        }
      });
      const prefixes = entry.statusListPrefixes ?? [];
      if (!Array.isArray(prefixes) || prefixes.some((prefix) => typeof prefix !== "string" || !/^https?:\/\/[^\s]+\/$/.test(prefix))) {
        throw invalid(`${at}.statusListPrefixes`, "must be URL prefixes ending in /");
      }
      if (entry.custodianMspId !== undefined && (typeof entry.custodianMspId !== "string" || !MSP_ID.test(entry.custodianMspId))) {
        throw invalid(`${at}.custodianMspId`, "must be a Fabric MSP id");
      }
      if (entry.custodianMspId === undefined && entry.credentialTypes.some((vct) => SUBJECT_LINK_TYPES.includes(vct))) {
        throw invalid(`${at}.custodianMspId`, "is required of an issuer of subject links (the custodian MSP it speaks for)");
      }
      const only = keys.size === 1 ? [...keys.values()][0] : undefined;
      this.issuers.set(entry.id, {
        id: entry.id,
        name: entry.name,
        credentialTypes: new Set(entry.credentialTypes),
        statusListPrefixes: [...prefixes],
        custodianMspId: entry.custodianMspId,
        keyFor: (kid) => (kid === undefined ? only : keys.get(kid)),
      });
    });
  }

  /** The issuer `iss` if it is trusted for `vct`; ISSUER_NOT_TRUSTED otherwise. */
  issuerFor(iss: unknown, vct: string): TrustedIssuer {
    const issuer = typeof iss === "string" ? this.issuers.get(iss) : undefined;
    if (!issuer) throw new IdentityError("ISSUER_NOT_TRUSTED", `issuer ${String(iss).slice(0, 200)} is not in the trust list`, { issuer: iss });
    if (!issuer.credentialTypes.has(vct)) throw new IdentityError("ISSUER_NOT_TRUSTED", `issuer ${issuer.id} is not trusted for ${vct}`, { issuer: iss, vct });
    return issuer;
  }

  /** The issuer with this id, whatever it is trusted for (status checks). */
  issuer(id: string): TrustedIssuer | undefined {
    return this.issuers.get(id);
  }
}
