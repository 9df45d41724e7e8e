// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {INetworkCoordinator} from "../interfaces/INetworkCoordinator.sol";

/// @title CoordinatorParameters
/// @notice The bounds of the network coordinator's governance parameters (a linked library, so the
/// coordinator fits the code-size limit). Each violated bound reverts with
/// `InvalidParameter(name, value, min, max)`.
library CoordinatorParameters {
    uint256 private constant _BPS = 10_000;
    uint16 private constant _REPUTATION_SCALE = 10_000;
    uint32 private constant _MAX_PARTITIONS = 65_536;

    /// @notice Check every field of `p` against its bounds.
    /// @param p the parameters
    /// @param epochLength the coordinator's epoch length, seconds
    /// @param partitionTarget the partitions that exist already (P never shrinks)
    function validate(INetworkCoordinator.Parameters memory p, uint64 epochLength, uint32 partitionTarget)
        external
        pure
    {
        _check("minStake", p.minStake, 1, 1e27);
        _check("withdrawalDelay", p.withdrawalDelay, 1 days, 180 days);
        _check("commitWindow", p.commitWindow, 60, epochLength - 60);
        _check("revealWindow", p.revealWindow, 60, epochLength - p.commitWindow);
        _check("coherenceBps", p.coherenceBps, 5_001, _BPS);
        _check("rewardPerRound", p.rewardPerRound, 0, 1e24);
        _check("rebalanceReward", p.rebalanceReward, 0, 1e21);
        _check("partitionsPerBroker", p.partitionsPerBroker, 1, 16);
        _check("maxPartitions", p.maxPartitions, partitionTarget, _MAX_PARTITIONS);
        _check("initialReputation", p.initialReputation, 1, _REPUTATION_SCALE);
        _check("minReputation", p.minReputation, 0, p.initialReputation - 1);
        _check("reputationGain", p.reputationGain, 0, _REPUTATION_SCALE);
        _check("reputationLoss", p.reputationLoss, 0, _REPUTATION_SCALE);
        _check("slashBps", p.slashBps, 0, _BPS);
        _check("whistleblowerBps", p.whistleblowerBps, 0, _BPS);
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert INetworkCoordinator.InvalidParameter(name, value, min, max);
    }
}
