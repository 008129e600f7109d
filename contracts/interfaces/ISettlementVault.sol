// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Settlement of receivable claims: debtors pay a slot's settlement asset into the vault,
 * holders of the slot's tokens redeem their pro-rata share after maturity, and a payable that
 * stays unpaid becomes overdue and then defaulted by the passing of time alone.
 *
 * Every amount is in the slot's settlement asset, whose decimals equal the token's value decimals,
 * so one unit of token value is owed one unit of the asset.
 */
interface ISettlementVault {
    /// @dev Where a payable stands. `Paid` (everything deposited) takes precedence over the marks.
    enum Status {
        Current,
        Overdue,
        Defaulted,
        Paid
    }

    /// @dev `amount` is zero.
    error SettlementZeroAmount();
    /// @dev No payable was issued as `slot`.
    error SettlementUnknownSlot(uint256 slot);
    /// @dev Only `outstanding` of `slot` is still unpaid; `amount` was offered.
    error SettlementExceedsOutstanding(uint256 slot, uint256 outstanding, uint256 amount);
    /// @dev The vault received `received` of `asset` where `expected` was sent (fee-on-transfer assets are refused).
    error SettlementTransferMismatch(address asset, uint256 expected, uint256 received);
    /// @dev The payable of `slot` matures at `maturity`; its claims cannot be redeemed before.
    error SettlementNotMatured(uint256 slot, uint256 maturity);
    /// @dev Token `tokenId` has nothing due now (nothing deposited since its last redemption).
    error SettlementNothingDue(uint256 tokenId);
    /// @dev `frozen` and `encumbered` value of `tokenId` must be released or seized first.
    error SettlementValueLocked(uint256 tokenId, uint256 frozen, uint256 encumbered);
    /// @dev Token `tokenId` was never accepted by its first holder.
    error SettlementNotAccepted(uint256 tokenId);
    /// @dev The receivable token is paused; claims are neither redeemed nor written off.
    error SettlementPaused();
    /// @dev `caller` is not the holder of `tokenId`.
    error SettlementUnauthorizedHolder(address caller, uint256 tokenId);
    /// @dev `slot` is in `status`, which does not allow the action.
    error SettlementInvalidStatus(uint256 slot, Status status);
    /// @dev The transition of `slot` is possible from `allowedAt` on.
    error SettlementTooEarly(uint256 slot, uint256 allowedAt);

    /// @dev `payer` paid `amount` toward `slot`, which has `cumulativePaid` paid in total.
    event Deposited(uint256 indexed slot, address indexed payer, uint256 amount, uint256 cumulativePaid);
    /// @dev `holder` of `tokenId` (of `slot`) was paid `paid`; the token was paid `totalPaidToToken` in total.
    event Redeemed(
        uint256 indexed tokenId, uint256 indexed slot, address indexed holder, uint256 paid, uint256 totalPaidToToken
    );
    /// @dev `holder` wrote off `unpaidValue` of `tokenId` (of `slot`); the token was burned.
    event WrittenOff(uint256 indexed tokenId, uint256 indexed slot, address indexed holder, uint256 unpaidValue);
    /// @dev `slot` was marked overdue with `outstanding` unpaid.
    event SlotOverdue(uint256 indexed slot, uint256 outstanding);
    /// @dev `slot` was marked defaulted with `outstanding` unpaid.
    event SlotDefaulted(uint256 indexed slot, uint256 outstanding);

    /// @dev Amount paid toward `slot` so far (at most its face value).
    function cumulativePaid(uint256 slot) external view returns (uint256);

    /// @dev Amount paid out to the holders of `slot`'s tokens so far (at most {cumulativePaid}).
    function paidOut(uint256 slot) external view returns (uint256);

    /// @dev Token value of `slot` written off by holders after default.
    function writtenOff(uint256 slot) external view returns (uint256);

    /// @dev Amount paid to the holders of `tokenId` so far.
    function paidToToken(uint256 tokenId) external view returns (uint256);

    /// @dev Face value of `slot` not paid yet (zero for an unknown slot).
    function outstanding(uint256 slot) external view returns (uint256);

    /// @dev What {redeem} would pay for `tokenId` now: zero where it would refuse.
    function redeemable(uint256 tokenId) external view returns (uint256);

    /// @dev Status of `slot`.
    function statusOf(uint256 slot) external view returns (Status);

    function deposit(uint256 slot, uint256 amount) external;

    function redeem(uint256 tokenId) external returns (uint256 paid);

    function writeOff(uint256 tokenId) external returns (uint256 unpaidValue);

    function markOverdue(uint256 slot) external;

    function markDefaulted(uint256 slot) external;

    function settleInvoices(uint256 slot, bytes32[] calldata fingerprints) external;
}
