"""The main job runs end to end on its own anvil, leaves a SQLite mirror that matches the chain, and
serves the API until Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from rich.console import Console

from ledger.anvil import free_port
from ledger.demo import run_demo


def test_demo_runs_the_whole_flow_and_mirrors_it(tmp_path):
    console = Console(record=True, width=200)
    run = run_demo(tmp_path, console)  # its anvil is gone afterwards; the text and the mirror remain
    text = console.export_text()
    assert "refused: InvoiceAlreadyRegistered" in text and "refused: ReceivableValueLocked" in text
    assert "without a proof: refused: FinancingPolicyRejected" in text  # the credit gate, then the proof
    assert "CreditGate verifies it on-chain" in text
    assert "redeemed 1,000,000.00, invoices ['SETTLED', 'SETTLED']" in text
    with sqlite3.connect(tmp_path / "index.db") as db:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("invoice", "payable", "financing", "deposit", "evidence_batch", "credit_report")}
        passes = db.execute("SELECT holder, consumed_value FROM credit_pass").fetchall()
        live = dict(db.execute("SELECT owner, value FROM holding WHERE slot = ? AND NOT burned", (run.slots[1],)))
    assert counts == {"invoice": 3, "payable": 2, "financing": 3, "deposit": 2, "evidence_batch": 1,
                      "credit_report": 1}
    tier1, tier2, river = (run.accounts[n].address for n in ("Tier-1 Parts", "Tier-2 Castings", "River Bank"))
    assert passes == [(tier1, str(400_000 * 10**6))]  # Harbor Bank's pass, used by the 400,000 discount
    assert {owner: int(value) for owner, value in live.items()} == {
        tier1: 50_000 * 10**6, tier2: 150_000 * 10**6, river: 200_000 * 10**6}
    with sqlite3.connect(tmp_path / "index.db") as db:
        scored = dict(db.execute("SELECT address, score FROM risk_credit_score"))
        alerts = db.execute("SELECT rule, firms, status FROM risk_alert").fetchall()
    assert set(scored) == {run.accounts[n].address for n in ("Core Motors", "Tier-1 Parts", "Tier-2 Castings",
                                                              "Tier-3 Metals")}
    assert all(0 <= s <= 1000 for s in scored.values())
    core = run.accounts["Core Motors"].address
    assert [(rule, sorted(json.loads(firms)), status) for rule, firms, status in alerts] == [
        ("duplicate_financing", sorted([core, tier1]), "active")]  # the near-duplicate INV-2026-0002
    assert (tmp_path / "risk-model.json").exists()
    # the summary: tier penetration of the live payable, the financings, scores and alerts
    assert re.search(r"│ 2 +│ 2000000003 │ River Bank +│ +200,000 │ +200,000 │", text)
    assert re.search(r"│ River Bank +│ Tier-2 Castings │ pledge +│ +150,000 │ +120,000.00 │ repaid │", text)
    assert re.search(r"│ duplicate_financing │ high +│ Core Motors, Tier-1 Parts │ 2 invoices share .*Harbor", text)
    assert "Credit scores (0-1000)" in text


@pytest.mark.slow
def test_scf_demo_serves_the_api_until_ctrl_c(tmp_path):
    port = free_port()
    scf = Path(sys.executable).with_name("scf")
    process = subprocess.Popen([str(scf), "demo", "--data-dir", str(tmp_path), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert process.poll() is None, process.stdout.read()[-3000:]
        assert requests.get(f"{base}/openapi.json", timeout=5).json()["info"]["title"] == "scf-ledger API"
        assert requests.get(f"{base}/docs", timeout=5).status_code == 200
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    anvil_url = re.search(r"anvil listening on (http://\S+)", output).group(1)
    assert f"docs {base}/docs" in output and "stopped the API and the indexer" in output
    with pytest.raises(requests.ConnectionError):  # Ctrl-C stopped the chain too
        requests.post(anvil_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/health", timeout=2)
