// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {IReceivableToken} from "./interfaces/IReceivableToken.sol";
import {ISettlementVault} from "./interfaces/ISettlementVault.sol";

/**
 * @dev Settles the payables of a {ReceivableToken}. It needs SYSTEM_ROLE in {Participants} to burn
 * settled claims and to mark invoices settled.
 *
 * Anyone (normally the debtor) pays a slot's settlement asset in, in any number of parts, up to
 * its face value. After maturity anyone may redeem a token; its current holder is paid
 *
 *     floor(value * cumulativePaid / faceValue) - paidToToken
 *
 * so a token is paid pro rata to what its slot has received, whatever the order of redemptions
 * and without iterating over holders. Redeeming at 50% and again at 100% pays exactly what one
 * redemption at 100% pays, and the payouts of a slot never exceed its deposits (the sum of floors
 * is at most the floor of the sum, and the tokens' values add up to at most the face value).
 *
 * Why `paidToToken` stays consistent: a token's value cannot change after maturity, since holder
 * moves are refused from maturity on and nothing is encumbered after it. The one exception, a
 * SYSTEM seize, takes encumbered value only; redemption refuses tokens with frozen or encumbered
 * value, so once a token was first redeemed (all locks gone, after maturity) its value is final.
 *
 * Once everything is deposited the final redemption of a token burns it through
 * {IReceivableToken-burnSettled}. A slot that stays unpaid becomes overdue after its grace period
 * and defaulted after its default period, each marked once by anyone and only by the passing of
 * time; after default a holder may write off the unpaid rest of its token, which burns it.
 *
 * Every state-changing entry point is `nonReentrant`, updates state before calling out, and calls
 * the (possibly hostile) settlement asset last.
 */
