// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

// Constant getters keep the UPPER_CASE names integrators expect (HALF_LIFE, DOMAIN_SEPARATOR).
/* solhint-disable func-name-mixedcase */

import {IERC1363Receiver} from "@openzeppelin/contracts/interfaces/IERC1363Receiver.sol";
import {IDATAToken} from "./IDATAToken.sol";
import {IStreamRegistry} from "./IStreamRegistry.sol";
import {IKarma} from "./IKarma.sol";

/// @title IDataLicenseMarket
/// @notice The data-license market: sellers list products (bounded sets of streams and datasets of the
/// StreamRegistry) priced in DATA wei per second; buyers buy and extend time-limited licenses. The
/// market writes each license's real end time into the registry's subscribe permission of every
/// resource of the product, holds the payment in escrow and releases it to the seller's beneficiary as
/// the license time elapses (pull). For personal data, a purchase carries a consent attestation of the
/// Fabric consent ledger signed by k of the n registered consent attestors (EIP-712); a k-of-n signed
/// revocation relayed by anyone suspends the license at once and refunds the unearned payment.
/// @dev Full protocol, money flow and the attestation format: docs/market.md.
///
/// Conventions. Times are unix seconds; an end or expiry `E` is valid while `block.timestamp < E`.
/// Amounts are DATA wei. A license is identified by (productId, buyer): one license per buyer and
/// product, bought, extended and ended in place.
///
/// Escrow accounting of a license: `rate` (DATA wei per second) over the unreleased interval
/// `[releasedUntil, end)`; its escrow is `rate * (end - releasedUntil)`. Release moves
/// `rate * (min(now, end) - releasedUntil)` to the beneficiary (minus the license's fee share to the
/// protocol). An extension at the license's own rate simply moves `end`; one at a different price
/// first releases what is earned and then spreads the remaining escrow plus the new
/// payment evenly over the remaining time (the integer division's remainder, below one wei per
/// second, is refunded to the buyer at once).
///
/// A license's protocol fee share (`feeBps`) is fixed when the license starts (a purchase on a license
/// not running): its extensions are shares of the same sale, so a later fee change never touches its
/// escrow. A fee change applies to licenses started after it.
///
/// Prices are at least 1 DATA wei per second: every purchase moves DATA from the buyer, so every
/// purchase carries the buyer's own authorisation (its call, its permit, or the allowance an ERC-1363
/// operator spends). An encryption key is registered for the buyer only on the buyer's own call
/// (`buy`, `buyWithPermit`, or an ERC-1363 payment whose operator is the payer).
///
/// A consent-gated product is sold only for the purposes its seller declared (`setPurposes`): the
/// attested purpose must be one of them.
///
/// Accounting: `totalOwed()` = sum of escrows + sum of claimable balances + accrued fees, and
/// `DATA.balanceOf(market) >= totalOwed()` always; governance may sweep exactly the difference (DATA
/// sent by plain transfer, which no purchase accounts for) with `sweepSurplus`.
///
/// Roles (OpenZeppelin AccessControl): DEFAULT_ADMIN_ROLE = governance (attestor set, threshold,
/// protocol fee, delivery oracle, surplus sweep, role grants); ARBITER_ROLE decides bad-data disputes;
/// KYC_PROVIDER_ROLE marks addresses KYC-verified until a time.
interface IDataLicenseMarket is IERC1363Receiver {
    // ---------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------

    /// @notice Sale state of a product.
    enum ProductState {
        /// No product has this id.
        None,
        /// On sale.
        Active,
        /// Sales (purchases and extensions) suspended by the seller; licenses sold keep running.
        Paused,
        /// Deleted for good: no sales ever again, the id is never reused; licenses sold keep running.
        Deleted
    }

    /// @notice State of a license.
    enum LicenseStatus {
        /// Never bought.
        None,
        /// Paid for; valid while block.timestamp < end (an expired license keeps this status).
        Active,
        /// Flagged by the buyer: escrow release is frozen until the arbiter decides.
        Disputed,
        /// Revoked (consent withdrawn) or refunded by the arbiter; escrow settled. A new purchase with a
        /// fresh consent attestation starts it again.
        Ended,
        /// Consent was withdrawn while a flag was open: access removed and the time after the withdrawal
        /// refunded; the escrow frozen between the flag and the withdrawal waits for the arbiter
        /// (upheld: refunded; rejected: released), then the license is Ended.
        RevokedInDispute
    }

    /// @notice What a seller gives to list a product.
    /// @param beneficiary receives the released escrow (non-zero)
    /// @param pricePerSecond DATA wei per second of license (>= 1: there are no free products)
    /// @param minSeconds shortest period one purchase may buy (>= 1)
    /// @param maxSeconds longest remaining license time after a purchase (>= minSeconds)
    /// @param requiresConsent every purchase needs a k-of-n consent attestation (always, for personal data)
    /// @param requiresKyc the buyer must be KYC-verified (see setKyc)
    /// @param termsHash hash of the terms of use (sha-256 of the document by convention)
    /// @param termsUri where the terms can be read (emitted only)
    /// @param resources the registry resource ids sold, 1..MAX_RESOURCES, distinct, owned by the seller
    struct ProductParams {
        address beneficiary;
        uint96 pricePerSecond;
        uint32 minSeconds;
        uint32 maxSeconds;
        bool requiresConsent;
        bool requiresKyc;
        bytes32 termsHash;
        string termsUri;
        bytes32[] resources;
    }

