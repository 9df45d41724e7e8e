// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStreamRegistry
/// @notice The registry of the network's data resources: real-time streams and batch datasets, the
/// permissions of every address on them, and the encryption public keys that publishers use to send
/// group keys to subscribers. This interface is the specification that brokers, wallets and the other
/// contracts of the protocol implement against.
/// @dev Resource ids are namespaced by their creator: `id = keccak256(abi.encodePacked(creator, path))`,
/// where `path` starts with "/" and uses the characters [A-Za-z0-9._~/-] (2 to 128 bytes). The
/// human-readable form is the creator's address followed by the path, e.g.
/// `0x8ba1f109551bd432803012645ac136ddd64dba72/health/heart-rate`.
///
/// Time convention: an expiry `E` (unix seconds) means the right is valid while `block.timestamp < E`.
/// `type(uint64).max` never expires; `0` means no right.
///
/// The owner of a resource implicitly holds every permission; it is never stored and cannot be revoked
/// except by transferring ownership. Each resource has a generation number that grows when it is
/// deleted, and permissions are kept per generation: a deleted and re-created resource starts with
/// no permissions at all.
interface IStreamRegistry {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice What a resource is.
    enum ResourceKind {
        /// A real-time stream of signed events, split into partitions.
        Stream,
        /// A batch dataset: an encrypted file identified by its content hash.
        Dataset
    }

    /// @notice A capability an operation needs, named in NotAuthorized.
    enum Capability {
        /// Ownership of the resource.
        Owner,
        /// The grant permission (or ownership).
        Grant,
        /// The grant or subscribe-delegation permission (or ownership).
        GrantSubscribe,
        /// The edit permission (or ownership).
        Edit,
        /// The delete permission (or ownership).
        Delete
    }

    /// @notice A resource as stored (one storage slot).
    /// @param owner the address that holds every permission; address(0) if the resource does not exist
    /// @param generation incremented on each deletion; permissions are scoped to one generation
    /// @param partitions number of partitions of a stream (1 for a dataset)
    /// @param kind stream or dataset
    /// @param publicPublish anyone may publish
    /// @param publicSubscribe anyone may subscribe
    struct Resource {
        address owner;
        uint32 generation;
        uint16 partitions;
        ResourceKind kind;
        bool publicPublish;
        bool publicSubscribe;
    }

    /// @notice The permissions of one address on one resource (one storage slot).
    /// @param publishExpiry unix seconds; the address may publish while block.timestamp < publishExpiry
    /// @param subscribeExpiry unix seconds; the address may subscribe while block.timestamp < subscribeExpiry
    /// @param canGrant may set any permission of any other address (not ownership)
    /// @param canEdit may update metadata, partitions, dataset content and public access
    /// @param canDelete may delete the resource
    /// @param canGrantSubscribe may set the subscribe expiry of any address, and nothing else
    /// (the delegation given to the data-license market)
    struct Permission {
        uint64 publishExpiry;
        uint64 subscribeExpiry;
        bool canGrant;
        bool canEdit;
        bool canDelete;
        bool canGrantSubscribe;
    }

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A stream or dataset was created.
    /// @param id the resource id (keccak256(creator, path))
    /// @param owner the creator, first owner
    /// @param kind stream or dataset
    /// @param path the creator-relative path ("/..."), for the human-readable name
    /// @param partitions number of partitions (1 for a dataset)
    /// @param metadata free-form metadata for indexers (JSON by convention); not stored on chain
    event ResourceCreated(
        bytes32 indexed id,
        address indexed owner,
        ResourceKind kind,
        string path,
        uint16 partitions,
        string metadata
    );

    /// @notice The metadata of a resource changed (not stored on chain).
    /// @param id the resource id
    /// @param metadata the new metadata
    event MetadataUpdated(bytes32 indexed id, string metadata);

    /// @notice The partition count of a stream changed.
    /// @param id the resource id
    /// @param partitions the new number of partitions
    event PartitionsUpdated(bytes32 indexed id, uint16 partitions);

