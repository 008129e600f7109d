"""Claims as the SQL mirror has them: a firm's holdings, and how a payable's value spread down the
supply chain (the tier penetration of a core enterprise's credit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Row, bindparam
from sqlmodel import Session, SQLModel, col, func, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError, ErrorBody
from api.types import Address
from indexer.models import Holding, Payable, ValueMove
from ledger.records import MoveKind

router = APIRouter(tags=["claims"])
DENIED = {403: {"model": ErrorBody, "description": "another firm's records"}}


class HoldingPublic(SQLModel):
    """A claim token. Amounts are decimal strings in the settlement asset's smallest unit."""

    token_id: int
    slot: int
    owner: str
    value: str
    frozen: str
    encumbered: str
    paid: str
    burned: bool
    final: bool


class HoldingPage(BaseModel):
    items: list[HoldingPublic]
    total: int
    limit: int
    offset: int


class TreeNode(BaseModel):
    """A token of the payable and the token its value came from (null: issued to the first holder)."""

    token_id: int
    owner: str
    value: str
    received: str  # all value that ever flowed into it (issue, splits, transfers): how far the credit reached
    parent_token_id: int | None
    tier: int  # 1: the first holder; each split or seize one further down
    burned: bool


class PayableTree(BaseModel):
    slot: int
    debtor: str
    face_value: str
    maturity: int
    status: int
    cumulative_paid: str
    tokens: list[TreeNode]


def _public(row: Holding) -> HoldingPublic:
    return HoldingPublic(token_id=row.token_id, slot=row.slot, owner=row.owner, value=str(row.value),
                         frozen=str(row.frozen), encumbered=str(row.encumbered), paid=str(row.paid),
                         burned=row.burned, final=row.final)


@router.get("/holdings", responses=DENIED)
def holdings(
    caller: CurrentMember,
    session: SessionDep,
    owner: Annotated[Address | None, Query(description="Whose claims (default: yours).")] = None,
    slot: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    include_burned: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> HoldingPage:
    """Claim tokens of a firm, newest payable first."""
    owner = owner or caller.address
    caller.require_sight(owner, what=f"the claims of {owner}")
    query = select(Holding).where(func.lower(Holding.owner) == owner.lower())
    if slot is not None:
        query = query.where(Holding.slot == slot)
    if not include_burned:
        query = query.where(col(Holding.burned).is_(False))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Holding.slot).desc(), col(Holding.token_id)).offset(offset).limit(limit))
    return HoldingPage(items=[_public(r) for r in rows], total=total, limit=limit, offset=offset)


_PAYABLES, _HOLDINGS, _MOVES = (m.__table__ for m in (Payable, Holding, ValueMove))  # type: ignore[attr-defined]
# Statements built once, of the columns served (building ORM selects and entities per request cost more
# than the reads), run on a connection of their own that goes back to the pool once read.
_PAYABLE = select(_PAYABLES.c.debtor, _PAYABLES.c.face_value, _PAYABLES.c.maturity, _PAYABLES.c.status,
                  _PAYABLES.c.cumulative_paid).where(_PAYABLES.c.slot == bindparam("slot"))
_TOKENS = (select(_HOLDINGS.c.token_id, _HOLDINGS.c.owner, _HOLDINGS.c.value, _HOLDINGS.c.burned)
           .where(_HOLDINGS.c.slot == bindparam("slot")).order_by(_HOLDINGS.c.token_id))
_SPLITS = select(_MOVES.c.to_token_id, _MOVES.c.from_token_id).where(
    _MOVES.c.slot == bindparam("slot"), _MOVES.c.kind.in_([int(MoveKind.SPLIT), int(MoveKind.SEIZE)]))


def _tree_rows(session: Session, slot: int) -> tuple[Row | None, Sequence[Row], dict[int, int]]:
    with session.get_bind().connect() as connection:
        payable = connection.execute(_PAYABLE, {"slot": slot}).first()
        if payable is None:
            return None, [], {}
        tokens = connection.execute(_TOKENS, {"slot": slot}).all()
        parent = {int(to): int(source) for to, source in connection.execute(_SPLITS, {"slot": slot})}
    return payable, tokens, parent


@router.get("/payables/{slot}", responses={**DENIED, 404: {"model": ErrorBody}})
async def payable_tree(caller: CurrentMember, session: SessionDep,
                       slot: Annotated[int, Path(ge=0, le=2**63 - 1)]) -> PayableTree:
    """A payable and every token of it with the token it split from: who holds its value, tier by tier."""
    payable, tokens, parent = await run_in_threadpool(_tree_rows, session, slot)  # one hop: the reads
    if payable is None:
        raise ApiError(404, "UnknownPayable", f"no payable {slot} in the mirror")
    caller.require_sight(payable.debtor, *(t.owner for t in tokens), what=f"payable {slot}")

    def tier(token_id: int) -> int:
        depth = 1
        while token_id in parent:
            token_id, depth = parent[token_id], depth + 1
        return depth

    return PayableTree(
        slot=slot, debtor=payable.debtor, face_value=str(payable.face_value), maturity=payable.maturity,
        status=payable.status, cumulative_paid=str(payable.cumulative_paid),
        tokens=[TreeNode(token_id=t.token_id, owner=t.owner, value=str(t.value), parent_token_id=parent.get(t.token_id),
                         tier=tier(t.token_id), burned=t.burned) for t in tokens],
    )
