// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// A test double of an attacker: it makes raw calls on purpose, to replay any calldata.
/* solhint-disable avoid-low-level-calls */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPaymentChannels} from "../interfaces/IPaymentChannels.sol";
import {HookERC20, ITokenHooks} from "./HookERC20.sol";

/// @title ReentrantChannelParty
/// @notice Test helper: a broker or payer contract that calls PaymentChannels again from inside the
/// token's hooks, and records what the reentrant call got (it catches the revert, so that the outer
/// call completes and the test can check that it paid once).
contract ReentrantChannelParty is ITokenHooks {
    /// @notice The channels attacked.
    IPaymentChannels public immutable channels;
    /// @notice The call made again from inside a hook (empty: none).
    bytes public reentry;
    /// @notice Whether the reentrant call succeeded.
    bool public reentrySucceeded;
    /// @notice Its revert data, if it failed.
    bytes public reentryRevert;
    /// @notice Times a hook ran.
    uint256 public hooksRun;

    /// @notice Deploys the party.
    /// @param channels_ the channels
    constructor(IPaymentChannels channels_) {
        channels = channels_;
    }

    /// @notice Set the call to make again from inside the next hook.
    /// @param call the calldata for the channels
    function setReentry(bytes calldata call) external {
        reentry = call;
    }

    /// @notice Call the channels (as this contract).
    /// @param call the calldata
    /// @return result what the call returned
    function act(bytes calldata call) external returns (bytes memory result) {
        (bool ok, bytes memory data) = address(channels).call(call);
        if (!ok) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                revert(add(data, 0x20), mload(data))
            }
        }
        return data;
    }

    /// @notice Approve the channels to take this contract's tokens.
    /// @param token the token
    /// @param amount allowance
    function approve(IERC20 token, uint256 amount) external {
        token.approve(address(channels), amount);
    }

    /// @notice Ask the token to call this contract's hooks from now on.
    /// @param token the hooked token
    function registerHooks(HookERC20 token) external {
        token.registerHooks();
    }

    /// @inheritdoc ITokenHooks
    function tokensToSend(address, uint256) external {
        _reenter();
    }

    /// @inheritdoc ITokenHooks
    function tokensReceived(address, uint256) external {
        _reenter();
    }

    function _reenter() private {
        ++hooksRun;
        bytes memory call = reentry;
        if (call.length == 0) return;
        delete reentry;
        (bool ok, bytes memory data) = address(channels).call(call);
        reentrySucceeded = ok;
        reentryRevert = data;
    }
}