    /// @notice A product as stored (terms, parties and terms hash; resources and purposes apart).
    /// @param seller who listed it (owner of every resource at listing)
    /// @param pricePerSecond DATA wei per second, for future purchases
    /// @param beneficiary receives released escrow
    /// @param minSeconds shortest purchasable period
    /// @param maxSeconds longest remaining license time
    /// @param requiresConsent consent attestation gate
    /// @param requiresKyc KYC gate
    /// @param state sale state
    /// @param resourceCount number of resources
    /// @param termsHash hash of the terms of use
    struct Product {
        address seller;
        uint96 pricePerSecond;
        address beneficiary;
        uint32 minSeconds;
        uint32 maxSeconds;
        bool requiresConsent;
        bool requiresKyc;
        ProductState state;
        uint8 resourceCount;
        bytes32 termsHash;
    }

    /// @notice A license as stored (one slot).
    /// @param rate escrowed DATA wei per second of [releasedUntil, end)
    /// @param releasedUntil escrow before this time has been released or refunded
    /// @param end unix seconds; the license is valid while block.timestamp < end
    /// @param grantExpiry expiry of the consent grant it runs under, and the grant floor: a new grant must
    /// expire later (type(uint40).max if no consent gate)
    /// @param feeBps protocol fee share of released escrow, fixed when the license started (extensions of
    /// a running license keep it)
    /// @param status license state
    /// @param grantTag the low 16 bits of the current grant's id (with grantExpiry, tells the current
    /// grant from an older one)
    struct License {
        uint96 rate;
        uint40 releasedUntil;
        uint40 end;
        uint40 grantExpiry;
        uint16 feeBps;
        LicenseStatus status;
        uint16 grantTag;
    }

    /// @notice The EIP-712 consent attestation (type string in CONSENT_ATTESTATION_TYPEHASH).
    /// @param grantId the Fabric access grant: sha256(utf8(Fabric tx id)), single use on Ethereum
    /// @param buyer the licensee the data subject consented to
    /// @param productId the product consented to
    /// @param purpose keccak256(utf8(DPV purpose term)), e.g. keccak256("ScientificResearch"); must be one
    /// of the product's declared purposes
    /// @param expiresAt unix seconds; the grant and the attestation are invalid from this second on
    struct ConsentAttestation {
        bytes32 grantId;
        address buyer;
        bytes32 productId;
        bytes32 purpose;
        uint64 expiresAt;
    }

    /// @notice The EIP-712 consent revocation (type string in CONSENT_REVOCATION_TYPEHASH).
    /// @param grantId the grant withdrawn
    /// @param revokedAt unix seconds at which consent was withdrawn on the consent ledger
    struct ConsentRevocation {
        bytes32 grantId;
        uint64 revokedAt;
    }

    /// @notice A purchase or extension order (also the `data` of an ERC-1363 payment, abi-encoded).
    /// @param productId the product
    /// @param duration license time bought, seconds, seconds
    /// @param attestation the consent attestation; all zero to extend under the license's current grant;
    /// ignored for a product without consent gate
    /// @param signatures k attestor signatures of the attestation's EIP-712 digest, 65 bytes each (r, s, v)
    /// @param encryptionKey 33-byte compressed secp256k1 key registered for the buyer, or empty (on the
    /// ERC-1363 path only when the token's operator is the payer)
    struct PurchaseOrder {
        bytes32 productId;
        uint32 duration;
        ConsentAttestation attestation;
        bytes signatures;
        bytes encryptionKey;
    }

    /// @notice An EIP-2612 permit of the DATA token for the market.
    /// @param value allowance granted (at least the cost)
    /// @param deadline unix seconds
    /// @param v signature
    /// @param r signature
    /// @param s signature
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    // ---------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------

    /// @notice A product was listed.
    /// @param productId keccak256(abi.encode(seller, salt))
    /// @param seller the seller
    /// @param beneficiary receives released escrow
    /// @param pricePerSecond DATA wei per second
    /// @param minSeconds shortest purchasable period
    /// @param maxSeconds longest remaining license time
    /// @param requiresConsent consent gate
    /// @param requiresKyc KYC gate
    /// @param termsHash hash of the terms of use
    /// @param termsUri where the terms are
    /// @param resources the resource ids
    event ProductCreated(
        bytes32 indexed productId,
        address indexed seller,
        address beneficiary,
        uint96 pricePerSecond,
        uint32 minSeconds,
        uint32 maxSeconds,
        bool requiresConsent,
        bool requiresKyc,
        bytes32 termsHash,
        string termsUri,
        bytes32[] resources
    );

    /// @notice A product's price changed (future purchases only).
    /// @param productId the product
    /// @param oldPricePerSecond previous price, DATA wei per second
    /// @param newPricePerSecond new price
    event ProductPriceUpdated(bytes32 indexed productId, uint96 oldPricePerSecond, uint96 newPricePerSecond);

