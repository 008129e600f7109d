"""Risk reads: a firm's latest credit score and the fraud alerts (tables written by ``risk``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine, Row, Text, bindparam, cast
from sqlmodel import Session, col, func, or_, select

from api.deps import Caller, CurrentMember, EngineDep, SessionDep
from api.errors import ApiError
from api.routes.pages import DENIED, NOT_FOUND, Page, Paging, fetch
from api.types import Address
from indexer.models import Financing
from ledger.roles import Role
from risk.models import CreditScore, RiskAlert

router = APIRouter(tags=["risk"])

SCORE_READERS = frozenset({Role.LENDER, Role.AUDITOR, Role.REGULATOR})  # besides the firm itself


class Score(BaseModel):
    address: str
    score: int
    model_version: str
    as_of_block: int
    base_score: int
    addons: dict[str, float]
    dimension_points: dict[str, float]  # points per dimension (sum of its features' points)
    reason_codes: list[str]
    warning: str  # none | blue | yellow | red
    credit_line: str


_SCORES = CreditScore.__table__  # type: ignore[attr-defined]
# One statement built once (building an ORM select per request costs more than running it), of the columns
# served only (inputs and feature points are JSON too). Addresses are stored checksummed (from the chain) or
# lower-case (the simulator), and the path is checksummed by Address: both spellings hit the index on
# address, where lower(address) would scan the table.
_LATEST_SCORE = (
    select(*(_SCORES.c[name] for name in Score.model_fields if name != "address"), _SCORES.c.address)
    .where(_SCORES.c.address.in_([bindparam("checksummed"), bindparam("lower")]))
    .order_by(_SCORES.c.as_of_block.desc(), _SCORES.c.score_id.desc()).limit(1)
)


def _latest_score(engine: Engine, address: str) -> Row | None:
    """On a connection taken only while it reads (not until the response has been sent)."""
    with engine.connect() as connection:
        return connection.execute(_LATEST_SCORE, {"checksummed": address, "lower": address.lower()}).first()


@router.get("/scores/{address}", responses={**DENIED, **NOT_FOUND})
async def score(
    caller: CurrentMember, engine: EngineDep,
    address: Annotated[Address, Path(description="the scored firm")],
) -> Score:
    """The latest credit score of a firm: for the firm itself, lenders, auditors and regulators."""
    if caller.address.lower() != address.lower() and not caller.roles & SCORE_READERS:
        raise ApiError(403, "OtherFirmsData", f"the score of {address} is for that firm, lenders, auditors and "
                       "regulators only")
    row = await run_in_threadpool(_latest_score, engine, address)  # one hop: the database read
    if row is None:
        raise ApiError(404, "NoScore", f"{address} has not been scored yet")
    return Score(address=row.address, score=row.score, model_version=row.model_version, as_of_block=row.as_of_block,
                 base_score=row.base_score, addons={k: float(v) for k, v in row.addons.items()},
                 dimension_points={k: float(v) for k, v in row.dimension_points.items()},
                 reason_codes=list(row.reason_codes), warning=row.warning, credit_line=str(row.credit_line))


class Alert(BaseModel):
    alert_id: str
    rule: str
    subject: str
    severity: str
    firms: list[str]
    reasons: list[str]
    evidence: list[dict[str, Any]]
    source_block: int
    status: str  # active | withdrawn


def alert_firms(caller: Caller, session: Session) -> list[str] | None:
    """The firms (lower-case) whose alerts ``caller`` reads: None (all) for a regulator; else itself and, for a
    lender, its counterparties (the holders of the financings it gave)."""
    if Role.REGULATOR in caller.roles:
        return None
    firms = {caller.address.lower()}
    if Role.LENDER in caller.roles:
        holders = select(func.lower(Financing.holder)).where(func.lower(Financing.lender) == caller.address.lower())
        firms.update(session.exec(holders.distinct()).all())
    return sorted(firms)


@router.get("/alerts", responses=DENIED)
def alerts(
    caller: CurrentMember, session: SessionDep, paging: Paging,
    rule: Annotated[str | None, Query(max_length=64, description="only this rule's alerts")] = None,
    firm: Annotated[Address | None, Query(description="alerts naming this firm (default: yours and, for a lender, "
                                                       "its counterparties'; regulators: all)")] = None,
    status: Annotated[str | None, Query(pattern="^(active|withdrawn)$")] = "active",
) -> Page[Alert]:
    """Fraud alerts: a regulator reads all of them, a lender those naming it or a firm it financed, any other
    firm the alerts naming it."""
    readable = alert_firms(caller, session)
    if firm is not None and readable is not None and firm.lower() not in readable:
        raise ApiError(403, "OtherFirmsData", f"alerts about {firm} are for that firm, its lenders and regulators "
                       "only")
    wanted = [firm.lower()] if firm is not None else readable
    query = select(RiskAlert)
    if wanted is not None:  # firms is a JSON list of addresses
        query = query.where(or_(*(func.lower(cast(RiskAlert.firms, Text)).contains(f'"{f}"') for f in wanted)))
    if rule is not None:
        query = query.where(RiskAlert.rule == rule)
    if status is not None:
        query = query.where(RiskAlert.status == status)
    rows, total = fetch(session, query, paging, col(RiskAlert.source_block).desc(), col(RiskAlert.alert_id))
    items = [Alert(alert_id=r.alert_id, rule=r.rule, subject=r.subject, severity=r.severity, firms=list(r.firms),
                   reasons=list(r.reasons), evidence=list(r.evidence), source_block=r.source_block, status=r.status)
             for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)
