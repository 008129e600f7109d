"""Claims as the SQL mirror has them: a firm's holdings, and how a payable's value spread down the
supply chain (the tier penetration of a core enterprise's credit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session, SQLModel, col, func, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError, ErrorBody
from api.types import Address
from indexer import queries
from indexer.models import Holding, Payable

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
    accepted: bool  # the payable's first holder accepted it (acceptance is per payable)


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


def _public(row: Holding, accepted: bool) -> HoldingPublic:
    return HoldingPublic(token_id=row.token_id, slot=row.slot, owner=row.owner, value=str(row.value),
                         frozen=str(row.frozen), encumbered=str(row.encumbered), paid=str(row.paid),
                         burned=row.burned, final=row.final, accepted=accepted)


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
    query = (select(Holding, Payable.accepted).join(Payable, col(Payable.slot) == col(Holding.slot))
             .where(func.lower(Holding.owner) == owner.lower()))
    if slot is not None:
        query = query.where(Holding.slot == slot)
    if not include_burned:
        query = query.where(col(Holding.burned).is_(False))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Holding.slot).desc(), col(Holding.token_id)).offset(offset).limit(limit))
    return HoldingPage(items=[_public(r, accepted) for r, accepted in rows], total=total, limit=limit,
                       offset=offset)


def _tree(session: Session, slot: int) -> tuple[Payable | None, list[queries.TokenNode]]:
    """The payable and its tree, on a session of its own that holds a connection only while it reads (not
    until the response has been sent)."""
    with Session(session.get_bind()) as own:
        payable = own.get(Payable, slot)
        return payable, queries.payable_tree(own, slot) if payable is not None else []


@router.get("/payables/{slot}", responses={**DENIED, 404: {"model": ErrorBody}})
async def payable_tree(caller: CurrentMember, session: SessionDep,
                       slot: Annotated[int, Path(ge=0, le=2**63 - 1)]) -> PayableTree:
    """A payable and every token of it with the token it split from: who holds its value, tier by tier."""
    payable, nodes = await run_in_threadpool(_tree, session, slot)  # one thread-pool hop: the reads
    if payable is None:
        raise ApiError(404, "UnknownPayable", f"no payable {slot} in the mirror")
    caller.require_sight(payable.debtor, *(n.owner for n in nodes), what=f"payable {slot}")
    return PayableTree(
        slot=slot, debtor=payable.debtor, face_value=str(payable.face_value), maturity=payable.maturity,
        status=payable.status, cumulative_paid=str(payable.cumulative_paid),
        tokens=[TreeNode(token_id=n.token_id, owner=n.owner, value=str(n.value), received=str(n.received),
                         parent_token_id=n.parent_token_id, tier=n.tier, burned=n.burned) for n in nodes],
    )
