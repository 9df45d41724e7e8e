// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDeliveryOracle} from "../../interfaces/IDeliveryOracle.sol";

/// @title DeliveryOracleMock
/// @notice Test double of the delivery-oracle hook: reports a settable "delivered until" per product.
contract DeliveryOracleMock is IDeliveryOracle {
    mapping(bytes32 productId => uint64) private _deliveredUntil;
    bool private _failing;

    /// @notice The oracle reverts on every query while failing.
    error OracleDown();

    /// @notice Make every query revert (or not).
    /// @param failing true to revert
    function setFailing(bool failing) external {
        _failing = failing;
    }

    /// @notice Set what the oracle reports for a product.
    /// @param productId the product
    /// @param until unix seconds
    function setDeliveredUntil(bytes32 productId, uint64 until) external {
        _deliveredUntil[productId] = until;
    }

    /// @inheritdoc IDeliveryOracle
    function deliveredUntil(bytes32 productId) external view returns (uint64) {
        if (_failing) revert OracleDown();
        return _deliveredUntil[productId];
    }
}
