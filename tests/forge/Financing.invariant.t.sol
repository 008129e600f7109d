// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFinancingDesk} from "../../contracts/interfaces/IFinancingDesk.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {console} from "./TestBase.sol";
import {FinancingFixture} from "./FinancingFixture.sol";
import {FinancingHandler} from "./FinancingHandler.sol";

/**
 * @dev Invariants of financing (FinancingDesk) and settlement (SettlementVault) over the real
 * ReceivableToken, under random sequences of issue, accept, split, discount and pledge by signed
 * offers (valid, expired, replayed, forged, for another chain, by another holder, above the free
 * value, fee above price), holder-signed requests (settled in tUSD or bank-attested), repay/attest, seize, time travel across maturity/grace/default,
 * deposits, redemptions in any order, overdue/default marks, write-offs and recourse, all driven
 * through {FinancingHandler}.
 */
contract FinancingInvariantTest is FinancingFixture {
    FinancingHandler internal handler;
    bytes4[] internal _selectors;

    function setUp() public {
        _deployFinancing();
        usd.mint(lender, 1e30);
        usd.mint(lender2, 1e30);
        usd.mint(core0, 1e24);
        usd.mint(core1, 1e24);

        FinancingHandler.Parties memory p;
        p.cores = new address[](2);
        p.cores[0] = core0;
        p.cores[1] = core1;
        p.suppliers = new address[](3);
        p.suppliers[0] = sup0;
        p.suppliers[1] = sup1;
        p.suppliers[2] = sup2;
        p.lenders = new address[](2);
        p.lenders[0] = lender;
        p.lenders[1] = lender2;
        p.lenderKeys = new uint256[](2);
        p.lenderKeys[0] = lenderKey;
        p.lenderKeys[1] = lender2Key;
        p.supplierKeys = new uint256[](3);
        p.supplierKeys[0] = uint256(keccak256(bytes("sup0"))); // makeAddr's key derivation
        p.supplierKeys[1] = uint256(keccak256(bytes("sup1")));
        p.supplierKeys[2] = uint256(keccak256(bytes("sup2")));
        p.strangerKey = outsiderKey;
        p.keeper = outsider;
        handler = new FinancingHandler(registry, token, usd, desk, vault, p);
        vm.label(address(handler), "FinancingHandler");

        // A selector listed n times is picked n times as often.
        _weigh(FinancingHandler.issue.selector, 2);
        _weigh(FinancingHandler.accept.selector, 1);
        _weigh(FinancingHandler.split.selector, 3);
        _weigh(FinancingHandler.discount.selector, 4);
        _weigh(FinancingHandler.pledge.selector, 3);
        _weigh(FinancingHandler.request.selector, 2);
        _weigh(FinancingHandler.repay.selector, 2);
        _weigh(FinancingHandler.seize.selector, 2);
        _weigh(FinancingHandler.warp.selector, 3);
        _weigh(FinancingHandler.deposit.selector, 4);
        _weigh(FinancingHandler.redeem.selector, 4);
        _weigh(FinancingHandler.markOverdue.selector, 1);
        _weigh(FinancingHandler.markDefaulted.selector, 2);
        _weigh(FinancingHandler.writeOff.selector, 2);
        _weigh(FinancingHandler.exerciseRecourse.selector, 2);
        // Known bug (see the regression suite): lenders moving value between their discounted
        // claims inflates recourse payables. Off by default so that the default run stays green.
        _weigh(FinancingHandler.lenderMove.selector, 3);
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
    }

    function _weigh(bytes4 selector, uint256 times) internal {
        for (uint256 i = 0; i < times; ++i) {
            _selectors.push(selector);
        }
    }

    /**
     * @dev All invariants, checked after every fuzzer call (one function: one campaign). One pass
     * over slots, one over live tokens and one over loans keeps the per-call cost low.
     *
     * forge-config: default.invariant.runs = 12
     * forge-config: default.invariant.depth = 200
     * forge-config: ci.invariant.runs = 12
     * forge-config: ci.invariant.depth = 200
     * forge-config: deep.invariant.runs = 128
     * forge-config: deep.invariant.depth = 256
     */
    function invariant_financingAndSettlement() public view {
        // Checks done inside the handler (DvP deltas, refused calls changed nothing, the success
        // oracle, redeem never before maturity, marks only when due) all held. First: its
        // message names the broken rule most precisely.
        assertEq(handler.violations(), 0, string.concat("handler: ", handler.firstViolation()));
        SlotTable memory t = _checkSlots();
        uint256 encumberedTotal = _checkTokens(t);
        _checkLoans(encumberedTotal);
        _checkRecourse();
        _checkCash();
    }

    /// @dev What the token pass needs of each slot, indexed like {FinancingHandler-slotAt}.
    struct SlotTable {
        uint256[] ids;
        uint256[] face;
        uint256[] cumulative;
        uint256[] redeemed; // modelled: value burned by the vault
        uint256[] liveSum;
    }

    /**
     * @dev Per slot: paidOut <= cumulativePaid <= face and both equal the modelled deposits and
     * payouts; the vault status equals the model; overdue/default marks happened only after
     * maturity + grace / maturity + default period and while not fully paid; no payout before
     * maturity. Globally: the vault holds exactly deposits - payouts.
     */
    function _checkSlots() internal view returns (SlotTable memory t) {
        uint256 s = handler.slotCount();
        t.ids = new uint256[](s);
        t.face = new uint256[](s);
        t.cumulative = new uint256[](s);
        t.redeemed = new uint256[](s);
        t.liveSum = new uint256[](s);
        uint256 held;
        for (uint256 i = 0; i < s; ++i) {
            uint256 slot = handler.slotAt(i);
            FinancingHandler.GhostSlot memory gs = handler.ghostSlot(slot);
            uint256 cumulative = vault.cumulativePaid(slot);
            uint256 paidOut = vault.paidOut(slot);
            assertLe(paidOut, cumulative, "vault: paidOut > cumulativePaid");
            assertLe(cumulative, gs.face, "vault: cumulativePaid > face");
            assertEq(cumulative, gs.cumulative, "vault: cumulativePaid != deposits");
            assertEq(paidOut, gs.paidOut, "vault: paidOut != payouts");
            assertEq(vault.writtenOff(slot), gs.writtenOff, "vault: writtenOff differs from model");
            held += cumulative - paidOut;

            uint256 expected = gs.cumulative == gs.face ? 3 : gs.marked;
            assertEq(uint256(vault.statusOf(slot)), expected, "vault: status differs from model");
            if (gs.overdueAt != 0) {
                assertTrue(gs.overdueAt >= uint256(gs.maturity) + gs.grace, "mark: overdue before maturity + grace");
                assertTrue(gs.cumulativeAtOverdue < gs.face, "mark: fully paid slot marked overdue");
            }
            if (gs.defaultedAt != 0) {
                assertTrue(
                    gs.defaultedAt >= uint256(gs.maturity) + gs.defaultPeriod, "mark: default before maturity + default"
                );
                assertTrue(gs.cumulativeAtDefault < gs.face, "mark: fully paid slot marked defaulted");
            }
            if (gs.firstPayoutAt != 0) assertTrue(gs.firstPayoutAt >= gs.maturity, "redeem: paid before maturity");

            t.ids[i] = slot;
            t.face[i] = gs.face;
            t.cumulative[i] = cumulative;
            t.redeemed[i] = gs.redeemed;
        }
        uint256 balance = usd.balanceOf(address(vault));
        assertEq(balance, handler.totalDeposits() - handler.totalPayouts(), "vault: balance != deposits - payouts");
        assertEq(balance, held, "vault: balance != sum over slots of cumulativePaid - paidOut");
    }

    /**
     * @dev Per live token: encumbered <= value - frozen and encumbered == the value of the active
     * loans pledging it (no value pledged twice, or pledged and sold); paidToToken <=
     * floor(value * cumulativePaid / face); value and owner as modelled. Per slot: live values +
     * redeemed value == face. Value sold by discounts == the discount tokens' values (live plus
     * burned by the vault since); the same for seized value. Returns the total encumbered value.
     */
    function _checkTokens(SlotTable memory t) internal view returns (uint256 encumberedTotal) {
        uint256 n = handler.liveTokenCount();
        uint256 sold;
        uint256 seized;
        for (uint256 j = 0; j < n; ++j) {
            uint256 id = handler.liveTokenAt(j);
            FinancingHandler.GhostToken memory g = handler.ghostToken(id);
            uint256 value = token.balanceOf(id);
            uint256 encumbered = token.encumberedOf(id);
            assertLe(token.frozenOf(id) + encumbered, value, "token: encumbered > value - frozen");
            assertEq(encumbered, g.pledged, "token: encumbered != value of its active loans");
            assertEq(value, g.value, "token: value differs from model");
            assertEq(token.ownerOf(id), g.owner, "token: owner differs from model");
            encumberedTotal += encumbered;
            if (g.origin == 1) sold += value;
            if (g.origin == 2) seized += value;

            uint256 slot = token.slotOf(id);
            uint256 i = 0;
            while (i < t.ids.length && t.ids[i] != slot) ++i;
            assertTrue(i < t.ids.length, "token: in a slot that was never issued");
            t.liveSum[i] += value;
            uint256 paid = vault.paidToToken(id);
            assertLe(paid, value * t.cumulative[i] / t.face[i], "vault: paidToToken > floor(value * paid / face)");
            assertEq(paid, g.paid, "vault: paidToToken differs from the payouts");
        }
        assertEq(sold + handler.soldValueBurned(), handler.soldValue(), "discount: value sold != lenders' claims");
        assertEq(seized + handler.seizedValueBurned(), handler.seizedValue(), "seize: value seized != lenders' claims");
        for (uint256 i = 0; i < t.ids.length; ++i) {
            IReceivableToken.SlotData memory d = token.slotData(t.ids[i]);
            assertEq(t.liveSum[i] + d.redeemedValue, d.faceValue, "slot: sum of live values + redeemed != face value");
            assertEq(d.faceValue, t.face[i], "slot: face value changed");
            assertEq(d.redeemedValue, t.redeemed[i], "slot: redeemed value differs from the burns");
        }
    }

    /// @dev The desk's loans agree with the model; the active loans' values add up to the total
    /// encumbered value.
    function _checkLoans(uint256 encumberedTotal) internal view {
        uint256 m = handler.loanCount();
        uint256 activeTotal;
        for (uint256 i = 0; i < m; ++i) {
            FinancingHandler.GhostLoan memory g = handler.loanAt(i);
            IFinancingDesk.Loan memory l = desk.loan(g.id);
            assertEq(uint256(l.status), g.status, "loan: status differs from model");
            assertEq(l.tokenId, g.tokenId, "loan: token");
            assertEq(l.value, g.value, "loan: pledged value");
            assertEq(l.principal, g.principal, "loan: principal");
            assertEq(l.lender, g.lender, "loan: lender");
            if (l.status == IFinancingDesk.LoanStatus.Active) activeTotal += l.value;
        }
        assertEq(activeTotal, encumberedTotal, "desk: sum of active loans' values != sum of encumbered values");
    }

    /// @dev Every party's tUSD balance is what the modelled flows say (the desk holds none).
    function _checkCash() internal view {
        address[] memory holders = handler.moneyHolders();
        for (uint256 i = 0; i < holders.length; ++i) {
            assertEq(usd.balanceOf(holders[i]), handler.cashOf(holders[i]), "cash: balance differs from the flows");
        }
        assertEq(usd.balanceOf(address(desk)), 0, "cash: the desk holds tUSD");
    }

    /// @dev A recourse right is recorded until exercised, exercised at most once, and its payable
    /// never exceeds the value sold with recourse.
    function _checkRecourse() internal view {
        uint256 k = handler.recourseCount();
        for (uint256 i = 0; i < k; ++i) {
            FinancingHandler.GhostRecourse memory r = handler.recourseAt(i);
            IFinancingDesk.RecourseRight memory right = desk.recourseOf(r.financingId);
            if (r.exercised) {
                assertEq(right.lender, address(0), "recourse: right survived its exercise");
                assertLe(r.recourseFace, r.valueSold, "recourse: payable exceeds the value sold with recourse");
            } else {
                assertEq(right.lender, r.lender, "recourse: right lost");
                assertEq(right.lenderTokenId, r.lenderTokenId, "recourse: token");
            }
        }
    }

    /// @dev Run once per campaign run: prints what the fuzzer exercised (visible with -vv).
    function afterInvariant() external view {
        for (uint256 i = 0; i < 16; ++i) {
            console.log(string.concat(handler.actionName(i), " tried"), handler.tries(i));
            console.log(string.concat(handler.actionName(i), " ok"), handler.successes(i));
        }
        console.log("refused offers (checked unchanged)", handler.refusedOffers());
        console.log("other refusals", handler.refusedOther());
        console.log("partial redemptions", handler.partialRedemptions());
        console.log("final redemptions", handler.finalRedemptions());
        console.log("slots", handler.slotCount());
        console.log("loans", handler.loanCount());
        console.log("recourse rights", handler.recourseCount());
        console.log("tokens live", handler.liveTokenCount());
    }
}
