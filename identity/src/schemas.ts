// The credential types of the deployment (SD-JWT VC `vct` values) and the schema of their claims.
// Every claim is selectively disclosable: the holder chooses what to show; the registered claims
// (iss, sub, iat, nbf, exp, vct, cnf, status, jti) are always visible. docs/identity.md §3 lists them
// (and a test checks that it lists exactly these).
import { z } from "zod";
import { BUYER_TYPES } from "@datamarket/consent-ledger";
import { IdentityError } from "./errors";

export const CredentialType = {
  /** An accreditation body vouches for a buyer's type and jurisdiction (and its Ethereum account). */
  BuyerAccreditation: "urn:datamarket:credential:buyer-accreditation:1",
  /** A hospital (custodian) links a patient to the pseudonymous subject id it holds data under. */
  PatientCustodianLink: "urn:datamarket:credential:patient-custodian-link:1",
  /** A university certifies a degree it awarded (education pilot). */
  Degree: "urn:datamarket:credential:degree:1",
  /** A university certifies a student's enrolment; it links the student to the university as custodian. */
  Enrolment: "urn:datamarket:credential:enrolment:1",
} as const;
export type CredentialType = (typeof CredentialType)[keyof typeof CredentialType];

/** Claims of SD-JWT VC and RFC 7519 the issuer sets itself; never selectively disclosable. */
export const REGISTERED_CLAIMS = ["iss", "sub", "iat", "nbf", "exp", "vct", "cnf", "status", "jti"] as const;

/** Pseudonymous subject ids as the consent ledger takes them, without ':' (fabric-ca's attribute syntax forbids it). */
export const SUBJECT_ID = /^[A-Za-z0-9._-]{3,64}$/;
/** Fabric MSP ids. */
export const MSP_ID = /^[A-Za-z0-9.-]{1,64}$/;

const text = (max: number) => z.string().min(1).max(max);
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD")
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value), "a calendar date");

export interface CredentialSchema {
  vct: CredentialType;
  title: string;
  /** who issues it in the deployment (for the docs and the trust list) */
  issuedBy: string;
  /** the claims; all of them selectively disclosable */
  claims: z.ZodObject;
  /** holder DID methods accepted for this type */
  holderMethods: ReadonlyArray<"pkh" | "key">;
  /** default lifetime of an issued credential, seconds */
  defaultValiditySeconds: number;
}

const YEAR = 365 * 24 * 3600;

export const SCHEMAS: Readonly<Record<CredentialType, CredentialSchema>> = {
  [CredentialType.BuyerAccreditation]: {
    vct: CredentialType.BuyerAccreditation,
    title: "Buyer accreditation",
    issuedBy: "an accreditation body",
    claims: z.strictObject({
      buyer_type: z.enum(BUYER_TYPES as [string, ...string[]]),
      jurisdiction: z.string().regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code"),
      ethereum_address: z
        .string()
        .regex(/^0x[0-9a-f]{40}$/, "a lowercase 0x Ethereum address")
        .optional(),
      organisation_name: text(200),
      legal_entity_identifier: z
        .string()
        .regex(/^[A-Z0-9]{18}[0-9]{2}$/, "an ISO 17442 LEI")
        .optional(),
    }),
    holderMethods: ["pkh", "key"],
    defaultValiditySeconds: YEAR,
  },
  [CredentialType.PatientCustodianLink]: {
    vct: CredentialType.PatientCustodianLink,
    title: "Patient–custodian link",
    issuedBy: "a hospital, for its patients",
    claims: z.strictObject({
      subject_id: z.string().regex(SUBJECT_ID, "a pseudonymous subject id [A-Za-z0-9._-]{3,64}"),
      custodian: z.string().regex(MSP_ID, "the custodian's Fabric MSP id"),
      custodian_name: text(200),
      medical_record_number: text(64).optional(),
    }),
    holderMethods: ["pkh", "key"],
    defaultValiditySeconds: YEAR,
  },
  [CredentialType.Degree]: {
    vct: CredentialType.Degree,
    title: "Degree",
    issuedBy: "a university (education pilot)",
    claims: z.strictObject({
      given_name: text(100),
      family_name: text(100),
      degree: text(200),
      eqf_level: z.number().int().min(5).max(8),
      field_of_study: text(200),
      awarding_institution: text(200),
      awarded_on: date,
      subject_id: z.string().regex(SUBJECT_ID).optional(),
    }),
    holderMethods: ["pkh", "key"],
    defaultValiditySeconds: 50 * YEAR,
  },
  [CredentialType.Enrolment]: {
    vct: CredentialType.Enrolment,
    title: "Enrolment",
    issuedBy: "a university (education pilot)",
    claims: z.strictObject({
      subject_id: z.string().regex(SUBJECT_ID, "a pseudonymous subject id [A-Za-z0-9._-]{3,64}"),
      custodian: z.string().regex(MSP_ID, "the university's Fabric MSP id"),
      student_number: text(64),
      programme: text(200),
      institution: text(200),
      enrolled_from: date,
      enrolled_until: date.optional(),
    }),
    holderMethods: ["pkh", "key"],
    defaultValiditySeconds: YEAR,
  },
};

export function schemaOf(vct: string): CredentialSchema {
  const schema = (SCHEMAS as Record<string, CredentialSchema>)[vct];
  if (!schema) throw new IdentityError("WRONG_CREDENTIAL_TYPE", `"${String(vct).slice(0, 100)}" is not a credential type of this deployment`, { vct });
  return schema;
}

/** Names of the claims of a type (all selectively disclosable). */
export function claimNames(vct: string): string[] {
  return Object.keys(schemaOf(vct).claims.shape);
}

function describe(issues: z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join(".") || "(claims)"}: ${issue.message}`).join("; ");
}

/** Checks a full claim set at issuance. */
export function validateClaims(vct: string, claims: Record<string, unknown>): Record<string, unknown> {
  const result = schemaOf(vct).claims.safeParse(claims);
  if (!result.success) throw new IdentityError("INVALID_CLAIMS", `claims of ${vct} refused: ${describe(result.error.issues)}`, { vct });
  return result.data as Record<string, unknown>;
}

/** Each type's claims with every claim optional (built once: zod compiles a schema on first use). */
const DISCLOSED_SCHEMAS = new Map(Object.values(SCHEMAS).map((schema) => [schema.vct as string, schema.claims.partial()]));

/** Checks the disclosed subset of a credential's claims (each disclosed claim must be valid; none may be unknown). */
export function validateDisclosedClaims(vct: string, claims: Record<string, unknown>): Record<string, unknown> {
  schemaOf(vct);
  const result = (DISCLOSED_SCHEMAS.get(vct) as z.ZodObject).safeParse(claims);
  if (!result.success) throw new IdentityError("INVALID_CLAIMS", `disclosed claims of ${vct} refused: ${describe(result.error.issues)}`, { vct });
  return result.data as Record<string, unknown>;
}
