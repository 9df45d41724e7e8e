// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ITokenHooks
/// @notice Test helper: the ERC-777-like hooks HookERC20 calls on accounts that registered for them.
interface ITokenHooks {
    /// @notice Called on the sender before its tokens move.
    /// @param to the recipient
    /// @param value amount
    function tokensToSend(address to, uint256 value) external;

    /// @notice Called on the recipient after the tokens moved.
    /// @param from the sender
    /// @param value amount
    function tokensReceived(address from, uint256 value) external;
}

/// @title HookERC20
/// @notice Test helper: an ERC-20 that, like ERC-777, calls the sender before and the recipient after a
/// transfer (accounts that registered only), so that tests can try reentrancy through token hooks.
contract HookERC20 is ERC20 {
    /// @notice Accounts that receive the hooks.
    mapping(address account => bool) public hooked;

    /// @notice Mints the whole supply to one holder.
    /// @param holder receives the whole supply
    /// @param supply total supply
    constructor(address holder, uint256 supply) ERC20("Hooked", "HOOK") {
        _mint(holder, supply);
    }

    /// @notice Register the caller (a contract implementing ITokenHooks) for the hooks.
    function registerHooks() external {
        hooked[msg.sender] = true;
    }

    /// @dev Sender hook, transfer, recipient hook.
    function _update(address from, address to, uint256 value) internal override {
        if (hooked[from]) ITokenHooks(from).tokensToSend(to, value);
        super._update(from, to, value);
        if (hooked[to]) ITokenHooks(to).tokensReceived(from, value);
    }
}
