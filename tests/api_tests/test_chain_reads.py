"""Reads of financings, settlement, the split tree, evidence proofs, scores and alerts, all from a flow driven
on the chain and indexed (tests/api_tests/chain_fixtures.py): the exact values each role reads, and the
403 (with its reason) for firms that are not party to them."""

from __future__ import annotations

from conftest import ONE

from api_tests.chain_fixtures import *  # noqa: F403  (the flow and scorecard fixtures)
from api_tests.chain_fixtures import FACE
from api_tests.conftest import sign_in
from ledger import evidence


def _denied(response, code="OtherFirmsData"):
    body = response.json()
    assert (response.status_code, body["error"]) == (403, code), body
    assert body["message"]  # every denial says why


def test_financing_as_lender_holder_and_overseers(client, actors, flow):
    a = actors
    expected = {
        "financing_id": flow.financing_id, "lender": a.lender.address, "holder": a.supplier.address,
        "token_id": flow.token, "lender_token_id": flow.lender_token, "value": str(400 * ONE),
        "price": str(flow.price), "fee": str(ONE), "kind": 0, "settlement": 0, "recourse": False,
    }
    for reader in (a.lender, a.supplier, a.auditor, a.regulator):
        page = client.get("/financings", headers=sign_in(client, reader)).json()
        assert page["total"] == 1, (reader.address, page)
        assert {k: page["items"][0][k] for k in expected} == expected
        assert int(page["items"][0]["price"]) < 400 * ONE  # a discount: the lender paid less than the face
    for outsider in (a.supplier2, a.core, a.core2):
        assert client.get("/financings", headers=sign_in(client, outsider)).json()["total"] == 0
    _denied(client.get("/financings", params={"party": a.lender.address}, headers=sign_in(client, a.supplier2)))
    _denied(client.get("/financings", params={"party": a.supplier.address}, headers=sign_in(client, a.core)))


def test_settlement_deposits_and_redemptions(client, actors, flow):
    a = actors
    assert flow.paid == {flow.t2: 250 * ONE, flow.lender_token: 400 * ONE}  # pro rata of a full deposit
    for reader in (a.core, a.supplier, a.supplier2, a.lender, a.supplier3, a.auditor, a.regulator):
        response = client.get(f"/payables/{flow.slot}/settlement", headers=sign_in(client, reader))
        assert response.status_code == 200, (reader.address, response.json())
        body = response.json()
        assert (body["debtor"], body["face_value"]) == (a.core.address, str(FACE))
        assert (body["cumulative_paid"], body["paid_out"], body["written_off"]) == (str(FACE), str(650 * ONE), "0")
        assert [(d["payer"], d["amount"], d["cumulative_paid"]) for d in body["deposits"]] == [
            (a.core.address, str(FACE), str(FACE))]
        assert [(r["token_id"], r["holder"], r["paid"], r["total_paid_to_token"]) for r in body["redemptions"]] == [
            (flow.t2, a.supplier2.address, str(250 * ONE), str(250 * ONE)),
            (flow.lender_token, a.lender.address, str(400 * ONE), str(400 * ONE)),
        ]
        assert body["write_offs"] == [] and body["marks"] == []
    _denied(client.get(f"/payables/{flow.slot}/settlement", headers=sign_in(client, a.core2)))
    _denied(client.get(f"/payables/{flow.slot}/settlement", headers=sign_in(client, a.outsider)), "NotAMember")


def test_split_tree_and_holdings(client, actors, flow):
    a = actors
    body = client.get(f"/payables/{flow.slot}", headers=sign_in(client, a.supplier3)).json()
    nodes = {n["token_id"]: (n["owner"], n["value"], n["received"], n["parent_token_id"], n["tier"], n["burned"])
             for n in body["tokens"]}
    hop3, hop4, hop5 = flow.hops
    assert nodes == {
        flow.token: (a.supplier.address, str(300 * ONE), str(FACE), None, 1, False),
        flow.t2: (a.supplier2.address, "0", str(300 * ONE), flow.token, 2, True),  # redeemed in full: burned
        flow.lender_token: (a.lender.address, "0", str(400 * ONE), flow.token, 2, True),
        hop3: (a.supplier3.address, str(30 * ONE), str(50 * ONE), flow.t2, 3, False),
        hop4: (a.supplier.address, str(15 * ONE), str(20 * ONE), hop3, 4, False),
        hop5: (a.supplier2.address, str(5 * ONE), str(5 * ONE), hop4, 5, False),
    }
    mine = client.get("/holdings", headers=sign_in(client, a.supplier)).json()
    assert [(h["token_id"], h["value"]) for h in mine["items"]] == [(flow.token, str(300 * ONE)),
                                                                    (hop4, str(15 * ONE))]
    _denied(client.get(f"/payables/{flow.slot}", headers=sign_in(client, a.core2)))
    _denied(client.get("/holdings", params={"owner": a.supplier.address}, headers=sign_in(client, a.lender)))


def _proof_query(root: bytes, leaf: bytes, proof: list[bytes]) -> list[tuple[str, str]]:
    return [("root", "0x" + root.hex()), ("leaf", "0x" + leaf.hex()), *(("proof", "0x" + p.hex()) for p in proof)]


