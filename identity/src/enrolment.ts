// Onboarding: from a verified presentation to a ledger identity whose certificate attributes are
// exactly the verified claims (mapped to the consent chaincode's attribute names), plus the hash of
// the credential reference that backs them. Two enrollers: the in-process ledger (a certificate from
// the organisation's run-time CA) and fabric-ca (`register` by the onboarding registrar, then
// `enroll` by the holder with a one-time secret; docs/identity.md §6).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Attr, Role, type InProcessConsentLedger, type fabric } from "@datamarket/consent-ledger";
import { sha256Hex } from "@datamarket/consent-chaincode/src";
import { IdentityError, asIdentityError } from "./errors";
import type { CredentialReference } from "./reference";
import { CredentialType } from "./schemas";
import type { VerifiedPresentation } from "./verifier";

/** Certificate attribute carrying the hash of the credential reference that backs the identity's claims. */
export const CREDENTIAL_REF_ATTR = "consent.credentialRef";

/** What a kind of onboarding asks for and how the verified claims become attributes. */
export interface OnboardingProfile {
  name: string;
  credentialTypes: readonly string[];
  requiredClaims: readonly string[];
  optionalClaims: readonly string[];
  /** the MSP the identity is enrolled in */
  mspIdFor(verified: VerifiedPresentation): string;
  /** the consent chaincode attributes, from the verified claims only */
  attributesFor(verified: VerifiedPresentation): Record<string, string>;
}

/** Buyers: an accreditation discloses buyer type and jurisdiction (and may disclose its Ethereum account). */
export function buyerProfile(options: { mspId: string }): OnboardingProfile {
  return {
    name: "buyer",
    credentialTypes: [CredentialType.BuyerAccreditation],
    requiredClaims: ["buyer_type", "jurisdiction"],
    optionalClaims: ["ethereum_address"],
    mspIdFor: () => options.mspId,
    attributesFor: ({ claims }) => ({
      [Attr.role]: Role.Buyer,
      [Attr.buyerType]: String(claims.buyer_type),
      [Attr.jurisdiction]: String(claims.jurisdiction),
      ...(claims.ethereum_address !== undefined ? { [Attr.ethAddress]: String(claims.ethereum_address) } : {}),
    }),
  };
}

/** Data subjects: a custodian's link (a hospital's patient link, a university's enrolment) discloses subject id and custodian. */
export function dataSubjectProfile(): OnboardingProfile {
  return {
    name: "data-subject",
    credentialTypes: [CredentialType.PatientCustodianLink, CredentialType.Enrolment],
    requiredClaims: ["subject_id", "custodian"],
    optionalClaims: [],
    // the custodian enrols its own subjects; the verifier has checked the issuer speaks for it
    mspIdFor: ({ claims }) => String(claims.custodian),
    attributesFor: ({ claims }) => ({ [Attr.role]: Role.Subject, [Attr.subject]: String(claims.subject_id) }),
  };
}

/** One enrolment to make: the identity, its attributes and the credential behind them. */
export interface EnrolmentPlan {
  /** fabric-ca enrollment id (the certificate's CN): "vc-" + 32 hex of sha256(holder DID), no personal data */
  enrollmentId: string;
  mspId: string;
  attributes: Record<string, string>;
  holder: string;
  credential: CredentialReference;
}

export interface Enrolment extends EnrolmentPlan {
  /** the enrolled certificate (in-process ledger) */
  certificatePem?: string;
  /** fabric-ca: the holder's one-time enrollment secret and the command it runs */
  fabricCa?: { secret: string; enroll: string[] };
}

export interface LedgerEnroller {
  enrol(plan: EnrolmentPlan): Promise<Enrolment>;
}

/** The enrollment id of a holder: stable across re-onboarding, free of personal data and of ':'. */
export function enrollmentIdOf(holderDid: string): string {
  return `vc-${sha256Hex(holderDid).slice(2, 34)}`;
}

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
/** What fabric-ca-client's --id.attrs can carry: no ':' (flag separator), ',' (list), quotes, spaces or controls. */
const ATTRIBUTE_VALUE = /^[A-Za-z0-9._@+\-/=]{1,128}$/;

/** The enrolment for a verified presentation under `profile`; every attribute checked to be representable in fabric-ca. */
export function planEnrolment(profile: OnboardingProfile, verified: VerifiedPresentation): EnrolmentPlan {
  const attributes = { ...profile.attributesFor(verified), [CREDENTIAL_REF_ATTR]: verified.reference.hash };
  for (const [name, value] of Object.entries(attributes)) {
    if (!ATTRIBUTE_NAME.test(name) || name.startsWith("hf."))
      throw new IdentityError("INVALID_ATTRIBUTE", `attribute name ${name} is not a custom fabric-ca attribute`, { name });
    if (!ATTRIBUTE_VALUE.test(value)) throw new IdentityError("INVALID_ATTRIBUTE", `attribute ${name} has a value fabric-ca cannot carry`, { name });
  }
  return {
    enrollmentId: enrollmentIdOf(verified.holder.did),
    mspId: profile.mspIdFor(verified),
    attributes,
    holder: verified.holder.did,
    credential: verified.reference,
  };
}

