// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Financing of receivable claims: discounting (true sale, delivery versus payment) and
 * pledges (value locked against a loan), on terms one party signs (EIP-712) and the other executes.
 */
interface IFinancingDesk {
    enum Kind {
        Discount,
        Pledge
    }

    enum Settlement {
        Token, // the lender pays in the slot's settlement token, atomically
        BankAttested // the lender paid off-chain through a bank and records the reference
    }

    enum LoanStatus {
        None,
        Active,
        Repaid,
        Seized
    }

    /**
     * @dev Signed terms. `holder` zero: any holder of `tokenId` (or of any token of `slot` when
     * `tokenId` is zero) may take a lender's offer. Discount price: `fixedPrice` when non-zero,
     * else `value - value * rateBps * (maturity - now) / (10_000 * 365 days)` (ACT/365, discount
     * rounded down, so the lender pays at most one unit more than exact). Pledge: the lender lends
     * `fixedPrice` against `value`, at `rateBps` a year plus `penaltyBps` after maturity.
     */
    struct Offer {
        address lender;
        address holder;
        uint256 tokenId;
        uint256 slot;
        uint256 value;
        Kind kind;
        Settlement settlement;
        uint32 rateBps;
        uint32 penaltyBps;
        uint256 fixedPrice;
        uint256 fee;
        bool recourse;
        uint64 expiry;
        uint256 nonce;
    }

    /// @dev A pledge loan, packed in four storage words.
    /// @dev Kept for discounts sold with recourse, until exercised.
    struct RecourseRight {
        address lender;
        address seller;
        uint256 lenderTokenId;
        uint256 value; // what was sold with recourse; the lender token must still hold exactly this
    }

    struct Loan {
        address lender;
        uint32 rateBps;
        uint32 penaltyBps;
        bool recourse;
        LoanStatus status;
        address borrower;
        uint40 start;
        uint40 maturity;
        uint256 tokenId;
        uint128 value;
        uint128 principal;
    }

    /// @dev The offer expired at `expiry`.
    error FinancingOfferExpired(uint64 expiry);
    /// @dev `signer`'s nonce `nonce` was used or cancelled already.
    error FinancingNonceUsed(address signer, uint256 nonce);
    /// @dev The signature is not `signer`'s.
    error FinancingInvalidSignature(address signer);
    /// @dev `caller` is not a party that may execute these terms.
    error FinancingUnauthorizedCaller(address caller);
    /// @dev `account` lacks `role` (a current membership with it).
    error FinancingUnauthorizedAccount(address account, bytes32 role);
    /// @dev Token `tokenId` is not covered by the offer.
    error FinancingTokenMismatch(uint256 tokenId);
    /// @dev The terms are inconsistent; `reason` names which.
    error FinancingInvalidTerms(bytes32 reason);
    /// @dev The lender's policy `policy` refused the financing.
    error FinancingPolicyRejected(address policy);
    /// @dev Loan `loanId` is in `status`, which does not allow the action.
    error FinancingInvalidLoanStatus(uint256 loanId, LoanStatus status);
    /// @dev Financing `financingId` carries no (or no more) recourse right.
    error FinancingNoRecourse(uint256 financingId);
    /// @dev The payable of `slot` is not marked defaulted in the settlement vault.
    error FinancingNotDefaulted(uint256 slot);
    /// @dev Loan `loanId` cannot be seized before `maturity`.
    error FinancingNotDue(uint256 loanId, uint40 maturity);

    /// @dev What a financing agreed, as carried by {Financed}.
    struct FinancingTerms {
        uint256 value;
        uint256 price;
        uint256 fee;
        Kind kind;
        Settlement settlement;
        bool recourse;
        bytes32 bankReference;
    }

    /// @dev `terms.value` of `tokenId` was financed: sold to the lender as `lenderTokenId`
    /// (discount) or pledged under loan `financingId`.
    event Financed(
        uint256 indexed financingId,
        address indexed lender,
        address indexed holder,
        uint256 tokenId,
        uint256 lenderTokenId,
        FinancingTerms terms
    );
    event LoanRepaid(uint256 indexed loanId, address indexed payer, uint256 principal, uint256 interest);
    event LoanSeized(uint256 indexed loanId, address indexed lender, uint256 lenderTokenId, uint256 value);
    /// @dev The lender of discount `financingId` handed the defaulted claim `lenderTokenId` back to
    /// `seller`, who now owes it `unpaid` under recourse payable `recourseSlot` (token `recourseTokenId`).
    event RecourseExercised(
        uint256 indexed financingId,
        address indexed lender,
        address indexed seller,
        uint256 lenderTokenId,
        uint256 recourseSlot,
        uint256 recourseTokenId,
        uint256 unpaid
    );
    event NonceCancelled(address indexed signer, uint256 nonce);
    event PolicySet(address indexed lender, address policy);
}
