// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IFinancingDesk} from "./interfaces/IFinancingDesk.sol";
import {IFinancingPolicy} from "./interfaces/IFinancingPolicy.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {ISettlementVault} from "./interfaces/ISettlementVault.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Finances receivable claims on terms one party signs and the other executes.
 *
 * Discounting is delivery versus payment in one transaction: the lender's settlement tokens go to
 * the holder and the claim's value to the lender, or neither. A pledge encumbers the value on the
 * token (it cannot move) until the loan is repaid, or the lender seizes it after maturity. Banks
 * that settle in fiat record their payment reference instead of paying in tokens, with the
 * holder's signed consent. Value once sold or encumbered is gone from the holder's free value,
 * so the same value can never be financed twice.
 *
 * The desk needs SYSTEM_ROLE (to encumber and seize) and, for discounting, the holder's approval
 * on the token; lenders approve the desk for their settlement tokens.
 */
contract FinancingDesk is IFinancingDesk, Context, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant OFFER_TYPEHASH = keccak256(
        "Offer(address lender,address holder,uint256 tokenId,uint256 slot,uint256 value,uint8 kind,uint8 settlement,"
        "uint32 rateBps,uint32 penaltyBps,uint256 fixedPrice,uint256 fee,bool recourse,uint64 expiry,uint256 nonce)"
    );
    uint256 private constant BPS_YEAR = 10_000 * 365 days;
    /// @dev Terms of a recourse payable: due 30 days after exercise, overdue 7 and defaulted 60 days later.
    uint40 public constant RECOURSE_TERM = 30 days;
    uint32 public constant RECOURSE_GRACE = 7 days;
    uint32 public constant RECOURSE_DEFAULT = 60 days;

    IParticipants private immutable _participants;
    IReceivableToken private immutable _token;
    ISettlementVault private immutable _vault;

    uint256 private _lastFinancingId;
    mapping(address signer => mapping(uint256 nonce => bool)) private _usedNonces;
    mapping(address lender => IFinancingPolicy) private _policies;
    mapping(uint256 loanId => Loan) private _loans;
    mapping(uint256 financingId => RecourseRight) private _recourse;

    constructor(IParticipants participants_, IReceivableToken token_, ISettlementVault vault_)
        EIP712("scf-ledger FinancingDesk", "1")
    {
        _participants = participants_;
        _token = token_;
        _vault = vault_;
    }

    // ------------------------------------------------------------------ views

    function hashOffer(Offer calldata offer) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(OFFER_TYPEHASH, offer)));
    }

    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function isNonceUsed(address signer, uint256 nonce) external view returns (bool) {
        return _usedNonces[signer][nonce];
    }

    function policyOf(address lender) external view returns (IFinancingPolicy) {
        return _policies[lender];
    }

    function loan(uint256 loanId) external view returns (Loan memory) {
        return _loans[loanId];
    }

    function recourseOf(uint256 financingId) external view returns (RecourseRight memory) {
        return _recourse[financingId];
    }

    /// @dev What a discount of `value` pays at `rateBps` a year for the `secondsToMaturity` left.
    function discountPrice(uint256 value, uint32 rateBps, uint256 secondsToMaturity) public pure returns (uint256) {
        uint256 discount = value * rateBps * secondsToMaturity / BPS_YEAR; // rounded down: lender's disfavour
        return discount >= value ? 0 : value - discount;
    }

    /// @dev Principal plus interest due on `loanId` now (interest rounded down).
    function amountDue(uint256 loanId) public view returns (uint256 principal, uint256 interest) {
        Loan memory l = _loans[loanId];
        principal = l.principal;
        uint256 elapsed = block.timestamp - l.start;
        interest = l.principal * l.rateBps * elapsed / BPS_YEAR;
        if (block.timestamp > l.maturity) {
            interest += l.principal * l.penaltyBps * (block.timestamp - l.maturity) / BPS_YEAR;
        }
    }

    // ------------------------------------------------------------- financing

    /**
     * @dev The caller, holder of `tokenId`, takes terms the lender signed; settles in tokens.
     *
     * Requirements: the offer is unexpired, its nonce unused, signed by the lender (EOA or
     * ERC-1271), for the caller (or any holder) and for `tokenId` (or its slot); the lender is a
     * current LENDER and its policy, if any, allows it; for a discount the caller approved the desk
     * on the token and the lender approved the desk for the price.
     *
     * Emits {Financed}.
     */
    function takeOffer(Offer calldata offer, uint256 tokenId, bytes calldata lenderSignature)
        external
        nonReentrant
        returns (uint256 financingId)
    {
        address holder = _msgSender();
        if (offer.holder != address(0) && offer.holder != holder) revert FinancingUnauthorizedCaller(holder);
        if (offer.settlement != Settlement.Token) revert FinancingInvalidTerms("settlement");
        _useSignedTerms(offer.lender, offer, lenderSignature);
        return _finance(offer, tokenId, holder, bytes32(0));
    }

    /**
     * @dev The caller, the lender named in the terms, executes terms the holder signed. With
     * bank-attested settlement the lender records `bankReference` (a hash of its bank's payment
     * reference) instead of paying in tokens.
     *
     * Requirements: as {takeOffer}, with the holder's signature; `bankReference` is non-zero exactly
     * when the settlement is bank-attested.
     *
     * Emits {Financed}.
     */
    function executeRequest(Offer calldata offer, uint256 tokenId, bytes calldata holderSignature, bytes32 bankReference)
        external
        nonReentrant
        returns (uint256 financingId)
    {
        if (_msgSender() != offer.lender) revert FinancingUnauthorizedCaller(_msgSender());
        if (offer.holder == address(0)) revert FinancingInvalidTerms("holder");
        if ((offer.settlement == Settlement.BankAttested) != (bankReference != bytes32(0))) {
            revert FinancingInvalidTerms("bankReference");
        }
        _useSignedTerms(offer.holder, offer, holderSignature);
        return _finance(offer, tokenId, offer.holder, bankReference);
    }

    /**
     * @dev Cancels the caller's signed terms with `nonce`. Emits {NonceCancelled}.
     *
     * Requirements: the nonce is unused.
     */
    function cancelNonce(uint256 nonce) external {
        if (_usedNonces[_msgSender()][nonce]) revert FinancingNonceUsed(_msgSender(), nonce);
        _usedNonces[_msgSender()][nonce] = true;
        emit NonceCancelled(_msgSender(), nonce);
    }

    /**
     * @dev Sets the caller's financing policy (zero address: none). Emits {PolicySet}.
     *
     * Requirements: the caller is a current LENDER.
     */
    function setPolicy(IFinancingPolicy policy) external {
        if (!_participants.isActive(_msgSender(), Roles.LENDER)) {
            revert FinancingUnauthorizedAccount(_msgSender(), Roles.LENDER);
        }
        _policies[_msgSender()] = policy;
        emit PolicySet(_msgSender(), address(policy));
    }

    // ------------------------------------------------------------------ loans

    /**
     * @dev Repays pledge loan `loanId` in settlement tokens (principal plus interest to now) and
     * releases the pledged value. Anyone may pay; repaying stays open whatever the membership.
     *
     * Requirements: the loan is active; the caller approved the desk for the amount due.
     *
     * Emits {LoanRepaid}.
     */
    function repay(uint256 loanId) external nonReentrant {
        Loan storage l = _activeLoan(loanId);
        (uint256 principal, uint256 interest) = amountDue(loanId);
        l.status = LoanStatus.Repaid;
        _token.release(l.tokenId, l.value);
        emit LoanRepaid(loanId, _msgSender(), principal, interest);
        _asset(l.tokenId).safeTransferFrom(_msgSender(), l.lender, principal + interest);
    }

    /**
     * @dev The lender records that loan `loanId` was repaid off-chain and releases the pledge.
     *
     * Requirements: the caller is the loan's lender; the loan is active.
     *
     * Emits {LoanRepaid}.
     */
    function attestRepayment(uint256 loanId) external {
        Loan storage l = _activeLoan(loanId);
        if (_msgSender() != l.lender) revert FinancingUnauthorizedCaller(_msgSender());
        (uint256 principal, uint256 interest) = amountDue(loanId);
        l.status = LoanStatus.Repaid;
        _token.release(l.tokenId, l.value);
        emit LoanRepaid(loanId, _msgSender(), principal, interest);
    }

    /**
     * @dev The lender takes the pledged value of an unpaid loan after its maturity, as a new token.
     *
     * Requirements: the caller is the loan's lender; the loan is active and matured.
     *
     * Emits {LoanSeized}.
     */
    function seize(uint256 loanId) external nonReentrant returns (uint256 lenderTokenId) {
        Loan storage l = _activeLoan(loanId);
        if (_msgSender() != l.lender) revert FinancingUnauthorizedCaller(_msgSender());
        if (block.timestamp < l.maturity) revert FinancingNotDue(loanId, l.maturity);
        l.status = LoanStatus.Seized;
        lenderTokenId = _token.seize(l.tokenId, l.value, l.lender);
        emit LoanSeized(loanId, l.lender, lenderTokenId, l.value);
    }

    // --------------------------------------------------------------- recourse

    /**
     * @dev The lender of a discount sold with recourse, whose payable defaulted, hands the claim
     * back to the seller and receives a recourse payable on the seller for what the vault has not
     * paid on it (its value less what was already paid to that token). The seller settles it
     * through the vault like any payable; it also collects whatever the defaulted debtor pays later.
     *
     * Requirements: the financing was a discount with recourse not yet exercised; the caller is its
     * lender and still holds the claim token with exactly the value sold (nothing merged in or split
     * off, so the seller never answers for more than it sold); the vault marked the payable defaulted.
     *
     * Emits {RecourseExercised}, and the token's events for the hand-back and the new payable.
     */
    function exerciseRecourse(uint256 financingId)
        external
        nonReentrant
        returns (uint256 recourseSlot, uint256 recourseTokenId)
    {
        RecourseRight memory right = _recourse[financingId];
        if (right.lender == address(0)) revert FinancingNoRecourse(financingId);
        if (_msgSender() != right.lender) revert FinancingUnauthorizedCaller(_msgSender());
        if (
            _token.ownerOf(right.lenderTokenId) != right.lender
                || _token.balanceOf(right.lenderTokenId) != right.value
        ) revert FinancingTokenMismatch(right.lenderTokenId);
        uint256 slot = _token.slotOf(right.lenderTokenId);
        if (_vault.statusOf(slot) != ISettlementVault.Status.Defaulted) revert FinancingNotDefaulted(slot);
        delete _recourse[financingId];
        uint256 unpaid = right.value - _vault.paidToToken(right.lenderTokenId);
        _token.reassign(right.lenderTokenId, right.seller);
        (recourseSlot, recourseTokenId) = _token.issueRecourse(
            right.seller,
            right.lender,
            _token.slotData(slot).asset,
            unpaid,
            uint40(block.timestamp) + RECOURSE_TERM,
            RECOURSE_GRACE,
            RECOURSE_DEFAULT
        );
        emit RecourseExercised(
            financingId, right.lender, right.seller, right.lenderTokenId, recourseSlot, recourseTokenId, unpaid
        );
    }

    // ------------------------------------------------------------- internals

    function _useSignedTerms(address signer, Offer calldata offer, bytes calldata signature) private {
        if (block.timestamp > offer.expiry) revert FinancingOfferExpired(offer.expiry);
        if (_usedNonces[signer][offer.nonce]) revert FinancingNonceUsed(signer, offer.nonce);
        if (!SignatureChecker.isValidSignatureNow(signer, hashOffer(offer), signature)) {
            revert FinancingInvalidSignature(signer);
        }
        _usedNonces[signer][offer.nonce] = true;
    }

    function _finance(Offer calldata offer, uint256 tokenId, address holder, bytes32 bankReference)
        private
        returns (uint256 financingId)
    {
        (uint256 price, uint40 maturity) = _checkTerms(offer, tokenId, holder);
        financingId = ++_lastFinancingId;
        uint256 lenderTokenId;
        if (offer.kind == Kind.Discount) {
            lenderTokenId = _token.transferFrom(tokenId, offer.lender, offer.value);
            if (offer.recourse) {
                _recourse[financingId] = RecourseRight(offer.lender, holder, lenderTokenId, offer.value);
            }
        } else {
            _openLoan(financingId, offer, holder, tokenId, price, maturity);
        }
        _emitFinanced(financingId, offer, holder, tokenId, lenderTokenId, price, bankReference);
        if (offer.settlement == Settlement.Token && price > offer.fee) {
            _asset(tokenId).safeTransferFrom(offer.lender, holder, price - offer.fee);
        }
    }

    /// @dev Checks parties, token, price and the lender's policy; returns the price and maturity.
    function _checkTerms(Offer calldata offer, uint256 tokenId, address holder)
        private
        returns (uint256 price, uint40 maturity)
    {
        if (!_participants.isActive(offer.lender, Roles.LENDER)) {
            revert FinancingUnauthorizedAccount(offer.lender, Roles.LENDER);
        }
        if (_token.ownerOf(tokenId) != holder) revert FinancingTokenMismatch(tokenId);
        uint256 slot = _token.slotOf(tokenId);
        if (offer.tokenId != 0 ? offer.tokenId != tokenId : offer.slot != slot) revert FinancingTokenMismatch(tokenId);
        if (offer.value == 0 || offer.value > type(uint128).max) revert FinancingInvalidTerms("value");
        maturity = _token.slotData(slot).maturity;
        price = _price(offer, maturity);
        if (offer.fee > price || price > type(uint128).max) revert FinancingInvalidTerms("fee");
        IFinancingPolicy policy = _policies[offer.lender];
        if (address(policy) != address(0) && !policy.check(offer.lender, holder, tokenId, offer.value)) {
            revert FinancingPolicyRejected(address(policy));
        }
    }

    function _openLoan(
        uint256 loanId,
        Offer calldata offer,
        address holder,
        uint256 tokenId,
        uint256 principal,
        uint40 maturity
    ) private {
        _token.encumber(tokenId, offer.value);
        Loan storage l = _loans[loanId];
        l.lender = offer.lender;
        l.borrower = holder;
        l.tokenId = tokenId;
        l.value = uint128(offer.value);
        l.principal = uint128(principal);
        l.rateBps = offer.rateBps;
        l.penaltyBps = offer.penaltyBps;
        l.start = uint40(block.timestamp);
        l.maturity = maturity;
        l.recourse = offer.recourse;
        l.status = LoanStatus.Active;
    }

    function _emitFinanced(
        uint256 financingId,
        Offer calldata offer,
        address holder,
        uint256 tokenId,
        uint256 lenderTokenId,
        uint256 price,
        bytes32 bankReference
    ) private {
        FinancingTerms memory terms = FinancingTerms({
            value: offer.value,
            price: price,
            fee: offer.fee,
            kind: offer.kind,
            settlement: offer.settlement,
            recourse: offer.recourse,
            bankReference: bankReference
        });
        emit Financed(financingId, offer.lender, holder, tokenId, lenderTokenId, terms);
    }

    function _price(Offer calldata offer, uint40 maturity) private view returns (uint256) {
        if (offer.fixedPrice != 0) return offer.fixedPrice;
        if (offer.kind == Kind.Pledge) revert FinancingInvalidTerms("principal");
        uint256 remaining = maturity > block.timestamp ? maturity - block.timestamp : 0;
        return discountPrice(offer.value, offer.rateBps, remaining);
    }

    function _activeLoan(uint256 loanId) private view returns (Loan storage l) {
        l = _loans[loanId];
        if (l.status != LoanStatus.Active) revert FinancingInvalidLoanStatus(loanId, l.status);
    }

    function _asset(uint256 tokenId) private view returns (IERC20) {
        return IERC20(_token.slotData(_token.slotOf(tokenId)).asset);
    }
}
