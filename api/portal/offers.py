"""Offer pages: a supplier's offers on its claims (the price now and a Take button: the wallet signs the
``take_offer`` transaction, after the desk's approval on the token where it is missing) and a lender's
"make an offer" page (the wallet signs the EIP-712 offer with ``eth_signTypedData_v4``; the page posts it to
the offer book) with its own offers and their withdrawal. Reads and refusals are the API's own
(``api.routes.offers``); the JSON endpoints here are those routes for the session cookie's caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse

from api.access import rule_for
from api.deps import Caller, LedgerDep, SessionDep
from api.errors import ApiError
from api.portal.relay import Member
from api.portal.web import PortalRoute, View, page
from api.routes import offers as book_api
from api.routes.pages import Paging
from ledger.financing import OFFER_TYPES, Kind, offer_domain

pages = APIRouter(route_class=PortalRoute)
actions = APIRouter()
STATUSES = "^(|" + "|".join(book_api.OfferStatus) + ")$"  # "" is any status (the filter's "any")
DOMAIN_TYPES = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]


@dataclass(frozen=True)
class OfferRow:
    offer: book_api.OfferOut
    needs_approval: bool  # a discount: the desk may not yet move the token's value


def _status(text: str) -> book_api.OfferStatus | None:
    return book_api.OfferStatus(text) if text else None


@pages.get("/portal/supplier/offers", name="offers.holder")
def mine(current: Annotated[View, Depends(page("offers.holder"))], session: SessionDep, paging: Paging,
         token_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
         status: Annotated[str, Query(pattern=STATUSES)] = "open") -> HTMLResponse:
    """Offers lenders made on the supplier's claims, open ones by default, each with its price now."""
    ledger = current.ledger
    found = book_api.list_offers(current.member, ledger, session, current.request.app.state.audit.engine, paging,
                                 token_id=token_id, status=_status(status), side=book_api.Side.HOLDER)
    desk = ledger.address(book_api.DESK)
    token = ledger.receivables.functions
    everything = token.isApprovedForAll(current.member.address, desk).call()
    rows = [OfferRow(o, o.status is book_api.OfferStatus.OPEN and o.kind == Kind.DISCOUNT and not everything
                     and token.allowance(o.token_id, desk).call() < int(o.value)) for o in found.items]
    return current.render("offers/mine.html", title=current.t("offers.holder"), page=found, rows=rows,
                          token_id=token_id, status=status, desk=desk, statuses=list(book_api.OfferStatus))


@pages.get("/portal/lender/offers", name="offers.lender")
def lender(current: Annotated[View, Depends(page("offers.lender"))], session: SessionDep, paging: Paging,
           status: Annotated[str, Query(pattern=STATUSES)] = "") -> HTMLResponse:
    """The lender's offers with their status, and the form that signs and posts a new one."""
    ledger = current.ledger
    found = book_api.list_offers(current.member, ledger, session, current.request.app.state.audit.engine, paging,
                                 token_id=None, status=_status(status), side=book_api.Side.LENDER)
    desk = ledger.address(book_api.DESK)
    allowance = ledger.asset.functions.allowance(current.member.address, desk).call()
    signing = {"lender": current.member.address, "primaryType": "Offer",
               "domain": offer_domain(ledger.chain.chain_id, desk),
               "types": {"EIP712Domain": DOMAIN_TYPES, **OFFER_TYPES}}
    return current.render("offers/lender.html", title=current.t("offers.lender"), page=found,
                          status=status, signing=signing, allowance=allowance, statuses=list(book_api.OfferStatus))


# ------------------------------------------------------------ the page script's JSON calls (cookie caller)


def _as_the_api(caller: Caller, method: str, path: str) -> None:
    """The API's access rule for the same operation (these calls do not pass through its table)."""
    rule = rule_for(method, path)
    assert rule is not None, f"{method} {path} needs its row in api.access"
    if rule.roles and not rule.roles & caller.roles:
        needed = ", ".join(sorted(r.name for r in rule.roles))
        raise ApiError(403, "RoleRequired", f"{method} {path} needs one of: {needed}")


@actions.post("/portal/api/offers", status_code=201)
def post(caller: Member, ledger: LedgerDep, session: SessionDep, book: book_api.BookDep,
         body: book_api.OfferIn) -> book_api.OfferOut:
    _as_the_api(caller, "POST", "/offers")
    return book_api.post_offer(caller, ledger, session, book, body)


@actions.delete("/portal/api/offers/{offer_id}")
def withdraw(caller: Member, ledger: LedgerDep, session: SessionDep, book: book_api.BookDep,
             offer_id: Annotated[int, Path(ge=1, le=2**62)], cancel_nonce: bool = False) -> book_api.WithdrawnOut:
    _as_the_api(caller, "DELETE", "/offers/{offer_id}")
    return book_api.withdraw_offer(caller, ledger, session, book, offer_id, cancel_nonce)