    /// @notice The content of a dataset was set (at creation) or replaced.
    /// @param id the resource id
    /// @param contentHash hash of the encrypted file (sha-256 by convention, see docs/contracts.md)
    /// @param location where the encrypted file can be fetched (URI)
    event DatasetContentUpdated(bytes32 indexed id, bytes32 contentHash, string location);

    /// @notice Public publish or subscribe access changed.
    /// @param id the resource id
    /// @param publicPublish anyone may publish
    /// @param publicSubscribe anyone may subscribe
    event PublicAccessUpdated(bytes32 indexed id, bool publicPublish, bool publicSubscribe);

    /// @notice The owner proposed a new owner; it takes effect when the new owner accepts.
    /// @param id the resource id
    /// @param owner the current owner
    /// @param pendingOwner the proposed owner (address(0) cancels a proposal)
    event OwnershipTransferStarted(bytes32 indexed id, address indexed owner, address indexed pendingOwner);

    /// @notice Ownership of a resource changed.
    /// @param id the resource id
    /// @param previousOwner the former owner
    /// @param newOwner the new owner
    event OwnershipTransferred(bytes32 indexed id, address indexed previousOwner, address indexed newOwner);

    /// @notice A resource was deleted; every permission of its generation is void from now on.
    /// @param id the resource id
    /// @param generation the generation that ended
    event ResourceDeleted(bytes32 indexed id, uint32 generation);

    /// @notice The permissions of an address on a resource were set. Carries the full new state.
    /// @param id the resource id
    /// @param user the address whose permissions changed
    /// @param publishExpiry new publish expiry (unix seconds)
    /// @param subscribeExpiry new subscribe expiry (unix seconds)
    /// @param canGrant new grant flag
    /// @param canEdit new edit flag
    /// @param canDelete new delete flag
    /// @param canGrantSubscribe new subscribe-delegation flag
    event PermissionUpdated(
        bytes32 indexed id,
        address indexed user,
        uint64 publishExpiry,
        uint64 subscribeExpiry,
        bool canGrant,
        bool canEdit,
        bool canDelete,
        bool canGrantSubscribe
    );

    /// @notice An address registered or rotated its encryption public key.
    /// @param user the key's owner
    /// @param publicKey 33-byte compressed secp256k1 public key
    /// @param registrar who submitted it: the user itself or a key registrar acting for it
    event EncryptionKeyRegistered(address indexed user, bytes publicKey, address indexed registrar);

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice The path is empty, too long, does not start with "/" or has a character outside the set.
    /// @param path the path given
    error InvalidPath(string path);
    /// @notice A resource with this id exists already.
    /// @param id the resource id
    error ResourceExists(bytes32 id);
    /// @notice No resource has this id.
    /// @param id the resource id
    error ResourceNotFound(bytes32 id);
    /// @notice The partition count is 0, above MAX_PARTITIONS, or not 1 for a dataset.
    /// @param partitions the count given
    error InvalidPartitionCount(uint256 partitions);
    /// @notice The operation is for streams only, or datasets only.
    /// @param id the resource id
    /// @param kind the kind the resource has
    error WrongResourceKind(bytes32 id, ResourceKind kind);
    /// @notice A dataset's content hash must not be zero.
    error EmptyContentHash();
    /// @notice The caller lacks the permission the operation needs.
    /// @param id the resource id
    /// @param caller the caller
    /// @param needed the capability the operation needs
    error NotAuthorized(bytes32 id, address caller, Capability needed);
    /// @notice The caller is not the pending owner of the resource.
    /// @param id the resource id
    /// @param caller the caller
    error NotPendingOwner(bytes32 id, address caller);
    /// @notice The owner's own permissions are implicit and cannot be set; nor can address(0)'s.
    /// @param user the address given
    error InvalidPermissionTarget(address user);
    /// @notice A batch is empty, too large (above MAX_BATCH) or its arrays differ in length.
    /// @param length the number of users given
    /// @param otherLength the number of entries in the parallel array
    error InvalidBatch(uint256 length, uint256 otherLength);
    /// @notice The key is not a 33-byte compressed secp256k1 public key (prefix 0x02 or 0x03).
    /// @param publicKey the key given
    error InvalidEncryptionKey(bytes publicKey);
    /// @notice Registering a key for another address requires the key-registrar role.
    /// @param caller the caller
    error NotKeyRegistrar(address caller);
    /// @notice The new owner must not be the zero address (use deleteResource) or the current owner.
    /// @param newOwner the address given
    error InvalidNewOwner(address newOwner);

