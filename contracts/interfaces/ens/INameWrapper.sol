// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title INameWrapper
/// @notice The part of the ENS NameWrapper (mainnet 0xD4416b13d2b3a9aBae7AcD5D6C2BbDBE25686401) that
/// StreamNames reads. A wrapped name is owned in the ENS registry by the NameWrapper; its real owner is
/// the holder of the ERC-1155 token `uint256(node)`.
interface INameWrapper {
    /// @notice The owner of a wrapped name (address(0) if unwrapped or expired).
    /// @param id uint256(namehash)
    /// @return owner the owner
    function ownerOf(uint256 id) external view returns (address owner);

    /// @notice ERC-1155: whether `operator` may manage every token of `account`.
    /// @param account the owner
    /// @param operator the operator
    /// @return approved whether it may
    function isApprovedForAll(address account, address operator) external view returns (bool approved);
}
