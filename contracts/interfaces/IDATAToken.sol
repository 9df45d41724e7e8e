// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Role getters keep OpenZeppelin's UPPER_CASE names (MINTER_ROLE), as AccessControl integrators expect.
/* solhint-disable func-name-mixedcase */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IERC1363} from "@openzeppelin/contracts/interfaces/IERC1363.sol";

/// @title IDATAToken
/// @notice The protocol's payment token: ERC-20 with EIP-2612 `permit`, ERC-1363 pay-and-notify
/// (`transferAndCall`, `transferFromAndCall`, `approveAndCall`), burnable, minted only by holders of
/// MINTER_ROLE and never above `cap()`.
interface IDATAToken is IERC20, IERC20Permit, IERC1363 {
    /// @notice The role allowed to mint. Its admin is DEFAULT_ADMIN_ROLE.
    /// @return role keccak256("MINTER_ROLE")
    function MINTER_ROLE() external view returns (bytes32 role);

    /// @notice The hard cap on the total supply, in token wei. Fixed at deployment.
    /// @return maxSupply the cap
    function cap() external view returns (uint256 maxSupply);

    /// @notice Mint `amount` to `to`. MINTER_ROLE only; reverts above the cap.
    /// @param to recipient
    /// @param amount token wei
    function mint(address to, uint256 amount) external;

    /// @notice Burn `amount` of the caller's tokens.
    /// @param amount token wei
    function burn(uint256 amount) external;

    /// @notice Burn `amount` of `account`'s tokens, spending the caller's allowance.
    /// @param account holder
    /// @param amount token wei
    function burnFrom(address account, uint256 amount) external;
}
