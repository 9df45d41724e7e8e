// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAddrResolver
/// @notice An ENS resolver's address record (EIP-137 `addr`, interface id 0x3b3b57de): the Ethereum
/// address a name resolves to, set by the name's owner.
interface IAddrResolver {
    /// @notice The address `node` resolves to.
    /// @param node the namehash
    /// @return resolved the address (address(0) if none)
    function addr(bytes32 node) external view returns (address payable resolved);
}
