"""Lenders' and overseers' reads: exposure by core and tier, alerts on a lender's counterparties, warnings,
an alert's evidence rows, and the check of credit proofs and disclosures against the chain (every denial)."""

from __future__ import annotations

import json

import pytest
from conftest import DAY, ONE, funded_desk, issue_claim, now, warp
from sqlmodel import Session, SQLModel

from api_tests.conftest import sign_in
from indexer import Indexer
from indexer.models import ValueMove
from ledger.anvil import dev_accounts
from ledger.financing import Kind, Offer
from ledger.roles import Role
from risk.models import RISK_TABLES, CreditScore, FirmProfile, RiskAlert
from zk.onchain import CreditContracts
from zk.policy import CreditPolicy
from zk.prover import ZkWorker, day_number, prove_credit
from zk.report import CreditReport
from zk.schema import TaxGrade


def _denied(response, code="OtherFirmsData"):
    assert (response.status_code, response.json()["error"]) == (403, code), response.json()


# ------------------------------------------------------------------------ exposure


@pytest.fixture
def financed(client, ledger, actors, settings):
    """The lender discounts 200 of the supplier's (tier 1) claim on core and lends against a 500 claim on core2
    held by supplier2 (pledge); a second lender discounts 100 of the first claim. Indexed."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    slot2, pledged = issue_claim(ledger, actors, 500 * ONE, holder=actors.supplier2, core=actors.core2)
    lender2 = dev_accounts(16)[15]
    ledger.as_registrar(actors.registrar).admit(lender2.address, "lender-2", [Role.LENDER], now(ledger.chain) + DAY)
    desk = funded_desk(ledger, actors.lender, lender2, amount=10_000 * ONE)
    for holder in (actors.supplier, actors.supplier2):
        ledger.as_member(holder).set_approval_for_all(desk.contract.address, True)
    expiry = now(ledger.chain) + DAY
    for lender, value, nonce in ((actors.lender, 200 * ONE, 1), (lender2, 100 * ONE, 2)):
        offer = Offer(lender=lender.address, token_id=token, value=value, rate_bps=600, fee=ONE, expiry=expiry,
                      nonce=nonce)
        desk.take_offer(actors.supplier, offer, token, desk.sign(lender, offer))
    pledge = Offer(lender=actors.lender.address, token_id=pledged, value=500 * ONE, kind=Kind.PLEDGE,
                   fixed_price=400 * ONE, rate_bps=800, penalty_bps=1200, expiry=expiry, nonce=3)
    desk.take_offer(actors.supplier2, pledge, pledged, desk.sign(actors.lender, pledge))
    engine = client.app.state.engine
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0, engine=engine).sync()
    SQLModel.metadata.create_all(engine, tables=[m.__table__ for m in RISK_TABLES])
    return {"slot": slot, "slot2": slot2, "lender2": lender2}


def _rows(page):
    return [(r["core"], r["lender"], r["tier"], r["channel"], r["exposure"]) for r in page["items"]]


def test_a_lender_reads_its_own_exposure_by_core_and_tier(client, actors, financed):
    a, lender2 = actors, financed["lender2"].address
    mine = client.get("/exposure", headers=sign_in(client, a.lender)).json()
    expected = sorted([(a.core.address, a.lender.address, 1, "discounted", str(200 * ONE)),
                       (a.core2.address, a.lender.address, 1, "pledged", str(500 * ONE))],
                      key=lambda r: r[0].lower())
    assert _rows(mine) == expected and mine["total"] == 2 and mine["as_of_block"] > 0
    only = client.get("/exposure", params={"core": a.core2.address}, headers=sign_in(client, a.lender)).json()
    assert _rows(only) == [(a.core2.address, a.lender.address, 1, "pledged", str(500 * ONE))]
    second = client.get("/exposure", params={"limit": 1, "offset": 1}, headers=sign_in(client, a.lender)).json()
    assert (second["total"], _rows(second)) == (2, expected[1:])
    _denied(client.get("/exposure", params={"lender": lender2}, headers=sign_in(client, a.lender)))
    for firm in (a.supplier, a.core):
        _denied(client.get("/exposure", headers=sign_in(client, firm)), "RoleRequired")
    for overseer in (a.regulator, a.auditor):
        every = client.get("/exposure", params={"core": a.core.address}, headers=sign_in(client, overseer)).json()
        assert sorted(_rows(every)) == sorted([(a.core.address, a.lender.address, 1, "discounted", str(200 * ONE)),
                                               (a.core.address, lender2, 1, "discounted", str(100 * ONE))])
        theirs = client.get("/exposure", params={"lender": lender2}, headers=sign_in(client, overseer)).json()
        assert _rows(theirs) == [(a.core.address, lender2, 1, "discounted", str(100 * ONE))]
    bad = client.get("/exposure", params={"core": "0x12"}, headers=sign_in(client, a.lender))
    assert (bad.status_code, bad.json()["error"]) == (422, "InvalidRequest")


# ------------------------------------------------------------ alerts, warnings, evidence


def test_a_lender_reads_alerts_on_the_firms_it_financed(client, actors, world):
    headers = sign_in(client, actors.lender)  # world: financings of the lender to supplier and supplier2
    assert [a["alert_id"] for a in client.get("/alerts", headers=headers).json()["items"]] == ["a1"]
    about = client.get("/alerts", params={"firm": actors.supplier2.address}, headers=headers).json()
    assert [a["alert_id"] for a in about["items"]] == ["a1"]
    _denied(client.get("/alerts", params={"firm": actors.supplier3.address}, headers=headers))
    # the holder of a financing does not read its lender's other counterparties' alerts
    _denied(client.get("/alerts", params={"firm": actors.supplier2.address}, headers=sign_in(client, actors.supplier)))


def test_warnings_latest_score_per_firm_by_level(client, actors, world):
    a = actors
    with Session(client.app.state.engine) as s:
        def score(who, block, value, warning):
            return CreditScore(address=who.address, model_version="v2", as_of_block=block, score=value,
                               base_score=value, reason_codes=[f"R-{value}"], warning=warning, credit_line=value)
        s.add_all([score(a.supplier2, 4, 700, "none"), score(a.supplier2, 9, 310, "red"),
                   score(a.supplier3, 9, 480, "blue"), score(a.core, 9, 420, "red"), score(a.core2, 9, 800, "none"),
                   score(a.supplier, 2, 100, "red")])  # older than the supplier's yellow 640 of the world
        s.commit()
    for overseer in (a.regulator, a.auditor):
        page = client.get("/warnings", headers=sign_in(client, overseer)).json()
        assert [(w["address"], w["warning"], w["score"]) for w in page["items"]] == [
            (a.supplier2.address, "red", 310), (a.core.address, "red", 420), (a.supplier.address, "yellow", 640),
            (a.supplier3.address, "blue", 480)]
        assert page["total"] == 4 and page["items"][0]["reason_codes"] == ["R-310"]
    headers = sign_in(client, a.regulator)
    red = client.get("/warnings", params={"level": "red", "limit": 1, "offset": 1}, headers=headers).json()
    assert (red["total"], [w["address"] for w in red["items"]]) == (2, [a.core.address])
    assert client.get("/warnings", params={"level": "none"}, headers=headers).status_code == 422
    for firm in (a.lender, a.supplier, a.core):
        _denied(client.get("/warnings", headers=sign_in(client, firm)), "RoleRequired")


def test_alert_evidence_rows_resolved(client, actors, world):
    a = actors
    fingerprint = client.get("/invoices", headers=sign_in(client, a.supplier)).json()["items"][0]["fingerprint"]
    with Session(client.app.state.engine) as s:
        move = s.exec(ValueMove.__table__.select().limit(1)).first()  # type: ignore[attr-defined]
        s.add_all([
            FirmProfile(address=a.supplier.address, registered_on=1, registered_capital=5, shareholders=["x", "y"],
                        source="old", submitted_by=a.regulator.address, submitted_at=1, document_hash="0x"),
            FirmProfile(address=a.supplier.address, registered_on=2, registered_capital=9, shareholders=["Li", "Wu"],
                        legal_representative="Li", source="SAMR registry", submitted_by=a.regulator.address,
                        submitted_at=2, document_hash="0x"),
            RiskAlert(alert_id="e1", rule="duplicate_financing", subject="s", severity="high",
                      firms=[a.supplier.address], reasons=["twice"], source_block=9, evidence=[
                          {"table": "invoice", "pk": fingerprint.upper().replace("0X", "0x")},
                          {"table": "financing", "pk": 1}, {"table": "payable", "pk": world["slot"]},
                          {"table": "value_move", "pk": [move.block_number, move.log_index]},
                          {"table": "risk_firm_profile", "pk": a.supplier.address.lower()},
                          {"table": "financing", "pk": 99}, {"table": "financing", "pk": "1"},
                          {"table": "ledger_secrets", "pk": 1}]),
        ])
        s.commit()
    for reader in (a.regulator, a.supplier, a.lender):  # the regulator, the firm named, its lender
        found = client.get("/alerts/e1/evidence", headers=sign_in(client, reader))
        assert found.status_code == 200, found.json()
    body = found.json()
    assert body["alert"]["rule"] == "duplicate_financing"
    rows = body["rows"]
    assert [(r["table"], r["found"]) for r in rows] == [
        ("invoice", True), ("financing", True), ("payable", True), ("value_move", True), ("risk_firm_profile", True),
        ("financing", False), ("financing", False), ("ledger_secrets", False)]
    assert rows[0]["fields"]["seller"] == a.supplier.address and rows[0]["fields"]["amount"] == str(1000 * ONE)
    assert rows[1]["fields"] == {"financing_id": "1", "lender": a.lender.address, "holder": a.supplier.address,
                                 "token_id": "1", "value": str(500 * ONE), "price": str(490 * ONE), "kind": "0",
                                 "status": "0", "start": "1"}
    assert rows[2]["fields"]["debtor"] == a.core.address and rows[2]["fields"]["face_value"] == str(1000 * ONE)
    assert rows[3]["key"] == f"{move.block_number}:{move.log_index}" and rows[3]["fields"]["tx_hash"] == move.tx_hash
    assert rows[4]["fields"]["shareholders"] == "Li, Wu" and rows[4]["fields"]["source"] == "SAMR registry"
    assert rows[5]["fields"] == {} and rows[7]["key"] == "1"
    for outsider in (a.supplier3, a.auditor, a.core2):
        _denied(client.get("/alerts/e1/evidence", headers=sign_in(client, outsider)))
    missing = client.get("/alerts/nope/evidence", headers=sign_in(client, a.regulator))
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownAlert")


# -------------------------------------------------------------------- credit proofs

POLICY = CreditPolicy(min_score=700, max_judgments=0, tax_mask=CreditPolicy.mask(TaxGrade.A, TaxGrade.B),
                      revenue_lo=1_000_000_00, revenue_hi=100_000_000_00, max_age_days=90)
VALUES = {"credit_score": 780, "court_judgments": 0, "tax_grade": int(TaxGrade.A),
          "annual_revenue_cents": 12_500_000_00, "overdue_count": 1, "registered_capital_cents": 50_000_000_00,
          "social_insurance_headcount": 85, "patents": 4, "report_serial": 20261124001}


@pytest.fixture(scope="module")
def zk_worker():
    with ZkWorker() as worker:
        yield worker


@pytest.fixture
def credit_proof(client, ledger, actors, zk_worker):
    """A bureau's report about the supplier (registered), the lender's policy and nonce, the supplier's proof."""
    bureau = dev_accounts(15)[12]
    ledger.as_registrar(actors.registrar).admit(bureau.address, "bureau", [Role.CREDIT_BUREAU],
                                                now(ledger.chain) + 3650 * DAY)
    credit = CreditContracts.of(ledger)
    day = day_number(now(ledger.chain))
    report = CreditReport.issue({**VALUES, "report_day": day - 5, "subject_address": int(actors.supplier.address, 16)})
    credit.register(bureau, report.root, actors.supplier.address, report.document_hash(), now(ledger.chain) + 180 * DAY)
    credit.set_policy(actors.lender, POLICY.hash)
    nonce = credit.issue_nonce(actors.lender)
    proof = prove_credit(zk_worker, report, POLICY, today=day, lender=actors.lender.address, nonce=nonce)
    upload = {**proof.to_json(), "policy": POLICY.to_json(), "subject": actors.supplier.address}
    return {"upload": json.loads(json.dumps(upload)), "report": report, "proof": proof, "credit": credit,
            "bureau": bureau, "day": day, "nonce": nonce}


