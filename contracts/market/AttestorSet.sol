// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {MarketStorage} from "./MarketStorage.sol";

/// @title AttestorSet
/// @notice The k-of-n consent attestors of the market: governance changes to the set (external, run by
/// DELEGATECALL in the market's storage) and the check that k distinct registered attestors signed a
/// digest (internal).
library AttestorSet {
    /// @notice Most registered consent attestors (their positions fit the seen-mask of a check).
    uint256 internal constant MAX_ATTESTORS = 16;
    uint256 private constant _SIGNATURE_LENGTH = 65;

    /// @notice EIP-712 type hash of ConsentAttestation.
    bytes32 internal constant CONSENT_ATTESTATION_TYPEHASH = keccak256(
        "ConsentAttestation(bytes32 grantId,address buyer,bytes32 productId,bytes32 purpose,uint64 expiresAt)"
    );
    /// @notice EIP-712 type hash of ConsentRevocation.
    bytes32 internal constant CONSENT_REVOCATION_TYPEHASH =
        keccak256("ConsentRevocation(bytes32 grantId,uint64 revokedAt)");

    /// @notice Register an attestor (see IDataLicenseMarket.addAttestor; the market checks the role).
    /// @param attestor its signing address
    function add(address attestor) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        if (attestor == address(0) || ms.attestorIndex[attestor] != 0) {
            revert IDataLicenseMarket.InvalidAttestor(attestor);
        }
        if (ms.attestorList.length == MAX_ATTESTORS) revert IDataLicenseMarket.TooManyAttestors(MAX_ATTESTORS);
        ms.attestorList.push(attestor);
        ms.attestorIndex[attestor] = ms.attestorList.length;
        emit IDataLicenseMarket.AttestorAdded(attestor);
    }

    /// @notice Remove an attestor (see IDataLicenseMarket.removeAttestor).
    /// @param attestor its signing address
    function remove(address attestor) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        uint256 index = ms.attestorIndex[attestor];
        if (index == 0) revert IDataLicenseMarket.UnknownAttestor(attestor);
        uint256 count = ms.attestorList.length;
        uint256 threshold = ms.config.attestorThreshold;
        if (threshold > count - 1) revert IDataLicenseMarket.InvalidThreshold(threshold, count - 1);
        address last = ms.attestorList[count - 1];
        ms.attestorList[index - 1] = last;
        ms.attestorIndex[last] = index;
        ms.attestorList.pop();
        delete ms.attestorIndex[attestor];
        emit IDataLicenseMarket.AttestorRemoved(attestor);
    }

    /// @notice Set k (see IDataLicenseMarket.setAttestorThreshold).
    /// @param threshold 1..attestor count
    function setThreshold(uint256 threshold) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        uint256 count = ms.attestorList.length;
        if (threshold == 0 || threshold > count) revert IDataLicenseMarket.InvalidThreshold(threshold, count);
        ms.config.attestorThreshold = uint8(threshold);
        emit IDataLicenseMarket.AttestorThresholdSet(threshold);
    }

    /// @notice Require `threshold` distinct registered attestors among concatenated 65-byte (r, s, v)
    /// signatures of `digest`. Stops at the k-th distinct attestor; a repeated attestor is not counted
    /// twice; any signature before that which does not recover, or recovers to a non-attestor, reverts.
    /// @param ms the market's state
    /// @param digest the EIP-712 digest
    /// @param signatures the signatures
    /// @param threshold k (0: not configured, always reverts)
    function verify(MarketStorage.Layout storage ms, bytes32 digest, bytes memory signatures, uint256 threshold)
        internal
        view
    {
        if (threshold == 0) revert IDataLicenseMarket.InsufficientAttestorSignatures(0, 0);
        uint256 length = signatures.length;
        if (length == 0 || length % _SIGNATURE_LENGTH != 0 || length > _SIGNATURE_LENGTH * MAX_ATTESTORS) {
            revert IDataLicenseMarket.MalformedSignatures(length);
        }
        uint256 count = length / _SIGNATURE_LENGTH;
        uint256 seen;
        uint256 distinct;
        for (uint256 i; i < count; ++i) {
            bytes32 r;
            bytes32 s;
            uint8 v;
            // solhint-disable-next-line no-inline-assembly
            assembly ("memory-safe") {
                let p := add(add(signatures, 0x20), mul(i, 65))
                r := mload(p)
                s := mload(add(p, 0x20))
                v := byte(0, mload(add(p, 0x40)))
            }
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, v, r, s);
            if (error != ECDSA.RecoverError.NoError) revert IDataLicenseMarket.InvalidSignature(i);
            uint256 index = ms.attestorIndex[signer];
            if (index == 0) revert IDataLicenseMarket.NotAnAttestor(i, signer);
            uint256 bit = 1 << index;
            if (seen & bit == 0) {
                seen |= bit;
                if (++distinct == threshold) return;
            }
        }
        revert IDataLicenseMarket.InsufficientAttestorSignatures(distinct, threshold);
    }

    /// @notice The EIP-712 struct hash of a consent attestation.
    /// @param attestation the attestation
    /// @return structHash keccak256(abi.encode(CONSENT_ATTESTATION_TYPEHASH, fields...))
    function attestationHash(IDataLicenseMarket.ConsentAttestation memory attestation)
        internal
        pure
        returns (bytes32 structHash)
    {
        // keccak256(abi.encode(CONSENT_ATTESTATION_TYPEHASH, grantId, buyer, productId, purpose, expiresAt))
        // hashed in place: the struct's five words are the encoding's last five (memory values are kept
        // clean), so the type hash goes in the word before them for the hash and the word is restored.
        // This saves the allocation of a seven-word encoding on every consent-gated purchase.
        bytes32 typeHash = CONSENT_ATTESTATION_TYPEHASH;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let start := sub(attestation, 0x20)
            let saved := mload(start)
            mstore(start, typeHash)
            structHash := keccak256(start, 0xc0)
            mstore(start, saved)
        }
    }

    /// @notice The EIP-712 struct hash of a consent revocation.
    /// @param revocation the revocation
    /// @return structHash keccak256(abi.encode(CONSENT_REVOCATION_TYPEHASH, grantId, revokedAt))
    function revocationHash(IDataLicenseMarket.ConsentRevocation memory revocation)
        internal
        pure
        returns (bytes32 structHash)
    {
        return keccak256(abi.encode(CONSENT_REVOCATION_TYPEHASH, revocation.grantId, revocation.revokedAt));
    }
}