export interface InProcessLedgerEnrollerOptions {
  /**
   * Record the credential on the ledger as the new identity (credential:RecordCredential), which its
   * access requests need (default true): on the in-process ledger the enroller holds the identity.
   */
  recordCredential?: boolean;
}

/** Enrols on the in-process ledger: a certificate of the MSP's run-time CA with the attributes, and records the credential behind it. */
export class InProcessLedgerEnroller implements LedgerEnroller {
  /** enrolled identities (certificate + signer) by enrollment id, for the in-process caller (tests, demo) */
  readonly identities = new Map<string, fabric.EnrolledIdentity>();
  private readonly recordCredential: boolean;

  constructor(
    private readonly ledger: InProcessConsentLedger,
    options: InProcessLedgerEnrollerOptions = {},
  ) {
    this.recordCredential = options.recordCredential ?? true;
  }

  async enrol(plan: EnrolmentPlan): Promise<Enrolment> {
    let identity: fabric.EnrolledIdentity;
    try {
      identity = await this.ledger.enroll(plan.mspId, plan.enrollmentId, plan.attributes);
      if (this.recordCredential) await this.ledger.client(identity).recordCredential(plan.credential);
    } catch (error) {
      throw asIdentityError(error, "ENROLMENT_FAILED", `${plan.mspId} could not enrol ${plan.enrollmentId}`, { mspId: plan.mspId });
    }
    this.identities.set(plan.enrollmentId, identity);
    return { ...plan, certificatePem: identity.certificatePem };
  }
}

export interface FabricCaOptions {
  /** the MSP this CA issues for: plans for another MSP are refused (each organisation runs its own onboarding) */
  mspId: string;
  /** the CA's URL, e.g. https://ca.hospital.example.com:7054 */
  caUrl: string;
  /** --caname */
  caName: string;
  /** PEM file of the CA's TLS root (--tls.certfiles) */
  tlsCertFile: string;
  /** the onboarding registrar's fabric-ca-client home (holds its enrollment) */
  registrarHome: string;
  /** --id.affiliation of the registered identities (default: the registrar's) */
  affiliation?: string;
}

/** argv of the registrar's `fabric-ca-client register` for a plan, with a one-time secret. */
export function fabricCaRegisterArgs(plan: EnrolmentPlan, options: FabricCaOptions, secret: string): string[] {
  const attrs = Object.entries(plan.attributes)
    .map(([name, value]) => `${name}=${value}:ecert`)
    .join(",");
  return [
    "register",
    "--home",
    options.registrarHome,
    "-u",
    options.caUrl,
    "--caname",
    options.caName,
    "--tls.certfiles",
    options.tlsCertFile,
    "--id.name",
    plan.enrollmentId,
    "--id.secret",
    secret,
    "--id.type",
    "client",
    "--id.maxenrollments",
    "1",
    ...(options.affiliation ? ["--id.affiliation", options.affiliation] : []),
    "--id.attrs",
    attrs,
  ];
}

/** argv of the holder's `fabric-ca-client enroll` (its key is made on its own machine), requiring every attribute. */
export function fabricCaEnrollArgs(
  plan: EnrolmentPlan,
  options: Pick<FabricCaOptions, "caUrl" | "caName" | "tlsCertFile">,
  secret: string,
  holderHome = "$HOME/.fabric-ca-client",
): string[] {
  const url = new URL(options.caUrl);
  url.username = plan.enrollmentId;
  url.password = secret;
  return [
    "enroll",
    "--home",
    holderHome,
    "-u",
    url.toString().replace(/\/$/, ""),
    "--caname",
    options.caName,
    "--tls.certfiles",
    options.tlsCertFile,
    "--enrollment.attrs",
    Object.keys(plan.attributes).join(","),
  ];
}

/** One shell line of an argv, each argument single-quoted where needed (for the docs and operators). */
export function shellLine(command: string, args: string[]): string {
  const quote = (arg: string) => (/^[A-Za-z0-9._\-/=:@,+$]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`);
  return [command, ...args.map(quote)].join(" ");
}

/**
 * Enrols through fabric-ca: runs the registrar's `fabric-ca-client register` (no shell; execFile) with
 * a fresh one-time secret and returns the `enroll` command the holder runs with it.
 */
export class FabricCaEnroller implements LedgerEnroller {
  constructor(private readonly options: FabricCaOptions & { binary?: string; timeoutMs?: number }) {}

  async enrol(plan: EnrolmentPlan): Promise<Enrolment> {
    if (plan.mspId !== this.options.mspId) {
      throw new IdentityError("ENROLMENT_FAILED", `this CA enrols ${this.options.mspId} identities, not ${plan.mspId}`, { mspId: plan.mspId });
    }
    const secret = randomBytes(18).toString("hex");
    try {
      await promisify(execFile)(this.options.binary ?? "fabric-ca-client", fabricCaRegisterArgs(plan, this.options, secret), {
        timeout: this.options.timeoutMs ?? 30_000,
      });
    } catch (error) {
      throw asIdentityError(error, "ENROLMENT_FAILED", `fabric-ca register of ${plan.enrollmentId} failed`, { mspId: plan.mspId });
    }
    return { ...plan, fabricCa: { secret, enroll: ["fabric-ca-client", ...fabricCaEnrollArgs(plan, this.options, secret)] } };
  }
}
