// The consent ledger's controlled vocabulary (chaincode/src/vocabulary.ts) as the browser needs it:
// the chaincode's module is not a browser entry point of its package, so the portal keeps this copy,
// and test/vocabulary.test.ts fails the moment it differs from the ledger's.

/** DPV purposes (local names of https://w3id.org/dpv#) a product can be sold for, without the root `Purpose`. */
export const PURPOSES: readonly string[] = [
  "ResearchAndDevelopment",
  "AcademicResearch",
  "ScientificResearch",
  "CommercialResearch",
  "NonCommercialResearch",
  "Marketing",
  "Advertising",
  "DirectMarketing",
  "Personalisation",
  "PersonalisedAdvertising",
  "ServiceProvision",
  "ServicePersonalisation",
  "ServiceOptimisation",
  "EnforceSecurity",
  "FraudPreventionAndDetection",
  "HumanResourceManagement",
  "PersonnelManagement",
  "PersonnelHiring",
];

/** The buyer types a buyer's certificate may carry (`consent.buyerType`). */
export const BUYER_TYPES: readonly string[] = ["PublicResearch", "PrivateCompany", "PublicHealthBody", "EducationInstitution", "NonProfit"];

/** DPV personal-data categories, true where GDPR Art. 9 makes them a special category. */
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

/** Jurisdiction groups a consent may name. */
export const JURISDICTION_GROUPS: readonly string[] = ["EU", "EEA", "ADEQUACY"];

/** Countries a consent may name one by one: the EEA's and those with an EU adequacy decision. */
export const COUNTRIES: readonly string[] = [
  ...[
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
  ],
  ...["IS", "LI", "NO"],
  ...["AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY"],
];
