// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IEventSubscriptions} from "../../interfaces/IEventSubscriptions.sol";
import {IStreamEventSubscriber} from "../../interfaces/IStreamEventSubscriber.sol";

/// @title PriceThresholdTrigger
/// @notice Example smart-contract subscriber: follows a price stream whose events are JSON objects
/// with a decimal string field, e.g. `{"price":"3021.55","pair":"ETH/USD"}`, and fires once when
/// the price reaches a threshold. Events arrive through EventSubscriptions, which has already checked
/// the publisher's signature and publish permission; this contract only checks that the event is
/// newer than the last one it accepted (older ones are refused, so nobody earns a bounty by
/// replaying history) and parses the price.
contract PriceThresholdTrigger is IStreamEventSubscriber {
    /// @notice Prices are fixed point with this many decimals.
    uint8 public constant PRICE_DECIMALS = 8;
    /// @notice The longest content parsed, bytes (bounds the parsing loop).
    uint256 public constant MAX_CONTENT_BYTES = 1024;

    bytes private constant _KEY = bytes("\"price\":\"");

    /// @notice The subscriptions contract that delivers events.
    IEventSubscriptions public immutable subscriptions;
    /// @notice The followed stream.
    bytes32 public immutable streamId;
    /// @notice The price at or above which the trigger fires, PRICE_DECIMALS fixed point.
    uint256 public immutable threshold;

    /// @notice The last accepted price, PRICE_DECIMALS fixed point.
    uint256 public lastPrice;
    /// @notice The timestamp (unix ms) of the last accepted event.
    uint64 public lastTimestamp;
    /// @notice Whether the threshold was reached.
    bool public triggered;

    /// @notice A price event was accepted.
    /// @param eventHash the event
    /// @param price the price, PRICE_DECIMALS fixed point
    /// @param timestamp the event's timestamp, unix ms
    event PriceUpdated(bytes32 indexed eventHash, uint256 price, uint64 timestamp);

    /// @notice The price reached the threshold (fires once).
    /// @param eventHash the event that reached it
    /// @param price the price
    /// @param threshold the threshold
    event ThresholdReached(bytes32 indexed eventHash, uint256 price, uint256 threshold);

    /// @notice Only the subscriptions contract may deliver events.
    /// @param caller the caller
    error NotSubscriptions(address caller);
    /// @notice The event is for another stream.
    /// @param streamId the event's stream
    error WrongStream(bytes32 streamId);
    /// @notice The event is not newer than the last accepted one.
    /// @param timestamp the event's timestamp
    /// @param lastTimestamp the last accepted timestamp
    error StaleEvent(uint64 timestamp, uint64 lastTimestamp);
    /// @notice The content has no parsable `"price":"<decimal>"` field (at most PRICE_DECIMALS
    /// decimals, at most MAX_CONTENT_BYTES bytes).
    /// @param eventHash the event
    error UnparsablePrice(bytes32 eventHash);

    /// @notice Deploy the trigger and subscribe it to the price stream.
    /// @param subscriptions_ the subscriptions contract
    /// @param streamId_ the price stream
    /// @param threshold_ the trigger price, PRICE_DECIMALS fixed point
    /// @param bountyPerEvent DATA paid to the deliverer of each accepted event
    constructor(IEventSubscriptions subscriptions_, bytes32 streamId_, uint256 threshold_, uint128 bountyPerEvent) {
        subscriptions = subscriptions_;
        streamId = streamId_;
        threshold = threshold_;
        subscriptions_.subscribe(streamId_, bountyPerEvent);
    }

    /// @inheritdoc IStreamEventSubscriber
    function onStreamEvent(bytes32 eventHash, StreamEvent calldata streamEvent) external returns (bytes4) {
        if (msg.sender != address(subscriptions)) revert NotSubscriptions(msg.sender);
        if (streamEvent.streamId != streamId) revert WrongStream(streamEvent.streamId);
        if (streamEvent.timestamp <= lastTimestamp) revert StaleEvent(streamEvent.timestamp, lastTimestamp);
        (bool ok, uint256 price) = parsePrice(streamEvent.content);
        if (!ok) revert UnparsablePrice(eventHash);

        lastPrice = price;
        lastTimestamp = streamEvent.timestamp;
        emit PriceUpdated(eventHash, price, streamEvent.timestamp);
        if (!triggered && price >= threshold) {
            triggered = true;
            emit ThresholdReached(eventHash, price, threshold);
        }
        return IStreamEventSubscriber.onStreamEvent.selector;
    }

    /// @notice Parse the first `"price":"<digits>[.<digits>]"` of a JSON content.
    /// @param content the event content
    /// @return ok whether a price was found
    /// @return price PRICE_DECIMALS fixed point
    function parsePrice(bytes calldata content) public pure returns (bool ok, uint256 price) {
        uint256 length = content.length;
        if (length > MAX_CONTENT_BYTES) return (false, 0);
        bytes memory key = _KEY;
        for (uint256 start = 0; start + key.length < length; ++start) {
            if (keccak256(content[start:start + key.length]) == keccak256(key)) {
                return _parseDecimal(content, start + key.length);
            }
        }
        return (false, 0);
    }

    /// @dev Digits, an optional point and up to PRICE_DECIMALS decimals, then a closing quote.
    function _parseDecimal(bytes calldata content, uint256 i) private pure returns (bool, uint256) {
        uint256 value;
        uint256 decimals;
        bool point;
        bool digits;
        for (; i < content.length; ++i) {
            bytes1 c = content[i];
            if (c == "\"") {
                if (!digits) return (false, 0);
                return (true, value * 10 ** (PRICE_DECIMALS - decimals));
            }
            if (c == ".") {
                if (point) return (false, 0);
                point = true;
            } else if (c >= "0" && c <= "9") {
                if (point && ++decimals > PRICE_DECIMALS) return (false, 0);
                if (value > type(uint128).max) return (false, 0);
                value = value * 10 + uint8(c) - uint8(bytes1("0"));
                digits = true;
            } else {
                return (false, 0);
            }
        }
        return (false, 0);
    }
}
