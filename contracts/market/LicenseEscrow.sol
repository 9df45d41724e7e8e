// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {IKarma} from "../interfaces/IKarma.sol";
import {IDeliveryOracle} from "../interfaces/IDeliveryOracle.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {MarketStorage} from "./MarketStorage.sol";

/// @title LicenseEscrow
/// @notice The escrow and access bookkeeping of one license, shared by the market and its external
/// libraries: release, refund, ending a license, and the (resource, account) access index mirrored into
/// the registry's subscribe permissions. Every function is O(1) or bounded by MAX_RESOURCES.
library LicenseEscrow {
    uint256 private constant _BPS = 10_000;

    /// @notice Until when a license's escrow can be released now: min(now, end) for an active license,
    /// capped by the delivery oracle if one is set; releasedUntil otherwise (nothing to release).
    /// @param ms the market's state
    /// @param productId the product
    /// @param license the license
    /// @return until unix seconds
    function releasableUntil(
        MarketStorage.Layout storage ms,
        bytes32 productId,
        IDataLicenseMarket.License memory license
    ) internal view returns (uint256 until) {
        if (license.status != IDataLicenseMarket.LicenseStatus.Active) return license.releasedUntil;
        until = license.end < block.timestamp ? license.end : block.timestamp;
        address oracle = ms.deliveryOracle;
        if (oracle != address(0)) {
            try IDeliveryOracle(oracle).deliveredUntil(productId) returns (uint64 delivered) {
                if (delivered < until) until = delivered;
            } catch {
                // A failing oracle proves nothing: hold the escrow, block nothing else.
                until = license.releasedUntil;
            }
        }
    }

    /// @notice Release a license's escrow up to `until` (> releasedUntil, <= end) to the product's
    /// beneficiary, the license's fee share to the protocol, and credit karma to seller and buyer.
    /// Updates `license` in memory; the caller stores it.
    /// @param ms the market's state
    /// @param karma the karma contract
    /// @param productId the product
    /// @param buyer the licensee
    /// @param license the license (memory, updated)
    /// @param until unix seconds
    /// @return amount gross DATA wei released
    function settle(
        MarketStorage.Layout storage ms,
        IKarma karma,
        bytes32 productId,
        address buyer,
        IDataLicenseMarket.License memory license,
        uint256 until
    ) internal returns (uint256 amount) {
        amount = uint256(license.rate) * (until - license.releasedUntil);
        license.releasedUntil = uint40(until);
        uint256 fee = amount * license.feeBps / _BPS;
        if (fee != 0) ms.accruedFees += fee;
        MarketStorage.ProductParties storage parties = ms.parties[productId];
        address beneficiary = parties.beneficiary;
        ms.claimable[beneficiary] += amount - fee;
        emit IDataLicenseMarket.EscrowReleased(productId, buyer, beneficiary, amount, fee, uint64(until));
        // amount >= 1: every rate is at least 1 wei per second (prices are), and until > releasedUntil.
        // Success needs no action; a failure is reported in the catch block.
        // solhint-disable-next-line no-empty-blocks
        try karma.addExchangeKarma(parties.seller, buyer, amount) {}
        catch (bytes memory reason) {
            emit IDataLicenseMarket.KarmaReportFailed(address(karma), reason);
        }
    }

    /// @notice Credit a refund to a buyer's claimable balance.
    /// @param ms the market's state
    /// @param productId the product
    /// @param buyer the buyer
    /// @param amount DATA wei (nothing happens for 0)
    function refund(MarketStorage.Layout storage ms, bytes32 productId, address buyer, uint256 amount) internal {
        if (amount == 0) return;
        ms.claimable[buyer] += amount;
        emit IDataLicenseMarket.Refunded(productId, buyer, amount);
    }

    /// @notice End a license: release the escrow earned before `cutoff`, refund the rest, take access
    /// away. Stores the license.
    /// @param ms the market's state
    /// @param registry the stream registry
    /// @param karma the karma contract
    /// @param productId the product
    /// @param buyer the licensee
    /// @param license the license (memory)
    /// @param cutoff unix seconds, releasedUntil <= cutoff <= end
    /// @return refunded DATA wei refunded
    function endLicense(
        MarketStorage.Layout storage ms,
        IStreamRegistry registry,
        IKarma karma,
        bytes32 productId,
        address buyer,
        IDataLicenseMarket.License memory license,
        uint256 cutoff
    ) internal returns (uint256 refunded) {
        if (cutoff > license.releasedUntil) settle(ms, karma, productId, buyer, license, cutoff);
        refunded = uint256(license.rate) * (license.end - license.releasedUntil);
        refund(ms, productId, buyer, refunded);
        uint256 oldEnd = license.end;
        uint40 stop = oldEnd > block.timestamp ? uint40(block.timestamp) : uint40(oldEnd);
        license.end = stop;
        license.releasedUntil = stop;
        license.status = IDataLicenseMarket.LicenseStatus.Ended;
        MarketStorage.storeLicense(ms, productId, buyer, license);
        if (oldEnd > block.timestamp) removeAccessAll(ms, registry, productId, buyer, oldEnd);
    }

    /// @notice Take a license's access away on every resource of its product (see removeAccess).
    /// @param ms the market's state
    /// @param registry the stream registry
    /// @param productId the product
    /// @param buyer the licensee
    /// @param licenseEnd the end of the license being cut
    function removeAccessAll(
        MarketStorage.Layout storage ms,
        IStreamRegistry registry,
        bytes32 productId,
        address buyer,
        uint256 licenseEnd
    ) internal {
        uint256 count = ms.products[productId].resourceCount;
        for (uint256 i; i < count; ++i) {
            removeAccess(ms, registry, ms.resources[productId][i], buyer, licenseEnd);
        }
    }

    /// @notice Raise the (resource, buyer) license end to `end` in the index and the registry, if later.
    /// @param ms the market's state
    /// @param registry the stream registry
    /// @param resourceId the resource
    /// @param buyer the licensee
    /// @param end unix seconds
    function grantAccess(
        MarketStorage.Layout storage ms,
        IStreamRegistry registry,
        bytes32 resourceId,
        address buyer,
        uint256 end
    ) internal {
        mapping(address => uint64) storage until = ms.licensedUntil[resourceId];
        if (end <= until[buyer]) return;
        until[buyer] = uint64(end);
        registry.setSubscribeExpiry(resourceId, buyer, uint64(end));
    }

    /// @notice Take access away unless another, longer license holds it. Never reverts: consent
    /// withdrawal must not be blockable by a registry write (e.g. the owner removed the delegation).
    /// @param ms the market's state
    /// @param registry the stream registry
    /// @param resourceId the resource
    /// @param buyer the licensee
    /// @param licenseEnd the end of the license being ended
    function removeAccess(
        MarketStorage.Layout storage ms,
        IStreamRegistry registry,
        bytes32 resourceId,
        address buyer,
        uint256 licenseEnd
    ) internal {
        if (ms.licensedUntil[resourceId][buyer] > licenseEnd) return;
        delete ms.licensedUntil[resourceId][buyer];
        // Success needs no action; a failure is reported in the catch block.
        // solhint-disable-next-line no-empty-blocks
        try registry.setSubscribeExpiry(resourceId, buyer, 0) {}
        catch (bytes memory reason) {
            emit IDataLicenseMarket.AccessRemovalFailed(resourceId, buyer, reason);
        }
    }
}
