// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {INetworkDelivery} from "./INetworkDelivery.sol";

/// @title INetworkCoordinator
/// @notice The network's coordinator (no ZooKeeper): brokers register with a DATA stake; the network's
/// P partitions are each assigned to R brokers; anyone rebalances the assignment in bounded steps and
/// is paid only for moves that give the network an assignment it never had; in every epoch the
/// assigned brokers commit and then reveal each partition's (eventCount, checksum); agreement of the
/// coherence threshold finalizes it, pays the agreeing brokers from a reward pool and feeds the
/// market's escrow (IDeliveryOracle).
/// This interface is the specification third-party brokers implement against; docs/network.md has
/// the worked example.
/// @dev Units: DATA amounts in token wei; times in unix seconds; basis points (bps) out of 10,000;
/// reputation in [0, 10,000].
///
/// Epochs: epoch e covers [genesis + e·epochLength, genesis + (e+1)·epochLength). Its reports are
/// committed during [end(e), end(e) + commitWindow) and revealed during
/// [end(e) + commitWindow, end(e) + commitWindow + revealWindow); after that anyone finalizes.
///
/// The roster of a round (epoch, partition) is the partition's assignees at the round's first commit:
/// only they may commit and reveal, and they are the ones judged, so rebalancing during a round
/// neither lets a newcomer in nor punishes one. A round nobody committed to has no roster and judges
/// nobody.
interface INetworkCoordinator is INetworkDelivery {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice Where a broker is in its life cycle.
    enum BrokerStatus {
        /// Not registered (or withdrawn).
        None,
        /// Registered and eligible for assignments.
        Active,
        /// Registered but no longer assigned: its reputation fell below `minReputation`, or it was
        /// slashed. It can only top up its stake and leave.
        Suspended,
        /// Asked to leave: its stake is withdrawable once it is drained and `withdrawalDelay` has passed
        /// since its request and since the end of the last round it can be on the roster of; slashable
        /// until it withdraws.
        Leaving
    }

    /// @notice A broker's on-chain record.
    /// @param stake staked DATA (token wei)
    /// @param withdrawableAt unix seconds from which a leaving broker may withdraw (0 otherwise): the later
    /// of its request + withdrawalDelay and the end of the last round it can be on the roster of +
    /// withdrawalDelay; while it still holds partitions, a lower bound (its drain sets the second)
    /// @param reputation in [0, 10,000]; new brokers start at `initialReputation`
    /// @param status life-cycle status
    /// @param load number of network partitions assigned to it
    struct BrokerState {
        uint128 stake;
        uint64 withdrawableAt;
        uint16 reputation;
        BrokerStatus status;
        uint32 load;
    }

    /// @notice The governance parameters, all changed together by `setParameters` (bounds in
    /// docs/network.md and in each `InvalidParameter` error).
    /// @param minStake DATA a broker must stake to register, in (0, 1e9 DATA]
    /// @param withdrawalDelay seconds between `requestLeave` and `withdrawStake`, in [1 day, 180 days]
    /// @param commitWindow seconds of the commit phase, >= 60; commitWindow + revealWindow <= epochLength
    /// @param revealWindow seconds of the reveal phase, >= 60
    /// @param coherenceBps share of the roster that must reveal the same report, in [5,001, 10,000]
    /// @param rewardPerRound DATA shared by the agreeing brokers of one finalized (epoch, partition),
    /// at most 1e24
    /// @param rebalanceReward DATA credited to a rebalance caller per paid move (a move that gives the
    /// network an assignment it never had), at most 1e21
    /// @param partitionsPerBroker the P growth rule's factor: P follows activeBrokers × this, in [1, 16]
    /// @param maxPartitions the ceiling of P, in [current P target, 65,536]
    /// @param initialReputation reputation of a new broker, in (minReputation, 10,000]
    /// @param minReputation below this a broker is suspended, in [0, initialReputation)
    /// @param reputationGain added for an agreeing report (capped at 10,000), at most 10,000
    /// @param reputationLoss removed for a deviating or missing report (floored at 0), at most 10,000
    /// @param slashBps share of the stake slashed for conflicting reports, at most 10,000
    /// @param whistleblowerBps share of the slashed amount credited to who proved it, at most 10,000
    struct Parameters {
        uint128 minStake;
        uint64 withdrawalDelay;
        uint32 commitWindow;
        uint32 revealWindow;
        uint16 coherenceBps;
        uint128 rewardPerRound;
        uint128 rebalanceReward;
        uint16 partitionsPerBroker;
        uint32 maxPartitions;
        uint16 initialReputation;
        uint16 minReputation;
        uint16 reputationGain;
        uint16 reputationLoss;
        uint16 slashBps;
        uint16 whistleblowerBps;
    }

