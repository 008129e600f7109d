"""SIGKILL the batcher between signing and mining and between mining and the last receipt: after a
restart every document is anchored exactly once and every receipt is written and verifies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from evidence_helpers import load

from ledger import evidence
from ledger.client import Ledger
from ledger.evidence_verify import check_offline, verify_receipt

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = 7


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(WORKER), *args], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT)


@pytest.mark.parametrize(
    ("stage", "at"),
    [
        ("broadcast", 0),  # sign -> mined: broadcast (anvil mines at once), not yet recorded as mined
        ("receipt", 3),  # mined -> receipts written: three of seven receipts written
        pytest.param("signed", 0, marks=pytest.mark.slow),  # journaled and signed, never broadcast
        pytest.param("mined", 0, marks=pytest.mark.slow),  # recorded as mined, no receipt written
    ],
)
def test_sigkill_then_recover(ledger: Ledger, actors: Any, tmp_path: Path, stage: str, at: int) -> None:
    ev = ledger.address("EvidenceLedger")
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(DOCUMENTS):
        (docs / f"dn-{i}.txt").write_bytes(os.urandom(64))
    common = [ledger.chain.rpc_url, ev, actors.supplier.key.hex(), str(tmp_path / "journal"), str(tmp_path / "r"),
              str(docs)]
    before = evidence.batch_count(ledger, ev)

    crashed = run(["anchor", *common, stage, str(at)])
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    (entry,) = (tmp_path / "journal").glob("*.json")
    state = json.loads(entry.read_text())["state"]
    assert state == {"signed": "signed", "broadcast": "signed", "mined": "mined", "receipt": "mined"}[stage]
    written = list((tmp_path / "r").glob("*.receipt.json"))
    assert len(written) == (at if stage == "receipt" else 0)

    recovered = run(["recover", *common])
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert json.loads(entry.read_text())["state"] == "done"
    assert evidence.batch_count(ledger, ev) == before + 1  # anchored exactly once
    receipts = sorted((tmp_path / "r").glob("*.receipt.json"))
    assert len(receipts) == DOCUMENTS
    assert not list((tmp_path / "r").glob("*.tmp"))
    for path in receipts:
        receipt = load(path)
        check_offline((docs / receipt["document"]["name"]).read_bytes(), receipt)
    receipt = load(receipts[0])
    assert verify_receipt((docs / receipt["document"]["name"]).read_bytes(), receipt, [ledger.chain.rpc_url]).ok

    if stage == "receipt":
        again = run(["recover", *common])  # nothing left to do
        assert again.returncode == 0 and evidence.batch_count(ledger, ev) == before + 1


@pytest.mark.slow
def test_signed_transaction_whose_nonce_went_elsewhere_is_signed_again(
    ledger: Ledger, actors: Any, tmp_path: Path
) -> None:
    ev = ledger.address("EvidenceLedger")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "only.txt").write_bytes(b"the only document")
    common = [ledger.chain.rpc_url, ev, actors.supplier.key.hex(), str(tmp_path / "journal"), str(tmp_path / "r"),
              str(docs)]
    assert run(["anchor", *common, "signed", "0"]).returncode == -signal.SIGKILL
    # meanwhile the same key sends another transaction with the journaled nonce
    evidence.anchor_root(ledger, ev, actors.supplier, os.urandom(32), 1)
    assert run(["recover", *common]).returncode == 0
    (receipt,) = (tmp_path / "r").glob("*.receipt.json")
    assert verify_receipt(b"the only document", load(receipt), [ledger.chain.rpc_url]).ok
    assert evidence.batch_count(ledger, ev) == 2
