// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1363Spender} from "@openzeppelin/contracts/interfaces/IERC1363Spender.sol";

/// @title ApprovalReceiverMock
/// @notice Test helper: an ERC-1363 spender that records approveAndCall notifications, or refuses them.
contract ApprovalReceiverMock is IERC1363Spender {
    /// @notice An approveAndCall reached this contract.
    /// @param owner whose tokens were approved
    /// @param value allowance
    /// @param data the data passed along
    event Approved(address owner, uint256 value, bytes data);

    /// @notice Whether to answer with the wrong selector.
    bool public refuse;

    /// @notice Set whether the spender refuses approvals.
    /// @param value true to refuse
    function setRefuse(bool value) external {
        refuse = value;
    }

    /// @inheritdoc IERC1363Spender
    function onApprovalReceived(address owner, uint256 value, bytes calldata data) external returns (bytes4) {
        emit Approved(owner, value, data);
        return refuse ? bytes4(0xdeadbeef) : IERC1363Spender.onApprovalReceived.selector;
    }
}
