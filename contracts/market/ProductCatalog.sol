// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {MarketStorage} from "./MarketStorage.sol";

/// @title ProductCatalog
/// @notice The listing of products of the DataLicenseMarket, as an external library: it runs by
/// DELEGATECALL in the market's storage and address (events come from the market), and keeps the cold
/// listing code out of the market's bytecode (EIP-170 size limit).
library ProductCatalog {
    /// @notice Most purposes one setPurposes call declares or withdraws (bounds its loop).
    uint256 internal constant MAX_PURPOSES_PER_CALL = 16;

    /// @notice List a product for msg.sender (see IDataLicenseMarket.createProduct).
    /// @param registry the stream registry
    /// @param salt the seller's salt
    /// @param params the product
    /// @return productId keccak256(abi.encode(msg.sender, salt))
    function create(
        IStreamRegistry registry,
        bytes32 salt,
        IDataLicenseMarket.ProductParams calldata params
    ) external returns (bytes32 productId) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        productId = keccak256(abi.encode(msg.sender, salt));
        if (ms.products[productId].state != IDataLicenseMarket.ProductState.None) {
            revert IDataLicenseMarket.ProductExists(productId);
        }
        uint256 count = params.resources.length;
        if (count == 0 || count > MarketStorage.MAX_RESOURCES) revert IDataLicenseMarket.InvalidResourceCount(count);
        if (params.beneficiary == address(0)) revert IDataLicenseMarket.ZeroBeneficiary();
        if (params.pricePerSecond == 0) revert IDataLicenseMarket.ZeroPrice(productId);
        if (params.minSeconds == 0 || params.minSeconds > params.maxSeconds) {
            revert IDataLicenseMarket.InvalidLicenseBounds(params.minSeconds, params.maxSeconds);
        }
        bytes32[16] storage productResources = ms.resources[productId];
        for (uint256 i; i < count; ++i) {
            bytes32 resourceId = params.resources[i];
            for (uint256 j; j < i; ++j) {
                if (params.resources[j] == resourceId) revert IDataLicenseMarket.DuplicateResource(resourceId);
            }
            address owner = registry.getResource(resourceId).owner;
            if (owner != msg.sender) revert IDataLicenseMarket.NotResourceOwner(resourceId, msg.sender, owner);
            IStreamRegistry.Permission memory permission = registry.getPermission(resourceId, address(this));
            if (!permission.canGrantSubscribe && !permission.canGrant) {
                revert IDataLicenseMarket.MarketNotDelegate(resourceId);
            }
            productResources[i] = resourceId;
        }
        ms.products[productId] = MarketStorage.StoredProduct({
            pricePerSecond: params.pricePerSecond,
            minSeconds: params.minSeconds,
            maxSeconds: params.maxSeconds,
            requiresConsent: params.requiresConsent,
            requiresKyc: params.requiresKyc,
            state: IDataLicenseMarket.ProductState.Active,
            resourceCount: uint8(count)
        });
        ms.parties[productId] = MarketStorage.ProductParties({seller: msg.sender, beneficiary: params.beneficiary});
        ms.termsHashes[productId] = params.termsHash;
        _emitCreated(productId, params);
    }

    /// @notice Change the price of future purchases (see IDataLicenseMarket.setPrice). Seller only.
    /// @param productId the product
    /// @param pricePerSecond DATA wei per second
    function setPrice(bytes32 productId, uint96 pricePerSecond) external {
        MarketStorage.StoredProduct storage product = _sellerProduct(productId);
        _requireNotDeleted(productId, product.state);
        if (pricePerSecond == 0) revert IDataLicenseMarket.ZeroPrice(productId);
        uint96 oldPrice = product.pricePerSecond;
        product.pricePerSecond = pricePerSecond;
        emit IDataLicenseMarket.ProductPriceUpdated(productId, oldPrice, pricePerSecond);
    }

    /// @notice Declare or withdraw purposes of a product (see IDataLicenseMarket.setPurposes). Seller
    /// only; not for a deleted product.
    /// @param productId the product
    /// @param purposes 1..MAX_PURPOSES_PER_CALL non-zero purposes
    /// @param allowed true to declare, false to withdraw
    function setPurposes(bytes32 productId, bytes32[] calldata purposes, bool allowed) external {
        MarketStorage.StoredProduct storage product = _sellerProduct(productId);
        _requireNotDeleted(productId, product.state);
        uint256 count = purposes.length;
        if (count == 0 || count > MAX_PURPOSES_PER_CALL) revert IDataLicenseMarket.InvalidPurposes(count);
        mapping(bytes32 purpose => bool) storage declared = MarketStorage.layout().purposes[productId];
        for (uint256 i; i < count; ++i) {
            bytes32 purpose = purposes[i];
            if (purpose == bytes32(0)) revert IDataLicenseMarket.InvalidPurposes(count);
            declared[purpose] = allowed;
            emit IDataLicenseMarket.ProductPurposeSet(productId, purpose, allowed);
        }
    }

    /// @notice Change the beneficiary (see IDataLicenseMarket.setBeneficiary). Seller only.
    /// @param productId the product
    /// @param beneficiary non-zero
    function setBeneficiary(bytes32 productId, address beneficiary) external {
        _sellerProduct(productId);
        if (beneficiary == address(0)) revert IDataLicenseMarket.ZeroBeneficiary();
        MarketStorage.layout().parties[productId].beneficiary = beneficiary;
        emit IDataLicenseMarket.ProductBeneficiaryUpdated(productId, beneficiary);
    }

    /// @notice Pause, resume or delete (see IDataLicenseMarket.setPaused, deleteProduct). Seller only;
    /// a deleted product stays deleted.
    /// @param productId the product
    /// @param state Active, Paused or Deleted
    function setState(bytes32 productId, IDataLicenseMarket.ProductState state) external {
        MarketStorage.StoredProduct storage product = _sellerProduct(productId);
        _requireNotDeleted(productId, product.state);
        product.state = state;
        emit IDataLicenseMarket.ProductStateChanged(productId, state);
    }

    function _sellerProduct(bytes32 productId) private view returns (MarketStorage.StoredProduct storage product) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        product = ms.products[productId];
        if (product.state == IDataLicenseMarket.ProductState.None) revert IDataLicenseMarket.UnknownProduct(productId);
        address seller = ms.parties[productId].seller;
        if (seller != msg.sender) revert IDataLicenseMarket.NotSeller(productId, msg.sender, seller);
    }

    function _requireNotDeleted(bytes32 productId, IDataLicenseMarket.ProductState state) private pure {
        if (state == IDataLicenseMarket.ProductState.Deleted) {
            revert IDataLicenseMarket.ProductNotOnSale(productId, state);
        }
    }

    function _emitCreated(bytes32 productId, IDataLicenseMarket.ProductParams calldata params) private {
        emit IDataLicenseMarket.ProductCreated(
            productId,
            msg.sender,
            params.beneficiary,
            params.pricePerSecond,
            params.minSeconds,
            params.maxSeconds,
            params.requiresConsent,
            params.requiresKyc,
            params.termsHash,
            params.termsUri,
            params.resources
        );
    }
}
