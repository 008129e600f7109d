"""Transactions members sign themselves: build them unsigned, then relay them signed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from api.config import Settings
from api.deps import CurrentMember, LedgerDep, SessionDep, SettingsDep
from api.errors import ApiError, ErrorBody, jsonable
from api.relay import relay
from api.routes.offers import BookDep, chain_now, load, require_open
from api.types import Address, Bytes32, HexBytes, PositiveUint, Uint256
from indexer.models import Invoice
from ledger import actions
from ledger.client import InvoiceRegistration, IssueRequest, Ledger
from ledger.fingerprint import InvoiceFields
from ledger.records import InvoiceStatus

router = APIRouter(prefix="/tx", tags=["transactions"])
REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "not allowed for this caller"},
    409: {"model": ErrorBody, "description": "the contract refuses it now (its custom error and arguments); an "
          "invoice registered already; an offer no longer open"},
    422: {"model": ErrorBody, "description": "malformed request"},
    503: {"model": ErrorBody, "description": "invoice registration: the service has no consortium key"},
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


class RegisterInvoice(BaseModel):
    """The invoice's printed fields and its document's SHA-256 (computed by the client; the document stays
    with it). The service fingerprints the fields under the consortium key."""

    action: Literal["register_invoice"]
    buyer: Address
    number: str = Field(min_length=1, max_length=64)
    amount: PositiveUint
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    issue_date: date
    document_hash: Bytes32
    seller: Address | None = None  # a seller that named the caller its delegate; default: the caller


class IssuePayable(BaseModel):
    action: Literal["issue_payable"]
    holder: Address
    face_value: PositiveUint
    maturity: Annotated[int, Field(gt=0, lt=2**40)]
    invoices: list[Bytes32] = Field(min_length=1, max_length=500)
    grace_period: Annotated[int, Field(ge=0, lt=2**32)] = 7 * 86400
    default_period: Annotated[int, Field(ge=0, lt=2**32)] = 90 * 86400


class ApproveAsset(BaseModel):
    """ERC-20 approval of the settlement asset to the deployment's vault (deposits) or desk (a lender's price)."""

    action: Literal["approve_asset"]
    spender: Literal["SettlementVault", "FinancingDesk"]
    amount: Uint256


class Deposit(BaseModel):
    action: Literal["deposit"]
    slot: Annotated[int, Field(ge=0, lt=2**64)]
    amount: PositiveUint


class Redeem(BaseModel):
    action: Literal["redeem"]
    token_id: PositiveUint


class TakeOffer(BaseModel):
    """Take an open offer of the book (its lender's stored signature is supplied by the server)."""

    action: Literal["take_offer"]
    offer_id: Annotated[int, Field(ge=1, le=2**62)]


class Repay(BaseModel):
    action: Literal["repay"]
    loan_id: PositiveUint


class CancelOfferNonce(BaseModel):
    action: Literal["cancel_offer_nonce"]
    nonce: Uint256


Action = Annotated[
    Accept | Split | TransferValue | TransferToken | Merge | ApproveValue | SetApprovalForAll | ConfirmInvoices
    | RegisterInvoice | IssuePayable | ApproveAsset | Deposit | Redeem | TakeOffer | Repay | CancelOfferNonce,
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
    "issue_payable": lambda ledger, a, _: actions.issue(ledger, IssueRequest(
        holder=a.holder, face_value=a.face_value, maturity=a.maturity, invoices=a.invoices,
        grace_period=a.grace_period, default_period=a.default_period)),
    "approve_asset": lambda ledger, a, _: actions.approve_asset(ledger, ledger.address(a.spender), a.amount),
    "deposit": lambda ledger, a, _: actions.deposit(ledger, ledger.address("SettlementVault"), a.slot, a.amount),
    "redeem": lambda ledger, a, _: actions.redeem(ledger, ledger.address("SettlementVault"), a.token_id),
    "repay": lambda ledger, a, _: actions.repay(ledger, ledger.address("FinancingDesk"), a.loan_id),
    "cancel_offer_nonce": lambda ledger, a, _: actions.cancel_nonce(ledger, ledger.address("FinancingDesk"), a.nonce),
}


@dataclass(frozen=True)
class Service:
    """What actions built from the service's own data need: its settings, the mirror and the offer book."""

    ledger: Ledger
    sender: str
    settings: Settings
    session: Session
    book: Engine


def _register_invoice(service: Service, a: RegisterInvoice) -> Any:
    """Fingerprint under the consortium key, refuse a registered invoice (mirror, then chain), then build."""
    key = service.settings.consortium_key
    if not key:
        raise ApiError(503, "ConsortiumKeyMissing", "this service has no consortium key (SCF_CONSORTIUM_KEY), so "
                       "it cannot fingerprint invoices")
    fields = InvoiceFields(seller=a.seller or service.sender, buyer=a.buyer, number=a.number, amount=a.amount,
                           currency=a.currency, issue_date=a.issue_date)
    registration = InvoiceRegistration(fields, document_hash=a.document_hash)  # type: ignore[arg-type]
    prints, item = actions.invoice_input(service.ledger, registration, key)
    fingerprint = "0x" + prints.full.hex()
    mirrored = service.session.exec(select(Invoice).where(func.lower(Invoice.fingerprint) == fingerprint)).first()
    if mirrored is not None:
        raise ApiError(409, "InvoiceAlreadyRegistered", f"this invoice is registered already (fingerprint "
                       f"{fingerprint})", fingerprint=fingerprint, seller=mirrored.seller, buyer=mirrored.buyer,
                       invoiceStatus=mirrored.status, registeredAt=mirrored.registered_at,
                       documentHash=mirrored.document_hash)
    on_chain = service.ledger.invoice(prints.full)
    if on_chain.status != InvoiceStatus.NONE:  # registered since the mirror's last block
        raise ApiError(409, "InvoiceAlreadyRegistered", f"this invoice is registered already (fingerprint "
                       f"{fingerprint})", fingerprint=fingerprint, seller=on_chain.seller, buyer=on_chain.buyer,
                       invoiceStatus=int(on_chain.status), registeredAt=on_chain.registered_at,
                       documentHash="0x" + on_chain.document_hash.hex())
    return actions.register_invoice(service.ledger, item)


def _take_offer(service: Service, a: TakeOffer) -> Any:
    stored = load(service.book, a.offer_id)
    offer = stored.offer
    owner = service.ledger.chain.call(service.ledger.receivables.functions.ownerOf(offer.token_id))
    named = int(offer.holder, 16) == 0 or offer.holder.lower() == service.sender.lower()
    if owner.lower() != service.sender.lower() or not named:
        raise ApiError(403, "NotYourOffer", f"offer {stored.id} is for token {offer.token_id}, which {owner} holds; "
                       "only its holder may take it", offer_id=stored.id, token_id=offer.token_id)
    require_open(service.session, stored, chain_now(service.ledger))
    return actions.take_offer(service.ledger, stored.desk, stored.offer, stored.offer.token_id, stored.signature)


_SERVICE_CALLS: dict[str, Callable[[Service, Any], Any]] = {
    "register_invoice": _register_invoice,
    "take_offer": _take_offer,
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
def build(caller: CurrentMember, ledger: LedgerDep, action: Action, settings: SettingsDep, session: SessionDep,
          book: BookDep) -> UnsignedTx:
    """The unsigned transaction for the caller's own action, simulated first: a refusal is the
    contract's custom error (HTTP 409) and nothing is built. ``register_invoice`` is fingerprinted by the
    service and refused when registered already; ``take_offer`` takes an open offer of ``/offers``."""
    if action.action in _SERVICE_CALLS:
        call = _SERVICE_CALLS[action.action](Service(ledger, caller.address, settings, session, book), action)
    else:
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
