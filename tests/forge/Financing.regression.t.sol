// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFinancingDesk} from "../../contracts/interfaces/IFinancingDesk.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {ISettlementVault} from "../../contracts/interfaces/ISettlementVault.sol";
import {FinancingFixture} from "./FinancingFixture.sol";

/**
 * @dev Pinned cases of financing and settlement: pro-rata redemption rounding, the ways an offer
 * must be refused (twice, expired, another holder, another chain, forged, above the free value),
 * pledged value locked until repaid, seizure and marks only when time allows, and recourse.
 */
contract FinancingRegressionTest is FinancingFixture {
    uint256 internal constant FACE = 1_000_001; // odd, so that pro-rata shares round
    uint40 internal constant TERM = 30 days; // ScfFixture._issueAccepted: maturity in 30 days, grace 7, default 30

    uint256 internal slot;
    uint256 internal tokenA; // sup0's accepted token holding the whole face value
    uint256 internal maturity;

    function setUp() public {
        _deployFinancing();
        usd.mint(lender, 1e18);
        usd.mint(lender2, 1e18);
        usd.mint(core0, 1e18);
        usd.mint(core1, 1e18);
        (slot, tokenA) = _issueAccepted(core0, sup0, FACE);
        maturity = token.slotData(slot).maturity;
    }

    // ------------------------------------------------------------------ helpers

    function _take(address taker, IFinancingDesk.Offer memory o, uint256 id, bytes memory sig)
        internal
        returns (uint256)
    {
        vm.prank(taker);
        return desk.takeOffer(o, id, sig);
    }

    function _pledgeOffer(uint256 id, uint256 value, uint256 principal, uint256 fee, uint256 nonce)
        internal
        view
        returns (IFinancingDesk.Offer memory o)
    {
        o = _discountOffer(lender, address(0), id, value, 0, principal, fee, nonce);
        o.kind = IFinancingDesk.Kind.Pledge;
        o.rateBps = 1_200;
        o.penaltyBps = 2_000;
    }

    /// @dev Pledges `value` of tokenA to `lender` (principal `principal`, fee 1_000); returns the loan id.
    function _pledgeA(uint256 value, uint256 principal, uint256 nonce) internal returns (uint256) {
        IFinancingDesk.Offer memory o = _pledgeOffer(tokenA, value, principal, 1_000, nonce);
        return _take(sup0, o, tokenA, _signOffer(desk, lenderKey, o));
    }

    function _split(address from, uint256 id, address to, uint256 value) internal returns (uint256) {
        vm.prank(from);
        return token.transferFrom(id, to, value);
    }

    function _deposit(address payer, uint256 s, uint256 amount) internal {
        vm.prank(payer);
        vault.deposit(s, amount);
    }

    /// @dev Redeems `ids` in that order (as a keeper); returns what each paid.
    function _redeemAll(uint256[3] memory ids, uint256[3] memory order) internal returns (uint256[3] memory paid) {
        for (uint256 k = 0; k < 3; ++k) {
            vm.prank(outsider);
            paid[order[k]] = vault.redeem(ids[order[k]]);
        }
    }

    struct Balances {
        uint256 sup0Cash;
        uint256 sup1Cash;
        uint256 lenderCash;
        uint256 valueA;
        uint256 encumberedA;
        uint256 lenderNfts;
    }

    function _balances() internal view returns (Balances memory b) {
        b.sup0Cash = usd.balanceOf(sup0);
        b.sup1Cash = usd.balanceOf(sup1);
        b.lenderCash = usd.balanceOf(lender);
        b.valueA = token.balanceOf(tokenA);
        b.encumberedA = token.encumberedOf(tokenA);
        b.lenderNfts = token.balanceOf(lender);
    }

    function _assertUnchanged(Balances memory b) internal view {
        Balances memory a = _balances();
        assertEq(a.sup0Cash, b.sup0Cash, "refused: sup0 cash changed");
        assertEq(a.sup1Cash, b.sup1Cash, "refused: sup1 cash changed");
        assertEq(a.lenderCash, b.lenderCash, "refused: lender cash changed");
        assertEq(a.valueA, b.valueA, "refused: claim value changed");
        assertEq(a.encumberedA, b.encumberedA, "refused: lock changed");
        assertEq(a.lenderNfts, b.lenderNfts, "refused: lender got a token");
    }

    // ------------------------------------------------------- pro-rata rounding

    /// @dev Three tokens of odd values; redeeming at 50% and again at 100% pays each exactly what
    /// one redemption at 100% pays (its value), in whatever order; nothing is left in the vault.
    function testRedeemHalfThenFullPaysSameAsOneFullRedemption() public {
        (uint256 slotB, uint256 tokenB) = _issueAccepted(core1, sup0, FACE);
        uint256[3] memory idsA;
        uint256[3] memory idsB;
        uint256[3] memory values = [uint256(333_334), 333_333, 333_334];
        idsA[0] = tokenA;
        idsB[0] = tokenB;
        idsA[1] = _split(sup0, tokenA, sup1, values[1]);
        idsA[2] = _split(sup0, tokenA, sup2, values[2]);
        idsB[1] = _split(sup0, tokenB, sup1, values[1]);
        idsB[2] = _split(sup0, tokenB, sup2, values[2]);
        assertEq(token.balanceOf(tokenA), values[0], "setup: value of tokenA");
        vm.warp(maturity);

        // Slot A: 50% (rounded down: the face is odd), redeemed in one order ...
        uint256 half = FACE / 2;
        _deposit(core0, slot, half);
        uint256[3] memory first = _redeemAll(idsA, [uint256(2), 0, 1]);
        uint256 firstTotal;
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(first[i], values[i] * half / FACE, "50%: paid != floor(value * paid / face)");
            assertEq(vault.paidToToken(idsA[i]), first[i], "50%: paidToToken");
            firstTotal += first[i];
        }
        assertLe(firstTotal, half, "50%: paid out more than deposited");
        assertEq(vault.paidOut(slot), firstTotal, "50%: paidOut");
        // ... then the rest, redeemed in another order.
        _deposit(core0, slot, FACE - half);
        uint256[3] memory second = _redeemAll(idsA, [uint256(1), 2, 0]);

        // Slot B: everything at once, one redemption each.
        _deposit(core1, slotB, FACE);
        uint256[3] memory once = _redeemAll(idsB, [uint256(0), 1, 2]);

        for (uint256 i = 0; i < 3; ++i) {
            assertEq(first[i] + second[i], once[i], "50% + 100% != one redemption at 100%");
            assertEq(once[i], values[i], "100%: a token was not paid its value");
        }
        assertEq(vault.paidOut(slot), FACE, "slot A: paidOut != face");
        assertEq(vault.paidOut(slotB), FACE, "slot B: paidOut != face");
        assertEq(usd.balanceOf(address(vault)), 0, "vault kept money after full settlement");
        assertEq(token.slotData(slot).redeemedValue, FACE, "slot A: not all value redeemed");
        assertEq(token.slotData(slotB).redeemedValue, FACE, "slot B: not all value redeemed");
    }

    /// @dev Three deposits of odd sizes with redemptions in between: payouts never exceed deposits
    /// and the final total per token is its value.
    function testRedeemAcrossOddPartialDepositsPaysExactlyTheValue() public {
        uint256 b = _split(sup0, tokenA, sup1, 7);
        uint256 c = _split(sup0, tokenA, sup2, 499_999);
        uint256[3] memory ids = [tokenA, b, c];
        uint256[3] memory total;
        uint256[3] memory parts = [uint256(1), 333_333, FACE - 333_334];
        vm.warp(maturity + 1);
        for (uint256 d = 0; d < 3; ++d) {
            _deposit(core0, slot, parts[d]);
            for (uint256 i = 0; i < 3; ++i) {
                uint256 due = vault.redeemable(ids[i]);
                if (due == 0 && d < 2) continue; // nothing due: redeem would refuse
                vm.prank(outsider);
                total[i] += vault.redeem(ids[i]);
            }
            assertLe(vault.paidOut(slot), vault.cumulativePaid(slot), "paid out more than deposited");
        }
        assertEq(total[0], FACE - 7 - 499_999, "token A total");
        assertEq(total[1], 7, "token B total");
        assertEq(total[2], 499_999, "token C total");
        assertEq(usd.balanceOf(address(vault)), 0, "vault kept money");
    }

    // ------------------------------------------------------------------ offers

    function testDiscountIsDeliveryVersusPayment() public {
        uint32 rate = 1_000;
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_001, rate, 0, 77, 1);
        Balances memory b = _balances();
        _take(sup0, o, tokenA, _signOffer(desk, lenderKey, o));
        uint256 price = desk.discountPrice(400_001, rate, maturity - block.timestamp);
        assertEq(usd.balanceOf(sup0), b.sup0Cash + price - 77, "holder cash delta != price - fee");
        assertEq(usd.balanceOf(lender) + price - 77, b.lenderCash, "lender cash delta != -(price - fee)");
        assertEq(token.balanceOf(tokenA), FACE - 400_001, "holder claim delta != -value");
        uint256 lenderToken = slot * token.SLOT_BASE() + 2;
        assertEq(token.ownerOf(lenderToken), lender, "lender token owner");
        assertEq(token.balanceOf(lenderToken), 400_001, "lender claim delta != value");
    }

    function testOfferCannotBeTakenTwice() public {
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_000, 500, 0, 0, 1);
        bytes memory sig = _signOffer(desk, lenderKey, o);
        _take(sup0, o, tokenA, sig);
        Balances memory b = _balances();
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingNonceUsed.selector, lender, uint256(1)));
        _take(sup0, o, tokenA, sig);
        _assertUnchanged(b);

        // A cancelled offer cannot be taken either.
        IFinancingDesk.Offer memory o2 = _discountOffer(lender, sup0, tokenA, 1_000, 500, 0, 0, 2);
        bytes memory sig2 = _signOffer(desk, lenderKey, o2);
        vm.prank(lender);
        desk.cancelNonce(2);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingNonceUsed.selector, lender, uint256(2)));
        _take(sup0, o2, tokenA, sig2);
        _assertUnchanged(b);
    }

    function testOfferCannotBeTakenAfterExpiry() public {
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_000, 500, 0, 0, 1);
        bytes memory sig = _signOffer(desk, lenderKey, o);
        vm.warp(uint256(o.expiry) + 1);
        Balances memory b = _balances();
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingOfferExpired.selector, o.expiry));
        _take(sup0, o, tokenA, sig);
        _assertUnchanged(b);
        assertFalse(desk.isNonceUsed(lender, 1), "expired offer consumed its nonce");

        // At the expiry second itself the offer is still good.
        IFinancingDesk.Offer memory o2 = _discountOffer(lender, sup0, tokenA, 400_000, 500, 0, 0, 2);
        bytes memory sig2 = _signOffer(desk, lenderKey, o2);
        vm.warp(o2.expiry);
        _take(sup0, o2, tokenA, sig2);
        assertEq(token.balanceOf(tokenA), FACE - 400_000, "offer at expiry not executed");
    }

    function testOfferCannotBeTakenByAnotherHolder() public {
        uint256 tokenB = _split(sup0, tokenA, sup1, 300_000);
        // Named holder sup0, any token of the slot: sup1 may not take it.
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, 0, 100_000, 500, 0, 0, 1);
        o.slot = slot;
        bytes memory sig = _signOffer(desk, lenderKey, o);
        Balances memory b = _balances();
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingUnauthorizedCaller.selector, sup1));
        _take(sup1, o, tokenB, sig);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingUnauthorizedCaller.selector, sup1));
        _take(sup1, o, tokenA, sig);
        _assertUnchanged(b);

        // Any holder, but only tokenA: sup1 can use neither its own token nor sup0's.
        IFinancingDesk.Offer memory o2 = _discountOffer(lender, address(0), tokenA, 100_000, 500, 0, 0, 2);
        bytes memory sig2 = _signOffer(desk, lenderKey, o2);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingTokenMismatch.selector, tokenB));
        _take(sup1, o2, tokenB, sig2);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingTokenMismatch.selector, tokenA));
        _take(sup1, o2, tokenA, sig2);
        _assertUnchanged(b);
        assertEq(token.balanceOf(tokenB), 300_000, "refused: sup1's claim changed");

        // The refusals spent no nonce: the rightful holder takes both offers.
        _take(sup0, o, tokenA, sig);
        _take(sup0, o2, tokenA, sig2);
        assertEq(token.balanceOf(tokenA), FACE - 300_000 - 200_000, "rightful holder could not take the offers");
    }

    function testOfferSignedForAnotherChainIsRefused() public {
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_000, 500, 0, 0, 1);
        assertEq(_offerDigest(desk, o, block.chainid), desk.hashOffer(o), "helper digest != desk digest");
        Balances memory b = _balances();

        // Signed over a digest with another chain id.
        bytes memory foreign = _signDigest(lenderKey, _offerDigest(desk, o, block.chainid + 1));
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidSignature.selector, lender));
        _take(sup0, o, tokenA, foreign);
        _assertUnchanged(b);

        // Signed here, replayed on a fork with another chain id.
        bytes memory sig = _signOffer(desk, lenderKey, o);
        uint256 home = block.chainid;
        vmSig.chainId(home + 1);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidSignature.selector, lender));
        _take(sup0, o, tokenA, sig);
        _assertUnchanged(b);
        vmSig.chainId(home);
        _take(sup0, o, tokenA, sig);
        assertEq(token.balanceOf(tokenA), FACE - 400_000, "offer not executed on its own chain");
    }

    function testOfferSignedByAnotherKeyIsRefused() public {
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_000, 500, 0, 0, 1);
        Balances memory b = _balances();
        bytes memory forged = _signOffer(desk, outsiderKey, o);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidSignature.selector, lender));
        _take(sup0, o, tokenA, forged);
        // lender2's key, lender2 named: lender2 is a lender, but the terms were changed after signing.
        IFinancingDesk.Offer memory o2 = _discountOffer(lender2, sup0, tokenA, 400_000, 500, 0, 0, 1);
        bytes memory sig2 = _signOffer(desk, lender2Key, o2);
        o2.value = 500_000;
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidSignature.selector, lender2));
        _take(sup0, o2, tokenA, sig2);
        _assertUnchanged(b);
    }

    function testOfferAboveFreeValueIsRefused() public {
        _pledgeA(600_000, 500_000, 1);
        uint256 free = FACE - 600_000;
        Balances memory b = _balances();

        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, free + 1, 500, 0, 0, 2);
        bytes memory sig = _signOffer(desk, lenderKey, o);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free, free + 1));
        _take(sup0, o, tokenA, sig);
        // Above the whole balance.
        IFinancingDesk.Offer memory o2 = _discountOffer(lender, sup0, tokenA, FACE + 1, 500, 0, 0, 3);
        bytes memory sig2 = _signOffer(desk, lenderKey, o2);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, FACE, FACE + 1)
        );
        _take(sup0, o2, tokenA, sig2);
        // A second pledge above the free value.
        IFinancingDesk.Offer memory o3 = _pledgeOffer(tokenA, free + 1, 1_000, 0, 4);
        bytes memory sig3 = _signOffer(desk, lenderKey, o3);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free, free + 1));
        _take(sup0, o3, tokenA, sig3);
        _assertUnchanged(b);
        assertFalse(desk.isNonceUsed(lender, 2), "refused offer consumed its nonce");

        // Exactly the free value goes through.
        IFinancingDesk.Offer memory o4 = _discountOffer(lender, sup0, tokenA, free, 500, 0, 0, 2);
        _take(sup0, o4, tokenA, _signOffer(desk, lenderKey, o4));
        assertEq(token.balanceOf(tokenA), 600_000, "offer of exactly the free value not executed");
        assertEq(token.encumberedOf(tokenA), 600_000, "pledge changed by the discount");
    }

    // ------------------------------------------------------------------ pledges

    function testPledgedValueCannotMoveUntilRepaid() public {
        Balances memory b0 = _balances();
        uint256 loanId = _pledgeA(600_000, 500_000, 1);
        assertEq(usd.balanceOf(sup0), b0.sup0Cash + 500_000 - 1_000, "pledge: holder cash != principal - fee");
        assertEq(token.encumberedOf(tokenA), 600_000, "pledge: not encumbered");
        uint256 free = FACE - 600_000;

        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free, free + 1));
        _split(sup0, tokenA, sup1, free + 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free, FACE));
        vm.prank(sup0);
        token.transferFrom(sup0, sup1, tokenA);
        uint256 tokenC = _split(sup0, tokenA, sup0, 1); // free value still moves
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free - 1, FACE - 1)
        );
        vm.prank(sup0);
        token.merge(tokenA, tokenC);
        uint256 tokenD = _split(sup0, tokenC, sup1, 1);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, tokenA, free - 1, free));
        vm.prank(sup0);
        token.transferFrom(tokenA, tokenD, free); // value to an existing token: refused all the same
        assertEq(token.balanceOf(tokenA), FACE - 1, "locked value moved");

        // Repaid 10 days later: principal + interest to the lender, value free again.
        vm.warp(block.timestamp + 10 days);
        (uint256 principal, uint256 interest) = desk.amountDue(loanId);
        assertEq(principal, 500_000, "amountDue: principal");
        assertEq(interest, uint256(500_000) * 1_200 * 10 days / (10_000 * 365 days), "amountDue: interest");
        usd.mint(sup0, interest + 1_000); // the fee the lender kept
        uint256 lenderCash = usd.balanceOf(lender);
        vm.prank(sup0);
        desk.repay(loanId);
        assertEq(usd.balanceOf(lender), lenderCash + principal + interest, "repay: lender not paid");
        assertEq(token.encumberedOf(tokenA), 0, "repay: pledge not released");
        _split(sup0, tokenA, sup1, free + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IFinancingDesk.FinancingInvalidLoanStatus.selector, loanId, IFinancingDesk.LoanStatus.Repaid
            )
        );
        vm.prank(sup0);
        desk.repay(loanId);
    }

    function testSeizeOnlyAfterMaturityThenBothRedeem() public {
        uint256 loanId = _pledgeA(600_000, 500_000, 1);
        vm.warp(maturity - 1);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingNotDue.selector, loanId, uint40(maturity)));
        vm.prank(lender);
        desk.seize(loanId);
        vm.warp(maturity);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingUnauthorizedCaller.selector, sup0));
        vm.prank(sup0);
        desk.seize(loanId);
        // Pledged value cannot be redeemed while encumbered.
        _deposit(core0, slot, FACE);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementVault.SettlementValueLocked.selector, tokenA, uint256(0), uint256(600_000)
            )
        );
        vault.redeem(tokenA);
        vm.prank(lender);
        uint256 seized = desk.seize(loanId);
        assertEq(token.ownerOf(seized), lender, "seize: lender token");
        assertEq(token.balanceOf(seized), 600_000, "seize: value");
        assertEq(token.balanceOf(tokenA), FACE - 600_000, "seize: borrower value");
        uint256 sup0Cash = usd.balanceOf(sup0);
        uint256 lenderCash = usd.balanceOf(lender);
        assertEq(vault.redeem(tokenA), FACE - 600_000, "redeem: borrower share");
        assertEq(vault.redeem(seized), 600_000, "redeem: lender share");
        assertEq(usd.balanceOf(sup0), sup0Cash + FACE - 600_000, "borrower not paid");
        assertEq(usd.balanceOf(lender), lenderCash + 600_000, "lender not paid");
        assertEq(usd.balanceOf(address(vault)), 0, "vault kept money");
    }

    // ------------------------------------------------------------ settlement

    function testRedeemAndMarksOnlyWhenTimeHasCome() public {
        _deposit(core0, slot, 10);
        vm.warp(maturity - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementVault.SettlementNotMatured.selector, slot, maturity));
        vault.redeem(tokenA);
        vm.warp(maturity);
        assertEq(vault.redeem(tokenA), 10 * FACE / FACE, "redeem at maturity");

        uint256 overdueAt = maturity + 7 days;
        uint256 defaultAt = maturity + 30 days;
        vm.warp(overdueAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementVault.SettlementTooEarly.selector, slot, overdueAt));
        vault.markOverdue(slot);
        vm.warp(overdueAt);
        vault.markOverdue(slot);
        assertTrue(vault.statusOf(slot) == ISettlementVault.Status.Overdue, "not overdue");
        vm.warp(defaultAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ISettlementVault.SettlementTooEarly.selector, slot, defaultAt));
        vault.markDefaulted(slot);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementVault.SettlementInvalidStatus.selector, slot, ISettlementVault.Status.Overdue
            )
        );
        vm.prank(sup0);
        vault.writeOff(tokenA);
        vm.warp(defaultAt);
        vault.markDefaulted(slot);
        assertTrue(vault.statusOf(slot) == ISettlementVault.Status.Defaulted, "not defaulted");

        // Paid in full after default: Paid wins, no more marks, no write-off.
        _deposit(core0, slot, FACE - 10);
        assertTrue(vault.statusOf(slot) == ISettlementVault.Status.Paid, "not paid");
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementVault.SettlementInvalidStatus.selector, slot, ISettlementVault.Status.Paid
            )
        );
        vault.markDefaulted(slot);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementVault.SettlementInvalidStatus.selector, slot, ISettlementVault.Status.Paid
            )
        );
        vm.prank(sup0);
        vault.writeOff(tokenA);
        assertEq(vault.redeem(tokenA), FACE - 10, "final redemption");
    }

    /// @dev After default a holder writes off: paid what is due now, token burned; later deposits
    /// stay in the vault for the written-off share and pay only the other holders.
    function testWriteOffAfterDefaultThenLateDepositsPayOnlyTheOthers() public {
        uint256 tokenB = _split(sup0, tokenA, sup1, 400_001);
        _deposit(core0, slot, 100_003);
        vm.warp(maturity + 30 days);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISettlementVault.SettlementInvalidStatus.selector, slot, ISettlementVault.Status.Current
            )
        );
        vm.prank(sup1);
        vault.writeOff(tokenB);
        vault.markDefaulted(slot);
        vm.expectRevert(abi.encodeWithSelector(ISettlementVault.SettlementUnauthorizedHolder.selector, sup0, tokenB));
        vm.prank(sup0);
        vault.writeOff(tokenB);

        uint256 entitledB = uint256(400_001) * 100_003 / FACE;
        uint256 sup1Cash = usd.balanceOf(sup1);
        vm.prank(sup1);
        uint256 unpaid = vault.writeOff(tokenB);
        assertEq(unpaid, 400_001 - entitledB, "writeOff: unpaid value");
        assertEq(usd.balanceOf(sup1), sup1Cash + entitledB, "writeOff: holder not paid what was due");
        assertEq(vault.writtenOff(slot), unpaid, "writeOff: writtenOff");
        assertEq(token.slotData(slot).redeemedValue, 400_001, "writeOff: burned value not counted as redeemed");

        _deposit(core0, slot, FACE - 100_003);
        uint256 sup0Cash = usd.balanceOf(sup0);
        uint256 paidA = vault.redeem(tokenA);
        assertEq(paidA, FACE - 400_001, "late deposits: remaining holder not paid its value");
        assertEq(usd.balanceOf(sup0), sup0Cash + paidA, "late deposits: cash");
        assertEq(usd.balanceOf(address(vault)), unpaid, "vault must keep exactly the written-off share");
        assertEq(token.slotData(slot).redeemedValue, FACE, "slot: not all value redeemed");
    }

    /// @dev A bank-attested request moves the claim and no tUSD; it needs the holder's signature
    /// and a bank reference, and only the named lender can execute it.
    function testBankAttestedRequestMovesNoTokens() public {
        uint256 sup0Key = uint256(keccak256(bytes("sup0")));
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 250_000, 0, 240_000, 500, 1);
        o.settlement = IFinancingDesk.Settlement.BankAttested;
        bytes memory sig = _signDigest(sup0Key, desk.hashOffer(o));
        bytes memory lenderSig = _signOffer(desk, lenderKey, o);
        bytes32 ref = keccak256("bank payment 42");
        Balances memory b = _balances();
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidTerms.selector, bytes32("bankReference")));
        vm.prank(lender);
        desk.executeRequest(o, tokenA, sig, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingUnauthorizedCaller.selector, lender2));
        vm.prank(lender2);
        desk.executeRequest(o, tokenA, sig, ref);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidSignature.selector, sup0));
        vm.prank(lender);
        desk.executeRequest(o, tokenA, lenderSig, ref);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingInvalidTerms.selector, bytes32("settlement")));
        vm.prank(sup0);
        desk.takeOffer(o, tokenA, lenderSig); // a holder cannot self-attest a bank payment
        _assertUnchanged(b);

        vm.prank(lender);
        desk.executeRequest(o, tokenA, sig, ref);
        assertEq(usd.balanceOf(sup0), b.sup0Cash, "bank-attested: holder cash moved");
        assertEq(usd.balanceOf(lender), b.lenderCash, "bank-attested: lender cash moved");
        assertEq(token.balanceOf(tokenA), FACE - 250_000, "bank-attested: claim not delivered");
        assertEq(token.balanceOf(slot * token.SLOT_BASE() + 2), 250_000, "bank-attested: lender claim");
        assertTrue(desk.isNonceUsed(sup0, 1), "bank-attested: holder nonce not used");
    }

    // ----------------------------------------------------------------- recourse

    /// @dev A discount with recourse, defaulted: the lender hands the claim back and is owed its
    /// unpaid part by the seller.
    function testRecourseOnDefaultOwesTheUnpaidPart() public {
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 400_001, 500, 0, 0, 1);
        o.recourse = true;
        uint256 fid = _take(sup0, o, tokenA, _signOffer(desk, lenderKey, o));
        uint256 lenderToken = slot * token.SLOT_BASE() + 2;
        _deposit(core0, slot, 333_333);
        vm.warp(maturity);
        vm.prank(lender);
        uint256 paid = vault.redeem(lenderToken);
        assertEq(paid, uint256(400_001) * 333_333 / FACE, "partial redemption");
        vm.warp(maturity + 30 days);
        vault.markDefaulted(slot);
        vm.prank(lender);
        (uint256 rSlot, uint256 rToken) = desk.exerciseRecourse(fid);
        assertEq(token.ownerOf(lenderToken), sup0, "claim not handed back to the seller");
        assertEq(token.ownerOf(rToken), lender, "recourse payable not the lender's");
        assertEq(token.slotData(rSlot).debtor, sup0, "recourse debtor is not the seller");
        assertEq(token.balanceOf(rToken), 400_001 - paid, "recourse face != value sold - paid");
    }

    /**
     * @dev Regression: exerciseRecourse once sized the recourse payable by the lender token's
     * *current* value. A lender that merged a claim bought without recourse into the recourse token
     * made the seller owe value it never sold. Now the exercise is refused unless the token still
     * holds exactly the value sold with recourse.
     */
    function testRecourseClaimBoundedByValueSoldWithRecourse() public {
        uint256 tokenB = _split(sup0, tokenA, sup1, 300_000);
        // sup0 sells 100_000 with recourse; sup1 sells 300_000 without.
        IFinancingDesk.Offer memory o = _discountOffer(lender, sup0, tokenA, 100_000, 500, 0, 0, 1);
        o.recourse = true;
        uint256 fid = _take(sup0, o, tokenA, _signOffer(desk, lenderKey, o));
        uint256 recourseToken = slot * token.SLOT_BASE() + 3;
        IFinancingDesk.Offer memory o2 = _discountOffer(lender, sup1, tokenB, 300_000, 500, 0, 0, 2);
        _take(sup1, o2, tokenB, _signOffer(desk, lenderKey, o2));
        uint256 plainToken = slot * token.SLOT_BASE() + 4;
        assertEq(token.balanceOf(recourseToken), 100_000, "setup: recourse token");
        // The lender consolidates its claims before maturity.
        vm.prank(lender);
        token.merge(plainToken, recourseToken);
        vm.warp(maturity + 30 days);
        vault.markDefaulted(slot);
        vm.prank(lender);
        vm.expectRevert(abi.encodeWithSelector(IFinancingDesk.FinancingTokenMismatch.selector, recourseToken));
        desk.exerciseRecourse(fid);
    }
}
