// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Constant getters keep the UPPER_CASE names integrators expect (HALF_LIFE, DOMAIN_SEPARATOR).
/* solhint-disable func-name-mixedcase */

/// @title IKarma
/// @notice Reputation of the protocol's participants, earned from DATA exchanged and decaying over time.
/// @dev The specification (see docs/market.md, "Karma"):
///
/// Each account has a stored record `(value, updatedAt)`. Its karma at time `t` is
///
///     karma(t) = value * 2^(-(t - updatedAt) / HALF_LIFE)
///
/// computed on read (no keeper). Every write first brings the value to `block.timestamp` with that
/// formula and then applies the change, so the stored value is always "karma as of updatedAt".
///
/// Units: 1 karma = 1 DATA wei exchanged (karma is not a token and cannot be transferred).
///
/// Fixed-point precision: the whole half-lives are applied exactly (a right shift); the remaining
/// fraction of a half-life is quantised to 32 bits (`floor(rem * 2^32 / HALF_LIFE) / 2^32`) and
/// 2^(-fraction) is the product of the Q128.128 constants 2^(-2^-i) (i = 1..32) selected by the
/// fraction's bits. Error bound (tested): |computed - exact| <= 2e-10 * exact + 2 wei. The quantised
/// fraction under-decays by at most a factor 2^(2^-32) = 1 + 1.6e-10; the shift and the final product
/// each round down by less than 1 wei; the at most 32 Q128 products lose less than 2^-123 relative.
///
/// Who writes: holders of REPORTER_ROLE (the data-license market for buyers and sellers, the network
/// coordinator for brokers' rewards). An upheld bad-data flag multiplies the seller's karma by
/// `(10_000 - flagPenaltyBps) / 10_000`.
interface IKarma {
    /// @notice Karma was added to an account.
    /// @param account who earned it
    /// @param reporter the reporter that added it (the market, the coordinator)
    /// @param amount karma added (DATA wei exchanged)
    /// @param newKarma the account's karma right after, decayed to now
    event KarmaAdded(address indexed account, address indexed reporter, uint256 amount, uint256 newKarma);

    /// @notice A bad-data flag against an account was raised.
    /// @param account the seller flagged
    /// @param reporter the reporter (the market)
    /// @param flagsRaised the account's total number of raised flags
    event FlagRaised(address indexed account, address indexed reporter, uint256 flagsRaised);

    /// @notice A bad-data flag against an account was upheld and its karma cut.
    /// @param account the seller
    /// @param reporter the reporter (the market)
    /// @param karmaBefore karma before the cut, decayed to now
    /// @param karmaAfter karma after the cut
    /// @param flagsUpheld the account's total number of upheld flags
    event FlagUpheld(
        address indexed account, address indexed reporter, uint256 karmaBefore, uint256 karmaAfter, uint256 flagsUpheld
    );

    /// @notice Governance changed the penalty of an upheld flag.
    /// @param penaltyBps share of karma removed per upheld flag, basis points
    event FlagPenaltySet(uint256 penaltyBps);

    /// @notice The half-life is zero or the penalty is above 10 000 basis points.
    /// @param value the value given
    error InvalidKarmaParameter(uint256 value);

    /// @notice The karma unit's half-life, seconds. Fixed at deployment.
    /// @return halfLife seconds after which karma not renewed halves
    function HALF_LIFE() external view returns (uint256 halfLife);

    /// @notice The role allowed to add karma and record flags: keccak256("REPORTER_ROLE").
    /// @return role the role id
    function REPORTER_ROLE() external view returns (bytes32 role);

    /// @notice Share of karma removed by one upheld flag.
    /// @return penaltyBps basis points (0..10 000)
    function flagPenaltyBps() external view returns (uint256 penaltyBps);

    /// @notice Add karma for DATA exchanged. Reporters only.
    /// @param account who earned it
    /// @param amount DATA wei exchanged
    function addKarma(address account, uint256 amount) external;

    /// @notice Add the same karma to a seller and a buyer of one exchange (one call for the market).
    /// Reporters only.
    /// @param seller the seller (or its beneficiary)
    /// @param buyer the buyer
    /// @param amount DATA wei exchanged
    function addExchangeKarma(address seller, address buyer, uint256 amount) external;

    /// @notice Count a raised bad-data flag against a seller (no karma change). Reporters only.
    /// @param account the seller
    function recordFlagRaised(address account) external;

    /// @notice Apply an upheld bad-data flag: karma *= (10 000 - flagPenaltyBps) / 10 000. Reporters only.
    /// @param account the seller
    function recordFlagUpheld(address account) external;

    /// @notice Set the upheld-flag penalty. Governance (DEFAULT_ADMIN_ROLE) only.
    /// @param penaltyBps basis points, 0..10 000
    function setFlagPenaltyBps(uint256 penaltyBps) external;

    /// @notice The karma of an account now (decayed on read).
    /// @param account the account
    /// @return karma in karma units (DATA wei exchanged, decayed)
    function karmaOf(address account) external view returns (uint256 karma);

    /// @notice The karma of an account at a time at or after its last update (for projections).
    /// @param account the account
    /// @param timestamp unix seconds; a time before the last update is treated as the last update
    /// @return karma decayed to `timestamp`
    function karmaAt(address account, uint256 timestamp) external view returns (uint256 karma);

    /// @notice `value * 2^(-elapsed / HALF_LIFE)` in the fixed point described above.
    /// @param value karma at the start
    /// @param elapsed seconds since
    /// @return decayed the value after `elapsed` seconds
    function decay(uint256 value, uint256 elapsed) external view returns (uint256 decayed);

    /// @notice The flag counters of an account.
    /// @param account the account
    /// @return raised number of bad-data flags raised against it
    /// @return upheld number of them upheld by the arbiter
    function flagsOf(address account) external view returns (uint256 raised, uint256 upheld);
}