    /// @notice A product's beneficiary changed (applies to all later releases).
    /// @param productId the product
    /// @param beneficiary the new beneficiary
    event ProductBeneficiaryUpdated(bytes32 indexed productId, address indexed beneficiary);

    /// @notice A product's sale state changed (paused, resumed, deleted).
    /// @param productId the product
    /// @param state the new state
    event ProductStateChanged(bytes32 indexed productId, ProductState state);

    /// @notice A license was bought or extended.
    /// @param productId the product
    /// @param buyer the licensee
    /// @param grantId the consent grant newly used (0 for an extension under the current grant, or
    /// without consent gate)
    /// @param cost DATA wei paid
    /// @param end the license's new end (unix seconds)
    event LicensePurchased(
        bytes32 indexed productId, address indexed buyer, bytes32 indexed grantId, uint256 cost, uint64 end
    );

    /// @notice Escrow of a license was released (to the beneficiary, minus the fee share).
    /// @param productId the product
    /// @param buyer the licensee
    /// @param beneficiary who was credited
    /// @param amount gross DATA wei released (beneficiary + fee)
    /// @param fee the protocol's share of it
    /// @param releasedUntil escrow before this time is now settled
    event EscrowReleased(
        bytes32 indexed productId,
        address indexed buyer,
        address indexed beneficiary,
        uint256 amount,
        uint256 fee,
        uint64 releasedUntil
    );

    /// @notice DATA became refundable to a buyer (claim with withdraw).
    /// @param productId the product
    /// @param buyer the buyer
    /// @param amount DATA wei
    event Refunded(bytes32 indexed productId, address indexed buyer, uint256 amount);

    /// @notice A consent revocation was relayed; the grant can never be used again.
    /// @param grantId the grant withdrawn
    /// @param productId the product of the grant's attestation
    /// @param buyer the buyer of the grant's attestation
    /// @param revokedAt when consent was withdrawn (signed)
    /// @param licenseSuspended whether the license was ended by it
    event ConsentRevoked(
        bytes32 indexed grantId,
        bytes32 indexed productId,
        address indexed buyer,
        uint64 revokedAt,
        bool licenseSuspended
    );

    /// @notice A subscribe-permission write to the registry failed while taking access away (the
    /// license is ended regardless; the resource owner must remove the permission).
    /// @param resourceId the resource
    /// @param buyer the buyer
    /// @param reason the registry's revert data
    event AccessRemovalFailed(bytes32 indexed resourceId, address indexed buyer, bytes reason);

    /// @notice A karma report failed (reputation never blocks money or consent); the market goes on.
    /// @param karma the karma contract
    /// @param reason its revert data
    event KarmaReportFailed(address indexed karma, bytes reason);

    /// @notice A buyer flagged a product's data as bad during its license.
    /// @param productId the product
    /// @param buyer the licensee
    /// @param seller the seller
    /// @param evidenceHash hash of the evidence (off chain)
    event BadDataFlagged(
        bytes32 indexed productId, address indexed buyer, address indexed seller, bytes32 evidenceHash
    );

    /// @notice The arbiter decided a dispute.
    /// @param productId the product
    /// @param buyer the licensee
    /// @param arbiter who decided
    /// @param upheld true: the flag was upheld, the unearned part refunded and the license ended;
    /// false: release resumes
    /// @param refund DATA wei refunded to the buyer
    event DisputeResolved(
        bytes32 indexed productId, address indexed buyer, address indexed arbiter, bool upheld, uint256 refund
    );

    /// @notice An account withdrew what it was owed (seller income and refunds).
    /// @param account the account
    /// @param amount DATA wei
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Accrued protocol fees were paid to the fee recipient.
    /// @param recipient the fee recipient
    /// @param amount DATA wei
    event FeesWithdrawn(address indexed recipient, uint256 amount);

    /// @notice A consent attestor was registered.
    /// @param attestor its signing address
    event AttestorAdded(address indexed attestor);

    /// @notice A consent attestor was removed.
    /// @param attestor its signing address
    event AttestorRemoved(address indexed attestor);

    /// @notice The number of distinct attestor signatures required changed.
    /// @param threshold k
    event AttestorThresholdSet(uint256 threshold);

    /// @notice The protocol fee changed (licenses started from now on; running licenses and their
    /// extensions keep theirs).
    /// @param feeBps basis points of each purchase's escrow, at most MAX_FEE_BPS
    /// @param recipient receives accrued fees
    event ProtocolFeeSet(uint256 feeBps, address indexed recipient);

    /// @notice The delivery oracle changed (address(0): release by time alone).
    /// @param oracle the oracle
    event DeliveryOracleSet(address indexed oracle);

    /// @notice A seller declared (or withdrew) a purpose its consent-gated product is sold for.
    /// @param productId the product
    /// @param purpose keccak256(utf8(DPV purpose term))
    /// @param allowed true: purchases with an attestation for this purpose are accepted from now on;
    /// false: no longer (licenses already sold run on under their grants)
    event ProductPurposeSet(bytes32 indexed productId, bytes32 indexed purpose, bool allowed);

