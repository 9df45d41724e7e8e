// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The delay getter keeps the UPPER_CASE name of a constant.
/* solhint-disable func-name-mixedcase */

import {IStreamEventSubscriber} from "./IStreamEventSubscriber.sol";
import {INetworkCoordinator} from "./INetworkCoordinator.sol";

/// @title IEventSubscriptions
/// @notice The network as an oracle: a contract subscribes to a stream with a DATA bounty per event;
/// a broker the network coordinator assigns to the stream partition's network partition delivers a
/// published event; this contract verifies the publisher's secp256k1 signature over the event's
/// canonical bytes and the publisher's publish permission in the stream registry, refuses replays,
/// calls the subscriber back with the event, and credits the bounty to that broker (pull payment).
/// @dev Signature (docs/protocol.md §3): eventHash = keccak256(canonical);
/// signer = ecrecover(keccak256("\x19Ethereum Signed Message:\n32" ‖ eventHash), v, r, s), low-s only.
/// The publish permission is the one in force at delivery time.
///
/// The bounty is bound to the delivering broker: a delivery that would pay a bounty is accepted only
/// from a broker assigned now to `coordinator.networkPartitionOf(streamId, streamPartition)`
/// (`NotAssignedDeliverer` otherwise), so copying a broker's pending delivery earns nothing. A delivery
/// that pays nothing (bounty or balance 0) is accepted from anyone.
///
/// A subscriber's promise holds for BOUNTY_DECREASE_DELAY: a lower bounty applies only that long after
/// it was asked for (an increase applies at once), and after `unsubscribe` the subscriber may subscribe
/// to the stream again only that long after. So a subscriber cannot cut the bounty in front of a
/// delivery it then receives.
interface IEventSubscriptions {
    /// @notice A subscription of one contract to one stream.
    /// @param bountyPerEvent DATA credited to the deliverer of each event
    /// @param balance DATA left to pay bounties from
    /// @param active whether events are accepted
    struct Subscription {
        uint128 bountyPerEvent;
        uint128 balance;
        bool active;
    }

    /// @notice A contract subscribed to a stream, or raised its bounty (or kept it, cancelling a
    /// scheduled decrease): the bounty applies at once.
    /// @param subscriber the subscribing contract
    /// @param streamId the stream
    /// @param bountyPerEvent DATA per delivered event
    event Subscribed(address indexed subscriber, bytes32 indexed streamId, uint256 bountyPerEvent);

    /// @notice A subscriber asked for a lower bounty; the current one stays in force until `effectiveAt`.
    /// @param subscriber the subscribing contract
    /// @param streamId the stream
    /// @param bountyPerEvent the lower bounty, DATA per delivered event
    /// @param effectiveAt unix seconds from which it applies (now + BOUNTY_DECREASE_DELAY)
    event BountyDecreaseScheduled(
        address indexed subscriber, bytes32 indexed streamId, uint256 bountyPerEvent, uint64 effectiveAt
    );

    /// @notice Someone added DATA to a subscription's bounty balance.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @param funder who paid
    /// @param amount DATA added
    /// @param balance the balance now
    event SubscriptionFunded(
        address indexed subscriber, bytes32 indexed streamId, address indexed funder, uint256 amount, uint256 balance
    );

    /// @notice A subscriber ended its subscription and took its balance back; it may subscribe to the
    /// stream again BOUNTY_DECREASE_DELAY later.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @param refund DATA returned to the subscriber
    event Unsubscribed(address indexed subscriber, bytes32 indexed streamId, uint256 refund);

    /// @notice An event was delivered to a subscriber.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @param eventHash keccak256 of the canonical bytes
    /// @param deliverer who delivered it (an assigned broker whenever bounty > 0)
    /// @param bounty DATA credited to the deliverer (less than the bounty if the balance ran low)
    event EventDelivered(
        address indexed subscriber,
        bytes32 indexed streamId,
        bytes32 indexed eventHash,
        address deliverer,
        uint256 bounty
    );

    /// @notice A deliverer claimed its credited bounties.
    /// @param account the deliverer
    /// @param to the recipient
    /// @param amount DATA paid
    event BountiesClaimed(address indexed account, address indexed to, uint256 amount);

