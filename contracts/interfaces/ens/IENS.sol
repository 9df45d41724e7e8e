// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IENS
/// @notice The part of the ENS registry (EIP-137; mainnet 0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e)
/// that StreamNames reads: who owns a node, its resolver, and the owner's operators.
interface IENS {
    /// @notice The owner of a node (address(0) if none; the NameWrapper for a wrapped name).
    /// @param node the namehash
    /// @return owner the owner
    function owner(bytes32 node) external view returns (address owner);

    /// @notice The resolver of a node (address(0) if none).
    /// @param node the namehash
    /// @return resolver the resolver contract
    function resolver(bytes32 node) external view returns (address resolver);

    /// @notice Whether `operator` may manage every node of `owner` in the registry.
    /// @param owner the owner
    /// @param operator the operator
    /// @return approved whether it may
    function isApprovedForAll(address owner, address operator) external view returns (bool approved);
}
