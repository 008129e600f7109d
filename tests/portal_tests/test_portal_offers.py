"""Offers, invoice registration and deposits in a real browser, in both languages: a lender signs an offer in
its wallet (EIP-712) and posts it; the supplier sees it with its price and takes it (the financing shows up
once mirrored), and taking it again is refused in the page's language; the lender withdraws another offer and
voids its nonce; the supplier registers an invoice from a file hashed in the browser, and the same invoice
again is refused; the core enterprise approves and deposits. axe-checked, with screenshots."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from conftest import CONSORTIUM_KEY, ONE
from portal_fixtures import *  # noqa: F403  (fixtures)

from api.portal.i18n import LANGUAGES, Translator
from api.portal.web import format_amount
from ledger import settlement
from ledger.financing import discount_price
from ledger.fingerprint import InvoiceFields, fingerprint

pytestmark = pytest.mark.slow
DECIMALS = 6


def outcome(form, *, state: str = "ok|error") -> str:  # type: ignore[no-untyped-def]
    """Click the form's button and wait until its result region says ``state`` (a fresh message)."""
    result = form.locator(".tx-result, .offer-result").first
    result.evaluate("e => { e.className = e.className.replace(/\\b(ok|error)\\b/g, ''); }")
    form.locator("button").first.click()
    wanted = " or ".join(f"contains(@class, '{s}')" for s in state.split("|"))
    result.locator(f"xpath=self::*[{wanted}]").wait_for(timeout=30_000)
    return result.inner_text()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_offer_taken_invoice_registered_and_deposit(visitor, stack, lang) -> None:  # type: ignore[no-untyped-def]
    t = Translator(lang)
    a, ledger = stack.actors, stack.ledger
    main = stack.tokens["main"]

    # the lender signs two offers in its wallet (EIP-712) and posts them to the book
    lender = visitor(a.lender, lang, "offers-lender")
    lender.sign_in("/portal/lender/offers")
    lender.check("lender-offers")
    before = {int(r.get_attribute("data-offer")) for r in lender.page.locator("tr[data-offer]").all()}
    form = lender.page.locator("form.offer-form")
    for name, text in (("token_id", str(main)), ("value", "10"), ("rate", "6.5"), ("fee", "0.1"), ("days", "7")):
        form.locator(f"[name={name}]").fill(text)
    assert outcome(form, state="ok").startswith(t("offers.lender.posted").split("{id}")[0])
    assert lender.wallet.calls.count("eth_signTypedData_v4") == 1
    form.locator("[name=value]").fill("5")
    outcome(form, state="ok")
    lender.page.reload()
    lender.check("lender-posted")
    posted = sorted({int(r.get_attribute("data-offer")) for r in lender.page.locator("tr[data-offer]").all()} - before)
    assert len(posted) == 2
    taken_id, withdrawn_id = posted

    # the supplier sees the first with its price now and takes it: one wallet signature (the desk is approved)
    supplier = visitor(a.supplier, lang, "offers-supplier")
    supplier.sign_in("/portal/supplier/offers")
    supplier.check("offers")
    maturity = ledger.payable(stack.slots["main"]).maturity
    chain_now = ledger.chain.w3.eth.get_block("latest")["timestamp"]
    price = discount_price(10 * ONE, 650, maturity - chain_now)
    row = supplier.page.locator(f"tr[data-offer='{taken_id}']")
    text = row.inner_text()
    assert format_amount(price, DECIMALS) in text and format_amount(price - ONE // 10, DECIMALS) in text, text
    assert t("offers.rate_value", rate="6.5") in text and t("offers.status.open") in text
    signatures = supplier.wallet.calls.count("eth_signTransaction")
    take = row.locator("form.take-form")
    said = outcome(take, state="ok")
    assert "Financed" in said and supplier.wallet.calls.count("eth_signTransaction") == signatures + 1
    supplier.check("taken")

    # refused: the same offer again, once mirrored, is explained in the page's language
    stack.sync()
    refused = outcome(take, state="error")
    assert refused == t("error.OfferTaken"), refused
    supplier.check("taken-again-refused")
    supplier.visit(f"/portal/supplier/offers?status=taken&token_id={main}", "offers-taken")
    taken_row = supplier.page.locator(f"tr[data-offer='{taken_id}']")
    financing = int(taken_row.get_attribute("data-financing"))
    assert t("offers.status.taken") in taken_row.inner_text()
    assert t("offers.financing", id=financing) in taken_row.inner_text()
    lender.visit("/portal/lender/financings", "lender-financings")
    assert lender.page.locator(f"tr[data-financing='{financing}']").count() == 1

    # the lender withdraws the other offer and voids its signed terms on-chain (a wallet signature)
    lender.visit("/portal/lender/offers", "lender-offers-again")
    button = lender.page.locator(f"button.withdraw-offer[data-offer='{withdrawn_id}']")
    button.click()
    cell = lender.page.locator(f"tr[data-offer='{withdrawn_id}'] .offer-result")
    cell.locator("xpath=self::*[contains(@class, 'ok') or contains(@class, 'error')]").wait_for(timeout=30_000)
    assert cell.inner_text().startswith(t("offers.lender.withdrawn")), cell.inner_text()
    lender.check("withdrawn")

    # invoice registration: the file is hashed in the browser; a second registration is refused
    supplier.visit("/portal/supplier/invoices", "invoices")
    document = f"%PDF-1.4 INV-OFFERS-{lang} parts invoice\n".encode()
    register = supplier.page.locator("form.tx-form[data-action=register_invoice]")
    register.locator("input[type=file]").set_input_files(files=[{"name": "inv.pdf", "mimeType": "application/pdf",
                                                                 "buffer": document}])
    digest = "0x" + hashlib.sha256(document).hexdigest()
    register.locator("input[name=document_hash]").wait_for(state="attached")
    supplier.page.wait_for_function(f"document.querySelector('input[name=document_hash]').value === '{digest}'")
    for name, text in (("buyer", a.core.address), ("number", f"INV-OFFERS-{lang}"), ("amount", "1234.5"),
                       ("currency", "CNY"), ("issue_date", "2026-11-03")):
        register.locator(f"[name={name}]").fill(text)
    assert "InvoiceRegistered" in outcome(register, state="ok")
    print_ = fingerprint(InvoiceFields(a.supplier.address, a.core.address, f"INV-OFFERS-{lang}", 1_234_500_000, "CNY",
                                       date(2026, 11, 3)), CONSORTIUM_KEY).full
    assert ledger.invoice(print_).document_hash == hashlib.sha256(document).digest()
    supplier.check("invoice-registered")
    again = outcome(register, state="error")
    assert again == t("error.InvoiceAlreadyRegistered", fingerprint="0x" + print_.hex(), seller=a.supplier.address)
    supplier.check("invoice-refused")

    # the core enterprise approves the vault and deposits: two wallet signatures
    core = visitor(a.core, lang, "offers-core")
    ledger.execute(a.core, ledger.asset.functions.mint(a.core.address, 100 * ONE))
    vault = ledger.address("SettlementVault")
    paid = settlement.settlement(ledger, vault, stack.slots["main"]).cumulative_paid
    core.sign_in("/portal/core/payables")
    core.check("payables")
    deposit = core.page.locator("form.tx-form[data-action=deposit]")
    deposit.locator("[name=slot]").select_option(str(stack.slots["main"]))
    deposit.locator("[name=amount]").fill("25")
    said = outcome(deposit, state="ok")
    assert "Deposited" in said and core.wallet.calls.count("eth_signTransaction") == 2
    assert settlement.settlement(ledger, vault, stack.slots["main"]).cumulative_paid == paid + 25 * ONE
    core.check("deposited")
