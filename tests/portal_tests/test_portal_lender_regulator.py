"""The lender's and the regulator's journeys in a real browser against the running stack, in both languages:
financings, exposure chart and table, counterparty alerts, a credit proof checked (and a tampered one refused);
warnings by level, fraud alerts with their evidence rows; each with a refused page, axe-core on every page and a
screenshot of each. Plus the run-time keys of these pages in both catalogues."""

from __future__ import annotations

import hashlib
import json

import pytest
from conftest import CONSORTIUM_KEY, DAY, ONE, make_invoice, now
from portal_fixtures import *  # noqa: F403  (fixtures)
from portal_fixtures import portal_sign_in
from sqlmodel import Session, select

from api.portal.i18n import LANGUAGES, Translator, catalogue
from api.portal.web import format_amount, format_date
from indexer.models import Financing, Invoice
from ledger.anvil import dev_accounts
from ledger.client import InvoiceRegistration
from ledger.financing import FinancingDesk, Offer
from ledger.roles import Role
from risk.catalogue import RULES
from risk.models import CreditScore, FirmProfile, RiskAlert
from risk.models import upgrade as upgrade_risk_tables
from zk.check import REASONS
from zk.onchain import CreditContracts
from zk.policy import CreditPolicy
from zk.prover import ZkWorker, day_number, prove_credit
from zk.report import CreditReport
from zk.schema import FIELDS, TaxGrade

DECIMALS = 6
POLICY = CreditPolicy(min_score=700, max_judgments=0, tax_mask=CreditPolicy.mask(TaxGrade.A, TaxGrade.B),
                      revenue_lo=1_000_000_00, revenue_hi=100_000_000_00, max_age_days=90)


def test_run_time_keys_are_in_both_catalogues() -> None:
    """Keys the lender and regulator templates build from values: every value they can take."""
    wanted = ([f"regulator.rule.{r}" for r in RULES] + [f"lender.proofs.reason.{r}" for r in REASONS]
              + [f"lender.proofs.field.{f.name}" for f in FIELDS]
              + [f"lender.proofs.op.{op}" for op in ("ge", "le", "in", "between", "age_le")]
              + [f"lender.proofs.valid.{k}" for k in ("groth16", "disclosure")]
              + [f"regulator.severity.{s}" for s in ("high", "medium", "low")]
              + [f"regulator.level.{w}" for w in ("red", "yellow", "blue")]
              + [f"lender.financings.status.{s}" for s in range(4)] + [f"lender.financings.kind.{k}" for k in (0, 1)]
              + [f"lender.exposure.channel.{c}" for c in ("discounted", "pledged")])
    for lang in LANGUAGES:
        assert [k for k in wanted if k not in catalogue(lang)] == [], lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_proof_check_refusals_are_translated_pages(portal_client, actors, lang) -> None:  # type: ignore[no-untyped-def]
    t = Translator(lang)
    url = f"/portal/lender/proofs?lang={lang}"
    signed_out = portal_client.post(url, json={"proof": {}})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, f"/portal/signin?next=/portal/lender/"
                                                                             f"proofs%3Flang%3D{lang}")
    portal_sign_in(portal_client, actors.regulator)
    refused = portal_client.post(url, json={"proof": {}})
    assert refused.status_code == 403 and t("error.PageRoleRequired", roles=t("role.LENDER")) in refused.text
    portal_sign_in(portal_client, actors.lender)
    junk = portal_client.post(url, json={"values": {"credit_score": 1}})
    assert junk.status_code == 422 and t("error.MalformedProof") in junk.text
    form = portal_client.post(url, data={"proof": "x"})  # the portal's POSTs take JSON only
    assert form.status_code == 422 and t("error.InvalidRequest", message="body: ") in form.text


