// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title ProductResourcesMock
/// @notice Test double of the market's `productResources` view, for ProductDeliveryAdapter tests.
contract ProductResourcesMock {
    mapping(bytes32 productId => bytes32[]) private _resources;

    /// @notice Set a product's resources.
    /// @param productId the product
    /// @param resources the resource ids
    function setResources(bytes32 productId, bytes32[] calldata resources) external {
        _resources[productId] = resources;
    }

    /// @notice The resources of a product.
    /// @param productId the product
    /// @return resources the resource ids
    function productResources(bytes32 productId) external view returns (bytes32[] memory resources) {
        return _resources[productId];
    }
}
