// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Participants} from "../../contracts/Participants.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {Roles} from "../../contracts/Roles.sol";
import {TestStablecoin} from "../../contracts/mocks/TestStablecoin.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {Cheats, console} from "./TestBase.sol";
import {ScfFixture} from "./ScfFixture.sol";

/**
 * @dev The fuzzer's only target. Every action picks bounded inputs, runs one or more calls on the
 * real contracts (as the right member, through vm.prank), and never reverts itself: each call is
 * wrapped in try/catch, so a refused call leaves the ghost model unchanged and a violation is
 * recorded in storage (a handler revert would roll the record back and the fuzzer would ignore it).
 *
 * Ghost model: every token ever minted (owner, slot, value, locks, live) and every slot (accepted,
 * debtor, maturity, face, redeemed, invoices). Each action also checks its own postconditions and
 * an oracle of when the call must succeed (`_moveOk` and friends mirror the documented rules).
 */
contract Handler is Cheats {
    enum Action {
        Issue,
        Accept,
        Split,
        ApproveValue,
        SplitByOperator,
        TransferValue,
        TransferToken,
        Merge,
        SetFrozen,
        Encumber,
        Release,
        Seize,
        Warp,
        BurnSettled,
        TogglePause,
        ReuseInvoice
    }

    uint256 internal constant ACTIONS = 16;

    struct GhostToken {
        bool live;
        address owner;
        uint256 slot;
        uint256 value;
        uint256 frozen;
        uint256 encumbered;
    }

    struct GhostSlot {
        bool accepted; // acceptance is per slot: the first holder accepts the whole payable
        address debtor;
        address seller;
        uint40 maturity;
        uint256 face;
        uint256 redeemed;
        uint256 invoiceSum;
        bytes32[] invoices;
    }

    Participants public immutable participants;
    InvoiceRegistry public immutable registry;
    ReceivableToken public immutable token;
    TestStablecoin public immutable usd;
    address public immutable regulator;

    address[] internal _cores;
    address[] internal _suppliers;
    address[] internal _actors; // possible holders: members plus one non-member
    address[] internal _nonCores; // accounts that must never issue
    address[] internal _nonCoreMembers; // members without CORE_ENTERPRISE (may buy and confirm invoices)

    uint256[] internal _slots;
    mapping(uint256 slot => GhostSlot) internal _ghostSlots;
    uint256[] internal _allTokens;
    uint256[] internal _liveTokens;
    mapping(uint256 tokenId => uint256) internal _liveIndex; // 1-based position in _liveTokens
    mapping(uint256 tokenId => GhostToken) internal _ghostTokens;
    mapping(bytes32 fingerprint => uint256) public slotOfInvoice;

    bool public ghostPaused;
    uint256 public currentTime;
    uint256 private _fpNonce;

    uint256 public violations;
    string public firstViolation;
    uint256[ACTIONS] public tries;
    uint256[ACTIONS] public successes;
    uint256 public splitChecks; // successful splits whose postconditions were checked

    struct ValueApproval {
        uint256 tokenId;
        address operator;
    }

    ValueApproval[] internal _approvals; // granted value allowances, for operator splits to use

    constructor(
        Participants participants_,
        InvoiceRegistry registry_,
        ReceivableToken token_,
        TestStablecoin usd_,
        address regulator_,
        address[] memory cores_,
        address[] memory suppliers_,
        address[] memory others_,
        address outsider_
    ) {
        participants = participants_;
        registry = registry_;
        token = token_;
        usd = usd_;
        regulator = regulator_;
        currentTime = block.timestamp;
        for (uint256 i = 0; i < cores_.length; ++i) {
            _cores.push(cores_[i]);
            _actors.push(cores_[i]);
        }
        for (uint256 i = 0; i < suppliers_.length; ++i) {
            _suppliers.push(suppliers_[i]);
            _actors.push(suppliers_[i]);
            _nonCores.push(suppliers_[i]);
            _nonCoreMembers.push(suppliers_[i]);
        }
        for (uint256 i = 0; i < others_.length; ++i) {
            _actors.push(others_[i]);
            _nonCores.push(others_[i]);
            _nonCoreMembers.push(others_[i]);
        }
        _actors.push(outsider_);
        _nonCores.push(outsider_);
        _nonCores.push(regulator_);
        _nonCoreMembers.push(regulator_);
    }

    modifier step(Action action) {
        vm.warp(currentTime); // block time set by vm.warp is not kept between fuzzer calls
        ++tries[uint256(action)];
        _;
    }

    // =================================================================== actions

    struct IssueCase {
        address core;
        address supplier;
        bytes32[] fps;
        uint256 sum;
        uint256 face;
        uint40 maturity;
    }

    /// @dev Registers and confirms 1-3 invoices, checks that non-debtors cannot issue against them
    /// and that an uncovered face value is refused, then issues a slot as the debtor.
    function issue(uint256 coreSeed, uint256 supSeed, uint256 nSeed, uint256 amtSeed, uint256 faceSeed, uint256 matSeed)
        external
        step(Action.Issue)
    {
        IssueCase memory c;
        c.core = _cores[coreSeed % _cores.length];
        c.supplier = _suppliers[supSeed % _suppliers.length];
        bool ok;
        (c.fps, c.sum, ok) = _confirmedInvoices(c.supplier, c.core, bound(nSeed, 1, 3), amtSeed);
        if (!ok) return;
        c.face = bound(faceSeed, 1, c.sum);
        c.maturity = uint40(block.timestamp + bound(matSeed, 14 days, 120 days));
        _refusedIssues(c, coreSeed, faceSeed % 4 == 0);
        uint256 tokenId = _validIssue(c);
        if (tokenId != 0 && nSeed % 2 == 0) _accept(tokenId); // often accepted at once, to get moving
    }

    function _refusedIssues(IssueCase memory c, uint256 seed, bool uncovered) internal {
        IReceivableToken.IssueRequest memory req = _request(c.supplier, c.face, c.maturity, c.fps);
        // Only the slot's debtor issues: any non-core account is refused ...
        address nonCore = _nonCores[(seed >> 8) % _nonCores.length];
        vm.prank(nonCore);
        try token.issue(req) {
            _fail("issue: a non-core account issued a slot");
        } catch {}
        // ... and so is the other core enterprise, which is not the invoices' buyer.
        address otherCore = _cores[(seed % _cores.length + 1) % _cores.length];
        if (otherCore != c.core) {
            vm.prank(otherCore);
            try token.issue(req) {
                _fail("issue: a core enterprise issued against another debtor's invoices");
            } catch {}
        }
        // ... even when it is the buyer that confirmed the invoices (the role check is all that
        // stops it then).
        _nonCoreBuyerIssue(c, seed);
        // A face value above what the invoices cover is refused.
        if (uncovered) {
            req.faceValue = c.sum + 1;
            vm.prank(c.core);
            try token.issue(req) {
                _fail("issue: face value above the invoices' sum accepted");
            } catch {}
        }
        for (uint256 i = 0; i < c.fps.length; ++i) {
            if (registry.invoiceOf(c.fps[i]).status != IInvoiceRegistry.Status.Confirmed) {
                _fail("issue: a refused issue changed an invoice");
            }
        }
    }

    function _nonCoreBuyerIssue(IssueCase memory c, uint256 seed) internal {
        address buyer = _nonCoreMembers[(seed >> 16) % _nonCoreMembers.length];
        if (buyer == c.supplier) {
            buyer = _nonCoreMembers[((seed >> 16) % _nonCoreMembers.length + 1) % _nonCoreMembers.length];
        }
        (bytes32[] memory fps, uint256 sum, bool ok) = _confirmedInvoices(c.supplier, buyer, 1, seed);
        if (!ok) return;
        vm.prank(buyer);
        try token.issue(_request(c.supplier, sum, c.maturity, fps)) {
            _fail("issue: a non-core buyer issued against invoices it confirmed");
        } catch (bytes memory reason) {
            _check(
                keccak256(reason)
                    == keccak256(
                        abi.encodeWithSelector(
                            IReceivableToken.ReceivableUnauthorizedAccount.selector, buyer, Roles.CORE_ENTERPRISE
                        )
                    ),
                "issue: non-core buyer refused with another error"
            );
        }
        _check(
            registry.invoiceOf(fps[0]).status == IInvoiceRegistry.Status.Confirmed,
            "issue: a refused issue changed an invoice"
        );
    }

    function _validIssue(IssueCase memory c) internal returns (uint256) {
        vm.prank(c.core);
        try token.issue(_request(c.supplier, c.face, c.maturity, c.fps)) returns (uint256 slot, uint256 tokenId) {
            ++successes[uint256(Action.Issue)];
            IReceivableToken.SlotData memory d = token.slotData(slot);
            _check(d.debtor == c.core, "issue: debtor is not the issuer");
            _check(d.faceValue == c.face && d.redeemedValue == 0, "issue: slot face/redeemed");
            _check(token.ownerOf(tokenId) == c.supplier, "issue: first holder");
            _check(!token.isAccepted(tokenId), "issue: first token accepted before acceptance");
            _check(_ghostSlots[slot].debtor == address(0), "issue: slot id reused");
            GhostSlot storage gs = _ghostSlots[slot];
            gs.debtor = c.core;
            gs.seller = c.supplier;
            gs.maturity = c.maturity;
            gs.face = c.face;
            gs.invoiceSum = c.sum;
            for (uint256 i = 0; i < c.fps.length; ++i) {
                _check(slotOfInvoice[c.fps[i]] == 0, "issue: invoice already backs a slot");
                slotOfInvoice[c.fps[i]] = slot;
                gs.invoices.push(c.fps[i]);
            }
            _slots.push(slot);
            _addToken(tokenId, c.supplier, slot, c.face);
            return tokenId;
        } catch {
            _fail("issue: a valid issue by the debtor reverted");
            return 0;
        }
    }

    /// @dev The debtor of an existing slot tries to issue again with one of its linked invoices
    /// (plus a fresh one): refused, and the fresh invoice stays Confirmed.
    function reuseInvoice(uint256 slotSeed, uint256 invSeed, uint256 amtSeed) external step(Action.ReuseInvoice) {
        if (_slots.length == 0) return;
        GhostSlot storage gs = _ghostSlots[_slots[slotSeed % _slots.length]];
        bytes32 linked = gs.invoices[invSeed % gs.invoices.length];
        (bytes32[] memory fresh, uint256 sum, bool ok) = _confirmedInvoices(gs.seller, gs.debtor, 1, amtSeed);
        if (!ok) return;
        bytes32[] memory fps = new bytes32[](2);
        (fps[0], fps[1]) = invSeed % 2 == 0 ? (fresh[0], linked) : (linked, fresh[0]);
        IReceivableToken.IssueRequest memory req = _request(gs.seller, sum, uint40(block.timestamp + 30 days), fps);
        vm.prank(gs.debtor);
        try token.issue(req) {
            _fail("reuseInvoice: an invoice backed a second slot");
        } catch {
            ++successes[uint256(Action.ReuseInvoice)];
        }
        _check(
            registry.invoiceOf(fresh[0]).status == IInvoiceRegistry.Status.Confirmed,
            "reuseInvoice: refused issue linked the fresh invoice"
        );
        _check(registry.invoiceOf(linked).slot == slotOfInvoice[linked], "reuseInvoice: linked invoice moved");
    }

    function accept(uint256 tokenSeed) external step(Action.Accept) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (found) _accept(id);
    }

    function _accept(uint256 id) internal {
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        bool expectOk = !gs.accepted && participants.isMember(g.owner);
        vm.prank(g.owner);
        try token.accept(id) {
            ++successes[uint256(Action.Accept)];
            _check(expectOk, "accept: succeeded against the rules");
            gs.accepted = true;
        } catch {
            _check(!expectOk, "accept: valid acceptance reverted");
        }
    }

    /// @dev The owner splits an amount (sometimes zero or more than the balance) to a random account.
    function split(uint256 tokenSeed, uint256 toSeed, uint256 amtSeed) external step(Action.Split) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken memory g = _ghostTokens[id];
        address to = toSeed % 4 == 0 ? g.owner : _actors[toSeed % _actors.length]; // to self: merge fodder
        _split(g.owner, id, to, _amount(amtSeed, g));
    }

    /// @dev The owner grants a random account a value allowance on the token.
    function approveValue(uint256 tokenSeed, uint256 opSeed, uint256 amtSeed) external step(Action.ApproveValue) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken memory g = _ghostTokens[id];
        address operator = _actors[opSeed % _actors.length];
        uint256 amount = amtSeed % 8 == 0 ? type(uint256).max : bound(amtSeed, 0, g.value + 1);
        vm.prank(g.owner);
        try token.approve(id, operator, amount) {
            ++successes[uint256(Action.ApproveValue)];
            _check(operator != g.owner, "approveValue: owner approved itself");
            uint256 expected = amount > type(uint232).max ? type(uint232).max : amount;
            _check(token.allowance(id, operator) == expected, "approveValue: allowance not set");
            _approvals.push(ValueApproval(id, operator));
        } catch {
            _check(operator == g.owner, "approveValue: valid approval reverted");
        }
    }

    /// @dev An operator splits from someone else's token: mostly one that was granted a value
    /// allowance on it (possibly voided since by a whole-token transfer), else a random account.
    function splitByOperator(uint256 tokenSeed, uint256 opSeed, uint256 toSeed, uint256 amtSeed)
        external
        step(Action.SplitByOperator)
    {
        uint256 id;
        address operator;
        if (opSeed % 4 != 0 && _approvals.length != 0) {
            ValueApproval memory a = _approvals[tokenSeed % _approvals.length];
            (id, operator) = (a.tokenId, a.operator);
        }
        if (!_ghostTokens[id].live) {
            bool found;
            (id, found) = _pickToken(tokenSeed);
            if (!found) return;
            operator = _actors[opSeed % _actors.length];
        }
        GhostToken memory g = _ghostTokens[id];
        uint256 amount = _amount(amtSeed, g);
        uint256 allowed = token.allowance(id, operator);
        if (amtSeed % 4 != 0 && allowed != 0 && amount > allowed) amount = allowed; // mostly within the allowance
        _split(operator, id, _actors[toSeed % _actors.length], amount);
    }

    /// @dev Moves value from a token to another token, preferably of the same slot.
    function transferValue(uint256 fromSeed, uint256 toSeed, uint256 amtSeed) external step(Action.TransferValue) {
        (uint256 fromId, bool found) = _pickToken(fromSeed);
        if (!found) return;
        uint256 toId = _sibling(fromId, toSeed, false);
        GhostToken storage gf = _ghostTokens[fromId];
        GhostToken storage gt = _ghostTokens[toId];
        uint256 amount = _amount(amtSeed, gf);
        bool expectOk = fromId != toId && gf.slot == gt.slot && _moveOk(gf, gt.owner, amount);
        uint256 toNftBalance = token.balanceOf(gt.owner);
        vm.prank(gf.owner);
        try token.transferFrom(fromId, toId, amount) {
            ++successes[uint256(Action.TransferValue)];
            _check(expectOk, "transferValue: succeeded against the rules");
            _check(token.balanceOf(fromId) == gf.value - amount, "transferValue: source not debited by amount");
            _check(token.balanceOf(toId) == gt.value + amount, "transferValue: target not credited by amount");
            _check(token.balanceOf(gt.owner) == toNftBalance, "transferValue: NFT balance changed");
            gf.value -= amount;
            gt.value += amount;
        } catch {
            _check(!expectOk, "transferValue: valid move reverted");
        }
    }

    /// @dev The owner transfers the whole token (ERC-721), plain or safe, to a random account.
    function transferToken(uint256 tokenSeed, uint256 toSeed, bool safe) external step(Action.TransferToken) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        address from = g.owner;
        address to = _actors[toSeed % _actors.length];
        bool expectOk = _moveOk(g, to, g.value);
        uint256 fromBal = token.balanceOf(from);
        uint256 toBal = token.balanceOf(to);
        vm.prank(from);
        bool ok;
        if (safe) {
            try token.safeTransferFrom(from, to, id) {
                ok = true;
            } catch {}
        } else {
            try token.transferFrom(from, to, id) {
                ok = true;
            } catch {}
        }
        if (!ok) {
            _check(!expectOk, "transferToken: valid transfer reverted");
            return;
        }
        ++successes[uint256(Action.TransferToken)];
        _check(expectOk, "transferToken: succeeded against the rules");
        _check(token.ownerOf(id) == to, "transferToken: owner not updated");
        _check(token.balanceOf(id) == g.value, "transferToken: value changed");
        if (from != to) {
            _check(token.balanceOf(from) == fromBal - 1, "transferToken: sender NFT balance");
            _check(token.balanceOf(to) == toBal + 1, "transferToken: receiver NFT balance");
        }
        _check(token.getApproved(id) == address(0), "transferToken: approval survived");
        for (uint256 i = 0; i < _actors.length; ++i) {
            _check(token.allowance(id, _actors[i]) == 0, "transferToken: value allowance survived");
        }
        g.owner = to;
    }

    /// @dev Merges a token into another token of its owner: mostly a pair of the same slot and
    /// owner, sometimes any two tokens (refused unless they are such a pair).
    function merge(uint256 fromSeed, uint256 toSeed) external step(Action.Merge) {
        (uint256 fromId, bool found) = _pickToken(fromSeed);
        if (!found) return;
        if (toSeed % 4 != 0) fromId = _withSibling(fromSeed, fromId);
        uint256 toId = _sibling(fromId, toSeed, true);
        GhostToken storage gf = _ghostTokens[fromId];
        GhostToken storage gt = _ghostTokens[toId];
        address owner = gf.owner;
        bool expectOk = fromId != toId && gf.slot == gt.slot && gt.owner == owner && _moveOk(gf, owner, gf.value);
        uint256 nftBal = token.balanceOf(owner);
        vm.prank(owner);
        try token.merge(fromId, toId) {
            ++successes[uint256(Action.Merge)];
            _check(expectOk, "merge: succeeded against the rules");
            _check(token.balanceOf(toId) == gt.value + gf.value, "merge: target not credited with all value");
            _check(token.balanceOf(owner) == nftBal - 1, "merge: NFT balance not decreased");
            try token.ownerOf(fromId) {
                _fail("merge: source token still exists");
            } catch {}
            gt.value += gf.value;
            _removeToken(fromId);
        } catch {
            _check(!expectOk, "merge: valid merge reverted");
        }
    }

    /// @dev The regulator sets the frozen amount (sometimes 0, sometimes too much).
    function setFrozen(uint256 tokenSeed, uint256 amtSeed) external step(Action.SetFrozen) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        uint256 frozen = amtSeed % 3 == 0 ? 0 : bound(amtSeed, 0, g.value - g.encumbered + 1);
        bool expectOk = frozen + g.encumbered <= g.value;
        vm.prank(regulator);
        try token.setFrozen(id, frozen, "fuzz") {
            ++successes[uint256(Action.SetFrozen)];
            _check(expectOk, "setFrozen: lock beyond the balance accepted");
            _check(token.frozenOf(id) == frozen, "setFrozen: frozen not set");
            g.frozen = frozen;
        } catch {
            _check(!expectOk, "setFrozen: valid freeze reverted");
        }
    }

    /// @dev The system (this handler) encumbers part of the free value (only before maturity).
    function encumber(uint256 tokenSeed, uint256 amtSeed) external step(Action.Encumber) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        uint256 free = g.value - g.frozen - g.encumbered;
        uint256 amount = bound(amtSeed, 0, free + 1);
        GhostSlot storage gs = _ghostSlots[g.slot];
        bool expectOk = !ghostPaused && gs.accepted && block.timestamp < gs.maturity && amount != 0 && amount <= free;
        try token.encumber(id, amount) {
            ++successes[uint256(Action.Encumber)];
            _check(expectOk, "encumber: succeeded against the rules");
            _check(token.encumberedOf(id) == g.encumbered + amount, "encumber: encumbered not increased");
            g.encumbered += amount;
        } catch {
            _check(!expectOk, "encumber: valid encumbrance reverted");
        }
    }

    function release(uint256 tokenSeed, uint256 amtSeed) external step(Action.Release) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        uint256 amount = bound(amtSeed, 0, g.encumbered + 1);
        bool expectOk = amount != 0 && amount <= g.encumbered;
        try token.release(id, amount) {
            ++successes[uint256(Action.Release)];
            _check(expectOk, "release: succeeded against the rules");
            g.encumbered -= amount;
        } catch {
            _check(!expectOk, "release: valid release reverted");
        }
    }

    /// @dev The system seizes encumbered value into a new token of a random account (even a non-member).
    function seize(uint256 tokenSeed, uint256 amtSeed, uint256 toSeed) external step(Action.Seize) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        GhostToken storage g = _ghostTokens[id];
        address to = _actors[toSeed % _actors.length];
        uint256 amount = bound(amtSeed, 0, g.encumbered + 1);
        bool expectOk = !ghostPaused && amount != 0 && amount <= g.encumbered;
        uint256 toBal = token.balanceOf(to);
        try token.seize(id, amount, to) returns (uint256 newId) {
            ++successes[uint256(Action.Seize)];
            _check(expectOk, "seize: succeeded against the rules");
            _check(token.balanceOf(newId) == amount, "seize: new token value != amount");
            _check(token.balanceOf(id) == g.value - amount, "seize: source not debited by amount");
            _check(token.slotOf(newId) == g.slot, "seize: new token in another slot");
            _check(token.ownerOf(newId) == to, "seize: new token owner");
            _check(token.balanceOf(to) == toBal + 1, "seize: receiver NFT balance");
            _check(token.encumberedOf(id) == g.encumbered - amount, "seize: encumbrance not reduced");
            g.value -= amount;
            g.encumbered -= amount;
            _addToken(newId, to, g.slot, amount);
        } catch {
            _check(!expectOk, "seize: valid seizure reverted");
        }
    }

    /// @dev Moves time on: mostly hours, sometimes weeks (past maturities).
    function warp(uint256 secondsSeed) external step(Action.Warp) {
        currentTime += secondsSeed % 4 == 0
            ? bound(secondsSeed >> 8, 10 days, 45 days)
            : bound(secondsSeed >> 8, 1 hours, 1 days);
        vm.warp(currentTime);
        ++successes[uint256(Action.Warp)];
    }

    /// @dev The system burns a settled token (mostly one of a matured slot); its value becomes
    /// redeemed value.
    function burnSettled(uint256 tokenSeed) external step(Action.BurnSettled) {
        (uint256 id, bool found) = _pickToken(tokenSeed);
        if (!found) return;
        if (tokenSeed % 4 != 0) id = _matured(tokenSeed, id);
        GhostToken storage g = _ghostTokens[id];
        GhostSlot storage gs = _ghostSlots[g.slot];
        bool expectOk =
            !ghostPaused && gs.accepted && block.timestamp >= gs.maturity && g.frozen == 0 && g.encumbered == 0;
        address owner = g.owner;
        uint256 nftBal = token.balanceOf(owner);
        try token.burnSettled(id) returns (uint256 value) {
            ++successes[uint256(Action.BurnSettled)];
            _check(expectOk, "burnSettled: succeeded against the rules");
            _check(value == g.value, "burnSettled: returned value != token value");
            _check(token.slotData(g.slot).redeemedValue == gs.redeemed + value, "burnSettled: redeemed not credited");
            _check(token.balanceOf(owner) == nftBal - 1, "burnSettled: NFT balance not decreased");
            gs.redeemed += value;
            _removeToken(id);
        } catch {
            _check(!expectOk, "burnSettled: valid burn reverted");
        }
    }

    /// @dev The regulator pauses (1 in 10) or unpauses (otherwise).
    function togglePause(uint256 seed) external step(Action.TogglePause) {
        bool pause = seed % 10 == 0;
        vm.prank(regulator);
        if (pause) {
            try token.pause() {
                ghostPaused = true;
                ++successes[uint256(Action.TogglePause)];
            } catch {
                _fail("pause: regulator could not pause");
            }
        } else {
            try token.unpause() {
                ghostPaused = false;
                ++successes[uint256(Action.TogglePause)];
            } catch {
                _fail("unpause: regulator could not unpause");
            }
        }
        _check(token.paused() == ghostPaused, "pause: flag");
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

    function slotAccepted(uint256 slot) external view returns (bool) {
        return _ghostSlots[slot].accepted;
    }

    function tokenCount() external view returns (uint256) {
        return _allTokens.length;
    }

    function tokenAt(uint256 i) external view returns (uint256) {
        return _allTokens[i];
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

    function actors() external view returns (address[] memory) {
        return _actors;
    }

    function actionName(uint256 i) public pure returns (string memory) {
        string[ACTIONS] memory names = [
            "issue",
            "accept",
            "split",
            "approveValue",
            "splitByOperator",
            "transferValue",
            "transferToken",
            "merge",
            "setFrozen",
            "encumber",
            "release",
            "seize",
            "warp",
            "burnSettled",
            "togglePause",
            "reuseInvoice (refused)"
        ];
        return names[i];
    }

    // ============================================================== internals

    struct SplitCase {
        address caller;
        uint256 id;
        address to;
        uint256 amount;
        bool authorized; // caller is the owner
        bool allowed; // owner, or value allowance covers the amount
        bool invalid; // zero or more than the balance
        bool expectOk;
        uint256 allowanceBefore;
        uint256 fromBefore;
        uint256 toNftBefore;
    }

    /// @dev `caller` splits `amount` of `id` to `to`; checks the split postconditions and the oracle.
    function _split(address caller, uint256 id, address to, uint256 amount) internal {
        GhostToken storage g = _ghostTokens[id];
        SplitCase memory c;
        c.caller = caller;
        c.id = id;
        c.to = to;
        c.amount = amount;
        c.authorized = caller == g.owner;
        c.allowanceBefore = token.allowance(id, caller);
        c.allowed = c.authorized || c.allowanceBefore >= amount;
        c.expectOk = c.allowed && _moveOk(g, to, amount);
        c.fromBefore = token.balanceOf(id);
        c.toNftBefore = token.balanceOf(to);
        c.invalid = amount == 0 || amount > c.fromBefore;
        vm.prank(caller);
        try token.transferFrom(id, to, amount) returns (uint256 newId) {
            ++successes[uint256(c.authorized ? Action.Split : Action.SplitByOperator)];
            _checkSplit(c, newId);
            g.value -= amount;
            _addToken(newId, to, g.slot, amount);
        } catch (bytes memory reason) {
            _check(!c.expectOk, "split: valid split reverted");
            if (c.invalid && c.allowed && _gateOk(g, to)) {
                // Zero or excess amounts fail with the exact custom error.
                bytes memory expected =
                    abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, id, c.fromBefore, amount);
                _check(
                    keccak256(reason) == keccak256(expected), "split: zero/excess amount reverted with another error"
                );
            }
        }
    }

    /// @dev A split debits exactly the amount and creates a token of that value in the same slot.
    function _checkSplit(SplitCase memory c, uint256 newId) internal {
        ++splitChecks;
        _check(!c.invalid, "split: zero or excess amount accepted");
        _check(c.expectOk, "split: succeeded against the rules");
        _check(token.balanceOf(newId) == c.amount, "split: new token value != amount");
        _check(token.balanceOf(c.id) == c.fromBefore - c.amount, "split: source not debited by exactly amount");
        _check(token.slotOf(newId) == token.slotOf(c.id), "split: new token in another slot");
        _check(token.ownerOf(newId) == c.to, "split: new token owner");
        _check(token.isAccepted(newId), "split: new token not accepted");
        _check(token.balanceOf(c.to) == c.toNftBefore + 1, "split: receiver NFT balance");
        _check(!_ghostTokens[newId].live && newId != 0, "split: token id reused");
        if (!c.authorized && c.allowanceBefore != type(uint232).max) {
            _check(token.allowance(c.id, c.caller) == c.allowanceBefore - c.amount, "split: allowance not spent");
        }
    }

    /// @dev Everything {ReceivableToken-_checkMove} asks except the amount.
    function _gateOk(GhostToken storage g, address to) internal view returns (bool) {
        GhostSlot storage gs = _ghostSlots[g.slot];
        return !ghostPaused && gs.accepted && block.timestamp < gs.maturity && participants.isMember(g.owner)
            && (to == g.owner || participants.isMember(to));
    }

    function _moveOk(GhostToken storage g, address to, uint256 amount) internal view returns (bool) {
        return to != address(0) && _gateOk(g, to) && amount != 0 && amount <= g.value - g.frozen - g.encumbered;
    }

    /// @dev Mostly a free amount; sometimes zero, the whole balance, or one more than the balance.
    function _amount(uint256 seed, GhostToken memory g) internal pure returns (uint256) {
        uint256 mode = seed % 10;
        if (mode == 0) return 0;
        if (mode == 1) return g.value + 1;
        if (mode == 2) return g.value;
        uint256 free = g.value - g.frozen - g.encumbered;
        if (free == 0) return bound(seed >> 8, 0, g.value + 1);
        return bound(seed >> 8, 1, free);
    }

    function _pickToken(uint256 seed) internal view returns (uint256 id, bool found) {
        if (_liveTokens.length == 0) return (0, false);
        return (_liveTokens[seed % _liveTokens.length], true);
    }

    /// @dev A live token other than `id` in the same slot (and of the same owner if `sameOwner`),
    /// searching from a random position; falls back to any live token.
    function _sibling(uint256 id, uint256 seed, bool sameOwner) internal view returns (uint256) {
        uint256 n = _liveTokens.length;
        GhostToken storage g = _ghostTokens[id];
        for (uint256 k = 0; k < n; ++k) {
            uint256 other = _liveTokens[(seed % n + k) % n];
            GhostToken storage o = _ghostTokens[other];
            if (other != id && o.slot == g.slot && (!sameOwner || o.owner == g.owner)) return other;
        }
        return _liveTokens[seed % n];
    }

    /// @dev A live token that has a sibling of the same slot and owner, searching from a random
    /// position; `fallbackId` if there is none.
    function _withSibling(uint256 seed, uint256 fallbackId) internal view returns (uint256) {
        uint256 n = _liveTokens.length;
        for (uint256 k = 0; k < n; ++k) {
            uint256 id = _liveTokens[(seed % n + k) % n];
            GhostToken storage g = _ghostTokens[id];
            for (uint256 m = 0; m < n; ++m) {
                uint256 other = _liveTokens[m];
                if (other != id && _ghostTokens[other].slot == g.slot && _ghostTokens[other].owner == g.owner) {
                    return id;
                }
            }
        }
        return fallbackId;
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

    function _confirmedInvoices(address supplier, address core, uint256 n, uint256 amtSeed)
        internal
        returns (bytes32[] memory fps, uint256 sum, bool ok)
    {
        fps = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            fps[i] = keccak256(abi.encode("scf-fuzz-invoice", ++_fpNonce));
            uint256 amount = bound(uint256(keccak256(abi.encode(amtSeed, i))), 1, 1e12);
            sum += amount;
            bytes32[3] memory partials;
            IInvoiceRegistry.InvoiceInput memory input = IInvoiceRegistry.InvoiceInput({
                fingerprint: fps[i],
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
                return (fps, sum, false);
            }
        }
        vm.prank(core);
        try registry.confirm(fps) {}
        catch {
            _fail("registry: valid confirmation reverted");
            return (fps, sum, false);
        }
        ok = true;
    }

    function _request(address holder, uint256 face, uint40 maturity, bytes32[] memory fps)
        internal
        view
        returns (IReceivableToken.IssueRequest memory)
    {
        return IReceivableToken.IssueRequest({
            holder: holder,
            asset: address(usd),
            faceValue: face,
            maturity: maturity,
            gracePeriod: 7 days,
            defaultPeriod: 30 days,
            invoices: fps
        });
    }

    function _addToken(uint256 id, address owner, uint256 slot, uint256 value) internal {
        _ghostTokens[id] = GhostToken({live: true, owner: owner, slot: slot, value: value, frozen: 0, encumbered: 0});
        _allTokens.push(id);
        _liveTokens.push(id);
        _liveIndex[id] = _liveTokens.length;
    }

    function _removeToken(uint256 id) internal {
        GhostToken storage g = _ghostTokens[id];
        g.live = false;
        g.value = 0;
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

/**
 * @dev Invariants of ReceivableToken under random sequences of issue, accept, split (owner and
 * operator), value transfer, whole-token transfer, merge, freeze, encumber/release, seize, time
 * travel, burnSettled and pause, all driven through {Handler}.
 */
contract ReceivableTokenInvariantTest is ScfFixture {
    Handler internal handler;

    function setUp() public {
        _deployScf();
        address[] memory cores = new address[](2);
        cores[0] = core0;
        cores[1] = core1;
        address[] memory suppliers = new address[](3);
        suppliers[0] = sup0;
        suppliers[1] = sup1;
        suppliers[2] = sup2;
        address[] memory others = new address[](1);
        others[0] = lender;
        handler = new Handler(participants, registry, token, usd, regulator, cores, suppliers, others, outsider);
        vm.label(address(handler), "Handler");
        participants.grantRole(Roles.SYSTEM, address(handler)); // encumber, release, seize, burnSettled

        // A selector listed n times is picked n times as often: favour the value moves.
        _weigh(Handler.issue.selector, 2);
        _weigh(Handler.accept.selector, 1);
        _weigh(Handler.split.selector, 4);
        _weigh(Handler.approveValue.selector, 1);
        _weigh(Handler.splitByOperator.selector, 2);
        _weigh(Handler.transferValue.selector, 3);
        _weigh(Handler.transferToken.selector, 2);
        _weigh(Handler.merge.selector, 2);
        _weigh(Handler.setFrozen.selector, 1);
        _weigh(Handler.encumber.selector, 2);
        _weigh(Handler.release.selector, 1);
        _weigh(Handler.seize.selector, 2);
        _weigh(Handler.warp.selector, 1);
        _weigh(Handler.burnSettled.selector, 2);
        _weigh(Handler.togglePause.selector, 1);
        _weigh(Handler.reuseInvoice.selector, 1);
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: _selectors}));
    }

    bytes4[] internal _selectors;

    function _weigh(bytes4 selector, uint256 times) internal {
        for (uint256 i = 0; i < times; ++i) {
            _selectors.push(selector);
        }
    }

    /**
     * @dev All invariants, checked after every fuzzer call. One `invariant_` function means one
     * fuzzing campaign (forge runs a campaign per invariant function); each check's assertion
     * messages say which invariant broke.
     */
    function invariant_receivableToken() public view {
        _checkHandlerAssertions(); // first: its message names the broken rule most precisely
        _checkSlotValueConserved();
        _checkLocksWithinValue();
        _checkNftBalancesMatchOwnership();
        _checkTokensMatchGhostModel();
        _checkInvoicesBackOneSlot();
    }

    /// @dev Per slot: the live tokens' values plus the redeemed value always equal the face value.
    function _checkSlotValueConserved() internal view {
        uint256 n = handler.slotCount();
        uint256[] memory slots = new uint256[](n);
        uint256[] memory sums = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            slots[i] = handler.slotAt(i);
        }
        uint256 liveN = handler.liveTokenCount();
        for (uint256 j = 0; j < liveN; ++j) {
            uint256 id = handler.liveTokenAt(j);
            uint256 slot = token.slotOf(id);
            uint256 i = 0;
            while (i < n && slots[i] != slot) ++i;
            assertTrue(i < n, "token: in a slot that was never issued");
            sums[i] += token.balanceOf(id);
        }
        for (uint256 i = 0; i < n; ++i) {
            IReceivableToken.SlotData memory d = token.slotData(slots[i]);
            Handler.GhostSlot memory gs = handler.ghostSlot(slots[i]);
            assertEq(sums[i] + d.redeemedValue, d.faceValue, "slot: sum of live values + redeemed != face value");
            assertEq(d.faceValue, gs.face, "slot: face value changed");
            assertEq(d.redeemedValue, gs.redeemed, "slot: redeemed value differs from the burns");
        }
    }

    /// @dev Every live token: frozen + encumbered <= value.
    function _checkLocksWithinValue() internal view {
        uint256 liveN = handler.liveTokenCount();
        for (uint256 j = 0; j < liveN; ++j) {
            uint256 id = handler.liveTokenAt(j);
            assertLe(
                token.frozenOf(id) + token.encumberedOf(id), token.balanceOf(id), "token: frozen + encumbered > value"
            );
        }
    }

    /// @dev ERC-721 balanceOf(owner) equals the number of live tokens it owns; burned ids are gone.
    function _checkNftBalancesMatchOwnership() internal view {
        address[] memory actors = handler.actors();
        uint256[] memory counts = new uint256[](actors.length);
        uint256 total = handler.tokenCount();
        for (uint256 j = 0; j < total; ++j) {
            uint256 id = handler.tokenAt(j);
            if (!handler.ghostToken(id).live) {
                try token.ownerOf(id) {
                    assertTrue(false, "token: burned token still has an owner");
                } catch {}
                continue;
            }
            address owner = token.ownerOf(id);
            for (uint256 a = 0; a < actors.length; ++a) {
                if (actors[a] == owner) ++counts[a];
            }
        }
        for (uint256 a = 0; a < actors.length; ++a) {
            assertEq(token.balanceOf(actors[a]), counts[a], "owner: ERC-721 balanceOf != live tokens owned");
        }
    }

    /// @dev The contract agrees with the ghost model on every live token.
    function _checkTokensMatchGhostModel() internal view {
        uint256 liveN = handler.liveTokenCount();
        for (uint256 j = 0; j < liveN; ++j) {
            uint256 id = handler.liveTokenAt(j);
            Handler.GhostToken memory g = handler.ghostToken(id);
            assertEq(token.ownerOf(id), g.owner, "token: owner differs from model");
            assertEq(token.slotOf(id), g.slot, "token: slot differs from model");
            assertEq(token.balanceOf(id), g.value, "token: value differs from model");
            assertEq(token.frozenOf(id), g.frozen, "token: frozen differs from model");
            assertEq(token.encumberedOf(id), g.encumbered, "token: encumbered differs from model");
            assertEq(token.isAccepted(id), handler.slotAccepted(g.slot), "token: acceptance differs from model");
        }
        assertEq(token.paused(), handler.ghostPaused(), "pause flag differs from model");
    }

    /// @dev An invoice backs at most one slot; a slot's face value is covered by its invoices; the
    /// slot's debtor is the invoices' buyer (the only account able to issue it).
    function _checkInvoicesBackOneSlot() internal view {
        uint256 n = handler.slotCount();
        for (uint256 i = 0; i < n; ++i) {
            uint256 slot = handler.slotAt(i);
            Handler.GhostSlot memory gs = handler.ghostSlot(slot);
            IReceivableToken.SlotData memory d = token.slotData(slot);
            uint256 covered;
            for (uint256 k = 0; k < gs.invoices.length; ++k) {
                IInvoiceRegistry.Invoice memory inv = registry.invoiceOf(gs.invoices[k]);
                assertEq(uint256(inv.slot), slot, "invoice: linked to another slot");
                assertTrue(inv.status == IInvoiceRegistry.Status.Linked, "invoice: not Linked");
                assertEq(handler.slotOfInvoice(gs.invoices[k]), slot, "invoice: backs two slots");
                assertEq(inv.buyer, d.debtor, "invoice: buyer is not the slot's debtor");
                assertEq(inv.seller, gs.seller, "invoice: seller is not the first holder");
                covered += inv.amount;
            }
            assertEq(covered, gs.invoiceSum, "invoice: amounts changed");
            assertLe(d.faceValue, covered, "slot: face value above the invoices' sum");
            assertEq(d.debtor, gs.debtor, "slot: debtor is not the issuer");
        }
    }

    /// @dev Checks done inside the handler (split postconditions, refused non-debtor issues, the
    /// success oracle) all held.
    function _checkHandlerAssertions() internal view {
        assertEq(handler.violations(), 0, string.concat("handler: ", handler.firstViolation()));
    }

    /// @dev Run once per campaign run: prints what the fuzzer exercised (visible with -vv).
    function afterInvariant() external view {
        for (uint256 i = 0; i < 16; ++i) {
            console.log(string.concat(handler.actionName(i), " tried"), handler.tries(i));
            console.log(string.concat(handler.actionName(i), " ok"), handler.successes(i));
        }
        console.log("slots", handler.slotCount());
        console.log("tokens minted", handler.tokenCount());
        console.log("tokens live", handler.liveTokenCount());
        console.log("splits checked", handler.splitChecks());
    }
}