    /// @notice Governance swept DATA the market held beyond what it owes (sent by plain transfer).
    /// @param recipient who received it
    /// @param amount DATA wei: DATA.balanceOf(market) - totalOwed() before the sweep
    event SurplusSwept(address indexed recipient, uint256 amount);

    /// @notice A KYC provider set an address's KYC validity.
    /// @param account the address
    /// @param provider the provider
    /// @param validUntil unix seconds; verified while block.timestamp < validUntil (0 revokes)
    event KycSet(address indexed account, address indexed provider, uint64 validUntil);

    // ---------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------

    /// @notice A product with this id exists (or existed: ids are never reused).
    /// @param productId the id
    error ProductExists(bytes32 productId);
    /// @notice No product has this id.
    /// @param productId the id
    error UnknownProduct(bytes32 productId);
    /// @notice Only the product's seller may do this.
    /// @param productId the product
    /// @param caller the caller
    /// @param seller the seller
    error NotSeller(bytes32 productId, address caller, address seller);
    /// @notice A product needs 1..MAX_RESOURCES resources.
    /// @param count the number given
    error InvalidResourceCount(uint256 count);
    /// @notice A resource appears twice in a product.
    /// @param resourceId the resource
    error DuplicateResource(bytes32 resourceId);
    /// @notice The caller does not own this resource.
    /// @param resourceId the resource
    /// @param seller the caller
    /// @param owner the resource's owner in the registry (address(0) if it does not exist)
    error NotResourceOwner(bytes32 resourceId, address seller, address owner);
    /// @notice The resource's owner has not made the market a subscribe delegate.
    /// @param resourceId the resource
    error MarketNotDelegate(bytes32 resourceId);
    /// @notice minSeconds must be >= 1 and <= maxSeconds.
    /// @param minSeconds given
    /// @param maxSeconds given
    error InvalidLicenseBounds(uint256 minSeconds, uint256 maxSeconds);
    /// @notice The beneficiary must not be address(0).
    error ZeroBeneficiary();
    /// @notice The product is paused or deleted (or the operation needs a product not deleted).
    /// @param productId the product
    /// @param state its state
    error ProductNotOnSale(bytes32 productId, ProductState state);
    /// @notice A purchase buys fewer seconds than the product's minimum.
    /// @param duration seconds bought
    /// @param minSeconds the minimum
    error LicenseTooShort(uint256 duration, uint256 minSeconds);
    /// @notice After the purchase the license would run longer than the product's maximum.
    /// @param remainingSeconds end - now after the purchase
    /// @param maxSeconds the maximum
    error LicenseTooLong(uint256 remainingSeconds, uint256 maxSeconds);
    /// @notice The product's price is above the buyer's limit (front-running guard).
    /// @param pricePerSecond the current price
    /// @param maxPricePerSecond the buyer's limit
    error PriceAboveLimit(uint256 pricePerSecond, uint256 maxPricePerSecond);
    /// @notice A price must be at least 1 DATA wei per second (there are no free products: a purchase
    /// that moves no DATA would carry no authorisation of the buyer).
    /// @param productId the product (its would-be id for a listing)
    error ZeroPrice(bytes32 productId);
    /// @notice An ERC-1363 payment asked to register an encryption key for a payer other than the token's
    /// operator: a key is registered only on the address's own authorisation.
    /// @param operator who called the token
    /// @param from the payer (the licensee)
    error EncryptionKeyNotAuthorized(address operator, address from);
    /// @notice The attested purpose is not one the product is sold for.
    /// @param productId the product
    /// @param purpose the attested purpose
    error PurposeNotAllowed(bytes32 productId, bytes32 purpose);
    /// @notice A purpose list must hold 1..16 purposes, none of them zero.
    /// @param count the number given
    error InvalidPurposes(uint256 count);
    /// @notice The market holds no DATA beyond what it owes.
    error NothingToSweep();
    /// @notice The DATA token's cap does not fit the market's 128-bit count of what it owes (deployment).
    /// @param cap the token's cap, DATA wei
    error TokenCapTooLarge(uint256 cap);
    /// @notice The recipient must not be the zero address.
    error ZeroRecipient();
    /// @notice An ERC-1363 payment is not exactly the cost of the order.
    /// @param paid DATA wei received
    /// @param cost DATA wei the order costs
    error PaymentMismatch(uint256 paid, uint256 cost);
    /// @notice onTransferReceived was called by something other than the DATA token.
    /// @param caller the caller
    error OnlyDataToken(address caller);
    /// @notice The product requires a KYC-verified buyer.
    /// @param buyer the buyer
    /// @param validUntil its KYC validity (0: never verified)
    error KycRequired(address buyer, uint64 validUntil);
    /// @notice The product requires consent and no attestation was given, and the license has no
    /// current grant to extend under.
    /// @param productId the product
    /// @param buyer the buyer
    /// @param grantExpiry the license's current grant expiry (0 if none)
    error ConsentRequired(bytes32 productId, address buyer, uint64 grantExpiry);
    /// @notice The consent attestation (or the grant a license runs under) has expired.
    /// @param grantId the grant
    /// @param expiresAt its expiry
    /// @param now_ the block time
    error AttestationExpired(bytes32 grantId, uint64 expiresAt, uint256 now_);
    /// @notice The grant was already used for a purchase, or revoked (grants are single use): its expiry
    /// and id tag are the license's grant floor.
    /// @param grantId the grant
    error GrantAlreadyUsed(bytes32 grantId);
    /// @notice The attestation names another buyer.
    /// @param grantId the grant
    /// @param attestedBuyer the buyer in the attestation
    /// @param buyer the actual buyer
    error AttestationBuyerMismatch(bytes32 grantId, address attestedBuyer, address buyer);
    /// @notice The attestation names another product.
    /// @param grantId the grant
    /// @param attestedProduct the product in the attestation
    /// @param productId the product bought
    error AttestationProductMismatch(bytes32 grantId, bytes32 attestedProduct, bytes32 productId);
    /// @notice Every new grant of a license must expire later than its grant floor: every grant it was
    /// bought under and every grant revoked for it (this makes grants single use without a per-grant
    /// record).
    /// @param grantId the new grant
    /// @param expiresAt its expiry
    /// @param currentGrantExpiry the license's current grant expiry
    error GrantNotNewer(bytes32 grantId, uint64 expiresAt, uint64 currentGrantExpiry);
    /// @notice The license would outlive the consent grant it runs under.
    /// @param end the license end the purchase would give
    /// @param grantExpiry the grant's expiry
    error LicenseOutlivesConsent(uint256 end, uint64 grantExpiry);
    /// @notice Signatures must be 1..MAX_ATTESTORS concatenated 65-byte (r, s, v) signatures.
    /// @param length the byte length given
    error MalformedSignatures(uint256 length);
    /// @notice A signature does not recover (bad v, high s, or garbage).
    /// @param index its position in the concatenation
    error InvalidSignature(uint256 index);
    /// @notice A signature recovers to an address that is not a registered attestor.
    /// @param index its position
    /// @param signer the recovered address
    error NotAnAttestor(uint256 index, address signer);
    /// @notice Fewer distinct attestors signed than the threshold requires.
    /// @param distinct distinct registered attestors among the signatures
    /// @param required the threshold k (0: no attestor set configured)
    error InsufficientAttestorSignatures(uint256 distinct, uint256 required);
    /// @notice The revocation claims a withdrawal time in the future.
    /// @param revokedAt the signed time
    /// @param now_ the block time
    error RevocationInFuture(uint64 revokedAt, uint256 now_);
    /// @notice The attestation given with a revocation is for another grant.
    /// @param grantId the revoked grant
    error GrantMismatch(bytes32 grantId);
    /// @notice The license is under dispute (Disputed or RevokedInDispute: no purchase, no second flag,
    /// no release).
    /// @param productId the product
    /// @param buyer the licensee
    error LicenseDisputed(bytes32 productId, address buyer);
    /// @notice The operation needs a license valid now.
    /// @param productId the product
    /// @param buyer the address
    error NoValidLicense(bytes32 productId, address buyer);
    /// @notice The license is not under dispute (neither Disputed nor RevokedInDispute).
    /// @param productId the product
    /// @param buyer the licensee
    error NotDisputed(bytes32 productId, address buyer);
    /// @notice Nothing of this license's escrow can be released now.
    /// @param productId the product
    /// @param buyer the licensee
    error NothingToRelease(bytes32 productId, address buyer);
    /// @notice The account is owed nothing.
    /// @param account the account
    error NothingToWithdraw(address account);
    /// @notice The address is already an attestor, or is address(0).
    /// @param attestor the address
    error InvalidAttestor(address attestor);
    /// @notice The address is not a registered attestor.
    /// @param attestor the address
    error UnknownAttestor(address attestor);
    /// @notice At most MAX_ATTESTORS attestors.
    /// @param max the limit
    error TooManyAttestors(uint256 max);
    /// @notice The threshold must be 1..attestorCount (and removing an attestor must keep it so).
    /// @param threshold the threshold
    /// @param attestorCount the number of attestors
    error InvalidThreshold(uint256 threshold, uint256 attestorCount);
    /// @notice The fee is above MAX_FEE_BPS.
    /// @param feeBps given
    /// @param maxFeeBps the cap
    error FeeTooHigh(uint256 feeBps, uint256 maxFeeBps);
    /// @notice A non-zero fee needs a fee recipient.
    error ZeroFeeRecipient();
    /// @notice The arrays' lengths differ.
    /// @param length first length
    /// @param otherLength second length
    error LengthMismatch(uint256 length, uint256 otherLength);

