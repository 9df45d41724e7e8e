// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INetworkCoordinator} from "../interfaces/INetworkCoordinator.sol";

/// @title PartitionAssignment
/// @notice The assignment engine of the network coordinator: which brokers serve which network
/// partitions, and the bounded, useful-moves-only rebalancing. A linked library (its external
/// functions run by DELEGATECALL on the coordinator's storage) so the coordinator fits the
/// 24,576-byte code-size limit.
/// @dev Every set is an array with a 1-based position map, removed from by swap-and-pop, so every
/// operation is O(1) or O(R). Rebalancing moves, in this order of priority:
/// 1. Drain: take the last partition of a suspended or leaving broker that still holds some, and
///    give it to the best free active broker if there is one.
/// 2. Fill: give a partition with fewer than min(R, active brokers) assignees to the best free
///    active broker (one always exists).
/// 3. Balance: when the heaviest and the lightest active broker differ by two or more partitions,
///    move one of the heaviest's last BALANCE_SCAN_LIMIT partitions that the lightest does not serve.
/// Each move strictly improves (fewer drained assignments, more filled slots, or a smaller sum of
/// squared loads), so rebalancing always terminates.
///
/// Paid moves: only a fill that raises the number of assignments (partition, broker) above the most
/// the network ever had. Every other move only undoes or redoes what a join or a leave changed (a
/// drain, a balancing move, a fill of a slot a drain emptied), so churn, by any address, earns nothing;
/// the brokers those moves serve make them (a leaver to withdraw, a light broker to earn rounds).
library PartitionAssignment {
    /// @notice The most steps one rebalance call spends tightening each end of the tracked load range.
    uint256 internal constant LOAD_SCAN_LIMIT = 64;
    /// @notice How many of the heaviest broker's partitions a balancing move examines.
    uint256 internal constant BALANCE_SCAN_LIMIT = 8;

    /// @notice A broker's stored record (one slot).
    struct Broker {
        uint128 stake;
        uint64 withdrawableAt;
        uint16 reputation;
        INetworkCoordinator.BrokerStatus status;
    }

    /// @notice Where a broker sits in the assignment's sets (1-based positions, 0 = absent), and when
    /// its last partition was drained, one slot.
    /// @param active position in the active brokers
    /// @param loadBucket position in its load bucket
    /// @param draining position in the draining brokers
    /// @param drainedAt unix seconds its last partition was taken away by a drain (0: never since it
    /// registered): no round can put it on a roster from then on
    struct BrokerIndex {
        uint64 active;
        uint64 loadBucket;
        uint64 draining;
        uint64 drainedAt;
    }

    /// @notice Where an assignment sits (1-based positions), one slot.
    /// @param slot position of the broker in the partition's assignees (0 = not assigned)
    /// @param position position of the partition in the broker's partitions
    struct Membership {
        uint128 slot;
        uint128 position;
    }

    /// @notice The assignment state, kept in the coordinator's storage.
    struct Layout {
        uint8 replication;
        // The assignments (partition, broker) now, and the most there ever were: a fill is paid only
        // when it raises the most (P <= 65,536 and R <= 8, so 2^32 bounds both).
        uint32 assignments;
        uint32 maxAssignments;
        mapping(address broker => Broker) brokers;
        // Active (assignable) brokers, and the same brokers bucketed by load.
        address[] active;
        mapping(uint256 load => address[]) loadBucket;
        mapping(address broker => BrokerIndex) index;
        // A lower bound of the smallest and an upper bound of the largest load of an active broker.
        uint256 minLoad;
        uint256 maxLoad;
        // Suspended or leaving brokers that still hold partitions.
        address[] draining;
        mapping(uint32 partition => address[]) assignees;
        mapping(uint32 partition => mapping(address broker => Membership)) membership;
        mapping(uint32 partition => uint32) version;
        mapping(address broker => uint32[]) brokerPartitions;
        // Partitions with fewer than R assignees, by assignee count.
        mapping(uint256 count => uint32[]) byCount;
        mapping(uint32 partition => uint256) byCountPos;
    }

    enum MoveKind {
        None,
        Drain,
        Fill,
        Balance
    }

    struct Move {
        MoveKind kind;
        uint32 partition;
        address from;
        address to;
        uint256 minLoad;
        uint256 maxLoad;
    }

    /// @notice Make at most `maxMoves` useful moves.
    /// @param self the assignment state
    /// @param maxMoves the most moves to make
    /// @return moves the moves made
    /// @return paid the moves among them that gave the network an assignment it never had (fills above
    /// the most assignments there ever were)
    function rebalance(Layout storage self, uint256 maxMoves) external returns (uint256 moves, uint256 paid) {
        while (moves < maxMoves) {
            Move memory move = _findMove(self);
            // The load-range bounds only ever tighten here; keep what the search learned.
            self.minLoad = move.minLoad;
            self.maxLoad = move.maxLoad;
            if (move.kind == MoveKind.None) break;
            if (move.from != address(0)) _unassign(self, move.partition, move.from);
            if (move.to != address(0)) _assign(self, move.partition, move.to);
            if (move.kind == MoveKind.Fill) {
                uint32 assignments = ++self.assignments;
                if (assignments > self.maxAssignments) {
                    self.maxAssignments = assignments;
                    ++paid;
                }
            } else if (move.to == address(0)) {
                // A drain without replacement: the slot it empties is refilled later, unpaid.
                --self.assignments;
            }
            ++moves;
        }
    }

    /// @notice Whether a useful move exists.
    /// @param self the assignment state
    /// @return needed whether `rebalance` would move something
    function rebalanceNeeded(Layout storage self) external view returns (bool needed) {
        return _findMove(self).kind != MoveKind.None;
    }

    /// @notice Make a (load 0) broker assignable.
    /// @param self the assignment state
    /// @param broker the broker
    function activate(Layout storage self, address broker) external {
        self.active.push(broker);
        // A registering broker holds nothing (withdrawal needs a drained broker).
        address[] storage bucket = self.loadBucket[0];
        bucket.push(broker);
        self.index[broker] = BrokerIndex(uint64(self.active.length), uint64(bucket.length), 0, 0);
        self.minLoad = 0;
    }

    /// @notice Make an active broker unassignable; its partitions drain by rebalancing.
    /// @param self the assignment state
    /// @param broker the broker
    function deactivate(Layout storage self, address broker) external {
        uint64 position = self.index[broker].active;
        address[] storage active = self.active;
        address last = active[active.length - 1];
        active[position - 1] = last;
        self.index[last].active = position;
        active.pop();
        self.index[broker].active = 0;

        uint256 load = self.brokerPartitions[broker].length;
        _removeFromLoadBucket(self, broker, load);
        if (load != 0) {
            self.draining.push(broker);
            self.index[broker].draining = uint64(self.draining.length);
        }
    }

    /// @notice Create partitions [from, to), unassigned.
    /// @param self the assignment state
    /// @param from the first new partition
    /// @param to one past the last new partition
    function addPartitions(Layout storage self, uint32 from, uint32 to) external {
        for (uint32 p = from; p < to; ++p) {
            _addToCountBucket(self, p, 0);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Move search
    // ---------------------------------------------------------------------------------------------

    function _findMove(Layout storage self) private view returns (Move memory move) {
        (move.minLoad, move.maxLoad) = _loadRange(self);
        uint256 drainingCount = self.draining.length;
        if (drainingCount != 0) {
            address leaving = self.draining[drainingCount - 1];
            uint32[] storage held = self.brokerPartitions[leaving];
            move.kind = MoveKind.Drain;
            move.partition = held[held.length - 1];
            move.from = leaving;
            move.to = _pickCandidate(self, move.partition, move.minLoad);
            return move;
        }
        uint256 activeCount = self.active.length;
        uint256 target = activeCount < self.replication ? activeCount : self.replication;
        for (uint256 c = 0; c < target; ++c) {
            uint32[] storage partitions = self.byCount[c];
            if (partitions.length != 0) {
                move.kind = MoveKind.Fill;
                move.partition = partitions[partitions.length - 1];
                // Non-zero: the partition has c < activeCount assignees, all active.
                move.to = _pickCandidate(self, move.partition, move.minLoad);
                return move;
            }
        }
        if (move.maxLoad < move.minLoad + 2) return move;
        address[] storage lightest = self.loadBucket[move.minLoad];
        address[] storage heaviest = self.loadBucket[move.maxLoad];
        if (lightest.length == 0 || heaviest.length == 0) return move;
        address from = heaviest[heaviest.length - 1];
        address to = lightest[lightest.length - 1];
        uint32[] storage fromPartitions = self.brokerPartitions[from];
        uint256 length = fromPartitions.length;
        for (uint256 i = 0; i < BALANCE_SCAN_LIMIT && i < length; ++i) {
            uint32 partition = fromPartitions[length - 1 - i];
            if (self.membership[partition][to].slot == 0) {
                move.kind = MoveKind.Balance;
                move.partition = partition;
                move.from = from;
                move.to = to;
                return move;
            }
        }
    }

    /// @dev The tracked load range, tightened by at most LOAD_SCAN_LIMIT steps at each end.
    function _loadRange(Layout storage self) private view returns (uint256 minLoad, uint256 maxLoad) {
        minLoad = self.minLoad;
        maxLoad = self.maxLoad;
        for (uint256 i = 0; i < LOAD_SCAN_LIMIT && minLoad < maxLoad && self.loadBucket[minLoad].length == 0; ++i) {
            ++minLoad;
        }
        for (uint256 i = 0; i < LOAD_SCAN_LIMIT && maxLoad > minLoad && self.loadBucket[maxLoad].length == 0; ++i) {
            --maxLoad;
        }
    }

    /// @dev The best active broker not yet assigned to `partition`, or address(0). Candidates: one
    /// broker of the lightest load bucket, and a window of min(active, assignees + 1) consecutive
    /// active brokers from a pseudo-random start (at least one of them is free when any active broker
    /// is). Best = lowest (load + 1) / (reputation + 1): misbehaving brokers are picked less.
    function _pickCandidate(Layout storage self, uint32 partition, uint256 minLoad)
        private
        view
        returns (address best)
    {
        uint256 bestScore = type(uint256).max;
        address[] storage lightest = self.loadBucket[minLoad];
        if (lightest.length != 0) {
            (best, bestScore) = _consider(self, partition, lightest[lightest.length - 1], best, bestScore);
        }
        uint256 activeCount = self.active.length;
        uint256 window = self.assignees[partition].length + 1;
        if (window > activeCount) window = activeCount;
        if (window == 0) return best;
        uint256 start = uint256(keccak256(abi.encode(partition, self.version[partition]))) % activeCount;
        for (uint256 i = 0; i < window; ++i) {
            (best, bestScore) = _consider(self, partition, self.active[(start + i) % activeCount], best, bestScore);
        }
    }

    function _consider(Layout storage self, uint32 partition, address candidate, address best, uint256 bestScore)
        private
        view
        returns (address, uint256)
    {
        if (self.membership[partition][candidate].slot != 0) return (best, bestScore);
        uint256 score =
            ((self.brokerPartitions[candidate].length + 1) * 1e18) / (uint256(self.brokers[candidate].reputation) + 1);
        return score < bestScore ? (candidate, score) : (best, bestScore);
    }

    // ---------------------------------------------------------------------------------------------
    // Set maintenance
    // ---------------------------------------------------------------------------------------------

    function _assign(Layout storage self, uint32 partition, address broker) private {
        address[] storage assignees = self.assignees[partition];
        uint256 count = assignees.length;
        assignees.push(broker);
        _moveCountBucket(self, partition, count, count + 1);

        uint32[] storage held = self.brokerPartitions[broker];
        uint256 load = held.length;
        held.push(partition);
        self.membership[partition][broker] = Membership(uint128(count + 1), uint128(load + 1));
        // Only active brokers are ever assigned.
        _moveLoad(self, broker, load, load + 1);

        uint32 version = ++self.version[partition];
        emit INetworkCoordinator.PartitionAssigned(partition, broker, version);
    }

    function _unassign(Layout storage self, uint32 partition, address broker) private {
        Membership memory member = self.membership[partition][broker];

        // Swap-and-pop from both lists; the broker's own membership is deleted last, so the swaps
        // are right even when it is the last element.
        address[] storage assignees = self.assignees[partition];
        uint256 count = assignees.length;
        address last = assignees[count - 1];
        assignees[member.slot - 1] = last;
        self.membership[partition][last].slot = member.slot;
        assignees.pop();
        _moveCountBucket(self, partition, count, count - 1);

        uint32[] storage held = self.brokerPartitions[broker];
        uint256 load = held.length;
        uint32 lastPartition = held[load - 1];
        held[member.position - 1] = lastPartition;
        self.membership[lastPartition][broker].position = member.position;
        held.pop();
        delete self.membership[partition][broker];

        if (self.index[broker].active != 0) {
            _moveLoad(self, broker, load, load - 1);
        } else if (load == 1) {
            _removeFromDraining(self, broker);
        }

        uint32 version = ++self.version[partition];
        emit INetworkCoordinator.PartitionUnassigned(partition, broker, version);
    }

    function _removeFromDraining(Layout storage self, address broker) private {
        address[] storage draining = self.draining;
        uint64 position = self.index[broker].draining;
        address last = draining[draining.length - 1];
        draining[position - 1] = last;
        self.index[last].draining = position;
        draining.pop();
        BrokerIndex storage index = self.index[broker];
        index.draining = 0;
        index.drainedAt = uint64(block.timestamp);
    }

    function _moveLoad(Layout storage self, address broker, uint256 from, uint256 to) private {
        _removeFromLoadBucket(self, broker, from);
        address[] storage bucket = self.loadBucket[to];
        bucket.push(broker);
        self.index[broker].loadBucket = uint64(bucket.length);
        if (to > self.maxLoad) self.maxLoad = to;
        // No lower-bound update needed: a load only decreases in a balancing move, from the heaviest
        // broker, whose new load is still above the lightest's.
    }

    function _removeFromLoadBucket(Layout storage self, address broker, uint256 load) private {
        address[] storage bucket = self.loadBucket[load];
        uint64 position = self.index[broker].loadBucket;
        address last = bucket[bucket.length - 1];
        bucket[position - 1] = last;
        self.index[last].loadBucket = position;
        bucket.pop();
        self.index[broker].loadBucket = 0;
    }

    /// @dev Keep `byCount` (partitions with fewer than R assignees) in step with an assignee count change.
    function _moveCountBucket(Layout storage self, uint32 partition, uint256 from, uint256 to) private {
        uint256 replication = self.replication;
        if (from < replication) {
            uint32[] storage bucket = self.byCount[from];
            uint256 position = self.byCountPos[partition];
            uint32 last = bucket[bucket.length - 1];
            bucket[position - 1] = last;
            self.byCountPos[last] = position;
            bucket.pop();
            delete self.byCountPos[partition];
        }
        if (to < replication) _addToCountBucket(self, partition, to);
    }

    function _addToCountBucket(Layout storage self, uint32 partition, uint256 count) private {
        uint32[] storage bucket = self.byCount[count];
        bucket.push(partition);
        self.byCountPos[partition] = bucket.length;
    }
}
