"""Reads of members, invoices, financings, payables, settlement, evidence, scores and alerts: who may
read what (every denial with its code), filters, pagination and 404s.

Invoices, payables and members come from the chain through the indexer; financings, settlement history,
evidence batches, scores and alerts are put into the mirror directly (as the indexer and ``risk`` would).
"""

from __future__ import annotations

from conftest import ONE

from api_tests.conftest import sign_in


def _denied(response, code="OtherFirmsData"):
    assert (response.status_code, response.json()["error"]) == (403, code), response.json()


# ------------------------------------------------------------------ organizations


def test_any_member_lists_organizations_with_role_filter(client, actors, world):
    headers = sign_in(client, actors.supplier)
    page = client.get("/organizations", headers=headers).json()
    assert page["total"] == 8 and page["limit"] == 100 and page["offset"] == 0
    by_address = {o["address"]: o["roles"] for o in page["items"]}
    assert by_address[actors.lender.address] == ["LENDER"]
    cores = client.get("/organizations", params={"role": "CORE_ENTERPRISE"}, headers=headers).json()
    assert {o["address"] for o in cores["items"]} == {actors.core.address, actors.core2.address}
    second = client.get("/organizations", params={"limit": 3, "offset": 3}, headers=headers).json()
    assert (second["total"], len(second["items"])) == (8, 3)
    assert [o["address"] for o in second["items"]] == [o["address"] for o in page["items"][3:6]]
    bad = client.get("/organizations", params={"role": "KING"}, headers=headers)
    assert (bad.status_code, bad.json()["error"]) == (422, "InvalidRequest")
    assert client.get("/organizations").json()["error"] == "NotSignedIn"


# ------------------------------------------------------------------------ invoices


def test_invoices_seller_buyer_and_overseers(client, actors, world):
    mine = client.get("/invoices", headers=sign_in(client, actors.supplier)).json()
    assert mine["total"] == 1 and mine["items"][0]["seller"] == actors.supplier.address
    assert mine["items"][0]["amount"] == str(1000 * ONE) and mine["items"][0]["slot"] == world["slot"]
    buyer = client.get("/invoices", headers=sign_in(client, actors.core2)).json()
    assert [i["seller"] for i in buyer["items"]] == [actors.supplier2.address]
    for overseer in (actors.auditor, actors.regulator):
        assert client.get("/invoices", headers=sign_in(client, overseer)).json()["total"] == 2
    audited = client.get("/invoices", params={"party": actors.core.address}, headers=sign_in(client, actors.auditor))
    assert audited.json()["total"] == 1
    status = mine["items"][0]["status"]
    assert client.get("/invoices", params={"status": status}, headers=sign_in(client, actors.supplier)).json()[
        "total"] == 1
    assert client.get("/invoices", params={"status": 4}, headers=sign_in(client, actors.supplier)).json()["total"] == 0
    _denied(client.get("/invoices", params={"party": actors.supplier2.address}, headers=sign_in(client, actors.lender)))


def test_one_invoice_by_fingerprint(client, actors, world):
    fingerprint = client.get("/invoices", headers=sign_in(client, actors.supplier)).json()["items"][0]["fingerprint"]
    for reader in (actors.supplier, actors.core, actors.auditor, actors.regulator):
        one = client.get(f"/invoices/{fingerprint}", headers=sign_in(client, reader))
        assert one.status_code == 200 and one.json()["fingerprint"] == fingerprint
    _denied(client.get(f"/invoices/{fingerprint}", headers=sign_in(client, actors.supplier2)))
    _denied(client.get(f"/invoices/{fingerprint}", headers=sign_in(client, actors.lender)))
    missing = client.get("/invoices/0x" + "ab" * 32, headers=sign_in(client, actors.supplier))
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownInvoice")
    assert "0x" + "ab" * 32 in missing.json()["message"]
    bad = client.get("/invoices/0x12", headers=sign_in(client, actors.supplier))
    assert (bad.status_code, bad.json()["error"]) == (422, "InvalidRequest")


# ---------------------------------------------------------------------- financings


def test_financings_lender_holder_overseers(client, actors, world):
    lender = client.get("/financings", headers=sign_in(client, actors.lender)).json()
    assert [f["financing_id"] for f in lender["items"]] == [2, 1]
    assert lender["items"][1]["price"] == str(490 * ONE)
    holder = client.get("/financings", headers=sign_in(client, actors.supplier3)).json()
    assert [f["financing_id"] for f in holder["items"]] == [3]
    assert client.get("/financings", headers=sign_in(client, actors.regulator)).json()["total"] == 3
    loans = client.get("/financings", params={"kind": 1}, headers=sign_in(client, actors.auditor)).json()
    assert [f["financing_id"] for f in loans["items"]] == [2]
    by_status = client.get("/financings", params={"status": 1}, headers=sign_in(client, actors.lender)).json()
    assert by_status["total"] == 1
    supplier = sign_in(client, actors.supplier)
    _denied(client.get("/financings", params={"party": actors.lender.address}, headers=supplier))
    assert client.get("/financings", headers=sign_in(client, actors.core)).json()["total"] == 0


# ------------------------------------------------------------------------ payables


