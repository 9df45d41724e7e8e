// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// The coordinator's state is one concept (brokers, partitions, rounds) kept in one contract so that
// every O(1) view reads it directly; splitting it to satisfy a count would only add calls.
/* solhint-disable max-states-count */

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {INetworkCoordinator} from "../interfaces/INetworkCoordinator.sol";
import {INetworkDelivery} from "../interfaces/INetworkDelivery.sol";
import {PartitionHash} from "./PartitionHash.sol";
import {PartitionAssignment} from "./PartitionAssignment.sol";
import {CoordinatorParameters} from "./CoordinatorParameters.sol";

/// @title NetworkCoordinator
/// @notice Broker registry, partition assignment with paid bounded rebalancing, commit-reveal checksum
/// consensus per epoch and partition, and the DATA reward pool. Specification: INetworkCoordinator
/// and docs/network.md.
/// @dev Roles (AccessControl):
/// - DEFAULT_ADMIN_ROLE: grants and revokes roles (a timelocked governance contract in production).
/// - PARAMETER_ROLE: `setParameters`, every field bounds-checked.
/// Nobody can move a broker's stake except through the proof-based `slashConflictingReports`, and
/// nobody can take the reward pool except through finalized rounds and rebalancing moves that give the
/// network an assignment it never had.
///
/// Bounded work: every function is O(1) or O(R) (R <= 8), except `rebalance(maxMoves)`, which is
/// O(maxMoves · R) plus bounded load-range bookkeeping (PartitionAssignment, a linked library).
contract NetworkCoordinator is INetworkCoordinator, AccessControl, EIP712 {
    using SafeERC20 for IERC20;

    /// @notice The role that may change the governance parameters.
    bytes32 public constant PARAMETER_ROLE = keccak256("PARAMETER_ROLE");

    /// @notice The largest replication factor (bounds every O(R) loop).
    uint8 internal constant MAX_REPLICATION = 8;
    /// @notice The largest partition count P can ever reach.
    uint32 internal constant MAX_PARTITIONS = 65_536;
    /// @notice The most partitions the constructor creates.
    uint32 internal constant MAX_INITIAL_PARTITIONS = 256;
    /// @notice Reputation scale: reputation is in [0, REPUTATION_SCALE].
    uint16 internal constant REPUTATION_SCALE = 10_000;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _MAX_URL_BYTES = 256;
    bytes32 private constant _REPORT_TYPEHASH =
        keccak256("BrokerReport(uint64 epoch,uint32 partition,uint64 eventCount,bytes32 checksum)");

    /// @notice The DATA token (stake and rewards).
    IERC20 public immutable token;
        uint64 private immutable _epochLength;
    uint64 private immutable _genesis;

    /// @dev A broker's off-chain contact data.
    struct Endpoints {
        string wsUrl;
        string httpUrl;
        bytes publicKey;
    }

    /// @dev One (epoch, partition) round (two slots).
    struct Round {
        uint8 rosterSize;
        uint8 commits;
        uint8 reveals;
        uint8 leaderVotes;
        // Another report has as many reveals as the leader's.
        bool tied;
        RoundOutcome outcome;
        uint64 leaderCount;
        bytes32 leaderChecksum;
    }

    /// @dev The latest agreed report of a partition.
    struct PartitionHistory {
        uint64 epoch;
        uint64 eventCount;
        uint64 deliveredUntil;
        // Saturates at 2^64 - 1 rather than reverting: a false huge count agreed by a colluding
        // roster must not block every later finalization of the partition.
        uint64 totalEvents;
    }

    /// @dev The agreed report of a round.
    struct FinalReport {
        bool finalized;
        uint64 eventCount;
    }

    Parameters private _params;

    PartitionAssignment.Layout private _a;
    mapping(address broker => Endpoints) private _endpoints;

    // P: `_partitionsNext` partitions exist; stream partitions hash over it from epoch `_partitionsNextFrom`.
    uint32 private _partitionsCurrent;
    uint32 private _partitionsNext;
    uint64 private _partitionsNextFrom;

    mapping(uint256 roundKey => Round) private _rounds;
    mapping(uint256 roundKey => address[]) private _rosters;
    mapping(uint256 roundKey => mapping(address broker => bytes32)) private _commitments;
    mapping(uint256 roundKey => mapping(address broker => bytes32)) private _revealed;
    mapping(uint256 roundKey => mapping(bytes32 report => uint256)) private _votes;
    mapping(uint256 roundKey => FinalReport) private _finalReports;
    mapping(uint32 partition => PartitionHistory) private _history;
    mapping(bytes32 slashKey => bool) private _slashed;

    uint256 private _rewardPool;
    uint256 private _totalClaimable;
    uint256 private _totalStaked;
    mapping(address account => uint256) private _claimable;

    /// @notice Deploy the coordinator; the caller-chosen admin governs it.
    /// @param token_ the DATA token
    /// @param admin receives DEFAULT_ADMIN_ROLE and PARAMETER_ROLE
    /// @param replication_ R, in [1, MAX_REPLICATION]
    /// @param epochLength_ seconds, in [10 minutes, 30 days]
    /// @param initialPartitions P at genesis, in [1, MAX_INITIAL_PARTITIONS]
    /// @param parameters_ the initial governance parameters
    constructor(
        IERC20 token_,
        address admin,
        uint8 replication_,
        uint64 epochLength_,
        uint32 initialPartitions,
        Parameters memory parameters_
    ) EIP712("NetworkCoordinator", "1") {
        if (replication_ == 0 || replication_ > MAX_REPLICATION) {
            revert InvalidParameter("replication", replication_, 1, MAX_REPLICATION);
        }
        if (epochLength_ < 10 minutes || epochLength_ > 30 days) {
            revert InvalidParameter("epochLength", epochLength_, 10 minutes, 30 days);
        }
        if (initialPartitions == 0 || initialPartitions > MAX_INITIAL_PARTITIONS) {
            revert InvalidParameter("initialPartitions", initialPartitions, 1, MAX_INITIAL_PARTITIONS);
        }
        token = token_;
        _epochLength = epochLength_;
        _genesis = uint64(block.timestamp);
        _partitionsCurrent = initialPartitions;
        _partitionsNext = initialPartitions;
        _a.replication = replication_;
        PartitionAssignment.addPartitions(_a, 0, initialPartitions);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARAMETER_ROLE, admin);
        _setParameters(parameters_);
    }

    // ---------------------------------------------------------------------------------------------
    // Brokers
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc INetworkCoordinator
    function registerBroker(uint256 stake, string calldata wsUrl, string calldata httpUrl, bytes calldata publicKey)
        external
    {
        PartitionAssignment.Broker storage broker = _a.brokers[msg.sender];
        if (broker.status != BrokerStatus.None) revert WrongBrokerStatus(msg.sender, broker.status);
        if (stake < _params.minStake) revert StakeTooLow(stake, _params.minStake);
        _validateEndpoints(wsUrl, httpUrl, publicKey);

        broker.stake = uint128(stake); // stake <= token supply, checked by the transfer below
        broker.reputation = _params.initialReputation;
        broker.status = BrokerStatus.Active;
        _endpoints[msg.sender] = Endpoints(wsUrl, httpUrl, publicKey);
        _totalStaked += stake;
        PartitionAssignment.activate(_a, msg.sender);
        emit BrokerRegistered(msg.sender, stake, wsUrl, httpUrl, publicKey);
        _growPartitions();

        token.safeTransferFrom(msg.sender, address(this), stake);
    }

    /// @inheritdoc INetworkCoordinator
    function updateBroker(string calldata wsUrl, string calldata httpUrl, bytes calldata publicKey) external {
        BrokerStatus status = _a.brokers[msg.sender].status;
        if (status == BrokerStatus.None) revert WrongBrokerStatus(msg.sender, status);
        _validateEndpoints(wsUrl, httpUrl, publicKey);
        _endpoints[msg.sender] = Endpoints(wsUrl, httpUrl, publicKey);
        emit BrokerUpdated(msg.sender, wsUrl, httpUrl, publicKey);
    }

    /// @inheritdoc INetworkCoordinator
    function addStake(uint256 amount) external {
        PartitionAssignment.Broker storage broker = _a.brokers[msg.sender];
        if (broker.status != BrokerStatus.Active && broker.status != BrokerStatus.Suspended) {
            revert WrongBrokerStatus(msg.sender, broker.status);
        }
        if (amount == 0) revert ZeroAmount();
        uint256 stake = broker.stake + amount;
        broker.stake = uint128(stake);
        _totalStaked += amount;
        emit StakeAdded(msg.sender, amount, stake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc INetworkCoordinator
    function requestLeave() external {
        PartitionAssignment.Broker storage broker = _a.brokers[msg.sender];
        BrokerStatus status = broker.status;
        if (status != BrokerStatus.Active && status != BrokerStatus.Suspended) {
            revert WrongBrokerStatus(msg.sender, status);
        }
        if (status == BrokerStatus.Active) PartitionAssignment.deactivate(_a, msg.sender);
        uint64 withdrawableAt = uint64(block.timestamp) + _params.withdrawalDelay;
        broker.status = BrokerStatus.Leaving;
        broker.withdrawableAt = withdrawableAt;
        emit LeaveRequested(msg.sender, withdrawableAt);
    }

    /// @inheritdoc INetworkCoordinator
    function withdrawStake() external {
        PartitionAssignment.Broker memory broker = _a.brokers[msg.sender];
        if (broker.status != BrokerStatus.Leaving) revert WrongBrokerStatus(msg.sender, broker.status);
        uint256 load = _a.brokerPartitions[msg.sender].length;
        if (load != 0) revert BrokerStillAssigned(msg.sender, uint32(load));
        uint64 withdrawableAt = _withdrawableAt(msg.sender, broker.withdrawableAt);
        if (block.timestamp < withdrawableAt) {
            revert WithdrawalDelayNotElapsed(msg.sender, withdrawableAt, block.timestamp);
        }
        delete _a.brokers[msg.sender];
        delete _endpoints[msg.sender];
        _totalStaked -= broker.stake;
        emit StakeWithdrawn(msg.sender, broker.stake);
        if (broker.stake != 0) token.safeTransfer(msg.sender, broker.stake);
    }

    /// @inheritdoc INetworkCoordinator
    function brokerState(address broker) external view returns (BrokerState memory state) {
        PartitionAssignment.Broker memory b = _a.brokers[broker];
        uint32 load = uint32(_a.brokerPartitions[broker].length);
        uint64 withdrawableAt = b.status == BrokerStatus.Leaving ? _withdrawableAt(broker, b.withdrawableAt) : 0;
        return BrokerState(b.stake, withdrawableAt, b.reputation, b.status, load);
    }

    /// @inheritdoc INetworkCoordinator
    function brokerEndpoints(address broker)
        external
        view
        returns (string memory wsUrl, string memory httpUrl, bytes memory publicKey)
    {
        Endpoints storage e = _endpoints[broker];
        return (e.wsUrl, e.httpUrl, e.publicKey);
    }

    /// @inheritdoc INetworkCoordinator
    function activeBrokerCount() external view returns (uint256 count) {
        return _a.active.length;
    }

    // ---------------------------------------------------------------------------------------------
    // Partitions and assignment
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc INetworkCoordinator
    function replication() external view returns (uint8) {
        return _a.replication;
    }

    /// @inheritdoc INetworkCoordinator
    function partitionCount() public view returns (uint32 count) {
        return partitionCountAt(currentEpoch());
    }

    /// @inheritdoc INetworkCoordinator
    function partitionCountTarget() external view returns (uint32 count) {
        return _partitionsNext;
    }

    /// @inheritdoc INetworkCoordinator
    function partitionCountAt(uint64 epoch) public view returns (uint32 count) {
        return epoch >= _partitionsNextFrom ? _partitionsNext : _partitionsCurrent;
    }

    /// @inheritdoc INetworkCoordinator
    function assigneesOf(uint32 partition) external view returns (address[] memory brokers) {
        return _a.assignees[partition];
    }

    /// @inheritdoc INetworkCoordinator
    function assignmentVersion(uint32 partition) external view returns (uint32 version) {
        return _a.version[partition];
    }

    /// @inheritdoc INetworkCoordinator
    function partitionsOf(address broker) external view returns (uint32[] memory partitions) {
        return _a.brokerPartitions[broker];
    }

    /// @inheritdoc INetworkCoordinator
    function isAssigned(uint32 partition, address broker) external view returns (bool assigned) {
        return _a.membership[partition][broker].slot != 0;
    }

    /// @inheritdoc INetworkCoordinator
    function networkPartitionFor(bytes32 streamId, uint16 streamPartition, uint32 count)
        external
        pure
        returns (uint32 networkPartition)
    {
        if (count == 0) revert UnknownPartition(0, 0);
        return PartitionHash.networkPartitionOf(streamId, streamPartition, count);
    }

    /// @inheritdoc INetworkDelivery
    function networkPartitionOf(bytes32 streamId, uint16 streamPartition)
        external
        view
        returns (uint32 networkPartition)
    {
        return PartitionHash.networkPartitionOf(streamId, streamPartition, partitionCount());
    }

    /// @inheritdoc INetworkCoordinator
    function rebalance(uint256 maxMoves) external returns (uint256 moves) {
        uint256 paid;
        (moves, paid) = PartitionAssignment.rebalance(_a, maxMoves);
        if (moves == 0) return 0;
        uint256 reward = paid * _params.rebalanceReward;
        if (reward > _rewardPool) reward = _rewardPool;
        if (reward != 0) _credit(msg.sender, reward);
        emit Rebalanced(msg.sender, moves, reward);
    }

    /// @inheritdoc INetworkCoordinator
    function rebalanceNeeded() external view returns (bool needed) {
        return PartitionAssignment.rebalanceNeeded(_a);
    }

    // ---------------------------------------------------------------------------------------------
    // Epochs and reports
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc INetworkCoordinator
    function epochLength() external view returns (uint64) {
        return _epochLength;
    }

    /// @inheritdoc INetworkCoordinator
    function genesis() external view returns (uint64) {
        return _genesis;
    }

    /// @inheritdoc INetworkDelivery
    function currentEpoch() public view returns (uint64 epoch) {
        return uint64((block.timestamp - _genesis) / _epochLength);
    }

    /// @inheritdoc INetworkCoordinator
    function commitReport(uint64 epoch, uint32 partition, bytes32 commitment) external {
        if (commitment == bytes32(0)) revert EmptyCommitment();
        _checkPartition(epoch, partition);
        uint256 commitStart = _epochEnd(epoch);
        _checkPhase(epoch, commitStart, commitStart + _params.commitWindow);

        uint256 key = _roundKey(epoch, partition);
        Round storage round = _rounds[key];
        if (round.rosterSize == 0) {
            // The first commit fixes the roster: the partition's assignees now (O(R) copy).
            if (_a.membership[partition][msg.sender].slot == 0) revert NotAssigned(partition, msg.sender);
            address[] storage assignees = _a.assignees[partition];
            _rosters[key] = assignees;
            round.rosterSize = uint8(assignees.length);
        } else if (!_inRoster(key, msg.sender)) {
            revert NotInRoster(epoch, partition, msg.sender);
        }
        if (_commitments[key][msg.sender] != bytes32(0)) revert AlreadyCommitted(epoch, partition, msg.sender);
        _commitments[key][msg.sender] = commitment;
        ++round.commits;
        emit ReportCommitted(epoch, partition, msg.sender, commitment);
    }

    /// @inheritdoc INetworkCoordinator
    function revealReport(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum, bytes32 salt)
        external
    {
        uint256 revealStart = _epochEnd(epoch) + _params.commitWindow;
        _checkPhase(epoch, revealStart, revealStart + _params.revealWindow);
        uint256 key = _roundKey(epoch, partition);
        bytes32 commitment = _commitments[key][msg.sender];
        if (commitment == bytes32(0)) revert NoCommitment(epoch, partition, msg.sender);
        if (_revealed[key][msg.sender] != bytes32(0)) revert AlreadyRevealed(epoch, partition, msg.sender);
        bytes32 computed = keccak256(abi.encode(epoch, partition, eventCount, checksum, salt, msg.sender));
        if (computed != commitment) revert CommitmentMismatch(commitment, computed);

        bytes32 report = _reportHash(eventCount, checksum);
        _revealed[key][msg.sender] = report;
        uint256 votes = ++_votes[key][report];
        Round storage round = _rounds[key];
        ++round.reveals;
        if (votes > round.leaderVotes) {
            // With coherenceBps > 50 %, an agreed report is the unique strict leader.
            round.leaderVotes = uint8(votes);
            round.leaderCount = eventCount;
            round.leaderChecksum = checksum;
            round.tied = false;
        } else if (votes == round.leaderVotes) {
            // Which of the tied reports was revealed first says nothing: finalization judges none of them.
            round.tied = true;
        }
        emit ReportRevealed(epoch, partition, msg.sender, eventCount, checksum);
    }

    /// @inheritdoc INetworkCoordinator
    function finalizeRound(uint64 epoch, uint32 partition) external returns (RoundOutcome outcome) {
        _checkPartition(epoch, partition);
        uint256 revealEnd = _epochEnd(epoch) + _params.commitWindow + _params.revealWindow;
        if (block.timestamp < revealEnd) revert OutsidePhase(epoch, revealEnd, type(uint256).max, block.timestamp);
        uint256 key = _roundKey(epoch, partition);
        Round storage round = _rounds[key];
        if (round.outcome != RoundOutcome.Open) revert RoundAlreadyFinalized(epoch, partition);

        // Empty if nobody committed: then nobody is judged. Judging the assignees at finalization
        // instead would let anyone finalize old rounds to punish brokers assigned since.
        address[] memory roster = _rosters[key];
        uint256 agreeing = round.leaderVotes;
        bool agreed = agreeing != 0 && agreeing * _BPS >= uint256(_params.coherenceBps) * roster.length;
        outcome = agreed ? RoundOutcome.Agreed : RoundOutcome.NoAgreement;
        round.outcome = outcome;

        uint64 eventCount;
        bytes32 checksum;
        uint256 rewardEach;
        if (agreed) {
            eventCount = round.leaderCount;
            checksum = round.leaderChecksum;
            _finalReports[key] = FinalReport(true, eventCount);
            PartitionHistory storage history = _history[partition];
            if (epoch >= history.epoch) {
                history.epoch = epoch;
                history.eventCount = eventCount;
            }
            uint256 total = uint256(history.totalEvents) + eventCount;
            history.totalEvents = total > type(uint64).max ? type(uint64).max : uint64(total);
            uint64 epochEnd = uint64(_epochEnd(epoch));
            if (eventCount != 0 && epochEnd > history.deliveredUntil) history.deliveredUntil = epochEnd;
            uint256 reward = _params.rewardPerRound;
            if (reward > _rewardPool) reward = _rewardPool;
            rewardEach = reward / agreeing;
        }
        _judge(key, round, roster, agreed, rewardEach);
        emit RoundFinalized(epoch, partition, outcome, eventCount, checksum, agreed ? agreeing : 0, rewardEach);
    }

    /// @dev Credit and raise the agreeing roster members of an agreed round; lower those that revealed
    /// another report than the unique most revealed one, or nothing. In a tie for the most reveals (never
    /// agreed: coherenceBps > 50 %) the revealers of the tied reports are not judged: which of them was
    /// revealed first says nothing about which is right.
    function _judge(uint256 key, Round storage round, address[] memory roster, bool agreed, uint256 rewardEach)
        private
    {
        uint256 leaderVotes = round.leaderVotes;
        bytes32 leaderReport = _reportHash(round.leaderCount, round.leaderChecksum);
        bool tied = round.tied;
        for (uint256 i = 0; i < roster.length; ++i) {
            address broker = roster[i];
            bytes32 revealed = _revealed[key][broker];
            bool agrees = leaderVotes != 0 && revealed == leaderReport;
            if (agreed && agrees) {
                if (rewardEach != 0) _credit(broker, rewardEach);
                _changeReputation(broker, int256(uint256(_params.reputationGain)));
            } else if (!agrees && !(tied && revealed != bytes32(0) && _votes[key][revealed] == leaderVotes)) {
                _changeReputation(broker, -int256(uint256(_params.reputationLoss)));
            }
        }
    }

    /// @inheritdoc INetworkCoordinator
    function roundState(uint64 epoch, uint32 partition)
        external
        view
        returns (RoundOutcome outcome, uint8 rosterSize, uint8 commits, uint8 reveals, uint8 leaderVotes)
    {
        Round storage round = _rounds[_roundKey(epoch, partition)];
        return (round.outcome, round.rosterSize, round.commits, round.reveals, round.leaderVotes);
    }

    /// @inheritdoc INetworkDelivery
    function finalizedEventCount(uint64 epoch, uint32 networkPartition)
        external
        view
        returns (bool finalized, uint64 eventCount)
    {
        FinalReport storage report = _finalReports[_roundKey(epoch, networkPartition)];
        return (report.finalized, report.eventCount);
    }

    /// @inheritdoc INetworkDelivery
    function lastFinalized(uint32 networkPartition)
        external
        view
        returns (uint64 epoch, uint64 eventCount, uint64 totalEvents)
    {
        PartitionHistory storage history = _history[networkPartition];
        return (history.epoch, history.eventCount, history.totalEvents);
    }

    /// @inheritdoc INetworkDelivery
    function partitionDeliveredUntil(uint32 networkPartition) external view returns (uint64 deliveredUntil) {
        return _history[networkPartition].deliveredUntil;
    }

    /// @inheritdoc INetworkCoordinator
    function reportDigest(uint64 epoch, uint32 partition, uint64 eventCount, bytes32 checksum)
        public
        view
        returns (bytes32 digest)
    {
        return _hashTypedDataV4(keccak256(abi.encode(_REPORT_TYPEHASH, epoch, partition, eventCount, checksum)));
    }

    /// @inheritdoc INetworkCoordinator
    function slashConflictingReports(
        address broker,
        uint64 epoch,
        uint32 partition,
        SignedReport calldata reportA,
        SignedReport calldata reportB
    ) external {
        if (reportA.eventCount == reportB.eventCount && reportA.checksum == reportB.checksum) {
            revert NotConflicting(broker);
        }
        if (
            !_signedBy(broker, reportDigest(epoch, partition, reportA.eventCount, reportA.checksum), reportA.signature)
                || !_signedBy(
                    broker, reportDigest(epoch, partition, reportB.eventCount, reportB.checksum), reportB.signature
                )
        ) revert NotConflicting(broker);
        PartitionAssignment.Broker storage b = _a.brokers[broker];
        if (b.status == BrokerStatus.None) revert WrongBrokerStatus(broker, BrokerStatus.None);
        bytes32 slashKey = keccak256(abi.encode(broker, epoch, partition));
        if (_slashed[slashKey]) revert AlreadySlashed(broker, epoch, partition);
        _slashed[slashKey] = true;

        uint256 amount = (uint256(b.stake) * _params.slashBps) / _BPS;
        uint256 whistleblowerReward = (amount * _params.whistleblowerBps) / _BPS;
        b.stake -= uint128(amount);
        _totalStaked -= amount;
        _rewardPool += amount - whistleblowerReward;
        if (whistleblowerReward != 0) {
            _claimable[msg.sender] += whistleblowerReward;
            _totalClaimable += whistleblowerReward;
            emit RewardCredited(msg.sender, whistleblowerReward);
        }
        emit BrokerSlashed(broker, epoch, partition, amount, msg.sender, whistleblowerReward);
        if (b.reputation != 0) {
            b.reputation = 0;
            emit ReputationChanged(broker, 0);
        }
        if (b.status == BrokerStatus.Active) _suspend(broker, b);
    }

    // ---------------------------------------------------------------------------------------------
    // Rewards
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc INetworkCoordinator
    function fundRewards(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 pool = _rewardPool + amount;
        _rewardPool = pool;
        emit RewardPoolFunded(msg.sender, amount, pool);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc INetworkCoordinator
    function rewardPool() external view returns (uint256 pool) {
        return _rewardPool;
    }

    /// @inheritdoc INetworkCoordinator
    function claimable(address account) external view returns (uint256 amount) {
        return _claimable[account];
    }

    /// @notice DATA held for stakes, the unallocated pool and unclaimed credits; the token balance of
    /// this contract always equals totalStaked + rewardPool + totalClaimable.
    /// @return staked DATA staked by brokers
    /// @return claimableTotal DATA credited and not claimed
    function accountedBalances() external view returns (uint256 staked, uint256 claimableTotal) {
        return (_totalStaked, _totalClaimable);
    }

    /// @inheritdoc INetworkCoordinator
    function claimRewards(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroRecipient();
        amount = _claimable[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        _totalClaimable -= amount;
        emit RewardClaimed(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------------------------------------
    // Governance
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc INetworkCoordinator
    function parameters() external view returns (Parameters memory) {
        return _params;
    }

    /// @inheritdoc INetworkCoordinator
    function setParameters(Parameters calldata newParameters) external onlyRole(PARAMETER_ROLE) {
        _setParameters(newParameters);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: parameters and validation
    // ---------------------------------------------------------------------------------------------

    function _setParameters(Parameters memory p) private {
        CoordinatorParameters.validate(p, _epochLength, _partitionsNext);
        _params = p;
        emit ParametersUpdated(p);
    }

    function _validateEndpoints(string calldata wsUrl, string calldata httpUrl, bytes calldata publicKey)
        private
        pure
    {
        if (!_hasScheme(bytes(wsUrl), "ws://", "wss://")) revert InvalidEndpoint(wsUrl, "ws");
        if (!_hasScheme(bytes(httpUrl), "http://", "https://")) revert InvalidEndpoint(httpUrl, "http");
        if (publicKey.length != 33 || (publicKey[0] != 0x02 && publicKey[0] != 0x03)) {
            revert InvalidPublicKey(publicKey);
        }
    }

    /// @dev Whether `url` is at most 256 bytes and starts with one of the schemes followed by at least
    /// one more byte.
    function _hasScheme(bytes calldata url, bytes memory plain, bytes memory secure) private pure returns (bool) {
        if (url.length > _MAX_URL_BYTES) return false;
        return _startsWith(url, plain) || _startsWith(url, secure);
    }

    function _startsWith(bytes calldata url, bytes memory prefix) private pure returns (bool) {
        if (url.length <= prefix.length) return false;
        return keccak256(url[:prefix.length]) == keccak256(prefix);
    }

    function _checkPartition(uint64 epoch, uint32 partition) private view {
        uint32 count = partitionCountAt(epoch);
        if (partition >= count) revert UnknownPartition(partition, count);
    }

    function _checkPhase(uint64 epoch, uint256 start, uint256 end) private view {
        if (block.timestamp < start || block.timestamp >= end) {
            revert OutsidePhase(epoch, start, end, block.timestamp);
        }
    }

    function _epochEnd(uint64 epoch) private view returns (uint256) {
        return uint256(_genesis) + (uint256(epoch) + 1) * _epochLength;
    }

    function _roundKey(uint64 epoch, uint32 partition) private pure returns (uint256) {
        return (uint256(epoch) << 32) | partition;
    }

    function _reportHash(uint64 eventCount, bytes32 checksum) private pure returns (bytes32) {
        return keccak256(abi.encode(eventCount, checksum));
    }

    function _inRoster(uint256 key, address broker) private view returns (bool) {
        address[] storage roster = _rosters[key];
        uint256 length = roster.length;
        for (uint256 i = 0; i < length; ++i) {
            if (roster[i] == broker) return true;
        }
        return false;
    }

    function _signedBy(address signer, bytes32 digest, bytes calldata signature) private pure returns (bool) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        return error == ECDSA.RecoverError.NoError && recovered == signer;
    }

    /// @dev When a leaving broker may withdraw: `withdrawalDelay` after its request, and after the end
    /// of the last round it can be on the roster of. A round copies its roster at its first commit,
    /// during [end(e), end(e) + commitWindow); a broker drained in epoch k can be on the rosters of
    /// epoch k - 1 at the latest, whose rounds end at start(k) + commitWindow + revealWindow. Until it
    /// is drained this is a lower bound.
    function _withdrawableAt(address broker, uint64 requested) private view returns (uint64) {
        uint256 drainedAt = _a.index[broker].drainedAt;
        // Never assigned since it registered: never on a roster.
        if (drainedAt == 0) return requested;
        // Drained in epoch 0: no epoch had ended, so no round had a roster.
        uint256 epochStart = drainedAt - (drainedAt - _genesis) % _epochLength;
        if (epochStart == _genesis) return requested;
        uint256 at = epochStart + _params.commitWindow + _params.revealWindow + _params.withdrawalDelay;
        return at > requested ? uint64(at) : requested;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: rewards and reputation
    // ---------------------------------------------------------------------------------------------

    /// @dev Move `amount` (<= pool, checked by the callers) from the pool to `account`'s credit.
    function _credit(address account, uint256 amount) private {
        _rewardPool -= amount;
        _claimable[account] += amount;
        _totalClaimable += amount;
        emit RewardCredited(account, amount);
    }

    /// @dev Add `delta` to the reputation, clamped to [0, REPUTATION_SCALE]; an active broker that
    /// falls below `minReputation` is suspended. Brokers that withdrew are skipped.
    function _changeReputation(address account, int256 delta) private {
        PartitionAssignment.Broker storage broker = _a.brokers[account];
        // A roster member may have withdrawn since; it has no record to change.
        if (broker.status == BrokerStatus.None) return;
        int256 updated = int256(uint256(broker.reputation)) + delta;
        if (updated < 0) updated = 0;
        if (updated > int256(uint256(REPUTATION_SCALE))) updated = int256(uint256(REPUTATION_SCALE));
        uint16 reputation = uint16(uint256(updated));
        if (reputation != broker.reputation) {
            broker.reputation = reputation;
            emit ReputationChanged(account, reputation);
        }
        if (broker.status == BrokerStatus.Active && reputation < _params.minReputation) _suspend(account, broker);
    }

    function _suspend(address account, PartitionAssignment.Broker storage broker) private {
        broker.status = BrokerStatus.Suspended;
        PartitionAssignment.deactivate(_a, account);
        emit BrokerSuspended(account, broker.reputation, broker.stake);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals: partition count
    // ---------------------------------------------------------------------------------------------

    /// @dev The P growth rule: target = min(maxPartitions, activeBrokers × partitionsPerBroker), never
    /// shrinking, growing by at most partitionsPerBroker per registration; hashing uses the new count
    /// from the next epoch on.
    function _growPartitions() private {
        uint64 epoch = currentEpoch();
        if (epoch >= _partitionsNextFrom) _partitionsCurrent = _partitionsNext;
        uint32 next = _partitionsNext;
        uint256 desired = _a.active.length * _params.partitionsPerBroker;
        if (desired > _params.maxPartitions) desired = _params.maxPartitions;
        if (desired <= next) return;
        uint256 grown = next + uint256(_params.partitionsPerBroker);
        if (desired > grown) desired = grown;
        PartitionAssignment.addPartitions(_a, next, uint32(desired));
        _partitionsNext = uint32(desired);
        _partitionsNextFrom = epoch + 1;
        emit PartitionCountIncreased(uint32(desired), epoch + 1);
    }
}
