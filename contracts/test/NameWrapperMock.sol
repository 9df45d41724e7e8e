// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INameWrapper} from "../interfaces/ens/INameWrapper.sol";

/// @title NameWrapperMock
/// @notice Test helper: the two views of the ENS NameWrapper that StreamNames reads (the real wrapper
/// is not published for the compiler versions here), with setters for the tests.
contract NameWrapperMock is INameWrapper {
    mapping(uint256 id => address) private _owners;
    mapping(address account => mapping(address operator => bool)) private _operators;

    /// @notice Set the owner of a wrapped name.
    /// @param id uint256(namehash)
    /// @param owner the owner (address(0): expired)
    function setOwner(uint256 id, address owner) external {
        _owners[id] = owner;
    }

    /// @notice ERC-1155: approve or revoke an operator of the caller.
    /// @param operator the operator
    /// @param approved whether it may
    function setApprovalForAll(address operator, bool approved) external {
        _operators[msg.sender][operator] = approved;
    }

    /// @inheritdoc INameWrapper
    function ownerOf(uint256 id) external view returns (address owner) {
        return _owners[id];
    }

    /// @inheritdoc INameWrapper
    function isApprovedForAll(address account, address operator) external view returns (bool approved) {
        return _operators[account][operator];
    }
}
