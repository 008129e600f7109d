"""The web portal: server-rendered pages (Jinja2, light vanilla JavaScript) in English and Simplified
Chinese, for members who do not use the CLI. Mounted by ``api.main.create_app``::

    app.include_router(portal.router)
    app.mount("/portal/static", portal.static, name="portal-static")

Pieces: ``access.PAGES`` (role x page, drives the menu, the guard and the tests), ``i18n`` (catalogues
in ``messages/*.json``, language from ``?lang=`` / cookie / Accept-Language), ``web`` (session cookie ->
``api.deps.Caller``, rendering, translated error pages), ``signin`` (wallet sign-in), ``relay`` (the page
script's build/sign/relay of transactions), and one module per audience (``supplier``, ``core``, ...;
``offers``: the offer book's pages for suppliers and lenders).

How to add a page (e.g. the lender's financings):

1. Add a row to ``access.PAGES``: ``PageRule("lender.financings", "/portal/lender/financings",
   frozenset({Role.LENDER}), nav="nav.financings")`` (``nav=None`` keeps it out of the menu).
2. In a module of your audience (``api/portal/lender.py``), declare the route on a router with
   ``route_class=PortalRoute`` and guard it with the table's name::

       pages = APIRouter(route_class=PortalRoute)

       @pages.get("/portal/lender/financings", name="lender.financings")
       def financings(current: Annotated[View, Depends(page("lender.financings"))], session: SessionDep,
                      paging: Paging, status: int | None = None) -> HTMLResponse:
           found = records.financings(current.member, session, paging, party=None, kind=None, status=status)
           return current.render("lender/financings.html", title=current.t("lender.financings.title"),
                                 page=found, status=status)

   Read data by calling the API's route functions (``api.routes.*``) with ``current.member`` and the
   session: their scoping and refusals apply (an ``ApiError`` becomes a translated error page), and
   no SQL is copied. An ``async def`` route function is awaited from the (sync) page with
   ``anyio.from_thread.run(fn, *args)``, as ``core.payable`` does. Use ``api.routes.pages.Paging`` for
   ``?limit=&offset=`` and ``web.EVERY_ROW`` for a summary over all of a firm's rows.
3. Add ``pages`` to ``ROUTERS`` below.
4. Write the template under ``templates/<audience>/``: ``{% extends "base.html" %}``, fill
   ``{% block content %}``, use ``t("key")`` for every visible string, ``amount(v)`` and ``date(ts)``
   for values, and the macros of ``macros.html``: ``filters(...)`` and ``pager(page)`` on every list,
   ``tx_form(...)`` for an action the wallet signs (built by ``/tx/build``, relayed by ``/tx/send``).
5. Add each key to both ``messages/en.json`` and ``messages/zh-CN.json`` (``error.<Code>`` keys
   translate API and contract errors, with their details as ``{placeholders}``).
6. Test it. ``test_portal_pages.py::test_role_x_page`` opens every page of the table as every role in both
   languages and expects 200 or a translated 403 from the table alone (give a new path parameter a sample
   value in its ``samples``); the catalogue tests scan your template and module for unknown keys. Add a
   journey to ``test_portal_journeys.py``: ``me = visitor(stack.actors.lender, lang, "lender")`` opens a
   browser session with an injected wallet for that key, ``me.sign_in(path)`` signs in through the wallet,
   ``me.visit(path, name, status=...)`` and ``me.check(name)`` run axe-core (serious or critical issues
   fail) and save a screenshot; ``stack`` (``portal_fixtures.py``) is the chain, scenario, mirror and API,
   ``stack.sync()`` mirrors what the browser did. Include a refused action in both languages.

Security: the session cookie is HttpOnly and SameSite=Strict, and the portal's POST endpoints take JSON
only (FastAPI refuses other content types), so another site can neither read the token nor forge a
request with it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from api.portal import auditor, core, lender, offers, regulator, relay, signin, supplier

ROUTERS = (signin.pages, signin.actions, relay.router, supplier.pages, core.pages, auditor.pages, auditor.actions,
           lender.pages, regulator.pages, offers.pages, offers.actions)

router = APIRouter(include_in_schema=False)  # the portal is not part of the API's OpenAPI contract
for _sub in ROUTERS:
    router.include_router(_sub)
static = StaticFiles(directory=Path(__file__).parent / "static")
