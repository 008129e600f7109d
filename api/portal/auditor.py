"""Auditor pages: check a document and its evidence receipt against the chain, browse anchored evidence batches,
and read any payable's full history (its split tree and every event, in chain order).

The check calls the API's ``POST /evidence/verify`` route function (``ledger.evidence_verify`` against the
service's chain, never the mirror): the page script sends the receipt and the document's bytes as JSON to
``/portal/api/evidence/verify`` and shows the translated outcome the server renders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from anyio import from_thread
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import LedgerDep, SessionDep, SettingsDep
from api.portal.relay import Member
from api.portal.web import PortalRoute, View, page, view
from api.routes import history, receipts, records
from api.routes.pages import Paging
from api.types import Address

pages = APIRouter(route_class=PortalRoute)
actions = APIRouter()
Slot = Annotated[int, Path(ge=0, le=2**63 - 1)]


def format_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pages.get("/portal/auditor/evidence", name="audit.evidence")
def evidence_check(current: Annotated[View, Depends(page("audit.evidence"))],
                   batch: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> HTMLResponse:
    """The drop form; ``batch``: the batch the auditor came from (the outcome says if the receipt is another's)."""
    return current.render("auditor/evidence.html", title=current.t("auditor.evidence.title"), batch=batch)


class CheckIn(receipts.ReceiptIn):
    expected_batch: int | None = None  # the batch the page was opened for


@actions.post("/portal/api/evidence/verify")
def check(caller: Member, request: Request, ledger: LedgerDep, settings: SettingsDep, body: CheckIn) -> HTMLResponse:
    """The outcome of ``POST /evidence/verify`` for the cookie's caller, as a translated fragment of the page."""
    outcome = receipts.verify_evidence(caller, ledger, settings, body)
    return view(request).render("auditor/check_result.html", outcome=outcome, expected_batch=body.expected_batch,
                                when=format_time)


@pages.get("/portal/auditor/batches", name="audit.batches")
def batches(current: Annotated[View, Depends(page("audit.batches"))], session: SessionDep, paging: Paging,
            submitter: Annotated[Address | None, Query()] = None) -> HTMLResponse:
    found = records.evidence_batches(current.member, session, paging, submitter=submitter)
    return current.render("auditor/batches.html", title=current.t("auditor.batches.title"), page=found,
                          submitter=submitter, when=format_time)


@pages.get("/portal/auditor/payables", name="audit.payables")
def payables(current: Annotated[View, Depends(page("audit.payables"))], session: SessionDep, paging: Paging,
             debtor: Annotated[Address | None, Query()] = None,
             status: Annotated[int | None, Query(ge=0, le=3)] = None) -> HTMLResponse:
    found = records.payables(current.member, session, paging, debtor=debtor, status=status)
    return current.render("auditor/payables.html", title=current.t("auditor.payables.title"), page=found,
                          debtor=debtor, status=status)


@pages.get("/portal/auditor/payables/{slot}/history", name="audit.history")
def payable_history(current: Annotated[View, Depends(page("audit.history"))], session: SessionDep,
                    paging: Paging, slot: Slot, kind: history.EventKind | None = None) -> HTMLResponse:
    found = from_thread.run(history.payable_history, current.member, session, paging, slot, kind)  # an async route
    return current.render("auditor/history.html", title=current.t("auditor.history.title", slot=slot), history=found,
                          kind=kind, kinds=[(k.value, f"auditor.kind.{k.value}") for k in history.EventKind],
                          when=format_time)