    /// @notice A report signed off chain by a broker (what brokers exchange with each other).
    /// @param eventCount the count
    /// @param checksum the checksum
    /// @param signature 65-byte ECDSA signature of `reportDigest(epoch, partition, eventCount, checksum)`
    struct SignedReport {
        uint64 eventCount;
        bytes32 checksum;
        bytes signature;
    }

    /// @notice What happened to a round (epoch, partition).
    enum RoundOutcome {
        /// Not finalized yet.
        Open,
        /// At least the coherence threshold agreed: the report is final and rewards were credited.
        Agreed,
        /// Finalized without agreement (or without any commit): no reward; every roster member that
        /// revealed nothing, or a report with fewer reveals than the most revealed one, lost
        /// reputation (in a tie for the most reveals, the revealers of the tied reports are not judged).
        NoAgreement
    }

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A broker registered.
    /// @param broker the broker's address (it signs its reports with this key)
    /// @param stake DATA staked
    /// @param wsUrl its WebSocket endpoint
    /// @param httpUrl its HTTP endpoint
    /// @param publicKey its 33-byte compressed secp256k1 public key
    event BrokerRegistered(address indexed broker, uint256 stake, string wsUrl, string httpUrl, bytes publicKey);

    /// @notice A broker changed its endpoints or public key.
    /// @param broker the broker
    /// @param wsUrl new WebSocket endpoint
    /// @param httpUrl new HTTP endpoint
    /// @param publicKey new public key
    event BrokerUpdated(address indexed broker, string wsUrl, string httpUrl, bytes publicKey);

    /// @notice A broker added stake.
    /// @param broker the broker
    /// @param amount DATA added
    /// @param stake its stake now
    event StakeAdded(address indexed broker, uint256 amount, uint256 stake);

    /// @notice A broker asked to leave; its assignments drain through rebalancing.
    /// @param broker the broker
    /// @param withdrawableAt unix seconds from which it may withdraw at the earliest (request +
    /// withdrawalDelay; later if it is on a roster when drained, see `brokerState`)
    event LeaveRequested(address indexed broker, uint64 withdrawableAt);

    /// @notice A broker withdrew its stake and is no longer registered.
    /// @param broker the broker
    /// @param amount DATA returned
    event StakeWithdrawn(address indexed broker, uint256 amount);

    /// @notice A broker was suspended (reputation below the minimum, or slashed) and will be drained.
    /// @param broker the broker
    /// @param reputation its reputation
    /// @param stake its stake
    event BrokerSuspended(address indexed broker, uint16 reputation, uint256 stake);

    /// @notice A broker's reputation changed.
    /// @param broker the broker
    /// @param reputation the new reputation
    event ReputationChanged(address indexed broker, uint16 reputation);

    /// @notice A broker was slashed for two conflicting signed reports of one round.
    /// @param broker the slashed broker
    /// @param epoch the round's epoch
    /// @param partition the round's partition
    /// @param amount DATA slashed
    /// @param whistleblower who proved it
    /// @param whistleblowerReward DATA credited to the whistleblower (the rest went to the reward pool)
    event BrokerSlashed(
        address indexed broker,
        uint64 indexed epoch,
        uint32 indexed partition,
        uint256 amount,
        address whistleblower,
        uint256 whistleblowerReward
    );

    /// @notice The partition-count target grew (P growth rule); new partitions serve traffic from
    /// `effectiveEpoch` on and can be assigned at once.
    /// @param partitionCount the new number of partitions
    /// @param effectiveEpoch the first epoch in which stream partitions hash over `partitionCount`
    event PartitionCountIncreased(uint32 partitionCount, uint64 effectiveEpoch);

