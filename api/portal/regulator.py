"""Regulator pages: red/yellow/blue warnings across the platform, and fraud alerts with the evidence rows
behind each (invoices, financings, payables, value moves, firm profiles), paged and filtered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.deps import SessionDep
from api.portal.web import PortalRoute, View, page
from api.routes import oversight, risk
from api.routes.pages import Paging
from risk.catalogue import RULES

pages = APIRouter(route_class=PortalRoute)


@pages.get("/portal/regulator/warnings", name="regulator.warnings")
def warnings(current: Annotated[View, Depends(page("regulator.warnings"))], session: SessionDep, paging: Paging,
             level: Annotated[str | None, Query(pattern="^(red|yellow|blue|)$")] = None) -> HTMLResponse:
    """Every firm whose latest score carries a warning, most severe first."""
    found = oversight.warnings(current.member, session, paging, level=level or None)
    return current.render("regulator/warnings.html", title=current.t("regulator.warnings"), page=found,
                          level=level or None, levels=oversight.LEVELS)


@dataclass(frozen=True)
class Shown:
    """An alert with its evidence rows."""

    alert: risk.Alert
    rows: list[oversight.EvidenceRow]


def with_evidence(current: View, session: Session, alerts: list[risk.Alert]) -> list[Shown]:
    """Each alert with its evidence rows, read as ``current``'s member (who may read those alerts)."""
    return [Shown(a, oversight.alert_evidence(current.member, session, a.alert_id).rows) for a in alerts]


@pages.get("/portal/regulator/alerts", name="regulator.alerts")
def alerts(current: Annotated[View, Depends(page("regulator.alerts"))], session: SessionDep, paging: Paging,
           rule: Annotated[str | None, Query(max_length=64)] = None,
           status: Annotated[str | None, Query(pattern="^(active|withdrawn|)$")] = "active") -> HTMLResponse:
    """Fraud alerts across the platform, each with the rows it was raised on."""
    found = risk.alerts(current.member, session, paging, rule=rule or None, firm=None, status=status or None)
    shown = with_evidence(current, session, found.items)
    return current.render("regulator/alerts.html", title=current.t("regulator.alerts"), page=found,
                          shown=shown, rule_filter=rule or None, status=status or None,
                          rule_options=[(r, f"regulator.rule.{r}") for r in RULES])
