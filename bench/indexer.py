"""Indexer throughput on SQLite: events applied per second in a backfill from scratch, beside the
naive baseline of the issue (web3 `get_logs` per fixed 100-block chunk, one ORM add-and-commit per
event), measured in one run on the same chain. Prints one JSON line:

    .venv/bin/python bench/indexer.py [EVENTS]

Not yet measured here: Ponder 1.0 on the same events, and p95 lag while following a chain that mines
a block per second (tests/indexer/test_indexer_tail.py checks the lag).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session

# Run as a script, this file's folder comes first on sys.path and its name would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from indexer import Indexer
from indexer.db import make_engine, upgrade
from indexer.models import Invoice, RawLog
from ledger.anvil import Anvil, dev_accounts
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import deploy_system
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role

KEY = b"bench-consortium-key-0123456789"
PER_TX = 500


def generate(ledger: Ledger, keys: list, events: int) -> int:  # type: ignore[type-arg]
    _admin, registrar, core, supplier = keys[:4]
    kyc = ledger.as_registrar(registrar)
    until = int(time.time()) + 365 * 86400
    kyc.admit(core.address, "core", [Role.CORE_ENTERPRISE], until)
    kyc.admit(supplier.address, "supplier", [Role.SUPPLIER], until)
    seller, buyer = ledger.as_supplier(supplier), ledger.as_member(core)
    made, n = 0, 0
    while made < events:
        regs = []
        for _ in range(PER_TX):
            n += 1
            fields = InvoiceFields(supplier.address, core.address, f"T-{n:08d}", 1000 + n, "CNY", date(2026, 11, 1))
            regs.append(InvoiceRegistration(fields, document_hash=os.urandom(32)))
        prints, _ = seller.register_invoices(regs, KEY)
        buyer.confirm_invoices(prints)
        made += 2 * len(prints)
    return made


def naive(rpc_url: str, db_url: str, ledger: Ledger) -> tuple[int, float]:
    """web3 get_logs per 100 blocks + decode, then an ORM object and a commit per event."""
    engine = make_engine(db_url)
    upgrade(engine)
    started = time.perf_counter()
    head = ledger.chain.w3.eth.block_number
    addresses = [c.address for c in ledger.deployment.contracts.values()]
    logs = []
    for start in range(0, head + 1, 100):
        logs += ledger.chain.w3.eth.get_logs({"fromBlock": start, "toBlock": min(start + 99, head),
                                              "address": addresses})
    count = 0
    with Session(engine) as session:
        for event in ledger.decoder.decode_all(logs):
            session.add(RawLog(chain_id=31337, tx_hash=event.tx_hash, log_index=event.log_index,
                               block_number=event.block_number, block_hash=event.block_hash, address=event.address,
                               contract=event.contract, event=event.name))
            if event.name == "InvoiceRegistered":
                session.add(Invoice(fingerprint=event["fingerprint"], seller=event["seller"], buyer=event["buyer"],
                                    asset=event["asset"], amount=event["amount"], issue_date=event["issueDate"],
                                    document_hash=event["documentHash"], partial_fingerprint_1="",
                                    partial_fingerprint_2="", partial_fingerprint_3="", status=1, registered_at=0,
                                    slot=0))
            elif event.name == "InvoiceConfirmed":
                row = session.get(Invoice, event["fingerprint"])
                if row is not None:
                    row.status = 2
                    session.add(row)
            session.commit()
            count += 1
    return count, time.perf_counter() - started


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with Anvil(accounts=6, extra_args=["--gas-limit", "1000000000"]) as node:
        chain = Chain(node.url)
        keys = dev_accounts(6)
        deployment = deploy_system(chain, keys[0], kyc_registrars=(keys[1].address,))
        ledger = Ledger(chain, deployment)
        t = time.perf_counter()
        generate(ledger, keys, events)
        generated = time.perf_counter() - t
        with tempfile.TemporaryDirectory() as tmp:
            indexer = Indexer(node.url, f"sqlite:///{Path(tmp)}/bench.db", deployment, confirmations=0,
                              initial_range=100_000, max_range=100_000)
            t = time.perf_counter()
            indexer.sync()
            took = time.perf_counter() - t
            applied = indexer.events_applied
            indexer.close()
            base_count, base_took = naive(node.url, f"sqlite:///{Path(tmp)}/naive.db", ledger)
        rate, base_rate = applied / took, base_count / base_took
        print(json.dumps({
            "bench": "indexer", "events": applied, "seconds": round(took, 3), "events_per_s": round(rate),
            "naive_events": base_count, "naive_seconds": round(base_took, 3), "naive_events_per_s": round(base_rate),
            "speedup_vs_naive": round(rate / base_rate, 1), "generate_seconds": round(generated, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "goals": {"ge_10x_naive": rate >= 10 * base_rate, "ge_20000_events_per_s": rate >= 20_000},
        }))


if __name__ == "__main__":
    main()
