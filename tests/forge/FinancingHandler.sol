// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {SettlementVault} from "../../contracts/SettlementVault.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {TestStablecoin} from "../../contracts/mocks/TestStablecoin.sol";
import {IFinancingDesk} from "../../contracts/interfaces/IFinancingDesk.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {ISettlementVault} from "../../contracts/interfaces/ISettlementVault.sol";
import {Cheats} from "./TestBase.sol";
import {OfferSigning} from "./FinancingFixture.sol";

/**
 * @dev The financing/settlement fuzzer's only target (see Financing.invariant.t.sol).
 *
 * Every action picks bounded inputs, acts on the real contracts as the right party (vm.prank)
 * and never reverts itself: each call is wrapped in try/catch, an oracle mirroring the documented
 * rules says whether it must succeed, and a violation is recorded in storage (a handler revert
 * would roll the record back). Refused calls are checked to change nothing.
 *
 * Ghost model: every token (owner, slot, value, pledged value, amount the vault paid it, how it
 * was acquired), every slot (face, maturity, periods, deposits, payouts, marks), every pledge
 * loan, and the tUSD balance of every party (including the vault and the desk).
 */
contract FinancingHandler is Cheats, OfferSigning {
    enum Action {
        Issue,
        Accept,
        Split,
        Discount,
        Pledge,
        Repay,
        Seize,
        Warp,
        Deposit,
        Redeem,
        MarkOverdue,
        MarkDefaulted,
        WriteOff,
        ExerciseRecourse,
        LenderMove,
        Request
    }

    uint256 internal constant ACTIONS = 16;
    uint256 internal constant BPS_YEAR = 10_000 * 365 days;

    // how a token reached its holder
    uint8 internal constant ORIGIN_ISSUE = 0; // issued or split among suppliers
    uint8 internal constant ORIGIN_DISCOUNT = 1; // sold to a lender by a discount
    uint8 internal constant ORIGIN_SEIZE = 2; // seized by a lender from a pledge
    uint8 internal constant ORIGIN_RECOURSE = 3; // a recourse payable's token, held by a lender

    // vault status, as ISettlementVault.Status
    uint8 internal constant CURRENT = 0;
    uint8 internal constant OVERDUE = 1;
    uint8 internal constant DEFAULTED = 2;
    uint8 internal constant PAID = 3;

    // loan status, as IFinancingDesk.LoanStatus
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant REPAID = 2;
    uint8 internal constant SEIZED = 3;

    struct GhostToken {
        bool live;
        address owner;
        uint256 slot;
        uint256 value;
        uint256 pledged; // sum of the values of the active loans on it
        uint256 paid; // what the vault paid it so far
        uint8 origin;
    }

    struct GhostSlot {
        address debtor;
        uint40 maturity;
        uint32 grace;
        uint32 defaultPeriod;
        uint256 face;
        bool accepted;
        uint256 lastSerial;
        uint256 cumulative; // deposited
        uint256 paidOut; // paid to holders
        uint256 redeemed; // value burned (final redemptions and write-offs)
        uint256 writtenOff;
        uint8 marked; // CURRENT, OVERDUE or DEFAULTED
        uint256 overdueAt; // block time of the overdue mark (0: none)
        uint256 defaultedAt;
        uint256 cumulativeAtOverdue;
        uint256 cumulativeAtDefault;
        uint256 firstPayoutAt; // block time of the first successful redeem/write-off payout (0: none)
    }

    struct GhostLoan {
        uint256 id;
        uint256 tokenId;
        address lender;
        address borrower;
        uint256 value;
        uint256 principal;
        uint32 rateBps;
        uint32 penaltyBps;
        uint256 start;
        uint256 maturity;
        uint8 status;
    }

    /// @dev A discount sold with recourse.
    struct GhostRecourse {
        uint256 financingId;
        address lender;
        address seller;
        uint256 lenderTokenId;
        uint256 valueSold;
        bool exercised;
        uint256 recourseSlot;
        uint256 recourseFace;
    }

    struct Parties {
        address[] cores;
        address[] suppliers;
        address[] lenders;
        uint256[] lenderKeys;
        uint256[] supplierKeys;
        uint256 strangerKey; // signs, but is no lender
        address keeper; // a non-member who calls the permissionless entry points
    }

    InvoiceRegistry public immutable registry;
    ReceivableToken public immutable token;
    TestStablecoin public immutable usd;
    FinancingDesk public immutable desk;
    SettlementVault public immutable vault;
    uint256 public immutable slotBase;

    address[] internal _cores;
    address[] internal _suppliers;
    address[] internal _lenders;
    uint256[] internal _lenderKeys;
    uint256[] internal _supplierKeys;
    uint256 internal _strangerKey;
    address internal _keeper;
    address[] internal _moneyHolders; // every account whose tUSD balance is modelled

    uint256[] internal _slots;
    mapping(uint256 slot => GhostSlot) internal _ghostSlots;
    uint256[] internal _liveTokens;
    mapping(uint256 tokenId => uint256) internal _liveIndex; // 1-based
    mapping(uint256 tokenId => GhostToken) internal _ghostTokens;
    GhostLoan[] internal _loans;
    GhostRecourse[] internal _recourse;

    mapping(address account => uint256) public cashOf; // modelled tUSD balance
    uint256 public totalDeposits;
    uint256 public totalPayouts;
    uint256 public soldValue; // value sold to lenders by discounts
    uint256 public soldValueBurned; // of which burned by the vault since (redeemed or written off)
    uint256 public seizedValue; // value seized by lenders
    uint256 public seizedValueBurned;
    uint256 public lastFinancingId; // the desk's financing counter
    mapping(address signer => uint256) internal _nonces;

    // the last executed offer, for replays
    IFinancingDesk.Offer internal _lastOffer;
    bytes internal _lastSig;
    address internal _lastTaker;
    uint256 internal _lastTokenId;
    bool internal _haveLast;

    uint256 public currentTime;
    uint256 private _fpNonce;

    uint256 public violations;
    string public firstViolation;
    uint256[ACTIONS] public tries;
    uint256[ACTIONS] public successes;
    uint256 public refusedOffers; // invalid offers (expired, replayed, forged, too large...) refused
    uint256 public refusedOther; // other calls refused as the rules require
    uint256 public finalRedemptions;
    uint256 public partialRedemptions;

    constructor(
        InvoiceRegistry registry_,
        ReceivableToken token_,
        TestStablecoin usd_,
        FinancingDesk desk_,
        SettlementVault vault_,
        Parties memory parties
    ) {
        registry = registry_;
        token = token_;
        usd = usd_;
        desk = desk_;
        vault = vault_;
        slotBase = token_.SLOT_BASE();
        currentTime = block.timestamp;
        _cores = parties.cores;
        _suppliers = parties.suppliers;
        _lenders = parties.lenders;
        _lenderKeys = parties.lenderKeys;
        _supplierKeys = parties.supplierKeys;
        _strangerKey = parties.strangerKey;
        _keeper = parties.keeper;
        for (uint256 i = 0; i < _cores.length; ++i) {
            _moneyHolders.push(_cores[i]);
        }
        for (uint256 i = 0; i < _suppliers.length; ++i) {
            _moneyHolders.push(_suppliers[i]);
        }
        for (uint256 i = 0; i < _lenders.length; ++i) {
            _moneyHolders.push(_lenders[i]);
        }
        _moneyHolders.push(_keeper);
        _moneyHolders.push(address(vault_));
        _moneyHolders.push(address(desk_));
        for (uint256 i = 0; i < _moneyHolders.length; ++i) {
            cashOf[_moneyHolders[i]] = usd_.balanceOf(_moneyHolders[i]);
        }
    }

    modifier step(Action action) {
        vm.warp(currentTime); // block time set by vm.warp is not kept between fuzzer calls
        ++tries[uint256(action)];
        _;
    }

    // ================================================================ issuing

    /// @dev A core enterprise issues a payable (odd, sometimes tiny face values so that rounding
    /// matters) to a supplier against one confirmed invoice; mostly accepted at once.
    function issue(uint256 coreSeed, uint256 supSeed, uint256 faceSeed, uint256 timeSeed) external step(Action.Issue) {
        if (_slots.length >= 12) return; // keep the state small enough to search on every call
        address core = _cores[coreSeed % _cores.length];
        address supplier = _suppliers[supSeed % _suppliers.length];
        uint256 face = faceSeed % 3 == 0 ? bound(faceSeed >> 8, 1, 1_000) : bound(faceSeed >> 8, 1, 1e12);
        uint40 maturity = uint40(block.timestamp + bound(timeSeed, 5 days, 90 days));
        uint32 grace = uint32(bound(timeSeed >> 64, 0, 10 days));
        uint32 defaultPeriod = uint32(bound(timeSeed >> 128, grace, 40 days));
        bytes32[] memory fps = _confirmedInvoice(supplier, core, face);
        if (fps.length == 0) return;
        IReceivableToken.IssueRequest memory req = IReceivableToken.IssueRequest({
            holder: supplier,
            asset: address(usd),
            faceValue: face,
            maturity: maturity,
            gracePeriod: grace,
            defaultPeriod: defaultPeriod,
            invoices: fps
        });
        vm.prank(core);
        try token.issue(req) returns (uint256 slot, uint256 tokenId) {
            ++successes[uint256(Action.Issue)];
            _check(tokenId == slot * slotBase + 1, "issue: first token id");
            GhostSlot storage gs = _ghostSlots[slot];
            _check(gs.debtor == address(0), "issue: slot id reused");
            gs.debtor = core;
            gs.maturity = maturity;
            gs.grace = grace;
            gs.defaultPeriod = defaultPeriod;
            gs.face = face;
            gs.lastSerial = 1;
            _slots.push(slot);
            _addToken(tokenId, supplier, slot, face, ORIGIN_ISSUE);
            if (faceSeed % 4 != 0) _accept(tokenId);
        } catch {
            _fail("issue: a valid issue reverted");
        }
    }

    function accept(uint256 tokenSeed) external step(Action.Accept) {
        (uint256 id, bool found) = _pickLive(tokenSeed);
        if (found) _accept(id);
    }

    function _accept(uint256 id) internal {
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        bool expectOk = !gs.accepted;
        vm.prank(g.owner);
        try token.accept(id) {
            ++successes[uint256(Action.Accept)];
            _check(expectOk, "accept: accepted twice");
            gs.accepted = true;
        } catch {
            _check(!expectOk, "accept: valid acceptance reverted");
        }
    }

    /// @dev A supplier splits part of a claim to a supplier (itself included): mostly free value,
    /// sometimes zero or more than the free value (pledged value must not move).
    function split(uint256 tokenSeed, uint256 toSeed, uint256 amtSeed) external step(Action.Split) {
        (uint256 id, bool found) = _pickSupplierToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        address to = _suppliers[toSeed % _suppliers.length];
        uint256 free = g.value - g.pledged;
        uint256 amount;
        uint256 mode = amtSeed % 8;
        if (mode == 0) amount = 0;
        else if (mode == 1) amount = free + 1;
        else amount = free == 0 ? 1 : bound(amtSeed >> 8, 1, free);
        bool gate = gs.accepted && block.timestamp < gs.maturity;
        bool expectOk = gate && amount != 0 && amount <= free;
        uint256 newId = g.slot * slotBase + gs.lastSerial + 1;
        vm.prank(g.owner);
        try token.transferFrom(id, to, amount) returns (uint256 returnedId) {
            ++successes[uint256(Action.Split)];
            _check(expectOk, "split: succeeded against the rules (pledged or matured value moved?)");
            _check(returnedId == newId, "split: new token id");
            _check(token.balanceOf(id) == g.value - amount, "split: source not debited by amount");
            _check(token.balanceOf(returnedId) == amount, "split: new token value");
            _check(token.encumberedOf(id) == g.pledged, "split: pledge changed");
            g.value -= amount;
            gs.lastSerial += 1;
            _addToken(returnedId, to, g.slot, amount, ORIGIN_ISSUE);
        } catch (bytes memory reason) {
            _check(!expectOk, "split: valid split reverted");
            ++refusedOther;
            if (gate && amount > free && amount <= g.value) {
                // Pledged value is locked with the exact error.
                _check(
                    keccak256(reason)
                        == keccak256(
                            abi.encodeWithSelector(IReceivableToken.ReceivableValueLocked.selector, id, free, amount)
                        ),
                    "split: pledged value refused with another error"
                );
            }
            _check(token.balanceOf(id) == g.value, "split: refused split changed the value");
        }
    }

    // ============================================================== financing

    /// @dev What a holder is about to finance, and the state a refused financing must leave.
    struct OfferCase {
        uint256 mode;
        uint256 id;
        uint256 slot;
        address holder;
        address taker; // who calls takeOffer
        uint256 lenderIdx;
        address lender;
        uint256 free;
        uint256 price; // the model's price
        bool expectOk;
        bool request; // holder-signed terms executed by the lender (executeRequest)
        bool bank; // bank-attested settlement: no tUSD moves
        address signer;
        IFinancingDesk.Offer offer;
        bytes sig;
        // snapshot
        uint256 holderCash;
        uint256 lenderCash;
        uint256 takerCash;
        uint256 value;
        uint256 encumbered;
        uint256 lenderNfts;
        bool nonceUsed;
    }

    /// @dev Discount modes: 0-4 and 12-15 valid terms; 5 expired; 6 replayed; 7 signed by a
    /// non-lender key; 8 above the free value; 9 taken by another holder; 10 signed for another
    /// chain id; 11 fee above the price.
    function discount(uint256 tokenSeed, uint256 lenderSeed, uint256 valueSeed, uint256 termsSeed, uint256 modeSeed)
        external
        step(Action.Discount)
    {
        OfferCase memory c;
        c.mode = modeSeed % 16;
        if (c.mode >= 12) c.mode = 0;
        if (c.mode == 6 && _haveLast) {
            _replay(c, Action.Discount);
            return;
        }
        if (c.mode == 6) c.mode = 0;
        bool found;
        (c.id, found) = _pickSupplierToken(tokenSeed);
        if (!found) return;
        _prepare(c, lenderSeed);
        GhostToken storage g = _ghostTokens[c.id];
        GhostSlot storage gs = _ghostSlots[c.slot];

        uint256 value =
            c.mode == 8 ? c.free + 1 + bound(valueSeed >> 8, 0, 1_000) : bound(valueSeed, 1, _max(c.free, 1));
        uint32 rateBps = uint32(bound(termsSeed, 0, 5_000));
        uint256 fixedPrice = termsSeed % 4 == 0 ? bound(termsSeed >> 32, 1, value) : 0;
        c.price = fixedPrice != 0 ? fixedPrice : _discountPrice(value, rateBps, gs.maturity);
        uint256 fee = c.mode == 11 ? c.price + 1 + bound(termsSeed >> 64, 0, 100) : bound(termsSeed >> 64, 0, c.price);
        c.offer.lender = c.lender;
        c.offer.holder = (termsSeed >> 128) % 3 == 0 ? address(0) : c.holder;
        c.offer.tokenId = (termsSeed >> 136) % 5 == 0 ? 0 : c.id; // 0: any token of the slot
        c.offer.slot = c.slot;
        c.offer.value = value;
        c.offer.kind = IFinancingDesk.Kind.Discount;
        c.offer.settlement = IFinancingDesk.Settlement.Token;
        c.offer.rateBps = rateBps;
        c.offer.fixedPrice = fixedPrice;
        c.offer.fee = fee;
        c.offer.recourse = termsSeed % 2 == 0;
        c.offer.expiry = c.mode == 5
            ? uint64(block.timestamp - bound(termsSeed >> 144, 1, 1 days))
            : uint64(block.timestamp + 365 days);
        c.offer.nonce = ++_nonces[c.lender];
        if (c.mode == 9) {
            // another supplier takes it: the offer names the holder, or names no holder but
            // covers only a token the taker does not hold
            c.taker = _otherSupplier(c.holder, termsSeed);
            if (c.offer.holder == address(0) && c.offer.tokenId == 0) c.offer.holder = c.holder;
        }
        c.sig = _sign(c, c.mode == 7, c.mode == 10);
        c.expectOk = c.mode <= 4 && gs.accepted && block.timestamp < gs.maturity && value <= c.free && fee <= c.price;
        _snapshot(c);

        vm.prank(c.taker);
        try desk.takeOffer(c.offer, c.id, c.sig) returns (uint256 financingId) {
            ++successes[uint256(Action.Discount)];
            _check(c.expectOk, "discount: refused terms were executed");
            _check(financingId == lastFinancingId + 1, "discount: financing id");
            lastFinancingId = financingId;
            _afterDiscount(c, g, gs, financingId);
        } catch {
            _check(!c.expectOk, "discount: valid terms reverted");
            _checkUnchanged(c, "discount");
        }
    }

    /// @dev DvP: the holder got price - fee from the lender, the lender got exactly `value` as a
    /// new token, the holder's token lost exactly `value`; nothing else moved.
    function _afterDiscount(OfferCase memory c, GhostToken storage g, GhostSlot storage gs, uint256 financingId)
        internal
    {
        uint256 cash = c.bank ? 0 : c.price - c.offer.fee;
        uint256 newId = c.slot * slotBase + gs.lastSerial + 1;
        _check(usd.balanceOf(c.holder) == c.holderCash + cash, "discount DvP: holder cash delta != price - fee");
        _check(usd.balanceOf(c.lender) + cash == c.lenderCash, "discount DvP: lender cash delta != -(price - fee)");
        _check(token.balanceOf(c.id) + c.offer.value == c.value, "discount DvP: holder claim delta != -value");
        _check(token.encumberedOf(c.id) == c.encumbered, "discount: pledge changed");
        _check(token.balanceOf(c.lender) == c.lenderNfts + 1, "discount DvP: lender got no new token");
        _check(token.ownerOf(newId) == c.lender, "discount DvP: new token not the lender's");
        _check(token.balanceOf(newId) == c.offer.value, "discount DvP: lender claim delta != value");
        _check(desk.isNonceUsed(c.signer, c.offer.nonce), "discount: nonce not used");
        cashOf[c.holder] += cash;
        cashOf[c.lender] -= cash;
        g.value -= c.offer.value;
        gs.lastSerial += 1;
        _addToken(newId, c.lender, c.slot, c.offer.value, ORIGIN_DISCOUNT);
        soldValue += c.offer.value;
        if (!c.request) _remember(c);
        IFinancingDesk.RecourseRight memory right = desk.recourseOf(financingId);
        if (c.offer.recourse) {
            _check(
                right.lender == c.lender && right.seller == c.holder && right.lenderTokenId == newId,
                "discount: recourse right not recorded"
            );
            _recourse.push(
                GhostRecourse({
                    financingId: financingId,
                    lender: c.lender,
                    seller: c.holder,
                    lenderTokenId: newId,
                    valueSold: c.offer.value,
                    exercised: false,
                    recourseSlot: 0,
                    recourseFace: 0
                })
            );
        } else {
            _check(right.lender == address(0), "discount: recourse right without recourse");
        }
    }

    /// @dev Pledge modes: 0-3 and 8-11 valid; 4 expired; 5 above the free value; 6 no principal;
    /// 7 signed by a non-lender key.
    function pledge(uint256 tokenSeed, uint256 lenderSeed, uint256 valueSeed, uint256 termsSeed, uint256 modeSeed)
        external
        step(Action.Pledge)
    {
        OfferCase memory c;
        c.mode = modeSeed % 12;
        if (c.mode >= 8) c.mode = 0;
        bool found;
        (c.id, found) = _pickSupplierToken(tokenSeed);
        if (!found) return;
        _prepare(c, lenderSeed);
        GhostToken storage g = _ghostTokens[c.id];
        GhostSlot storage gs = _ghostSlots[c.slot];

        uint256 value =
            c.mode == 5 ? c.free + 1 + bound(valueSeed >> 8, 0, 1_000) : bound(valueSeed, 1, _max(c.free, 1));
        c.price = c.mode == 6 ? 0 : bound(termsSeed, 1, value); // the principal
        c.offer.lender = c.lender;
        c.offer.holder = (termsSeed >> 128) % 3 == 0 ? address(0) : c.holder;
        c.offer.tokenId = (termsSeed >> 136) % 5 == 0 ? 0 : c.id;
        c.offer.slot = c.slot;
        c.offer.value = value;
        c.offer.kind = IFinancingDesk.Kind.Pledge;
        c.offer.settlement = IFinancingDesk.Settlement.Token;
        c.offer.rateBps = uint32(bound(termsSeed >> 32, 0, 3_000));
        c.offer.penaltyBps = uint32(bound(termsSeed >> 64, 0, 5_000));
        c.offer.fixedPrice = c.price;
        c.offer.fee = bound(termsSeed >> 96, 0, c.price);
        c.offer.recourse = termsSeed % 2 == 0;
        c.offer.expiry = c.mode == 4 ? uint64(block.timestamp - 1) : uint64(block.timestamp + 365 days);
        c.offer.nonce = ++_nonces[c.lender];
        c.sig = _sign(c, c.mode == 7, false);
        c.expectOk = c.mode <= 3 && gs.accepted && block.timestamp < gs.maturity && value <= c.free;
        _snapshot(c);

        vm.prank(c.taker);
        try desk.takeOffer(c.offer, c.id, c.sig) returns (uint256 loanId) {
            ++successes[uint256(Action.Pledge)];
            _check(c.expectOk, "pledge: refused terms were executed");
            _check(loanId == lastFinancingId + 1, "pledge: loan id");
            lastFinancingId = loanId;
            _afterPledge(c, g, gs, loanId);
        } catch {
            _check(!c.expectOk, "pledge: valid terms reverted");
            _checkUnchanged(c, "pledge");
        }
    }

    function _afterPledge(OfferCase memory c, GhostToken storage g, GhostSlot storage gs, uint256 loanId) internal {
        uint256 cash = c.bank ? 0 : c.price - c.offer.fee;
        _check(desk.isNonceUsed(c.signer, c.offer.nonce), "pledge: nonce not used");
        _check(usd.balanceOf(c.holder) == c.holderCash + cash, "pledge: holder cash delta != principal - fee");
        _check(usd.balanceOf(c.lender) + cash == c.lenderCash, "pledge: lender cash delta != -(principal - fee)");
        _check(token.balanceOf(c.id) == c.value, "pledge: the claim's value changed");
        _check(token.encumberedOf(c.id) == c.encumbered + c.offer.value, "pledge: value not encumbered");
        _check(token.balanceOf(c.lender) == c.lenderNfts, "pledge: lender got a token");
        IFinancingDesk.Loan memory l = desk.loan(loanId);
        _check(
            l.lender == c.lender && l.borrower == c.holder && l.tokenId == c.id && l.value == c.offer.value
                && l.principal == c.price && l.rateBps == c.offer.rateBps && l.penaltyBps == c.offer.penaltyBps
                && l.start == block.timestamp && l.maturity == gs.maturity
                && l.status == IFinancingDesk.LoanStatus.Active,
            "pledge: loan record differs from the terms"
        );
        cashOf[c.holder] += cash;
        cashOf[c.lender] -= cash;
        g.pledged += c.offer.value;
        _loans.push(
            GhostLoan({
                id: loanId,
                tokenId: c.id,
                lender: c.lender,
                borrower: c.holder,
                value: c.offer.value,
                principal: c.price,
                rateBps: c.offer.rateBps,
                penaltyBps: c.offer.penaltyBps,
                start: block.timestamp,
                maturity: gs.maturity,
                status: ACTIVE
            })
        );
        if (!c.request) _remember(c);
    }

    /// @dev The lender executes terms the holder signed (executeRequest). Modes: 0-3 discount
    /// settled in tUSD; 4-5 discount and 6 pledge attested by a bank reference (no tUSD moves);
    /// refused: 7 bank-attested without a reference, 8 executed by another lender, 9 signed by the
    /// lender instead of the holder.
    function request(uint256 tokenSeed, uint256 lenderSeed, uint256 valueSeed, uint256 termsSeed, uint256 modeSeed)
        external
        step(Action.Request)
    {
        OfferCase memory c;
        c.mode = modeSeed % 10;
        c.request = true;
        bool found;
        (c.id, found) = _pickSupplierToken(tokenSeed);
        if (!found) return;
        _prepare(c, lenderSeed);
        GhostToken storage g = _ghostTokens[c.id];
        GhostSlot storage gs = _ghostSlots[c.slot];
        c.signer = c.holder;
        c.bank = c.mode >= 4 && c.mode <= 7;
        bool pledge_ = c.mode == 6;

        uint256 value = bound(valueSeed, 1, _max(c.free, 1));
        uint256 fixedPrice = pledge_ || termsSeed % 4 == 0 ? bound(termsSeed >> 32, 1, value) : 0;
        uint32 rateBps = uint32(bound(termsSeed, 0, 5_000));
        c.price = fixedPrice != 0 ? fixedPrice : _discountPrice(value, rateBps, gs.maturity);
        c.offer.lender = c.lender;
        c.offer.holder = c.holder;
        c.offer.tokenId = (termsSeed >> 136) % 5 == 0 ? 0 : c.id;
        c.offer.slot = c.slot;
        c.offer.value = value;
        c.offer.kind = pledge_ ? IFinancingDesk.Kind.Pledge : IFinancingDesk.Kind.Discount;
        c.offer.settlement = c.bank ? IFinancingDesk.Settlement.BankAttested : IFinancingDesk.Settlement.Token;
        c.offer.rateBps = rateBps;
        c.offer.penaltyBps = uint32(bound(termsSeed >> 64, 0, 5_000));
        c.offer.fixedPrice = fixedPrice;
        c.offer.fee = bound(termsSeed >> 96, 0, c.price);
        c.offer.recourse = termsSeed % 2 == 0;
        c.offer.expiry = uint64(block.timestamp + 30 days);
        c.offer.nonce = ++_nonces[c.holder];
        uint256 key = _supplierKeys[_supplierIndex(c.holder)];
        if (c.mode == 9) key = _lenderKeys[c.lenderIdx];
        c.sig = _signDigest(key, desk.hashOffer(c.offer));
        c.taker = c.mode == 8 ? _lenders[(c.lenderIdx + 1) % _lenders.length] : c.lender;
        bytes32 bankRef = c.bank && c.mode != 7 ? keccak256(abi.encode("bank-ref", c.offer.nonce)) : bytes32(0);
        c.expectOk = c.mode <= 6 && gs.accepted && block.timestamp < gs.maturity && value <= c.free;
        _snapshot(c);

        vm.prank(c.taker);
        try desk.executeRequest(c.offer, c.id, c.sig, bankRef) returns (uint256 financingId) {
            ++successes[uint256(Action.Request)];
            _check(c.expectOk, "executeRequest: refused terms were executed");
            _check(financingId == lastFinancingId + 1, "executeRequest: financing id");
            lastFinancingId = financingId;
            if (pledge_) _afterPledge(c, g, gs, financingId);
            else _afterDiscount(c, g, gs, financingId);
        } catch {
            _check(!c.expectOk, "executeRequest: valid terms reverted");
            _checkUnchanged(c, "executeRequest");
        }
    }

    function _supplierIndex(address supplier) internal view returns (uint256) {
        for (uint256 i = 0; i < _suppliers.length; ++i) {
            if (_suppliers[i] == supplier) return i;
        }
        return 0;
    }

    /// @dev The last executed offer is taken again by the same taker: refused, nothing changes.
    function _replay(OfferCase memory c, Action action) internal {
        c.offer = _lastOffer;
        c.sig = _lastSig;
        c.taker = _lastTaker;
        c.holder = _lastTaker;
        c.lender = c.offer.lender;
        c.signer = c.offer.lender;
        c.id = _lastTokenId;
        c.expectOk = false;
        _snapshot(c);
        vm.prank(c.taker);
        try desk.takeOffer(c.offer, c.id, c.sig) {
            ++successes[uint256(action)];
            _fail("replay: an offer was taken twice");
        } catch {
            _checkUnchanged(c, "replay");
        }
    }

    function _prepare(OfferCase memory c, uint256 lenderSeed) internal view {
        GhostToken storage g = _ghostTokens[c.id];
        c.slot = g.slot;
        c.holder = g.owner;
        c.taker = g.owner;
        c.lenderIdx = lenderSeed % _lenders.length;
        c.lender = _lenders[c.lenderIdx];
        c.signer = c.lender;
        c.free = g.value - g.pledged;
    }

    function _sign(OfferCase memory c, bool strangerKey, bool otherChain) internal view returns (bytes memory) {
        uint256 key = strangerKey ? _strangerKey : _lenderKeys[c.lenderIdx];
        bytes32 digest = otherChain ? _offerDigest(desk, c.offer, block.chainid + 1) : desk.hashOffer(c.offer);
        return _signDigest(key, digest);
    }

    function _snapshot(OfferCase memory c) internal view {
        c.holderCash = usd.balanceOf(c.holder);
        c.lenderCash = usd.balanceOf(c.lender);
        c.takerCash = usd.balanceOf(c.taker);
        c.value = _valueOf(c.id);
        c.encumbered = token.encumberedOf(c.id);
        c.lenderNfts = token.balanceOf(c.lender);
        c.nonceUsed = desk.isNonceUsed(c.signer, c.offer.nonce);
    }

    /// @dev A refused financing changed no balance, no claim, no lock and no nonce.
    function _checkUnchanged(OfferCase memory c, string memory what) internal {
        ++refusedOffers;
        _check(usd.balanceOf(c.holder) == c.holderCash, string.concat(what, " refused: holder cash changed"));
        _check(usd.balanceOf(c.lender) == c.lenderCash, string.concat(what, " refused: lender cash changed"));
        _check(usd.balanceOf(c.taker) == c.takerCash, string.concat(what, " refused: taker cash changed"));
        _check(_valueOf(c.id) == c.value, string.concat(what, " refused: claim value changed"));
        _check(token.encumberedOf(c.id) == c.encumbered, string.concat(what, " refused: lock changed"));
        _check(token.balanceOf(c.lender) == c.lenderNfts, string.concat(what, " refused: lender got a token"));
        _check(
            desk.isNonceUsed(c.signer, c.offer.nonce) == c.nonceUsed, string.concat(what, " refused: nonce consumed")
        );
    }

    function _remember(OfferCase memory c) internal {
        _lastOffer = c.offer;
        _lastSig = c.sig;
        _lastTaker = c.taker;
        _lastTokenId = c.id;
        _haveLast = true;
    }

    // ================================================================== loans

    /// @dev Repays a loan: in tUSD by the borrower (modes 0-2), attested by the lender (3) or,
    /// refused, attested by the borrower (4). Loans that are no longer active must refuse.
    function repay(uint256 loanSeed, uint256 modeSeed) external step(Action.Repay) {
        if (_loans.length == 0) return;
        uint256 idx = loanSeed % _loans.length;
        if (modeSeed % 3 != 0) idx = _activeLoan(loanSeed, idx, false); // mostly one that can be repaid
        GhostLoan storage l = _loans[idx];
        uint256 mode = modeSeed % 5;
        GhostToken storage g = _ghostTokens[l.tokenId];
        uint256 due = _amountDue(l);
        bool active = l.status == ACTIVE;
        uint256 encBefore = token.encumberedOf(l.tokenId);
        uint256 lenderCash = usd.balanceOf(l.lender);
        if (mode <= 2) {
            if (usd.balanceOf(l.borrower) < due) _mint(l.borrower, due);
            uint256 borrowerCash = usd.balanceOf(l.borrower);
            vm.prank(l.borrower);
            try desk.repay(l.id) {
                ++successes[uint256(Action.Repay)];
                _check(active, "repay: an inactive loan was repaid");
                _check(usd.balanceOf(l.lender) == lenderCash + due, "repay: lender not paid principal + interest");
                _check(usd.balanceOf(l.borrower) + due == borrowerCash, "repay: borrower not charged the amount due");
                cashOf[l.lender] += due;
                cashOf[l.borrower] -= due;
                _closeLoan(l, g, encBefore, REPAID);
            } catch {
                _check(!active, "repay: valid repayment reverted");
                ++refusedOther;
                _check(usd.balanceOf(l.lender) == lenderCash, "repay refused: lender cash changed");
                _check(token.encumberedOf(l.tokenId) == encBefore, "repay refused: lock changed");
            }
        } else {
            address caller = mode == 3 ? l.lender : l.borrower;
            bool expectOk = active && caller == l.lender;
            vm.prank(caller);
            try desk.attestRepayment(l.id) {
                ++successes[uint256(Action.Repay)];
                _check(expectOk, "attestRepayment: succeeded against the rules");
                _check(usd.balanceOf(l.lender) == lenderCash, "attestRepayment: cash moved");
                _closeLoan(l, g, encBefore, REPAID);
            } catch {
                _check(!expectOk, "attestRepayment: valid attestation reverted");
                ++refusedOther;
                _check(token.encumberedOf(l.tokenId) == encBefore, "attestRepayment refused: lock changed");
            }
        }
    }

    function _closeLoan(GhostLoan storage l, GhostToken storage g, uint256 encBefore, uint8 status) internal {
        _check(token.encumberedOf(l.tokenId) + l.value == encBefore, "loan closed: pledge not released");
        _check(uint8(desk.loan(l.id).status) == status, "loan closed: status");
        l.status = status;
        g.pledged -= l.value;
    }

    /// @dev The lender (or, refused, the borrower) seizes a loan's pledged value: only after maturity.
    function seize(uint256 loanSeed, uint256 callerSeed) external step(Action.Seize) {
        if (_loans.length == 0) return;
        uint256 idx = loanSeed % _loans.length;
        if (callerSeed % 4 != 0) idx = _activeLoan(loanSeed, idx, true); // mostly one that can be seized
        GhostLoan storage l = _loans[idx];
        GhostToken storage g = _ghostTokens[l.tokenId];
        GhostSlot storage gs = _ghostSlots[g.slot];
        address caller = callerSeed % 5 == 0 ? l.borrower : l.lender;
        bool expectOk = l.status == ACTIVE && caller == l.lender && block.timestamp >= l.maturity;
        uint256 encBefore = token.encumberedOf(l.tokenId);
        uint256 valueBefore = _valueOf(l.tokenId);
        uint256 newId = g.slot * slotBase + gs.lastSerial + 1;
        vm.prank(caller);
        try desk.seize(l.id) returns (uint256 lenderTokenId) {
            ++successes[uint256(Action.Seize)];
            _check(expectOk, "seize: succeeded against the rules (before maturity?)");
            _check(lenderTokenId == newId, "seize: new token id");
            _check(token.ownerOf(newId) == l.lender, "seize: new token not the lender's");
            _check(token.balanceOf(newId) == l.value, "seize: new token value != pledged value");
            _check(token.balanceOf(l.tokenId) + l.value == valueBefore, "seize: source not debited by the pledge");
            _closeLoan(l, g, encBefore, SEIZED);
            g.value -= l.value;
            gs.lastSerial += 1;
            _addToken(newId, l.lender, g.slot, l.value, ORIGIN_SEIZE);
            seizedValue += l.value;
        } catch {
            _check(!expectOk, "seize: valid seizure reverted");
            ++refusedOther;
            _check(token.encumberedOf(l.tokenId) == encBefore, "seize refused: lock changed");
            _check(_valueOf(l.tokenId) == valueBefore, "seize refused: value changed");
        }
    }

    // ================================================================== time

    /// @dev Moves time on: hours; or to just before/at a slot's maturity, grace end or default
    /// threshold; or weeks.
    function warp(uint256 seed, uint256 slotSeed) external step(Action.Warp) {
        uint256 mode = seed % 4;
        uint256 target;
        if (mode == 1 && _slots.length != 0) {
            GhostSlot storage gs = _ghostSlots[_slots[slotSeed % _slots.length]];
            uint256 which = (seed >> 8) % 7;
            uint256 base = gs.maturity;
            if (which == 0) target = base - 1;
            else if (which == 1) target = base;
            else if (which == 2) target = base + gs.grace - 1;
            else if (which == 3) target = base + gs.grace;
            else if (which == 4) target = base + gs.defaultPeriod - 1;
            else if (which == 5) target = base + gs.defaultPeriod;
            else target = base + gs.defaultPeriod + 1 days;
        } else if (mode == 2) {
            target = currentTime + bound(seed >> 8, 2 days, 15 days);
        }
        if (target <= currentTime) target = currentTime + bound(seed >> 16, 1 hours, 1 days);
        currentTime = target;
        vm.warp(currentTime);
        ++successes[uint256(Action.Warp)];
    }

    // ============================================================ settlement

    /// @dev A core enterprise (mostly the debtor) pays toward a slot: part of what is open, all of
    /// it, zero or more than is open (refused).
    function deposit(uint256 slotSeed, uint256 amtSeed, uint256 payerSeed) external step(Action.Deposit) {
        if (_slots.length == 0) return;
        uint256 slot = _slots[slotSeed % _slots.length];
        GhostSlot storage gs = _ghostSlots[slot];
        address payer = payerSeed % 4 == 0 ? _cores[payerSeed % _cores.length] : gs.debtor;
        uint256 open = gs.face - gs.cumulative;
        uint256 mode = amtSeed % 8;
        uint256 amount;
        if (mode == 0) amount = 0;
        else if (mode == 1) amount = open + 1 + bound(amtSeed >> 8, 0, 1_000);
        else if (mode == 2) amount = open;
        else amount = open <= 1 ? open : bound(amtSeed >> 8, 1, open - 1);
        if (usd.balanceOf(payer) < amount) _mint(payer, amount);
        bool expectOk = amount != 0 && amount <= open;
        uint256 payerCash = usd.balanceOf(payer);
        uint256 vaultCash = usd.balanceOf(address(vault));
        vm.prank(payer);
        try vault.deposit(slot, amount) {
            ++successes[uint256(Action.Deposit)];
            _check(expectOk, "deposit: succeeded against the rules (over face?)");
            _check(vault.cumulativePaid(slot) == gs.cumulative + amount, "deposit: cumulativePaid");
            _check(usd.balanceOf(address(vault)) == vaultCash + amount, "deposit: vault not credited");
            _check(usd.balanceOf(payer) + amount == payerCash, "deposit: payer not debited");
            gs.cumulative += amount;
            cashOf[payer] -= amount;
            cashOf[address(vault)] += amount;
            totalDeposits += amount;
        } catch {
            _check(!expectOk, "deposit: valid deposit reverted");
            ++refusedOther;
            _check(vault.cumulativePaid(slot) == gs.cumulative, "deposit refused: cumulativePaid changed");
        }
    }

    /// @dev Anyone redeems a token (mostly of a matured slot): pays floor(value * cumulative /
    /// face) - paid so far to its holder; burns it when the slot is fully paid.
    function redeem(uint256 tokenSeed, uint256 callerSeed) external step(Action.Redeem) {
        (uint256 id, bool found) = _pickLive(tokenSeed);
        if (!found) return;
        if (tokenSeed % 4 != 0) id = _redeemable(tokenSeed, _matured(tokenSeed, id));
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        address caller = _moneyHolders[callerSeed % (_moneyHolders.length - 2)]; // not the vault or the desk
        uint256 entitled = g.value * gs.cumulative / gs.face;
        uint256 due = entitled - g.paid;
        bool final_ = gs.cumulative == gs.face;
        bool expectOk = block.timestamp >= gs.maturity && gs.accepted && g.pledged == 0 && (due != 0 || final_);
        address holder = g.owner;
        uint256 holderCash = usd.balanceOf(holder);
        vm.prank(caller);
        try vault.redeem(id) returns (uint256 paid) {
            ++successes[uint256(Action.Redeem)];
            _check(block.timestamp >= gs.maturity, "redeem: succeeded before maturity");
            _check(expectOk, "redeem: succeeded against the rules");
            _check(paid == due, "redeem: paid != floor(value * cumulativePaid / face) - paidToToken");
            _check(usd.balanceOf(holder) == holderCash + paid, "redeem: holder not paid");
            _payout(gs, g, holder, paid);
            if (final_) {
                ++finalRedemptions;
                _check(!_exists(id), "redeem: fully paid token not burned");
                _check(vault.paidToToken(id) == 0, "redeem: paidToToken kept after the burn");
                _burned(id);
            } else {
                ++partialRedemptions;
                g.paid = entitled;
                _check(vault.paidToToken(id) == entitled, "redeem: paidToToken != entitlement");
            }
        } catch {
            _check(!expectOk, "redeem: valid redemption reverted");
            ++refusedOther;
            _check(usd.balanceOf(holder) == holderCash, "redeem refused: holder cash changed");
            _check(_exists(id), "redeem refused: token burned");
        }
    }

    /// @dev The holder (or, refused, someone else) writes off a token of a defaulted slot.
    function writeOff(uint256 tokenSeed, uint256 callerSeed) external step(Action.WriteOff) {
        (uint256 id, bool found) = _pickLive(tokenSeed);
        if (!found) return;
        if (tokenSeed % 4 != 0) id = _defaulted(tokenSeed, id);
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        address holder = g.owner;
        address caller = callerSeed % 5 == 0 ? _keeper : holder;
        uint256 entitled = g.value * gs.cumulative / gs.face;
        uint256 due = entitled - g.paid;
        bool expectOk = caller == holder && _status(gs) == DEFAULTED && gs.accepted && g.pledged == 0;
        uint256 holderCash = usd.balanceOf(holder);
        uint256 writtenBefore = vault.writtenOff(g.slot);
        vm.prank(caller);
        try vault.writeOff(id) returns (uint256 unpaid) {
            ++successes[uint256(Action.WriteOff)];
            _check(expectOk, "writeOff: succeeded against the rules");
            _check(unpaid == g.value - entitled, "writeOff: unpaid value != value - entitlement");
            _check(usd.balanceOf(holder) == holderCash + due, "writeOff: holder not paid what was due");
            _check(vault.writtenOff(g.slot) == writtenBefore + unpaid, "writeOff: writtenOff not credited");
            _check(!_exists(id), "writeOff: token not burned");
            _payout(gs, g, holder, due);
            gs.writtenOff += unpaid;
            _burned(id);
        } catch {
            _check(!expectOk, "writeOff: valid write-off reverted");
            ++refusedOther;
            _check(_exists(id), "writeOff refused: token burned");
            _check(usd.balanceOf(holder) == holderCash, "writeOff refused: holder cash changed");
        }
    }

    function markOverdue(uint256 slotSeed) external step(Action.MarkOverdue) {
        if (_slots.length == 0) return;
        uint256 slot = _slots[slotSeed % _slots.length];
        if (slotSeed % 4 != 0) slot = _markable(slotSeed, false, slot);
        GhostSlot storage gs = _ghostSlots[slot];
        bool expectOk = _status(gs) == CURRENT && block.timestamp >= uint256(gs.maturity) + gs.grace;
        vm.prank(_keeper);
        try vault.markOverdue(slot) {
            ++successes[uint256(Action.MarkOverdue)];
            _check(expectOk, "markOverdue: succeeded against the rules");
            _check(block.timestamp >= uint256(gs.maturity) + gs.grace, "markOverdue: before maturity + grace");
            _check(gs.cumulative < gs.face, "markOverdue: a fully paid slot was marked");
            gs.marked = OVERDUE;
            gs.overdueAt = block.timestamp;
            gs.cumulativeAtOverdue = gs.cumulative;
            _check(uint8(vault.statusOf(slot)) == OVERDUE, "markOverdue: status not Overdue");
        } catch {
            _check(!expectOk, "markOverdue: valid mark reverted");
            ++refusedOther;
        }
    }

    function markDefaulted(uint256 slotSeed) external step(Action.MarkDefaulted) {
        if (_slots.length == 0) return;
        uint256 slot = _slots[slotSeed % _slots.length];
        if (slotSeed % 4 != 0) slot = _markable(slotSeed, true, slot);
        GhostSlot storage gs = _ghostSlots[slot];
        uint8 status = _status(gs);
        bool expectOk =
            (status == CURRENT || status == OVERDUE) && block.timestamp >= uint256(gs.maturity) + gs.defaultPeriod;
        vm.prank(_keeper);
        try vault.markDefaulted(slot) {
            ++successes[uint256(Action.MarkDefaulted)];
            _check(expectOk, "markDefaulted: succeeded against the rules");
            _check(
                block.timestamp >= uint256(gs.maturity) + gs.defaultPeriod, "markDefaulted: before maturity + default"
            );
            _check(gs.cumulative < gs.face, "markDefaulted: a fully paid slot was marked");
            gs.marked = DEFAULTED;
            gs.defaultedAt = block.timestamp;
            gs.cumulativeAtDefault = gs.cumulative;
            _check(uint8(vault.statusOf(slot)) == DEFAULTED, "markDefaulted: status not Defaulted");
        } catch {
            _check(!expectOk, "markDefaulted: valid mark reverted");
            ++refusedOther;
        }
    }

    function _payout(GhostSlot storage gs, GhostToken storage g, address holder, uint256 paid) internal {
        if (gs.firstPayoutAt == 0) gs.firstPayoutAt = block.timestamp;
        gs.paidOut += paid;
        totalPayouts += paid;
        cashOf[holder] += paid;
        cashOf[address(vault)] -= paid;
        _check(vault.paidOut(g.slot) == gs.paidOut, "payout: vault paidOut differs from the payouts");
    }

    /// @dev `id` was burned by the vault: its value is now redeemed value of its slot.
    function _burned(uint256 id) internal {
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        gs.redeemed += g.value;
        if (g.origin == ORIGIN_DISCOUNT) soldValueBurned += g.value;
        if (g.origin == ORIGIN_SEIZE) seizedValueBurned += g.value;
        _check(token.slotData(g.slot).redeemedValue == gs.redeemed, "burn: redeemedValue not credited");
        _removeToken(id);
    }

    // ================================================================ recourse

    /// @dev The lender (or, refused, the seller) exercises a recourse right: only once, only on a
    /// defaulted slot, while the lender holds the claim. The claim goes back to the seller, which
    /// owes the lender its unpaid part under a new payable (settled through the vault like any).
    function exerciseRecourse(uint256 seed, uint256 callerSeed) external step(Action.ExerciseRecourse) {
        if (_recourse.length == 0) return;
        uint256 idx = seed % _recourse.length;
        if (callerSeed % 3 != 0) {
            // mostly an unexercised right on a defaulted slot
            for (uint256 k = 0; k < _recourse.length; ++k) {
                uint256 j = (seed % _recourse.length + k) % _recourse.length;
                GhostToken storage t = _ghostTokens[_recourse[j].lenderTokenId];
                if (!_recourse[j].exercised && t.live && _status(_ghostSlots[t.slot]) == DEFAULTED) {
                    idx = j;
                    break;
                }
            }
        }
        GhostRecourse storage r = _recourse[idx];
        GhostToken storage g = _ghostTokens[r.lenderTokenId];
        address caller = callerSeed % 5 == 0 ? r.seller : r.lender;
        bool expectOk = !r.exercised && caller == r.lender && g.live && g.owner == r.lender
            && _status(_ghostSlots[g.slot]) == DEFAULTED && g.pledged == 0 && g.value > g.paid
            && g.value == r.valueSold; // nothing merged in or split off since the sale
        uint256 unpaid = g.value - g.paid;
        uint256 lenderNfts = token.balanceOf(r.lender);
        vm.prank(caller);
        try desk.exerciseRecourse(r.financingId) returns (uint256 rSlot, uint256 rToken) {
            ++successes[uint256(Action.ExerciseRecourse)];
            _check(expectOk, "exerciseRecourse: succeeded against the rules");
            _check(unpaid <= r.valueSold, "recourse: payable exceeds the value sold with recourse");
            _check(token.ownerOf(r.lenderTokenId) == r.seller, "recourse: claim not handed back to the seller");
            _check(token.balanceOf(r.lenderTokenId) == g.value, "recourse: claim value changed");
            _check(vault.paidToToken(r.lenderTokenId) == g.paid, "recourse: paidToToken changed");
            _check(token.ownerOf(rToken) == r.lender && token.balanceOf(rToken) == unpaid, "recourse: payable token");
            _check(token.balanceOf(r.lender) == lenderNfts, "recourse: lender NFT count changed");
            IReceivableToken.SlotData memory d = token.slotData(rSlot);
            _check(
                d.debtor == r.seller && d.faceValue == unpaid && d.maturity == block.timestamp + desk.RECOURSE_TERM()
                    && d.asset == address(usd) && d.redeemedValue == 0,
                "recourse: payable terms"
            );
            _check(token.isAccepted(rToken), "recourse: payable not accepted");
            _check(desk.recourseOf(r.financingId).lender == address(0), "recourse: right not consumed");
            r.exercised = true;
            r.recourseSlot = rSlot;
            r.recourseFace = unpaid;
            g.owner = r.seller;
            GhostSlot storage rs = _ghostSlots[rSlot];
            _check(rs.debtor == address(0), "recourse: slot id reused");
            rs.debtor = r.seller;
            rs.maturity = d.maturity;
            rs.grace = d.gracePeriod;
            rs.defaultPeriod = d.defaultPeriod;
            rs.face = unpaid;
            rs.accepted = true;
            rs.lastSerial = 1;
            _slots.push(rSlot);
            _addToken(rToken, r.lender, rSlot, unpaid, ORIGIN_RECOURSE);
        } catch {
            _check(!expectOk, "exerciseRecourse: valid exercise reverted");
            ++refusedOther;
            if (g.live) _check(token.ownerOf(r.lenderTokenId) == g.owner, "exerciseRecourse refused: owner changed");
        }
    }

    /// @dev A lender consolidates its discounted claims of a slot, moving value from one into
    /// another before maturity. A recourse right on a token changed this way can no longer be
    /// exercised (it once let the recourse payable outgrow the value sold; see the regression test).
    function lenderMove(uint256 fromSeed, uint256 toSeed, uint256 amtSeed) external step(Action.LenderMove) {
        uint256 n = _liveTokens.length;
        if (n == 0) return;
        uint256 fromId;
        uint256 toId;
        for (uint256 k = 0; k < n && toId == 0; ++k) {
            uint256 a = _liveTokens[(fromSeed % n + k) % n];
            GhostToken storage ga = _ghostTokens[a];
            if (ga.origin != ORIGIN_DISCOUNT || ga.value == 0) continue;
            for (uint256 m = 0; m < n; ++m) {
                uint256 b = _liveTokens[(toSeed % n + m) % n];
                GhostToken storage gb = _ghostTokens[b];
                if (b != a && gb.origin == ORIGIN_DISCOUNT && gb.slot == ga.slot && gb.owner == ga.owner) {
                    (fromId, toId) = (a, b);
                    break;
                }
            }
        }
        if (toId == 0) return;
        GhostToken storage gf = _ghostTokens[fromId];
        GhostToken storage gt = _ghostTokens[toId];
        GhostSlot storage gs = _ghostSlots[gf.slot];
        uint256 amount = bound(amtSeed, 1, gf.value);
        bool expectOk = block.timestamp < gs.maturity && gf.paid == 0 && gt.paid == 0;
        vm.prank(gf.owner);
        try token.transferFrom(fromId, toId, amount) {
            ++successes[uint256(Action.LenderMove)];
            _check(expectOk, "lenderMove: succeeded against the rules");
            gf.value -= amount;
            gt.value += amount;
        } catch {
            _check(!expectOk, "lenderMove: valid move reverted");
            ++refusedOther;
        }
    }

    // ============================================================ ghost views

    function slotCount() external view returns (uint256) {
        return _slots.length;
    }

    function slotAt(uint256 i) external view returns (uint256) {
        return _slots[i];
    }

    function ghostSlot(uint256 slot) external view returns (GhostSlot memory) {
        return _ghostSlots[slot];
    }

    function liveTokenCount() external view returns (uint256) {
        return _liveTokens.length;
    }

    function liveTokenAt(uint256 i) external view returns (uint256) {
        return _liveTokens[i];
    }

    function ghostToken(uint256 tokenId) external view returns (GhostToken memory) {
        return _ghostTokens[tokenId];
    }

    function loanCount() external view returns (uint256) {
        return _loans.length;
    }

    function loanAt(uint256 i) external view returns (GhostLoan memory) {
        return _loans[i];
    }

    function recourseCount() external view returns (uint256) {
        return _recourse.length;
    }

    function recourseAt(uint256 i) external view returns (GhostRecourse memory) {
        return _recourse[i];
    }

    function moneyHolders() external view returns (address[] memory) {
        return _moneyHolders;
    }

    function actionName(uint256 i) external pure returns (string memory) {
        string[ACTIONS] memory names = [
            "issue",
            "accept",
            "split",
            "discount",
            "pledge",
            "repay",
            "seize",
            "warp",
            "deposit",
            "redeem",
            "markOverdue",
            "markDefaulted",
            "writeOff",
            "exerciseRecourse",
            "lenderMove",
            "executeRequest"
        ];
        return names[i];
    }

    // ============================================================== internals

    function _status(GhostSlot storage gs) internal view returns (uint8) {
        return gs.cumulative == gs.face ? PAID : gs.marked;
    }

    function _discountPrice(uint256 value, uint32 rateBps, uint256 maturity) internal view returns (uint256) {
        uint256 remaining = maturity > block.timestamp ? maturity - block.timestamp : 0;
        uint256 d = value * rateBps * remaining / BPS_YEAR;
        return d >= value ? 0 : value - d;
    }

    function _amountDue(GhostLoan storage l) internal view returns (uint256) {
        uint256 interest = l.principal * l.rateBps * (block.timestamp - l.start) / BPS_YEAR;
        if (block.timestamp > l.maturity) {
            interest += l.principal * l.penaltyBps * (block.timestamp - l.maturity) / BPS_YEAR;
        }
        return l.principal + interest;
    }

    function _mint(address to, uint256 amount) internal {
        usd.mint(to, amount);
        cashOf[to] += amount;
    }

    function _valueOf(uint256 id) internal view returns (uint256) {
        try token.balanceOf(id) returns (uint256 v) {
            return v;
        } catch {
            return 0;
        }
    }

    function _exists(uint256 id) internal view returns (bool) {
        try token.ownerOf(id) returns (address) {
            return true;
        } catch {
            return false;
        }
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }

    function _otherSupplier(address holder, uint256 seed) internal view returns (address) {
        uint256 n = _suppliers.length;
        uint256 start = seed % n;
        for (uint256 k = 0; k < n; ++k) {
            address s = _suppliers[(start + k) % n];
            if (s != holder) return s;
        }
        return holder;
    }

    function _pickLive(uint256 seed) internal view returns (uint256 id, bool found) {
        if (_liveTokens.length == 0) return (0, false);
        return (_liveTokens[seed % _liveTokens.length], true);
    }

    /// @dev A live token held by a supplier, searching from a random position: mostly one that
    /// can be financed now (accepted, unmatured, with free value), else any.
    function _pickSupplierToken(uint256 seed) internal view returns (uint256, bool) {
        uint256 n = _liveTokens.length;
        uint256 any;
        bool found;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _liveTokens[(seed % n + k) % n];
            GhostToken storage g = _ghostTokens[id];
            if (g.origin != ORIGIN_ISSUE) continue;
            if (!found) (any, found) = (id, true);
            if (seed % 5 == 0) break; // sometimes whatever comes first
            GhostSlot storage gs = _ghostSlots[g.slot];
            if (gs.accepted && block.timestamp < gs.maturity && g.value > g.pledged) return (id, true);
        }
        return (any, found);
    }

    /// @dev A live token of a matured slot, searching from a random position; `fallbackId` if none.
    function _matured(uint256 seed, uint256 fallbackId) internal view returns (uint256) {
        uint256 n = _liveTokens.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _liveTokens[(seed % n + k) % n];
            if (block.timestamp >= _ghostSlots[_ghostTokens[id].slot].maturity) return id;
        }
        return fallbackId;
    }

    /// @dev A live token that can be redeemed now, searching from a random position; `fallbackId` if none.
    function _redeemable(uint256 seed, uint256 fallbackId) internal view returns (uint256) {
        uint256 n = _liveTokens.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _liveTokens[(seed % n + k) % n];
            GhostToken storage g = _ghostTokens[id];
            GhostSlot storage gs = _ghostSlots[g.slot];
            if (block.timestamp < gs.maturity || g.pledged != 0 || !gs.accepted) continue;
            if (gs.cumulative == gs.face || g.value * gs.cumulative / gs.face > g.paid) return id;
        }
        return fallbackId;
    }

    /// @dev A slot that `markDefaulted` (`defaulted`) or `markOverdue` may mark now, searching from
    /// a random position; `fallbackSlot` if none.
    function _markable(uint256 seed, bool defaulted, uint256 fallbackSlot) internal view returns (uint256) {
        uint256 n = _slots.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 slot = _slots[(seed % n + k) % n];
            GhostSlot storage gs = _ghostSlots[slot];
            uint8 status = _status(gs);
            if (defaulted) {
                if (
                    (status == CURRENT || status == OVERDUE)
                        && block.timestamp >= uint256(gs.maturity) + gs.defaultPeriod
                ) {
                    return slot;
                }
            } else if (status == CURRENT && block.timestamp >= uint256(gs.maturity) + gs.grace) {
                return slot;
            }
        }
        return fallbackSlot;
    }

    /// @dev A live token of a defaulted slot, searching from a random position; `fallbackId` if none.
    function _defaulted(uint256 seed, uint256 fallbackId) internal view returns (uint256) {
        uint256 n = _liveTokens.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _liveTokens[(seed % n + k) % n];
            if (_status(_ghostSlots[_ghostTokens[id].slot]) == DEFAULTED) return id;
        }
        return fallbackId;
    }

    /// @dev An active (and, if `due`, matured) loan, searching from a random position;
    /// `fallbackIdx` if none.
    function _activeLoan(uint256 seed, uint256 fallbackIdx, bool due) internal view returns (uint256) {
        uint256 n = _loans.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 idx = (seed % n + k) % n;
            if (_loans[idx].status == ACTIVE && (!due || block.timestamp >= _loans[idx].maturity)) return idx;
        }
        return fallbackIdx;
    }

    function _confirmedInvoice(address supplier, address core, uint256 amount) internal returns (bytes32[] memory fps) {
        bytes32[] memory one = new bytes32[](1);
        one[0] = keccak256(abi.encode("scf-financing-fuzz-invoice", ++_fpNonce));
        bytes32[3] memory partials;
        IInvoiceRegistry.InvoiceInput memory input = IInvoiceRegistry.InvoiceInput({
            fingerprint: one[0],
            seller: supplier,
            buyer: core,
            asset: address(usd),
            amount: uint96(amount),
            issueDate: uint40(block.timestamp),
            documentHash: bytes32(0),
            partialFingerprints: partials
        });
        vm.prank(supplier);
        try registry.register(input) {}
        catch {
            _fail("registry: valid invoice registration reverted");
            return fps;
        }
        vm.prank(core);
        try registry.confirm(one) {}
        catch {
            _fail("registry: valid confirmation reverted");
            return fps;
        }
        return one;
    }

    function _addToken(uint256 id, address owner, uint256 slot, uint256 value, uint8 origin) internal {
        _ghostTokens[id] =
            GhostToken({live: true, owner: owner, slot: slot, value: value, pledged: 0, paid: 0, origin: origin});
        _liveTokens.push(id);
        _liveIndex[id] = _liveTokens.length;
    }

    function _removeToken(uint256 id) internal {
        GhostToken storage g = _ghostTokens[id];
        g.live = false;
        g.value = 0;
        g.paid = 0;
        uint256 idx = _liveIndex[id] - 1;
        uint256 last = _liveTokens[_liveTokens.length - 1];
        _liveTokens[idx] = last;
        _liveIndex[last] = idx + 1;
        _liveTokens.pop();
        delete _liveIndex[id];
    }

    function _check(bool condition, string memory what) internal {
        if (!condition) _fail(what);
    }

    function _fail(string memory what) internal {
        if (violations == 0) firstViolation = what;
        ++violations;
    }
}