def _verify(client, account, upload):
    return client.post("/proofs/verify", json=upload, headers=sign_in(client, account))


def _reason(response):
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["valid"] is (body["reason"] is None)
    return body["reason"]


def test_a_valid_proof_reads_as_its_predicates(client, actors, credit_proof):
    c = credit_proof
    body = _verify(client, actors.lender, c["upload"]).json()
    assert body["valid"] is True and body["reason"] is None and body["kind"] == "groth16"
    assert body["predicates"] == [
        {"field": "credit_score", "op": "ge", "operands": ["700"]},
        {"field": "court_judgments", "op": "le", "operands": ["0"]},
        {"field": "tax_grade", "op": "in", "operands": ["A", "B"]},
        {"field": "annual_revenue_cents", "op": "between", "operands": ["100000000", "10000000000"]},
        {"field": "report_day", "op": "age_le", "operands": ["90"]}]
    assert (body["subject"], body["bureau"], body["lender"]) == (actors.supplier.address, c["bureau"].address,
                                                                 actors.lender.address)
    assert (body["today"], body["nonce"], body["policy_current"]) == (c["day"], str(c["nonce"]), True)
    assert body["root"] == hex(c["report"].root) and body["fields"] == {}
    assert body["message"] == "5 predicate(s) proven"
    assert _reason(_verify(client, actors.regulator, c["upload"])) is None  # overseers check any proof
    without_subject = {k: v for k, v in c["upload"].items() if k != "subject"}  # as Proof.to_json writes it
    assert _reason(_verify(client, actors.lender, without_subject)) is None