    // ---------------------------------------------------------------------------------------------
    // Constants and wiring
    // ---------------------------------------------------------------------------------------------

    /// @notice The role that decides bad-data disputes.
    /// @return role keccak256("ARBITER_ROLE")
    function ARBITER_ROLE() external view returns (bytes32 role);

    /// @notice The role that marks addresses KYC-verified.
    /// @return role keccak256("KYC_PROVIDER_ROLE")
    function KYC_PROVIDER_ROLE() external view returns (bytes32 role);

    /// @notice The EIP-712 type hash of ConsentAttestation.
    /// @return typeHash keccak256("ConsentAttestation(bytes32 grantId,address buyer,bytes32 productId,
    /// bytes32 purpose,uint64 expiresAt)"), the type string without the line break
    function CONSENT_ATTESTATION_TYPEHASH() external view returns (bytes32 typeHash);

    /// @notice The EIP-712 type hash of ConsentRevocation.
    /// @return typeHash keccak256("ConsentRevocation(bytes32 grantId,uint64 revokedAt)")
    function CONSENT_REVOCATION_TYPEHASH() external view returns (bytes32 typeHash);

    /// @notice Most resources in one product (bounds every per-resource loop).
    /// @return max 16
    function MAX_RESOURCES() external view returns (uint256 max);

