// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev Notary of invoices. An invoice is known by its fingerprint, a keyed hash of its normalized
 * fields (seller, buyer, number, amount, currency, issue date) computed off-chain with the
 * consortium key, so an invoice can back at most one financing.
 */
interface IInvoiceRegistry {
    enum Status {
        None,
        Registered,
        Confirmed,
        Linked,
        Settled,
        Voided
    }

    /// @dev What a seller registers. `partialFingerprints` are keyed hashes of field combinations
    /// (seller+buyer+amount+date, seller+number, buyer+number+amount) for off-chain near-duplicate
    /// detection; they are emitted, not stored, and not unique-checked.
    struct InvoiceInput {
        bytes32 fingerprint;
        address seller;
        address buyer;
        address asset;
        uint96 amount;
        uint40 issueDate;
        bytes32 documentHash;
        bytes32[3] partialFingerprints;
    }

    struct Invoice {
        address seller;
        Status status;
        uint40 registeredAt;
        address buyer;
        uint64 slot;
        address asset;
        uint96 amount;
        bytes32 documentHash;
    }

    /// @dev `fingerprint` is registered already, by `seller` at `registeredAt`.
    error InvoiceAlreadyRegistered(bytes32 fingerprint, address seller, uint40 registeredAt);

    /// @dev No invoice has `fingerprint`.
    error InvoiceNotFound(bytes32 fingerprint);

    /// @dev The invoice is in `status`, which does not allow the action.
    error InvoiceInvalidStatus(bytes32 fingerprint, Status status);

    /// @dev `caller` may not act for `seller`.
    error InvoiceUnauthorizedSeller(address caller, address seller);

    /// @dev `caller` is not the buyer `buyer` of the invoice.
    error InvoiceUnauthorizedBuyer(address caller, address buyer);

    /// @dev `caller` is not one of the system contracts allowed to link and settle invoices.
    error InvoiceUnauthorizedSystem(address caller);

    /// @dev A field is empty or inconsistent (zero fingerprint, amount, asset, or seller == buyer).
    error InvoiceInvalidInput(bytes32 fingerprint);

    /// @dev The invoice does not belong to the payable being linked (other seller, buyer or asset).
    error InvoiceMismatch(bytes32 fingerprint);

    /// @dev `account` lacks the member role the action needs.
    error InvoiceUnauthorizedMember(address account, bytes32 role);

    event InvoiceRegistered(
        bytes32 indexed fingerprint,
        address indexed seller,
        address indexed buyer,
        address asset,
        uint256 amount,
        uint40 issueDate,
        bytes32 documentHash,
        bytes32[3] partialFingerprints
    );
    event InvoiceConfirmed(bytes32 indexed fingerprint, address indexed buyer);
    event InvoiceLinked(bytes32 indexed fingerprint, uint256 indexed slot);
    event InvoiceSettled(bytes32 indexed fingerprint, uint256 indexed slot);
    event InvoiceVoided(bytes32 indexed fingerprint, address indexed by, bytes32 reason);
    event DelegateSet(address indexed seller, address indexed delegate, bool allowed);

    function invoiceOf(bytes32 fingerprint) external view returns (Invoice memory);

    function isDelegate(address seller, address delegate) external view returns (bool);

    /**
     * @dev Marks confirmed invoices as backing `slot`; returns the sum of their amounts.
     * Called by the receivable token when a debtor issues a payable.
     */
    function link(bytes32[] calldata fingerprints, uint64 slot, address seller, address buyer, address asset)
        external
        returns (uint256 total);

    /// @dev Marks the invoices of `slot` settled. Called by the settlement vault.
    function markSettled(bytes32[] calldata fingerprints, uint64 slot) external;
}
