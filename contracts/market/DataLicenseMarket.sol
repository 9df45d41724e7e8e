// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// DOMAIN_SEPARATOR keeps the EIP-2612 name wallets expect.
/* solhint-disable func-name-mixedcase */

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";
import {IDATAToken} from "../interfaces/IDATAToken.sol";
import {IStreamRegistry} from "../interfaces/IStreamRegistry.sol";
import {IKarma} from "../interfaces/IKarma.sol";
import {IDataLicenseMarket} from "../interfaces/IDataLicenseMarket.sol";
import {MarketStorage} from "./MarketStorage.sol";
import {LicenseEscrow} from "./LicenseEscrow.sol";
import {AttestorSet} from "./AttestorSet.sol";
import {ProductCatalog} from "./ProductCatalog.sol";
import {LicenseTermination} from "./LicenseTermination.sol";

/// @title DataLicenseMarket
/// @notice Products, time-limited licenses paid in DATA with escrow released as time elapses, k-of-n
/// consent attestations and revocations from the Fabric consent ledger, bad-data disputes, KYC gate and
/// an optional protocol fee. The specification is IDataLicenseMarket and docs/market.md.
/// @dev Hot paths (purchase, extension, release, withdrawal) live here; cold paths run in the external
/// libraries ProductCatalog, AttestorSet and LicenseTermination by DELEGATECALL on the same ERC-7201
/// storage (MarketStorage), which keeps the bytecode under the EIP-170 limit.
///
/// Invariant (tested): DATA.balanceOf(market) == totalOwed() + surplus, where totalOwed() == sum of
/// license escrows + sum of claimable balances + accrued fees, and the surplus is DATA sent by plain
/// transfer (0 unless someone did; `sweepSurplus` pays exactly it out). A purchase adds its cost to one
/// escrow (or refunds the rounding dust) and to totalOwed; a release moves escrow to a claimable
/// balance and the fees; a refund moves escrow to a claimable balance; a withdrawal pays a claimable
/// balance or the fees out and lowers totalOwed by as much.
///
/// Reentrancy: the market calls only the DATA token (plain ERC-20 transfers, no receiver hooks), the
/// registry and karma fixed at deployment, and the governance-set delivery oracle through a view
/// (STATICCALL); every state change precedes those calls (checks-effects-interactions).
contract DataLicenseMarket is IDataLicenseMarket, AccessControl, EIP712 {
    using SafeERC20 for IDATAToken;

    /// @inheritdoc IDataLicenseMarket
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @inheritdoc IDataLicenseMarket
    bytes32 public constant KYC_PROVIDER_ROLE = keccak256("KYC_PROVIDER_ROLE");
    /// @inheritdoc IDataLicenseMarket
    bytes32 public constant CONSENT_ATTESTATION_TYPEHASH = AttestorSet.CONSENT_ATTESTATION_TYPEHASH;
    /// @inheritdoc IDataLicenseMarket
    bytes32 public constant CONSENT_REVOCATION_TYPEHASH = AttestorSet.CONSENT_REVOCATION_TYPEHASH;
    /// @inheritdoc IDataLicenseMarket
    uint256 public constant MAX_RESOURCES = MarketStorage.MAX_RESOURCES;
    /// @inheritdoc IDataLicenseMarket
    uint256 public constant MAX_ATTESTORS = AttestorSet.MAX_ATTESTORS;
    /// @inheritdoc IDataLicenseMarket
    uint256 public constant MAX_FEE_BPS = 1_000;

    uint40 private constant _NO_GRANT_EXPIRY = type(uint40).max;

    /// @inheritdoc IDataLicenseMarket
    IDATAToken public immutable token;
    /// @inheritdoc IDataLicenseMarket
    IStreamRegistry public immutable registry;
    /// @inheritdoc IDataLicenseMarket
    IKarma public immutable karma;

    /// @notice Deploy the market; the wiring is immutable.
    /// @param admin governance: DEFAULT_ADMIN_ROLE (attestors, fee, oracle, roles)
    /// @param dataToken the DATA token (its cap must be below 2^128: TokenCapTooLarge)
    /// @param streamRegistry the registry (the market must be its key registrar for encryption keys)
    /// @param karmaContract the karma contract (the market must hold its REPORTER_ROLE)
    constructor(address admin, IDATAToken dataToken, IStreamRegistry streamRegistry, IKarma karmaContract)
        EIP712("DataLicenseMarket", "1")
    {
        // What the market owes is counted in 128 bits (MarketStorage.Config): no supply may exceed them.
        uint256 cap = dataToken.cap();
        if (cap > type(uint128).max) revert TokenCapTooLarge(cap);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        token = dataToken;
        registry = streamRegistry;
        karma = karmaContract;
    }

    // ---------------------------------------------------------------------------------------------
    // Products
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function createProduct(bytes32 salt, ProductParams calldata params) external returns (bytes32 productId) {
        return ProductCatalog.create(registry, salt, params);
    }

    /// @inheritdoc IDataLicenseMarket
    function setPrice(bytes32 productId, uint96 pricePerSecond) external {
        ProductCatalog.setPrice(productId, pricePerSecond);
    }

    /// @inheritdoc IDataLicenseMarket
    function setPurposes(bytes32 productId, bytes32[] calldata purposes, bool allowed) external {
        ProductCatalog.setPurposes(productId, purposes, allowed);
    }

    /// @inheritdoc IDataLicenseMarket
    function isPurposeAllowed(bytes32 productId, bytes32 purpose) external view returns (bool allowed) {
        return MarketStorage.layout().purposes[productId][purpose];
    }

    /// @inheritdoc IDataLicenseMarket
    function setBeneficiary(bytes32 productId, address beneficiary) external {
        ProductCatalog.setBeneficiary(productId, beneficiary);
    }

    /// @inheritdoc IDataLicenseMarket
    function setPaused(bytes32 productId, bool paused) external {
        ProductCatalog.setState(productId, paused ? ProductState.Paused : ProductState.Active);
    }

    /// @inheritdoc IDataLicenseMarket
    function deleteProduct(bytes32 productId) external {
        ProductCatalog.setState(productId, ProductState.Deleted);
    }

    /// @inheritdoc IDataLicenseMarket
    function productIdOf(address seller, bytes32 salt) external pure returns (bytes32 productId) {
        return keccak256(abi.encode(seller, salt));
    }

    /// @inheritdoc IDataLicenseMarket
    function getProduct(bytes32 productId) external view returns (Product memory product) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        MarketStorage.StoredProduct memory stored = ms.products[productId];
        MarketStorage.ProductParties memory parties = ms.parties[productId];
        return Product({
            seller: parties.seller,
            pricePerSecond: stored.pricePerSecond,
            beneficiary: parties.beneficiary,
            minSeconds: stored.minSeconds,
            maxSeconds: stored.maxSeconds,
            requiresConsent: stored.requiresConsent,
            requiresKyc: stored.requiresKyc,
            state: stored.state,
            resourceCount: stored.resourceCount,
            termsHash: ms.termsHashes[productId]
        });
    }

    /// @inheritdoc IDataLicenseMarket
    function productResources(bytes32 productId) external view returns (bytes32[] memory resources) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        uint256 count = ms.products[productId].resourceCount;
        resources = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            resources[i] = ms.resources[productId][i];
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Licenses
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function buy(PurchaseOrder calldata order, uint256 maxPricePerSecond) external returns (uint256 cost) {
        cost = _purchase(
            msg.sender, order.productId, order.duration, maxPricePerSecond, order.attestation, order.signatures
        );
        if (order.encryptionKey.length != 0) registry.registerEncryptionKeyFor(msg.sender, order.encryptionKey);
        _collect(msg.sender, cost);
    }

    /// @inheritdoc IDataLicenseMarket
    function buyWithPermit(PurchaseOrder calldata order, uint256 maxPricePerSecond, Permit calldata permit)
        external
        returns (uint256 cost)
    {
        // A permit front-run by someone who saw it in the mempool has already set the allowance: go on;
        // if the allowance is short, the transferFrom below fails with the token's own error.
        // A failed permit is not an error (see above).
        // solhint-disable-next-line no-empty-blocks
        try token.permit(msg.sender, address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s) {}
            catch {} // solhint-disable-line no-empty-blocks
        cost = _purchase(
            msg.sender, order.productId, order.duration, maxPricePerSecond, order.attestation, order.signatures
        );
        if (order.encryptionKey.length != 0) registry.registerEncryptionKeyFor(msg.sender, order.encryptionKey);
        _collect(msg.sender, cost);
    }

    /// @inheritdoc IDataLicenseMarket
    function extend(bytes32 productId, uint32 duration, uint256 maxPricePerSecond) external returns (uint256 cost) {
        ConsentAttestation memory none;
        cost = _purchase(msg.sender, productId, duration, maxPricePerSecond, none, "");
        _collect(msg.sender, cost);
    }

    /// @inheritdoc IDataLicenseMarket
    function onTransferReceived(address operator, address from, uint256 value, bytes calldata data)
        external
        returns (bytes4 selector)
    {
        if (msg.sender != address(token)) revert OnlyDataToken(msg.sender);
        PurchaseOrder memory order = abi.decode(data, (PurchaseOrder));
        // A key is registered only on its owner's own authorisation: an operator spending `from`'s
        // allowance (transferFromAndCall) may buy for `from`, never choose whom `from`'s group keys go to.
        if (order.encryptionKey.length != 0 && operator != from) revert EncryptionKeyNotAuthorized(operator, from);
        // The payment is already here: the order must cost exactly what was paid. A price change in
        // between reverts the whole transfer and the tokens stay with the payer.
        uint256 cost =
            _purchase(from, order.productId, order.duration, type(uint256).max, order.attestation, order.signatures);
        if (value != cost) revert PaymentMismatch(value, cost);
        if (order.encryptionKey.length != 0) registry.registerEncryptionKeyFor(from, order.encryptionKey);
        return IERC1363Receiver.onTransferReceived.selector;
    }

    /// @inheritdoc IDataLicenseMarket
    function quote(bytes32 productId, uint256 duration) external view returns (uint256 cost) {
        MarketStorage.StoredProduct storage product = MarketStorage.layout().products[productId];
        if (product.state == ProductState.None) revert UnknownProduct(productId);
        return _price(product.pricePerSecond, duration);
    }

    /// @inheritdoc IDataLicenseMarket
    function hasValidLicense(address account, bytes32 resourceId) external view returns (bool licensed) {
        return block.timestamp < MarketStorage.layout().licensedUntil[resourceId][account];
    }

    /// @inheritdoc IDataLicenseMarket
    function licensedUntil(bytes32 resourceId, address account) external view returns (uint64 until) {
        return MarketStorage.layout().licensedUntil[resourceId][account];
    }

    /// @inheritdoc IDataLicenseMarket
    function restoreAccess(bytes32 productId, address buyer) external {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        License memory license = ms.licenses[productId][buyer];
        if (
            (license.status != LicenseStatus.Active && license.status != LicenseStatus.Disputed)
                || license.end <= block.timestamp
        ) revert NoValidLicense(productId, buyer);
        _grantAccessAll(ms, productId, ms.products[productId].resourceCount, buyer, license.end);
    }

    /// @inheritdoc IDataLicenseMarket
    function getLicense(bytes32 productId, address buyer) external view returns (License memory license) {
        return MarketStorage.layout().licenses[productId][buyer];
    }

    // ---------------------------------------------------------------------------------------------
    // Escrow
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function release(bytes32 productId, address buyer) external returns (uint256 amount) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        License memory license = ms.licenses[productId][buyer];
        if (license.status >= LicenseStatus.Disputed && license.status != LicenseStatus.Ended) {
            revert LicenseDisputed(productId, buyer);
        }
        uint256 until = LicenseEscrow.releasableUntil(ms, productId, license);
        if (until <= license.releasedUntil) revert NothingToRelease(productId, buyer);
        amount = LicenseEscrow.settle(ms, karma, productId, buyer, license, until);
        MarketStorage.storeLicense(ms, productId, buyer, license);
    }

    /// @inheritdoc IDataLicenseMarket
    function releasable(bytes32 productId, address buyer) external view returns (uint256 amount) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        License memory license = ms.licenses[productId][buyer];
        uint256 until = LicenseEscrow.releasableUntil(ms, productId, license);
        return until > license.releasedUntil ? uint256(license.rate) * (until - license.releasedUntil) : 0;
    }

    /// @inheritdoc IDataLicenseMarket
    function escrowOf(bytes32 productId, address buyer) external view returns (uint256 amount) {
        License memory license = MarketStorage.layout().licenses[productId][buyer];
        return uint256(license.rate) * (license.end - license.releasedUntil);
    }

    /// @inheritdoc IDataLicenseMarket
    function withdraw() external returns (uint256 amount) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        amount = ms.claimable[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        ms.claimable[msg.sender] = 0;
        ms.config.owed -= uint128(amount);
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IDataLicenseMarket
    function withdrawFees() external returns (uint256 amount) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        address recipient = ms.feeRecipient;
        if (recipient == address(0)) revert ZeroFeeRecipient();
        amount = ms.accruedFees;
        if (amount == 0) revert NothingToWithdraw(recipient);
        ms.accruedFees = 0;
        ms.config.owed -= uint128(amount);
        emit FeesWithdrawn(recipient, amount);
        token.safeTransfer(recipient, amount);
    }

    /// @inheritdoc IDataLicenseMarket
    function totalOwed() external view returns (uint256 amount) {
        return MarketStorage.layout().config.owed;
    }

    /// @inheritdoc IDataLicenseMarket
    function sweepSurplus(address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) returns (uint256 amount) {
        if (recipient == address(0)) revert ZeroRecipient();
        // The balance never falls below what is owed (the invariant above), so this cannot underflow.
        amount = token.balanceOf(address(this)) - MarketStorage.layout().config.owed;
        if (amount == 0) revert NothingToSweep();
        emit SurplusSwept(recipient, amount);
        token.safeTransfer(recipient, amount);
    }

    /// @inheritdoc IDataLicenseMarket
    function claimableOf(address account) external view returns (uint256 amount) {
        return MarketStorage.layout().claimable[account];
    }

    /// @inheritdoc IDataLicenseMarket
    function accruedFees() external view returns (uint256 amount) {
        return MarketStorage.layout().accruedFees;
    }

    // ---------------------------------------------------------------------------------------------
    // Consent
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function revokeConsent(
        ConsentRevocation calldata revocation,
        bytes calldata signatures,
        ConsentAttestation calldata attestation,
        bytes calldata attestationSignatures
    ) external {
        LicenseTermination.revokeConsent(
            registry, karma, _domainSeparatorV4(), revocation, signatures, attestation, attestationSignatures
        );
    }

    /// @inheritdoc IDataLicenseMarket
    function consentAttestationDigest(ConsentAttestation calldata attestation) external view returns (bytes32 digest) {
        return _hashTypedDataV4(AttestorSet.attestationHash(attestation));
    }

    /// @inheritdoc IDataLicenseMarket
    function consentRevocationDigest(ConsentRevocation calldata revocation) external view returns (bytes32 digest) {
        return _hashTypedDataV4(AttestorSet.revocationHash(revocation));
    }

    /// @inheritdoc IDataLicenseMarket
        function DOMAIN_SEPARATOR() external view returns (bytes32 separator) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IDataLicenseMarket
    function addAttestor(address attestor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AttestorSet.add(attestor);
    }

    /// @inheritdoc IDataLicenseMarket
    function removeAttestor(address attestor) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AttestorSet.remove(attestor);
    }

    /// @inheritdoc IDataLicenseMarket
    function setAttestorThreshold(uint256 threshold) external onlyRole(DEFAULT_ADMIN_ROLE) {
        AttestorSet.setThreshold(threshold);
    }

    /// @inheritdoc IDataLicenseMarket
    function attestors() external view returns (address[] memory list) {
        return MarketStorage.layout().attestorList;
    }

    /// @inheritdoc IDataLicenseMarket
    function attestorThreshold() external view returns (uint256 threshold) {
        return MarketStorage.layout().config.attestorThreshold;
    }

    // ---------------------------------------------------------------------------------------------
    // Flags and disputes
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function flagBadData(bytes32 productId, bytes32 evidenceHash) external {
        LicenseTermination.flagBadData(karma, productId, evidenceHash);
    }

    /// @inheritdoc IDataLicenseMarket
    function resolveDispute(bytes32 productId, address buyer, bool upheld) external onlyRole(ARBITER_ROLE) {
        LicenseTermination.resolveDispute(registry, karma, productId, buyer, upheld);
    }

    // ---------------------------------------------------------------------------------------------
    // KYC and governance
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc IDataLicenseMarket
    function setKyc(address account, uint64 validUntil) external onlyRole(KYC_PROVIDER_ROLE) {
        MarketStorage.layout().kycValidUntil[account] = validUntil;
        emit KycSet(account, msg.sender, validUntil);
    }

    /// @inheritdoc IDataLicenseMarket
    function kycValidUntil(address account) external view returns (uint64 validUntil) {
        return MarketStorage.layout().kycValidUntil[account];
    }

    /// @inheritdoc IDataLicenseMarket
    function setProtocolFee(uint256 feeBps, address recipient) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (feeBps > MAX_FEE_BPS) revert FeeTooHigh(feeBps, MAX_FEE_BPS);
        if (feeBps != 0 && recipient == address(0)) revert ZeroFeeRecipient();
        MarketStorage.Layout storage ms = MarketStorage.layout();
        ms.config.feeBps = uint16(feeBps);
        ms.feeRecipient = recipient;
        emit ProtocolFeeSet(feeBps, recipient);
    }

    /// @inheritdoc IDataLicenseMarket
    function protocolFee() external view returns (uint256 feeBps, address recipient) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        return (ms.config.feeBps, ms.feeRecipient);
    }

    /// @inheritdoc IDataLicenseMarket
    function setDeliveryOracle(address oracle) external onlyRole(DEFAULT_ADMIN_ROLE) {
        MarketStorage.layout().deliveryOracle = oracle;
        emit DeliveryOracleSet(oracle);
    }

    /// @inheritdoc IDataLicenseMarket
    function deliveryOracle() external view returns (address oracle) {
        return MarketStorage.layout().deliveryOracle;
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The single pricing function of every payment path.
    function _price(uint256 pricePerSecond, uint256 duration) private pure returns (uint256 cost) {
        return pricePerSecond * duration;
    }

    /// @dev Buy or extend for `buyer`: every check, the license and escrow update, the grant record and
    /// the registry's subscribe permissions. Returns the cost; the caller collects exactly that (or
    /// checks it was paid). An attestation with grant id 0 means none (an extension under the current
    /// grant); it is read only for a consent-gated product. Takes the attestation and signatures rather
    /// than the whole order: copying a calldata order to memory costs a purchase ~1,500 gas.
    function _purchase(
        address buyer,
        bytes32 productId,
        uint256 duration,
        uint256 maxPricePerSecond,
        ConsentAttestation memory attestation,
        bytes memory signatures
    ) private returns (uint256 cost) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        MarketStorage.StoredProduct memory product = ms.products[productId];
        _checkSale(ms, productId, product, buyer, duration, maxPricePerSecond);
        uint256 end;
        (end, cost) = _updateLicense(buyer, productId, duration, product, attestation, signatures);
        _grantAccessAll(ms, productId, product.resourceCount, buyer, end);
    }

    /// @dev The license side of a purchase: period, consent, escrow; stores the license, counts the
    /// payment as owed, emits.
    function _updateLicense(
        address buyer,
        bytes32 productId,
        uint256 duration,
        MarketStorage.StoredProduct memory product,
        ConsentAttestation memory attestation,
        bytes memory signatures
    ) private returns (uint256 end, uint256 cost) {
        License memory license = MarketStorage.layout().licenses[productId][buyer];
        if (license.status >= LicenseStatus.Disputed && license.status != LicenseStatus.Ended) {
            revert LicenseDisputed(productId, buyer);
        }
        end = (_running(license) ? license.end : block.timestamp) + duration;
        if (end - block.timestamp > product.maxSeconds) {
            revert LicenseTooLong(end - block.timestamp, product.maxSeconds);
        }

        (bytes32 grantId, uint40 grantExpiry) =
            _consent(productId, product.requiresConsent, attestation, signatures, buyer, license);
        if (end > grantExpiry) revert LicenseOutlivesConsent(end, grantExpiry);

        MarketStorage.Layout storage ms = MarketStorage.layout();
        _updateEscrow(ms, productId, buyer, license, product.pricePerSecond, end);
        license.grantExpiry = grantExpiry;
        license.status = LicenseStatus.Active;
        MarketStorage.storeLicense(ms, productId, buyer, license);
        cost = _price(product.pricePerSecond, duration);
        // cost < 2^96 * 2^32 fits. The sum cannot overflow: once the cost is collected (else the whole
        // transaction reverts) what is owed is at most the market's balance, hence at most the token's
        // cap, which the constructor requires to be below 2^128.
        unchecked {
            ms.config.owed += uint128(cost);
        }
        emit LicensePurchased(productId, buyer, grantId, cost, uint64(end));
    }

    /// @dev Write the license end into every resource of the product. Ownership is checked at listing
    /// only (re-checking it costs ~3,300 gas per resource per sale): the new owner of a resource that
    /// changed hands ends the old owner's sales by revoking the market's subscribe delegation.
    function _grantAccessAll(
        MarketStorage.Layout storage ms,
        bytes32 productId,
        uint256 count,
        address buyer,
        uint256 end
    )
        private
    {
        for (uint256 i; i < count; ++i) {
            LicenseEscrow.grantAccess(ms, registry, ms.resources[productId][i], buyer, end);
        }
    }

    /// @dev The product-level checks of a purchase.
    function _checkSale(
        MarketStorage.Layout storage ms,
        bytes32 productId,
        MarketStorage.StoredProduct memory product,
        address buyer,
        uint256 duration,
        uint256 maxPricePerSecond
    ) private view {
        if (product.state != ProductState.Active) {
            if (product.state == ProductState.None) revert UnknownProduct(productId);
            revert ProductNotOnSale(productId, product.state);
        }
        if (product.pricePerSecond > maxPricePerSecond) {
            revert PriceAboveLimit(product.pricePerSecond, maxPricePerSecond);
        }
        if (duration < product.minSeconds) revert LicenseTooShort(duration, product.minSeconds);
        if (product.requiresKyc) {
            uint64 validUntil = ms.kycValidUntil[buyer];
            if (validUntil <= block.timestamp) revert KycRequired(buyer, validUntil);
        }
    }

    /// @dev The grant a purchase runs under: none without consent gate (an attestation given anyway is
    /// ignored and not reported); the license's current grant for an attestation with grant id 0; else
    /// the attestation, verified.
    function _consent(
        bytes32 productId,
        bool requiresConsent,
        ConsentAttestation memory attestation,
        bytes memory signatures,
        address buyer,
        License memory license
    ) private view returns (bytes32 grantId, uint40 grantExpiry) {
        if (!requiresConsent) return (bytes32(0), _NO_GRANT_EXPIRY);
        grantId = attestation.grantId;
        grantExpiry = grantId == bytes32(0)
            ? _currentGrantExpiry(productId, buyer, license)
            : _useAttestation(productId, attestation, signatures, buyer, license);
    }

    /// @dev An extension without attestation runs under the license's current grant, if still valid.
    function _currentGrantExpiry(bytes32 productId, address buyer, License memory license)
        private
        view
        returns (uint40 grantExpiry)
    {
        grantExpiry = license.grantExpiry;
        if (license.status != LicenseStatus.Active || grantExpiry <= block.timestamp) {
            revert ConsentRequired(productId, buyer, grantExpiry);
        }
    }

    /// @dev Verify a consent attestation for this purchase; the license's grant becomes it.
    function _useAttestation(
        bytes32 productId,
        ConsentAttestation memory attestation,
        bytes memory signatures,
        address buyer,
        License memory license
    ) private view returns (uint40 grantExpiry) {
        MarketStorage.Layout storage ms = MarketStorage.layout();
        bytes32 grantId = attestation.grantId;
        if (attestation.buyer != buyer) revert AttestationBuyerMismatch(grantId, attestation.buyer, buyer);
        if (attestation.productId != productId) {
            revert AttestationProductMismatch(grantId, attestation.productId, productId);
        }
        if (!ms.purposes[productId][attestation.purpose]) revert PurposeNotAllowed(productId, attestation.purpose);
        uint64 expiresAt = attestation.expiresAt;
        if (expiresAt <= block.timestamp) revert AttestationExpired(grantId, expiresAt, block.timestamp);
        // Grants of one license must have strictly increasing expiries, and a revocation raises the
        // floor to the revoked grant's expiry: so a grant is accepted at most once, never after revocation.
        uint16 tag = uint16(uint256(grantId));
        if (expiresAt <= license.grantExpiry) {
            if (expiresAt == license.grantExpiry && tag == license.grantTag) revert GrantAlreadyUsed(grantId);
            revert GrantNotNewer(grantId, expiresAt, license.grantExpiry);
        }
        grantExpiry = SafeCast.toUint40(expiresAt);
        AttestorSet.verify(
            ms, _hashTypedDataV4(AttestorSet.attestationHash(attestation)), signatures, ms.config.attestorThreshold
        );
        license.grantTag = tag;
    }

    /// @dev Add a purchase's escrow to the license (in memory; the caller stores it). A license's fee
    /// share is fixed when it starts: an extension of a running license is part of the same sale, so a
    /// fee change never touches escrow already sold (a blend at the new fee would move part of it from
    /// the seller to the protocol).
    function _updateEscrow(
        MarketStorage.Layout storage ms,
        bytes32 productId,
        address buyer,
        License memory license,
        uint256 price,
        uint256 end
    ) private {
        if (_running(license)) {
            if (license.rate != price) {
                // A different price: release what is earned, then spread the rest plus the new payment
                // evenly over the remaining time; the remainder of the division is the buyer's.
                uint256 until = LicenseEscrow.releasableUntil(ms, productId, license);
                if (until > license.releasedUntil) LicenseEscrow.settle(ms, karma, productId, buyer, license, until);
                uint256 total =
                    uint256(license.rate) * (license.end - license.releasedUntil) + price * (end - license.end);
                uint256 span = end - license.releasedUntil;
                uint256 rate = total / span;
                LicenseEscrow.refund(ms, productId, buyer, total - rate * span);
                license.rate = SafeCast.toUint96(rate);
            }
            // Same price: the escrow simply runs longer.
        } else {
            // A new period: whatever an expired license still holds is all earned.
            if (license.end > license.releasedUntil) {
                LicenseEscrow.settle(ms, karma, productId, buyer, license, license.end);
            }
            license.rate = uint96(price);
            license.releasedUntil = uint40(block.timestamp);
            license.feeBps = ms.config.feeBps;
        }
        license.end = uint40(end);
    }

    /// @dev Whether a license runs now (a purchase extends it from its end rather than starting anew).
    function _running(License memory license) private view returns (bool) {
        return license.status == LicenseStatus.Active && license.end > block.timestamp;
    }

    function _collect(address buyer, uint256 cost) private {
        token.safeTransferFrom(buyer, address(this), cost);
    }
}
