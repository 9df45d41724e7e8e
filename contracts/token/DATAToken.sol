// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Capped} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Capped.sol";
import {ERC1363} from "@openzeppelin/contracts/token/ERC20/extensions/ERC1363.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {IDATAToken} from "../interfaces/IDATAToken.sol";

/// @title DATAToken
/// @notice The DATA token. ERC-20 + EIP-2612 permit + ERC-1363 transferAndCall, capped, burnable.
/// @dev Why ERC-1363 and not ERC-677 (Streamr DATAv2's `transferAndCall`): ERC-1363 is a final EIP
/// with an ERC-165 interface id, an audited OpenZeppelin implementation, a receiver callback that
/// must return its selector (a plain EOA or a contract that does not implement it makes the transfer
/// revert instead of stranding tokens), and it also covers approve-and-call. The market accepts
/// payments through `onTransferReceived`.
///
/// Administrative power is deliberately minimal: DEFAULT_ADMIN_ROLE can only grant and revoke
/// MINTER_ROLE (and itself). Nobody can rename, pause, freeze or move anyone's tokens, and the cap is
/// immutable.
contract DATAToken is ERC20, ERC20Permit, ERC20Burnable, ERC20Capped, ERC1363, AccessControl, IDATAToken {
    /// @inheritdoc IDATAToken
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @notice Deploys the token with no supply.
    /// @param admin receives DEFAULT_ADMIN_ROLE (governance: grants and revokes minters)
    /// @param minter receives MINTER_ROLE (address(0) for none)
    /// @param maxSupply hard cap of the total supply, token wei
    constructor(address admin, address minter, uint256 maxSupply)
        ERC20("Streamr DATA", "DATA")
        ERC20Permit("Streamr DATA")
        ERC20Capped(maxSupply)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (minter != address(0)) _grantRole(MINTER_ROLE, minter);
    }

    /// @inheritdoc IDATAToken
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc IDATAToken
    function cap() public view override(ERC20Capped, IDATAToken) returns (uint256) {
        return super.cap();
    }

    /// @inheritdoc IDATAToken
    function burn(uint256 amount) public override(ERC20Burnable, IDATAToken) {
        super.burn(amount);
    }

    /// @inheritdoc IDATAToken
    function burnFrom(address account, uint256 amount) public override(ERC20Burnable, IDATAToken) {
        super.burnFrom(account, amount);
    }

    /// @notice ERC-165: ERC-1363, AccessControl and ERC-165 itself.
    /// @param interfaceId the interface id queried
    /// @return supported whether it is implemented
    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC1363, AccessControl, IERC165)
        returns (bool supported)
    {
        return ERC1363.supportsInterface(interfaceId) || AccessControl.supportsInterface(interfaceId);
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(ERC20Permit, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }

    /// @dev Supply cap check on mint (ERC20Capped); transfers take the plain ERC-20 path.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Capped) {
        super._update(from, to, value);
    }
}
