// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IDeliveryOracle
/// @notice The hook through which escrow release will follow proven delivery. The network coordinator
/// finalizes per-stream event counts; an adapter implementing this interface turns them into "this
/// product's streams were delivering until time T".
/// @dev Not implemented yet. While the market's delivery oracle is address(0), escrow is released by
/// time alone. When set, `IDataLicenseMarket.release` releases a license's escrow only up to
/// `min(block.timestamp, licenseEnd, deliveredUntil(productId))`. An oracle that reverts proves nothing:
/// the escrow stays held (it never blocks a purchase, flag, refund or withdrawal).
interface IDeliveryOracle {
    /// @notice Until when the product's resources are proven to have delivered data.
    /// @param productId the product
    /// @return deliveredUntil unix seconds; escrow for license time after it stays held
    function deliveredUntil(bytes32 productId) external view returns (uint64 deliveredUntil);
}