    /// @notice A broker was assigned a partition.
    /// @param partition the network partition
    /// @param broker the broker
    /// @param assignmentVersion the partition's assignment version after the change
    event PartitionAssigned(uint32 indexed partition, address indexed broker, uint32 assignmentVersion);

    /// @notice A broker was unassigned from a partition.
    /// @param partition the network partition
    /// @param broker the broker
    /// @param assignmentVersion the partition's assignment version after the change
    event PartitionUnassigned(uint32 indexed partition, address indexed broker, uint32 assignmentVersion);

    /// @notice A rebalance call made useful moves.
    /// @param caller who called
    /// @param moves the number of moves made
    /// @param reward DATA credited to the caller: rebalanceReward per move that raised the number of
    /// assignments above the most there ever were (bounded by the pool); 0 for moves a join or leave
    /// made necessary
    event Rebalanced(address indexed caller, uint256 moves, uint256 reward);

    /// @notice A broker committed its hidden report for a round.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the broker
    /// @param commitment keccak256(abi.encode(epoch, partition, eventCount, checksum, salt, broker))
    event ReportCommitted(uint64 indexed epoch, uint32 indexed partition, address indexed broker, bytes32 commitment);

    /// @notice A broker revealed its report for a round.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the broker
    /// @param eventCount the events it counted
    /// @param checksum its rolling checksum (docs/protocol.md)
    event ReportRevealed(
        uint64 indexed epoch, uint32 indexed partition, address indexed broker, uint64 eventCount, bytes32 checksum
    );

    /// @notice A round was finalized.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param outcome agreed or no agreement
    /// @param eventCount the agreed count (0 unless agreed)
    /// @param checksum the agreed checksum (0 unless agreed)
    /// @param agreeing the number of brokers that revealed the agreed report
    /// @param rewardEach DATA credited to each agreeing broker
    event RoundFinalized(
        uint64 indexed epoch,
        uint32 indexed partition,
        RoundOutcome outcome,
        uint64 eventCount,
        bytes32 checksum,
        uint256 agreeing,
        uint256 rewardEach
    );

    /// @notice Someone added DATA to the reward pool.
    /// @param funder who paid
    /// @param amount DATA added
    /// @param pool the unallocated pool now
    event RewardPoolFunded(address indexed funder, uint256 amount, uint256 pool);

    /// @notice Rewards were credited to an account from the pool.
    /// @param account the account
    /// @param amount DATA credited
    event RewardCredited(address indexed account, uint256 amount);

    /// @notice An account claimed its credited rewards.
    /// @param account the account
    /// @param to the recipient
    /// @param amount DATA paid
    event RewardClaimed(address indexed account, address indexed to, uint256 amount);

