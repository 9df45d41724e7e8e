// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// The EIP-712 getters keep the UPPER_CASE names wallets and EIP-2612 integrators expect.
/* solhint-disable func-name-mixedcase */

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";

/// @title IPaymentChannels
/// @notice Unidirectional DATA payment channels from a payer (a publisher or a subscriber) to a broker:
/// the network's aggregated micro-fees against flooding (DATAcoin whitepaper §2.4.7). The payer deposits
/// into its channel to a broker; off chain it signs EIP-712 vouchers for the cumulative amount it owes;
/// the broker redeems the latest voucher whenever it wants, in one transaction whatever the number of
/// events it covers. The payer can top the deposit up, and can close the channel: after a challenge
/// period, during which the broker redeems, the payer takes back what was not redeemed.
/// @dev A channel is the pair (payer, broker) and its generation, which grows each time a close is
/// finished. A voucher names the payer, the broker, the generation and a cumulative amount, and is
/// signed by the payer in the EIP-712 domain {name: "PaymentChannels", version: "1", chainId,
/// verifyingContract}, so it is valid for one channel generation of one deployment on one chain:
///
///     Voucher(address payer,address broker,uint32 generation,uint256 amount)
///
/// Amounts are DATA wei. Invariants: a broker never receives more than the payer deposited into the
/// generation (`redeemed <= deposited`); `redeemed` only grows, so a voucher pays at most once and an
/// older voucher pays nothing; the token balance of the contract equals the sum over channels of
/// `deposited - redeemed`. Specification for brokers and wallets: docs/network.md §14.
///
/// Deposits: `deposit(broker, amount)` after an allowance, or in one transaction through ERC-1363,
/// `token.transferAndCall(channels, amount, abi.encode(broker))` (IERC1363Receiver.onTransferReceived,
/// accepted from the token only and credited to the token holder).
interface IPaymentChannels is IERC1363Receiver {
    /// @notice The state of a channel.
    /// @param generation the current generation (vouchers of another one are refused)
    /// @param deposited DATA deposited into this generation in all (cumulative, top-ups included)
    /// @param redeemed DATA paid to the broker in this generation in all (cumulative)
    /// @param closesAt 0 while open; once a close started, the unix second from which the payer may
    /// finish it (the broker redeems before then)
    struct ChannelState {
        uint32 generation;
        uint256 deposited;
        uint256 redeemed;
        uint64 closesAt;
    }

    /// @notice The payer deposited into its channel to a broker (a first deposit or a top-up).
    /// @param payer the payer
    /// @param broker the broker
    /// @param generation the channel generation
    /// @param amount DATA wei added
    /// @param deposited DATA wei deposited into this generation in all, after the deposit
    event ChannelFunded(
        address indexed payer, address indexed broker, uint32 generation, uint256 amount, uint256 deposited
    );

    /// @notice A broker redeemed a voucher: it was paid what the voucher owes beyond what it had redeemed.
    /// @param payer the payer
    /// @param broker the broker (paid)
    /// @param generation the channel generation
    /// @param paid DATA wei paid to the broker by this redemption
    /// @param redeemed DATA wei redeemed from this generation in all, after it
    event VoucherRedeemed(
        address indexed payer, address indexed broker, uint32 generation, uint256 paid, uint256 redeemed
    );

    /// @notice The payer started closing the channel; the broker has until `closesAt` to redeem.
    /// @param payer the payer
    /// @param broker the broker
    /// @param generation the channel generation
    /// @param closesAt unix seconds from which the payer may finish the close
    event ChannelCloseStarted(address indexed payer, address indexed broker, uint32 generation, uint64 closesAt);

    /// @notice The payer finished the close: the generation ended, the unredeemed deposit went back.
    /// @param payer the payer
    /// @param broker the broker
    /// @param generation the generation that ended (the channel is now at generation + 1, empty)
    /// @param refund DATA wei returned to the payer
    event ChannelClosed(address indexed payer, address indexed broker, uint32 generation, uint256 refund);

