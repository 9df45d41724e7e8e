// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";

/// @title TokenReceiverMock
/// @notice Test helper: an ERC-1363 receiver that records what it was told, or refuses.
contract TokenReceiverMock is IERC1363Receiver {
    /// @notice A transferAndCall reached this contract.
    /// @param operator who called the token
    /// @param from whose tokens moved
    /// @param value amount
    /// @param data the data passed along
    event Received(address operator, address from, uint256 value, bytes data);

    /// @notice Whether to answer with the wrong selector.
    bool public refuse;

    /// @notice Set whether the receiver refuses payments.
    /// @param value true to refuse
    function setRefuse(bool value) external {
        refuse = value;
    }

    /// @inheritdoc IERC1363Receiver
    function onTransferReceived(address operator, address from, uint256 value, bytes calldata data)
        external
        returns (bytes4)
    {
        emit Received(operator, from, value, data);
        return refuse ? bytes4(0xdeadbeef) : IERC1363Receiver.onTransferReceived.selector;
    }
}
