"""A payable's full history as the SQL mirror has it: its split/transfer tree and every event that touched it
(value moves, whole-token transfers, financings, deposits, redemptions, write-offs, overdue/default marks) in
chain order, with block times. For auditors and regulators; a firm for payables it is party to.

A payable's history is bounded (its tokens and their events), so each table is read whole for the slot and the
merged timeline is paged in memory.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import or_
from sqlmodel import Session, col, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError
from api.routes.holdings import TreeNode
from api.routes.pages import DENIED, NOT_FOUND, Paging
from indexer import queries
from indexer.models import (
    Deposit,
    Financing,
    Payable,
    RawLog,
    Redemption,
    SlotMark,
    TokenTransfer,
    ValueMove,
    WriteOff,
)
from ledger.financing import Kind
from ledger.records import MoveKind

router = APIRouter(tags=["records"])
ZERO = "0x0000000000000000000000000000000000000000"
EventKind = StrEnum("EventKind", [*(k.name.lower() for k in MoveKind), "mint", "burn", "owner", "financed", "deposit",
                                  "redemption", "write_off", "mark"])


class HistoryEntry(BaseModel):
    """One event of the payable. ``kind``: issue, transfer, split, merge, redeem, seize (value moves between
    tokens); mint, burn, owner (whole-token ERC-721 transfers); financed; deposit; redemption; write_off; mark.
    Amounts are decimal strings in the settlement asset's smallest unit; fields a kind has no use for are null."""

    block_number: int
    log_index: int
    block_timestamp: int
    tx_hash: str
    kind: EventKind
    token_id: int | None = None  # the token the event is about (a value move's receiving token)
    from_token_id: int | None = None  # a value move's source token (0: none, as for an issue)
    from_address: str | None = None
    to_address: str | None = None
    amount: str | None = None
    financing_id: int | None = None
    financing_kind: str | None = None  # discount | pledge
    price: str | None = None
    mark: str | None = None  # overdue | defaulted


class PayableHistory(BaseModel):
    slot: int
    debtor: str
    face_value: str
    maturity: int
    status: int  # 0 current, 1 overdue, 2 defaulted, 3 paid
    cumulative_paid: str
    tokens: list[TreeNode]  # the split/transfer tree (indexer.queries.payable_tree)
    items: list[HistoryEntry]  # one page of the timeline, oldest first
    total: int
    limit: int
    offset: int


