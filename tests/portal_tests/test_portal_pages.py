"""The portal without a browser: catalogues complete in both languages, every key used exists, the
role x page table drives the routes and the refusals, sign-in sets a safe cookie, errors are pages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ONE
from portal_fixtures import *  # noqa: F403  (fixtures)
from portal_fixtures import portal_sign_in

from api import portal
from api.portal import i18n
from api.portal.access import PAGES, allowed
from api.portal.web import SESSION_COOKIE, PortalRoute
from ledger.roles import MEMBER_ROLES

PORTAL = Path(i18n.__file__).parent
SOURCES = [*PORTAL.glob("*.py"), *PORTAL.glob("templates/**/*.html"), PORTAL / "static" / "portal.js"]
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Keys built at run time from a value, and the values they take.
DYNAMIC = {
    "role.": [r.name for r in MEMBER_ROLES],
    "lang.": list(i18n.LANGUAGES),
    "invoice.status.": ["1", "2", "3", "4", "5"],
    "payable.status.": ["0", "1", "2", "3"],
}


def used_keys(name: str, text: str, known_prefixes: set[str]) -> set[str]:
    """Message keys a source uses: arguments of t() / msg() and, in templates and Python (docstrings
    aside), quoted literals under a catalogue prefix (keys handed to macros or to t() later)."""
    if name.endswith(".py"):
        literals = _python_strings(text)
    else:
        literals = set(re.findall(r"[\"']([^\"'\s]+)[\"']", text)) if name.endswith(".html") else set()
    called = set(re.findall(r"\b(?:t|msg)\(\s*[\"']([\w.-]+)[\"']", text)) if not name.endswith(".py") else set()
    keyish = {k for k in literals if re.fullmatch(r"[a-z][\w-]*\.[\w.-]+", k) and k.split(".")[0] in known_prefixes
              and not k.endswith((".html", ".json", ".py"))}
    return called | keyish


def _python_strings(text: str) -> set[str]:
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def missing_keys(sources: dict[str, str], catalogue: dict[str, str]) -> dict[str, set[str]]:
    prefixes = {k.split(".")[0] for k in catalogue}
    found = {}
    for name, text in sources.items():
        unknown = {k for k in used_keys(name, text, prefixes) if k not in catalogue and not k.endswith(".")}
        if unknown:
            found[name] = unknown
    return found


def test_both_catalogues_have_the_same_keys_and_placeholders() -> None:
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh-CN")
    assert set(en) == set(zh), f"only in en: {set(en) - set(zh)}; only in zh-CN: {set(zh) - set(en)}"
    for key in en:
        assert en[key].strip() and zh[key].strip(), f"{key} is empty"
        assert set(PLACEHOLDER.findall(en[key])) == set(PLACEHOLDER.findall(zh[key])), f"{key}: placeholders differ"


def test_every_key_the_portal_uses_is_in_both_catalogues() -> None:
    sources = {str(p.relative_to(PORTAL)): p.read_text(encoding="utf-8") for p in SOURCES}
    for lang in i18n.LANGUAGES:
        catalogue = i18n.catalogue(lang)
        assert missing_keys(sources, catalogue) == {}, lang
        for prefix, values in DYNAMIC.items():
            assert {prefix + v for v in values} <= set(catalogue), f"{lang}: {prefix}* incomplete"
        assert {rule.nav for rule in PAGES if rule.nav} <= set(catalogue)


def test_the_key_scanner_sees_an_unknown_key() -> None:
    catalogue = i18n.catalogue("en")
    sources = {"page.html": '<p>{{ t("holdings.title") }} {{ t("holdings.no_such_key") }}</p>',
               "macro.html": '{{ m.tx_form(t, "split", "form.nowhere", []) }}',
               "page.py": 'rows = ["status.accepted", "status.nonexistent"]',
               "page.js": 'say(out, [msg("js.nowhere")])'}
    assert missing_keys(sources, catalogue) == {"page.html": {"holdings.no_such_key"}, "macro.html": {"form.nowhere"},
                                                "page.py": {"status.nonexistent"}, "page.js": {"js.nowhere"}}


def test_the_page_table_and_the_routes_agree(portal_client) -> None:
    routes = {(r.name, r.path) for sub in portal.ROUTERS for r in sub.routes if isinstance(r, PortalRoute)}
    assert routes - {("signin", "/portal/signin")} == {(rule.name, rule.path) for rule in PAGES}
    assert not [p for p in portal_client.app.openapi()["paths"] if p.startswith("/portal")]


@pytest.mark.parametrize("who", ["supplier", "core", "core2", "lender", "regulator", "auditor"])
def test_role_x_page(portal_client, world, actors, ledger, who) -> None:
    account = getattr(actors, who)
    roles = ledger.member(account.address).roles
    portal_sign_in(portal_client, account)
    samples = {"slot": world["slot"]}  # a value for each path parameter of the table's pages
    for rule in PAGES:
        path = rule.path.format(**samples)
        for lang in i18n.LANGUAGES:
            response = portal_client.get(path, params={"lang": lang})
            assert f'<html lang="{lang}">' in response.text
            if not allowed(rule, roles):
                assert response.status_code == 403, (who, path)
                assert i18n.Translator(lang)("error.title.403") in response.text
            elif rule.name == "core.payable" and who == "core2":  # core's payable: another firm's data
                assert response.status_code == 403
                assert i18n.Translator(lang)("error.OtherFirmsData") in response.text
            else:
                assert response.status_code == 200, (who, path, response.text[-500:])
        menu = re.findall(r'<nav aria-label="Main menu">(.*?)</nav>', portal_client.get("/portal/?lang=en").text, re.S)
        assert set(re.findall(r'href="([^"]+)"', menu[0])) == {r.path for r in PAGES if r.nav and allowed(r, roles)}


def test_signed_out_pages_send_to_sign_in_and_back(portal_client) -> None:
    response = portal_client.get("/portal/supplier/holdings", params={"slot": 3})
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/signin?next=/portal/supplier/holdings%3Fslot%3D3"
    assert 'data-next="/portal/"' in portal_client.get("/portal/signin?next=https://evil.example/").text


def test_session_cookie_is_httponly_and_strict(portal_client, ledger, actors) -> None:
    portal_sign_in(portal_client, actors.supplier)
    cookie = next(c for c in portal_client.cookies.jar if c.name == SESSION_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite") == "strict"
    assert portal_client.post("/portal/session", json={"token": "forged.token"}).json()["error"] == "InvalidToken"
    signed_out = portal_client.post("/portal/signout")
    assert signed_out.status_code == 303 and SESSION_COOKIE not in portal_client.cookies


def test_language_from_query_cookie_then_browser(portal_client) -> None:
    chinese = portal_client.get("/portal/signin", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert '<html lang="zh-CN">' in chinese.text
    assert '<html lang="en">' in portal_client.get("/portal/signin", headers={"Accept-Language": "fr, en;q=0.5"}).text
    portal_client.get("/portal/signin?lang=zh-CN")  # the choice sticks as a cookie
    page = portal_client.get("/portal/signin", headers={"Accept-Language": "en"}).text
    assert '<html lang="zh-CN">' in page and "连接钱包并登录" in page


def test_holdings_show_status_and_filters_and_pages(portal_client, world, actors, ledger) -> None:
    ledger.as_member(actors.supplier).split(world["token"], actors.supplier.address, 50 * ONE)
    settings = portal_client.app.state.settings
    from indexer import Indexer

    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=portal_client.app.state.engine).sync()
    portal_sign_in(portal_client, actors.supplier)
    first = portal_client.get("/portal/supplier/holdings", params={"limit": 1, "lang": "en"}).text
    assert i18n.Translator("en")("list.showing", first=1, last=1, total=2) in first
    assert 'rel="next"' in first and "Accepted" in first
    other = portal_client.get("/portal/supplier/holdings", params={"slot": world["slot2"]}).text
    assert "Nothing to show." in other
    bad = portal_client.get("/portal/supplier/holdings", params={"slot": "x", "lang": "zh-CN"})
    assert bad.status_code == 422 and "请求无效" in bad.text


def test_a_refused_action_is_the_contracts_error(portal_client, world, actors) -> None:
    split = {"action": "split", "token_id": world["token"], "to": actors.supplier2.address, "value": str(10**12 * ONE)}
    assert portal_client.post("/portal/api/tx/build", json=split).json()["error"] == "NotSignedIn"
    portal_sign_in(portal_client, actors.supplier)
    refused = portal_client.post("/portal/api/tx/build", json=split)
    assert refused.status_code == 409 and refused.json()["error"] == "ReceivableInvalidValue", refused.json()
    assert set(refused.json()["details"]) == {"tokenId", "balance", "value"}
    built = portal_client.post("/portal/api/tx/build", json={**split, "value": str(10 * ONE)}).json()
    assert built["transaction"]["from"] == actors.supplier.address


def test_an_unready_mirror_is_a_readable_page(portal_client, actors) -> None:
    portal_sign_in(portal_client, actors.supplier)  # no indexer ran: the mirror has no tables
    response = portal_client.get("/portal/supplier/holdings", params={"lang": "zh-CN"})
    assert response.status_code == 503 and i18n.Translator("zh-CN")("error.MirrorUnavailable") in response.text
