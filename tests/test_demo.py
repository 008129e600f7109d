"""The main job runs end to end on its own anvil and leaves a SQLite mirror that matches the chain."""

from __future__ import annotations

import sqlite3

from rich.console import Console

from ledger.demo import run_demo


def test_demo_runs_the_whole_flow_and_mirrors_it(tmp_path):
    console = Console(record=True, width=200)
    run_demo(tmp_path, console)  # its anvil is gone afterwards; the text and the mirror remain
    text = console.export_text()
    assert "refused: InvoiceAlreadyRegistered" in text and "refused: ReceivableValueLocked" in text
    assert "without a proof: refused: FinancingPolicyRejected" in text  # the credit gate, then the proof
    assert "CreditGate verifies it on-chain" in text
    assert "redeemed 1,000,000.00, invoices ['SETTLED', 'SETTLED']" in text
    with sqlite3.connect(tmp_path / "index.db") as db:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("invoice", "payable", "financing", "deposit", "evidence_batch")}
    assert counts == {"invoice": 2, "payable": 1, "financing": 2, "deposit": 2, "evidence_batch": 1}