    // ---------------------------------------------------------------------------------------------
    // Resources
    // ---------------------------------------------------------------------------------------------

    /// @notice The id a creator's path has (whether or not it exists).
    /// @param creator the creating address
    /// @param path the creator-relative path
    /// @return id keccak256(abi.encodePacked(creator, path))
    function resourceId(address creator, string calldata path) external pure returns (bytes32 id);

    /// @notice Create a stream owned by the caller.
    /// @param path creator-relative path, "/" first, [A-Za-z0-9._~/-], 2..128 bytes
    /// @param partitions number of partitions, 1..MAX_PARTITIONS
    /// @param metadata free-form metadata, emitted in the event only
    /// @return id the new stream's id
    function createStream(string calldata path, uint16 partitions, string calldata metadata)
        external
        returns (bytes32 id);

    /// @notice Create a batch dataset owned by the caller.
    /// @param path creator-relative path, as for streams
    /// @param contentHash hash of the encrypted file (non-zero)
    /// @param location where the encrypted file can be fetched (URI), emitted only
    /// @param metadata free-form metadata, emitted only
    /// @return id the new dataset's id
    function createDataset(
        string calldata path,
        bytes32 contentHash,
        string calldata location,
        string calldata metadata
    ) external returns (bytes32 id);

    /// @notice Replace a resource's metadata. Needs edit.
    /// @param id the resource id
    /// @param metadata the new metadata, emitted only
    function updateMetadata(bytes32 id, string calldata metadata) external;

    /// @notice Change a stream's partition count. Needs edit.
    /// @param id the stream id
    /// @param partitions the new count, 1..MAX_PARTITIONS
    function setPartitions(bytes32 id, uint16 partitions) external;

    /// @notice Replace a dataset's content (a new version of the file). Needs edit.
    /// @param id the dataset id
    /// @param contentHash the new content hash (non-zero)
    /// @param location the new location, emitted only
    function updateDatasetContent(bytes32 id, bytes32 contentHash, string calldata location) external;

    /// @notice Open or close publishing and subscribing to anyone. Needs edit.
    /// @param id the resource id
    /// @param publicPublish anyone may publish
    /// @param publicSubscribe anyone may subscribe
    function setPublicAccess(bytes32 id, bool publicPublish, bool publicSubscribe) external;

    /// @notice Propose a new owner (two-step). Owner only. address(0) cancels a pending proposal.
    /// @param id the resource id
    /// @param newOwner the proposed owner
    function transferOwnership(bytes32 id, address newOwner) external;

    /// @notice Accept a proposed ownership transfer. Pending owner only. A permission record the new owner
    /// held is cleared (PermissionUpdated with an empty record): its rights are implicit as owner, and the
    /// old record must not come back when it passes the resource on.
    /// @param id the resource id
    function acceptOwnership(bytes32 id) external;

    /// @notice Delete a resource and void every permission on it. Needs delete.
    /// @param id the resource id
    function deleteResource(bytes32 id) external;

    // ---------------------------------------------------------------------------------------------
    // Permissions
    // ---------------------------------------------------------------------------------------------

    /// @notice Set all permissions of one address. Needs grant (or ownership).
    /// @param id the resource id
    /// @param user the address (not the owner, not address(0))
    /// @param permission the full new permission record
    function setPermission(bytes32 id, address user, Permission calldata permission) external;

