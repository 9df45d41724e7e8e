// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";

/// @title StreamRegistry
/// @notice Streams, datasets, per-address permissions with expiries, subscribe delegation, and the
/// encryption keys of subscribers. See IStreamRegistry for the specification.
/// @dev Not upgradeable, on purpose: the O(1) access check is the hottest call of the protocol (every
/// license purchase and every smart-contract subscriber makes it) and a proxy would add a cold
/// DELEGATECALL and an implementation-slot SLOAD (~4,700 gas) to it. A new version is deployed beside
/// this one and integrators migrate, as the DATAcoin whitepaper proposes; docs/contracts.md says how.
///
/// Storage: one slot per resource (owner, generation, partitions, kind, public flags) and one slot per
/// (resource, generation, address) permission record, so the access check is at most two SLOADs.
contract StreamRegistry is IStreamRegistry, AccessControl {
    /// @notice Role of contracts that may register an encryption key for an address they have
    /// authenticated themselves (the data-license market, for its buyers). Admin: DEFAULT_ADMIN_ROLE.
    bytes32 public constant KEY_REGISTRAR_ROLE = keccak256("KEY_REGISTRAR_ROLE");

    /// @notice Largest partition count of a stream.
    uint16 public constant MAX_PARTITIONS = 100;

    /// @notice Largest number of addresses in one batch call.
    uint256 public constant MAX_BATCH = 100;

    uint256 private constant MIN_PATH_LENGTH = 2;
    uint256 private constant MAX_PATH_LENGTH = 128;
    uint256 private constant COMPRESSED_KEY_LENGTH = 33;

    /// @dev Permission records do not live in a Solidity mapping: the record of (id, generation, user)
    /// is the storage slot keccak256(abi.encode(id, generation, user, PERMISSIONS_NAMESPACE)). That is
    /// one hash per lookup instead of the three of a nested mapping, on the access check that every
    /// purchase pays. The four-word preimage cannot collide with Solidity's two-word mapping slots.
    /// keccak256("datamarket.StreamRegistry.permissions"), checked by the tests.
    uint256 private constant PERMISSIONS_NAMESPACE = 0xf341d6b971962632078439a9fcd36493c638e9931c2cc1922110fb2199f095a6;

    /// @dev A compressed secp256k1 public key: its 0x02/0x03 prefix and its x coordinate.
    struct EncryptionKey {
        bytes32 x;
        uint8 prefix;
    }

    mapping(bytes32 id => Resource) private _resources;
    mapping(bytes32 id => bytes32) private _datasetContentHash;
    mapping(bytes32 id => address) private _pendingOwner;
    mapping(address user => EncryptionKey) private _encryptionKeys;

    /// @notice Deploys an empty registry.
    /// @param admin receives DEFAULT_ADMIN_ROLE: it can only grant and revoke KEY_REGISTRAR_ROLE (and
    /// itself). It has no power over any resource or permission.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ---------------------------------------------------------------------------------------------
    // Resources
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IStreamRegistry
    function resourceId(address creator, string calldata path) public pure returns (bytes32 id) {
        return keccak256(abi.encodePacked(creator, path));
    }

    /// @inheritdoc IStreamRegistry
    function createStream(string calldata path, uint16 partitions, string calldata metadata)
        external
        returns (bytes32 id)
    {
        if (partitions == 0 || partitions > MAX_PARTITIONS) revert InvalidPartitionCount(partitions);
        id = _create(path, partitions, ResourceKind.Stream);
        emit ResourceCreated(id, msg.sender, ResourceKind.Stream, path, partitions, metadata);
    }

    /// @inheritdoc IStreamRegistry
    function createDataset(
        string calldata path,
        bytes32 contentHash,
        string calldata location,
        string calldata metadata
    ) external returns (bytes32 id) {
        if (contentHash == bytes32(0)) revert EmptyContentHash();
        id = _create(path, 1, ResourceKind.Dataset);
        _datasetContentHash[id] = contentHash;
        emit ResourceCreated(id, msg.sender, ResourceKind.Dataset, path, 1, metadata);
        emit DatasetContentUpdated(id, contentHash, location);
    }

    /// @inheritdoc IStreamRegistry
    function updateMetadata(bytes32 id, string calldata metadata) external {
        _authorize(id, Capability.Edit);
        emit MetadataUpdated(id, metadata);
    }

    /// @inheritdoc IStreamRegistry
    function setPartitions(bytes32 id, uint16 partitions) external {
        _authorize(id, Capability.Edit);
        Resource storage resource = _resources[id];
        if (resource.kind != ResourceKind.Stream) revert WrongResourceKind(id, resource.kind);
        if (partitions == 0 || partitions > MAX_PARTITIONS) revert InvalidPartitionCount(partitions);
        resource.partitions = partitions;
        emit PartitionsUpdated(id, partitions);
    }

    /// @inheritdoc IStreamRegistry
    function updateDatasetContent(bytes32 id, bytes32 contentHash, string calldata location) external {
        _authorize(id, Capability.Edit);
        Resource storage resource = _resources[id];
        if (resource.kind != ResourceKind.Dataset) revert WrongResourceKind(id, resource.kind);
        if (contentHash == bytes32(0)) revert EmptyContentHash();
        _datasetContentHash[id] = contentHash;
        emit DatasetContentUpdated(id, contentHash, location);
    }

    /// @inheritdoc IStreamRegistry
    function setPublicAccess(bytes32 id, bool publicPublish, bool publicSubscribe) external {
        _authorize(id, Capability.Edit);
        Resource storage resource = _resources[id];
        resource.publicPublish = publicPublish;
        resource.publicSubscribe = publicSubscribe;
        emit PublicAccessUpdated(id, publicPublish, publicSubscribe);
    }

    /// @inheritdoc IStreamRegistry
    function transferOwnership(bytes32 id, address newOwner) external {
        _authorize(id, Capability.Owner);
        Resource storage resource = _resources[id];
        if (newOwner == resource.owner) revert InvalidNewOwner(newOwner);
        _pendingOwner[id] = newOwner;
        emit OwnershipTransferStarted(id, resource.owner, newOwner);
    }

    /// @inheritdoc IStreamRegistry
    function acceptOwnership(bytes32 id) external {
        Resource storage resource = _existing(id);
        if (_pendingOwner[id] != msg.sender) revert NotPendingOwner(id, msg.sender);
        address previousOwner = resource.owner;
        resource.owner = msg.sender;
        delete _pendingOwner[id];
        emit OwnershipTransferred(id, previousOwner, msg.sender);
        // The new owner's rights are implicit from now on. A record it held before must not stay behind:
        // nobody can change an owner's record, and it would come back to life, unrevoked, the moment
        // this owner passes the resource on (a seller keeping delete or grant rights over the buyer's
        // resource). It also keeps getPermission(id, owner) empty, as the interface says.
        Permission storage held = _permission(id, resource.generation, msg.sender);
        uint256 heldWord;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            heldWord := sload(held.slot)
        }
        if (heldWord != 0) {
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                sstore(held.slot, 0)
            }
            emit PermissionUpdated(id, msg.sender, 0, 0, false, false, false, false);
        }
    }

    /// @inheritdoc IStreamRegistry
    function deleteResource(bytes32 id) external {
        _authorize(id, Capability.Delete);
        Resource storage resource = _resources[id];
        uint32 endedGeneration = resource.generation;
        // Keep the slot's generation (incremented) so that a re-created resource never inherits the
        // permissions of the deleted one; clear everything else.
        resource.owner = address(0);
        resource.generation = endedGeneration + 1;
        resource.partitions = 0;
        resource.kind = ResourceKind.Stream;
        resource.publicPublish = false;
        resource.publicSubscribe = false;
        delete _datasetContentHash[id];
        delete _pendingOwner[id];
        emit ResourceDeleted(id, endedGeneration);
    }

    // ---------------------------------------------------------------------------------------------
    // Permissions
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IStreamRegistry
    function setPermission(bytes32 id, address user, Permission calldata permission) external {
        Resource memory resource = _authorize(id, Capability.Grant);
        _writePermission(id, resource, user, permission);
    }

    /// @inheritdoc IStreamRegistry
    function setPermissionBatch(bytes32 id, address[] calldata users, Permission[] calldata permissions)
        external
    {
        _checkBatch(users.length, permissions.length);
        Resource memory resource = _authorize(id, Capability.Grant);
        for (uint256 i = 0; i < users.length; ++i) {
            _writePermission(id, resource, users[i], permissions[i]);
        }
    }

    /// @inheritdoc IStreamRegistry
    function setPublishExpiry(bytes32 id, address user, uint64 expiry) external {
        Resource memory resource = _authorize(id, Capability.Grant);
        _writeExpiry(id, resource, user, expiry, true);
    }

    /// @inheritdoc IStreamRegistry
    function setSubscribeExpiry(bytes32 id, address user, uint64 expiry) external {
        Resource memory resource = _authorize(id, Capability.GrantSubscribe);
        _writeExpiry(id, resource, user, expiry, false);
    }

    /// @inheritdoc IStreamRegistry
    function setSubscribeExpiryBatch(bytes32 id, address[] calldata users, uint64[] calldata expiries) external {
        _checkBatch(users.length, expiries.length);
        Resource memory resource = _authorize(id, Capability.GrantSubscribe);
        for (uint256 i = 0; i < users.length; ++i) {
            _writeExpiry(id, resource, users[i], expiries[i], false);
        }
    }

    /// @inheritdoc IStreamRegistry
    function setSubscribeDelegate(bytes32 id, address delegate, bool allowed) external {
        Resource memory resource = _authorize(id, Capability.Grant);
        Permission memory permission = _permission(id, resource.generation, delegate);
        permission.canGrantSubscribe = allowed;
        _writePermission(id, resource, delegate, permission);
    }

    /// @inheritdoc IStreamRegistry
    function canPublish(bytes32 id, address user) external view returns (bool allowed) {
        return _canAccess(id, user, 216, 0);
    }

    /// @inheritdoc IStreamRegistry
    function canSubscribe(bytes32 id, address user) external view returns (bool allowed) {
        return _canAccess(id, user, 224, 64);
    }

    /// @inheritdoc IStreamRegistry
    function getResource(bytes32 id) external view returns (Resource memory resource) {
        return _resources[id];
    }

    /// @inheritdoc IStreamRegistry
    function datasetContentHash(bytes32 id) external view returns (bytes32 contentHash) {
        return _datasetContentHash[id];
    }

    /// @inheritdoc IStreamRegistry
    function getPermission(bytes32 id, address user) external view returns (Permission memory permission) {
        return _permission(id, _resources[id].generation, user);
    }

    /// @inheritdoc IStreamRegistry
    function pendingOwnerOf(bytes32 id) external view returns (address pendingOwner) {
        return _pendingOwner[id];
    }

    // ---------------------------------------------------------------------------------------------
    // Encryption keys
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IStreamRegistry
    function registerEncryptionKey(bytes calldata publicKey) external {
        _registerKey(msg.sender, publicKey);
    }

    /// @inheritdoc IStreamRegistry
    function registerEncryptionKeyFor(address user, bytes calldata publicKey) external {
        if (!hasRole(KEY_REGISTRAR_ROLE, msg.sender)) revert NotKeyRegistrar(msg.sender);
        _registerKey(user, publicKey);
    }

    /// @inheritdoc IStreamRegistry
    function encryptionKeyOf(address user) external view returns (bytes memory publicKey) {
        EncryptionKey storage key = _encryptionKeys[user];
        if (key.prefix == 0) return publicKey;
        return abi.encodePacked(key.prefix, key.x);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    function _create(string calldata path, uint16 partitions, ResourceKind kind) private returns (bytes32 id) {
        _validatePath(path);
        id = resourceId(msg.sender, path);
        Resource storage resource = _resources[id];
        if (resource.owner != address(0)) revert ResourceExists(id);
        // The generation survives deletion: writing the whole slot keeps it.
        _resources[id] = Resource({
            owner: msg.sender,
            generation: resource.generation,
            partitions: partitions,
            kind: kind,
            publicPublish: false,
            publicSubscribe: false
        });
    }

    /// @dev Loads an existing resource (one SLOAD) and checks the caller's capability on it.
    function _authorize(bytes32 id, Capability needed) private view returns (Resource memory resource) {
        resource = _resources[id];
        if (resource.owner == address(0)) revert ResourceNotFound(id);
        if (msg.sender == resource.owner) return resource;
        if (needed != Capability.Owner) {
            Permission memory held = _permission(id, resource.generation, msg.sender);
            if (
                (needed == Capability.Grant && held.canGrant) ||
                (needed == Capability.GrantSubscribe && (held.canGrant || held.canGrantSubscribe)) ||
                (needed == Capability.Edit && held.canEdit) ||
                (needed == Capability.Delete && held.canDelete)
            ) return resource;
        }
        revert NotAuthorized(id, msg.sender, needed);
    }

    function _existing(bytes32 id) private view returns (Resource storage resource) {
        resource = _resources[id];
        if (resource.owner == address(0)) revert ResourceNotFound(id);
    }

    /// @dev Sets one of the two expiries of a permission record, keeping the rest of it.
    function _writeExpiry(bytes32 id, Resource memory resource, address user, uint64 expiry, bool publish) private {
        if (user == address(0) || user == resource.owner) revert InvalidPermissionTarget(user);
        Permission storage stored = _permission(id, resource.generation, user);
        if (publish) stored.publishExpiry = expiry;
        else stored.subscribeExpiry = expiry;
        emit PermissionUpdated(
            id,
            user,
            stored.publishExpiry,
            stored.subscribeExpiry,
            stored.canGrant,
            stored.canEdit,
            stored.canDelete,
            stored.canGrantSubscribe
        );
    }

    function _writePermission(bytes32 id, Resource memory resource, address user, Permission memory permission)
        private
    {
        if (user == address(0) || user == resource.owner) revert InvalidPermissionTarget(user);
        Permission storage stored = _permission(id, resource.generation, user);
        stored.publishExpiry = permission.publishExpiry;
        stored.subscribeExpiry = permission.subscribeExpiry;
        stored.canGrant = permission.canGrant;
        stored.canEdit = permission.canEdit;
        stored.canDelete = permission.canDelete;
        stored.canGrantSubscribe = permission.canGrantSubscribe;
        emit PermissionUpdated(
            id,
            user,
            permission.publishExpiry,
            permission.subscribeExpiry,
            permission.canGrant,
            permission.canEdit,
            permission.canDelete,
            permission.canGrantSubscribe
        );
    }

    function _registerKey(address user, bytes calldata publicKey) private {
        if (publicKey.length != COMPRESSED_KEY_LENGTH || (publicKey[0] != 0x02 && publicKey[0] != 0x03)) {
            revert InvalidEncryptionKey(publicKey);
        }
        _encryptionKeys[user] = EncryptionKey({x: bytes32(publicKey[1:]), prefix: uint8(publicKey[0])});
        emit EncryptionKeyRegistered(user, publicKey, msg.sender);
    }

    /// @notice The O(1) access check behind canPublish and canSubscribe.
    /// @dev At most two SLOADs, each read once as a raw word (reading packed
    /// struct fields one by one, or copying the struct to memory, costs several hundred gas more on this
    /// path, which every license purchase and smart-contract subscriber pays).
    /// Word layouts follow Solidity's packing of Resource and Permission (lowest-order bytes first):
    /// Resource: owner bits 0..159, generation 160..191, partitions 192..207, kind 208..215,
    /// publicPublish 216..223, publicSubscribe 224..231. Permission: publishExpiry bits 0..63,
    /// subscribeExpiry 64..127, then the four flags a byte each.
    /// @param id the resource id
    /// @param user the address checked
    /// @param publicShift 216 to read publicPublish, 224 for publicSubscribe
    /// @param expiryShift 0 to read publishExpiry, 64 for subscribeExpiry
    function _canAccess(bytes32 id, address user, uint256 publicShift, uint256 expiryShift)
        private
        view
        returns (bool)
    {
        Resource storage resource = _resources[id];
        uint256 word;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(resource.slot)
        }
        address owner = address(uint160(word));
        // An absent resource (owner 0) answers false without a test of its own on the hot path: its
        // public flags are 0 and its current generation holds no permission (records are written for
        // existing resources only, and deletion moves to a new generation), so only user == owner == 0
        // needs the guard below.
        if (user == owner) return owner != address(0);
        if ((word >> publicShift) & 0xff != 0) return true;
        Permission storage permission = _permission(id, uint32(word >> 160), user);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := sload(permission.slot)
        }
        return block.timestamp < uint64(word >> expiryShift);
    }

    /// @dev The permission record of `user` on generation `generation` of `id` (see PERMISSIONS_NAMESPACE).
    function _permission(bytes32 id, uint32 generation, address user)
        private
        pure
        returns (Permission storage permission)
    {
        // keccak256(abi.encode(id, generation, user, PERMISSIONS_NAMESPACE)), hashed in unallocated
        // memory without moving the free-memory pointer.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(free, id)
            // Inline assembly sees a uint32 with whatever its high bits hold (in _canAccess they are the
            // resource word's partitions, kind and flags): clean it, or the read hashes another slot.
            mstore(add(free, 0x20), and(generation, 0xffffffff))
            mstore(add(free, 0x40), user)
            mstore(add(free, 0x60), PERMISSIONS_NAMESPACE)
            permission.slot := keccak256(free, 0x80)
        }
    }

    function _checkBatch(uint256 length, uint256 otherLength) private pure {
        if (length == 0 || length > MAX_BATCH || length != otherLength) revert InvalidBatch(length, otherLength);
    }

    /// @dev "/" first, then [A-Za-z0-9._~/-], 2..128 bytes in all.
    function _validatePath(string calldata path) private pure {
        bytes calldata raw = bytes(path);
        uint256 length = raw.length;
        if (length < MIN_PATH_LENGTH || length > MAX_PATH_LENGTH || raw[0] != "/") revert InvalidPath(path);
        for (uint256 i = 1; i < length; ++i) {
            bytes1 c = raw[i];
            bool valid = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "/"
                || c == "-" || c == "_" || c == "." || c == "~";
            if (!valid) revert InvalidPath(path);
        }
    }
}
