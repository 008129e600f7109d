"""Every member's business action as an unsent contract call, built in one place.

The client's role actors (and ``ledger.financing`` / ``ledger.settlement``) send these calls with a
local key; the API builds the same calls as unsigned transactions for members to sign in their own
wallets. Arguments are plain Python values (ints, checksummed or lower-case addresses, bytes); the
vault and the desk are passed by address (tests deploy their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger.errors import InvalidInputError
from ledger.fingerprint import Fingerprints, fingerprint

if TYPE_CHECKING:
    from ledger.client import InvoiceRegistration, IssueRequest, Ledger
    from ledger.financing import Offer

SPLIT = "transferFrom(uint256,address,uint256)"
TRANSFER_VALUE = "transferFrom(uint256,uint256,uint256)"
TRANSFER_TOKEN = "transferFrom(address,address,uint256)"
SAFE_TRANSFER_TOKEN = "safeTransferFrom(address,address,uint256)"
APPROVE_VALUE = "approve(uint256,address,uint256)"
APPROVE_TOKEN = "approve(address,uint256)"
UINT96_MAX = 2**96 - 1


def _address(value: str) -> str:
    return Web3.to_checksum_address(value)


def confirm_invoices(ledger: Ledger, fingerprints: Sequence[bytes]) -> ContractFunction:
    return ledger.invoices.functions.confirm(list(fingerprints))


def void_invoice(ledger: Ledger, fingerprint: bytes, reason: bytes) -> ContractFunction:
    return ledger.invoices.functions.void(fingerprint, reason)


def set_delegate(ledger: Ledger, delegate: str, allowed: bool) -> ContractFunction:
    return ledger.invoices.functions.setDelegate(_address(delegate), allowed)


def accept(ledger: Ledger, token_id: int) -> ContractFunction:
    return ledger.receivables.functions.accept(token_id)


def accept_with_signature(ledger: Ledger, token_id: int, deadline: int, signature: bytes) -> ContractFunction:
    return ledger.receivables.functions.acceptWithSig(token_id, deadline, signature)


def split(ledger: Ledger, token_id: int, to: str, value: int) -> ContractFunction:
    return ledger.receivables.get_function_by_signature(SPLIT)(token_id, _address(to), value)


def transfer_value(ledger: Ledger, from_token_id: int, to_token_id: int, value: int) -> ContractFunction:
    return ledger.receivables.get_function_by_signature(TRANSFER_VALUE)(from_token_id, to_token_id, value)


def transfer_token(ledger: Ledger, owner: str, to: str, token_id: int, safe: bool = False) -> ContractFunction:
    signature = SAFE_TRANSFER_TOKEN if safe else TRANSFER_TOKEN
    return ledger.receivables.get_function_by_signature(signature)(_address(owner), _address(to), token_id)


def merge(ledger: Ledger, from_token_id: int, to_token_id: int) -> ContractFunction:
    return ledger.receivables.functions.merge(from_token_id, to_token_id)


def approve_value(ledger: Ledger, token_id: int, operator: str, value: int) -> ContractFunction:
    return ledger.receivables.get_function_by_signature(APPROVE_VALUE)(token_id, _address(operator), value)


def approve_token(ledger: Ledger, operator: str, token_id: int) -> ContractFunction:
    return ledger.receivables.get_function_by_signature(APPROVE_TOKEN)(_address(operator), token_id)


def set_approval_for_all(ledger: Ledger, operator: str, approved: bool) -> ContractFunction:
    return ledger.receivables.functions.setApprovalForAll(_address(operator), approved)


# ------------------------------------------------------------- invoices and payables


def invoice_input(ledger: Ledger, registration: InvoiceRegistration, key: bytes) -> tuple[Fingerprints, tuple]:
    """The fingerprints of ``registration`` under the consortium ``key`` and its ``InvoiceInput`` struct."""
    fields = registration.fields
    prints = fingerprint(fields, key)
    if fields.amount > UINT96_MAX:
        raise InvalidInputError("InvoiceAmountTooLarge", {"amount": fields.amount}, "amount exceeds uint96")
    item = (
        prints.full,
        _address(fields.seller),
        _address(fields.buyer),
        _address(registration.asset or ledger.deployment.settlement_asset),
        fields.amount,
        fields.issue_timestamp,
        registration.document_hash,
        list(prints.partial),
    )
    return prints, item


def register_invoice(ledger: Ledger, item: tuple) -> ContractFunction:
    """Register one invoice (an ``InvoiceInput`` from :func:`invoice_input`)."""
    return ledger.invoices.functions.register(item)


def register_invoices(ledger: Ledger, items: Sequence[tuple]) -> ContractFunction:
    return ledger.invoices.functions.registerBatch(list(items))


def issue(ledger: Ledger, request: IssueRequest) -> ContractFunction:
    """A core enterprise confirms a payable to its supplier as a receivable token."""
    return ledger.receivables.functions.issue((
        _address(request.holder),
        _address(request.asset or ledger.deployment.settlement_asset),
        request.face_value,
        request.maturity,
        request.grace_period,
        request.default_period,
        list(request.invoices),
    ))


# ------------------------------------------------------------------ settlement vault


def deposit(ledger: Ledger, vault: str, slot: int, amount: int) -> ContractFunction:
    """The debtor pays ``amount`` of the slot's asset toward ``slot`` (after approving the vault for it)."""
    return ledger.chain.contract("SettlementVault", vault).functions.deposit(slot, amount)


def redeem(ledger: Ledger, vault: str, token_id: int) -> ContractFunction:
    return ledger.chain.contract("SettlementVault", vault).functions.redeem(token_id)


def approve_asset(ledger: Ledger, spender: str, amount: int, asset: str | None = None) -> ContractFunction:
    """ERC-20 ``approve`` of the settlement asset (or ``asset``) to ``spender`` (the vault or the desk)."""
    token = ledger.chain.contract("TestStablecoin", asset or ledger.deployment.settlement_asset)  # any ERC-20
    return token.functions.approve(_address(spender), amount)


# -------------------------------------------------------------------- financing desk


def take_offer(ledger: Ledger, desk: str, offer: Offer, token_id: int, lender_signature: bytes) -> ContractFunction:
    """The holder of ``token_id`` takes terms its lender signed (settled in tokens)."""
    return ledger.chain.contract("FinancingDesk", desk).functions.takeOffer(offer.as_tuple(), token_id,
                                                                           lender_signature)


def repay(ledger: Ledger, desk: str, loan_id: int) -> ContractFunction:
    return ledger.chain.contract("FinancingDesk", desk).functions.repay(loan_id)


def cancel_nonce(ledger: Ledger, desk: str, nonce: int) -> ContractFunction:
    """The signer cancels its signed terms with ``nonce`` (an offer it no longer stands by)."""
    return ledger.chain.contract("FinancingDesk", desk).functions.cancelNonce(nonce)
