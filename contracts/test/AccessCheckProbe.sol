// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";

/// @title AccessCheckProbe
/// @notice Test helper: measures the gas of the registry's access check as another contract sees it
/// (cold registry account, cold storage), the way the market or a smart-contract subscriber calls it.
contract AccessCheckProbe {
    /// @notice The result and gas of the last measured check.
    /// @param allowed what the registry answered
    /// @param gasUsed gas from just before the call to just after it, call overhead included
    event AccessChecked(bool allowed, uint256 gasUsed);

    /// @notice Call registry.canSubscribe once and emit its result and gas.
    /// @param registry the registry
    /// @param id resource id
    /// @param user address to check
    function measureSubscribe(IStreamRegistry registry, bytes32 id, address user) external {
        uint256 before = gasleft();
        bool allowed = registry.canSubscribe(id, user);
        uint256 used = before - gasleft();
        emit AccessChecked(allowed, used);
    }

    /// @notice Call registry.canPublish once and emit its result and gas.
    /// @param registry the registry
    /// @param id resource id
    /// @param user address to check
    function measurePublish(IStreamRegistry registry, bytes32 id, address user) external {
        uint256 before = gasleft();
        bool allowed = registry.canPublish(id, user);
        uint256 used = before - gasleft();
        emit AccessChecked(allowed, used);
    }
}