    /// @notice Most registered consent attestors.
    /// @return max 16
    function MAX_ATTESTORS() external view returns (uint256 max);

    /// @notice Cap of the protocol fee, basis points.
    /// @return max 1000 (10 %)
    function MAX_FEE_BPS() external view returns (uint256 max);

    /// @notice The DATA token, fixed at deployment.
    /// @return dataToken the token
    function token() external view returns (IDATAToken dataToken);

    /// @notice The stream registry whose subscribe permissions the market writes, fixed at deployment.
    /// @return streamRegistry the registry
    function registry() external view returns (IStreamRegistry streamRegistry);

    /// @notice The karma contract the market reports exchanges and flags to, fixed at deployment.
    /// @return karmaContract the karma contract
    function karma() external view returns (IKarma karmaContract);

    // ---------------------------------------------------------------------------------------------
    // Products
    // ---------------------------------------------------------------------------------------------

    /// @notice List a product. The caller must own every resource and have made the market a subscribe
    /// delegate of each (`IStreamRegistry.setSubscribeDelegate(id, market, true)`). Ownership is checked
    /// here only: whoever later acquires a resource ends sales of the former owner's products by revoking
    /// the market's delegation on it (purchases then revert in the registry).
    /// @param salt any value; the id is keccak256(abi.encode(msg.sender, salt)), so nobody can squat it
    /// @param params the product
    /// @return productId the new product's id
    function createProduct(bytes32 salt, ProductParams calldata params) external returns (bytes32 productId);

    /// @notice Change the price of future purchases and extensions (licenses sold keep their escrow).
    /// Seller only.
    /// @param productId the product
    /// @param pricePerSecond DATA wei per second, at least 1
    function setPrice(bytes32 productId, uint96 pricePerSecond) external;

    /// @notice Declare (allowed = true) or withdraw (false) purposes a consent-gated product is sold for;
    /// a purchase with an attestation for any other purpose reverts `PurposeNotAllowed`. A product
    /// declares none at listing, so it sells nothing under consent until its seller declares one.
    /// Withdrawing a purpose applies to new grants only: licenses sold under a grant for it run on and
    /// can be extended under that grant. Seller only; not for a deleted product.
    /// @param productId the product
    /// @param purposes 1..16 purposes, each keccak256(utf8(DPV purpose term)), non-zero
    /// @param allowed true to declare, false to withdraw
    function setPurposes(bytes32 productId, bytes32[] calldata purposes, bool allowed) external;

    /// @notice Whether a product is sold for a purpose.
    /// @param productId the product
    /// @param purpose keccak256(utf8(DPV purpose term))
    /// @return allowed whether an attestation for this purpose can buy it
    function isPurposeAllowed(bytes32 productId, bytes32 purpose) external view returns (bool allowed);

    /// @notice Change the beneficiary of all later releases. Seller only.
    /// @param productId the product
    /// @param beneficiary non-zero
    function setBeneficiary(bytes32 productId, address beneficiary) external;

    /// @notice Pause or resume sales. Seller only; not for a deleted product.
    /// @param productId the product
    /// @param paused true to pause
    function setPaused(bytes32 productId, bool paused) external;

    /// @notice Delete a product for good: no more sales; licenses sold keep running, releasing,
    /// refunding and disputable. Seller only.
    /// @param productId the product
    function deleteProduct(bytes32 productId) external;

    /// @notice The id a seller's salt gives.
    /// @param seller the seller
    /// @param salt the salt
    /// @return productId keccak256(abi.encode(seller, salt))
    function productIdOf(address seller, bytes32 salt) external pure returns (bytes32 productId);

    /// @notice A product as stored.
    /// @param productId the product
    /// @return product the record (state None if unknown)
    function getProduct(bytes32 productId) external view returns (Product memory product);

    /// @notice The resources of a product.
    /// @param productId the product
    /// @return resources the resource ids
    function productResources(bytes32 productId) external view returns (bytes32[] memory resources);

    // ---------------------------------------------------------------------------------------------
    // Licenses
    // ---------------------------------------------------------------------------------------------

    /// @notice Buy or extend a license paying with an allowance given before (approve + buy).
    /// @dev A license valid now is extended from its end; otherwise a new period starts now. Pulls
    /// exactly `quote(order.productId, order.duration)` from the caller.
    /// @param order the order
    /// @param maxPricePerSecond the highest price the caller accepts (DATA wei per second)
    /// @return cost DATA wei paid
    function buy(PurchaseOrder calldata order, uint256 maxPricePerSecond) external returns (uint256 cost);

