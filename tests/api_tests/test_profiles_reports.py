"""Firm profiles with provenance (a bureau or regulator submits, readers by role) and the credit-report
commitments the chain records (a firm its own, a bureau those it issued, overseers and lenders all)."""

from __future__ import annotations

import hashlib

import pytest
from conftest import DAY, now

from api_tests.conftest import sign_in
from indexer import Indexer
from ledger.anvil import dev_accounts
from ledger.roles import Role
from zk.onchain import CreditContracts

DOC = "0x" + hashlib.sha256(b"SAMR extract 2026-11").hexdigest()


@pytest.fixture
def bureau(ledger, actors):
    """A credit bureau, admitted inside the test's snapshot."""
    account = dev_accounts(14)[12]
    ledger.as_registrar(actors.registrar).admit(account.address, "bureau", [Role.CREDIT_BUREAU],
                                                now(ledger.chain) + 365 * DAY)
    return account


def _profile(firm: str, **changes):  # type: ignore[no-untyped-def]
    return {"address": firm, "registered_on": 1_600_000_000, "registered_capital": 5_000_000,
            "shareholders": ["Zhang Min"], "legal_representative": "Zhang Min", "tax_grade": "A",
            "court_judgments": 0, "social_insurance_headcount": 40, "patents": 3, "rd_spend": 250_000,
            "source": "SAMR registry", "document_sha256": DOC, **changes}


def test_a_bureau_submits_profiles_and_readers_see_them_newest_first(client, ledger, actors, bureau, settings):
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=client.app.state.engine).sync()
    as_bureau = sign_in(client, bureau)
    first = client.post("/profiles", headers=as_bureau, json=_profile(actors.supplier.address))
    assert first.status_code == 201, first.json()
    assert (first.json()["submitted_by"], first.json()["document_hash"], first.json()["tax_grade"]) == (
        bureau.address, DOC, "A")
    second = client.post("/profiles", headers=sign_in(client, actors.regulator),
                         json=_profile(actors.supplier.address, court_judgments=2, source="court records"))
    assert second.status_code == 201
    for reader in (actors.supplier, actors.lender, actors.auditor, bureau):
        page = client.get(f"/profiles/{actors.supplier.address}", headers=sign_in(client, reader)).json()
        assert [(p["court_judgments"], p["source"], p["submitted_by"]) for p in page["items"]] == [
            (2, "court records", actors.regulator.address), (0, "SAMR registry", bureau.address)]
    other = client.get(f"/profiles/{actors.supplier.address}", headers=sign_in(client, actors.supplier2))
    assert (other.status_code, other.json()["error"]) == (403, "OtherFirmsData")
    refused = client.post("/profiles", headers=sign_in(client, actors.lender), json=_profile(actors.supplier.address))
    assert (refused.status_code, refused.json()["error"]) == (403, "RoleRequired")
    for bad in ({"tax_grade": "Z"}, {"document_sha256": "0x12"}, {"registered_capital": -1}, {"source": ""},
                {"address": "0x1234"}):
        response = client.post("/profiles", headers=as_bureau, json=_profile(actors.supplier.address, **bad))
        assert (response.status_code, response.json()["error"]) == (422, "InvalidRequest"), bad
    assert client.get(f"/profiles/{actors.supplier.address}", headers=as_bureau).json()["total"] == 2  # unchanged


def test_credit_reports_as_the_chain_records_them(client, ledger, actors, bureau, settings):
    credit = CreditContracts.of(ledger)
    expiry = now(ledger.chain) + 30 * DAY
    credit.register(bureau, 1111, actors.supplier.address, bytes(32), expiry)
    credit.register(bureau, 2222, actors.supplier2.address, b"\x01" * 32, expiry)
    credit.register(bureau, 3333, actors.supplier.address, b"\x02" * 32, expiry)
    credit.revoke(bureau, 3333)
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=client.app.state.engine).sync()

    def roots(account, **params):  # type: ignore[no-untyped-def]
        response = client.get("/credit/reports", headers=sign_in(client, account), params=params)
        assert response.status_code == 200, response.json()
        return sorted(r["root"] for r in response.json()["items"])

    assert roots(actors.supplier) == ["1111"]  # its own, the revoked one left out
    assert roots(actors.supplier, include_revoked=True) == ["1111", "3333"]
    assert roots(bureau) == ["1111", "2222"] and roots(actors.lender) == ["1111", "2222"]
    assert roots(actors.regulator, subject=actors.supplier2.address) == ["2222"]
    (row,) = client.get("/credit/reports", headers=sign_in(client, actors.auditor),
                        params={"subject": actors.supplier2.address}).json()["items"]
    assert (row["bureau"], row["document_hash"], row["expiry"], row["revoked"]) == (
        bureau.address, "0x" + "01" * 32, expiry, False)
    denied = client.get("/credit/reports", headers=sign_in(client, actors.supplier),
                        params={"subject": actors.supplier2.address})
    assert (denied.status_code, denied.json()["error"]) == (403, "OtherFirmsData")
