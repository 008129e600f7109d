"""Supplier pages: holdings with their status and the forms that move them; invoices and notarization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.deps import SessionDep
from api.portal.web import EVERY_ROW, PortalRoute, View, page
from api.routes import holdings as claims
from api.routes import records
from api.routes.pages import Paging
from ledger.financing import Kind

pages = APIRouter(route_class=PortalRoute)


@dataclass(frozen=True)
class HoldingRow:
    item: claims.HoldingPublic
    statuses: list[str]  # message keys: status.accepted, status.pledged, ...


def _statuses(item: claims.HoldingPublic, financed: set[int]) -> list[str]:
    if item.burned:
        return ["status.settled"]
    found = ["status.accepted" if item.accepted else "status.awaiting"]
    if int(item.encumbered):
        found.append("status.pledged")
    if item.token_id in financed:
        found.append("status.financed")
    if int(item.frozen):
        found.append("status.frozen")
    return found


def _financed_tokens(current: View, session: Session) -> set[int]:
    """Tokens of the caller that a lender discounted part of (a pledge shows as the token's encumbrance)."""
    found = records.financings(current.member, session, EVERY_ROW, party=None, kind=Kind.DISCOUNT, status=None)
    return {f.token_id for f in found.items if f.holder.lower() == current.member.address.lower()}


@pages.get("/portal/supplier/holdings", name="supplier.holdings")
def holdings(current: Annotated[View, Depends(page("supplier.holdings"))], session: SessionDep, paging: Paging,
             slot: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None, include_burned: bool = False
             ) -> HTMLResponse:
    found = claims.holdings(current.member, session, owner=None, slot=slot, include_burned=include_burned,
                            limit=paging.limit, offset=paging.offset)
    financed = _financed_tokens(current, session)
    rows = [HoldingRow(item, _statuses(item, financed)) for item in found.items]
    movable = [r.item for r in rows if "status.accepted" in r.statuses and int(r.item.value)]
    desk = current.ledger.deployment.contracts.get("FinancingDesk")
    return current.render("supplier/holdings.html", title=current.t("holdings.title"), page=found, rows=rows,
                          slot=slot, include_burned=include_burned, movable=movable,
                          awaiting=[r.item for r in rows if "status.awaiting" in r.statuses],
                          desk=desk.address if desk else None)


@pages.get("/portal/supplier/invoices", name="supplier.invoices")
def invoices(current: Annotated[View, Depends(page("supplier.invoices"))], session: SessionDep, paging: Paging,
             status: Annotated[int | None, Query(ge=0, le=255)] = None,
             document: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$",
                                                   description="SHA-256 of a dropped file")] = None
             ) -> HTMLResponse:
    """The caller's invoices; with ``document`` (hashed in the browser), which of them it is."""
    found = records.invoices(current.member, session, paging, party=None, status=status)
    matches = None
    if document is not None:
        every = records.invoices(current.member, session, EVERY_ROW, party=None, status=None)
        matches = [i for i in every.items if i.document_hash.lower() == document.lower()]
    return current.render("supplier/invoices.html", title=current.t("invoices.title"), page=found, status=status,
                          document=document, matches=matches)