def test_every_way_a_proof_fails(client, ledger, actors, credit_proof):
    c, upload = credit_proof, credit_proof["upload"]
    tampered = {**upload, "proof": {**upload["proof"], "pi_c": upload["proof"]["pi_a"]}}
    assert _reason(_verify(client, actors.lender, tampered)) == "proof"
    bare = {k: v for k, v in upload.items() if k != "policy"}
    assert _reason(_verify(client, actors.lender, bare)) == "policy_missing"
    laxer = {**upload, "policy": {**upload["policy"], "min_score": 0}}
    response = _verify(client, actors.lender, laxer)
    assert _reason(response) == "policy_mismatch"
    assert response.json()["message"] == "the policy operands do not hash to the proof's policy signal"
    other_nonce = {**upload, "publicSignals": [*upload["publicSignals"][:4], "12345"]}
    assert _reason(_verify(client, actors.lender, other_nonce)) == "nonce_unknown"
    unknown_root = {**upload, "publicSignals": ["777", *upload["publicSignals"][1:]]}
    assert _reason(_verify(client, actors.lender, unknown_root)) == "root_unknown"
    assert _reason(_verify(client, actors.lender, {**upload, "subject": actors.supplier2.address})) == "subject"
    c["credit"].set_policy(actors.lender, CreditPolicy(min_score=1).hash)  # the lender moved on: still valid
    assert _verify(client, actors.lender, upload).json()["policy_current"] is False
    c["credit"].set_policy(actors.lender, POLICY.hash)
    warp(ledger.chain, 3 * DAY)
    assert _reason(_verify(client, actors.lender, upload)) == "stale_day"
    warp(ledger.chain, 200 * DAY)
    assert _reason(_verify(client, actors.lender, upload)) == "root_expired"


