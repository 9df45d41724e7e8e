// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDeliveryOracle} from "../interfaces/IDeliveryOracle.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {INetworkDelivery} from "../interfaces/INetworkDelivery.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";

/// @title ProductDeliveryAdapter
/// @notice The market's delivery oracle (IDeliveryOracle) built on the network coordinator's agreed
/// event counts: a product has delivered until the earliest time at which one of its streams stops
/// being proven to deliver.
/// @dev For each stream resource of the product (at most the market's MAX_RESOURCES = 16), the proof
/// is the network partition carrying its stream partition 0 in the current epoch:
/// `coordinator.partitionDeliveredUntil(coordinator.networkPartitionOf(stream, 0))`, i.e. the end of
/// the latest epoch that partition finalized with agreement and at least one event. Partition 0 stands
/// for the stream so the cost stays O(resources) (a stream has up to 100 partitions). Datasets are
/// delivered by download, not by the network, and do not constrain the result; a product of datasets
/// only returns type(uint64).max (release by time alone). A stream whose network partition changed
/// when P grew reads 0 until the new partition's first agreed epoch with events: escrow is held, not
/// lost, and released once that proof lands.
contract ProductDeliveryAdapter is IDeliveryOracle {
    /// @notice The market whose products are read.
    IDataLicenseMarket public immutable market;
    /// @notice The network coordinator (agreed delivery records).
    INetworkDelivery public immutable coordinator;
    /// @notice The stream registry (resource kinds).
    IStreamRegistry public immutable registry;

    /// @notice Deploy the adapter.
    /// @param market_ the data-license market
    /// @param coordinator_ the network coordinator
    /// @param registry_ the stream registry
    constructor(IDataLicenseMarket market_, INetworkDelivery coordinator_, IStreamRegistry registry_) {
        market = market_;
        coordinator = coordinator_;
        registry = registry_;
    }

    /// @inheritdoc IDeliveryOracle
    function deliveredUntil(bytes32 productId) external view returns (uint64 until) {
        bytes32[] memory resources = market.productResources(productId);
        until = type(uint64).max;
        for (uint256 i = 0; i < resources.length; ++i) {
            bytes32 id = resources[i];
            if (registry.getResource(id).kind != IStreamRegistry.ResourceKind.Stream) continue;
            uint64 streamUntil = coordinator.partitionDeliveredUntil(coordinator.networkPartitionOf(id, 0));
            if (streamUntil < until) until = streamUntil;
        }
    }
}
