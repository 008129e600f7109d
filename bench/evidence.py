"""Evidence anchoring: gas per document (log head update included), receipts written per second,
offline receipt checks per second. Prints one JSON line.

Run: `.venv/bin/python bench/evidence.py` (a fresh local anvil; the batches are anchored in the
order 1, 100, 1,000, 10,000 documents, so they are batches 1..4 of the log).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.deployment import deploy_system
from ledger.evidence_batcher import EvidenceBatcher
from ledger.evidence_verify import check_offline, parse_receipt
from ledger.merkle import process_proof
from ledger.roles import Role

SIZES = (1, 100, 1_000, 10_000)
DAY = 86400


def measure() -> dict:
    figures: dict[str, object] = {}
    with Anvil(accounts=4) as node, tempfile.TemporaryDirectory() as tmp:
        chain = Chain(node.url)
        admin, registrar, submitter, counterparty = dev_accounts(4)
        ledger = Ledger(chain, deploy_system(chain, admin, kyc_registrars=(registrar.address,)))
        ledger.as_registrar(registrar).admit(submitter.address, "org-bench", [Role.SUPPLIER], int(time.time()) + DAY)
        stamps: dict[str, float] = {}
        batcher = EvidenceBatcher(
            chain, ledger.address("EvidenceLedger"), submitter, Path(tmp) / "journal", Path(tmp) / "receipts",
            on_stage=lambda stage, _: stamps.__setitem__(stage, time.perf_counter()),
        )
        files: list[bytes] = []
        receipts: list[Path] = []
        for size in SIZES:
            files = [os.urandom(1024) for _ in range(size)]
            documents = [
                batcher.document(data, "invoice", name=f"b{size}-{i}.pdf", parties=[counterparty.address])
                for i, data in enumerate(files)
            ]
            result = batcher.anchor(documents, f"bench://{size}")
            assert result.gas_used is not None
            figures[f"anchor_gas_{size}"] = result.gas_used
            figures[f"gas_per_document_{size}"] = round(result.gas_used / size, 2)
            receipts = result.receipts
            if size == SIZES[-1]:
                figures["receipts_per_second"] = round(size / (stamps["done"] - stamps["mined"]))

        loaded = [json.loads(path.read_text()) for path in receipts]
        start = time.perf_counter()
        for data, receipt in zip(files, loaded, strict=True):
            check_offline(data, receipt)
        figures["offline_checks_per_second"] = round(len(loaded) / (time.perf_counter() - start))
        parsed = [parse_receipt(r) for r in loaded]
        start = time.perf_counter()
        for receipt in parsed:
            if process_proof(receipt.leaf.hash(), receipt.proof) != receipt.root:
                raise AssertionError("proof failed")
        figures["proof_folds_per_second"] = round(len(parsed) / (time.perf_counter() - start))
        figures["proof_length_at_10000"] = len(parsed[0].proof)

    figures["goals"] = {
        "le_150_gas_per_document_at_1000": figures["gas_per_document_1000"] <= 150,  # type: ignore[operator]
        "le_20_gas_per_document_at_10000": figures["gas_per_document_10000"] <= 20,  # type: ignore[operator]
        "ge_5000_offline_checks_per_second": figures["offline_checks_per_second"] >= 5000,  # type: ignore[operator]
    }
    return figures


if __name__ == "__main__":
    sys.stdout.write(json.dumps(measure()) + "\n")