@pytest.fixture(scope="module")
def scene(stack):  # type: ignore[no-untyped-def]
    """The stack plus what these journeys read: the lender also discounts 50 of the tier-2 supplier's claim (an
    invoice to the tier-1 supplier puts it at tier 2); scores with warnings, two alerts with evidence rows (one
    naming the lender's counterparty), a registered credit report about the supplier and the supplier's proof
    for the lender (valid, and a copy with the proof points swapped)."""
    a, ledger, engine = stack.actors, stack.ledger, stack.indexer.engine
    ledger.as_supplier(a.supplier2).register_invoice(InvoiceRegistration(
        make_invoice(a.supplier2.address, a.supplier.address, 300 * ONE),
        document_hash=hashlib.sha256(b"tier-2 invoice").digest()), CONSORTIUM_KEY)
    desk = FinancingDesk(ledger, ledger.address("FinancingDesk"))
    ledger.as_member(a.supplier2).set_approval_for_all(desk.contract.address, True)
    tier2 = stack.tokens["tier2"]
    offer = Offer(lender=a.lender.address, token_id=tier2, value=50 * ONE, rate_bps=600, fee=ONE,
                  expiry=now(ledger.chain) + DAY, nonce=3)
    desk.take_offer(a.supplier2, offer, tier2, desk.sign(a.lender, offer))
    stack.sync()
    upgrade_risk_tables(engine)
    with Session(engine, expire_on_commit=False) as s:
        invoice = s.exec(select(Invoice)).first()
        financings = s.exec(select(Financing).order_by(Financing.financing_id)).all()
        assert invoice is not None and len(financings) == 3
        s.add_all([
            CreditScore(address=a.supplier.address, model_version="scorecard-test", as_of_block=9, score=350,
                        base_score=350, reason_codes=["R03"], warning="red", credit_line=0),
            CreditScore(address=a.supplier2.address, model_version="scorecard-test", as_of_block=9, score=520,
                        base_score=520, reason_codes=["R01", "R07"], warning="yellow", credit_line=40_000),
            CreditScore(address=a.supplier3.address, model_version="scorecard-test", as_of_block=9, score=610,
                        base_score=610, reason_codes=["R02"], warning="blue", credit_line=90_000),
            CreditScore(address=a.core.address, model_version="scorecard-test", as_of_block=9, score=820,
                        base_score=820, reason_codes=[], warning="none", credit_line=900_000),
            FirmProfile(address=a.supplier.address, registered_on=1, registered_capital=5_000_000,
                        shareholders=["Li Wei", "Wu Fang"], legal_representative="Li Wei", source="SAMR registry",
                        submitted_by=a.regulator.address, submitted_at=1, document_hash="0x00"),
            RiskAlert(alert_id="journey-dup", rule="duplicate_financing", subject="slot", severity="high",
                      firms=[a.supplier.address], reasons=["financed twice"], source_block=20, evidence=[
                          {"table": "invoice", "pk": invoice.fingerprint},
                          {"table": "financing", "pk": financings[0].financing_id},
                          {"table": "payable", "pk": stack.slots["main"]},
                          {"table": "risk_firm_profile", "pk": a.supplier.address}]),
            RiskAlert(alert_id="journey-split", rule="split_chain", subject="token", severity="medium",
                      firms=[a.supplier3.address], reasons=["split fast"], source_block=10, evidence=[]),
        ])
        s.commit()
    bureau = dev_accounts(13)[12]
    ledger.chain.w3.provider.make_request("anvil_setBalance", [bureau.address, hex(10**20)])
    ledger.as_registrar(a.registrar).admit(bureau.address, "bureau", [Role.CREDIT_BUREAU], now(ledger.chain) + DAY)
    credit = CreditContracts.of(ledger)
    day = day_number(now(ledger.chain))
    report = CreditReport.issue({"credit_score": 780, "court_judgments": 0, "tax_grade": int(TaxGrade.A),
                                 "annual_revenue_cents": 12_500_000_00, "overdue_count": 1,
                                 "registered_capital_cents": 50_000_000_00, "social_insurance_headcount": 85,
                                 "patents": 4, "report_day": day - 3, "subject_address": int(a.supplier.address, 16),
                                 "report_serial": 7})
    credit.register(bureau, report.root, a.supplier.address, report.document_hash(), now(ledger.chain) + 90 * DAY)
    credit.set_policy(a.lender, POLICY.hash)
    nonce = credit.issue_nonce(a.lender)
    with ZkWorker() as worker:
        proof = prove_credit(worker, report, POLICY, today=day, lender=a.lender.address, nonce=nonce)
    valid = {**proof.to_json(), "policy": POLICY.to_json(), "subject": a.supplier.address}
    tampered = {**valid, "proof": {**valid["proof"], "pi_c": valid["proof"]["pi_a"]}}
    return {"stack": stack, "valid": json.dumps(valid).encode(), "tampered": json.dumps(tampered).encode(),
            "day": day, "financings": [f.financing_id for f in financings], "invoice": invoice}


