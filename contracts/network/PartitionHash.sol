// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title PartitionHash
/// @notice The stream-partition -> network-partition function, bit-for-bit the same as
/// protocol/partitioning.ts (both are checked against test-vectors/partitioning.json).
/// @dev Key: the first 8 bytes (big-endian) of keccak256(streamId ‖ uint16 streamPartition).
/// Bucket: jump consistent hash (Lamping & Veach 2014) with integer arithmetic, so growing the
/// partition count from n to n+1 moves only ~1/(n+1) of the stream partitions, all into the new one.
/// Expected iterations: ln(partitionCount) + 1.
library PartitionHash {
    /// @dev Multiplier of the jump hash's 64-bit linear congruential generator.
    uint64 private constant _JUMP_MULTIPLIER = 2862933555777941757;

    /// @notice The 64-bit key of a stream partition.
    /// @param streamId the stream's registry id
    /// @param streamPartition the partition index inside the stream
    /// @return key the first 8 bytes of keccak256(streamId ‖ streamPartition), big-endian
    function key(bytes32 streamId, uint16 streamPartition) internal pure returns (uint64) {
        return uint64(bytes8(keccak256(abi.encodePacked(streamId, streamPartition))));
    }

    /// @notice Jump consistent hash of `k` into `buckets` buckets.
    /// @param k the key
    /// @param buckets number of buckets, at least 1
    /// @return bucket in [0, buckets)
    function jump(uint64 k, uint32 buckets) internal pure returns (uint32) {
        uint256 b;
        uint256 j;
        unchecked {
            // Wrapping 64-bit multiply-add is the generator's definition.
            while (j < buckets) {
                b = j;
                k = k * _JUMP_MULTIPLIER + 1;
                j = ((b + 1) << 31) / ((uint256(k) >> 33) + 1);
            }
        }
        return uint32(b);
    }

    /// @notice The network partition that carries `(streamId, streamPartition)`.
    /// @param streamId the stream's registry id
    /// @param streamPartition the partition index inside the stream
    /// @param partitionCount the network's partition count, at least 1
    /// @return networkPartition in [0, partitionCount)
    function networkPartitionOf(bytes32 streamId, uint16 streamPartition, uint32 partitionCount)
        internal
        pure
        returns (uint32)
    {
        return jump(key(streamId, streamPartition), partitionCount);
    }
}