    /// @notice Buy or extend with an EIP-2612 permit in the same transaction. A permit already used
    /// (e.g. front-run) is tolerated if the allowance suffices.
    /// @param order the order
    /// @param maxPricePerSecond the highest price the caller accepts
    /// @param permit the caller's permit for the market
    /// @return cost DATA wei paid
    function buyWithPermit(PurchaseOrder calldata order, uint256 maxPricePerSecond, Permit calldata permit)
        external
        returns (uint256 cost);

    /// @notice Extend the caller's license under its current consent grant (allowance given before);
    /// the cheap path of `buy` without attestation or key.
    /// @param productId the product
    /// @param duration license time bought, seconds
    /// @param maxPricePerSecond the highest price the caller accepts
    /// @return cost DATA wei paid
    function extend(bytes32 productId, uint32 duration, uint256 maxPricePerSecond) external returns (uint256 cost);

    /// @notice ERC-1363 payment: `DATA.transferAndCall(market, cost, abi.encode(order))` buys or extends
    /// for `from` in one transaction. The value must equal the order's cost exactly. With
    /// `transferFromAndCall` an operator spends `from`'s allowance for a license of `from`; it cannot
    /// register an encryption key for `from` (`EncryptionKeyNotAuthorized`).
    /// @param operator who called the token: must be `from` for the order's encryption key to be registered
    /// @param from the payer, who becomes the licensee
    /// @param value DATA wei received
    /// @param data abi.encode(PurchaseOrder)
    /// @return selector IERC1363Receiver.onTransferReceived.selector
    function onTransferReceived(address operator, address from, uint256 value, bytes calldata data)
        external
        returns (bytes4 selector);

    /// @notice The price of `duration` seconds of license at the product's current price, the single pricing
    /// function of every payment path.
    /// @param productId the product
    /// @param duration license time, seconds
    /// @return cost duration * pricePerSecond, DATA wei
    function quote(bytes32 productId, uint256 duration) external view returns (uint256 cost);

    /// @notice Does `account` hold a valid license for `resourceId` now? O(1): one storage read of the
    /// latest license end the market wrote for this (resource, account).
    /// @param account the address
    /// @param resourceId the resource
    /// @return licensed whether a license covers it now
    function hasValidLicense(address account, bytes32 resourceId) external view returns (bool licensed);

    /// @notice The latest end of the licenses covering (resource, account), as written to the registry.
    /// @param resourceId the resource
    /// @param account the address
    /// @return until unix seconds (0: none)
    function licensedUntil(bytes32 resourceId, address account) external view returns (uint64 until);

    /// @notice Rewrite a valid license's end into the registry and the O(1) index for each resource
    /// where it is later than what is stored (after another overlapping license was revoked). Anyone.
    /// @param productId the product
    /// @param buyer the licensee
    function restoreAccess(bytes32 productId, address buyer) external;

    /// @notice A license as stored.
    /// @param productId the product
    /// @param buyer the licensee
    /// @return license the record
    function getLicense(bytes32 productId, address buyer) external view returns (License memory license);

    // ---------------------------------------------------------------------------------------------
    // Escrow
    // ---------------------------------------------------------------------------------------------

    /// @notice Release the earned escrow of one license to its product's beneficiary (minus the fee
    /// share) and credit karma to seller and buyer. Anyone may call; O(1).
    /// @param productId the product
    /// @param buyer the licensee
    /// @return amount gross DATA wei released
    function release(bytes32 productId, address buyer) external returns (uint256 amount);

    /// @notice What `release` would release now.
    /// @param productId the product
    /// @param buyer the licensee
    /// @return amount gross DATA wei
    function releasable(bytes32 productId, address buyer) external view returns (uint256 amount);

    /// @notice The unreleased escrow of a license: rate * (end - releasedUntil).
    /// @param productId the product
    /// @param buyer the licensee
    /// @return amount DATA wei
    function escrowOf(bytes32 productId, address buyer) external view returns (uint256 amount);

    /// @notice Withdraw everything the caller is owed (released income and refunds).
    /// @return amount DATA wei sent
    function withdraw() external returns (uint256 amount);

    /// @notice Pay the accrued protocol fees to the fee recipient. Anyone.
    /// @return amount DATA wei sent
    function withdrawFees() external returns (uint256 amount);

    /// @notice What an account can withdraw now.
    /// @param account the account
    /// @return amount DATA wei
    function claimableOf(address account) external view returns (uint256 amount);

    /// @notice Protocol fees accrued and not yet paid out.
    /// @return amount DATA wei
    function accruedFees() external view returns (uint256 amount);

    /// @notice What the market owes: the sum of every license's escrow, every claimable balance and the
    /// accrued fees. The market's DATA balance is never below it.
    /// @return amount DATA wei
    function totalOwed() external view returns (uint256 amount);

