"""An auditor's reads: a payable's full history (``GET /payables/{slot}/history``) and a document checked against
its evidence receipt from the chain (``POST /evidence/verify``), with every denial and bad input."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from conftest import DAY, ONE, funded_desk, issue_claim, now
from sqlmodel import Session

from api_tests.conftest import sign_in
from indexer import Indexer
from indexer.models import SlotMark
from ledger import evidence
from ledger.evidence_batcher import EvidenceBatcher
from ledger.financing import Kind, Offer
from ledger.settlement import deposit

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def story(client, ledger, actors, settings):
    """Core issues 1,000 to supplier; supplier splits 300 to supplier2; lender discounts 200 of supplier's token
    and takes 100 of it in pledge; core deposits 250; indexed from the chain, then an overdue mark put into the
    mirror as the indexer would."""
    a = actors
    slot, token = issue_claim(ledger, a, 1000 * ONE)
    t2, _ = ledger.as_member(a.supplier).split(token, a.supplier2.address, 300 * ONE)
    desk = funded_desk(ledger, a.lender, amount=10_000 * ONE)
    ledger.as_member(a.supplier).set_approval_for_all(desk.contract.address, True)
    offer = Offer(lender=a.lender.address, token_id=token, value=200 * ONE, rate_bps=600, fee=ONE,
                  expiry=now(ledger.chain) + DAY, nonce=1)
    discounted = desk.take_offer(a.supplier, offer, token, desk.sign(a.lender, offer))
    pledge = Offer(lender=a.lender.address, token_id=token, value=100 * ONE, kind=Kind.PLEDGE, fixed_price=80 * ONE,
                   rate_bps=800, penalty_bps=1200, expiry=now(ledger.chain) + DAY, nonce=2)
    pledged = desk.take_offer(a.supplier, pledge, token, desk.sign(a.lender, pledge))
    ledger.execute(a.core, ledger.asset.functions.mint(a.core.address, 1000 * ONE))
    deposit(ledger, ledger.address("SettlementVault"), a.core, slot, 250 * ONE)
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=client.app.state.engine).sync()
    with Session(client.app.state.engine) as s:
        s.add(SlotMark(block_number=10**6, block_timestamp=1_900_000_000, log_index=3, tx_hash="0x03", slot=slot,
                       mark="overdue", outstanding=750 * ONE))
        s.commit()
    return {"slot": slot, "token": token, "t2": t2, "financing": discounted.event("Financed")["financingId"],
            "pledge": pledged.event("Financed")["financingId"], "pledge_block": pledged.block_number}


def test_history_is_the_tree_and_every_event_in_chain_order(client, ledger, actors, story):
    a, slot, token, t2 = actors, story["slot"], story["token"], story["t2"]
    body = client.get(f"/payables/{slot}/history", headers=sign_in(client, a.auditor)).json()
    assert (body["slot"], body["debtor"], body["face_value"], body["cumulative_paid"]) == (
        slot, a.core.address, str(1000 * ONE), str(250 * ONE))
    tree = {n["token_id"]: (n["owner"], n["value"], n["parent_token_id"], n["tier"]) for n in body["tokens"]}
    lender_token = next(t for t, n in tree.items() if n[0] == a.lender.address)
    assert tree == {token: (a.supplier.address, str(500 * ONE), None, 1),
                    t2: (a.supplier2.address, str(300 * ONE), token, 2),
                    lender_token: (a.lender.address, str(200 * ONE), token, 2)}
    items = body["items"]
    assert body["total"] == len(items) == 10 and (body["limit"], body["offset"]) == (100, 0)
    assert [e["kind"] for e in items] == ["mint", "issue", "mint", "split", "mint", "split", "financed", "financed",
                                          "deposit", "mark"]
    keys = [(e["block_number"], e["log_index"]) for e in items]
    assert keys == sorted(keys) and all(e["block_timestamp"] > 0 for e in items)
    issue, split, financed, pledge, paid, mark = items[1], items[3], items[6], items[7], items[8], items[9]
    assert (issue["token_id"], issue["from_token_id"], issue["amount"]) == (token, 0, str(1000 * ONE))
    assert (split["token_id"], split["from_token_id"], split["amount"]) == (t2, token, str(300 * ONE))
    assert (items[0]["token_id"], items[0]["from_address"], items[0]["to_address"]) == (token, ZERO, a.supplier.address)
    assert financed == {**financed, "kind": "financed", "financing_id": story["financing"], "token_id": token,
                        "financing_kind": "discount", "from_address": a.supplier.address,
                        "to_address": a.lender.address, "amount": str(200 * ONE)}
    assert financed["block_number"] == items[5]["block_number"]  # the discount's split, in the same transaction
    assert financed["block_timestamp"] == items[5]["block_timestamp"]
    assert int(financed["price"]) < 200 * ONE
    assert pledge == {**pledge, "financing_id": story["pledge"], "financing_kind": "pledge", "token_id": token,
                      "amount": str(100 * ONE), "price": str(80 * ONE), "block_number": story["pledge_block"],
                      "block_timestamp": ledger.chain.w3.eth.get_block(story["pledge_block"])["timestamp"]}
    assert (paid["from_address"], paid["amount"]) == (a.core.address, str(250 * ONE))
    assert mark == {**mark, "block_number": 10**6, "block_timestamp": 1_900_000_000, "mark": "overdue",
                    "amount": str(750 * ONE), "tx_hash": "0x03"}


def test_history_pages_and_parties_read_it_others_are_refused(client, actors, story):
    slot = story["slot"]
    every = client.get(f"/payables/{slot}/history", headers=sign_in(client, actors.regulator)).json()["items"]
    for party in (actors.core, actors.supplier2, actors.lender):  # debtor, a holder, the financing lender
        page = client.get(f"/payables/{slot}/history", params={"limit": 4, "offset": 4},
                          headers=sign_in(client, party)).json()
        assert (page["total"], page["limit"], page["offset"]) == (10, 4, 4) and page["items"] == every[4:8]
    auditor = sign_in(client, actors.auditor)
    financed = client.get(f"/payables/{slot}/history", params={"kind": "financed"}, headers=auditor).json()
    assert financed["total"] == 2 and financed["items"] == [e for e in every if e["kind"] == "financed"]
    bogus = client.get(f"/payables/{slot}/history", params={"kind": "gift"}, headers=auditor)
    assert (bogus.status_code, bogus.json()["error"]) == (422, "InvalidRequest")
    refused = client.get(f"/payables/{slot}/history", headers=sign_in(client, actors.supplier3))
    assert (refused.status_code, refused.json()["error"]) == (403, "OtherFirmsData")
    assert "history of payable" in refused.json()["message"]
    missing = client.get("/payables/999999/history", headers=sign_in(client, actors.auditor))
    assert (missing.status_code, missing.json()["error"]) == (404, "UnknownPayable")
    bad = client.get(f"/payables/{slot}/history", params={"limit": 0}, headers=sign_in(client, actors.auditor))
    assert (bad.status_code, bad.json()["error"]) == (422, "InvalidRequest")
    assert client.get(f"/payables/{slot}/history").json()["error"] == "NotSignedIn"


# ------------------------------------------------------------------------------------------ evidence receipts


@pytest.fixture
def receipts(ledger, actors, tmp_path):
    """Three documents anchored by supplier in one batch (core a party, supplier's signature on each); core
    counter-signs the first; supplier revokes the third."""
    address = ledger.address(evidence.EVIDENCE_LEDGER)
    batcher = EvidenceBatcher(ledger.chain, address, actors.supplier, tmp_path / "journal", tmp_path / "receipts")
    files = {f"doc{i}": f"%PDF-1.4 delivery note {i}\n".encode() for i in range(3)}
    docs = [batcher.document(data, "delivery-note", name=name, parties=[actors.core.address],
                             signers=[actors.supplier]) for name, data in files.items()]
    result = batcher.anchor(docs, "local://audit-test")
    loaded = [json.loads(Path(p).read_text()) for p in result.receipts]
    by_hash = {r["leaf"]["documentHash"]: r for r in loaded}
    out = {name: (data, by_hash["0x" + evidence.document_hash(data).hex()]) for name, data in files.items()}
    first, third = out["doc0"][1], out["doc2"][1]
    evidence.countersign(ledger, address, actors.core, first["batch"]["root"], first["leafHash"], first["proof"])
    evidence.revoke(ledger, address, actors.supplier, third["batch"]["root"], third["leafHash"], third["proof"],
                    "superseded by note 3b")
    return {"files": out, "batch_id": result.batch_id, "block": result.block_number, "time": result.block_time,
            "tx": result.tx_hash}


def _check(client, headers, data: bytes, receipt: dict):  # type: ignore[no-untyped-def]
    return client.post("/evidence/verify", headers=headers,
                       json={"receipt": receipt, "document": base64.b64encode(data).decode()})


def test_a_genuine_document_is_anchored_with_who_when_and_countersignatures(client, actors, receipts):
    data, receipt = receipts["files"]["doc0"]
    response = _check(client, sign_in(client, actors.auditor), data, receipt)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["ok"], body["reason"]) == (True, "OK")
    assert (body["batch_id"], body["block_number"], body["anchored_at"], body["tx_hash"]) == (
        receipts["batch_id"], receipts["block"], receipts["time"], receipts["tx"])
    assert body["submitter"] == actors.supplier.address and body["parties"] == [actors.core.address]
    assert body["signatures"] == [{"signer": actors.supplier.address, "kind": "ecdsa"}]
    assert [c["signer"] for c in body["countersignatures"]] == [actors.core.address]
    assert body["countersignatures"][0]["signed_at"] >= receipts["time"] and body["revocation"] is None
    assert body["document_hash"] == body["receipt_document_hash"] == receipt["leaf"]["documentHash"]
    assert body["leaf"] == receipt["leafHash"] and body["root"] == receipt["batch"]["root"]
    second = _check(client, sign_in(client, actors.core), *receipts["files"]["doc1"]).json()
    assert (second["ok"], second["countersignatures"]) == (True, [])  # any member may check; nobody countersigned


def test_a_changed_document_and_a_revoked_one_say_why(client, actors, receipts):
    headers = sign_in(client, actors.auditor)
    data, receipt = receipts["files"]["doc1"]
    changed = _check(client, headers, data.replace(b"1", b"7"), receipt).json()
    assert (changed["ok"], changed["reason"], changed["batch_id"], changed["parties"]) == (
        False, "FILE_CHANGED", None, [])
    assert changed["document_hash"] != changed["receipt_document_hash"] == receipt["leaf"]["documentHash"]
    revoked = _check(client, headers, *receipts["files"]["doc2"]).json()
    assert (revoked["ok"], revoked["reason"], revoked["batch_id"]) == (False, "REVOKED", receipts["batch_id"])
    assert revoked["revocation"]["revoked_by"] == actors.supplier.address
    assert revoked["revocation"]["reason"] == "superseded by note 3b"
    assert revoked["revocation"]["revoked_at"] >= receipts["time"] and revoked["submitter"] == actors.supplier.address
    other_batch = {**receipt, "batch": {**receipt["batch"], "batchId": receipts["batch_id"] + 5}}
    assert _check(client, headers, data, other_batch).json()["reason"] == "ANCHOR_MISMATCH"


def test_bad_receipts_and_bodies_are_4xx(client, actors, receipts):
    headers = sign_in(client, actors.auditor)
    data, receipt = receipts["files"]["doc0"]
    for broken in ({}, {**receipt, "schema": "other/1"}, {**receipt, "leaf": {**receipt["leaf"], "submittedAt": -1}},
                   {**receipt, "proof": "nope"}):
        response = _check(client, headers, data, broken)
        assert (response.status_code, response.json()["error"]) == (422, "MalformedReceipt"), broken
    not_base64 = client.post("/evidence/verify", headers=headers, json={"receipt": receipt, "document": "%%%"})
    assert (not_base64.status_code, not_base64.json()["error"]) == (422, "InvalidRequest")
    assert _check(client, {}, data, receipt).json()["error"] == "NotSignedIn"


def test_a_document_checked_by_its_sha256_alone(client, actors, receipts):
    """A caller that hashed the file itself (the portal's browser) sends only the SHA-256: same outcome."""
    headers = sign_in(client, actors.auditor)
    data, receipt = receipts["files"]["doc0"]
    digest = "0x" + hashlib.sha256(data).hexdigest()
    body = client.post("/evidence/verify", headers=headers,
                       json={"receipt": receipt, "document_sha256": digest}).json()
    assert (body["ok"], body["reason"], body["batch_id"], body["document_hash"]) == (
        True, "OK", receipts["batch_id"], digest)
    assert body == _check(client, headers, data, receipt).json()
    wrong = client.post("/evidence/verify", headers=headers,
                        json={"receipt": receipt, "document_sha256": "0x" + hashlib.sha256(b"x").hexdigest()}).json()
    assert (wrong["ok"], wrong["reason"]) == (False, "FILE_CHANGED")
    for both_or_none in ({"receipt": receipt}, {"receipt": receipt, "document_sha256": digest,
                                                "document": base64.b64encode(data).decode()}):
        response = client.post("/evidence/verify", headers=headers, json=both_or_none)
        assert (response.status_code, response.json()["error"]) == (422, "InvalidRequest")
        assert "exactly one" in response.json()["message"]
