// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {IKarma} from "../interfaces/IKarma.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {MarketStorage} from "./MarketStorage.sol";
import {LicenseEscrow} from "./LicenseEscrow.sol";
import {AttestorSet} from "./AttestorSet.sol";

/// @title LicenseTermination
/// @notice What suspends or ends a license early: relayed consent revocations, bad-data flags and the
/// arbiter's decisions. An external library run by DELEGATECALL in the market's storage and address
/// (events come from the market); the market checks roles before delegating.
library LicenseTermination {
    /// @notice Relay a k-of-n signed consent revocation (see IDataLicenseMarket.revokeConsent).
    /// @param registry the stream registry
    /// @param karma the karma contract
    /// @param domainSeparator the market's EIP-712 domain separator
    /// @param revocation the signed revocation
    /// @param signatures k attestor signatures of its digest
    /// @param attestation the grant's attestation
    /// @param attestationSignatures k attestor signatures of the attestation
    function revokeConsent(
        IStreamRegistry registry,
        IKarma karma,
        bytes32 domainSeparator,
        IDataLicenseMarket.ConsentRevocation calldata revocation,
        bytes calldata signatures,
        IDataLicenseMarket.ConsentAttestation calldata attestation,
        bytes calldata attestationSignatures
    ) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        bytes32 grantId = revocation.grantId;
        if (revocation.revokedAt > block.timestamp) {
            revert IDataLicenseMarket.RevocationInFuture(revocation.revokedAt, block.timestamp);
        }
        if (attestation.grantId != grantId) revert IDataLicenseMarket.GrantMismatch(grantId);
        uint256 threshold = ms.config.attestorThreshold;
        AttestorSet.verify(
            ms,
            MessageHashUtils.toTypedDataHash(domainSeparator, AttestorSet.revocationHash(revocation)),
            signatures,
            threshold
        );
        AttestorSet.verify(
            ms,
            MessageHashUtils.toTypedDataHash(domainSeparator, AttestorSet.attestationHash(attestation)),
            attestationSignatures,
            threshold
        );
        bool suspended = _suspendIfCurrent(ms, registry, karma, attestation, revocation.revokedAt);
        emit IDataLicenseMarket.ConsentRevoked(
            grantId, attestation.productId, attestation.buyer, revocation.revokedAt, suspended
        );
    }

    /// @notice Flag a product's data as bad (see IDataLicenseMarket.flagBadData); msg.sender is the buyer.
    /// @param karma the karma contract
    /// @param productId the product
    /// @param evidenceHash hash of the evidence
    function flagBadData(IKarma karma, bytes32 productId, bytes32 evidenceHash) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        IDataLicenseMarket.License memory license = ms.licenses[productId][msg.sender];
        if (_inDispute(license.status)) revert IDataLicenseMarket.LicenseDisputed(productId, msg.sender);
        if (license.status != IDataLicenseMarket.LicenseStatus.Active || license.end <= block.timestamp) {
            revert IDataLicenseMarket.NoValidLicense(productId, msg.sender);
        }
        // What is earned up to the flag is the seller's; release freezes from here until the decision.
        uint256 until = LicenseEscrow.releasableUntil(ms, productId, license);
        if (until > license.releasedUntil) LicenseEscrow.settle(ms, karma, productId, msg.sender, license, until);
        license.status = IDataLicenseMarket.LicenseStatus.Disputed;
        MarketStorage.storeLicense(ms, productId, msg.sender, license);
        address seller = ms.parties[productId].seller;
        emit IDataLicenseMarket.BadDataFlagged(productId, msg.sender, seller, evidenceHash);
        // Success needs no action; a failure is reported in the catch block.
        // solhint-disable-next-line no-empty-blocks
        try karma.recordFlagRaised(seller) {}
        catch (bytes memory reason) {
            emit IDataLicenseMarket.KarmaReportFailed(address(karma), reason);
        }
    }

    /// @notice Decide a dispute (see IDataLicenseMarket.resolveDispute); the market checked ARBITER_ROLE.
    /// @param registry the stream registry
    /// @param karma the karma contract
    /// @param productId the product
    /// @param buyer the licensee
    /// @param upheld true to uphold the flag
    function resolveDispute(IStreamRegistry registry, IKarma karma, bytes32 productId, address buyer, bool upheld)
        external
    {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        IDataLicenseMarket.License memory license = ms.licenses[productId][buyer];
        if (!_inDispute(license.status)) revert IDataLicenseMarket.NotDisputed(productId, buyer);
        uint256 refunded;
        if (upheld) {
            refunded = LicenseEscrow.endLicense(ms, registry, karma, productId, buyer, license, license.releasedUntil);
        } else if (license.status == IDataLicenseMarket.LicenseStatus.RevokedInDispute) {
            // Consent is gone: the frozen escrow is the seller's, and the license ends.
            LicenseEscrow.endLicense(ms, registry, karma, productId, buyer, license, license.end);
        } else {
            license.status = IDataLicenseMarket.LicenseStatus.Active;
            MarketStorage.storeLicense(ms, productId, buyer, license);
        }
        emit IDataLicenseMarket.DisputeResolved(productId, buyer, msg.sender, upheld, refunded);
        if (upheld) {
            // Success needs no action; a failure is reported in the catch block.
        // solhint-disable-next-line no-empty-blocks
            try karma.recordFlagUpheld(ms.parties[productId].seller) {}
            catch (bytes memory reason) {
                emit IDataLicenseMarket.KarmaReportFailed(address(karma), reason);
            }
        }
    }

    /// @dev Apply a revocation to the license (buyer, product) of the attestation: end it if the grant
    /// is not older than its grant floor, and raise the floor to the grant.
    function _suspendIfCurrent(
        MarketStorage.Layout storage ms,
        IStreamRegistry registry,
        IKarma karma,
        IDataLicenseMarket.ConsentAttestation calldata attestation,
        uint256 revokedAt
    ) private returns (bool suspend) {
        bytes32 productId = attestation.productId;
        address buyer = attestation.buyer;
        IDataLicenseMarket.License memory license = ms.licenses[productId][buyer];
        // An older grant than the floor is unusable already, and the license runs under a newer consent.
        if (attestation.expiresAt < license.grantExpiry) return false;
        license.grantExpiry = SafeCast.toUint40(attestation.expiresAt);
        license.grantTag = uint16(uint256(attestation.grantId));
        suspend = license.status == IDataLicenseMarket.LicenseStatus.Active
            || license.status == IDataLicenseMarket.LicenseStatus.Disputed;
        if (suspend) {
            uint256 cutoff = revokedAt;
            if (cutoff < license.releasedUntil) cutoff = license.releasedUntil;
            if (cutoff > license.end) cutoff = license.end;
            if (license.status == IDataLicenseMarket.LicenseStatus.Disputed) {
                // The escrow frozen by the flag up to the withdrawal stays for the arbiter to decide; the
                // time after the withdrawal is refunded and access ends now.
                uint256 oldEnd = license.end;
                LicenseEscrow.refund(ms, productId, buyer, uint256(license.rate) * (oldEnd - cutoff));
                license.end = uint40(cutoff);
                license.status = IDataLicenseMarket.LicenseStatus.RevokedInDispute;
                MarketStorage.storeLicense(ms, productId, buyer, license);
                if (oldEnd > block.timestamp) LicenseEscrow.removeAccessAll(ms, registry, productId, buyer, oldEnd);
            } else {
                LicenseEscrow.endLicense(ms, registry, karma, productId, buyer, license, cutoff);
            }
        } else {
            MarketStorage.storeLicense(ms, productId, buyer, license);
        }
    }

    function _inDispute(IDataLicenseMarket.LicenseStatus status) private pure returns (bool) {
        return status == IDataLicenseMarket.LicenseStatus.Disputed
            || status == IDataLicenseMarket.LicenseStatus.RevokedInDispute;
    }
}
