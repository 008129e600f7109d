"""One journey per role in a real browser (Debian's Chromium under Playwright) against a running stack
(anvil + indexer + API), in both languages, with an injected wallet, axe-core on every page and a
screenshot of each (build/portal-screenshots/)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from portal_fixtures import *  # noqa: F403  (fixtures)
from portal_fixtures import DOCUMENT
from sqlmodel import Session

from api.portal.i18n import LANGUAGES, Translator
from api.portal.web import format_amount
from indexer import queries

pytestmark = pytest.mark.slow
AMOUNT_FIELDS = {"balance", "value", "available", "allowance", "amount", "current"}  # as portal.js formats them
DECIMALS = 6


def expected_error(lang: str, body: dict) -> str:  # type: ignore[type-arg]
    """What the page must say for an API error body: its translation with amounts formatted."""
    values = {k: format_amount(int(v), DECIMALS) if k in AMOUNT_FIELDS else v for k, v in body["details"].items()}
    return Translator(lang)(f"error.{body['error']}", **values)


def submit(session, action: str, **fields: str) -> str:  # type: ignore[no-untyped-def]
    """Fill and submit an action form; returns what its result region finally says."""
    form = session.page.locator(f"form.tx-form[data-action={action}]")
    for name, value in fields.items():
        target = form.locator(f"[name={name}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    form.locator("button[type=submit]").click()
    result = form.locator(".tx-result")
    result.locator("xpath=self::*[contains(@class, 'ok') or contains(@class, 'error')]").wait_for(timeout=20_000)
    return result.inner_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_supplier_journey(visitor, stack, lang) -> None:  # type: ignore[no-untyped-def]
    t = Translator(lang)
    a = stack.actors
    me = visitor(a.supplier, lang, "supplier")
    me.sign_in("/portal/supplier/holdings")
    me.check("holdings")
    rows = {int(r.get_attribute("data-token")): r.inner_text() for r in me.page.locator("tr[data-token]").all()}
    main, pledged = stack.tokens["main"], stack.tokens["pledged"]
    waiting = stack.tokens[f"waiting{LANGUAGES.index(lang)}"]  # one claim to accept per language
    for status in ("status.accepted", "status.financed", "status.frozen"):
        assert t(status) in rows[main], (status, rows[main])
    assert t("status.pledged") in rows[pledged] and t("status.awaiting") in rows[waiting]

    # refused: a split beyond the claim's free value, explained in the page's language
    too_much = {"action": "split", "token_id": main, "to": a.supplier3.address, "value": str(10_000 * 10**DECIMALS)}
    body = me.page.request.post(stack.url + "/portal/api/tx/build", data=too_much).json()
    said = submit(me, "split", token_id=str(main), to=a.supplier3.address, value="10000")
    assert said == expected_error(lang, body), (said, body)
    assert t("error.generic", message="") not in said  # a translated explanation, not the raw API text
    me.check("split-refused")

    # a split within the value: built by the server, signed by the wallet, relayed by /tx/send
    before = me.wallet.calls.count("eth_signTransaction")
    said = submit(me, "split", token_id=str(main), to=a.supplier3.address, value="10.5")
    assert "ValueMoved" in said and me.wallet.calls.count("eth_signTransaction") == before + 1
    me.check("split-done")
    stack.sync()
    me.page.reload()
    left = format_amount(stack.ledger.holding(main).value, DECIMALS)
    assert left in me.page.locator(f"tr[data-token='{main}']").inner_text()

    # accepting with a wallet that only sends (like MetaMask): the page reads the decoded receipt instead
    me.wallet.sign_only = False
    said = submit(me, "accept", token_id=str(waiting))
    assert "Accepted" in said and me.wallet.calls[-1] == "eth_sendTransaction"
    stack.sync()
    me.page.reload()
    assert t("status.accepted") in me.page.locator(f"tr[data-token='{waiting}']").inner_text()
    me.check("accepted")

    # notarization: the file is hashed in the browser; only its SHA-256 reaches the server
    me.visit("/portal/supplier/invoices", "invoices")
    sent: list[str] = []
    me.page.on("request", lambda request: sent.append(f"{request.method} {request.url} {request.post_data or ''}"))
    with me.page.expect_navigation():
        me.page.set_input_files("#drop-file", files=[{"name": "invoice.pdf", "mimeType": "application/pdf",
                                                      "buffer": DOCUMENT}])
    digest = "0x" + hashlib.sha256(DOCUMENT).hexdigest()
    assert me.page.input_value("#document") == "" and digest in me.page.url
    assert all(DOCUMENT.decode(errors="ignore")[:20] not in line and line.startswith("GET") for line in sent)
    result = me.page.locator("#document-result").inner_text()
    assert t("invoices.document_hash", hash=digest) in result
    assert re.search(re.escape(t("invoice.status.1")), result)
    me.check("notarized")
    with me.page.expect_navigation():
        me.page.set_input_files("#drop-file", files=[{"name": "other.pdf", "mimeType": "application/pdf",
                                                      "buffer": b"never notarized"}])
    assert t("invoices.not_yet") in me.page.locator("#document-result").inner_text()

    # refused: a page of another role
    me.visit("/portal/core/payables", "refused-page", status=403)
    assert t("error.title.403") in me.page.locator("main").inner_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_core_enterprise_journey(visitor, stack, lang) -> None:  # type: ignore[no-untyped-def]
    t = Translator(lang)
    a = stack.actors
    me = visitor(a.core, lang, "core")
    me.sign_in("/portal/core/payables")
    me.check("payables")
    me.page.click(f"nav[aria-label='{t('nav.label')}'] >> text={t('nav.home')}")
    me.page.wait_for_url(lambda url: url.endswith("/portal/"))
    me.check("home")
    assert t("role.CORE_ENTERPRISE") in me.page.locator("main").inner_text()
    me.page.click(f"main >> text={t('nav.payables')}")
    me.page.wait_for_url(lambda url: "/portal/core/payables" in url)
    main = me.page.locator("main")
    assert t("payables.open", slot=stack.slots["main"]) in main.inner_text()
    maturities = {slot: stack.ledger.payable(slot).maturity for slot in stack.slots.values()}
    calendar = me.page.locator("section[aria-labelledby=calendar] tbody tr td:first-child").all_inner_texts()
    assert calendar == sorted({datetime.fromtimestamp(m, UTC).strftime("%Y-%m") for m in maturities.values()})
    due = me.page.locator("section[aria-labelledby=deposits-due] tbody tr td:first-child").all_inner_texts()
    assert due == [str(slot) for slot in sorted(maturities, key=lambda s: (maturities[s], s))]  # nearest first

    # the tier penetration of the split payable
    me.page.click(f"text={t('payables.open', slot=stack.slots['main'])}")
    me.page.wait_for_url(f"**/portal/core/payables/{stack.slots['main']}")
    me.check("tier-penetration")
    tiers = me.page.locator("section[aria-labelledby=tiers] tbody tr").all_inner_texts()
    heads = [row.split("\t")[0] for row in tiers]
    assert heads[:3] == [t("payable.tier_n", tier=n) for n in (1, 2, 3)] and heads[-1] == t("payable.lenders")
    stack.sync()
    with Session(stack.indexer.engine) as db:  # what the mirror says reached each tier, lenders apart
        expected: dict[int | str, int] = {}
        for node in queries.payable_tree(db, stack.slots["main"]):
            key = "lenders" if node.owner == a.lender.address else node.tier
            expected[key] = expected.get(key, 0) + node.received
    assert expected[1] == 1000 * 10**DECIMALS and expected["lenders"] == 200 * 10**DECIMALS
    reached = [row.split("\t")[2] for row in tiers]
    assert reached == [format_amount(expected[k], DECIMALS) for k in (1, 2, 3, "lenders")], reached
    tree = me.page.locator("ul.tree")
    for key in ("main", "tier2", "tier3"):
        assert tree.get_by_text(re.compile(rf"\b{stack.tokens[key]}\b")).count() >= 1
    assert tree.locator(".node.lender").count() == 1

    # switching language from the header keeps the page
    other = LANGUAGES[1 - LANGUAGES.index(lang)]
    me.page.click(f"nav.langs a[hreflang={other}]")
    assert me.page.evaluate("document.documentElement.lang") == other
    me.lang = other
    me.check("switched-language")
    me.lang = lang

    # refused: a supplier's page, and the holdings endpoint of the API without a bearer token
    me.visit(f"/portal/supplier/holdings?lang={lang}", "refused-page", status=403)
    assert t("error.PageRoleRequired", roles=t("role.SUPPLIER")) in main.inner_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_outsider_is_refused_at_sign_in(visitor, stack, lang) -> None:  # type: ignore[no-untyped-def]
    outsider = stack.actors.outsider
    me = visitor(outsider, lang, "outsider")
    me.visit(f"/portal/signin?lang={lang}", "signin")
    me.page.click("#signin-button")
    status = me.page.locator("#signin-status.error")
    status.wait_for(timeout=15_000)
    assert status.inner_text() == Translator(lang)("error.NotAMember", address=outsider.address)
    me.check("refused")
    me.visit("/portal/", "still-signed-out")  # no session was opened: the sign-in page again
    assert me.page.url.startswith(stack.url + "/portal/signin")
