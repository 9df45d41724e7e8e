// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStreamNames} from "../interfaces/IStreamNames.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {IENS} from "../interfaces/ens/IENS.sol";
import {INameWrapper} from "../interfaces/ens/INameWrapper.sol";
import {IAddrResolver} from "../interfaces/ens/IAddrResolver.sol";

/// @title StreamNames
/// @notice ENS names for streams, checked on chain against ENS and the StreamRegistry. Specification:
/// IStreamNames and docs/contracts.md §7.
/// @dev No roles and no parameters. Every external call is a STATICCALL (to ENS, its NameWrapper, a
/// resolver the name's owner chose, or the registry): none can change state here.
contract StreamNames is IStreamNames {
    /// @inheritdoc IStreamNames
    IENS public immutable ens;
    /// @inheritdoc IStreamNames
    INameWrapper public immutable nameWrapper;
    /// @inheritdoc IStreamNames
    IStreamRegistry public immutable registry;

    uint256 private constant MAX_NAME_LENGTH = 255;
    /// @dev Gas a resolver's `addr` may use (a public resolver needs under 10,000).
    uint256 private constant RESOLVER_GAS = 100_000;

    mapping(bytes32 node => NameRecord) private _records;

    /// @notice Deploys the names of one registry against one ENS deployment.
    /// @param ens_ the ENS registry
    /// @param nameWrapper_ the ENS NameWrapper (address(0) where there is none)
    /// @param registry_ the stream registry
    constructor(IENS ens_, INameWrapper nameWrapper_, IStreamRegistry registry_) {
        ens = ens_;
        nameWrapper = nameWrapper_;
        registry = registry_;
    }

    /// @inheritdoc IStreamNames
    function setName(string calldata name, bytes32 resourceId) external returns (bytes32 node) {
        node = namehash(name);
        if (!controls(msg.sender, node)) revert NotNameController(node, msg.sender);
        if (registry.getResource(resourceId).owner != msg.sender) revert NotResourceOwner(resourceId, msg.sender);
        _records[node] = NameRecord(resourceId, msg.sender);
        emit StreamNameSet(node, resourceId, msg.sender, name);
    }

    /// @inheritdoc IStreamNames
    function clearName(bytes32 node) external {
        if (!controls(msg.sender, node)) revert NotNameController(node, msg.sender);
        if (_records[node].owner == address(0)) revert NameNotSet(node);
        delete _records[node];
        emit StreamNameCleared(node, msg.sender);
    }

    /// @inheritdoc IStreamNames
    function resolve(bytes32 node) external view returns (bytes32 resourceId) {
        NameRecord memory record = _records[node];
        if (record.owner == address(0)) revert NameNotSet(node);
        if (!controls(record.owner, node) || registry.getResource(record.resourceId).owner != record.owner) {
            revert NameStale(node, record.resourceId, record.owner);
        }
        return record.resourceId;
    }

    /// @inheritdoc IStreamNames
    function nameRecord(bytes32 node) external view returns (NameRecord memory record) {
        return _records[node];
    }

    /// @inheritdoc IStreamNames
    function controls(address account, bytes32 node) public view returns (bool controlled) {
        address owner = ens.owner(node);
        if (owner == address(0) || account == address(0)) return false;
        if (owner == address(nameWrapper)) {
            // A wrapped name: its owner is the holder of the wrapper's token.
            owner = nameWrapper.ownerOf(uint256(node));
            if (account == owner || (owner != address(0) && nameWrapper.isApprovedForAll(owner, account))) return true;
        } else if (account == owner || ens.isApprovedForAll(owner, account)) {
            return true;
        }
        // The address the name resolves to, which its owner set.
        return _resolvesTo(ens.resolver(node), node) == uint256(uint160(account));
    }

    /// @inheritdoc IStreamNames
    function namehash(string calldata name) public pure returns (bytes32 node) {
        bytes calldata raw = bytes(name);
        uint256 length = raw.length;
        if (length == 0 || length > MAX_NAME_LENGTH) revert InvalidName(name);
        // namehash(label.rest) = keccak256(namehash(rest) ‖ keccak256(label)), namehash("") = 0: labels
        // are hashed from the last one.
        uint256 end = length;
        for (uint256 i = length; i > 0; --i) {
            bytes1 c = raw[i - 1];
            if (c == ".") {
                node = _addLabel(node, raw, i, end, name);
                end = i - 1;
            } else if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-")) {
                revert InvalidName(name);
            }
        }
        node = _addLabel(node, raw, 0, end, name);
    }

    /// @dev `addr(node)` of a resolver as a raw word, 2^256 - 1 when there is no answer. A STATICCALL with
    /// a gas cap that reads one word: a resolver without code, that reverts, answers short or burns gas
    /// loses only the `addr` route of its own name, and can make no caller here revert.
    function _resolvesTo(address resolver, bytes32 node) private view returns (uint256 word) {
        bytes memory query = abi.encodeCall(IAddrResolver.addr, (node));
        bool ok;
        uint256 size;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            ok := staticcall(RESOLVER_GAS, resolver, add(query, 0x20), mload(query), 0, 0x20)
            size := returndatasize()
            word := mload(0)
        }
        if (!ok || size < 32) return type(uint256).max;
    }

    /// @dev Hashes the label raw[start:end] onto `parent`; refuses an empty label and "--" at 3rd-4th.
    function _addLabel(bytes32 parent, bytes calldata raw, uint256 start, uint256 end, string calldata name)
        private
        pure
        returns (bytes32)
    {
        if (end == start || (end - start >= 4 && raw[start + 2] == "-" && raw[start + 3] == "-")) {
            revert InvalidName(name);
        }
        return keccak256(abi.encodePacked(parent, keccak256(raw[start:end])));
    }
}