    /// @notice Governance changed the parameters.
    /// @param parameters the new parameters
    event ParametersUpdated(Parameters parameters);

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice A governance parameter is outside its bounds.
    /// @param name the parameter's name
    /// @param value the value given
    /// @param min the smallest allowed value
    /// @param max the largest allowed value
    error InvalidParameter(string name, uint256 value, uint256 min, uint256 max);
    /// @notice The stake is below the governance minimum.
    /// @param stake the stake offered
    /// @param minStake the minimum
    error StakeTooLow(uint256 stake, uint256 minStake);
    /// @notice An endpoint URL is empty, longer than 256 bytes or has the wrong scheme.
    /// @param url the URL given
    /// @param expectedScheme "ws" (ws:// or wss://) or "http" (http:// or https://)
    error InvalidEndpoint(string url, string expectedScheme);
    /// @notice The public key is not a 33-byte compressed secp256k1 key (prefix 0x02 or 0x03).
    /// @param publicKey the key given
    error InvalidPublicKey(bytes publicKey);
    /// @notice The broker has the wrong status for this operation.
    /// @param broker the broker
    /// @param status its status
    error WrongBrokerStatus(address broker, BrokerStatus status);
    /// @notice The withdrawal delay has not elapsed.
    /// @param broker the broker
    /// @param withdrawableAt unix seconds from which it may withdraw
    /// @param now_ the current block time
    error WithdrawalDelayNotElapsed(address broker, uint64 withdrawableAt, uint256 now_);
    /// @notice The broker still holds partitions; rebalancing must drain them first.
    /// @param broker the broker
    /// @param load its remaining partitions
    error BrokerStillAssigned(address broker, uint32 load);
    /// @notice The amount must be positive.
    error ZeroAmount();
    /// @notice The partition does not exist (yet).
    /// @param partition the partition given
    /// @param partitionCount the number of partitions that exist, including announced ones
    error UnknownPartition(uint32 partition, uint32 partitionCount);
    /// @notice The caller is not assigned to the partition.
    /// @param partition the partition
    /// @param broker the caller
    error NotAssigned(uint32 partition, address broker);
    /// @notice The round is not in the phase the operation needs.
    /// @param epoch the epoch
    /// @param phaseStart unix seconds the needed phase starts
    /// @param phaseEnd unix seconds the needed phase ends (exclusive)
    /// @param now_ the current block time
    error OutsidePhase(uint64 epoch, uint256 phaseStart, uint256 phaseEnd, uint256 now_);
    /// @notice The broker committed to this round already.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the broker
    error AlreadyCommitted(uint64 epoch, uint32 partition, address broker);
    /// @notice The commitment must not be zero.
    error EmptyCommitment();
    /// @notice The caller is not in the round's roster (the partition's assignees at its first commit).
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the caller
    error NotInRoster(uint64 epoch, uint32 partition, address broker);
    /// @notice The broker has no commitment in this round.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the broker
    error NoCommitment(uint64 epoch, uint32 partition, address broker);
    /// @notice The revealed values do not hash to the commitment.
    /// @param commitment the stored commitment
    /// @param computed the hash of the revealed values
    error CommitmentMismatch(bytes32 commitment, bytes32 computed);
    /// @notice The broker revealed in this round already.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param broker the broker
    error AlreadyRevealed(uint64 epoch, uint32 partition, address broker);
    /// @notice The round was finalized already.
    /// @param epoch the epoch
    /// @param partition the partition
    error RoundAlreadyFinalized(uint64 epoch, uint32 partition);
    /// @notice Two reports given as conflicting are not: same values, different rounds, or not both
    /// signed by the accused broker.
    /// @param broker the accused broker
    error NotConflicting(address broker);
    /// @notice The broker was slashed for this round already.
    /// @param broker the broker
    /// @param epoch the epoch
    /// @param partition the partition
    error AlreadySlashed(address broker, uint64 epoch, uint32 partition);
    /// @notice The account has no credited rewards.
    /// @param account the account
    error NothingToClaim(address account);
    /// @notice The recipient must not be the zero address.
    error ZeroRecipient();

    // ---------------------------------------------------------------------------------------------
    // Brokers
    // ---------------------------------------------------------------------------------------------

    /// @notice Register the caller as a broker, staking `stake` DATA (approve it first). The broker
    /// becomes eligible at once; the P growth rule may add partitions.
    /// @param stake DATA to stake, at least `minStake`
    /// @param wsUrl WebSocket endpoint, "ws://" or "wss://", at most 256 bytes
    /// @param httpUrl HTTP endpoint, "http://" or "https://", at most 256 bytes
    /// @param publicKey 33-byte compressed secp256k1 public key
    function registerBroker(uint256 stake, string calldata wsUrl, string calldata httpUrl, bytes calldata publicKey)
        external;

    /// @notice Replace the caller's endpoints and public key (any registered status).
    /// @param wsUrl WebSocket endpoint
    /// @param httpUrl HTTP endpoint
    /// @param publicKey 33-byte compressed secp256k1 public key
    function updateBroker(string calldata wsUrl, string calldata httpUrl, bytes calldata publicKey) external;

    /// @notice Add DATA to the caller's stake (approve it first). Active or suspended brokers.
    /// @param amount DATA to add
    function addStake(uint256 amount) external;

    /// @notice Stop taking new assignments and start the withdrawal delay. Active or suspended brokers.
    function requestLeave() external;

    /// @notice Withdraw the (possibly slashed) stake once every partition was drained by rebalancing and
    /// `withdrawalDelay` has passed both since `requestLeave` and since the end of the last round the
    /// broker can be on the roster of (a broker drained during epoch k: start(k) + commitWindow +
    /// revealWindow), so that a conflicting report it signed in a round can still be proven; the broker
    /// record is deleted.
    function withdrawStake() external;