    /// @notice An amount of 0 was given where DATA must move.
    error ZeroAmount();
    /// @notice The broker is address(0) or the payer itself.
    /// @param broker the address given
    error InvalidBroker(address broker);
    /// @notice The deposits of one generation would exceed 2^112 - 1 wei (close and open anew).
    /// @param deposited DATA wei deposited into the generation so far
    /// @param amount DATA wei added
    error DepositTooLarge(uint256 deposited, uint256 amount);
    /// @notice The channel is closing: no top-up, and no second close.
    /// @param payer the payer
    /// @param broker the broker
    /// @param closesAt when the close may be finished (unix seconds)
    error ChannelClosing(address payer, address broker, uint64 closesAt);
    /// @notice Only a funded channel can be closed.
    /// @param payer the payer
    /// @param broker the broker
    error ChannelNotFunded(address payer, address broker);
    /// @notice finishClose needs a close started with startClose.
    /// @param payer the payer
    /// @param broker the broker
    error ChannelNotClosing(address payer, address broker);
    /// @notice The challenge period is not over: the close can be finished from `closesAt` on.
    /// @param closesAt when the close may be finished (unix seconds)
    /// @param now the block's timestamp
    error ChallengePeriodNotOver(uint64 closesAt, uint256 now);
    /// @notice The voucher is for another generation of the channel (an old, closed one, or one to come).
    /// @param payer the payer
    /// @param broker the broker (the caller)
    /// @param generation the voucher's generation
    /// @param current the channel's current generation
    error WrongGeneration(address payer, address broker, uint32 generation, uint32 current);
    /// @notice The voucher owes no more than the broker has redeemed already (a replay, or an older voucher).
    /// @param amount the voucher's cumulative amount
    /// @param redeemed DATA wei redeemed from this generation so far
    error VoucherAlreadyRedeemed(uint256 amount, uint256 redeemed);
    /// @notice Everything deposited into this generation was redeemed: the voucher can pay nothing now
    /// (it can once the payer tops up).
    /// @param deposited DATA wei deposited into the generation (all redeemed)
    error DepositExhausted(uint256 deposited);
    /// @notice The signature is not the payer's over this voucher in this contract's domain on this
    /// chain: forged, for another channel, broker, generation, amount, contract or chain, or malformed.
    /// @param payer the payer the voucher names
    /// @param signer the address the signature recovers to (address(0) if it recovers to none)
    error InvalidVoucherSignature(address payer, address signer);
    /// @notice onTransferReceived was called by another contract than the token.
    /// @param caller the caller
    error NotToken(address caller);
    /// @notice The data of a transferAndCall deposit must be abi.encode(broker): exactly 32 bytes.
    /// @param length the length given
    error InvalidDepositData(uint256 length);
    /// @notice The challenge period given at deployment is outside [MIN_CHALLENGE_PERIOD, MAX_CHALLENGE_PERIOD].
    /// @param challengePeriod the value given (seconds)
    error InvalidChallengePeriod(uint64 challengePeriod);

    /// @notice The EIP-712 type hash of a voucher.
    /// @return typeHash keccak256("Voucher(address payer,address broker,uint32 generation,uint256 amount)")
    function VOUCHER_TYPEHASH() external view returns (bytes32 typeHash);

    /// @notice The EIP-712 domain separator of this deployment on this chain.
    /// @return separator keccak256 of the EIP712Domain {name: "PaymentChannels", version: "1", chainId, this}
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator);

    /// @notice The DATA token the channels hold.
    /// @return token the token
    function token() external view returns (IERC20 token);

    /// @notice Seconds between a payer's startClose and the moment it may finish the close: the time a
    /// broker has, at least, to redeem its latest voucher. Fixed at deployment.
    /// @return period seconds
    function challengePeriod() external view returns (uint64 period);

    /// @notice Deposit into the caller's channel to `broker` (open it, or top it up), with an allowance
    /// of `amount` given to this contract first.
    /// @param broker the broker (not address(0), not the caller)
    /// @param amount DATA wei (non-zero)
    function deposit(address broker, uint256 amount) external;

    /// @notice Redeem a voucher of `payer` to the caller (the broker): pays the caller
    /// `min(amount, deposited) - redeemed` DATA. One transaction whatever the number of events the
    /// voucher covers; valid until the payer finishes a close (also during the challenge period, and after
    /// it while the payer has not finished).
    /// @param payer the payer who signed the voucher
    /// @param generation the voucher's channel generation (must be the current one)
    /// @param amount the voucher's cumulative amount, DATA wei
    /// @param signature the payer's EIP-712 signature: 65 bytes r ‖ s ‖ v, low s
    /// @return paid DATA wei paid to the caller
    function redeem(address payer, uint32 generation, uint256 amount, bytes calldata signature)
        external
        returns (uint256 paid);

    /// @notice Start closing the caller's channel to `broker`: from `now + challengePeriod` on, the
    /// caller may finish the close and take back the unredeemed deposit.
    /// @param broker the broker
    function startClose(address broker) external;

    /// @notice Finish a close after its challenge period: returns `deposited - redeemed` to the caller,
    /// ends the generation (its vouchers are void from now on) and leaves the channel empty and open at
    /// the next generation.
    /// @param broker the broker
    /// @return refund DATA wei returned
    function finishClose(address broker) external returns (uint256 refund);

    /// @notice The state of the channel from `payer` to `broker`.
    /// @param payer the payer
    /// @param broker the broker
    /// @return state the channel's state
    function channel(address payer, address broker) external view returns (ChannelState memory state);

    /// @notice The EIP-712 digest a payer signs for a voucher (for wallets and brokers that check one).
    /// @param payer the payer
    /// @param broker the broker
    /// @param generation the channel generation
    /// @param amount the cumulative amount, DATA wei
    /// @return digest keccak256(0x1901 ‖ DOMAIN_SEPARATOR ‖ structHash)
    function voucherDigest(address payer, address broker, uint32 generation, uint256 amount)
        external
        view
        returns (bytes32 digest);
}
