// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IENS} from "./ens/IENS.sol";
import {INameWrapper} from "./ens/INameWrapper.sol";
import {IStreamRegistry} from "./IStreamRegistry.sol";

/// @title IStreamNames
/// @notice ENS names for streams (DATAcoin whitepaper §2.5.2): the owner of a stream names it with an
/// ENS name it controls (`heart-rate.kraken.eth`), and anyone resolves the name to the stream id. No
/// one is trusted: control of the name is read from ENS on chain, ownership of the stream from the
/// StreamRegistry, when the name is set and again each time it is resolved.
/// @dev A companion of the StreamRegistry (which is not upgradeable, and keeps no external call on its
/// access check): docs/contracts.md §7.
///
/// An account **controls** a node when it is the node's owner in the ENS registry, or an operator the
/// owner approved there (`isApprovedForAll`); for a name wrapped in the NameWrapper (whose registry
/// owner is the wrapper), the wrapper's token owner or its approved operator; or the address the name
/// resolves to (`addr(node)` of the node's resolver), which the owner set. A name **resolves** to a
/// resource while the address that set it still controls the node and still owns the resource.
///
/// Names are accepted in their ENS-normalised form restricted to ASCII: labels of [a-z0-9-], not empty,
/// without "--" in their 3rd and 4th characters (ENSIP-15), at most 255 bytes in all. Such a name is its
/// own normalisation, so `namehash(name)` here equals any ENS library's (ethers `namehash`), and
/// look-alike (homoglyph) names of other scripts cannot be used.
interface IStreamNames {
    /// @notice The record of a name.
    /// @param resourceId the stream (or dataset) id it names
    /// @param owner the address that set it (then the node's controller and the resource's owner)
    struct NameRecord {
        bytes32 resourceId;
        address owner;
    }

    /// @notice A name was given to a stream (a previous record of the node is replaced).
    /// @param node the namehash of `name`
    /// @param resourceId the stream id
    /// @param owner the address that set it
    /// @param name the name, normalised
    event StreamNameSet(bytes32 indexed node, bytes32 indexed resourceId, address indexed owner, string name);

    /// @notice A name's record was removed by the node's controller.
    /// @param node the namehash
    /// @param by the controller that removed it
    event StreamNameCleared(bytes32 indexed node, address indexed by);

    /// @notice The name is empty, longer than 255 bytes, has an empty label or a character outside
    /// [a-z0-9-.], or a label with "--" in its 3rd and 4th characters.
    /// @param name the name given
    error InvalidName(string name);
    /// @notice The caller does not control the ENS node.
    /// @param node the namehash
    /// @param caller the caller
    error NotNameController(bytes32 node, address caller);
    /// @notice The caller does not own the resource (or it does not exist).
    /// @param resourceId the resource id
    /// @param caller the caller
    error NotResourceOwner(bytes32 resourceId, address caller);
    /// @notice No record for this node.
    /// @param node the namehash
    error NameNotSet(bytes32 node);
    /// @notice The record is void: the address that set it no longer controls the node, or no longer owns
    /// the resource (transferred or deleted).
    /// @param node the namehash
    /// @param resourceId the resource the record names
    /// @param owner the address that set it
    error NameStale(bytes32 node, bytes32 resourceId, address owner);

    /// @notice The ENS registry read.
    /// @return ens the registry
    function ens() external view returns (IENS ens);

    /// @notice The ENS NameWrapper read for wrapped names (address(0): none on this chain).
    /// @return nameWrapper the wrapper
    function nameWrapper() external view returns (INameWrapper nameWrapper);

    /// @notice The stream registry read.
    /// @return registry the registry
    function registry() external view returns (IStreamRegistry registry);

    /// @notice Name a resource the caller owns with an ENS name the caller controls.
    /// @param name the name, normalised (see above), e.g. "heart-rate.kraken.eth"
    /// @param resourceId the stream (or dataset) id
    /// @return node the namehash of the name
    function setName(string calldata name, bytes32 resourceId) external returns (bytes32 node);

    /// @notice Remove a node's record. The node's controller only.
    /// @param node the namehash
    function clearName(bytes32 node) external;

    /// @notice The resource a name resolves to now. Reverts NameNotSet or NameStale otherwise.
    /// @param node the namehash (ethers: `namehash(name)`)
    /// @return resourceId the resource id
    function resolve(bytes32 node) external view returns (bytes32 resourceId);

    /// @notice The stored record of a node, valid or not (zeros if none).
    /// @param node the namehash
    /// @return record the record
    function nameRecord(bytes32 node) external view returns (NameRecord memory record);

    /// @notice Whether `account` controls `node` in ENS now (see above).
    /// @param account the account
    /// @param node the namehash
    /// @return controlled whether it does
    function controls(address account, bytes32 node) external view returns (bool controlled);

    /// @notice The ENS namehash of a name, checking that it is a name setName accepts.
    /// @param name the name
    /// @return node the namehash
    function namehash(string calldata name) external pure returns (bytes32 node);
}