    /// @notice Pay DATA the market holds beyond `totalOwed()` (sent to it by plain transfer, which buys
    /// nothing) to `recipient`: exactly the surplus, never a wei of escrow, income, refunds or fees.
    /// Governance only.
    /// @param recipient receives the surplus (non-zero)
    /// @return amount DATA wei sent
    function sweepSurplus(address recipient) external returns (uint256 amount);

    // ---------------------------------------------------------------------------------------------
    // Consent
    // ---------------------------------------------------------------------------------------------

    /// @notice Relay a k-of-n signed consent revocation. Anyone; idempotent. If the grant's expiry is at
    /// or after the license's grant floor (the grant the license runs under now, or a newer consent),
    /// the license (buyer, product) ends at once: escrow earned before max(revokedAt, releasedUntil) is
    /// released, the rest refunded, the subscribe permissions removed; and the floor rises to the
    /// grant's expiry, so neither it nor any older grant can ever be used. A revocation of a grant older
    /// than the floor changes nothing (that grant is unusable already).
    /// @param revocation the signed revocation
    /// @param signatures k attestor signatures of the revocation's EIP-712 digest
    /// @param attestation the grant's attestation (locates the license: buyer, product, expiry)
    /// @param attestationSignatures k attestor signatures of the attestation (proves it)
    function revokeConsent(
        ConsentRevocation calldata revocation,
        bytes calldata signatures,
        ConsentAttestation calldata attestation,
        bytes calldata attestationSignatures
    ) external;

    /// @notice The EIP-712 digest attestors sign for an attestation.
    /// @param attestation the attestation
    /// @return digest keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)
    function consentAttestationDigest(ConsentAttestation calldata attestation) external view returns (bytes32 digest);

    /// @notice The EIP-712 digest attestors sign for a revocation.
    /// @param revocation the revocation
    /// @return digest keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)
    function consentRevocationDigest(ConsentRevocation calldata revocation) external view returns (bytes32 digest);

    /// @notice The EIP-712 domain separator (name "DataLicenseMarket", version "1", chainId, this).
    /// @return separator the domain separator
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator);

    /// @notice Register a consent attestor. Governance only.
    /// @param attestor its signing address
    function addAttestor(address attestor) external;

    /// @notice Remove a consent attestor (the threshold must stay <= the count). Governance only.
    /// @param attestor its signing address
    function removeAttestor(address attestor) external;

    /// @notice Set k, the distinct attestor signatures required. Governance only.
    /// @param threshold 1..attestorCount
    function setAttestorThreshold(uint256 threshold) external;

    /// @notice The registered attestors.
    /// @return list their addresses
    function attestors() external view returns (address[] memory list);

    /// @notice k, the distinct attestor signatures required (0 until configured).
    /// @return threshold k
    function attestorThreshold() external view returns (uint256 threshold);

    // ---------------------------------------------------------------------------------------------
    // Flags and disputes
    // ---------------------------------------------------------------------------------------------

    /// @notice Flag the data of a product whose license the caller holds now. Freezes the license's
    /// escrow release until the arbiter decides; counts against the seller's reputation.
    /// @param productId the product
    /// @param evidenceHash hash of the evidence kept off chain
    function flagBadData(bytes32 productId, bytes32 evidenceHash) external;

    /// @notice Decide a dispute. ARBITER_ROLE only. Upheld: the escrow unreleased since the flag is
    /// refunded, the license ended, the subscribe permissions removed and the seller's karma cut.
    /// Rejected: the license goes on and release resumes (catching up).
    /// @param productId the product
    /// @param buyer the licensee
    /// @param upheld true to uphold the flag
    function resolveDispute(bytes32 productId, address buyer, bool upheld) external;

    // ---------------------------------------------------------------------------------------------
    // KYC and governance
    // ---------------------------------------------------------------------------------------------

    /// @notice Mark an address KYC-verified until a time (0 revokes). KYC_PROVIDER_ROLE only. Only the
    /// validity is stored, never personal data.
    /// @param account the address
    /// @param validUntil unix seconds
    function setKyc(address account, uint64 validUntil) external;

    /// @notice Until when an address is KYC-verified.
    /// @param account the address
    /// @return validUntil unix seconds (verified while block.timestamp < validUntil)
    function kycValidUntil(address account) external view returns (uint64 validUntil);

    /// @notice Set the protocol fee of licenses started from now on (a running license and its extensions
    /// keep the fee it started with, so sold escrow is never re-priced). Governance only.
    /// @param feeBps basis points, at most MAX_FEE_BPS (0 = off, the default)
    /// @param recipient receives fees (non-zero if feeBps > 0)
    function setProtocolFee(uint256 feeBps, address recipient) external;

    /// @notice The protocol fee of new purchases and its recipient.
    /// @return feeBps basis points
    /// @return recipient the fee recipient
    function protocolFee() external view returns (uint256 feeBps, address recipient);

    /// @notice Set the delivery oracle (address(0): release by time alone). Governance only.
    /// @param oracle an IDeliveryOracle
    function setDeliveryOracle(address oracle) external;

    /// @notice The delivery oracle (address(0) if none).
    /// @return oracle the oracle
    function deliveryOracle() external view returns (address oracle);
}