    /// @notice The subscriber has no active subscription to the stream.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    error NotSubscribed(address subscriber, bytes32 streamId);
    /// @notice The event was delivered to this subscriber already (replay).
    /// @param subscriber the subscriber
    /// @param eventHash the event
    error AlreadyDelivered(address subscriber, bytes32 eventHash);
    /// @notice The signature is malformed, high-s, or does not recover to the event's publisher.
    /// @param eventHash the event
    /// @param recovered the recovered address (zero if the signature is malformed)
    /// @param publisher the event's publisher
    error InvalidEventSignature(bytes32 eventHash, address recovered, address publisher);
    /// @notice The publisher may not publish on the stream (registry) now.
    /// @param streamId the stream
    /// @param publisher the publisher
    error PublishNotAllowed(bytes32 streamId, address publisher);
    /// @notice A field violates the protocol's decoding rules (docs/protocol.md §1.3).
    /// @param field "contentType", "encryptionType" or "groupKeyId"
    error MalformedEvent(string field);
    /// @notice The subscriber's callback did not return its selector.
    /// @param subscriber the subscriber
    /// @param returned what it returned
    error SubscriberRefused(address subscriber, bytes4 returned);
    /// @notice A delivery that pays a bounty must come from a broker assigned now to the network
    /// partition carrying the event's stream partition.
    /// @param networkPartition the network partition
    /// @param deliverer the caller
    error NotAssignedDeliverer(uint32 networkPartition, address deliverer);
    /// @notice The subscriber unsubscribed from the stream less than BOUNTY_DECREASE_DELAY ago.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @param allowedAt unix seconds from which it may subscribe again
    error ResubscribeTooSoon(address subscriber, bytes32 streamId, uint64 allowedAt);
    /// @notice The amount must be positive.
    error ZeroAmount();
    /// @notice The account has no credited bounties.
    /// @param account the account
    error NothingToClaim(address account);
    /// @notice The recipient must not be the zero address.
    error ZeroRecipient();

    /// @notice How long a subscriber's lower bounty (or its unsubscription, before it may subscribe
    /// again) waits: longer than a broker's delivery can wait to be mined.
    /// @return delay seconds (1 hour)
    function BOUNTY_DECREASE_DELAY() external view returns (uint64 delay);

    /// @notice The network coordinator whose assignment says which brokers may earn a bounty.
    /// @return networkCoordinator the coordinator, fixed at deployment
    function coordinator() external view returns (INetworkCoordinator networkCoordinator);

    /// @notice Subscribe the calling contract to a stream, or change its bounty: a higher (or equal) one
    /// applies at once and cancels a scheduled decrease; a lower one is scheduled and applies
    /// BOUNTY_DECREASE_DELAY later (`BountyDecreaseScheduled`), replacing an earlier scheduled one.
    /// @param streamId the stream
    /// @param bountyPerEvent DATA credited to the deliverer of each event (may be 0)
    function subscribe(bytes32 streamId, uint128 bountyPerEvent) external;

    /// @notice Add DATA to a subscription's bounty balance (approve it first). Anyone.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @param amount DATA to add
    function fundSubscription(address subscriber, bytes32 streamId, uint128 amount) external;

    /// @notice End the caller's subscription at once and refund its balance to the caller. It may
    /// subscribe to the stream again BOUNTY_DECREASE_DELAY later (`ResubscribeTooSoon` before).
    /// @param streamId the stream
    /// @return refund DATA returned
    function unsubscribe(bytes32 streamId) external returns (uint256 refund);

    /// @notice Deliver a published event to a subscriber: verifies the signature, the publish
    /// permission and that the event is new to the subscriber, calls it back, and credits the bounty
    /// in force, up to the balance, to the caller, which must then be a broker assigned now to the
    /// event's network partition (`NotAssignedDeliverer`; a delivery paying nothing is open to anyone).
    /// @param subscriber the subscribing contract
    /// @param streamEvent the event's fields
    /// @param signature 65-byte r ‖ s ‖ v signature (docs/protocol.md §3)
    /// @return eventHash keccak256 of the canonical bytes
    function deliver(
        address subscriber,
        IStreamEventSubscriber.StreamEvent calldata streamEvent,
        bytes calldata signature
    ) external returns (bytes32 eventHash);

    /// @notice keccak256 of an event's canonical bytes (docs/protocol.md §1.1).
    /// @param streamEvent the event
    /// @return eventHash the hash
    function eventHashOf(IStreamEventSubscriber.StreamEvent calldata streamEvent)
        external
        pure
        returns (bytes32 eventHash);

    /// @notice A subscription.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @return subscription its bounty in force now, balance and state
    function subscriptionOf(address subscriber, bytes32 streamId)
        external
        view
        returns (Subscription memory subscription);

    /// @notice A subscription's scheduled lower bounty.
    /// @param subscriber the subscriber
    /// @param streamId the stream
    /// @return bountyPerEvent the lower bounty (0 with effectiveAt 0: none scheduled)
    /// @return effectiveAt unix seconds from which it applies (in the past: it applies now)
    function scheduledBounty(address subscriber, bytes32 streamId)
        external
        view
        returns (uint128 bountyPerEvent, uint64 effectiveAt);

    /// @notice Whether an event was delivered to a subscriber.
    /// @param subscriber the subscriber
    /// @param eventHash the event
    /// @return delivered whether it was
    function isDelivered(address subscriber, bytes32 eventHash) external view returns (bool delivered);

    /// @notice DATA credited to a deliverer and not claimed.
    /// @param account the deliverer
    /// @return amount DATA
    function claimableBounties(address account) external view returns (uint256 amount);

    /// @notice Pay the caller's credited bounties to `to`.
    /// @param to the recipient
    /// @return amount DATA paid
    function claimBounties(address to) external returns (uint256 amount);
}