    /// @notice Set all permissions of many addresses. Needs grant (or ownership).
    /// @param id the resource id
    /// @param users the addresses, 1..MAX_BATCH
    /// @param permissions one record per address
    function setPermissionBatch(bytes32 id, address[] calldata users, Permission[] calldata permissions) external;

    /// @notice Set the publish expiry of one address, keeping its other permissions. Needs grant.
    /// @param id the resource id
    /// @param user the address
    /// @param expiry unix seconds (0 revokes)
    function setPublishExpiry(bytes32 id, address user, uint64 expiry) external;

    /// @notice Set the subscribe expiry of one address, keeping its other permissions. Needs grant or
    /// grantSubscribe.
    /// @param id the resource id
    /// @param user the address
    /// @param expiry unix seconds (0 revokes)
    function setSubscribeExpiry(bytes32 id, address user, uint64 expiry) external;

    /// @notice Set the subscribe expiry of many addresses. Needs grant or grantSubscribe.
    /// @param id the resource id
    /// @param users the addresses, 1..MAX_BATCH
    /// @param expiries one expiry per address (unix seconds)
    function setSubscribeExpiryBatch(bytes32 id, address[] calldata users, uint64[] calldata expiries) external;

    /// @notice Give or take the subscribe-granting delegation (e.g. to the data-license market). Owner
    /// or grant holders only; the delegate can then set subscribe expiries and nothing else.
    /// @param id the resource id
    /// @param delegate the delegate address
    /// @param allowed whether it may grant subscribe rights
    function setSubscribeDelegate(bytes32 id, address delegate, bool allowed) external;

    /// @notice May `user` publish on resource `id` now? O(1): owner, public access, or an unexpired
    /// publish permission. False for a resource that does not exist.
    /// @param id the resource id
    /// @param user the address
    /// @return allowed whether it may publish now
    function canPublish(bytes32 id, address user) external view returns (bool allowed);

    /// @notice May `user` subscribe to resource `id` now? O(1), as canPublish.
    /// @param id the resource id
    /// @param user the address
    /// @return allowed whether it may subscribe now
    function canSubscribe(bytes32 id, address user) external view returns (bool allowed);

    /// @notice The stored resource record (owner is address(0) if it does not exist).
    /// @param id the resource id
    /// @return resource the record
    function getResource(bytes32 id) external view returns (Resource memory resource);

    /// @notice The content hash of a dataset (zero if none).
    /// @param id the dataset id
    /// @return contentHash the current content hash
    function datasetContentHash(bytes32 id) external view returns (bytes32 contentHash);

    /// @notice The stored permissions of `user` on the current generation of `id` (the owner's
    /// implicit permissions are not stored and read as empty here).
    /// @param id the resource id
    /// @param user the address
    /// @return permission the record
    function getPermission(bytes32 id, address user) external view returns (Permission memory permission);

    /// @notice The proposed next owner of a resource, if any.
    /// @param id the resource id
    /// @return pendingOwner the proposed owner or address(0)
    function pendingOwnerOf(bytes32 id) external view returns (address pendingOwner);

    // ---------------------------------------------------------------------------------------------
    // Encryption keys
    // ---------------------------------------------------------------------------------------------

    /// @notice Register or rotate the caller's encryption public key.
    /// @param publicKey 33-byte compressed secp256k1 public key
    function registerEncryptionKey(bytes calldata publicKey) external;

    /// @notice Register a key for `user`. Key registrars only (the data-license market, which does so
    /// for the buyer that it has authenticated in the same transaction).
    /// @param user the key's owner
    /// @param publicKey 33-byte compressed secp256k1 public key
    function registerEncryptionKeyFor(address user, bytes calldata publicKey) external;

    /// @notice The registered encryption key of an address (empty if none).
    /// @param user the address
    /// @return publicKey 33-byte compressed secp256k1 public key, or empty
    function encryptionKeyOf(address user) external view returns (bytes memory publicKey);
}
