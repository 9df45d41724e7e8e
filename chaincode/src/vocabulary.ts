// The controlled vocabularies of a consent record: a W3C DPV purpose subset with its hierarchy,
// DPV personal-data categories with the GDPR Art. 9 special-category flag, legal bases, buyer types
// and jurisdictions. Only names listed here are accepted; anything else is refused with a typed error.

/**
 * DPV purposes (local names of https://w3id.org/dpv#) and their direct parents. A purpose may have
 * several parents, as in DPV (PersonalisedAdvertising is both Advertising and Personalisation).
 */
export const PURPOSE_PARENTS: Readonly<Record<string, readonly string[]>> = {
  Purpose: [],
  ResearchAndDevelopment: ["Purpose"],
  AcademicResearch: ["ResearchAndDevelopment"],
  ScientificResearch: ["ResearchAndDevelopment"],
  CommercialResearch: ["ResearchAndDevelopment"],
  NonCommercialResearch: ["ResearchAndDevelopment"],
  Marketing: ["Purpose"],
  Advertising: ["Marketing"],
  DirectMarketing: ["Marketing"],
  Personalisation: ["Purpose"],
  PersonalisedAdvertising: ["Advertising", "Personalisation"],
  ServiceProvision: ["Purpose"],
  ServicePersonalisation: ["Personalisation", "ServiceProvision"],
  ServiceOptimisation: ["ServiceProvision"],
  EnforceSecurity: ["Purpose"],
  FraudPreventionAndDetection: ["EnforceSecurity"],
  HumanResourceManagement: ["Purpose"],
  PersonnelManagement: ["HumanResourceManagement"],
  PersonnelHiring: ["PersonnelManagement"],
};

export function isKnownPurpose(purpose: string): boolean {
  return Object.prototype.hasOwnProperty.call(PURPOSE_PARENTS, purpose);
}

/** All ancestors of a purpose including itself (the hierarchy is a small DAG; no cycles). */
export function purposeAncestors(purpose: string): Set<string> {
  const seen = new Set<string>();
  const pending = [purpose];
  while (pending.length > 0) {
    const next = pending.pop() as string;
    if (!seen.has(next)) {
      seen.add(next);
      pending.push(...(PURPOSE_PARENTS[next] ?? []));
    }
  }
  return seen;
}

/** True when consent for any of `consented` covers `requested` (equal, or an ancestor of it). */
export function purposeCovered(consented: readonly string[], requested: string): boolean {
  const ancestors = purposeAncestors(requested);
  return consented.some((purpose) => ancestors.has(purpose));
}

/**
 * DPV personal-data categories (https://w3id.org/dpv/pd#) accepted in consent records, with whether
 * GDPR Art. 9 makes them a special category. The flag is decided here, never taken from input.
 */
export const DATA_CATEGORIES: Readonly<Record<string, boolean>> = {
  Health: true,
  HealthRecord: true,
  HealthHistory: true,
  PhysicalHealth: true,
  MentalHealth: true,
  Genetic: true,
  Biometric: true,
  Education: false,
  EducationExperience: false,
  EducationQualification: false,
  Credential: false,
  Age: false,
  Gender: false,
  Location: false,
  Professional: false,
};

/** GDPR legal bases (article references) a consent record may state. */
export const LEGAL_BASES: Readonly<Record<string, string>> = {
  "A6-1-a": "Consent (GDPR Art. 6(1)(a))",
  "A9-2-a": "Explicit consent (GDPR Art. 9(2)(a))",
};
/** The legal basis that allows processing of special-category data under consent. */
export const EXPLICIT_CONSENT = "A9-2-a";

/** Buyer types a consent may allow; a buyer's own type comes from its certificate. */
export const BUYER_TYPES: readonly string[] = ["PublicResearch", "PrivateCompany", "PublicHealthBody", "EducationInstitution", "NonProfit"];

/** EU member states (ISO 3166-1 alpha-2). */
export const EU_COUNTRIES: readonly string[] = [
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
];
/** EEA = EU + Iceland, Liechtenstein, Norway. */
export const EEA_COUNTRIES: readonly string[] = [...EU_COUNTRIES, "IS", "LI", "NO"];
/** Countries with an EU adequacy decision (GDPR Art. 45) that a consent may name individually. */
export const ADEQUACY_COUNTRIES: readonly string[] = ["AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY"];
/** Named groups a consent may use instead of listing countries. */
export const JURISDICTION_GROUPS: Readonly<Record<string, readonly string[]>> = {
  EU: EU_COUNTRIES,
  EEA: EEA_COUNTRIES,
  ADEQUACY: ADEQUACY_COUNTRIES,
};

/** A jurisdiction a consent may name: a group, or an EEA / adequacy country. */
export function isAllowedJurisdictionEntry(entry: string): boolean {
  return Object.prototype.hasOwnProperty.call(JURISDICTION_GROUPS, entry) || EEA_COUNTRIES.includes(entry) || ADEQUACY_COUNTRIES.includes(entry);
}

/** True when a buyer established in `country` falls under one of the consented entries. */
export function jurisdictionCovered(allowed: readonly string[], country: string): boolean {
  return allowed.some((entry) => entry === country || (JURISDICTION_GROUPS[entry]?.includes(country) ?? false));
}

/** Consent statuses after DPV (https://w3id.org/dpv#ConsentStatus). */
export const ConsentStatus = {
  Requested: "ConsentRequested",
  Refused: "ConsentRefused",
  Given: "ConsentGiven",
  RenewedGiven: "RenewedConsentGiven",
  Withdrawn: "ConsentWithdrawn",
  Revoked: "ConsentRevoked",
  Expired: "ConsentExpired",
} as const;
export type ConsentStatus = (typeof ConsentStatus)[keyof typeof ConsentStatus];

/** Statuses under which the consent allows processing (subject to its validity window). */
export const VALID_STATUSES: readonly string[] = [ConsentStatus.Given, ConsentStatus.RenewedGiven];

/** Machine-readable reasons an access request (or one subject of a dataset request) is denied. */
export const DenialReason = {
  NO_CONSENT: "NO_CONSENT",
  PURPOSE_NOT_COVERED: "PURPOSE_NOT_COVERED",
  BUYER_TYPE_NOT_ALLOWED: "BUYER_TYPE_NOT_ALLOWED",
  JURISDICTION_NOT_ALLOWED: "JURISDICTION_NOT_ALLOWED",
  SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT: "SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT",
  NOT_YET_VALID: "NOT_YET_VALID",
  EXPIRED: "EXPIRED",
  WITHDRAWN: "WITHDRAWN",
  REVOKED: "REVOKED",
  UNKNOWN_RESOURCE: "UNKNOWN_RESOURCE",
  /** the credential behind the buyer's attributes is revoked in its issuer's status list (request-level) */
  CREDENTIAL_REVOKED: "CREDENTIAL_REVOKED",
  /** the credential behind the buyer's attributes is suspended (request-level) */
  CREDENTIAL_SUSPENDED: "CREDENTIAL_SUSPENDED",
  /** the credential's issuer is no longer in the deployment's trust list (request-level) */
  CREDENTIAL_UNTRUSTED: "CREDENTIAL_UNTRUSTED",
} as const;
export type DenialReason = (typeof DenialReason)[keyof typeof DenialReason];