def _topic(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _bounds(f: Financing, known: list[HistoryEntry]) -> tuple[int, int | None]:
    """Blocks between which ``f``'s ``Financed`` log lies: a discount's is its split to the lender's token; a
    pledge's (no value moves) is between the payable's events before and after its start time."""
    if f.kind != Kind.PLEDGE:
        split = next((e for e in known if e.kind == "split" and e.token_id == f.lender_token_id), None)
        if split is not None:
            return split.block_number, split.block_number
    before = [e.block_number for e in known if e.block_timestamp < f.start]
    after = [e.block_number for e in known if e.block_timestamp > f.start]
    return max(before, default=0), min(after, default=None)


def _financed(session: Session, tokens: set[int], known: list[HistoryEntry]) -> list[HistoryEntry]:
    """``Financed`` of the payable's tokens, placed by the desk's own log (the mirror keeps every raw log), looked
    for only in the blocks where it can be (the raw log is indexed by block)."""
    rows = session.exec(select(Financing).where(or_(col(Financing.token_id).in_(tokens),
                                                    col(Financing.lender_token_id).in_(tokens)))).all()
    found = []
    for f in rows:
        low, high = _bounds(f, known)
        topic = f"%,{_topic(f.financing_id)},%"  # financingId is the first indexed argument
        query = select(RawLog).where(RawLog.contract == "FinancingDesk", RawLog.event == "Financed",
                                     RawLog.block_number >= low, col(RawLog.topics).like(topic))
        log = session.exec(query if high is None else query.where(RawLog.block_number <= high)).first()
        if log is None:  # not mirrored yet
            continue
        pledge = f.kind == Kind.PLEDGE
        time = f.start if pledge else next((e.block_timestamp for e in known if e.block_number == log.block_number),
                                           f.start)
        found.append(HistoryEntry(
            block_number=log.block_number, log_index=log.log_index, tx_hash=log.tx_hash, block_timestamp=time,
            kind="financed", token_id=f.token_id, from_address=f.holder, to_address=f.lender, amount=str(f.value),
            financing_id=f.financing_id, financing_kind="pledge" if pledge else "discount", price=str(f.price)))
    return found


def _timeline(session: Session, slot: int, tokens: set[int]) -> list[HistoryEntry]:
    moves = list(session.exec(select(ValueMove).where(ValueMove.slot == slot)).all())
    entries = [HistoryEntry(block_number=m.block_number, log_index=m.log_index, block_timestamp=m.block_timestamp,
                            tx_hash=m.tx_hash, kind=MoveKind(m.kind).name.lower(), token_id=m.to_token_id,
                            from_token_id=m.from_token_id, amount=str(m.value)) for m in moves]
    for t in session.exec(select(TokenTransfer).where(col(TokenTransfer.token_id).in_(tokens))).all():
        kind = "mint" if t.from_address == ZERO else "burn" if t.to_address == ZERO else "owner"
        entries.append(HistoryEntry(block_number=t.block_number, log_index=t.log_index,
                                    block_timestamp=t.block_timestamp, tx_hash=t.tx_hash, kind=kind,
                                    token_id=t.token_id, from_address=t.from_address, to_address=t.to_address))
    for d in session.exec(select(Deposit).where(Deposit.slot == slot)).all():
        entries.append(HistoryEntry(block_number=d.block_number, log_index=d.log_index,
                                    block_timestamp=d.block_timestamp, tx_hash=d.tx_hash, kind="deposit",
                                    from_address=d.payer, amount=str(d.amount)))
    for r in session.exec(select(Redemption).where(Redemption.slot == slot)).all():
        entries.append(HistoryEntry(block_number=r.block_number, log_index=r.log_index,
                                    block_timestamp=r.block_timestamp, tx_hash=r.tx_hash, kind="redemption",
                                    token_id=r.token_id, to_address=r.holder, amount=str(r.paid)))
    for w in session.exec(select(WriteOff).where(WriteOff.slot == slot)).all():
        entries.append(HistoryEntry(block_number=w.block_number, log_index=w.log_index,
                                    block_timestamp=w.block_timestamp, tx_hash=w.tx_hash, kind="write_off",
                                    token_id=w.token_id, from_address=w.holder, amount=str(w.unpaid_value)))
    for m in session.exec(select(SlotMark).where(SlotMark.slot == slot)).all():
        entries.append(HistoryEntry(block_number=m.block_number, log_index=m.log_index,
                                    block_timestamp=m.block_timestamp, tx_hash=m.tx_hash, kind="mark", mark=m.mark,
                                    amount=str(m.outstanding)))
    entries += _financed(session, tokens, entries)
    return sorted(entries, key=lambda e: (e.block_number, e.log_index))


def _read(session: Session, slot: int) -> tuple[Payable | None, list[queries.TokenNode], list[HistoryEntry]]:
    with Session(session.get_bind()) as own:  # a connection of its own, back in the pool once read
        payable = own.get(Payable, slot)
        if payable is None:
            return None, [], []
        nodes = queries.payable_tree(own, slot)
        return payable, nodes, _timeline(own, slot, {n.token_id for n in nodes})


@router.get("/payables/{slot}/history", responses={**DENIED, **NOT_FOUND})
async def payable_history(caller: CurrentMember, session: SessionDep, paging: Paging,
                          slot: Annotated[int, Path(ge=0, le=2**63 - 1, description="the payable's slot")],
                          kind: Annotated[EventKind | None, Query(description="only events of this kind")] = None,
                          ) -> PayableHistory:
    """Everything that happened to a payable, oldest first, with its split tree: its debtor and every firm that
    held or financed any of its value may read it, as may auditors and regulators."""
    payable, nodes, timeline = await run_in_threadpool(_read, session, slot)
    if payable is None:
        raise ApiError(404, "UnknownPayable", f"no payable {slot} in the mirror")
    parties = {payable.debtor, *(n.owner for n in nodes),
               *(a for e in timeline for a in (e.from_address, e.to_address) if a)}
    caller.require_sight(*parties, what=f"the history of payable {slot}")
    if kind is not None:
        timeline = [e for e in timeline if e.kind == kind]
    return PayableHistory(
        slot=payable.slot, debtor=payable.debtor, face_value=str(payable.face_value), maturity=payable.maturity,
        status=payable.status, cumulative_paid=str(payable.cumulative_paid),
        tokens=[TreeNode(token_id=n.token_id, owner=n.owner, value=str(n.value), received=str(n.received),
                         parent_token_id=n.parent_token_id, tier=n.tier, burned=n.burned) for n in nodes],
        items=timeline[paging.offset:paging.offset + paging.limit], total=len(timeline), limit=paging.limit,
        offset=paging.offset)
