// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {IInvoiceRegistry} from "./interfaces/IInvoiceRegistry.sol";
import {IParticipants} from "./interfaces/IParticipants.sol";
import {Roles} from "./Roles.sol";

/**
 * @dev Invoice notary: Registered -> Confirmed -> Linked(slot) -> Settled, or Voided before linking.
 *
 * Only the seller (or a delegate it named) registers; only the buyer confirms; only system
 * contracts (holders of SYSTEM_ROLE in {Participants}) link invoices to payables and settle them.
 * A fingerprint is unique for ever, so a voided invoice cannot be registered again.
 */
contract InvoiceRegistry is IInvoiceRegistry, Context {
    IParticipants private immutable _participants;
    mapping(bytes32 fingerprint => Invoice) private _invoices;
    mapping(address seller => mapping(address delegate => bool)) private _delegates;

    constructor(IParticipants participants_) {
        _participants = participants_;
    }

    function participants() external view returns (IParticipants) {
        return _participants;
    }

    /// @inheritdoc IInvoiceRegistry
    function invoiceOf(bytes32 fingerprint) external view returns (Invoice memory) {
        return _invoices[fingerprint];
    }

    /// @inheritdoc IInvoiceRegistry
    function isDelegate(address seller, address delegate) external view returns (bool) {
        return _delegates[seller][delegate];
    }

    /**
     * @dev Allows or disallows `delegate` to register invoices in the caller's name.
     *
     * Emits {DelegateSet}.
     */
    function setDelegate(address delegate, bool allowed) external {
        _delegates[_msgSender()][delegate] = allowed;
        emit DelegateSet(_msgSender(), delegate, allowed);
    }

    /**
     * @dev Registers one invoice.
     *
     * Requirements:
     * - the caller is `input.seller` or a delegate of it;
     * - the seller is a current SUPPLIER, the buyer a current member;
     * - fingerprint, asset and amount are non-zero and seller differs from buyer;
     * - the fingerprint was never registered.
     *
     * Emits {InvoiceRegistered}.
     */
    function register(InvoiceInput calldata input) external {
        _register(input);
    }

    /**
     * @dev Registers many invoices in one transaction; reverts as a whole on the first bad one.
     *
     * Emits an {InvoiceRegistered} per invoice.
     */
    function registerBatch(InvoiceInput[] calldata inputs) external {
        for (uint256 i = 0; i < inputs.length; ++i) {
            _register(inputs[i]);
        }
    }

    /**
     * @dev The buyer confirms it owes the invoices.
     *
     * Requirements: the caller is each invoice's buyer and a current member; each is Registered.
     *
     * Emits an {InvoiceConfirmed} per invoice.
     */
    function confirm(bytes32[] calldata fingerprints) external {
        address buyer = _msgSender();
        if (!_participants.isMember(buyer)) revert InvoiceUnauthorizedMember(buyer, bytes32(0));
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            Invoice storage invoice = _existing(fingerprints[i]);
            if (invoice.buyer != buyer) revert InvoiceUnauthorizedBuyer(buyer, invoice.buyer);
            if (invoice.status != Status.Registered) revert InvoiceInvalidStatus(fingerprints[i], invoice.status);
            invoice.status = Status.Confirmed;
            emit InvoiceConfirmed(fingerprints[i], buyer);
        }
    }

    /**
     * @dev Voids an invoice that backs no payable, with a `reason` code. Voided fingerprints stay taken.
     *
     * Requirements: the caller is the seller, a delegate of it, or the buyer; the invoice is
     * Registered or Confirmed.
     *
     * Emits {InvoiceVoided}.
     */
    function void(bytes32 fingerprint, bytes32 reason) external {
        Invoice storage invoice = _existing(fingerprint);
        address caller = _msgSender();
        if (caller != invoice.buyer && caller != invoice.seller && !_delegates[invoice.seller][caller]) {
            revert InvoiceUnauthorizedSeller(caller, invoice.seller);
        }
        if (invoice.status != Status.Registered && invoice.status != Status.Confirmed) {
            revert InvoiceInvalidStatus(fingerprint, invoice.status);
        }
        invoice.status = Status.Voided;
        emit InvoiceVoided(fingerprint, caller, reason);
    }

    /**
     * @inheritdoc IInvoiceRegistry
     * @dev Requirements: the caller has SYSTEM_ROLE; each invoice is Confirmed and has the given
     * seller, buyer and asset. Emits an {InvoiceLinked} per invoice.
     */
    function link(bytes32[] calldata fingerprints, uint64 slot, address seller, address buyer, address asset)
        external
        returns (uint256 total)
    {
        _checkSystem();
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            Invoice storage invoice = _existing(fingerprints[i]);
            if (invoice.status != Status.Confirmed) revert InvoiceInvalidStatus(fingerprints[i], invoice.status);
            if (invoice.seller != seller || invoice.buyer != buyer || invoice.asset != asset) {
                revert InvoiceMismatch(fingerprints[i]);
            }
            invoice.status = Status.Linked;
            invoice.slot = slot;
            total += invoice.amount;
            emit InvoiceLinked(fingerprints[i], slot);
        }
    }

    /**
     * @inheritdoc IInvoiceRegistry
     * @dev Requirements: the caller has SYSTEM_ROLE; each invoice is Linked to `slot`.
     * Emits an {InvoiceSettled} per invoice.
     */
    function markSettled(bytes32[] calldata fingerprints, uint64 slot) external {
        _checkSystem();
        for (uint256 i = 0; i < fingerprints.length; ++i) {
            Invoice storage invoice = _existing(fingerprints[i]);
            if (invoice.status != Status.Linked || invoice.slot != slot) {
                revert InvoiceInvalidStatus(fingerprints[i], invoice.status);
            }
            invoice.status = Status.Settled;
            emit InvoiceSettled(fingerprints[i], slot);
        }
    }

    function _register(InvoiceInput calldata input) private {
        address caller = _msgSender();
        if (caller != input.seller && !_delegates[input.seller][caller]) {
            revert InvoiceUnauthorizedSeller(caller, input.seller);
        }
        if (
            input.fingerprint == bytes32(0) || input.amount == 0 || input.asset == address(0)
                || input.seller == input.buyer
        ) revert InvoiceInvalidInput(input.fingerprint);
        if (!_participants.isActive(input.seller, Roles.SUPPLIER)) {
            revert InvoiceUnauthorizedMember(input.seller, Roles.SUPPLIER);
        }
        if (!_participants.isMember(input.buyer)) revert InvoiceUnauthorizedMember(input.buyer, bytes32(0));
        Invoice storage invoice = _invoices[input.fingerprint];
        if (invoice.status != Status.None) {
            revert InvoiceAlreadyRegistered(input.fingerprint, invoice.seller, invoice.registeredAt);
        }
        invoice.seller = input.seller;
        invoice.status = Status.Registered;
        invoice.registeredAt = uint40(block.timestamp);
        invoice.buyer = input.buyer;
        invoice.asset = input.asset;
        invoice.amount = input.amount;
        invoice.documentHash = input.documentHash;
        emit InvoiceRegistered(
            input.fingerprint,
            input.seller,
            input.buyer,
            input.asset,
            input.amount,
            input.issueDate,
            input.documentHash,
            input.partialFingerprints
        );
    }

    function _existing(bytes32 fingerprint) private view returns (Invoice storage invoice) {
        invoice = _invoices[fingerprint];
        if (invoice.status == Status.None) revert InvoiceNotFound(fingerprint);
    }

    function _checkSystem() private view {
        if (!IAccessControl(address(_participants)).hasRole(Roles.SYSTEM, _msgSender())) {
            revert InvoiceUnauthorizedSystem(_msgSender());
        }
    }
}