def test_a_submitted_proof_and_a_revoked_report(client, actors, credit_proof):
    c = credit_proof
    c["credit"].submit_proof(actors.lender, actors.supplier.address, c["proof"])
    assert _reason(_verify(client, actors.lender, c["upload"])) == "nonce_used"
    c["credit"].revoke(c["bureau"], c["report"].root)
    assert _reason(_verify(client, actors.lender, c["upload"])) == "root_revoked"


def test_proof_refusals(client, ledger, actors, credit_proof):
    upload = credit_proof["upload"]
    lender2 = dev_accounts(16)[15]
    ledger.as_registrar(actors.registrar).admit(lender2.address, "lender-2", [Role.LENDER], now(ledger.chain) + DAY)
    refused = _verify(client, lender2, upload)
    _denied(refused, "NotYourProof")
    assert refused.json()["details"] == {"lender": actors.lender.address}
    for firm in (actors.supplier, actors.core):
        _denied(_verify(client, firm, upload), "RoleRequired")
    for junk in ({"hello": 1}, {"proof": {}, "publicSignals": ["1", "2"]}, {"proof": {}, "publicSignals": ["x"] * 5},
                 {"root": "zz", "fields": []}, {**upload, "policy": {"min_score": "high"}},
                 {**upload, "publicSignals": [str(2**254)] * 5}, {**upload, "policy": {"min_score": -1}},
                 {**upload, "policy": {"min_score": 1, "colour": 2}}, {**upload, "subject": "0x12"}):
        response = _verify(client, actors.lender, junk)
        assert (response.status_code, response.json()["error"]) == (422, "MalformedProof"), (junk, response.json())
    not_object = client.post("/proofs/verify", json=[1, 2], headers=sign_in(client, actors.lender))
    assert (not_object.status_code, not_object.json()["error"]) == (422, "InvalidRequest")
    assert client.post("/proofs/verify", json=upload).json()["error"] == "NotSignedIn"