    /// @notice A broker's record.
    /// @param broker the broker
    /// @return state its stake, status, reputation and load
    function brokerState(address broker) external view returns (BrokerState memory state);

    /// @notice A broker's endpoints and key.
    /// @param broker the broker
    /// @return wsUrl WebSocket endpoint
    /// @return httpUrl HTTP endpoint
    /// @return publicKey compressed secp256k1 public key
    function brokerEndpoints(address broker)
        external
        view
        returns (string memory wsUrl, string memory httpUrl, bytes memory publicKey);

    /// @notice The number of active (assignable) brokers.
    /// @return count active brokers
    function activeBrokerCount() external view returns (uint256 count);

    // ---------------------------------------------------------------------------------------------
    // Partitions and assignment
    // ---------------------------------------------------------------------------------------------

    /// @notice The replication factor R: each partition is assigned to min(R, active brokers) brokers.
    /// @return replication R
    function replication() external view returns (uint8 replication);

    /// @notice P: the number of partitions stream partitions hash over in the current epoch.
    /// @return count P now
    function partitionCount() external view returns (uint32 count);

    /// @notice The number of partitions that exist and are assigned, including those announced for
    /// the next epoch (>= partitionCount()).
    /// @return count the partition-count target
    function partitionCountTarget() external view returns (uint32 count);

    /// @notice P in a given epoch (valid for the current and later epochs, and for past epochs since
    /// the last growth).
    /// @param epoch the epoch
    /// @return count P in that epoch
    function partitionCountAt(uint64 epoch) external view returns (uint32 count);

    /// @notice The brokers assigned to a partition (at most R).
    /// @param partition the partition
    /// @return brokers the assignees
    function assigneesOf(uint32 partition) external view returns (address[] memory brokers);

    /// @notice A partition's assignment version; it grows with every change of its assignees.
    /// @param partition the partition
    /// @return version the version
    function assignmentVersion(uint32 partition) external view returns (uint32 version);

    /// @notice The partitions a broker serves (unordered).
    /// @param broker the broker
    /// @return partitions the partitions
    function partitionsOf(address broker) external view returns (uint32[] memory partitions);

    /// @notice Whether a broker is assigned to a partition. O(1).
    /// @param partition the partition
    /// @param broker the broker
    /// @return assigned whether it is
    function isAssigned(uint32 partition, address broker) external view returns (bool assigned);

    /// @notice The network partition of a stream partition for a given partition count (the function
    /// clients compute locally; see protocol/partitioning.ts).
    /// @param streamId the stream's registry id
    /// @param streamPartition the partition inside the stream
    /// @param count the partition count P, at least 1
    /// @return networkPartition in [0, count)
    function networkPartitionFor(bytes32 streamId, uint16 streamPartition, uint32 count)
        external
        pure
        returns (uint32 networkPartition);

    /// @notice Make at most `maxMoves` useful assignment moves, in this order: drain a partition of a
    /// suspended or leaving broker (replacing it when possible), fill an under-replicated partition,
    /// move one partition from the most to the least loaded broker when their loads differ by two or
    /// more. Credits `rebalanceReward` (bounded by the pool) to the caller per move that raises the
    /// number of assignments above the most the network ever had: drains, balancing moves and fills of
    /// slots a drain emptied follow a join or a leave and are made by the brokers they serve, unpaid, so
    /// churn earns nothing. Makes no change and credits nothing when no useful move exists.
    /// @param maxMoves the most moves to make (the caller bounds its gas)
    /// @return moves the moves made
    function rebalance(uint256 maxMoves) external returns (uint256 moves);

    /// @notice Whether `rebalance` would make a move now (a dry run for keepers).
    /// @return needed whether a useful move exists
    function rebalanceNeeded() external view returns (bool needed);

    // ---------------------------------------------------------------------------------------------
    // Epochs and reports
    // ---------------------------------------------------------------------------------------------

    /// @notice The epoch length in seconds (fixed at deployment).
    /// @return length seconds
    function epochLength() external view returns (uint64 length);

    /// @notice The start of epoch 0 (fixed at deployment).
    /// @return genesis unix seconds
    function genesis() external view returns (uint64 genesis);

