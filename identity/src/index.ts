// Public API of @datamarket/identity (docs/identity.md): credential types and schemas, issuers and
// their status lists, holders, the trust list, the presentation verifier, onboarding onto the consent
// ledger, the periodic status check, the verifier service and credential sign-in.
export {
  CredentialType,
  REGISTERED_CLAIMS,
  SCHEMAS,
  SUBJECT_ID,
  claimNames,
  schemaOf,
  validateClaims,
  validateDisclosedClaims,
  type CredentialSchema,
} from "./schemas";
export { didKey, didPkh, verifyHolderBinding, type HolderBinding } from "./did";
export {
  algorithmOf,
  ethereumAddressOf,
  ethereumKeyJwk,
  generateP256Key,
  jwsSigner,
  jwsVerifier,
  publicJwk,
  type JwsAlgorithm,
  type PrivateJwk,
  type PublicJwk,
} from "./keys";
export { CredentialIssuer, type CredentialIssuerOptions, type IssueRequest, type IssuedCredential } from "./issuer";
export { Holder, type PresentOptions } from "./holder";
export { credentialReference, type CredentialReference } from "./reference";
export {
  CredentialStatus,
  IssuerStatusList,
  STATUS_LIST_MEDIA_TYPE,
  StatusListResolver,
  httpStatusListFetcher,
  refuseStatus,
  type HttpStatusListFetcherOptions,
  type IssuerStatusListOptions,
  type StatusListFetcher,
  type StatusListResolverOptions,
} from "./status-list";
export { TrustList, type TrustListConfig, type TrustedIssuer, type TrustedIssuerConfig } from "./trust-list";
export { MemoryNonceStore, type MemoryNonceStoreOptions, type NonceStore } from "./nonces";
export {
  MAX_PRESENTATION_LENGTH,
  PresentationVerifier,
  type PresentationRequirements,
  type PresentationVerifierOptions,
  type VerifiedPresentation,
} from "./verifier";
export {
  CREDENTIAL_REF_ATTR,
  FabricCaEnroller,
  InProcessLedgerEnroller,
  type InProcessLedgerEnrollerOptions,
  buyerProfile,
  dataSubjectProfile,
  enrollmentIdOf,
  fabricCaEnrollArgs,
  fabricCaRegisterArgs,
  planEnrolment,
  shellLine,
  type Enrolment,
  type EnrolmentPlan,
  type FabricCaOptions,
  type LedgerEnroller,
  type OnboardingProfile,
} from "./enrolment";
export {
  CredentialStatusMonitor,
  UNTRUSTED_ISSUER,
  type CredentialStatusMonitorOptions,
  type MonitoredCredential,
  type StatusChange,
  type StatusCheckReport,
  type StatusName,
} from "./status-monitor";
export { ledgerStatusReporter, type StatusCheckers } from "./ledger-status";
export { CREDENTIAL_QUERY_ID, createStatusListService, createVerifierService, dcqlQueryFor, type VerifierServiceOptions } from "./service";
export {
  ACCREDITED_RESEARCHERS,
  policyRefusal,
  validateCredentialPolicy,
  verifyCredentialSignIn,
  verifySignInPresentation,
  type CredentialPolicy,
  type CredentialSignIn,
  type ProvenClaims,
  type SignInPresentation,
} from "./signin";
export { IdentityError, IdentityErrorCodes, asIdentityError, httpStatusOf, type IdentityErrorCode } from "./errors";
