"""On-chain mode: the economy driven through the real contracts on the session anvil, indexed by the
indexer (as a library), then the detectors over the mirror."""

from __future__ import annotations

import time

from risk_fixtures import *  # noqa: F403  (puts the repo root on sys.path)

from indexer import Indexer
from risk import data, detect, evaluation
from risk.onchain import drive, label_inflated, profiles_for


def test_onchain_economy_indexed_and_detected(ledger, actors, anvil, tmp_path) -> None:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    economy = drive(ledger, actors.registrar, seed=1, n_suppliers=3)
    assert economy.rows["tx_count"][0]["n"] <= 5000
    indexer = Indexer(anvil.url, f"sqlite:///{tmp_path}/onchain.db", ledger.deployment, confirmations=0)
    try:
        indexer.sync()
        assert profiles_for(economy, indexer.engine) == len(economy.firms)
        mirror = data.load(indexer.engine)
        label_inflated(economy, mirror)
        assert len(mirror.financings) >= 4 and len(mirror.marks) >= 1 and len(mirror.deposits) >= 1
        alerts = detect.run_rules(mirror)
        result = evaluation.evaluate(alerts, economy.truth.fraud)
        for rule in ("duplicate_financing", "circular_trading", "related_parties", "split_chain", "late_financing",
                     "amount_anomaly"):
            assert result[rule]["recall"] == 1.0, (rule, result[rule], [a.subject for a in alerts if a.rule == rule])
            assert result[rule]["precision"] == 1.0, (rule, result[rule])
    finally:
        indexer.close()
    assert time.perf_counter() - started < 120


def test_alert_withdrawn_when_its_blocks_are_reorged_out(ledger, actors, anvil, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from ledger.client import InvoiceRegistration
    from ledger.fingerprint import InvoiceFields
    from risk.onchain import KEY

    economy = drive(ledger, actors.registrar, seed=2, n_suppliers=3)
    accounts = {r["label"]: r["account"] for r in economy.rows["accounts"]}
    seller, buyer = accounts["t1-0"], accounts["core-0"]
    w3 = ledger.chain.w3
    indexer = Indexer(anvil.url, f"sqlite:///{tmp_path}/reorg.db", ledger.deployment, confirmations=16)
    try:
        indexer.sync()
        profiles_for(economy, indexer.engine)
        before = detect.run_rules(data.load(indexer.engine))
        detect.store_alerts(indexer.engine, before)
        fork = w3.provider.make_request("evm_snapshot", [])["result"]
        fields = InvoiceFields(seller.address, buyer.address, "INV-BIG-1", 5_000_000 * 10**6, "CNY", date(2026, 12, 1))
        prints, _ = ledger.as_supplier(seller).register_invoices([InvoiceRegistration(fields, b"\1" * 32)], KEY)
        ledger.as_member(buyer).confirm_invoices(prints)
        indexer.sync()
        after = detect.run_rules(data.load(indexer.engine))
        new = [a for a in after if a.subject == f"invoice:0x{prints[0].hex()}"]
        assert len(new) == 1 and new[0].rule == "amount_anomaly"
        assert detect.store_alerts(indexer.engine, after)["new"] == 1
        # the blocks of the inflated invoice are reorged out: a longer branch without them
        assert w3.provider.make_request("evm_revert", [fork])["result"] is True
        for _ in range(4):
            w3.provider.make_request("evm_mine", [])
        indexer.sync()
        assert indexer.reorgs == 1
        replay = detect.run_rules(data.load(indexer.engine))
        assert [a.content_hash for a in replay] == [a.content_hash for a in before]
        counts = detect.store_alerts(indexer.engine, replay)
        assert counts["withdrawn"] == 1 and counts["new"] == 0 and counts["changed"] == 0
    finally:
        indexer.close()
