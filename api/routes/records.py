"""Reads of the SQL mirror: members, invoices, financings, payables and their settlement, evidence batches.

Own-data scoping: a firm reads records it is a party to; auditors and regulators read everyone's.
Amounts are decimal strings in the settlement asset's smallest unit.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlmodel import SQLModel, col, func, or_, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError
from api.routes.pages import DENIED, NOT_FOUND, Page, Paging, fetch
from api.types import Address
from indexer.models import (
    Deposit,
    EvidenceBatch,
    Financing,
    Holding,
    Invoice,
    Organization,
    Payable,
    Redemption,
    RoleMember,
    SlotMark,
    WriteOff,
)
from ledger.roles import Role

router = APIRouter(tags=["records"])

RoleName = Enum("RoleName", {r.name: r.name for r in Role}, type=str)  # roles by name in queries
Slot = Annotated[int, Path(ge=0, le=2**63 - 1, description="the payable's slot")]
SmallInt = Annotated[int | None, Query(ge=0, le=255)]
Fingerprint = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="the invoice fingerprint (bytes32)")]


def _eq(column, address: str):  # addresses compare case-insensitively
    return func.lower(column) == address.lower()


# ------------------------------------------------------------------ organizations


class OrganizationPublic(SQLModel):
    address: str
    name_hash: str
    roles: list[str]
    valid_until: int
    admitted_at: int
    final: bool


@router.get("/organizations")
def organizations(
    _: CurrentMember, session: SessionDep, paging: Paging,
    role: Annotated[RoleName | None, Query(description="only members holding this role (by name)")] = None,
) -> Page[OrganizationPublic]:
    """Consortium members, oldest admission first."""
    query = select(Organization)
    if role is not None:
        holders = select(func.lower(RoleMember.account)).where(RoleMember.role_name == role.value)
        query = query.where(func.lower(Organization.address).in_(holders))
    rows, total = fetch(session, query, paging, col(Organization.admitted_at), col(Organization.address))
    roles: dict[str, list[str]] = {}
    if rows:
        wanted = {r.address.lower() for r in rows}
        for m in session.exec(select(RoleMember).where(func.lower(RoleMember.account).in_(wanted))):
            roles.setdefault(m.account.lower(), []).append(m.role_name)
    items = [OrganizationPublic(address=r.address, name_hash=r.name_hash,
                                roles=sorted(roles.get(r.address.lower(), [])),
                                valid_until=r.valid_until, admitted_at=r.admitted_at, final=r.final) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


# ------------------------------------------------------------------------ invoices


class InvoicePublic(SQLModel):
    fingerprint: str
    seller: str
    buyer: str
    asset: str
    amount: str
    issue_date: int
    document_hash: str
    status: int  # InvoiceRegistry status: 1 registered, 2 confirmed, 3 issued as a payable, 4 voided
    registered_at: int
    slot: int
    voided_by: str | None
    void_reason: str | None
    final: bool


def _invoice(r: Invoice) -> InvoicePublic:
    return InvoicePublic(fingerprint=r.fingerprint, seller=r.seller, buyer=r.buyer, asset=r.asset, amount=str(r.amount),
                         issue_date=r.issue_date, document_hash=r.document_hash, status=r.status,
                         registered_at=r.registered_at, slot=r.slot, voided_by=r.voided_by, void_reason=r.void_reason,
                         final=r.final)


@router.get("/invoices", responses=DENIED)
def invoices(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    party: Annotated[Address | None, Query(description="invoices this firm sells or buys (default: yours; "
                                                         "overseers: everyone's)")] = None,
    status: SmallInt = None,
) -> Page[InvoicePublic]:
    """Invoices a firm is seller or buyer of, newest first."""
    firm = caller.scope_to(party, what="the invoices")
    query = select(Invoice)
    if firm is not None:
        query = query.where(or_(_eq(Invoice.seller, firm), _eq(Invoice.buyer, firm)))
    if status is not None:
        query = query.where(Invoice.status == status)
    rows, total = fetch(session, query, paging, col(Invoice.registered_at).desc(), col(Invoice.fingerprint))
    return Page(items=[_invoice(r) for r in rows], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/invoices/{fingerprint}", responses={**DENIED, **NOT_FOUND})
def invoice(caller: CurrentMember, session: SessionDep, fingerprint: Fingerprint) -> InvoicePublic:
    row = session.exec(select(Invoice).where(func.lower(Invoice.fingerprint) == fingerprint.lower())).first()
    if row is None:
        raise ApiError(404, "UnknownInvoice", f"no invoice {fingerprint} in the mirror")
    caller.require_sight(row.seller, row.buyer, what=f"invoice {fingerprint}")
    return _invoice(row)


# ---------------------------------------------------------------------- financings


class FinancingPublic(SQLModel):
    financing_id: int
    lender: str
    holder: str
    token_id: int
    lender_token_id: int
    value: str
    price: str
    fee: str
    kind: int
    settlement: int
    recourse: bool
    bank_reference: str
    status: int
    start: int
    repaid_by: str | None
    repaid_principal: str | None
    repaid_interest: str | None
    seized_token_id: int | None
    recourse_slot: int | None
    recourse_unpaid: str | None
    final: bool


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


@router.get("/financings", responses=DENIED)
def financings(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    party: Annotated[Address | None, Query(description="financings this firm gave (lender) or got (holder); "
                                                         "default: yours, overseers: everyone's")] = None,
    kind: SmallInt = None,
    status: SmallInt = None,
) -> Page[FinancingPublic]:
    """Discounts and pledge loans, newest first."""
    firm = caller.scope_to(party, what="the financings")
    query = select(Financing)
    if firm is not None:
        query = query.where(or_(_eq(Financing.lender, firm), _eq(Financing.holder, firm)))
    if kind is not None:
        query = query.where(Financing.kind == kind)
    if status is not None:
        query = query.where(Financing.status == status)
    rows, total = fetch(session, query, paging, col(Financing.financing_id).desc())
    items = [FinancingPublic(
        financing_id=r.financing_id, lender=r.lender, holder=r.holder, token_id=r.token_id,
        lender_token_id=r.lender_token_id, value=str(r.value), price=str(r.price), fee=str(r.fee), kind=r.kind,
        settlement=r.settlement, recourse=r.recourse, bank_reference=r.bank_reference, status=r.status, start=r.start,
        repaid_by=r.repaid_by, repaid_principal=_opt(r.repaid_principal), repaid_interest=_opt(r.repaid_interest),
        seized_token_id=r.seized_token_id, recourse_slot=r.recourse_slot, recourse_unpaid=_opt(r.recourse_unpaid),
        final=r.final) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


# ------------------------------------------------------------------------ payables


class PayablePublic(SQLModel):
    slot: int
    debtor: str
    first_holder: str
    asset: str
    face_value: str
    maturity: int
    issued_at: int
    accepted: bool
    status: int  # 0 current, 1 overdue, 2 defaulted, 3 paid
    cumulative_paid: str
    paid_out: str
    written_off: str
    redeemed_value: str
    final: bool


@router.get("/payables", responses=DENIED)
def payables(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    debtor: Annotated[Address | None, Query(description="whose payables (default: yours; overseers: all)")] = None,
    status: SmallInt = None,
) -> Page[PayablePublic]:
    """A core enterprise's payables as debtor, nearest maturity first."""
    firm = caller.scope_to(debtor, what="the payables")
    query = select(Payable)
    if firm is not None:
        query = query.where(_eq(Payable.debtor, firm))
    if status is not None:
        query = query.where(Payable.status == status)
    rows, total = fetch(session, query, paging, col(Payable.maturity), col(Payable.slot))
    items = [PayablePublic(slot=r.slot, debtor=r.debtor, first_holder=r.first_holder, asset=r.asset,
                           face_value=str(r.face_value), maturity=r.maturity, issued_at=r.issued_at,
                           accepted=r.accepted, status=r.status, cumulative_paid=str(r.cumulative_paid),
                           paid_out=str(r.paid_out), written_off=str(r.written_off),
                           redeemed_value=str(r.redeemed_value), final=r.final) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


class DepositOut(BaseModel):
    block_number: int
    tx_hash: str
    payer: str
    amount: str
    cumulative_paid: str


class RedemptionOut(BaseModel):
    block_number: int
    tx_hash: str
    token_id: int
    holder: str
    paid: str
    total_paid_to_token: str


class WriteOffOut(BaseModel):
    block_number: int
    tx_hash: str
    token_id: int
    holder: str
    unpaid_value: str


class MarkOut(BaseModel):
    block_number: int
    tx_hash: str
    mark: str  # overdue | defaulted
    outstanding: str


class Settlement(BaseModel):
    slot: int
    debtor: str
    face_value: str
    maturity: int
    status: int
    cumulative_paid: str
    paid_out: str
    written_off: str
    deposits: list[DepositOut]
    redemptions: list[RedemptionOut]
    write_offs: list[WriteOffOut]
    marks: list[MarkOut]


@router.get("/payables/{slot}/settlement", responses={**DENIED, **NOT_FOUND})
def settlement(caller: CurrentMember, session: SessionDep, slot: Slot) -> Settlement:
    """How a payable was settled: the debtor's deposits, holders' redemptions, write-offs, overdue/default marks."""
    payable = session.get(Payable, slot)
    if payable is None:
        raise ApiError(404, "UnknownPayable", f"no payable {slot} in the mirror")
    redemptions = session.exec(select(Redemption).where(Redemption.slot == slot).order_by(
        col(Redemption.block_number), col(Redemption.log_index))).all()
    write_offs = session.exec(select(WriteOff).where(WriteOff.slot == slot).order_by(
        col(WriteOff.block_number), col(WriteOff.log_index))).all()
    holders = session.exec(select(Holding.owner).where(Holding.slot == slot)).all()
    caller.require_sight(payable.debtor, *holders, *(r.holder for r in redemptions), what=f"payable {slot}")
    deposits = session.exec(select(Deposit).where(Deposit.slot == slot).order_by(
        col(Deposit.block_number), col(Deposit.log_index))).all()
    marks = session.exec(select(SlotMark).where(SlotMark.slot == slot).order_by(
        col(SlotMark.block_number), col(SlotMark.log_index))).all()
    return Settlement(
        slot=slot, debtor=payable.debtor, face_value=str(payable.face_value), maturity=payable.maturity,
        status=payable.status, cumulative_paid=str(payable.cumulative_paid), paid_out=str(payable.paid_out),
        written_off=str(payable.written_off),
        deposits=[DepositOut(block_number=d.block_number, tx_hash=d.tx_hash, payer=d.payer, amount=str(d.amount),
                             cumulative_paid=str(d.cumulative_paid)) for d in deposits],
        redemptions=[RedemptionOut(block_number=r.block_number, tx_hash=r.tx_hash, token_id=r.token_id, holder=r.holder,
                                   paid=str(r.paid), total_paid_to_token=str(r.total_paid_to_token))
                     for r in redemptions],
        write_offs=[WriteOffOut(block_number=w.block_number, tx_hash=w.tx_hash, token_id=w.token_id, holder=w.holder,
                                unpaid_value=str(w.unpaid_value)) for w in write_offs],
        marks=[MarkOut(block_number=m.block_number, tx_hash=m.tx_hash, mark=m.mark, outstanding=str(m.outstanding))
               for m in marks],
    )


# ------------------------------------------------------------------------ evidence


class EvidenceBatchPublic(SQLModel):
    batch_id: int
    root: str
    submitter: str
    leaf_count: int
    anchored_at: int
    uri: str
    final: bool


@router.get("/evidence/batches")
def evidence_batches(
    _: CurrentMember, session: SessionDep, paging: Paging,
    submitter: Annotated[Address | None, Query(description="batches anchored by this account")] = None,
) -> Page[EvidenceBatchPublic]:
    """Anchored evidence batches (Merkle roots of off-chain records), newest first."""
    query = select(EvidenceBatch)
    if submitter is not None:
        query = query.where(_eq(EvidenceBatch.submitter, submitter))
    rows, total = fetch(session, query, paging, col(EvidenceBatch.batch_id).desc())
    items = [EvidenceBatchPublic(batch_id=r.batch_id, root=r.root, submitter=r.submitter, leaf_count=r.leaf_count,
                                 anchored_at=r.anchored_at, uri=r.uri, final=r.final) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)
