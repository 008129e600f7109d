"""Reads of the SQL mirror: own-data scoping, overseers, the split tree of a payable, pagination."""

from __future__ import annotations

import pytest
from conftest import ONE, issue_claim

from api_tests.conftest import sign_in
from indexer import Indexer


@pytest.fixture
def tree(client, ledger, actors, settings):
    """A payable split from the supplier (tier 1) to supplier2 (tier 2) and on to supplier3 (tier 3)."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    t2, _ = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 300 * ONE)
    t3, _ = ledger.as_member(actors.supplier2).split(t2, actors.supplier3.address, 100 * ONE)
    own, _ = ledger.as_member(actors.supplier).split(token, actors.supplier.address, 50 * ONE)
    engine = client.app.state.engine
    indexer = Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0, engine=engine)
    indexer.sync()
    return slot, token, t2, t3, own


def test_a_firm_reads_its_own_holdings_only(client, actors, tree):
    _, token, _, _, own = tree
    headers = sign_in(client, actors.supplier)
    page = client.get("/holdings", headers=headers).json()
    assert [(h["token_id"], h["value"]) for h in page["items"]] == [(token, str(650 * ONE)), (own, str(50 * ONE))]
    assert page["total"] == 2 and all(h["accepted"] for h in page["items"])  # the supplier accepted the payable
    first = client.get("/holdings", params={"limit": 1, "offset": 1}, headers=headers).json()
    assert (first["total"], [h["token_id"] for h in first["items"]]) == (2, [own])
    denied = client.get("/holdings", params={"owner": actors.supplier2.address}, headers=headers)
    assert (denied.status_code, denied.json()["error"]) == (403, "OtherFirmsData")


def test_overseers_read_any_firm(client, actors, tree):
    for overseer in (actors.auditor, actors.regulator):
        page = client.get("/holdings", params={"owner": actors.supplier3.address},
                          headers=sign_in(client, overseer)).json()
        assert [h["value"] for h in page["items"]] == [str(100 * ONE)]


def test_payable_tree_shows_tier_penetration(client, actors, tree):
    slot, token, t2, t3, own = tree
    body = client.get(f"/payables/{slot}", headers=sign_in(client, actors.core)).json()
    assert body["debtor"] == actors.core.address and body["face_value"] == str(1000 * ONE)
    nodes = {n["token_id"]: (n["owner"], n["value"], n["received"], n["parent_token_id"], n["tier"])
             for n in body["tokens"]}
    assert nodes == {  # "received": all value that reached the token (here: issue and splits)
        token: (actors.supplier.address, str(650 * ONE), str(1000 * ONE), None, 1),
        t2: (actors.supplier2.address, str(200 * ONE), str(300 * ONE), token, 2),
        t3: (actors.supplier3.address, str(100 * ONE), str(100 * ONE), t2, 3),
        own: (actors.supplier.address, str(50 * ONE), str(50 * ONE), token, 2),
    }
    assert client.get(f"/payables/{slot}", headers=sign_in(client, actors.supplier3)).status_code == 200
    assert client.get(f"/payables/{slot}", headers=sign_in(client, actors.regulator)).status_code == 200
    outsider = client.get(f"/payables/{slot}", headers=sign_in(client, actors.lender))
    assert (outsider.status_code, outsider.json()["error"]) == (403, "OtherFirmsData")
    missing = client.get("/payables/999", headers=sign_in(client, actors.core))
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownPayable")


def test_bad_query_parameters_are_422(client, actors, tree):
    headers = sign_in(client, actors.supplier)
    for params in ({"owner": "0x12"}, {"limit": 0}, {"limit": 10_000}, {"offset": -1}):
        response = client.get("/holdings", params=params, headers=headers)
        assert (response.status_code, response.json()["error"]) == (422, "InvalidRequest"), params


def test_holdings_say_whether_their_payable_is_accepted(client, ledger, actors, settings):
    """Acceptance comes from the mirror (ReceivableAccepted), per payable."""
    _, token = issue_claim(ledger, actors, 100 * ONE, accept=False)
    indexer = Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
                      engine=client.app.state.engine)
    indexer.sync()
    headers = sign_in(client, actors.supplier)

    def accepted() -> bool:
        (item,) = client.get("/holdings", headers=headers).json()["items"]
        assert item["token_id"] == token
        return item["accepted"]

    assert accepted() is False
    ledger.as_member(actors.supplier).accept(token)
    indexer.sync()
    assert accepted() is True
