"""The portal's plumbing: who is looking (session cookie -> ``api.deps.Caller``), in which language,
whether the page table lets them in, and HTML rendering with readable, translated errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import OperationalError, ProgrammingError

from api.auth import read_token
from api.deps import Caller
from api.errors import ApiError
from api.observe import CALLER_KEY
from api.portal import i18n
from api.portal.access import BY_NAME, PageRule, allowed, navigation
from api.routes.pages import PageParams
from ledger.client import Ledger
from ledger.commands.common import format_amount as cli_amount
from ledger.errors import ChainConnectionError

SESSION_COOKIE = "scf_session"
EVERY_ROW = PageParams(limit=500, offset=0)  # the API's largest page, for summaries over all of a firm's rows
HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(),
                        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


class PortalError(Exception):
    """A refusal shown as a page: HTTP ``status`` and the message ``key`` (with its values) to translate."""

    def __init__(self, status: int, key: str, **values: object) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.values = values


class SignInRequiredError(Exception):
    """No valid session: the page sends the browser to the sign-in page and back."""


def caller_of(request: Request) -> Caller | None:
    """The signed-in member behind the session cookie, with its roles as the chain says now; None when
    there is no cookie or it expired. A former member's cookie is refused with 403."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        session = read_token(token, request.app.state.settings.secret)
    except ApiError:
        return None
    request.scope[CALLER_KEY] = session.address  # for the audit log
    member = request.app.state.members.get(session.address)
    if not member.is_member:
        raise PortalError(403, "error.NotAMember", address=session.address)
    return Caller(session.address, member.roles)


@dataclass
class View:
    """One request's rendering context: translator, caller and the page's rule."""

    request: Request
    t: i18n.Translator
    caller: Caller | None
    rule: PageRule | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ledger(self) -> Ledger:
        return self.request.app.state.ledger

    @property
    def member(self) -> Caller:
        assert self.caller is not None, "page() guarantees a caller on member pages"
        return self.caller

    def render(self, template: str, http_status: int = 200, **context: Any) -> HTMLResponse:
        decimals = value_decimals(self.request)
        body = templates.get_template(template).render(
            t=self.t, lang=self.t.lang, languages=i18n.LANGUAGES, caller=self.caller, rule=self.rule,
            nav=navigation(self.caller.roles) if self.caller else [], request=self.request,
            lang_url=lambda lang: _with_query(self.request, lang=lang),
            page_url=lambda **changes: _with_query(self.request, **changes),
            amount=lambda value: format_amount(int(value), decimals), decimals=decimals,
            date=format_date, browser_messages=self.t.for_browser(), **context)
        response = HTMLResponse(body, http_status)
        chosen = self.request.query_params.get("lang")
        if chosen in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, chosen, max_age=365 * 86400, samesite="lax")
        return response


def view(request: Request) -> View:
    """A page open to everyone (sign-in): language and, if any, the caller."""
    return View(request, i18n.Translator(i18n.negotiate(request)), caller_of(request))


def page(name: str) -> Callable[[Request], View]:
    """The dependency of the page called ``name`` in the access table: signed in, and one of its roles."""
    rule = BY_NAME[name]  # KeyError at import: every page needs its row in access.PAGES

    def guard(request: Request) -> View:
        current = view(request)
        if current.caller is None:
            raise SignInRequiredError()
        if not allowed(rule, current.caller.roles):
            needed = ", ".join(current.t(f"role.{r.name}") for r in sorted(rule.roles, key=lambda r: r.name))
            raise PortalError(403, "error.PageRoleRequired", roles=needed)
        current.rule = rule
        return current

    return guard


class PortalRoute(APIRoute):
    """Routes whose refusals are pages: a translated message and the right status, never a JSON body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequiredError:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/portal/signin?next={quote(target)}", 303)
            except PortalError as exc:
                return error_page(request, exc.status, exc.key, exc.values)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                return error_page(request, 422, "error.InvalidRequest", {"message": f"{where}: {first.get('msg', '')}"})
            except ApiError as exc:  # a route function of the API refused
                return error_page(request, exc.status, f"error.{exc.error}", {**exc.details, "message": exc.message})
            except ChainConnectionError as exc:
                return error_page(request, 503, "error.ChainUnavailable", {"message": str(exc)})
            except (OperationalError, ProgrammingError) as exc:  # the mirror is not migrated or not reachable
                return error_page(request, 503, "error.MirrorUnavailable", {"message": type(exc).__name__})

        return handle


def error_page(request: Request, status: int, key: str, values: dict[str, Any]) -> HTMLResponse:
    t = i18n.Translator(i18n.negotiate(request))
    try:
        caller = caller_of(request)
    except PortalError:
        caller = None
    if t.has(key):
        message = t(key, **{k: v for k, v in values.items()})
    else:  # an API refusal without its own translation: a generic sentence and the API's own words
        message = t("error.generic", message=values.get("message", key))
    return View(request, t, caller).render("error.html", status, status_code=status,
                                            title=t(f"error.title.{status}" if t.has(f"error.title.{status}")
                                                    else "error.title"), message=message)


def value_decimals(request: Request) -> int:
    """Decimals of claim values (the settlement asset's), read once per app."""
    state = request.app.state
    if getattr(state, "portal_decimals", None) is None:
        state.portal_decimals = int(state.ledger.receivables.functions.valueDecimals().call())
    return state.portal_decimals


def format_amount(value: int, decimals: int) -> str:
    """The CLI's amount text without zeros beyond the cents: ``1234500000`` with 6 decimals -> ``1,234.50``."""
    text = cli_amount(value, decimals)
    if "." not in text:
        return text
    whole, frac = text.split(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


def format_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _with_query(request: Request, **changes: object) -> str:
    """This page's URL with query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")