    /// @notice Commit a hidden report for (epoch, partition) during its commit phase. Roster members
    /// only (the first commit takes the roster: the partition's current assignees, O(R)).
    /// @param epoch the epoch reported on (already ended)
    /// @param partition the partition
    /// @param commitment keccak256(abi.encode(epoch, partition, eventCount, checksum, salt, msg.sender))
    function commitReport(uint64 epoch, uint32 partition, bytes32 commitment) external;

    /// @notice Reveal the committed report during the reveal phase.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param eventCount the number of events of the partition in the epoch
    /// @param checksum the partition's rolling checksum at the end of the epoch (docs/protocol.md)
    /// @param salt the secret salt of the commitment
    function revealReport(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt)
        external;

    /// @notice Finalize a round after its reveal phase (anyone). O(R): credits the agreeing brokers,
    /// raises their reputation, lowers that of deviating or silent roster members. A round without
    /// commits finalizes as NoAgreement and judges nobody; in a round without agreement whose most
    /// revealed reports are tied, the revealers of the tied reports are not judged (the order of the
    /// reveals says nothing about which is right).
    /// @param epoch the epoch
    /// @param partition the partition
    /// @return outcome what happened
    function finalizeRound(uint64 epoch, uint32 partition) external returns (RoundOutcome outcome);

    /// @notice A round's state.
    /// @param epoch the epoch
    /// @param partition the partition
    /// @return outcome open, agreed or no agreement
    /// @return rosterSize the brokers in the roster (0 before the first commit)
    /// @return commits the commitments received
    /// @return reveals the reveals received
    /// @return leaderVotes the reveals of the most revealed report
    function roundState(uint64 epoch, uint32 partition)
        external
        view
        returns (RoundOutcome outcome, uint8 rosterSize, uint8 commits, uint8 reveals, uint8 leaderVotes);

    /// @notice The hash a broker signs for an off-chain report (EIP-712, domain "NetworkCoordinator"
    /// version "1"): BrokerReport(uint64 epoch,uint32 partition,uint64 eventCount,bytes32 checksum).
    /// @param epoch the epoch
    /// @param partition the partition
    /// @param eventCount the count
    /// @param checksum the checksum
    /// @return digest the EIP-712 digest
    function reportDigest(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum)
        external
        view
        returns (bytes32 digest);

    /// @notice Slash a broker that signed two different reports for one round (anyone may prove it).
    /// `slashBps` of its stake is taken: `whistleblowerBps` of that is credited to the caller, the
    /// rest goes to the reward pool; its reputation drops to 0 and an active broker is suspended.
    /// Each (broker, epoch, partition) can be slashed once.
    /// @param broker the accused broker
    /// @param epoch the round's epoch
    /// @param partition the round's partition
    /// @param reportA the first signed report
    /// @param reportB the second signed report, with a different count or checksum
    function slashConflictingReports(
        address broker,
        uint64 epoch,
        uint32 partition,
        SignedReport calldata reportA,
        SignedReport calldata reportB
    ) external;

    // ---------------------------------------------------------------------------------------------
    // Rewards
    // ---------------------------------------------------------------------------------------------

    /// @notice Add DATA to the reward pool (approve it first). Anyone.
    /// @param amount DATA to add
    function fundRewards(uint256 amount) external;

    /// @notice The unallocated reward pool: every credit is taken from it, so credits never exceed it.
    /// @return pool DATA
    function rewardPool() external view returns (uint256 pool);

    /// @notice DATA credited to an account and not claimed yet.
    /// @param account the account
    /// @return amount DATA
    function claimable(address account) external view returns (uint256 amount);

    /// @notice Pay the caller's credited rewards to `to`.
    /// @param to the recipient
    /// @return amount DATA paid
    function claimRewards(address to) external returns (uint256 amount);

    // ---------------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------------

    /// @notice The current governance parameters.
    /// @return parameters the parameters
    function parameters() external view returns (Parameters memory parameters);

    /// @notice Replace the governance parameters. PARAMETER_ROLE only; every field is bounds-checked.
    /// Changes apply from the next operation that reads them (docs/network.md says which).
    /// @param newParameters the new parameters
    function setParameters(Parameters calldata newParameters) external;
}
