// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Participants} from "../../contracts/Participants.sol";
import {InvoiceRegistry} from "../../contracts/InvoiceRegistry.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {Roles} from "../../contracts/Roles.sol";
import {TestStablecoin} from "../../contracts/mocks/TestStablecoin.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {TestBase} from "./TestBase.sol";

/**
 * @dev Deploys the real Participants, InvoiceRegistry, ReceivableToken (6 value decimals) and
 * TestStablecoin, admits a small consortium and offers issue helpers. The test contract is the
 * default admin; `registrar` is the KYC registrar; the token holds SYSTEM_ROLE (it links invoices).
 */
abstract contract ScfFixture is TestBase {
    uint64 internal constant MEMBERSHIP = 100 * 365 days;

    Participants internal participants;
    InvoiceRegistry internal registry;
    ReceivableToken internal token;
    TestStablecoin internal usd;

    address internal registrar;
    address internal core0;
    address internal core1;
    address internal sup0;
    address internal sup1;
    address internal sup2;
    address internal lender;
    address internal regulator;
    address internal outsider; // never admitted

    uint256 private _fpNonce;

    function _deployScf() internal {
        vm.warp(1_750_000_000);
        participants = new Participants(0, address(this));
        registry = new InvoiceRegistry(participants);
        token = new ReceivableToken(participants, registry, 6);
        usd = new TestStablecoin();
        vm.label(address(participants), "Participants");
        vm.label(address(registry), "InvoiceRegistry");
        vm.label(address(token), "ReceivableToken");
        vm.label(address(usd), "tUSD");

        registrar = makeAddr("registrar");
        core0 = makeAddr("core0");
        core1 = makeAddr("core1");
        sup0 = makeAddr("sup0");
        sup1 = makeAddr("sup1");
        sup2 = makeAddr("sup2");
        lender = makeAddr("lender");
        regulator = makeAddr("regulator");
        outsider = makeAddr("outsider");

        participants.grantRole(Roles.KYC_REGISTRAR, registrar);
        participants.grantRole(Roles.SYSTEM, address(token));
        _admit(core0, Roles.CORE_ENTERPRISE);
        _admit(core1, Roles.CORE_ENTERPRISE);
        _admit(sup0, Roles.SUPPLIER);
        _admit(sup1, Roles.SUPPLIER);
        _admit(sup2, Roles.SUPPLIER);
        _admit(lender, Roles.LENDER);
        _admit(regulator, Roles.REGULATOR);
    }

    function _admit(address account, bytes32 role) internal {
        bytes32[] memory roles = new bytes32[](1);
        roles[0] = role;
        vm.prank(registrar);
        participants.admit(account, keccak256(abi.encode(account)), uint64(block.timestamp) + MEMBERSHIP, roles);
    }

    /// @dev `supplier` registers invoices of `amounts` to `core`, which confirms them.
    function _confirmedInvoices(address supplier, address core, uint256[] memory amounts)
        internal
        returns (bytes32[] memory fps)
    {
        fps = new bytes32[](amounts.length);
        for (uint256 i = 0; i < amounts.length; ++i) {
            fps[i] = keccak256(abi.encode("scf-fixture-invoice", ++_fpNonce));
            bytes32[3] memory partials;
            IInvoiceRegistry.InvoiceInput memory input = IInvoiceRegistry.InvoiceInput({
                fingerprint: fps[i],
                seller: supplier,
                buyer: core,
                asset: address(usd),
                amount: uint96(amounts[i]),
                issueDate: uint40(block.timestamp),
                documentHash: keccak256(abi.encode(fps[i])),
                partialFingerprints: partials
            });
            vm.prank(supplier);
            registry.register(input);
        }
        vm.prank(core);
        registry.confirm(fps);
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

    /// @dev `core` issues `face` to `supplier` against one fresh invoice of `face`; the supplier accepts.
    function _issueAccepted(address core, address supplier, uint256 face) internal returns (uint256 slot, uint256 id) {
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = face;
        bytes32[] memory fps = _confirmedInvoices(supplier, core, amounts);
        vm.prank(core);
        (slot, id) = token.issue(_request(supplier, face, uint40(block.timestamp + 30 days), fps));
        vm.prank(supplier);
        token.accept(id);
    }

    /// @dev Sum and count of the live tokens of `slot` among its serials 1..maxSerial (token ids are
    /// `slot * SLOT_BASE + serial`).
    function _slotSum(uint256 slot, uint256 maxSerial) internal view returns (uint256 sum, uint256 live) {
        uint256 first = slot * token.SLOT_BASE();
        for (uint256 id = first + 1; id <= first + maxSerial; ++id) {
            try token.balanceOf(id) returns (uint256 value) {
                assertEq(token.slotOf(id), slot, "token id outside its slot");
                sum += value;
                ++live;
            } catch {}
        }
    }

    /// @dev Asserts the per-slot conservation law: live values + redeemed == face value.
    function _assertConserved(uint256 slot, uint256 maxSerial) internal view {
        (uint256 sum,) = _slotSum(slot, maxSerial);
        IReceivableToken.SlotData memory d = token.slotData(slot);
        assertEq(sum + d.redeemedValue, d.faceValue, "slot: live value + redeemed != face value");
    }
}
