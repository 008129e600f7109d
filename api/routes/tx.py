"""Transactions members sign themselves: build them unsigned, then relay them signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import CurrentMember, LedgerDep
from api.errors import ErrorBody, jsonable
from api.relay import relay
from api.types import Address, Bytes32, HexBytes, PositiveUint, Uint256
from ledger import actions
from ledger.client import Ledger

router = APIRouter(prefix="/tx", tags=["transactions"])
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "not allowed for this caller"},
    409: {"model": ErrorBody, "description": "the contract refuses it now (its custom error and arguments)"},
    422: {"model": ErrorBody, "description": "malformed request"},
}


class Accept(BaseModel):
    action: Literal["accept"]
    token_id: PositiveUint


class Split(BaseModel):
    action: Literal["split"]
    token_id: PositiveUint
    to: Address
    value: PositiveUint


class TransferValue(BaseModel):
    action: Literal["transfer_value"]
    from_token_id: PositiveUint
    to_token_id: PositiveUint
    value: PositiveUint


class TransferToken(BaseModel):
    action: Literal["transfer_token"]
    token_id: PositiveUint
    to: Address


class Merge(BaseModel):
    action: Literal["merge"]
    from_token_id: PositiveUint
    to_token_id: PositiveUint


class ApproveValue(BaseModel):
    action: Literal["approve_value"]
    token_id: PositiveUint
    operator: Address
    value: Uint256


class SetApprovalForAll(BaseModel):
    action: Literal["set_approval_for_all"]
    operator: Address
    approved: bool


class ConfirmInvoices(BaseModel):
    action: Literal["confirm_invoices"]
    fingerprints: list[Bytes32] = Field(min_length=1, max_length=500)


Action = Annotated[
    Accept | Split | TransferValue | TransferToken | Merge | ApproveValue | SetApprovalForAll | ConfirmInvoices,
    Field(discriminator="action"),
]

_CALLS: dict[str, Callable[[Ledger, Any, str], Any]] = {
    "accept": lambda ledger, a, _: actions.accept(ledger, a.token_id),
    "split": lambda ledger, a, _: actions.split(ledger, a.token_id, a.to, a.value),
    "transfer_value": lambda ledger, a, _: actions.transfer_value(ledger, a.from_token_id, a.to_token_id, a.value),
    "transfer_token": lambda ledger, a, sender: actions.transfer_token(ledger, sender, a.to, a.token_id),
    "merge": lambda ledger, a, _: actions.merge(ledger, a.from_token_id, a.to_token_id),
    "approve_value": lambda ledger, a, _: actions.approve_value(ledger, a.token_id, a.operator, a.value),
    "set_approval_for_all": lambda ledger, a, _: actions.set_approval_for_all(ledger, a.operator, a.approved),
    "confirm_invoices": lambda ledger, a, _: actions.confirm_invoices(ledger, a.fingerprints),
}


class UnsignedTx(BaseModel):
    """Sign this with the wallet of ``from`` and POST it to /tx/send."""

    transaction: dict[str, Any]


class SendIn(BaseModel):
    raw_transaction: HexBytes


class EventOut(BaseModel):
    contract: str
    name: str
    args: dict[str, Any]
    log_index: int


class SentOut(BaseModel):
    tx_hash: str
    block_number: int
    gas_used: int
    events: list[EventOut]


@router.post("/build", responses=REFUSALS)
def build(caller: CurrentMember, ledger: LedgerDep, action: Action) -> UnsignedTx:
    """The unsigned transaction for the caller's own action, simulated first: a refusal is the
    contract's custom error (HTTP 409) and nothing is built."""
    call = _CALLS[action.action](ledger, action, caller.address)
    tx = ledger.chain.build(caller.address, call)
    return UnsignedTx(transaction={k: jsonable(v) for k, v in tx.items()})


@router.post("/send", responses=REFUSALS)
def send(caller: CurrentMember, ledger: LedgerDep, body: SendIn) -> SentOut:
    """Relay the caller's signed transaction to one of our contracts on our chain."""
    result = relay(ledger, caller.address, body.raw_transaction)  # HexBytes validated it into bytes
    return SentOut(
        tx_hash=result.tx_hash,
        block_number=result.block_number,
        gas_used=result.gas_used,
        events=[EventOut(contract=e.contract, name=e.name, args={k: jsonable(v) for k, v in e.args.items()},
                         log_index=e.log_index) for e in result.events],
    )