def test_disclosures(client, actors, credit_proof):
    report = credit_proof["report"]
    shown = report.disclose(["credit_score", "tax_grade", "subject_address"]).to_json()
    body = _verify(client, actors.lender, shown).json()
    assert (body["valid"], body["kind"], body["subject"]) == (True, "disclosure", actors.supplier.address)
    assert body["fields"] == {"credit_score": "780", "tax_grade": "0",
                              "subject_address": str(int(actors.supplier.address, 16))}
    assert body["predicates"] == [] and body["lender"] is None
    _denied(_verify(client, actors.supplier, shown), "RoleRequired")
    lied = {**shown, "fields": [{**shown["fields"][0], "value": 990}, *shown["fields"][1:]]}
    assert _reason(_verify(client, actors.lender, lied)) == "disclosure"
    elsewhere = {**shown, "root": hex(123456789)}
    assert _reason(_verify(client, actors.lender, elsewhere)) == "root_unknown"
    assert _reason(_verify(client, actors.lender, {**shown, "subject": actors.supplier3.address})) == "subject"


def test_the_new_reads_refuse_the_unsigned_and_non_members(client, actors):
    outsider = sign_in(client, actors.outsider)  # signs in, but is no member of the consortium
    for method, path in (("GET", "/exposure"), ("GET", "/warnings"), ("GET", "/alerts/a1/evidence"),
                         ("POST", "/proofs/verify")):
        body = {"json": {"root": "0x1", "fields": []}} if method == "POST" else {}
        unsigned = client.request(method, path, **body)
        assert (unsigned.status_code, unsigned.json()["error"]) == (401, "NotSignedIn"), path
        _denied(client.request(method, path, headers=outsider, **body), "NotAMember")
