// The EIP-712 consent attestation and revocation of the DataLicenseMarket (docs/INTERFACES.md §3,
// docs/market.md section 5.3): one definition, @datamarket/consent-attestation's, shared by the bridge
// (which signs) and buyers (who collect and check).
export {
    ATTESTATION_TYPES, DOMAIN_NAME, DOMAIN_VERSION, MAX_SIGNATURES, REVOCATION_TYPES, SIGNATURE_LENGTH,
    attestationDigest, attestationStructHash, isAddress, isBytes32, isUint64Seconds, packSignatures, purposeHash,
    recoverSigner, revocationDigest, revocationStructHash, signDigest,
    type ConsentAttestation, type ConsentRevocation, type MarketDomain,
} from '@datamarket/consent-attestation';