def upload(me, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    """Drop a file on the proof page; returns the verdict's text once it is shown."""
    me.page.evaluate("document.getElementById('proof-result').replaceChildren()")
    me.page.set_input_files("#proof-file", files=[{"name": name, "mimeType": "application/json", "buffer": content}])
    verdict = me.page.locator("#proof-result .notice")
    verdict.wait_for(timeout=30_000)
    return verdict.inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_lender_journey(visitor, scene, lang) -> None:  # type: ignore[no-untyped-def]
    t, stack = Translator(lang), scene["stack"]
    a = stack.actors
    me = visitor(a.lender, lang, "lender")
    me.sign_in("/portal/lender/financings")
    me.check("financings")
    shown = sorted(int(r.get_attribute("data-financing")) for r in me.page.locator("tr[data-financing]").all())
    assert shown == scene["financings"]
    me.visit(f"/portal/lender/financings?kind=1&lang={lang}", "financings-pledges")
    pledges = me.page.locator("tr[data-financing]").all_inner_texts()
    assert len(pledges) == 1 and t("lender.financings.kind.1") in pledges[0] and "500.00" in pledges[0]

    # exposure to the core's default: 200 discounted and a 500 pledge loan from its tier-1 supplier, 50 from tier 2
    me.page.click(f"nav[aria-label='{t('nav.label')}'] >> text={t('lender.nav.exposure')}")
    me.page.wait_for_url("**/portal/lender/exposure")
    me.check("exposure")
    rows = me.page.locator("section[aria-labelledby=exposure-table] tbody tr").all_inner_texts()
    expected = [[t("lender.exposure.tier_n", tier=n), t(f"lender.exposure.channel.{c}"), format_amount(v, DECIMALS)]
                for n, c, v in ((1, "discounted", 200 * ONE), (1, "pledged", 500 * ONE), (2, "discounted", 50 * ONE))]
    assert [r.split("\t")[1:] for r in rows] == expected
    chart = me.page.locator("svg[role=img]")
    total = format_amount(750 * ONE, DECIMALS)
    assert chart.locator("title").first.text_content() == t("lender.exposure.chart_title", cores=1, total=total)
    widths = [float(chart.locator(f"rect.tier-{n}").get_attribute("width")) for n in (1, 2)]
    assert abs(widths[0] / widths[1] - 700 / 50) < 0.01  # one bar, its tiers in proportion
    assert chart.locator("text").last.text_content() == total
    assert me.page.locator("ul.legend li").all_inner_texts() == [t("lender.exposure.tier_n", tier=n) for n in (1, 2)]

    # alerts on its counterparties: the supplier it financed, not a firm it never financed
    me.visit(f"/portal/lender/alerts?lang={lang}", "alerts")
    assert [r.get_attribute("data-alert") for r in me.page.locator("tr[data-alert]").all()] == ["journey-dup"]
    assert t("regulator.rule.duplicate_financing") in me.page.locator("tr[data-alert]").inner_text()
    me.page.click("tr[data-alert=journey-dup] summary")
    evidence = me.page.locator("tr[data-alert=journey-dup] ul.evidence li")
    assert [e.get_attribute("data-table") for e in evidence.all()] == ["invoice", "financing", "payable",
                                                                       "risk_firm_profile"]
    assert evidence.nth(2).locator("a").count() == 0  # the payable's page is not the lender's
    assert t("regulator.evidence.payable", slot=stack.slots["main"], debtor=a.core.address[:8] + "…",
             face=format_amount(1000 * ONE, DECIMALS),
             maturity=format_date(stack.ledger.payable(stack.slots["main"]).maturity)) \
        == evidence.nth(2).inner_text()
    me.check("alerts-evidence")

    # a credit proof: the facts it proves, in the page's language; a tampered copy is refused with the reason
    me.visit(f"/portal/lender/proofs?lang={lang}", "proofs")
    said = upload(me, "proof.json", scene["valid"])
    assert t("lender.proofs.valid.groth16") in said
    score = t("lender.proofs.op.ge", field=t("lender.proofs.field.credit_score"), a="700")
    grades = t("lender.proofs.op.in", field=t("lender.proofs.field.tax_grade"), a="A, B")
    revenue = t("lender.proofs.op.between", field=t("lender.proofs.field.annual_revenue_cents"), a="1,000,000.00",
                b="100,000,000.00")
    items = me.page.locator("#proof-result ul.predicates li").all_inner_texts()
    assert score in items and grades in items and revenue in items and len(items) == 5
    assert a.supplier.address in said
    me.check("proof-valid")
    said = upload(me, "tampered.json", scene["tampered"])
    assert said.splitlines()[0] == f"{t('lender.proofs.invalid')} {t('lender.proofs.reason.proof')}"
    me.check("proof-tampered")
    said = upload(me, "notes.txt", b"not json at all")
    assert said == t("lender.proofs.not_json")
    said = upload(me, "report.json", b'{"values": {"credit_score": 780}}')  # JSON, but no proof: the API's 422
    assert t("error.MalformedProof") in said and t("error.status", status=422) in said
    me.check("proof-malformed")

    # refused: the regulator's page
    me.visit(f"/portal/regulator/warnings?lang={lang}", "refused-page", status=403)
    assert t("error.PageRoleRequired", roles=t("role.REGULATOR")) in me.page.locator("main").inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_regulator_journey(visitor, scene, lang) -> None:  # type: ignore[no-untyped-def]
    t, stack = Translator(lang), scene["stack"]
    a = stack.actors
    me = visitor(a.regulator, lang, "regulator")
    me.sign_in("/portal/regulator/warnings")
    me.check("warnings")
    rows = [(r.get_attribute("data-firm"), r.get_attribute("data-level"))
            for r in me.page.locator("tr[data-firm]").all()]
    assert rows == [(a.supplier.address, "red"), (a.supplier2.address, "yellow"), (a.supplier3.address, "blue")]
    assert t("regulator.level.red") in me.page.locator("tr[data-firm]").first.inner_text()
    me.visit(f"/portal/regulator/warnings?level=yellow&lang={lang}", "warnings-yellow")
    assert [r.get_attribute("data-firm") for r in me.page.locator("tr[data-firm]").all()] == [a.supplier2.address]

    # fraud alerts with the rows behind them, each readable; the payable is a link to its tier penetration
    me.page.click(f"nav[aria-label='{t('nav.label')}'] >> text={t('regulator.nav.alerts')}")
    me.page.wait_for_url("**/portal/regulator/alerts")
    me.check("alerts")
    cards = [c.get_attribute("data-alert") for c in me.page.locator("article[data-alert]").all()]
    assert cards == ["journey-dup", "journey-split"]
    evidence = me.page.locator("article[data-alert=journey-dup] ul.evidence li")
    assert [e.get_attribute("data-table") for e in evidence.all()] == ["invoice", "financing", "payable",
                                                                       "risk_firm_profile"]
    invoice = scene["invoice"]
    assert evidence.nth(0).inner_text() == t(
        "regulator.evidence.invoice", fingerprint=invoice.fingerprint[:10] + "…", seller=a.supplier.address[:8] + "…",
        buyer=a.core.address[:8] + "…", amount=format_amount(invoice.amount, DECIMALS),
        status=t(f"invoice.status.{invoice.status}"))
    assert "Li Wei, Wu Fang" in evidence.nth(3).inner_text()
    me.visit(f"/portal/regulator/alerts?rule=split_chain&lang={lang}", "alerts-split-chain")
    assert [c.get_attribute("data-alert") for c in me.page.locator("article[data-alert]").all()] == ["journey-split"]
    assert t("regulator.evidence.none") in me.page.locator("article[data-alert]").inner_text()
    me.visit(f"/portal/regulator/alerts?lang={lang}", "alerts-again")
    slot = stack.slots["main"]
    me.page.click(f"article[data-alert=journey-dup] a[href='/portal/core/payables/{slot}']")
    me.page.wait_for_url(f"**/portal/core/payables/{slot}")
    me.check("evidence-payable")

    # refused: a level that does not exist, and the lender's credit-proof page
    me.visit(f"/portal/regulator/warnings?level=purple&lang={lang}", "refused-filter", status=422)
    assert t("error.InvalidRequest", message="query.level: ") in me.page.locator("main").inner_text()
    me.visit(f"/portal/lender/proofs?lang={lang}", "refused-page", status=403)
    assert t("error.PageRoleRequired", roles=t("role.LENDER")) in me.page.locator("main").inner_text()
    assert t("error.title.403") in me.page.locator("main").inner_text()
