"""Sign-in with the member's wallet, the session cookie, sign-out and the home page.

The browser asks for an EIP-4361 message (built here around a nonce from the API's own nonce
endpoint), has the wallet sign it (``personal_sign``), posts it to the API's ``/auth/login`` and hands
the issued token to ``/portal/session``, which checks it with ``api.auth.read_token`` and keeps it in an
HttpOnly, SameSite=Strict cookie: page scripts never see it again.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from api.auth import SiweMessage, read_token
from api.deps import LedgerDep, NoncesDep, SettingsDep
from api.errors import ApiError
from api.portal.web import SESSION_COOKIE, PortalRoute, View, page, view
from api.routes import auth
from api.types import Address

pages = APIRouter(route_class=PortalRoute)
actions = APIRouter()


@pages.get("/portal/signin", name="signin")
def signin_page(current: Annotated[View, Depends(view)], next: str = "/portal/") -> HTMLResponse:
    target = next if next.startswith("/portal/") else "/portal/"  # never an open redirect
    return current.render("signin.html", title=current.t("signin.title"), next_url=target)


@pages.get("/portal/", name="home")
def home(current: Annotated[View, Depends(page("home"))]) -> HTMLResponse:
    roles = [current.t(f"role.{r.name}") for r in sorted(current.member.roles, key=lambda r: r.name)]
    return current.render("home.html", title=current.t("home.title"), roles=roles)


class MessageIn(BaseModel):
    address: Address


class MessageOut(BaseModel):
    message: str


@actions.post("/portal/signin/message")
def signin_message(body: MessageIn, request: Request, settings: SettingsDep, ledger: LedgerDep,
                   nonces: NoncesDep) -> MessageOut:
    """The EIP-4361 text for ``address`` to sign, around a fresh nonce from the API's nonce endpoint."""
    issued = auth.nonce(None, nonces, settings, ledger)
    message = SiweMessage(
        domain=issued.domain, address=body.address, uri=str(request.base_url).rstrip("/") + "/portal/",
        version="1", chain_id=issued.chain_id, nonce=issued.nonce,
        issued_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        statement="Sign in to the scf-ledger portal",
    )
    return MessageOut(message=message.prepare_message())


class SessionIn(BaseModel):
    token: str = Field(max_length=1024, description="the token /auth/login issued")


@actions.post("/portal/session")
def open_session(body: SessionIn, request: Request, settings: SettingsDep, ledger: LedgerDep) -> Response:
    """Keep the token in an HttpOnly cookie, once it checks out and its holder is a current member."""
    session = read_token(body.token, settings.secret)
    if not request.app.state.members.get(session.address).is_member:
        raise ApiError(403, "NotAMember", f"{session.address} is not a current member of the consortium",
                       address=session.address)
    response = JSONResponse({"address": session.address})
    response.set_cookie(SESSION_COOKIE, body.token, max_age=max(0, session.expires_at - int(time.time())),
                        httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@actions.post("/portal/signout")
def signout() -> Response:
    response = RedirectResponse("/portal/signin", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