def test_evidence_proofs_checked_on_the_chain(client, ledger, actors, flow):
    a = actors
    tree = flow.tree
    lender = sign_in(client, a.lender)
    for i in range(len(tree)):
        body = client.get("/evidence/proof", params=_proof_query(tree.root, tree.leaf_hash_at(i), tree.get_proof(i)),
                          headers=lender).json()
        assert body == {"root": "0x" + tree.root.hex(), "leaf": "0x" + tree.leaf_hash_at(i).hex(), "valid": True,
                        "reason": "ok", "batch_id": flow.batch_id, "submitter": a.auditor.address, "leaf_count": 4,
                        "anchored_at": body["anchored_at"], "uri": "ipfs://batch-1", "revocation": None}
        assert body["anchored_at"] > 0
    wrong = client.get("/evidence/proof", params=_proof_query(tree.root, tree.leaf_hash_at(0), tree.get_proof(1)),
                       headers=lender).json()
    assert (wrong["valid"], wrong["reason"], wrong["batch_id"]) == (False, "proof_mismatch", flow.batch_id)
    stranger = client.get("/evidence/proof", params=_proof_query(b"\x07" * 32, tree.leaf_hash_at(0),
                                                                  tree.get_proof(0)), headers=lender).json()
    assert (stranger["valid"], stranger["reason"], stranger["batch_id"]) == (False, "not_anchored", None)

    evidence.revoke(ledger, ledger.address(evidence.EVIDENCE_LEDGER), a.auditor, tree.root, tree.leaf_hash_at(2),
                    tree.get_proof(2), "superseded")
    revoked = client.get("/evidence/proof", params=_proof_query(tree.root, tree.leaf_hash_at(2), tree.get_proof(2)),
                         headers=lender).json()
    assert (revoked["valid"], revoked["reason"]) == (False, "revoked")
    assert revoked["revocation"]["revoked_by"] == a.auditor.address
    assert revoked["revocation"]["reason"] == "superseded" and revoked["revocation"]["revoked_at"] > 0

    batches = client.get("/evidence/batches", headers=sign_in(client, a.supplier3)).json()
    assert [(b["batch_id"], b["root"], b["leaf_count"]) for b in batches["items"]] == [
        (flow.batch_id, "0x" + tree.root.hex(), 4)]


def test_malformed_evidence_proof_requests(client, actors, flow):
    tree = flow.tree
    headers = sign_in(client, actors.lender)
    good = _proof_query(tree.root, tree.leaf_hash_at(0), tree.get_proof(0))
    cases = {
        "short root": [("root", "0x1234"), *good[1:]],
        "no leaf": [good[0], *good[2:]],
        "proof not hex": [*good, ("proof", "0x" + "zz" * 32)],
        "65 proof elements": [*good[:2], *[("proof", "0x" + "00" * 32)] * 65],
    }
    for name, params in cases.items():
        response = client.get("/evidence/proof", params=params, headers=headers)
        assert (response.status_code, response.json()["error"]) == (422, "InvalidRequest"), name
        assert response.json()["message"], name
    unsigned = client.get("/evidence/proof", params=good)
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "NotSignedIn")


def test_scores_and_alerts_from_the_risk_jobs(client, actors, flow):
    a = actors
    frame = flow.scored.frame
    supplier = a.supplier.address
    for reader in (a.supplier, a.lender, a.auditor, a.regulator):
        body = client.get(f"/scores/{supplier}", headers=sign_in(client, reader)).json()
        assert (body["address"], body["score"], body["warning"], body["credit_line"]) == (
            supplier, int(frame.loc[supplier, "score"]), frame.loc[supplier, "warning"],
            str(int(frame.loc[supplier, "credit_line"])))
        assert body["reason_codes"] == flow.scored.reasons[supplier]
        assert 0 <= body["score"] <= 1000
    for other in (a.supplier2, a.core):
        _denied(client.get(f"/scores/{supplier}", headers=sign_in(client, other)))

    regulator = client.get("/alerts", params={"rule": "split_chain"}, headers=sign_in(client, a.regulator)).json()
    assert [(x["rule"], x["firms"], x["severity"]) for x in regulator["items"]] == [
        ("split_chain", [supplier], "medium")]
    assert regulator["items"][0]["reasons"][0].startswith("4 hops from token ")
    own = client.get("/alerts", params={"rule": "split_chain"}, headers=sign_in(client, a.supplier)).json()
    assert [x["alert_id"] for x in own["items"]] == [regulator["items"][0]["alert_id"]]
    assert client.get("/alerts", params={"rule": "split_chain"},
                      headers=sign_in(client, a.supplier3)).json()["total"] == 0
    _denied(client.get("/alerts", params={"firm": supplier}, headers=sign_in(client, a.auditor)))
    _denied(client.get("/alerts", params={"firm": supplier}, headers=sign_in(client, a.supplier3)))
    _denied(client.get("/alerts", params={"firm": a.supplier3.address}, headers=sign_in(client, a.lender)))
