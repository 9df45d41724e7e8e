// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title INetworkDelivery
/// @notice The O(1) read surface of the network coordinator's finalized delivery records: what the
/// data-license market needs (through ProductDeliveryAdapter, which implements the market's
/// IDeliveryOracle) to release escrow only while a product's streams are delivering. Every value here
/// was agreed by at least the coherence threshold of the brokers assigned to a network partition
/// (see INetworkCoordinator and docs/network.md).
/// @dev Event counts are per network partition (the unit the brokers report), not per stream: a
/// stream partition is carried by exactly one network partition per epoch, found with
/// `networkPartitionOf`. A per-stream count would need per-stream reports, whose number the
/// coordinator cannot bound.
interface INetworkDelivery {
    /// @notice The epoch that is running now (its traffic is being counted).
    /// @return epoch (block.timestamp - genesis) / epochLength
    function currentEpoch() external view returns (uint64 epoch);

    /// @notice The network partition carrying a stream partition in the current epoch.
    /// @param streamId the stream's registry id
    /// @param streamPartition the partition index inside the stream
    /// @return networkPartition in [0, partitionCount())
    function networkPartitionOf(bytes32 streamId, uint16 streamPartition)
        external
        view
        returns (uint32 networkPartition);

    /// @notice The agreed report of one network partition for one epoch.
    /// @param epoch the epoch
    /// @param networkPartition the network partition
    /// @return finalized whether the brokers reached the coherence threshold for it
    /// @return eventCount the number of events the partition carried in that epoch (0 if not finalized)
    function finalizedEventCount(uint64 epoch, uint32 networkPartition)
        external
        view
        returns (bool finalized, uint64 eventCount);

    /// @notice The latest agreed report of a network partition: the market treats a stream as
    /// delivering while the partition carrying it finalized a recent epoch with events.
    /// @param networkPartition the network partition
    /// @return epoch the last epoch finalized with agreement (0 with totalEvents 0 if none yet)
    /// @return eventCount the events of that epoch
    /// @return totalEvents the sum of the events of every agreed epoch of the partition (saturating at
    /// 2^64 - 1)
    function lastFinalized(uint32 networkPartition)
        external
        view
        returns (uint64 epoch, uint64 eventCount, uint64 totalEvents);

    /// @notice Until when a network partition is proven to have carried events: the end of the latest
    /// epoch finalized with agreement and at least one event.
    /// @param networkPartition the network partition
    /// @return deliveredUntil unix seconds (0 if never)
    function partitionDeliveredUntil(uint32 networkPartition) external view returns (uint64 deliveredUntil);
}
