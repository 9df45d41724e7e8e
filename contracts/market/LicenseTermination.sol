// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

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
    /// @param attestation the attestation the grant was used with
    function revokeConsent(
        IStreamRegistry registry,
        IKarma karma,
        bytes32 domainSeparator,
        IDataLicenseMarket.ConsentRevocation calldata revocation,
        bytes calldata signatures,
        IDataLicenseMarket.ConsentAttestation calldata attestation
    ) external {
        MarketStorage.Layout storage $ = MarketStorage.layout();
        bytes32 grantId = revocation.grantId;
        if (revocation.revokedAt > block.timestamp) {
            revert IDataLicenseMarket.RevocationInFuture(revocation.revokedAt, block.timestamp);
        }
        bytes32 record = $.grants[grantId];
        if (record == AttestorSet.REVOKED_GRANT) revert IDataLicenseMarket.GrantAlreadyRevoked(grantId);
        AttestorSet.verify(
            $,
            MessageHashUtils.toTypedDataHash(domainSeparator, AttestorSet.revocationHash(revocation)),
            signatures,
            $.config.attestorThreshold
        );
        $.grants[grantId] = AttestorSet.REVOKED_GRANT;
        if (record == bytes32(0)) {
            // Never used on Ethereum: blocked for good, no license to touch.
            emit IDataLicenseMarket.ConsentRevoked(grantId, bytes32(0), address(0), revocation.revokedAt, false);
            return;
        }
        if (attestation.grantId != grantId || AttestorSet.attestationHash(attestation) != record) {
            revert IDataLicenseMarket.GrantMismatch(grantId);
        }
        bool suspended = _suspendIfCurrent($, registry, karma, attestation, revocation.revokedAt);
        emit IDataLicenseMarket.ConsentRevoked(
            grantId, attestation.productId, attestation.buyer, revocation.revokedAt, suspended
        );
    }

    /// @dev End the license the attestation's grant runs now (if it still does), cut off at
    /// max(revokedAt, releasedUntil).
    function _suspendIfCurrent(
        MarketStorage.Layout storage $,
        IStreamRegistry registry,
        IKarma karma,
        IDataLicenseMarket.ConsentAttestation calldata attestation,
        uint256 revokedAt
    ) private returns (bool suspend) {
        bytes32 productId = attestation.productId;
        address buyer = attestation.buyer;
        IDataLicenseMarket.License memory license = $.licenses[productId][buyer];
        // The grants of one license have strictly increasing expiries, so the expiry identifies the
        // grant the license runs under now; revoking an older, superseded grant ends nothing.
        suspend = (
            license.status == IDataLicenseMarket.LicenseStatus.Active
                || license.status == IDataLicenseMarket.LicenseStatus.Disputed
        ) && license.grantExpiry == attestation.expiresAt;
        if (suspend) {
            uint256 cutoff = revokedAt;
            if (cutoff < license.releasedUntil) cutoff = license.releasedUntil;
            if (cutoff > license.end) cutoff = license.end;
            LicenseEscrow.endLicense($, registry, karma, productId, buyer, license, cutoff);
        }
    }

    /// @notice Flag a product's data as bad (see IDataLicenseMarket.flagBadData); msg.sender is the buyer.
    /// @param karma the karma contract
    /// @param productId the product
    /// @param evidenceHash hash of the evidence
    function flagBadData(IKarma karma, bytes32 productId, bytes32 evidenceHash) external {
        MarketStorage.Layout storage $ = MarketStorage.layout();
        IDataLicenseMarket.License memory license = $.licenses[productId][msg.sender];
        if (license.status == IDataLicenseMarket.LicenseStatus.Disputed) {
            revert IDataLicenseMarket.LicenseDisputed(productId, msg.sender);
        }
        if (license.status != IDataLicenseMarket.LicenseStatus.Active || license.end <= block.timestamp) {
            revert IDataLicenseMarket.NoValidLicense(productId, msg.sender);
        }
        // What is earned up to the flag is the seller's; release freezes from here until the decision.
        uint256 until = LicenseEscrow.releasableUntil($, productId, license);
        if (until > license.releasedUntil) LicenseEscrow.settle($, karma, productId, msg.sender, license, until);
        license.status = IDataLicenseMarket.LicenseStatus.Disputed;
        $.licenses[productId][msg.sender] = license;
        address seller = $.products[productId].seller;
        emit IDataLicenseMarket.BadDataFlagged(productId, msg.sender, seller, evidenceHash);
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
        MarketStorage.Layout storage $ = MarketStorage.layout();
        IDataLicenseMarket.License memory license = $.licenses[productId][buyer];
        if (license.status != IDataLicenseMarket.LicenseStatus.Disputed) {
            revert IDataLicenseMarket.NotDisputed(productId, buyer);
        }
        uint256 refunded;
        if (upheld) {
            refunded = LicenseEscrow.endLicense($, registry, karma, productId, buyer, license, license.releasedUntil);
        } else {
            license.status = IDataLicenseMarket.LicenseStatus.Active;
            $.licenses[productId][buyer] = license;
        }
        emit IDataLicenseMarket.DisputeResolved(productId, buyer, msg.sender, upheld, refunded);
        if (upheld) {
            try karma.recordFlagUpheld($.products[productId].seller) {}
            catch (bytes memory reason) {
                emit IDataLicenseMarket.KarmaReportFailed(address(karma), reason);
            }
        }
    }
}