def test_payables_of_a_core_enterprise_and_overseers(client, actors, world):
    core = client.get("/payables", headers=sign_in(client, actors.core)).json()
    assert [p["slot"] for p in core["items"]] == [world["slot"]]
    assert core["items"][0]["face_value"] == str(1000 * ONE)
    for overseer in (actors.auditor, actors.regulator):
        assert client.get("/payables", headers=sign_in(client, overseer)).json()["total"] == 2
    one = client.get("/payables", params={"debtor": actors.core2.address}, headers=sign_in(client, actors.auditor))
    assert [p["slot"] for p in one.json()["items"]] == [world["slot2"]]
    _denied(client.get("/payables", params={"debtor": actors.core2.address}, headers=sign_in(client, actors.core)))
    for role_less in (actors.supplier, actors.lender):
        _denied(client.get("/payables", headers=sign_in(client, role_less)), "RoleRequired")


def test_settlement_of_a_payable(client, actors, world):
    slot = world["slot"]
    body = client.get(f"/payables/{slot}/settlement", headers=sign_in(client, actors.core)).json()
    assert [d["amount"] for d in body["deposits"]] == [str(400 * ONE)]
    assert [(r["holder"], r["paid"]) for r in body["redemptions"]] == [(actors.supplier3.address, str(40 * ONE))]
    assert [m["mark"] for m in body["marks"]] == ["overdue"] and body["write_offs"] == []
    for reader in (actors.supplier, actors.supplier3, actors.auditor, actors.regulator):
        assert client.get(f"/payables/{slot}/settlement", headers=sign_in(client, reader)).status_code == 200
    _denied(client.get(f"/payables/{slot}/settlement", headers=sign_in(client, actors.lender)))
    _denied(client.get(f"/payables/{slot}/settlement", headers=sign_in(client, actors.core2)))
    missing = client.get("/payables/999/settlement", headers=sign_in(client, actors.core))
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownPayable")


# ------------------------------------------------------------------------ evidence


def test_evidence_batches_for_any_member(client, actors, world):
    for reader in (actors.auditor, actors.supplier, actors.lender):
        page = client.get("/evidence/batches", headers=sign_in(client, reader)).json()
        assert [b["batch_id"] for b in page["items"]] == [2, 1]
    mine = client.get("/evidence/batches", params={"submitter": actors.auditor.address},
                      headers=sign_in(client, actors.auditor)).json()
    assert (mine["total"], mine["items"][0]["uri"]) == (1, "ipfs://a")


# -------------------------------------------------------------------------- scores


def test_latest_score_for_the_firm_lenders_and_overseers(client, actors, world):
    for reader in (actors.supplier, actors.lender, actors.auditor, actors.regulator):
        body = client.get(f"/scores/{actors.supplier.address}", headers=sign_in(client, reader)).json()
        assert (body["score"], body["model_version"], body["warning"]) == (640, "scorecard-v2", "yellow")
        assert body["dimension_points"] == {"payment": 130.0, "scale": 50.25}
        assert body["reason_codes"] == ["R01", "R07"] and body["credit_line"] == str(5 * ONE)
    for other in (actors.supplier2, actors.core):
        _denied(client.get(f"/scores/{actors.supplier.address}", headers=sign_in(client, other)))
    none = client.get(f"/scores/{actors.core.address}", headers=sign_in(client, actors.core))
    assert (none.status_code, none.json()["error"]) == (404, "NoScore")
    assert actors.core.address in none.json()["message"]


# -------------------------------------------------------------------------- alerts


def test_alerts_regulator_all_firm_its_own(client, actors, world):
    everything = client.get("/alerts", headers=sign_in(client, actors.regulator)).json()
    assert [a["alert_id"] for a in everything["items"]] == ["a2", "a1"]
    rule = client.get("/alerts", params={"rule": "split_chain", "status": "withdrawn"},
                      headers=sign_in(client, actors.regulator)).json()
    assert [a["alert_id"] for a in rule["items"]] == ["a3"]
    about = client.get("/alerts", params={"firm": actors.supplier2.address}, headers=sign_in(client, actors.regulator))
    assert [a["alert_id"] for a in about.json()["items"]] == ["a1"]
    own = client.get("/alerts", headers=sign_in(client, actors.supplier)).json()
    assert [a["alert_id"] for a in own["items"]] == ["a1"]
    assert client.get("/alerts", params={"rule": "split_chain"},
                      headers=sign_in(client, actors.supplier3)).json()["total"] == 1
    lent = client.get("/alerts", headers=sign_in(client, actors.lender)).json()  # on the firms it financed
    assert [a["alert_id"] for a in lent["items"]] == ["a1"]
    for firm in (actors.supplier, actors.auditor):
        _denied(client.get("/alerts", params={"firm": actors.supplier3.address}, headers=sign_in(client, firm)))


def test_unindexed_mirror_is_503_not_500(client, actors):
    response = client.get("/alerts", headers=sign_in(client, actors.regulator))
    assert (response.status_code, response.json()["error"]) == (503, "MirrorUnavailable")


NEW_READS = ("/organizations", "/invoices", "/invoices/0x" + "ab" * 32, "/financings", "/payables",
             "/payables/1/settlement", "/evidence/batches", "/scores/0x" + "cd" * 20, "/alerts")


def test_every_new_read_refuses_the_unsigned_and_non_members(client, actors):
    outsider = sign_in(client, actors.outsider)  # signs in, but is no member of the consortium
    for path in NEW_READS:
        unsigned = client.get(path)
        assert (unsigned.status_code, unsigned.json()["error"]) == (401, "NotSignedIn"), path
        _denied(client.get(path, headers=outsider), "NotAMember")
