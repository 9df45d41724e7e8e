// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title HostileResolver
/// @notice Test helper: an ENS resolver whose `addr` misbehaves in the way chosen: it reverts, burns all
/// its gas, answers fewer than 32 bytes, or answers a word with dirty high bits.
contract HostileResolver {
    /// @notice How `addr` misbehaves.
    enum Mode {
        Revert,
        BurnGas,
        ShortAnswer,
        DirtyWord
    }

    /// @notice The misbehaviour.
    Mode public immutable mode;
    /// @notice The address its dirty word carries in its low 20 bytes.
    address public immutable answer;

    /// @notice Deploys the resolver.
    /// @param mode_ the misbehaviour
    /// @param answer_ the address the dirty word carries
    constructor(Mode mode_, address answer_) {
        mode = mode_;
        answer = answer_;
    }

    /// @notice The answer refused.
    error NoAnswer();

    /// @notice ENS `addr(bytes32)`, misbehaving: the raw return data is written by hand.
    /// @return resolved never a clean address
    function addr(bytes32) external view returns (address resolved) {
        if (mode == Mode.Revert) revert NoAnswer();
        if (mode == Mode.BurnGas) {
            uint256 i;
            while (gasleft() > 0) ++i;
        }
        uint256 word = uint256(uint160(answer)) | (1 << 200);
        uint256 size = mode == Mode.ShortAnswer ? 2 : 32;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0, word)
            return(0, size)
        }
    }
}
