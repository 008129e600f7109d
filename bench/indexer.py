"""Indexer throughput on SQLite: events applied per second in a backfill from scratch, beside the
naive baseline of the issue (web3 `get_logs` per fixed 100-block chunk, one ORM add-and-commit per
event) and Ponder 1.0 (bench/ponder, its embedded PGlite store), measured in one run on the same chain
and events; then the lag of our indexer following a chain that mines a block a second under traffic.
Prints one JSON line:

    .venv/bin/python bench/indexer.py [EVENTS] [LAG_SECONDS]

Ponder (packages: `npm install --prefix bench`) gets the anvil URL, the InvoiceRegistry address and
the start block through BENCH_RPC_URL, BENCH_REGISTRY and BENCH_START_BLOCK. Its time runs from the
start of `ponder start` until its Hono API (GET /count, bench/ponder/src/api/index.ts, which counts
rows in its database) shows one row per InvoiceRegistered, all of them confirmed: both events applied.
That includes Ponder's start-up (a few seconds: vite build of the project, PGlite migration):
`ponder_first_answer_seconds` is when /count first answered (`ponder_events_per_s_after_start_up`
counts from there), `ponder_ready_seconds` when /ready first said 200 (null if the rows were all
there first: Ponder indexes the last ~30 blocks one by one as "realtime" after /ready, and a short
chain may lie wholly in that window). An empty block is mined every second while Ponder runs (it
left the head block's events unapplied on a chain that stopped there); our indexer needs none.

Lag: a fresh anvil mining a block a second, a thread registering and confirming invoices, our
indexer (confirmations=3, poll 0.1 s) in a thread; every 50 ms, head number minus the checkpoint's
block number (blocks), and for each new head the seconds from its first sight to the checkpoint
covering it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

from sqlmodel import Session

# Run as a script, this file's folder comes first on sys.path and its name would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from indexer import Indexer
from indexer.db import make_engine, upgrade
from indexer.models import Invoice, RawLog
from ledger.anvil import Anvil, dev_accounts, free_port
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import deploy_system
from ledger.fingerprint import InvoiceFields
from ledger.roles import Role

KEY = b"bench-consortium-key-0123456789"
PER_TX = 500
BENCH_DIR = Path(__file__).resolve().parent
PONDER_DIR = BENCH_DIR / "ponder"
PONDER_BIN = BENCH_DIR / "node_modules" / ".bin" / "ponder"
PONDER_TIMEOUT = 900.0


def generate(ledger: Ledger, keys: list, events: int, per_tx: int = PER_TX,  # type: ignore[type-arg]
             stop: threading.Event | None = None) -> int:
    """Registers and confirms invoices, `per_tx` a transaction, until `events` events (or `stop`)."""
    _admin, registrar, core, supplier = keys[:4]
    kyc = ledger.as_registrar(registrar)
    until = int(time.time()) + 365 * 86400
    kyc.admit(core.address, "core", [Role.CORE_ENTERPRISE], until)
    kyc.admit(supplier.address, "supplier", [Role.SUPPLIER], until)
    seller, buyer = ledger.as_supplier(supplier), ledger.as_member(core)
    made, n = 0, 0
    while made < events and not (stop and stop.is_set()):
        regs = []
        for _ in range(per_tx):
            n += 1
            fields = InvoiceFields(supplier.address, core.address, f"T-{n:08d}", 1000 + n, "CNY", date(2026, 11, 1))
            regs.append(InvoiceRegistration(fields, document_hash=os.urandom(32)))
        prints, _ = seller.register_invoices(regs, KEY)
        buyer.confirm_invoices(prints)
        made += 2 * len(prints)
    return made


def _get_json(url: str) -> dict | None:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read()) if response.status == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MB; 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _mine(rpc_url: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []}).encode()
    request = urllib.request.Request(rpc_url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def ponder(rpc_url: str, registry: str, start_block: int, events: int, tmp: Path) -> dict:  # type: ignore[type-arg]
    """Runs `ponder start` on bench/ponder against the chain; times it until /count shows every event applied
    (events / 2 invoice rows, all confirmed). Returns its figures, or {"ponder": "not measured: ..."}.

    While it runs, an empty block is mined every second: on a chain that stopped at the last event block,
    Ponder 1.0.0 left that block's events unapplied (10,000 rows, 9,500 confirmed, for 10 min), as if
    it waited for a child block before indexing the head."""
    if not PONDER_BIN.exists():
        return {"ponder": "not measured: no bench/node_modules/.bin/ponder (run npm install --prefix bench)"}
    if shutil.which("node") is None:
        return {"ponder": "not measured: no node on PATH"}
    port, invoices = free_port(), events // 2
    env = {**os.environ, "PONDER_TELEMETRY_DISABLED": "true", "BENCH_RPC_URL": rpc_url, "BENCH_REGISTRY": registry,
           "BENCH_START_BLOCK": str(start_block), "BENCH_PGLITE_DIR": str(tmp / "pglite")}
    log_path = tmp / "ponder.log"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen([str(PONDER_BIN), "start", "--schema", "bench", "--port", str(port),
                                 "--log-level", "warn"], cwd=PONDER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        ready, answered, counts, peak, mined = None, None, None, 0.0, 0.0
        try:
            while True:
                elapsed = time.perf_counter() - started
                if proc.poll() is not None or elapsed > PONDER_TIMEOUT:
                    tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                    why = "exited" if proc.returncode is not None else f"timed out after {PONDER_TIMEOUT:.0f} s"
                    return {"ponder": f"not measured: {why} at {counts}; log: {' | '.join(tail)[-300:]}"}
                peak = max(peak, _peak_rss_mb(proc.pid))
                if ready is None and _get_json(f"http://127.0.0.1:{port}/ready") is not None:
                    ready = elapsed
                counts = _get_json(f"http://127.0.0.1:{port}/count") or counts
                if elapsed > mined + 1:  # an empty block a second: see the docstring
                    mined = elapsed
                    _mine(rpc_url)
                if answered is None and counts is not None:
                    answered = elapsed
                if counts and counts["rows"] >= invoices and counts["confirmed"] >= invoices:
                    took = time.perf_counter() - started
                    break
                time.sleep(0.1)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    applied = counts["rows"] + counts["confirmed"]
    return {"ponder_events": applied, "ponder_seconds": round(took, 3), "ponder_events_per_s": round(applied / took),
            "ponder_first_answer_seconds": None if answered is None else round(answered, 1),
            "ponder_events_per_s_after_start_up": None if answered is None else round(applied / (took - answered)),
            "ponder_ready_seconds": None if ready is None else round(ready, 1), "ponder_peak_rss_mb": round(peak)}


def lag(seconds: float, tmp: Path) -> dict:  # type: ignore[type-arg]
    """Our indexer following a fresh anvil that mines a block a second while a thread registers and confirms
    invoices (50 per transaction): p95 of head - checkpoint (blocks), and of the seconds from a head's first sight
    to the checkpoint covering it."""
    with Anvil(accounts=6, block_time=1) as node:
        chain, keys = Chain(node.url), dev_accounts(6)
        deployment = deploy_system(chain, keys[0], kyc_registrars=(keys[1].address,))
        stop = threading.Event()
        traffic_events: list[int] = []
        traffic = threading.Thread(
            target=lambda: traffic_events.append(generate(Ledger(Chain(node.url), deployment), keys, 10**9, 50, stop)),
            daemon=True)
        indexer = Indexer(node.url, f"sqlite:///{tmp}/tail.db", deployment, confirmations=3, poll_interval=0.1)
        follower = threading.Thread(target=indexer.run, daemon=True)
        traffic.start()
        follower.start()
        w3 = chain.w3
        blocks: list[int] = []
        delays: list[float] = []
        seen: dict[int, float] = {}  # head -> when first seen, until covered
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                head = w3.eth.block_number
                now = time.monotonic()
                seen.setdefault(head, now)
                state = indexer.state()
                if state is not None and state.block_number >= deployment.start_block:
                    blocks.append(head - state.block_number)
                    for number in [n for n in seen if n <= state.block_number]:
                        delays.append(now - seen.pop(number))
                time.sleep(0.05)
        finally:
            stop.set()
            indexer.stop()
            follower.join(timeout=10)
            traffic.join(timeout=10)
            applied = indexer.events_applied
            indexer.close()

    def p95(values: list) -> float | None:  # type: ignore[type-arg]
        return round(statistics.quantiles(values, n=20, method="inclusive")[18], 3) if len(values) > 1 else None

    return {"lag_seconds_run": seconds, "lag_samples": len(blocks), "lag_events_applied": applied,
            "lag_p95_blocks": p95(blocks), "lag_max_blocks": max(blocks, default=None), "lag_p95_s": p95(delays),
            "lag_max_s": round(max(delays), 3) if delays else None}


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
    lag_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 25.0
    with Anvil(accounts=6, extra_args=["--gas-limit", "1000000000"]) as node:
        chain = Chain(node.url)
        keys = dev_accounts(6)
        deployment = deploy_system(chain, keys[0], kyc_registrars=(keys[1].address,))
        ledger = Ledger(chain, deployment)
        t = time.perf_counter()
        generated_events = generate(ledger, keys, events)
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
            theirs = ponder(node.url, deployment.address("InvoiceRegistry"), deployment.start_block, generated_events,
                            Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        lags = lag(lag_seconds, Path(tmp))
    rate, base_rate = applied / took, base_count / base_took
    if "ponder_events_per_s" in theirs:
        ratio = rate / theirs["ponder_events_per_s"]
        theirs |= {"ours_vs_ponder": round(ratio, 1), "ours_faster_than_ponder": ratio > 1}
    print(json.dumps({
        "bench": "indexer", "events": applied, "seconds": round(took, 3), "events_per_s": round(rate),
        "naive_events": base_count, "naive_seconds": round(base_took, 3), "naive_events_per_s": round(base_rate),
        "speedup_vs_naive": round(rate / base_rate, 1), **theirs, **lags, "generate_seconds": round(generated, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "goals": {"ge_10x_naive": rate >= 10 * base_rate, "ge_20000_events_per_s": rate >= 20_000},
    }))


if __name__ == "__main__":
    main()
