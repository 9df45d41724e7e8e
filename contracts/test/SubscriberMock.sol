// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IEventSubscriptions} from "../interfaces/IEventSubscriptions.sol";
import {IStreamEventSubscriber} from "../interfaces/IStreamEventSubscriber.sol";

/// @title SubscriberMock
/// @notice Test double of a smart-contract subscriber: records the last event and returns a
/// configurable value from its callback (the right selector, or a wrong one to test refusal).
contract SubscriberMock is IStreamEventSubscriber {
    /// @notice The subscriptions contract.
    IEventSubscriptions public immutable subscriptions;
    /// @notice What onStreamEvent returns.
    bytes4 public answer = IStreamEventSubscriber.onStreamEvent.selector;
    /// @notice The last event hash received.
    bytes32 public lastEventHash;
    /// @notice The last content received.
    bytes public lastContent;

    /// @notice Deploy the mock.
    /// @param subscriptions_ the subscriptions contract
    constructor(IEventSubscriptions subscriptions_) {
        subscriptions = subscriptions_;
    }

    /// @notice Subscribe this contract.
    /// @param streamId the stream
    /// @param bounty DATA per event
    function subscribe(bytes32 streamId, uint128 bounty) external {
        subscriptions.subscribe(streamId, bounty);
    }

    /// @notice Unsubscribe this contract; the refund stays here.
    /// @param streamId the stream
    function unsubscribe(bytes32 streamId) external {
        subscriptions.unsubscribe(streamId);
    }

    /// @notice Set what the callback returns.
    /// @param answer_ the value
    function setAnswer(bytes4 answer_) external {
        answer = answer_;
    }

    /// @inheritdoc IStreamEventSubscriber
    function onStreamEvent(bytes32 eventHash, StreamEvent calldata streamEvent) external returns (bytes4) {
        lastEventHash = eventHash;
        lastContent = streamEvent.content;
        return answer;
    }
}
