// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {IEventSubscriptions} from "../interfaces/IEventSubscriptions.sol";
import {IStreamEventSubscriber} from "../interfaces/IStreamEventSubscriber.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {INetworkCoordinator} from "../interfaces/INetworkCoordinator.sol";

/// @title EventSubscriptions
/// @notice Smart-contract subscribers with DATA bounties: verified delivery of signed stream events.
/// Specification: IEventSubscriptions and docs/network.md.
/// @dev No roles and no parameters: nobody can move a subscription's balance but the subscriber
/// (unsubscribe) and the assigned brokers that deliver to it (bounties). The token balance of this
/// contract always equals the sum of subscription balances plus unclaimed bounties.
contract EventSubscriptions is IEventSubscriptions {
    using SafeERC20 for IERC20;

    /// @inheritdoc IEventSubscriptions
    uint64 public constant BOUNTY_DECREASE_DELAY = 1 hours;

    /// @notice The DATA token (bounties).
    IERC20 public immutable token;
    /// @notice The stream registry (publish permissions).
    IStreamRegistry public immutable registry;
    /// @inheritdoc IEventSubscriptions
    INetworkCoordinator public immutable coordinator;

    uint8 private constant _PROTOCOL_VERSION = 1;

    /// @dev A subscription as stored (two slots).
    /// @param bountyPerEvent the bounty in force until `pendingFrom`
    /// @param balance DATA left to pay bounties from
    /// @param pendingBounty a lower bounty in force from `pendingFrom` (if pendingFrom != 0)
    /// @param pendingFrom for an active subscription: when `pendingBounty` applies (0: none scheduled);
    /// for an ended one: when the subscriber may subscribe again
    /// @param active whether events are accepted
    struct StoredSubscription {
        uint128 bountyPerEvent;
        uint128 balance;
        uint128 pendingBounty;
        uint64 pendingFrom;
        bool active;
    }

    mapping(address subscriber => mapping(bytes32 streamId => StoredSubscription)) private _subscriptions;
    mapping(address subscriber => mapping(bytes32 eventHash => bool)) private _delivered;
    mapping(address account => uint256) private _claimable;

    /// @notice Deploy the subscriptions contract.
    /// @param token_ the DATA token
    /// @param registry_ the stream registry
    /// @param coordinator_ the network coordinator (which brokers may earn bounties)
    constructor(IERC20 token_, IStreamRegistry registry_, INetworkCoordinator coordinator_) {
        token = token_;
        registry = registry_;
        coordinator = coordinator_;
    }

    /// @inheritdoc IEventSubscriptions
    function subscribe(bytes32 streamId, uint128 bountyPerEvent) external {
        StoredSubscription storage subscription = _subscriptions[msg.sender][streamId];
        if (!subscription.active) {
            uint64 allowedAt = subscription.pendingFrom;
            if (block.timestamp < allowedAt) revert ResubscribeTooSoon(msg.sender, streamId, allowedAt);
            subscription.active = true;
        } else if (bountyPerEvent < _bountyInForce(subscription)) {
            // A decrease waits, so that no delivery already on its way is paid less than it was offered.
            uint64 effectiveAt = uint64(block.timestamp) + BOUNTY_DECREASE_DELAY;
            subscription.bountyPerEvent = _bountyInForce(subscription);
            subscription.pendingBounty = bountyPerEvent;
            subscription.pendingFrom = effectiveAt;
            emit BountyDecreaseScheduled(msg.sender, streamId, bountyPerEvent, effectiveAt);
            return;
        }
        subscription.bountyPerEvent = bountyPerEvent;
        subscription.pendingBounty = 0;
        subscription.pendingFrom = 0;
        emit Subscribed(msg.sender, streamId, bountyPerEvent);
    }

    /// @inheritdoc IEventSubscriptions
    function fundSubscription(address subscriber, bytes32 streamId, uint128 amount) external {
        if (amount == 0) revert ZeroAmount();
        StoredSubscription storage subscription = _subscriptions[subscriber][streamId];
        if (!subscription.active) revert NotSubscribed(subscriber, streamId);
        uint128 balance = subscription.balance + amount;
        subscription.balance = balance;
        emit SubscriptionFunded(subscriber, streamId, msg.sender, amount, balance);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IEventSubscriptions
    function unsubscribe(bytes32 streamId) external returns (uint256 refund) {
        StoredSubscription storage subscription = _subscriptions[msg.sender][streamId];
        if (!subscription.active) revert NotSubscribed(msg.sender, streamId);
        refund = subscription.balance;
        // Ended at once; what remains is when it may subscribe again (unsubscribing and subscribing
        // anew with nothing to pay would otherwise cut the bounty in front of a delivery).
        _subscriptions[msg.sender][streamId] =
            StoredSubscription(0, 0, 0, uint64(block.timestamp) + BOUNTY_DECREASE_DELAY, false);
        emit Unsubscribed(msg.sender, streamId, refund);
        if (refund != 0) token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IEventSubscriptions
    function deliver(
        address subscriber,
        IStreamEventSubscriber.StreamEvent calldata streamEvent,
        bytes calldata signature
    ) external returns (bytes32 eventHash) {
        bytes32 streamId = streamEvent.streamId;
        StoredSubscription storage subscription = _subscriptions[subscriber][streamId];
        if (!subscription.active) revert NotSubscribed(subscriber, streamId);
        _checkFields(streamEvent);
        eventHash = _eventHash(streamEvent);
        if (_delivered[subscriber][eventHash]) revert AlreadyDelivered(subscriber, eventHash);
        (address recovered, ECDSA.RecoverError error,) =
            ECDSA.tryRecover(MessageHashUtils.toEthSignedMessageHash(eventHash), signature);
        if (error != ECDSA.RecoverError.NoError || recovered != streamEvent.publisher) {
            revert InvalidEventSignature(eventHash, recovered, streamEvent.publisher);
        }
        if (!registry.canPublish(streamId, streamEvent.publisher)) {
            revert PublishNotAllowed(streamId, streamEvent.publisher);
        }

        _delivered[subscriber][eventHash] = true;
        uint128 bounty = _bountyInForce(subscription);
        uint128 balance = subscription.balance;
        if (bounty > balance) bounty = balance;
        if (bounty != 0) {
            // The bounty is the delivering broker's: copying its pending transaction earns nothing.
            _requireAssigned(streamEvent);
            subscription.balance = balance - bounty;
            _claimable[msg.sender] += bounty;
        }
        emit EventDelivered(subscriber, streamId, eventHash, msg.sender, bounty);

        bytes4 returned = IStreamEventSubscriber(subscriber).onStreamEvent(eventHash, streamEvent);
        if (returned != IStreamEventSubscriber.onStreamEvent.selector) revert SubscriberRefused(subscriber, returned);
    }

    /// @inheritdoc IEventSubscriptions
    function eventHashOf(IStreamEventSubscriber.StreamEvent calldata streamEvent) external pure returns (bytes32) {
        return _eventHash(streamEvent);
    }

    /// @inheritdoc IEventSubscriptions
    function subscriptionOf(address subscriber, bytes32 streamId) external view returns (Subscription memory) {
        StoredSubscription storage subscription = _subscriptions[subscriber][streamId];
        return Subscription(_bountyInForce(subscription), subscription.balance, subscription.active);
    }

    /// @inheritdoc IEventSubscriptions
    function scheduledBounty(address subscriber, bytes32 streamId)
        external
        view
        returns (uint128 bountyPerEvent, uint64 effectiveAt)
    {
        StoredSubscription storage subscription = _subscriptions[subscriber][streamId];
        if (!subscription.active) return (0, 0);
        return (subscription.pendingBounty, subscription.pendingFrom);
    }

    /// @inheritdoc IEventSubscriptions
    function isDelivered(address subscriber, bytes32 eventHash) external view returns (bool) {
        return _delivered[subscriber][eventHash];
    }

    /// @inheritdoc IEventSubscriptions
    function claimableBounties(address account) external view returns (uint256) {
        return _claimable[account];
    }

    /// @inheritdoc IEventSubscriptions
    function claimBounties(address to) external returns (uint256 amount) {
        if (to == address(0)) revert ZeroRecipient();
        amount = _claimable[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        _claimable[msg.sender] = 0;
        emit BountiesClaimed(msg.sender, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @dev The bounty of an active subscription now: the scheduled lower one once it applies.
    function _bountyInForce(StoredSubscription storage subscription) private view returns (uint128) {
        uint64 pendingFrom = subscription.pendingFrom;
        if (pendingFrom != 0 && block.timestamp >= pendingFrom) return subscription.pendingBounty;
        return subscription.bountyPerEvent;
    }

    /// @dev The caller must be assigned now to the network partition carrying the event's stream
    /// partition (a stream has at most 100 partitions, so a valid one fits the uint16 of the hash).
    function _requireAssigned(IStreamEventSubscriber.StreamEvent calldata e) private view {
        if (e.streamPartition > type(uint16).max) revert MalformedEvent("streamPartition");
        uint32 networkPartition = coordinator.networkPartitionOf(e.streamId, uint16(e.streamPartition));
        if (!coordinator.isAssigned(networkPartition, msg.sender)) {
            revert NotAssignedDeliverer(networkPartition, msg.sender);
        }
    }

    /// @dev The decoding rules of docs/protocol.md §1.3 that concern the signed fields.
    function _checkFields(IStreamEventSubscriber.StreamEvent calldata e) private pure {
        if (e.contentType > 2) revert MalformedEvent("contentType");
        if (e.encryptionType > 1) revert MalformedEvent("encryptionType");
        if ((e.encryptionType == 0) != (e.groupKeyId == bytes32(0))) revert MalformedEvent("groupKeyId");
    }

    /// @dev keccak256 of the canonical bytes (docs/protocol.md §1.1). Encoded in two halves (the
    /// concatenation is the same bytes) to stay within the stack limit of unoptimized builds.
    function _eventHash(IStreamEventSubscriber.StreamEvent calldata e) private pure returns (bytes32) {
        bytes memory head = abi.encodePacked(
            _PROTOCOL_VERSION, e.streamId, e.streamPartition, e.timestamp, e.sequenceNumber, e.previousEventHash
        );
        bytes memory tail = abi.encodePacked(
            e.publisher, e.contentType, e.encryptionType, e.groupKeyId, uint32(e.content.length), e.content
        );
        return keccak256(bytes.concat(head, tail));
    }
}
