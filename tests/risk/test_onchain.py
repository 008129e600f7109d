"""On-chain mode: bulk mode's economy for a seed and size replayed through the real contracts on the
session anvil, indexed by the indexer (as a library); the detectors over that mirror against the
seed's ground truth in the chain's ids."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from risk_fixtures import *  # noqa: F403  (puts the repo root on sys.path)

from indexer import Indexer
from risk import data, detect, evaluation, score
from risk.onchain import drive, submit_profiles
from risk.service import fit_simulated, score_mirror
from risk.simulate import simulate

GOALS = {"duplicate_financing": 0.95, "circular_trading": 0.95}


@pytest.fixture(scope="module")
def fitted_elsewhere():  # type: ignore[no-untyped-def]
    """A scorecard fitted on another (bulk) economy."""
    return fit_simulated(seed=9, n_firms=600)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "n_firms", "days"), [(1, 80, 180), (5, 100, 210)])
def test_bulk_economy_on_chain_detected_as_labelled(ledger, actors, anvil, tmp_path, seed, n_firms, days,  # type: ignore[no-untyped-def]
                                                    fitted_elsewhere) -> None:
    economy = simulate(seed, n_firms, days=days)
    started = time.perf_counter()
    replay = drive(ledger, actors.registrar, economy)
    assert replay.transactions <= 5000
    # only the exact over-financing of a token is refused (the token encumbers pledged value), and with
    # it moves of that payable that its first pledge locked
    exact = {int(s.split(":")[1]) // 10**9 for (r, s), v in economy.truth.variants.items()
             if v == "exact_overfinanced_slot"}
    assert replay.refused and replay.refused_slots <= exact
    assert {error for _, error in replay.refused} <= {"ReceivableValueLocked", "DependsOnRefused"}
    indexer = Indexer(anvil.url, f"sqlite:///{tmp_path}/onchain.db", ledger.deployment, confirmations=0)
    try:
        indexer.sync()
        assert submit_profiles(replay, indexer.engine) == len(economy.firms)
        mirror = data.load(indexer.engine)
    finally:
        indexer.close()
    rows = economy.rows
    assert len(mirror.invoices) == len(rows["invoice"]) and len(mirror.payables) == len(rows["payable"])
    assert len(mirror.financings) == len(rows["financing"]) - len(replay.refused_financings)
    assert len(mirror.moves) >= len(rows["value_move"]) - sum(replay.refused.values())
    assert len(mirror.deposits) == len(rows["deposit"]) and len(mirror.marks) == len(rows["slot_mark"])
    truth = replay.truth()
    assert all(truth.fraud.get(rule) for rule in detect.RULES), {r: len(v) for r, v in truth.fraud.items()}
    result = evaluation.evaluate(detect.run_rules(mirror), truth.fraud)
    for rule, figures in result.items():
        goal = GOALS.get(rule, 0.8)
        assert figures["precision"] >= goal and figures["recall"] >= goal, (rule, figures)
    # the scorecard runs over the on-chain mirror as over the bulk one
    x = score.features(mirror)
    assert set(x.index) >= {replay.address(a) for a in economy.firms}
    assert score.credit_lines(pd.Series(700, index=x.index), mirror).sum() > 0  # recent receivable inflows
    summary = score_mirror(f"sqlite:///{tmp_path}/onchain.db", model=fitted_elsewhere)
    assert summary.scores_stored == summary.firms == len(x) and summary.total_credit_line > 0
    assert sum(summary.alerts.values()) == sum(f["alerts"] for f in result.values())
    assert time.perf_counter() - started < 240


def test_alert_withdrawn_when_its_blocks_are_reorged_out(ledger, actors, anvil, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from ledger.client import InvoiceRegistration
    from ledger.fingerprint import InvoiceFields
    from risk.onchain import KEY

    economy = simulate(1, 60, days=150)
    replay = drive(ledger, actors.registrar, economy)
    w3 = ledger.chain.w3
    indexer = Indexer(anvil.url, f"sqlite:///{tmp_path}/reorg.db", ledger.deployment, confirmations=16)
    try:
        indexer.sync()
        submit_profiles(replay, indexer.engine)
        before = detect.run_rules(data.load(indexer.engine))
        detect.store_alerts(indexer.engine, before)
        # a busy tier-1 seller named in no alert (so the new invoice changes no other alert)
        flagged = {f for a in before for f in a.firms}
        sellers = [r["seller"] for r in economy.rows["invoice"] if economy.firms[r["seller"]].tier == 1
                   and replay.address(r["seller"]) not in flagged]
        seller_address = max(sorted(set(sellers)), key=sellers.count)
        seller = replay.accounts[seller_address]
        buyer = replay.accounts[economy.firms[seller_address].buyers[0]]
        fork = w3.provider.make_request("evm_snapshot", [])["result"]
        fields = InvoiceFields(seller.address, buyer.address, "INV-BIG-1", 50_000_000 * 10**6, "CNY", date(2026, 12, 1))
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
        replay_alerts = detect.run_rules(data.load(indexer.engine))
        assert [a.content_hash for a in replay_alerts] == [a.content_hash for a in before]
        counts = detect.store_alerts(indexer.engine, replay_alerts)
        assert counts["withdrawn"] == 1 and counts["new"] == 0 and counts["changed"] == 0
    finally:
        indexer.close()
