// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";

/// @title MarketStorage
/// @notice The DataLicenseMarket's state in one ERC-7201 namespace, shared by the market and the external
/// libraries it delegates its cold paths to (listing, attestor set, revocations and disputes), so that
/// the market stays under the EIP-170 code size limit.
/// @custom:storage-location erc7201:datamarket.storage.DataLicenseMarket
library MarketStorage {
    /// @notice Most resources in one product (bounds every per-resource loop).
    uint256 internal constant MAX_RESOURCES = 16;

    /// @notice What a purchase reads of a product, in one slot (who sells it and who is paid live apart,
    /// in ProductParties: a purchase needs neither).
    /// @param pricePerSecond DATA wei per second (>= 1)
    /// @param minSeconds shortest purchasable period
    /// @param maxSeconds longest remaining license time
    /// @param requiresConsent consent attestation gate
    /// @param requiresKyc KYC gate
    /// @param state sale state
    /// @param resourceCount number of resources
    struct StoredProduct {
        uint96 pricePerSecond;
        uint32 minSeconds;
        uint32 maxSeconds;
        bool requiresConsent;
        bool requiresKyc;
        IDataLicenseMarket.ProductState state;
        uint8 resourceCount;
    }

    /// @notice Who sells a product and who receives its released escrow (read by seller management and
    /// releases, never by a purchase).
    /// @param seller who listed it
    /// @param beneficiary receives released escrow
    struct ProductParties {
        address seller;
        address beneficiary;
    }

    /// @notice What a purchase reads and writes of the market's global state, in one slot.
    /// @param feeBps protocol fee of licenses started from now on, basis points
    /// @param attestorThreshold k, distinct attestor signatures required (0 = not configured)
    /// @param owed DATA wei the market owes: sum of escrows + sum of claimable balances + accrued fees.
    /// Only a payment (+cost) and a payout (withdraw, withdrawFees: -amount) change it; releases and
    /// refunds move DATA between its parts. Kept here because a purchase reads this slot anyway: the
    /// count costs a purchase one warm SSTORE. It never exceeds the DATA the market holds, hence the
    /// token's cap, which the market's constructor requires to fit 128 bits.
    struct Config {
        uint16 feeBps;
        uint8 attestorThreshold;
        uint128 owed;
    }

    /// @notice The whole state.
    /// @custom:storage-location erc7201:datamarket.storage.DataLicenseMarket
    struct Layout {
        Config config;
        address feeRecipient;
        address deliveryOracle;
        uint256 accruedFees;
        address[] attestorList;
        mapping(bytes32 productId => StoredProduct) products;
        mapping(bytes32 productId => ProductParties) parties;
        mapping(bytes32 productId => bytes32[16]) resources; // 16 = MAX_RESOURCES
        mapping(bytes32 productId => bytes32) termsHashes;
        mapping(bytes32 productId => mapping(bytes32 purpose => bool)) purposes;
        mapping(bytes32 productId => mapping(address buyer => IDataLicenseMarket.License)) licenses;
        mapping(bytes32 resourceId => mapping(address account => uint64)) licensedUntil;
        mapping(address account => uint256) claimable;
        mapping(address account => uint64) kycValidUntil;
        // Position in attestorList plus one; 0 = not an attestor.
        mapping(address attestor => uint256) attestorIndex;
    }

    // keccak256(abi.encode(uint256(keccak256("datamarket.storage.DataLicenseMarket")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _SLOT = 0x114ab913c8fcc6a7b4c76f2c4c0640f3de816e38e3d19712fbfa38134af49d00;

    /// @notice Write a license in one SSTORE. Assigning a memory struct to storage makes Solidity write
    /// it field by field: seven writes of the same slot, about 1,200 gas more on every purchase. The
    /// word is the compiler's own layout of `License` (fields packed in declaration order from the
    /// least significant bit), so `ms.licenses[productId][buyer]` reads it back unchanged (tested).
    /// @param ms the market's state
    /// @param productId the product
    /// @param buyer the licensee
    /// @param license the license to store
    function storeLicense(
        Layout storage ms,
        bytes32 productId,
        address buyer,
        IDataLicenseMarket.License memory license
    ) internal {
        IDataLicenseMarket.License storage stored = ms.licenses[productId][buyer];
        uint256 word = uint256(license.rate) | (uint256(license.releasedUntil) << 96) | (uint256(license.end) << 136)
            | (uint256(license.grantExpiry) << 176) | (uint256(license.feeBps) << 216)
            | (uint256(uint8(license.status)) << 232) | (uint256(license.grantTag) << 240);
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            sstore(stored.slot, word)
        }
    }

    /// @notice The market's state.
    /// @return ms the layout at the namespace's slot
    function layout() internal pure returns (Layout storage ms) {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            ms.slot := _SLOT
        }
    }
}
