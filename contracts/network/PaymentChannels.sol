// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// DOMAIN_SEPARATOR keeps the EIP-2612 name wallets expect.
/* solhint-disable func-name-mixedcase */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IPaymentChannels} from "../interfaces/IPaymentChannels.sol";

/// @title PaymentChannels
/// @notice Unidirectional DATA payment channels from payers to brokers, redeemed with EIP-712
/// vouchers for cumulative amounts. Specification: IPaymentChannels and docs/network.md §14.
/// @dev No roles, no parameters but the immutable challenge period, no upgrade path: nobody can move a
/// deposit but its payer (through a close) and its broker (with the payer's voucher). Checks, effects,
/// interactions everywhere: each state change is written before the token moves, so a token with
/// transfer hooks (ERC-777-like) that calls back finds the channel already updated (a test does so).
/// The token is DATA (ERC-1363; its transfer and transferFrom call no hook) at deployment; SafeERC20 is
/// kept anyway, for a token that returns false instead of reverting.
///
/// Storage: one slot per channel (deposited, redeemed, generation), so that a redemption reads and
/// writes one slot; the close time lives in a second mapping that only deposits and closes touch.
contract PaymentChannels is IPaymentChannels, EIP712 {
    using SafeERC20 for IERC20;

    /// @inheritdoc IPaymentChannels
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,address broker,uint32 generation,uint256 amount)");

    /// @notice Shortest challenge period a deployment may choose: 1 hour.
    uint64 public constant MIN_CHALLENGE_PERIOD = 1 hours;
    /// @notice Longest challenge period a deployment may choose: 30 days.
    uint64 public constant MAX_CHALLENGE_PERIOD = 30 days;

    /// @inheritdoc IPaymentChannels
    IERC20 public immutable token;
    /// @inheritdoc IPaymentChannels
    uint64 public immutable challengePeriod;

    /// @dev A channel generation as stored (one slot). 2^112 wei is 5 * 10^15 times the DATA cap.
    struct Channel {
        uint112 deposited;
        uint112 redeemed;
        uint32 generation;
    }

    mapping(address payer => mapping(address broker => Channel)) private _channels;
    mapping(address payer => mapping(address broker => uint64 closesAt)) private _closesAt;

    /// @notice Deploys the channels of one token.
    /// @param token_ the DATA token
    /// @param challengePeriod_ seconds a broker has, at least, to redeem after a payer starts a close
    /// (MIN_CHALLENGE_PERIOD..MAX_CHALLENGE_PERIOD)
    constructor(IERC20 token_, uint64 challengePeriod_) EIP712("PaymentChannels", "1") {
        if (challengePeriod_ < MIN_CHALLENGE_PERIOD || challengePeriod_ > MAX_CHALLENGE_PERIOD) {
            revert InvalidChallengePeriod(challengePeriod_);
        }
        token = token_;
        challengePeriod = challengePeriod_;
    }

    /// @inheritdoc IPaymentChannels
    function deposit(address broker, uint256 amount) external {
        _deposit(msg.sender, broker, amount);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice ERC-1363: a deposit in one transaction, `token.transferAndCall(channels, amount,
    /// abi.encode(broker))`, credited to the token holder `from`. Called by the token only.
    /// @param from the token holder: the payer (the operator that called transferAndCall is not used)
    /// @param value DATA wei received
    /// @param data abi.encode(address broker)
    /// @return selector IERC1363Receiver.onTransferReceived.selector
    function onTransferReceived(address, address from, uint256 value, bytes calldata data)
        external
        returns (bytes4 selector)
    {
        // The token has moved already: only the bookkeeping is left, and it must be the token calling.
        if (msg.sender != address(token)) revert NotToken(msg.sender);
        if (data.length != 32) revert InvalidDepositData(data.length);
        _deposit(from, abi.decode(data, (address)), value);
        return IERC1363Receiver.onTransferReceived.selector;
    }

    /// @inheritdoc IPaymentChannels
    function redeem(address payer, uint32 generation, uint256 amount, bytes calldata signature)
        external
        returns (uint256 paid)
    {
        Channel storage stored = _channels[payer][msg.sender];
        Channel memory channel_ = stored;
        if (generation != channel_.generation) {
            revert WrongGeneration(payer, msg.sender, generation, channel_.generation);
        }
        if (amount <= channel_.redeemed) revert VoucherAlreadyRedeemed(amount, channel_.redeemed);
        if (channel_.deposited == channel_.redeemed) revert DepositExhausted(channel_.deposited);
        (address signer,,) = ECDSA.tryRecoverCalldata(_voucherDigest(payer, msg.sender, generation, amount), signature);
        if (signer != payer) revert InvalidVoucherSignature(payer, signer);
        // A voucher above the deposit pays what the deposit holds; the rest after a top-up. The cast is
        // safe: the minimum is at most `deposited`, a uint112.
        uint112 redeemed = amount < channel_.deposited ? uint112(amount) : channel_.deposited;
        paid = redeemed - channel_.redeemed;
        stored.redeemed = redeemed;
        emit VoucherRedeemed(payer, msg.sender, generation, paid, redeemed);
        token.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc IPaymentChannels
    function startClose(address broker) external {
        Channel memory channel_ = _channels[msg.sender][broker];
        uint64 closesAt = _closesAt[msg.sender][broker];
        if (closesAt != 0) revert ChannelClosing(msg.sender, broker, closesAt);
        if (channel_.deposited == 0) revert ChannelNotFunded(msg.sender, broker);
        closesAt = uint64(block.timestamp) + challengePeriod;
        _closesAt[msg.sender][broker] = closesAt;
        emit ChannelCloseStarted(msg.sender, broker, channel_.generation, closesAt);
    }

    /// @inheritdoc IPaymentChannels
    function finishClose(address broker) external returns (uint256 refund) {
        uint64 closesAt = _closesAt[msg.sender][broker];
        if (closesAt == 0) revert ChannelNotClosing(msg.sender, broker);
        if (block.timestamp < closesAt) revert ChallengePeriodNotOver(closesAt, block.timestamp);
        Channel memory channel_ = _channels[msg.sender][broker];
        refund = channel_.deposited - channel_.redeemed;
        // The generation ends: its vouchers name it, so none of them is valid in the next one. A uint32
        // wraps after 4 billion closes, each a challenge period (>= 1 hour) long: never in practice.
        unchecked {
            _channels[msg.sender][broker] = Channel(0, 0, channel_.generation + 1);
        }
        delete _closesAt[msg.sender][broker];
        emit ChannelClosed(msg.sender, broker, channel_.generation, refund);
        if (refund != 0) token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IPaymentChannels
    function channel(address payer, address broker) external view returns (ChannelState memory state) {
        Channel memory channel_ = _channels[payer][broker];
        return ChannelState(channel_.generation, channel_.deposited, channel_.redeemed, _closesAt[payer][broker]);
    }

    /// @inheritdoc IPaymentChannels
    function voucherDigest(address payer, address broker, uint32 generation, uint256 amount)
        external
        view
        returns (bytes32 digest)
    {
        return _voucherDigest(payer, broker, generation, amount);
    }

    /// @inheritdoc IPaymentChannels
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator) {
        return _domainSeparatorV4();
    }

    /// @dev Credits a deposit (open or top-up) of `payer`; the caller moves the tokens afterwards (or,
    /// for transferAndCall, has received them already).
    function _deposit(address payer, address broker, uint256 amount) private {
        if (broker == address(0) || broker == payer) revert InvalidBroker(broker);
        if (amount == 0) revert ZeroAmount();
        uint64 closesAt = _closesAt[payer][broker];
        if (closesAt != 0) revert ChannelClosing(payer, broker, closesAt);
        Channel storage stored = _channels[payer][broker];
        uint256 deposited = uint256(stored.deposited) + amount;
        if (deposited > type(uint112).max) revert DepositTooLarge(stored.deposited, amount);
        stored.deposited = uint112(deposited);
        emit ChannelFunded(payer, broker, stored.generation, amount, deposited);
    }

    function _voucherDigest(address payer, address broker, uint32 generation, uint256 amount)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, payer, broker, generation, amount)));
    }
}
