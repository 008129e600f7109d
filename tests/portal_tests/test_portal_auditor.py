"""The auditor's journey in a real browser, in both languages: sign in, check a genuine document and its receipt
against the chain (anchored, by whom, when, counter-signed), a tampered one and a revoked one (readable
reasons), browse evidence batches and a payable's full history, and be refused a supplier's page; axe-core on
every page and a screenshot of each. Without a browser: every verifier reason has its translation, and the
pages' refusals and filters."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from portal_fixtures import *  # noqa: F403  (fixtures)
from portal_fixtures import Stack, portal_sign_in

from api.portal.i18n import LANGUAGES, Translator
from ledger import evidence
from ledger.evidence_batcher import EvidenceBatcher
from ledger.evidence_verify import Reason

REVOKE_REASON = "superseded by delivery note DN-7b"


@dataclass(frozen=True)
class Receipt:
    document: Path
    receipt: Path


@dataclass(frozen=True)
class Evidence:
    batch_id: int
    genuine: Receipt  # counter-signed by core
    tampered: Receipt  # the genuine receipt with a changed document
    revoked: Receipt


@pytest.fixture(scope="module")
def anchored(stack: Stack, tmp_path_factory) -> Evidence:  # type: ignore[no-untyped-def]
    """Two delivery notes anchored by supplier (core a party), their documents and receipts written to a temp dir
    as `scf evidence anchor` writes them; core counter-signs the first, supplier revokes the second."""
    a, ledger = stack.actors, stack.ledger
    where = tmp_path_factory.mktemp("evidence")
    address = ledger.address(evidence.EVIDENCE_LEDGER)
    batcher = EvidenceBatcher(ledger.chain, address, a.supplier, where / "journal", where / "receipts")
    files = {"DN-7.pdf": b"%PDF-1.4 delivery note DN-7: 400 gearboxes to Core Motors\n",
             "DN-8.pdf": b"%PDF-1.4 delivery note DN-8: 120 axles to Core Motors\n"}
    for name, data in files.items():
        (where / name).write_bytes(data)
    result = batcher.anchor([batcher.document(data, "delivery-note", name=name, parties=[a.core.address],
                                              signers=[a.supplier]) for name, data in files.items()], "local://dn")
    by_hash = {json.loads(p.read_text())["leaf"]["documentHash"]: p for p in result.receipts}
    receipt = {name: by_hash["0x" + evidence.document_hash(data).hex()] for name, data in files.items()}
    genuine, revoked = (json.loads(receipt[n].read_text()) for n in files)
    evidence.countersign(ledger, address, a.core, genuine["batch"]["root"], genuine["leafHash"], genuine["proof"])
    evidence.revoke(ledger, address, a.supplier, revoked["batch"]["root"], revoked["leafHash"], revoked["proof"],
                    REVOKE_REASON)
    (where / "DN-7-edited.pdf").write_bytes(files["DN-7.pdf"].replace(b"400", b"900"))
    stack.sync()
    return Evidence(result.batch_id, Receipt(where / "DN-7.pdf", receipt["DN-7.pdf"]),
                    Receipt(where / "DN-7-edited.pdf", receipt["DN-7.pdf"]),
                    Receipt(where / "DN-8.pdf", receipt["DN-8.pdf"]))


def check(me, pair: Receipt) -> str:  # type: ignore[no-untyped-def]
    """Choose a document and its receipt on the evidence page and press the button; returns the outcome's text."""
    me.page.set_input_files("#evidence-document", str(pair.document))
    me.page.set_input_files("#evidence-receipt", str(pair.receipt))
    me.page.evaluate("document.querySelector('#check-outcome .check-result').replaceChildren()")  # the last one
    with me.page.expect_request("**/portal/api/evidence/verify") as sent:
        me.page.click("#evidence-check button[type=submit]")
    posted = sent.value.post_data_json  # the browser hashed the document: only its SHA-256 leaves
    assert "document" not in posted and {"receipt", "document_sha256"} <= set(posted)
    assert posted["document_sha256"] == "0x" + hashlib.sha256(pair.document.read_bytes()).hexdigest()
    me.page.locator("#check-outcome [data-reason]").wait_for(timeout=20_000)
    return me.page.locator("#check-outcome").inner_text()


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_auditor_journey(visitor, stack, anchored, lang) -> None:  # type: ignore[no-untyped-def]
    t = Translator(lang)
    a = stack.actors
    me = visitor(a.auditor, lang, "auditor")
    me.sign_in("/portal/auditor/evidence")
    me.check("evidence")
    menu = me.page.locator(f"nav[aria-label='{t('nav.label')}']").inner_text()
    assert all(t(f"auditor.nav.{n}") in menu for n in ("evidence", "batches", "payables"))

    # a genuine document: anchored, in which batch, by whom, when, counter-signed by core
    said = check(me, anchored.genuine)
    assert t("auditor.result.ok") in said and t("auditor.reason.OK") in said
    record = evidence.batch(stack.ledger, stack.ledger.address(evidence.EVIDENCE_LEDGER), anchored.batch_id)
    assert record is not None and record.submitter == a.supplier.address
    facts = dict(zip(me.page.locator("#check-outcome dt").all_inner_texts(),
                     me.page.locator("#check-outcome dd").all_inner_texts(), strict=True))
    assert facts[t("auditor.result.batch")] == str(anchored.batch_id)
    assert facts[t("auditor.result.submitter")] == a.supplier.address
    assert facts[t("auditor.result.anchored")] == datetime.fromtimestamp(record.anchored_at, UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC")
    assert a.core.address in facts[t("auditor.result.countersignatures")]
    assert facts[t("auditor.result.parties")] == a.core.address
    me.check("evidence-genuine")

    # the same receipt with an edited document: the file changed
    said = check(me, anchored.tampered)
    assert t("auditor.result.failed") in said and t("auditor.reason.FILE_CHANGED") in said
    assert t("auditor.result.batch") not in said  # nothing about an anchor is claimed for another file
    me.check("evidence-tampered")

    # a revoked document: who revoked it, when and why
    said = check(me, anchored.revoked)
    assert t("auditor.reason.REVOKED") in said
    revocation = me.page.locator("#revocation").inner_text()
    assert a.supplier.address in revocation and REVOKE_REASON in revocation
    me.check("evidence-revoked")

    # evidence batches, filtered by submitter, each linking to the check page
    me.visit(f"/portal/auditor/batches?submitter={a.supplier.address}", "batches")
    listed = me.page.locator("tr[data-batch]").evaluate_all("rows => rows.map(r => Number(r.dataset.batch))")
    assert anchored.batch_id in listed and listed == sorted(listed, reverse=True)  # newest first
    me.page.click(f"tr[data-batch='{anchored.batch_id}'] a")
    me.page.wait_for_url(f"**/portal/auditor/evidence?batch={anchored.batch_id}")
    assert t("auditor.evidence.for_batch", batch=anchored.batch_id) in me.page.locator("main").inner_text()
    said = check(me, anchored.genuine)
    assert t("auditor.result.ok") in said and me.page.locator("#check-outcome .notice.error").count() == 0
    other = next(b for b in listed if b != anchored.batch_id)  # a receipt checked from another batch's link
    me.visit(f"/portal/auditor/evidence?batch={other}", "evidence-from-batch")
    said = check(me, anchored.genuine)
    assert t("auditor.result.other_batch", batch=anchored.batch_id, expected=other) in said
    me.visit(f"/portal/auditor/batches?submitter={a.core.address}", "batches-filtered")
    assert me.page.locator("tr[data-batch]").count() == 0 and t("list.empty") in me.page.locator("main").inner_text()

    # a payable's full history: its tree and every event in chain order, paged
    slot = stack.slots["main"]
    me.visit("/portal/auditor/payables", "payables")
    me.page.click(f"text={t('auditor.payables.open', slot=slot)}")
    me.page.wait_for_url(f"**/portal/auditor/payables/{slot}/history")
    me.check("history")
    tokens = {int(x) for x in me.page.locator("tr[data-token]").evaluate_all("rows => rows.map(r => r.dataset.token)")}
    assert {stack.tokens["main"], stack.tokens["tier2"], stack.tokens["tier3"]} <= tokens
    kinds = me.page.locator("tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds[:2] == ["mint", "issue"] and {"split", "financed"} <= set(kinds)
    blocks = [int(b) for b in me.page.locator("tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.block)")]
    assert blocks == sorted(blocks)
    financed = me.page.locator("tr[data-kind=financed]").first.inner_text()
    assert t("auditor.kind.financed") in financed and t("auditor.financing.discount") in financed
    me.visit(f"/portal/auditor/payables/{slot}/history?limit=2&offset=2", "history-page-2")
    assert me.page.locator("tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.kind)") == kinds[2:4]
    assert me.page.locator("a[rel=prev]").count() == 1 and me.page.locator("a[rel=next]").count() == 1
    me.visit(f"/portal/auditor/payables/{slot}/history?kind=split", "history-splits")
    splits = me.page.locator("tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert splits == ["split"] * kinds.count("split") and me.page.input_value("#filter-kind") == "split"

    # refused: a supplier's page, translated
    me.visit("/portal/supplier/holdings", "refused-page", status=403)
    assert t("error.PageRoleRequired", roles=t("role.SUPPLIER")) in me.page.locator("main").inner_text()


def test_every_verifier_reason_is_translated() -> None:
    for lang in LANGUAGES:
        t = Translator(lang)
        assert all(t.has(f"auditor.reason.{reason.name}") for reason in Reason), lang


def test_the_check_endpoint_refuses_strangers_and_bad_receipts(portal_client, actors) -> None:
    body = {"receipt": {"schema": "scf-evidence-receipt/1"}, "document": "aGVsbG8="}
    assert portal_client.post("/portal/api/evidence/verify", json=body).json()["error"] == "NotSignedIn"
    portal_sign_in(portal_client, actors.auditor)
    refused = portal_client.post("/portal/api/evidence/verify", json=body)
    assert (refused.status_code, refused.json()["error"]) == (422, "MalformedReceipt")
    assert portal_client.post("/portal/api/evidence/verify", data="receipt=x").status_code == 422  # JSON only
    too_big = portal_client.post("/portal/api/evidence/verify", json={**body, "document": "A" * (1 << 20)})
    assert (too_big.status_code, too_big.json()["error"]) == (413, "BodyTooLarge")
    assert all(Translator(lang).has("error.BodyTooLarge") for lang in LANGUAGES)  # the page explains it
    portal_sign_in(portal_client, actors.supplier)
    zh = Translator("zh-CN")
    page = portal_client.get("/portal/auditor/evidence", params={"lang": "zh-CN"})
    assert page.status_code == 403 and zh("error.PageRoleRequired", roles=zh("role.AUDITOR")) in page.text


def test_history_and_batch_pages_filter_and_refuse(portal_client, world, actors) -> None:
    portal_sign_in(portal_client, actors.auditor)
    bad = portal_client.get("/portal/auditor/batches", params={"submitter": "0x12", "lang": "en"})
    assert bad.status_code == 422 and Translator("en")("error.title.422") in bad.text
    listed = portal_client.get("/portal/auditor/payables", params={"debtor": actors.core2.address}).text
    assert f"/portal/auditor/payables/{world['slot2']}/history" in listed
    assert f"/portal/auditor/payables/{world['slot']}/history" not in listed
    missing = portal_client.get("/portal/auditor/payables/987654/history", params={"lang": "en"})
    assert missing.status_code == 404 and Translator("en")("error.UnknownPayable") in missing.text
    portal_sign_in(portal_client, actors.regulator)
    history = portal_client.get(f"/portal/auditor/payables/{world['slot']}/history", params={"lang": "zh-CN"})
    assert history.status_code == 200 and Translator("zh-CN")("auditor.kind.split") in history.text
