"""Oversight reads: every firm's current warning level (the latest score per firm), and the evidence rows
behind a fraud alert (its ``evidence`` list of ``{table, pk}`` resolved to the mirror's rows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from api.deps import CurrentMember, SessionDep
from api.errors import ApiError
from api.routes.pages import DENIED, NOT_FOUND, Page, Paging, fetch
from api.routes.risk import Alert, Score, alert_firms
from indexer.models import Financing, Invoice, Payable, TokenTransfer, ValueMove
from risk.models import CreditScore, FirmProfile, RiskAlert

router = APIRouter(tags=["risk"])
LEVELS = ("red", "yellow", "blue")  # most severe first; "none" is no warning

_SCORES = CreditScore.__table__  # type: ignore[attr-defined]


@router.get("/warnings", responses=DENIED)
def warnings(
    _: CurrentMember, session: SessionDep, paging: Paging,
    level: Annotated[str | None, Query(pattern="^(red|yellow|blue)$", description="only this level")] = None,
) -> Page[Score]:
    """The latest score of every firm whose warning is red, yellow or blue: most severe, then lowest score, first."""
    rank = func.row_number().over(partition_by=func.lower(_SCORES.c.address),
                                  order_by=(_SCORES.c.as_of_block.desc(), _SCORES.c.score_id.desc()))
    ranked = select(_SCORES.c.score_id, rank.label("rank")).subquery()
    latest = select(ranked.c.score_id).where(ranked.c.rank == 1)
    query = select(CreditScore).where(col(CreditScore.score_id).in_(latest),
                                      col(CreditScore.warning).in_([level] if level else LEVELS))
    severity = case({name: i for i, name in enumerate(LEVELS)}, value=CreditScore.warning)
    rows, total = fetch(session, query, paging, severity, col(CreditScore.score), col(CreditScore.address))
    items = [Score(address=r.address, score=r.score, model_version=r.model_version, as_of_block=r.as_of_block,
                   base_score=r.base_score, addons={k: float(v) for k, v in r.addons.items()},
                   dimension_points={k: float(v) for k, v in r.dimension_points.items()},
                   reason_codes=list(r.reason_codes), warning=r.warning, credit_line=str(r.credit_line)) for r in rows]
    return Page(items=items, total=total, limit=paging.limit, offset=paging.offset)


class EvidenceRow(BaseModel):
    table: str  # invoice | financing | payable | value_move | token_transfer | risk_firm_profile
    key: str  # the row's key as text (a history row's is block:log)
    found: bool  # false: the row is no longer in the mirror (or the table is unknown)
    fields: dict[str, str | None]  # the row's readable columns, values as text


class AlertEvidence(BaseModel):
    alert: Alert
    rows: list[EvidenceRow]


# table -> (model, key columns, shown columns)
_EVIDENCE: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "invoice": (Invoice, ("fingerprint",), ("fingerprint", "seller", "buyer", "amount", "issue_date", "status",
                                            "slot")),
    "financing": (Financing, ("financing_id",), ("financing_id", "lender", "holder", "token_id", "value", "price",
                                                 "kind", "status", "start")),
    "payable": (Payable, ("slot",), ("slot", "debtor", "first_holder", "face_value", "maturity", "status",
                                     "cumulative_paid")),
    "value_move": (ValueMove, ("block_number", "log_index"), ("block_number", "tx_hash", "slot", "from_token_id",
                                                              "to_token_id", "value", "kind")),
    "token_transfer": (TokenTransfer, ("block_number", "log_index"), ("block_number", "tx_hash", "token_id",
                                                                      "from_address", "to_address")),
    "risk_firm_profile": (FirmProfile, ("address",), ("address", "registered_on", "registered_capital",
                                                      "shareholders", "legal_representative", "funding_address",
                                                      "source")),
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def evidence_row(session: Session, item: dict[str, Any]) -> EvidenceRow:
    """One ``{table, pk}`` of an alert as the mirror's row (case-insensitive on text keys; a firm profile is its
    newest submission)."""
    table, pk = str(item.get("table", "")), item.get("pk")
    keys = list(pk) if isinstance(pk, list | tuple) else [pk]
    key = ":".join(str(k) for k in keys)
    known = _EVIDENCE.get(table)
    if known is None or len(keys) != len(known[1]):
        return EvidenceRow(table=table, key=key, found=False, fields={})
    model, columns, shown = known
    query = select(model)
    for name, value in zip(columns, keys, strict=True):
        column = model.__table__.c[name]
        if column.type.python_type is not int:
            query = query.where(func.lower(column) == str(value).lower())
        elif isinstance(value, int) and not isinstance(value, bool):
            query = query.where(column == value)
        else:  # a malformed key: no row has it
            return EvidenceRow(table=table, key=key, found=False, fields={})
    if model is FirmProfile:
        query = query.order_by(FirmProfile.profile_id.desc())  # type: ignore[union-attr]
    row = session.exec(query.limit(1)).first()
    if row is None:
        return EvidenceRow(table=table, key=key, found=False, fields={})
    return EvidenceRow(table=table, key=key, found=True, fields={c: _text(getattr(row, c)) for c in shown})


@router.get("/alerts/{alert_id}/evidence", responses={**DENIED, **NOT_FOUND})
def alert_evidence(
    caller: CurrentMember, session: SessionDep,
    alert_id: Annotated[str, Path(max_length=128, description="the alert's id")],
) -> AlertEvidence:
    """A fraud alert and the rows it was raised on, for whoever may read the alert."""
    alert = session.get(RiskAlert, alert_id)
    if alert is None:
        raise ApiError(404, "UnknownAlert", f"no alert {alert_id}")
    readable = alert_firms(caller, session)
    if readable is not None and not {f.lower() for f in alert.firms} & set(readable):
        raise ApiError(403, "OtherFirmsData", f"alert {alert_id} is for the firms it names, their lenders and "
                       "regulators only")
    shown = Alert(alert_id=alert.alert_id, rule=alert.rule, subject=alert.subject, severity=alert.severity,
                  firms=list(alert.firms), reasons=list(alert.reasons), evidence=list(alert.evidence),
                  source_block=alert.source_block, status=alert.status)
    return AlertEvidence(alert=shown, rows=[evidence_row(session, dict(e)) for e in alert.evidence])