contract SettlementVault is ISettlementVault, Context, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev The settlement state of a slot, in one storage word.
    struct SlotAccount {
        uint96 cumulativePaid; // at most the face value, which the token caps at 2^96 - 1
        uint96 paidOut; // at most cumulativePaid
        Status marked; // Current, Overdue or Defaulted: what time has allowed to be marked
    }

    /// @dev What the token says about a claim.
    struct Claim {
        uint256 slot;
        address holder;
        address asset;
        uint256 maturity;
        uint256 face;
        uint256 value;
    }

    IParticipants private immutable _participants;
    IReceivableToken private immutable _token;
    IInvoiceRegistry private immutable _registry;

    mapping(uint256 slot => SlotAccount) private _accounts;
    mapping(uint256 slot => uint256) private _writtenOff;
    mapping(uint256 tokenId => uint256) private _paidToToken;

    constructor(IParticipants participants_, IReceivableToken token_, IInvoiceRegistry registry_) {
        _participants = participants_;
        _token = token_;
        _registry = registry_;
    }

    // ------------------------------------------------------------------ views

    function participants() external view returns (IParticipants) {
        return _participants;
    }

    function receivableToken() external view returns (IReceivableToken) {
        return _token;
    }

    function registry() external view returns (IInvoiceRegistry) {
        return _registry;
    }

    /// @inheritdoc ISettlementVault
    function cumulativePaid(uint256 slot) external view returns (uint256) {
        return _accounts[slot].cumulativePaid;
    }

    /// @inheritdoc ISettlementVault
    function paidOut(uint256 slot) external view returns (uint256) {
        return _accounts[slot].paidOut;
    }

    /// @inheritdoc ISettlementVault
    function writtenOff(uint256 slot) external view returns (uint256) {
        return _writtenOff[slot];
    }

    /**
     * @dev Amount paid to the holders of `tokenId` so far. The record is deleted when the token
     * is burned (fully paid or written off); the {Redeemed} events keep the history.
     */
    function paidToToken(uint256 tokenId) external view returns (uint256) {
        return _paidToToken[tokenId];
    }

    /// @inheritdoc ISettlementVault
    function outstanding(uint256 slot) external view returns (uint256) {
        return _token.slotData(slot).faceValue - _accounts[slot].cumulativePaid;
    }

    /**
     * @dev What {redeem} would pay for `tokenId` now: zero before maturity, while the receivable
     * token is paused, or when the token is unaccepted or holds frozen or encumbered value. Reverts for a nonexistent token.
     */
    function redeemable(uint256 tokenId) external view returns (uint256) {
        Claim memory claim = _claim(tokenId);
        if (block.timestamp < claim.maturity || !_isFree(tokenId)) return 0;
        return _entitlement(claim, _accounts[claim.slot].cumulativePaid) - _paidToToken[tokenId];
    }

    /**
     * @dev Status of `slot`: Paid once its face value is deposited, else the last mark time
     * allowed ({markOverdue}, {markDefaulted}), else Current.
     *
     * Requirements: `slot` exists.
     */
    function statusOf(uint256 slot) external view returns (Status) {
        (IReceivableToken.SlotData memory data, SlotAccount memory account) = _known(slot);
        return _status(account, data.faceValue);
    }

    // --------------------------------------------------------------- payments

    /**
     * @dev The caller pays `amount` of the slot's settlement asset toward `slot`, before or after
     * maturity, in as many parts as it likes. The caller must have approved the vault for `amount`.
     *
     * Requirements:
     * - `amount` is non-zero and `slot` exists;
     * - `amount` is at most the slot's {outstanding} value;
     * - the vault receives exactly `amount` (fee-on-transfer or rebasing assets are refused).
     *
     * Emits {Deposited}.
     */
    function deposit(uint256 slot, uint256 amount) external nonReentrant {
        if (amount == 0) revert SettlementZeroAmount();
        IReceivableToken.SlotData memory data = _token.slotData(slot);
        if (data.faceValue == 0) revert SettlementUnknownSlot(slot);
        SlotAccount storage account = _accounts[slot];
        uint256 paid = account.cumulativePaid;
        uint256 open = data.faceValue - paid;
        if (amount > open) revert SettlementExceedsOutstanding(slot, open, amount);
        paid += amount;
        account.cumulativePaid = uint96(paid); // paid <= faceValue < 2^96
        emit Deposited(slot, _msgSender(), amount, paid);

        IERC20 asset = IERC20(data.asset);
        uint256 balanceBefore = asset.balanceOf(address(this));
        asset.safeTransferFrom(_msgSender(), address(this), amount);
        uint256 balanceAfter = asset.balanceOf(address(this));
        if (balanceAfter != balanceBefore + amount) {
            revert SettlementTransferMismatch(
                address(asset), amount, balanceAfter > balanceBefore ? balanceAfter - balanceBefore : 0
            );
        }
    }

    /**
     * @dev Pays the current holder of `tokenId` what is due on it: its pro-rata share of what its
     * slot has received, less what the token was paid before. Anyone may call. When the slot is
     * fully paid this is the token's final payment and the token is burned
     * ({IReceivableToken-burnSettled}); a token of zero value is then burned with nothing paid.
     *
     * The token's value is final once this succeeds the first time (see the contract notes), so
     * repeated redemptions never pay more than `value * cumulativePaid / faceValue` in total.
     *
     * Requirements:
     * - `tokenId` exists and its slot has matured;
     * - the receivable token is not paused; the token was accepted and holds no frozen or
     *   encumbered value (the financing desk releases or seizes encumbered value first);
     * - something is due, unless the slot is fully paid.
     *
     * Emits {Redeemed}, and the token's burn events on the final payment.
     */
    function redeem(uint256 tokenId) external nonReentrant returns (uint256 paid) {
        Claim memory claim = _claim(tokenId);
        if (block.timestamp < claim.maturity) revert SettlementNotMatured(claim.slot, claim.maturity);
        _requireFree(tokenId);
        SlotAccount storage account = _accounts[claim.slot];
        uint256 cumulative = account.cumulativePaid;
        bool final_ = cumulative == claim.face;
        uint256 entitled = _entitlement(claim, cumulative);
        paid = entitled - _paidToToken[tokenId];
        if (paid == 0 && !final_) revert SettlementNothingDue(tokenId);

        if (final_) delete _paidToToken[tokenId];
        else _paidToToken[tokenId] = entitled;
        _payOut(account, paid);
        emit Redeemed(tokenId, claim.slot, claim.holder, paid, entitled);

        if (final_) _burn(tokenId, claim.value);
        if (paid != 0) IERC20(claim.asset).safeTransfer(claim.holder, paid);
    }

    /**
     * @dev The holder of `tokenId` gives up the unpaid rest of its claim on a defaulted slot: it is
     * paid what is due now (the part already paid stays paid) and the token is burned; later
     * deposits toward the slot no longer pay this token (its share stays in the vault, counted by
     * {writtenOff}). Returns the written-off value.
     *
     * Requirements:
     * - the caller holds `tokenId`;
     * - the slot is Defaulted (marked, and not fully paid since);
     * - the receivable token is not paused; the token was accepted and holds no frozen or
     *   encumbered value.
     *
     * Emits {Redeemed} when something was due, {WrittenOff}, and the token's burn events.
     */
    function writeOff(uint256 tokenId) external nonReentrant returns (uint256 unpaidValue) {
        Claim memory claim = _claim(tokenId);
        if (_msgSender() != claim.holder) revert SettlementUnauthorizedHolder(_msgSender(), tokenId);
        SlotAccount storage account = _accounts[claim.slot];
        Status status = _status(account, claim.face);
        if (status != Status.Defaulted) revert SettlementInvalidStatus(claim.slot, status);
        _requireFree(tokenId);
        uint256 entitled = _entitlement(claim, account.cumulativePaid);
        uint256 paid = entitled - _paidToToken[tokenId];
        unpaidValue = claim.value - entitled;

        delete _paidToToken[tokenId];
        _payOut(account, paid);
        _writtenOff[claim.slot] += unpaidValue;
        if (paid != 0) emit Redeemed(tokenId, claim.slot, claim.holder, paid, entitled);
        emit WrittenOff(tokenId, claim.slot, claim.holder, unpaidValue);
        _afterWriteOff(tokenId, claim.slot, claim.holder, unpaidValue);

        _burn(tokenId, claim.value);
        if (paid != 0) IERC20(claim.asset).safeTransfer(claim.holder, paid);
    }

    // ------------------------------------------------------------ transitions

    /**
     * @dev Marks `slot` overdue. Anyone may call; only time makes it possible.
     *
     * Requirements: `slot` exists and is Current (neither marked nor fully paid); its maturity
     * plus grace period has passed.
     *
     * Emits {SlotOverdue}.
     */
    function markOverdue(uint256 slot) external nonReentrant {
        (IReceivableToken.SlotData memory data, SlotAccount memory account) = _known(slot);
        Status status = _status(account, data.faceValue);
        if (status != Status.Current) revert SettlementInvalidStatus(slot, status);
        uint256 allowedAt = uint256(data.maturity) + data.gracePeriod;
        if (block.timestamp < allowedAt) revert SettlementTooEarly(slot, allowedAt);
        _accounts[slot].marked = Status.Overdue;
        emit SlotOverdue(slot, data.faceValue - account.cumulativePaid);
    }

    /**
     * @dev Marks `slot` defaulted (whether or not it was marked overdue before). Anyone may call;
     * only time makes it possible. Its holders may then {writeOff} their claims.
     *
     * Requirements: `slot` exists and is Current or Overdue (not fully paid); its maturity plus
     * default period has passed.
     *
     * Emits {SlotDefaulted}.
     */
    function markDefaulted(uint256 slot) external nonReentrant {
        (IReceivableToken.SlotData memory data, SlotAccount memory account) = _known(slot);
        Status status = _status(account, data.faceValue);
        if (status != Status.Current && status != Status.Overdue) revert SettlementInvalidStatus(slot, status);
        uint256 allowedAt = uint256(data.maturity) + data.defaultPeriod;
        if (block.timestamp < allowedAt) revert SettlementTooEarly(slot, allowedAt);
        _accounts[slot].marked = Status.Defaulted;
        emit SlotDefaulted(slot, data.faceValue - account.cumulativePaid);
        // Extension point (recourse): a defaulted slot is where lenders' recourse on sellers starts.
    }

    /**
     * @dev Marks the invoices `fingerprints` backing `slot` Settled in the registry. Anyone may
     * call once the slot is fully paid, in as many batches as it likes.
     *
     * Requirements: `slot` is Paid; each invoice is Linked to `slot` (see
     * {IInvoiceRegistry-markSettled}).
     *
     * Emits an {IInvoiceRegistry-InvoiceSettled} per invoice.
     */
    function settleInvoices(uint256 slot, bytes32[] calldata fingerprints) external nonReentrant {
        (IReceivableToken.SlotData memory data, SlotAccount memory account) = _known(slot);
        Status status = _status(account, data.faceValue);
        if (status != Status.Paid) revert SettlementInvalidStatus(slot, status);
        _registry.markSettled(fingerprints, uint64(slot)); // slots are counted in uint64 by the token
    }

    // -------------------------------------------------------- extension points

    /**
     * @dev Hook after the effects of {writeOff} and before the token is burned and the holder paid.
     * Empty here. Extension point for the financing desk's recourse claims of lenders on sellers:
     * `unpaidValue` of `tokenId` (of `slot`) held by `holder` was lost to the default.
     */
    function _afterWriteOff(uint256 tokenId, uint256 slot, address holder, uint256 unpaidValue) internal virtual {}

    // -------------------------------------------------------------- internals

    function _claim(uint256 tokenId) private view returns (Claim memory claim) {
        claim.holder = _token.ownerOf(tokenId); // reverts for a nonexistent token
        claim.slot = _token.slotOf(tokenId);
        IReceivableToken.SlotData memory data = _token.slotData(claim.slot);
        claim.asset = data.asset;
        claim.maturity = data.maturity;
        claim.face = data.faceValue;
        claim.value = _token.balanceOf(tokenId);
    }

    function _known(uint256 slot)
        private
        view
        returns (IReceivableToken.SlotData memory data, SlotAccount memory account)
    {
        data = _token.slotData(slot);
        if (data.faceValue == 0) revert SettlementUnknownSlot(slot);
        account = _accounts[slot];
    }

    function _status(SlotAccount memory account, uint256 face) private pure returns (Status) {
        return account.cumulativePaid == face ? Status.Paid : account.marked;
    }

    /// @dev `floor(value * cumulative / face)`; no overflow: value and cumulative are below 2^96.
    function _entitlement(Claim memory claim, uint256 cumulative) private pure returns (uint256) {
        return claim.value * cumulative / claim.face;
    }

    function _payOut(SlotAccount storage account, uint256 paid) private {
        uint256 total = account.paidOut + paid;
        // Holds by the pro-rata arithmetic; checked so that no accounting slip can pay one slot's
        // holders out of another slot's deposits of the same asset.
        assert(total <= account.cumulativePaid);
        account.paidOut = uint96(total);
    }

    /// @dev Burns `tokenId` through the token; it burns the `value` this vault accounted for.
    function _burn(uint256 tokenId, uint256 value) private {
        uint256 burned = _token.burnSettled(tokenId);
        assert(burned == value); // values are final after maturity (see the contract notes)
    }

    function _isFree(uint256 tokenId) private view returns (bool) {
        return !_token.paused() && _token.isAccepted(tokenId) && _token.frozenOf(tokenId) == 0
            && _token.encumberedOf(tokenId) == 0;
    }

    function _requireFree(uint256 tokenId) private view {
        if (_token.paused()) revert SettlementPaused();
        if (!_token.isAccepted(tokenId)) revert SettlementNotAccepted(tokenId);
        uint256 frozen = _token.frozenOf(tokenId);
        uint256 encumbered = _token.encumberedOf(tokenId);
        if (frozen != 0 || encumbered != 0) revert SettlementValueLocked(tokenId, frozen, encumbered);
    }
}
