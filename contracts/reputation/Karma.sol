// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IKarma} from "../interfaces/IKarma.sol";

/// @title Karma
/// @notice Reputation earned from DATA exchanged, halving every HALF_LIFE seconds without renewal and cut
/// by upheld bad-data flags. Computed on read: no keeper, no loop over accounts.
/// @dev Formula and precision: see IKarma. Roles: DEFAULT_ADMIN_ROLE (governance) sets the flag penalty
/// and grants REPORTER_ROLE (the data-license market; the network coordinator for broker rewards).
contract Karma is AccessControl, IKarma {
    /// @inheritdoc IKarma
    bytes32 public constant REPORTER_ROLE = keccak256("REPORTER_ROLE");

    /// @inheritdoc IKarma
    uint256 public immutable HALF_LIFE;

    uint256 private constant _BPS = 10_000;

    /// @dev Karma as of `updatedAt` (one slot).
    struct Record {
        uint192 value;
        uint64 updatedAt;
    }

    /// @dev Flag counters of a seller (one slot).
    struct FlagCounts {
        uint128 raised;
        uint128 upheld;
    }

    mapping(address account => Record) private _records;
    mapping(address account => FlagCounts) private _flags;

    /// @inheritdoc IKarma
    uint256 public flagPenaltyBps;

    /// @notice Deploy with a fixed half-life.
    /// @param admin governance (DEFAULT_ADMIN_ROLE)
    /// @param halfLife seconds after which unrenewed karma halves (> 0)
    /// @param penaltyBps share of karma an upheld flag removes, basis points (<= 10 000)
    constructor(address admin, uint256 halfLife, uint256 penaltyBps) {
        if (halfLife == 0) revert InvalidKarmaParameter(halfLife);
        if (penaltyBps > _BPS) revert InvalidKarmaParameter(penaltyBps);
        HALF_LIFE = halfLife;
        flagPenaltyBps = penaltyBps;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit FlagPenaltySet(penaltyBps);
    }

    /// @inheritdoc IKarma
    function addKarma(address account, uint256 amount) external onlyRole(REPORTER_ROLE) {
        _add(account, amount);
    }

    /// @inheritdoc IKarma
    function addExchangeKarma(address seller, address buyer, uint256 amount) external onlyRole(REPORTER_ROLE) {
        _add(seller, amount);
        _add(buyer, amount);
    }

    /// @inheritdoc IKarma
    function recordFlagRaised(address account) external onlyRole(REPORTER_ROLE) {
        uint256 raised = ++_flags[account].raised;
        emit FlagRaised(account, msg.sender, raised);
    }

    /// @inheritdoc IKarma
    function recordFlagUpheld(address account) external onlyRole(REPORTER_ROLE) {
        uint256 before = karmaOf(account);
        uint256 after_ = before * (_BPS - flagPenaltyBps) / _BPS;
        _records[account] = Record(uint192(after_), uint64(block.timestamp));
        uint256 upheld = ++_flags[account].upheld;
        emit FlagUpheld(account, msg.sender, before, after_, upheld);
    }

    /// @inheritdoc IKarma
    function setFlagPenaltyBps(uint256 penaltyBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (penaltyBps > _BPS) revert InvalidKarmaParameter(penaltyBps);
        flagPenaltyBps = penaltyBps;
        emit FlagPenaltySet(penaltyBps);
    }

    /// @inheritdoc IKarma
    function karmaOf(address account) public view returns (uint256 karma) {
        return karmaAt(account, block.timestamp);
    }

    /// @inheritdoc IKarma
    function karmaAt(address account, uint256 timestamp) public view returns (uint256 karma) {
        Record memory record = _records[account];
        uint256 elapsed = timestamp > record.updatedAt ? timestamp - record.updatedAt : 0;
        return decay(record.value, elapsed);
    }

    /// @inheritdoc IKarma
    function flagsOf(address account) external view returns (uint256 raised, uint256 upheld) {
        FlagCounts memory counts = _flags[account];
        return (counts.raised, counts.upheld);
    }

    /// @inheritdoc IKarma
    function decay(uint256 value, uint256 elapsed) public view returns (uint256 decayed) {
        if (value == 0 || elapsed == 0) return value;
        uint256 halfLife = HALF_LIFE;
        uint256 halvings = elapsed / halfLife;
        if (halvings > 255) return 0;
        value >>= halvings;
        // The remaining fraction of a half-life, in units of 2^-32.
        uint256 fraction = ((elapsed % halfLife) << 32) / halfLife;
        if (fraction == 0) return value;
        // factor = 2^(-fraction / 2^32) in Q128.128: the product of 2^(-2^-i) over the set bits.
        uint256 factor = 1 << 128;
        unchecked {
            if (fraction & 0x80000000 != 0) factor = (factor * 0xb504f333f9de6484597d89b3754abe9f) >> 128;
            if (fraction & 0x40000000 != 0) factor = (factor * 0xd744fccad69d6af439a68bb9902d3fde) >> 128;
            if (fraction & 0x20000000 != 0) factor = (factor * 0xeac0c6e7dd24392ed02d75b3706e54fa) >> 128;
            if (fraction & 0x10000000 != 0) factor = (factor * 0xf5257d152486cc2c7b9d0c7aed980fc3) >> 128;
            if (fraction & 0x8000000 != 0) factor = (factor * 0xfa83b2db722a033a7c25bb14315d7fcc) >> 128;
            if (fraction & 0x4000000 != 0) factor = (factor * 0xfd3e0c0cf486c174853f3a5931e0ee03) >> 128;
            if (fraction & 0x2000000 != 0) factor = (factor * 0xfe9e115c7b8f884badd25995e79d2f09) >> 128;
            if (fraction & 0x1000000 != 0) factor = (factor * 0xff4ecb59511ec8a5301ba217ef18dd7c) >> 128;
            if (fraction & 0x800000 != 0) factor = (factor * 0xffa756521c8daed19f3a1b48fb94c589) >> 128;
            if (fraction & 0x400000 != 0) factor = (factor * 0xffd3a751c0f7e10bd3b9f8ae012fbe06) >> 128;
            if (fraction & 0x200000 != 0) factor = (factor * 0xffe9d2b2f7db2755ddf1d28a378a438c) >> 128;
            if (fraction & 0x100000 != 0) factor = (factor * 0xfff4e91bff1b8c3d88338e0ebf284a4d) >> 128;
            if (fraction & 0x80000 != 0) factor = (factor * 0xfffa747ea0040664238f92f792405805) >> 128;
            if (fraction & 0x40000 != 0) factor = (factor * 0xfffd3a3b7814eb53cd7629d70fea116a) >> 128;
            if (fraction & 0x20000 != 0) factor = (factor * 0xfffe9d1cc60ddab126de1aec4a87e7b8) >> 128;
            if (fraction & 0x10000 != 0) factor = (factor * 0xffff4e8e25879bfa09ea263360240c1a) >> 128;
            if (fraction & 0x8000 != 0) factor = (factor * 0xffffa7470363f4515426d76c762b6b61) >> 128;
            if (fraction & 0x4000 != 0) factor = (factor * 0xffffd3a37dda03133bde87a8379c8932) >> 128;
            if (fraction & 0x2000 != 0) factor = (factor * 0xffffe9d1bdf703aef21ea4dcfb0682d8) >> 128;
            if (fraction & 0x1000 != 0) factor = (factor * 0xfffff4e8debe025e24128a3d460731f1) >> 128;
            if (fraction & 0x800 != 0) factor = (factor * 0xfffffa746f4fa1506788fbc89750bf71) >> 128;
            if (fraction & 0x400 != 0) factor = (factor * 0xfffffd3a37a3f8b07e7c4871dc00d76e) >> 128;
            if (fraction & 0x200 != 0) factor = (factor * 0xfffffe9d1bd1065a50971275792f1c83) >> 128;
            if (fraction & 0x100 != 0) factor = (factor * 0xffffff4e8de845adac77243cd0914b37) >> 128;
            if (fraction & 0x80 != 0) factor = (factor * 0xffffffa746f41376f74124cd483186d4) >> 128;
            if (fraction & 0x40 != 0) factor = (factor * 0xffffffd3a37a05e383e14c90273c94f5) >> 128;
            if (fraction & 0x20 != 0) factor = (factor * 0xffffffe9d1bd01fbc400bf822dc936b5) >> 128;
            if (fraction & 0x10 != 0) factor = (factor * 0xfffffff4e8de80c062846365949b61af) >> 128;
            if (fraction & 0x8 != 0) factor = (factor * 0xfffffffa746f4050d1633246a8a0e09a) >> 128;
            if (fraction & 0x4 != 0) factor = (factor * 0xfffffffd3a37a02490b9d93da3c1ebcf) >> 128;
            if (fraction & 0x2 != 0) factor = (factor * 0xfffffffe9d1bd011525efca410b8eab7) >> 128;
            if (fraction & 0x1 != 0) factor = (factor * 0xffffffff4e8de8086bb002532d71e54d) >> 128;
        }
        return Math.mulDiv(value, factor, 1 << 128);
    }

    /// @dev Bring an account's karma to now and add `amount`.
    function _add(address account, uint256 amount) private {
        uint256 karma = karmaOf(account) + amount;
        // 2^192 wei is ~6e57 DATA wei, far beyond any supply: the cast cannot fail in practice.
        _records[account] = Record(SafeCast.toUint192(karma), uint64(block.timestamp));
        emit KarmaAdded(account, msg.sender, amount, karma);
    }
}
