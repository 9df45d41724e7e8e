// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IStreamEventSubscriber
/// @notice What a smart-contract subscriber implements: the callback through which IEventSubscriptions
/// hands it a published stream event whose publisher signature and publish permission were verified
/// on chain. Also defines the event as the broker protocol specifies it (docs/protocol.md §1).
interface IStreamEventSubscriber {
    /// @notice A published event: the fields of the broker protocol's canonical bytes (docs/protocol.md
    /// §1.1), which are `abi.encodePacked(uint8(1), streamId, streamPartition, timestamp,
    /// sequenceNumber, previousEventHash, publisher, contentType, encryptionType, groupKeyId,
    /// uint32(content.length), content)`.
    /// @param streamId the registry id of the stream
    /// @param streamPartition the partition inside the stream
    /// @param timestamp the publisher's clock, unix milliseconds
    /// @param sequenceNumber strictly increasing per (stream partition, publisher)
    /// @param previousEventHash the publisher's previous event in this stream partition, or zero
    /// @param publisher the publisher's address (the signer)
    /// @param contentType 0 binary, 1 JSON, 2 UTF-8 text
    /// @param encryptionType 0 none, 1 AES-256-GCM with a group key
    /// @param groupKeyId the group key id, zero iff not encrypted
    /// @param content the payload
    struct StreamEvent {
        bytes32 streamId;
        uint32 streamPartition;
        uint64 timestamp;
        uint64 sequenceNumber;
        bytes32 previousEventHash;
        address publisher;
        uint8 contentType;
        uint8 encryptionType;
        bytes32 groupKeyId;
        bytes content;
    }

    /// @notice Receive a verified event. Called only by the subscriptions contract, once per event.
    /// Reverting refuses the delivery (no bounty is paid).
    /// @param eventHash keccak256 of the event's canonical bytes
    /// @param streamEvent the event
    /// @return selector must be `IStreamEventSubscriber.onStreamEvent.selector`
    function onStreamEvent(bytes32 eventHash, StreamEvent calldata streamEvent) external returns (bytes4 selector);
}
