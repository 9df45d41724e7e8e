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

    /// @notice A product as stored: the two slots a purchase reads (terms hash and resources apart).
    /// @param seller who listed it
    /// @param pricePerSecond DATA wei per second
    /// @param beneficiary receives released escrow
    /// @param minSeconds shortest purchasable period
    /// @param maxSeconds longest remaining license time
    /// @param requiresConsent consent attestation gate
    /// @param requiresKyc KYC gate
    /// @param state sale state
    /// @param resourceCount number of resources
    struct StoredProduct {
        address seller;
        uint96 pricePerSecond;
        address beneficiary;
        uint32 minSeconds;
        uint32 maxSeconds;
        bool requiresConsent;
        bool requiresKyc;
        IDataLicenseMarket.ProductState state;
        uint8 resourceCount;
    }

    /// @notice What a purchase reads in one slot.
    /// @param feeRecipient receives protocol fees
    /// @param feeBps protocol fee of new escrow, basis points
    /// @param attestorThreshold k, distinct attestor signatures required (0 = not configured)
    struct Config {
        address feeRecipient;
        uint16 feeBps;
        uint8 attestorThreshold;
    }

    /// @notice The whole state.
    /// @custom:storage-location erc7201:datamarket.storage.DataLicenseMarket
    struct Layout {
        Config config;
        address deliveryOracle;
        uint256 accruedFees;
        address[] attestorList;
        mapping(bytes32 productId => StoredProduct) products;
        mapping(bytes32 productId => bytes32[16]) resources; // 16 = MAX_RESOURCES
        mapping(bytes32 productId => bytes32) termsHashes;
        mapping(bytes32 productId => mapping(address buyer => IDataLicenseMarket.License)) licenses;
        mapping(bytes32 resourceId => mapping(address account => uint64)) licensedUntil;
        mapping(address account => uint256) claimable;
        mapping(address account => uint64) kycValidUntil;
        // Position in attestorList plus one; 0 = not an attestor.
        mapping(address attestor => uint256) attestorIndex;
    }

    // keccak256(abi.encode(uint256(keccak256("datamarket.storage.DataLicenseMarket")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant _SLOT = 0x114ab913c8fcc6a7b4c76f2c4c0640f3de816e38e3d19712fbfa38134af49d00;

    /// @notice The market's state.
    /// @return ms the layout at the namespace's slot
    function layout() internal pure returns (Layout storage ms) {
        // solhint-disable-next-line no-inline-assembly
        assembly {
            ms.slot := _SLOT
        }
    }
}
