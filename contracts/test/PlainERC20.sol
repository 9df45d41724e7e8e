// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PlainERC20
/// @notice Test helper: an OpenZeppelin ERC-20 with nothing added, the gas reference for DATAToken.
contract PlainERC20 is ERC20 {
    /// @notice Mints the whole supply to one holder.
    /// @param holder receives the whole supply
    /// @param supply total supply
    constructor(address holder, uint256 supply) ERC20("Plain", "PLN") {
        _mint(holder, supply);
    }
}
