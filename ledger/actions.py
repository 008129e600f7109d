"""Every holder-side business action as an unsent contract call, built in one place.

The client's role actors send these calls with a local key; the API builds the same calls as
unsigned transactions for members to sign in their own wallets. Arguments are plain Python
values (ints, checksummed or lower-case addresses, bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from web3 import Web3
from web3.contract.contract import ContractFunction

if TYPE_CHECKING:
    from ledger.client import Ledger

SPLIT = "transferFrom(uint256,address,uint256)"
TRANSFER_VALUE = "transferFrom(uint256,uint256,uint256)"
TRANSFER_TOKEN = "transferFrom(address,address,uint256)"
SAFE_TRANSFER_TOKEN = "safeTransferFrom(address,address,uint256)"
APPROVE_VALUE = "approve(uint256,address,uint256)"
APPROVE_TOKEN = "approve(address,uint256)"


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
